//! Watching the spool folder: which files are frames, when a frame is complete, and in which
//! order frames arrived.
//!
//! File-system events (notify) say quickly that something changed; a periodic rescan is the
//! safety net for missed events. A file counts once it is complete: it was renamed into the
//! folder or closed by its writer and its size has not changed since, or its size has been
//! stable for [`SpoolWatch::settle`]. Files are handed out strictly in arrival order — a frame
//! still being written holds back the ones after it, so a burst is assigned in the order it was
//! shot. `.part`, hidden and temporary files are never frames.
//!
//! The queue never blocks for good: a file that stays empty, or that is not a regular file (a
//! symlink, a FIFO, a device), is handed out as [`Next::SetAside`] once it has settled, and the
//! runner moves it to `spool/rejected/`. Symlinks are never followed.

use std::collections::HashSet;
use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant, SystemTime};

pub use durable::names::is_temporary as ignored;

/// Where files that are not frames are moved, inside the spool folder.
pub const REJECTED: &str = "rejected";

/// What the head of the queue is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Next {
    /// A complete frame, to be taken in.
    Frame(PathBuf),
    /// Not a frame: to be moved out of the way, with the reason.
    SetAside(PathBuf, SetAsideReason),
}

/// Why a spool file is not a frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SetAsideReason {
    /// Stayed empty for [`SpoolWatch::empty_settle`].
    Empty,
    /// A symlink, FIFO, socket or device.
    NotRegular,
    /// It could not be read (permissions, a broken card reader).
    Unreadable,
}

impl SetAsideReason {
    pub fn zh(self) -> &'static str {
        match self {
            SetAsideReason::Empty => "空文件",
            SetAsideReason::NotRegular => "不是普通文件（链接或特殊文件）",
            SetAsideReason::Unreadable => "无法读取",
        }
    }

    pub fn en(self) -> &'static str {
        match self {
            SetAsideReason::Empty => "an empty file",
            SetAsideReason::NotRegular => "not a regular file (a link or a special file)",
            SetAsideReason::Unreadable => "unreadable",
        }
    }
}

#[derive(Debug, Clone)]
struct Candidate {
    path: PathBuf,
    /// A regular file (not a symlink or special file).
    regular: bool,
    size: u64,
    mtime: Option<SystemTime>,
    /// When size or mtime last changed (or the file was first seen).
    changed: Instant,
    /// A rename-into or close-after-write event was seen since the last change.
    complete: bool,
}

/// The spool folder's files that are not yet taken in, in arrival order.
#[derive(Debug)]
pub struct SpoolWatch {
    dir: PathBuf,
    queue: Vec<Candidate>,
    known: HashSet<PathBuf>,
    /// How long a size must stay unchanged when no completion event was seen.
    pub settle: Duration,
    /// How long a file may stay empty (or not regular) before it is set aside.
    pub empty_settle: Duration,
}

impl SpoolWatch {
    /// Watches `dir`, which is resolved to its canonical path (file-system events name files
    /// by an absolute path, whatever path the folder was given by).
    pub fn new(dir: &Path) -> SpoolWatch {
        SpoolWatch {
            dir: fs::canonicalize(dir).unwrap_or_else(|_| dir.to_path_buf()),
            queue: Vec::new(),
            known: HashSet::new(),
            settle: Duration::from_millis(500),
            empty_settle: Duration::from_secs(5),
        }
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Notes a file that an event named. `complete` when the event was a rename into the folder
    /// or a close after writing.
    pub fn note(&mut self, path: &Path, complete: bool, now: Instant) {
        let in_dir = match path.parent() {
            Some(parent) if parent == self.dir => true,
            Some(parent) => fs::canonicalize(parent).is_ok_and(|p| p == self.dir),
            None => false,
        };
        if !in_dir {
            return;
        }
        let Some(name) = path.file_name() else { return };
        let path = &self.dir.join(name);
        let name = name.to_string_lossy();
        if ignored(&name) {
            return;
        }
        if self.known.contains(path) {
            if let Some(c) = self.queue.iter_mut().find(|c| c.path == *path) {
                refresh(c, now);
                c.complete |= complete;
            }
            return;
        }
        // Never through a symlink: the link itself is what arrived.
        let Ok(meta) = fs::symlink_metadata(path) else {
            return;
        };
        if meta.is_dir() {
            return;
        }
        self.known.insert(path.to_path_buf());
        self.queue.push(Candidate {
            path: path.to_path_buf(),
            regular: meta.is_file(),
            size: meta.len(),
            mtime: meta.modified().ok(),
            changed: now,
            complete,
        });
    }

    /// Lists the folder and queues files not seen yet, oldest first (by modification time, then
    /// name). Files modified less than `min_age` ago are left for their file-system events,
    /// which know the true order of arrival. Returns how many were new.
    pub fn rescan(&mut self, now: Instant, min_age: Duration) -> io::Result<usize> {
        let wall = SystemTime::now();
        let mut found = Vec::new();
        for entry in fs::read_dir(&self.dir)? {
            let entry = entry?;
            let path = entry.path();
            if self.known.contains(&path) || ignored(&entry.file_name().to_string_lossy()) {
                continue;
            }
            // `DirEntry::metadata` does not follow symlinks.
            let Ok(meta) = entry.metadata() else { continue };
            let modified = meta.modified().ok();
            let young = modified
                .and_then(|m| wall.duration_since(m).ok())
                .is_some_and(|age| age < min_age);
            if !meta.is_dir() && !young {
                found.push((modified, path));
            }
        }
        found.sort();
        let n = found.len();
        for (_, path) in found {
            self.note(&path, false, now);
        }
        Ok(n)
    }

    /// The first file in arrival order if it is complete, or if it has settled as something
    /// that is not a frame. A file that vanished is dropped.
    pub fn next_ready(&mut self, now: Instant) -> Option<Next> {
        while let Some(first) = self.queue.first_mut() {
            if fs::symlink_metadata(&first.path).is_err() {
                let gone = self.queue.remove(0);
                self.known.remove(&gone.path);
                continue;
            }
            refresh(first, now);
            let age = now.duration_since(first.changed);
            if !first.regular {
                return (age >= self.settle)
                    .then(|| Next::SetAside(first.path.clone(), SetAsideReason::NotRegular));
            }
            if first.size == 0 {
                return (age >= self.empty_settle)
                    .then(|| Next::SetAside(first.path.clone(), SetAsideReason::Empty));
            }
            if first.complete || age >= self.settle {
                return Some(Next::Frame(first.path.clone()));
            }
            return None;
        }
        None
    }

    /// The file handed out by [`SpoolWatch::next_ready`] is taken in (or removed).
    pub fn done(&mut self, path: &Path) {
        self.queue.retain(|c| c.path != path);
        self.known.remove(path);
    }

    /// Moves a spool file that is not a frame to `<spool>/rejected/` (the link or special file
    /// itself, never what it points to), under a name not taken yet. Returns where it went.
    pub fn set_aside(&mut self, path: &Path) -> io::Result<PathBuf> {
        self.done(path);
        let dir = self.dir.join(REJECTED);
        durable::create_private_dir(&dir)?;
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| "file".into());
        let mut target = dir.join(&name);
        let mut n = 1;
        while fs::symlink_metadata(&target).is_ok() {
            target = dir.join(format!("{n}-{name}"));
            n += 1;
        }
        fs::rename(path, &target)?;
        durable::sync_dir(&dir)?;
        durable::sync_dir(&self.dir)?;
        Ok(target)
    }

    /// Files waiting.
    pub fn len(&self) -> usize {
        self.queue.len()
    }

    pub fn is_empty(&self) -> bool {
        self.queue.is_empty()
    }
}

/// Re-reads size and mtime; a change resets the stability clock and the completion signal.
fn refresh(c: &mut Candidate, now: Instant) {
    if let Ok(meta) = fs::symlink_metadata(&c.path) {
        let mtime = meta.modified().ok();
        c.regular = meta.is_file();
        if meta.len() != c.size || mtime != c.mtime {
            c.size = meta.len();
            c.mtime = mtime;
            c.changed = now;
            c.complete = false;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ignores_partial_hidden_and_temporary_files() {
        for name in [
            "a.jpg.part",
            ".hidden.jpg",
            "x.tmp",
            "a.JPG.crdownload",
            "b.jpg~",
        ] {
            assert!(ignored(name), "{name}");
        }
        for name in [
            "DSC_0001.JPG",
            "20261129T101010.000Z-000001-cam.jpg",
            "a.cr2",
        ] {
            assert!(!ignored(name), "{name}");
        }
    }

    #[test]
    fn a_file_counts_once_complete_and_in_arrival_order() {
        let dir = tempfile::tempdir().unwrap();
        let mut w = SpoolWatch::new(dir.path());
        let t0 = Instant::now();
        let a = dir.path().join("b-first.jpg");
        let b = dir.path().join("a-second.jpg");
        fs::write(&a, b"first").unwrap();
        fs::write(&b, b"second").unwrap();
        w.note(&a, false, t0);
        w.note(&b, true, t0);
        fs::write(dir.path().join("c.jpg.part"), b"x").unwrap();
        w.note(&dir.path().join("c.jpg.part"), true, t0);
        assert_eq!(w.len(), 2);
        // `a` came first and has no completion event: it holds `b` back until it settles.
        assert_eq!(w.next_ready(t0), None);
        assert_eq!(w.next_ready(t0 + w.settle), Some(Next::Frame(a.clone())));
        w.done(&a);
        assert_eq!(w.next_ready(t0 + w.settle), Some(Next::Frame(b.clone())));
        w.done(&b);
        assert!(w.is_empty());
        // The engine removes taken files; one left behind is found again (and then known as a
        // duplicate by its hash).
        fs::remove_file(&a).unwrap();
        assert_eq!(
            w.rescan(t0, Duration::from_secs(60)).unwrap(),
            0,
            "too young"
        );
        assert_eq!(w.rescan(t0, Duration::ZERO).unwrap(), 1);
    }

    #[test]
    fn an_empty_or_growing_file_is_not_ready() {
        let dir = tempfile::tempdir().unwrap();
        let mut w = SpoolWatch::new(dir.path());
        let t0 = Instant::now();
        let a = dir.path().join("a.jpg");
        fs::write(&a, b"").unwrap();
        assert_eq!(w.rescan(t0, Duration::ZERO).unwrap(), 1);
        assert_eq!(w.next_ready(t0 + w.settle * 2), None, "empty");
        fs::write(&a, b"more bytes").unwrap();
        let t1 = t0 + w.settle * 3;
        assert_eq!(w.next_ready(t1), None, "just grew: the clock restarts");
        assert_eq!(w.next_ready(t1 + w.settle), Some(Next::Frame(a)));
    }

    #[test]
    fn an_empty_file_or_a_symlink_is_set_aside_and_the_queue_goes_on() {
        let dir = tempfile::tempdir().unwrap();
        let mut w = SpoolWatch::new(dir.path());
        let t0 = Instant::now();
        let empty = dir.path().join("1-empty.jpg");
        let link = dir.path().join("2-link.jpg");
        let frame = dir.path().join("3-frame.jpg");
        fs::write(&empty, b"").unwrap();
        std::os::unix::fs::symlink("/etc/passwd", &link).unwrap();
        fs::write(&frame, b"jpeg").unwrap();
        for p in [&empty, &link, &frame] {
            w.note(p, true, t0);
        }
        assert_eq!(w.len(), 3);
        assert_eq!(
            w.next_ready(t0 + w.settle),
            None,
            "an empty file may still grow"
        );
        let t1 = t0 + w.empty_settle;
        assert_eq!(
            w.next_ready(t1),
            Some(Next::SetAside(empty.clone(), SetAsideReason::Empty))
        );
        let moved = w.set_aside(&empty).unwrap();
        assert!(moved.starts_with(dir.path().join(REJECTED)));
        assert_eq!(
            w.next_ready(t1),
            Some(Next::SetAside(link.clone(), SetAsideReason::NotRegular))
        );
        let moved = w.set_aside(&link).unwrap();
        assert!(
            fs::symlink_metadata(&moved)
                .unwrap()
                .file_type()
                .is_symlink()
        );
        assert_eq!(w.next_ready(t1), Some(Next::Frame(frame.clone())));
        // The rejected folder itself is never a candidate.
        w.done(&frame);
        assert_eq!(
            w.rescan(t1, Duration::ZERO).unwrap(),
            1,
            "only the frame again"
        );
    }
}
