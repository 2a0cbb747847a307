//! A folder source: frames written into a folder by another tethering program or copied from
//! a card reader. Same output contract as the camera: each file is copied into the spool
//! (`.part`, fsync, rename) and reported once.
//!
//! A file counts once its size and modification time are unchanged between two polls; hidden
//! files and files being written by common tools (`.part`, `.tmp`, `.crdownload`) are skipped.
//! The source files are never changed or deleted (a card is the photographer's backup). What
//! was imported is remembered in `<spool>/.folder-source.log` (one fsync'd line per file), so a
//! restart imports nothing twice and nothing is missed.

use std::collections::{HashMap, HashSet};
use std::fs;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use tokio::sync::{mpsc, watch};

use crate::spool::Spool;
use crate::{Captures, Event, FrameArrived, FrameKind, Status, TetherError};

const LOG: &str = ".folder-source.log";

/// Identity of a source file: path, size and modification time.
type Seen = (PathBuf, u64, u128);

fn identity(path: &Path) -> Option<Seen> {
    let meta = fs::metadata(path).ok()?;
    let mtime = meta
        .modified()
        .ok()?
        .duration_since(SystemTime::UNIX_EPOCH)
        .ok()?
        .as_nanos();
    Some((path.to_path_buf(), meta.len(), mtime))
}

fn log_line(seen: &Seen) -> String {
    format!("{}\t{}\t{}\n", seen.1, seen.2, seen.0.display())
}

fn parse_line(line: &str) -> Option<Seen> {
    let mut parts = line.splitn(3, '\t');
    let size = parts.next()?.parse().ok()?;
    let mtime = parts.next()?.parse().ok()?;
    Some((PathBuf::from(parts.next()?), size, mtime))
}

fn candidates(dir: &Path, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
    for entry in fs::read_dir(dir)? {
        let entry = entry?;
        let name = entry.file_name();
        let name = name.to_string_lossy();
        if durable::names::is_temporary(&name) {
            continue;
        }
        let kind = entry.file_type()?;
        if kind.is_dir() {
            candidates(&entry.path(), out)?;
        } else if kind.is_file() {
            out.push(entry.path());
        }
    }
    Ok(())
}

/// The files under `dir` with their identities, in path order (blocking).
fn scan(dir: &Path) -> std::io::Result<Vec<(PathBuf, Seen)>> {
    let mut files = Vec::new();
    candidates(dir, &mut files)?;
    files.sort();
    Ok(files
        .into_iter()
        .filter_map(|path| identity(&path).map(|id| (path, id)))
        .collect())
}

/// Watches `source` until `shutdown` turns true.
pub async fn run(
    source: PathBuf,
    poll: Duration,
    spool: Arc<Spool>,
    events: mpsc::Sender<Event>,
    mut shutdown: watch::Receiver<bool>,
) -> Result<(), TetherError> {
    let folder_err = |source_err| TetherError::Folder {
        path: source.clone(),
        source: source_err,
    };
    let spool_err = |e| TetherError::Spool {
        path: spool.dir().to_path_buf(),
        source: e,
    };
    let log_path = spool.dir().join(LOG);
    let (mut log, text) = durable::AppendFile::open_lines(&log_path).map_err(spool_err)?;
    let mut seen: HashSet<Seen> = String::from_utf8_lossy(&text)
        .lines()
        .filter_map(parse_line)
        .collect();
    let camera = format!("folder {}", source.display());
    let connected = Status::Connected {
        model: camera.clone(),
        port: source.display().to_string(),
        battery: None,
        free_bytes: None,
    };
    let _ = events.send(Event::Status(connected.clone())).await;
    let mut trouble = false;
    let mut pending: HashMap<PathBuf, Seen> = HashMap::new();
    let mut captures = Captures::default();
    while !*shutdown.borrow() {
        // The walk and the metadata reads block (a card reader can take seconds): off the
        // async workers.
        let dir = source.clone();
        let files = tokio::task::spawn_blocking(move || scan(&dir))
            .await
            .map_err(|e| folder_err(std::io::Error::other(e)))?
            .map_err(folder_err)?;
        for (path, id) in files {
            if seen.contains(&id) {
                continue;
            }
            // Stable across two polls: the writer has finished.
            if pending.get(&path) != Some(&id) {
                pending.insert(path, id);
                continue;
            }
            let bytes = match tokio::fs::read(&path).await {
                Ok(b) => b,
                Err(e) => {
                    tracing::warn!(file = %path.display(), error = %e, "cannot read; will retry");
                    pending.remove(&path);
                    continue;
                }
            };
            let (stem, extension) = crate::split_name(&path);
            let data_len = bytes.len() as u64;
            let stored = match crate::spool::store_blocking(
                Arc::clone(&spool),
                bytes,
                "folder".into(),
                extension.clone(),
            )
            .await
            {
                Ok(p) => p,
                Err(e) => {
                    // A full disk: the file stays in the source folder and is copied on a later
                    // poll, once there is room.
                    tracing::warn!(file = %path.display(), error = %e, "cannot store; will retry");
                    let _ = events.send(Event::Status(crate::spool_trouble(&e))).await;
                    trouble = true;
                    // It stays first in line (still known stable): the files after it wait, so
                    // frames keep the order they were shot in.
                    break;
                }
            };
            pending.remove(&path);
            let line = log_line(&id);
            let (back, appended) = tokio::task::spawn_blocking(move || {
                let appended = log.append(line.as_bytes());
                (log, appended)
            })
            .await
            .map_err(|e| spool_err(std::io::Error::other(e)))?;
            log = back;
            if let Err(e) = appended {
                // Stored but not remembered: it may be copied again, and the session knows the
                // same bytes by their hash. Never lost.
                tracing::warn!(error = %e, "cannot note an imported file");
            }
            if std::mem::take(&mut trouble) {
                let _ = events.send(Event::Status(connected.clone())).await;
            }
            let kind = FrameKind::from_extension(&extension);
            let _ = events
                .send(Event::Frame(FrameArrived {
                    path: stored,
                    camera: camera.clone(),
                    camera_path: path.display().to_string(),
                    capture: captures.assign(&stem, kind),
                    kind,
                    bytes: data_len,
                }))
                .await;
            seen.insert(id);
        }
        tokio::select! {
            _ = tokio::time::sleep(poll) => {}
            _ = shutdown.changed() => {}
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn log_lines_round_trip() {
        let id = (
            PathBuf::from("/media/card/DCIM/100NIKON/DSC 0001.JPG"),
            1234,
            99,
        );
        assert_eq!(parse_line(log_line(&id).trim_end()), Some(id));
    }
}
