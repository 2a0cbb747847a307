//! The kit's one error type: what stops a service or a step of the export shell, in words an
//! operator can act on, in both languages ([`Error::text`]); `Display` gives the Chinese, then
//! the English in brackets.

use std::fmt;
use std::path::Path;

use bilingual::{Lang, Text};

/// An error of the kit's services.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A file or folder could not be read or written; `what` names it and the step.
    #[error("{}: {source}", what.both())]
    Io {
        what: Text,
        #[source]
        source: std::io::Error,
    },
    /// The session's engine refused or failed (its own words).
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
    /// `what` names it, `message` is the reader's own words.
    #[error("{}: {message}", what.both())]
    Invalid { what: Text, message: String },
    /// The kit cannot go on; the text says why and what to do.
    #[error("{}", .0.both())]
    Refused(Text),
}

impl Error {
    /// An I/O error while doing `what` (which names the file).
    pub fn io(what: Text, source: std::io::Error) -> Error {
        Error::Io { what, source }
    }

    /// "cannot read <path>" for an I/O error on `path`.
    pub fn read(path: &Path, source: std::io::Error) -> Error {
        let p = path.display();
        Error::io(
            Text::new(format!("无法读取 {p}"), format!("cannot read {p}")),
            source,
        )
    }

    /// "cannot write <path>" for an I/O error on `path`.
    pub fn write(path: &Path, source: std::io::Error) -> Error {
        let p = path.display();
        Error::io(
            Text::new(format!("无法写入 {p}"), format!("cannot write {p}")),
            source,
        )
    }

    pub fn invalid(what: Text, message: impl fmt::Display) -> Error {
        Error::Invalid {
            what,
            message: message.to_string(),
        }
    }

    pub fn refused(zh: impl Into<String>, en: impl Into<String>) -> Error {
        Error::Refused(Text::new(zh, en))
    }

    /// The whole message in both languages.
    pub fn text(&self) -> Text {
        match self {
            Error::Io { what, source } => Text::new(
                format!("{}：{source}", what.zh),
                format!("{}: {source}", what.en),
            ),
            Error::Session { source } => Text::new(source.zh(), source.to_string()),
            Error::Journal { source } => Text::new(source.zh(), source.to_string()),
            Error::Tether { source } => Text::new(source.to_string(), source.to_string()),
            Error::Invalid { what, message } => Text::new(
                format!("{}：{message}", what.zh),
                format!("{}: {message}", what.en),
            ),
            Error::Refused(text) => text.clone(),
        }
    }

    /// The message in one language.
    pub fn in_lang(&self, lang: Lang) -> String {
        self.text().get(lang).to_string()
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
