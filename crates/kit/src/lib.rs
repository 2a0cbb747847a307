//! The field kit's services, without the command line: what runs on a photo day and what
//! leaves the kit afterwards. The `rollcall` binary parses arguments and renders results; the
//! work is here, testable in-process.
//!
//! - [`config`]: the daemon's TOML configuration and `config check`'s findings.
//! - [`inputs`]: paths into roster sources (folders walked, files read) for the pure `roster`.
//! - [`source`]: the running frame source (camera, folder, demo) and its control socket.
//! - [`console`]: hosting the console beside a session (address file, token, server task).
//! - [`client`]: the typed client of a running console's API (`rollcall ctl`, the demo).
//! - [`supervisor`]: the daemon — source, session thread, console — on one tokio runtime,
//!   reporting to a [`supervisor::ServiceManager`] (systemd, or a recorder in tests).
//! - [`report`]: the session's notices and progress in sentences.
//! - [`export`]: verify, pack, plan and print over the data folder.
//! - [`demo`]: the bundled demo frames and roster.
//! - [`sync`]: reporting to the coordinator's office (`rollcall sync`, the daemon's background
//!   sync): journal lines, the submission ledger, packs and status, idempotent and resumable.
//!
//! Blocking work (libgphoto2, file walks, fsync) never runs on the runtime's workers: it is on
//! `spawn_blocking`, the gphoto2 crate's worker thread, or the session's own thread.

pub mod client;
pub mod config;
pub mod console;
pub mod demo;
mod error;
pub mod export;
pub mod inputs;
pub mod report;
pub mod source;
pub mod supervisor;
pub mod sync;

use std::path::Path;

pub use error::{Error, Result};

/// A photo standard by name (`358x441`, `236x295`) or from a TOML file.
pub fn load_profile(spec: &str) -> Result<pipeline::Profile> {
    if let Some(p) = pipeline::Profile::named(spec) {
        return Ok(p);
    }
    let path = Path::new(spec);
    if !path.exists() {
        return Err(Error::refused(
            format!("未知的照片规格 {spec:?}：请用 358x441、236x295 或一个 TOML 文件"),
            format!("unknown profile {spec:?}: use 358x441, 236x295 or a TOML file"),
        ));
    }
    let text = std::fs::read_to_string(path).map_err(|e| Error::read(path, e))?;
    pipeline::Profile::from_toml(&text).map_err(|e| {
        Error::invalid(
            bilingual::Text::new(
                format!("照片规格 {}", path.display()),
                format!("profile {}", path.display()),
            ),
            e,
        )
    })
}
