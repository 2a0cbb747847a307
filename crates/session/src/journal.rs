//! The append-only journal file: one [`Line`] per line, fsync'd before the event counts.
//!
//! Opening replays it into a [`State`]. A torn last line (no newline: the process died while
//! writing it) is cut off with a warning; any other line that cannot be read or applied stops the
//! replay with an error naming it: never skipped silently. The file is locked while open, so
//! two processes never write one session.

use std::fs::{File, TryLockError};
use std::io;
use std::path::{Path, PathBuf};

use durable::AppendFile;

use crate::event::{Event, Line, VERSION};
use crate::state::{Refusal, State};

#[derive(Debug, thiserror::Error)]
pub enum JournalError {
    #[error("{}", crate::layout::io_en(path, source))]
    Io {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error("{path}: the session is open in another rollcall process (daemon or command)")]
    Locked { path: PathBuf },
    #[error("{path}: a session exists already")]
    Exists { path: PathBuf },
    #[error("{path}: no session here (start one with `rollcall session start`)")]
    Missing { path: PathBuf },
    #[error("{path}, line {line}: unreadable ({message}); the journal needs a manual repair")]
    Corrupt {
        path: PathBuf,
        line: usize,
        message: String,
    },
    #[error("{path}, line {line}: {refusal}")]
    Refused {
        path: PathBuf,
        line: usize,
        refusal: Refusal,
    },
}

impl JournalError {
    /// For the operator, in Chinese.
    pub fn zh(&self) -> String {
        match self {
            JournalError::Io { path, source } => crate::layout::io_zh(path, source),
            JournalError::Locked { .. } => {
                "该学校的拍摄会话正被另一个 rollcall 进程使用（后台服务或另一条命令），请在控制台操作或先停止它".into()
            }
            JournalError::Exists { path } => format!("{}：会话已存在", path.display()),
            JournalError::Missing { .. } => {
                "还没有这个学校的拍摄会话，请先运行 rollcall session start".into()
            }
            JournalError::Corrupt { path, line, .. } => format!(
                "{} 第 {line} 行无法读取，日志需要人工修复（请联系技术支持，不要删除文件）",
                path.display()
            ),
            JournalError::Refused {
                path,
                line,
                refusal,
            } => format!("{} 第 {line} 行：{}", path.display(), refusal.zh()),
        }
    }
}

/// An open journal, locked for writing.
#[derive(Debug)]
pub struct Journal {
    path: PathBuf,
    file: AppendFile,
    next_seq: u64,
}

/// What opening a journal found.
#[derive(Debug)]
pub struct Replayed {
    pub journal: Journal,
    pub state: State,
    /// The torn last line that was cut off, if any.
    pub torn: Option<String>,
}

impl Journal {
    /// Creates a new journal whose first line is `opened`, and opens it.
    pub fn create(path: &Path, school: &str, separator: &str) -> Result<Replayed, JournalError> {
        if path.exists() {
            return Err(JournalError::Exists {
                path: path.to_path_buf(),
            });
        }
        let first = Line {
            v: VERSION,
            seq: 1,
            at: now(),
            event: Event::Opened {
                school: school.to_string(),
                separator: separator.to_string(),
            },
        };
        let mut text = serde_json::to_vec(&first).map_err(|e| JournalError::Io {
            path: path.to_path_buf(),
            source: io::Error::other(e),
        })?;
        text.push(b'\n');
        // Written whole and renamed into place: a journal never exists without its first line.
        crate::layout::write_atomic(path, &text).map_err(|source| JournalError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        Journal::open(path)
    }

    /// Opens and replays a journal.
    pub fn open(path: &Path) -> Result<Replayed, JournalError> {
        let io = |source| JournalError::Io {
            path: path.to_path_buf(),
            source,
        };
        let (mut file, bytes) = AppendFile::open_existing(path).map_err(|e| match e.kind() {
            io::ErrorKind::NotFound => JournalError::Missing {
                path: path.to_path_buf(),
            },
            _ => io(e),
        })?;
        lock(file.file(), path)?;
        let (state, good_len, torn) = replay(&bytes, path)?;
        if good_len < bytes.len() {
            tracing::warn!(
                journal = %path.display(),
                bytes = bytes.len() - good_len,
                "cutting off a torn last line (the process stopped while writing it)"
            );
            file.truncate(good_len as u64).map_err(io)?;
        }
        Ok(Replayed {
            journal: Journal {
                path: path.to_path_buf(),
                file,
                next_seq: state.seq + 1,
            },
            state,
            torn,
        })
    }

    /// Reads a journal without locking or repairing it (for status while a daemon runs).
    pub fn read(path: &Path) -> Result<State, JournalError> {
        replay(&read_bytes(path)?, path).map(|(state, _, _)| state)
    }

    /// The journal's complete lines, typed, without locking or replaying it (for the readers
    /// beside a running session: the export shell, the office sync). A torn last line — one
    /// still being written — is left out, as the replay leaves it.
    pub fn lines(path: &Path) -> Result<Vec<Line>, JournalError> {
        let bytes = read_bytes(path)?;
        complete_lines(&bytes)
            .map(|(number, text)| parse(text, number, path))
            .collect()
    }

    /// The line the next event will get.
    pub fn line(&self, event: Event) -> Line {
        Line {
            v: VERSION,
            seq: self.next_seq,
            at: now(),
            event,
        }
    }

    /// Writes and fsyncs one event; returns its line.
    pub fn append(&mut self, event: Event) -> Result<Line, JournalError> {
        let line = self.line(event);
        self.write(&line)?;
        Ok(line)
    }

    /// Writes and fsyncs a line made by [`Journal::line`].
    pub fn write(&mut self, line: &Line) -> Result<(), JournalError> {
        let io = |source| JournalError::Io {
            path: self.path.clone(),
            source,
        };
        let mut text = serde_json::to_string(line).map_err(|e| io(io::Error::other(e)))?;
        text.push('\n');
        // The whole line, fsync'd, or the file cut back to its last good line: a full disk
        // never leaves a fragment for the next line to be glued to. (A crash in between leaves
        // at most one torn last line, which opening cuts off.)
        self.file.append(text.as_bytes()).map_err(io)?;
        self.next_seq = line.seq + 1;
        Ok(())
    }

    pub fn path(&self) -> &Path {
        &self.path
    }
}

/// The time written on a line (UTC, RFC 3339, milliseconds).
fn now() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

/// Takes the journal's lock (flock). A lock is shared by every copy of the descriptor, and a
/// process that forks (to run `mount`, a browser, any child) holds a copy until the child's
/// exec closes it: a lock just released can look held for a moment. So "held" is believed only
/// after it stays held for a quarter of a second; a session that really runs holds it for hours.
fn lock(file: &File, path: &Path) -> Result<(), JournalError> {
    let deadline = std::time::Instant::now() + std::time::Duration::from_millis(250);
    loop {
        match file.try_lock() {
            Ok(()) => return Ok(()),
            Err(TryLockError::WouldBlock) if std::time::Instant::now() < deadline => {
                std::thread::sleep(std::time::Duration::from_millis(10));
            }
            Err(TryLockError::WouldBlock) => {
                return Err(JournalError::Locked {
                    path: path.to_path_buf(),
                });
            }
            Err(TryLockError::Error(source)) => {
                return Err(JournalError::Io {
                    path: path.to_path_buf(),
                    source,
                });
            }
        }
    }
}

fn read_bytes(path: &Path) -> Result<Vec<u8>, JournalError> {
    std::fs::read(path).map_err(|e| match e.kind() {
        io::ErrorKind::NotFound => JournalError::Missing {
            path: path.to_path_buf(),
        },
        _ => JournalError::Io {
            path: path.to_path_buf(),
            source: e,
        },
    })
}

/// Each complete line of `bytes` (ended by a newline, which is not part of it) with its 1-based
/// number; a torn tail is not among them.
fn complete_lines(bytes: &[u8]) -> impl Iterator<Item = (usize, &[u8])> {
    bytes
        .split_inclusive(|&b| b == b'\n')
        .filter_map(|l| l.strip_suffix(b"\n"))
        .enumerate()
        .map(|(i, l)| (i + 1, l))
}

fn parse(text: &[u8], number: usize, path: &Path) -> Result<Line, JournalError> {
    serde_json::from_slice(text).map_err(|e| JournalError::Corrupt {
        path: path.to_path_buf(),
        line: number,
        message: e.to_string(),
    })
}

/// Folds the journal's bytes into a state. Returns the state, the length of the complete
/// lines, and the torn tail (if any).
pub fn replay(bytes: &[u8], path: &Path) -> Result<(State, usize, Option<String>), JournalError> {
    let mut state = State::default();
    let mut start = 0;
    for (number, text) in complete_lines(bytes) {
        let line = parse(text, number, path)?;
        state
            .apply(&line)
            .map_err(|refusal| JournalError::Refused {
                path: path.to_path_buf(),
                line: number,
                refusal,
            })?;
        start += text.len() + 1;
    }
    if state.seq == 0 {
        return Err(JournalError::Corrupt {
            path: path.to_path_buf(),
            line: 1,
            message: "empty journal".into(),
        });
    }
    let torn = (start < bytes.len()).then(|| String::from_utf8_lossy(&bytes[start..]).into_owned());
    Ok((state, start, torn))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;

    #[test]
    fn a_line_being_written_is_not_read_yet() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("journal.jsonl");
        let line = r#"{"v":2,"seq":1,"at":"2026-09-01T08:00:00Z","event":"opened","school":"S","separator":"-"}"#;
        std::fs::write(&path, format!("{line}\n{{\"v\":2,\"seq\":2,\"at\"")).unwrap();
        let lines = Journal::lines(&path).unwrap();
        assert_eq!(lines.len(), 1);
        assert_eq!(lines[0].seq, 1);
        // The replay agrees: the same state, the torn tail reported.
        let (state, good, torn) = replay(&std::fs::read(&path).unwrap(), &path).unwrap();
        assert_eq!((state.seq, good), (1, line.len() + 1));
        assert!(torn.is_some());
    }
}
