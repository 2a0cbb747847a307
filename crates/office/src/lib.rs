//! The office: many kits, one coordinator's view of the city.
//!
//! [`wire`] is the protocol kits speak (always built: the kit's sync client uses it). With the
//! `server` feature: [`db`] (the PostgreSQL pool and the versioned migrations), [`ingest`]
//! (a kit's lines replayed with the kit's own session state machine, then kept and counted),
//! [`query`] (the city view), [`tokens`] (per-kit tokens, stored hashed, revocable) and
//! [`http`] (the axum service, its page and TLS). The service keeps no state of its own:
//! several instances may share one database.

pub mod wire;

#[cfg(feature = "server")]
pub mod db;
#[cfg(feature = "server")]
pub mod http;
#[cfg(feature = "server")]
pub mod ingest;
#[cfg(feature = "server")]
pub mod query;
#[cfg(feature = "server")]
pub mod tokens;

#[cfg(feature = "server")]
pub use db::{Db, Error};

#[cfg(all(test, feature = "server"))]
mod tests;
