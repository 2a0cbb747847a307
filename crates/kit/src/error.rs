//! The kit's one error type: what stops a service or a step of the export shell, in words an
//! operator can act on (Chinese first, then English, as every message of rollcall).

use std::path::Path;

/// An error of the kit's services.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A file or folder could not be read or written; `what` names it and the step.
    #[error("{what}: {source}")]
    Io {
        what: String,
        #[source]
        source: std::io::Error,
    },
    /// The session's engine refused or failed (its own words, Chinese then English).
    #[error("{zh}\n  ({source})", zh = .source.zh())]
    Session {
        #[from]
        source: session::EngineError,
    },
    /// A journal could not be read.
    #[error("{zh}\n  ({source})", zh = .source.zh())]
    Journal {
        #[from]
        source: session::journal::JournalError,
    },
    /// The frame source stopped.
    #[error("{source}")]
    Tether {
        #[from]
        source: tether::TetherError,
    },
    /// An input (configuration, profile, roster files, an answer of the console) is not usable;
    /// `what` names it.
    #[error("{what}: {message}")]
    Invalid { what: String, message: String },
    /// The kit cannot go on; the message says why and what to do.
    #[error("{0}")]
    Refused(String),
}

impl Error {
    /// An I/O error while doing `what` (which names the file).
    pub fn io(what: impl Into<String>, source: std::io::Error) -> Error {
        Error::Io {
            what: what.into(),
            source,
        }
    }

    /// "cannot read <path>" for an I/O error on `path`.
    pub fn read(path: &Path, source: std::io::Error) -> Error {
        Error::io(format!("无法读取 / cannot read {}", path.display()), source)
    }

    /// "cannot write <path>" for an I/O error on `path`.
    pub fn write(path: &Path, source: std::io::Error) -> Error {
        Error::io(
            format!("无法写入 / cannot write {}", path.display()),
            source,
        )
    }

    pub fn invalid(what: impl Into<String>, message: impl std::fmt::Display) -> Error {
        Error::Invalid {
            what: what.into(),
            message: message.to_string(),
        }
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
