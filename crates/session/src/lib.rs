//! Photographing one school: where a frame becomes a student's photo.
//!
//! The core is pure: [`state::State`] folds [`event::Line`]s (the journal) into who is next,
//! which frames belong to whom, and what `output/` must hold. Around it, the shell:
//! - [`command`]: the operator's commands, one vocabulary for every front end;
//! - [`journal`]: the append-only, fsync'd, locked journal file and its replay;
//! - [`engine`]: one session's journal, state and files; ingest, record, commands, reload,
//!   rebuild;
//! - [`filing`]: makes `originals/` and `output/` match the state (moves, atomic writes);
//! - [`spool`]: which spool files are complete frames, in arrival order;
//! - [`runner`]: the spool watcher (notify + rescan) and the pipeline worker pool;
//! - [`refusal`]: why an event or a command is refused, in both languages;
//! - [`layout`]: where everything lives; [`reload`]: what a roster reload changes;
//! - [`status`]: per-class counts and the make-up list.

pub mod command;
pub mod engine;
pub mod event;
pub mod filing;
pub mod journal;
pub mod layout;
pub mod refusal;
pub mod reload;
pub mod runner;
pub mod spool;
pub mod state;
pub mod status;

pub use command::{Command, Resolved};
pub use engine::{Engine, EngineError, Ingested, Settings};
pub use event::{Event, FrameId, Line, StudentRecord};
pub use layout::Layout;
pub use state::faces::{FacePair, FaceWarning, FaceWarningKind};
pub use state::{Refusal, Standing, State};
