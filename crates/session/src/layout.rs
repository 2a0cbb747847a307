//! Where everything lives under the data folder, and the few file primitives every write
//! goes through (owner-only folders, write-fsync-rename).
//!
//! ```text
//! <data>/sessions/<school>/journal.jsonl      the journal (source of truth)
//! <data>/originals/<school>/<class>/<key>/     every frame's bytes, kept forever
//!        <school>/_未分配/                      frames that belong to no student
//! <data>/photos/<school>/<frame>.jpg           processed photos (a cache: rebuildable)
//! <data>/output/<school>/<class>/<id>-<name>.jpg   the chosen photos, as submitted
//! ```

use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use crate::event::FrameId;
use crate::state::State;

/// Folder of frames that belong to no student.
pub const UNASSIGNED: &str = "_未分配";

/// Paths under one data folder.
#[derive(Debug, Clone)]
pub struct Layout {
    pub data: PathBuf,
}

impl Layout {
    pub fn new(data: &Path) -> Layout {
        Layout {
            data: data.to_path_buf(),
        }
    }

    pub fn sessions(&self) -> PathBuf {
        self.data.join("sessions")
    }

    pub fn journal(&self, school: &str) -> PathBuf {
        self.sessions()
            .join(path_part(school))
            .join("journal.jsonl")
    }

    pub fn originals(&self, school: &str) -> PathBuf {
        self.data.join("originals").join(path_part(school))
    }

    pub fn photos(&self, school: &str) -> PathBuf {
        self.data.join("photos").join(path_part(school))
    }

    pub fn output(&self, school: &str) -> PathBuf {
        self.data.join("output").join(path_part(school))
    }

    /// The cached photo of a frame.
    pub fn photo(&self, school: &str, frame: FrameId) -> PathBuf {
        self.photos(school).join(format!("{frame:06}.jpg"))
    }

    /// A failed frame's picture for the console: the photo with what failed marked, or the
    /// frame reduced with the faces found (`pipeline::Report::preview`). Never filed.
    pub fn preview(&self, school: &str, frame: FrameId) -> PathBuf {
        self.data
            .join("previews")
            .join(path_part(school))
            .join(format!("{frame:06}.jpg"))
    }

    /// Where a frame's original belongs now (it moves when the frame changes student).
    pub fn original(&self, state: &State, frame: FrameId) -> Option<PathBuf> {
        let f = state.frame_state(frame)?;
        let dir = match f.owner {
            Some(s) => {
                let rec = &state.students[s].rec;
                self.originals(&state.school)
                    .join(path_part(&rec.class))
                    .join(key_dir(&rec.key))
            }
            None => self.originals(&state.school).join(UNASSIGNED),
        };
        Some(dir.join(original_name(frame, &f.hash, &f.ext)))
    }

    /// Where a photo is filed.
    pub fn output_file(&self, school: &str, class: &str, stem: &str) -> PathBuf {
        self.output(school)
            .join(path_part(class))
            .join(format!("{}.jpg", path_part(stem)))
    }

    /// Schools that have a session here.
    pub fn schools(&self) -> io::Result<Vec<String>> {
        let mut out = Vec::new();
        let dir = self.sessions();
        if !dir.is_dir() {
            return Ok(out);
        }
        for entry in fs::read_dir(dir)? {
            let entry = entry?;
            if entry.path().join("journal.jsonl").is_file() {
                out.push(entry.file_name().to_string_lossy().into_owned());
            }
        }
        out.sort();
        Ok(out)
    }
}

/// `<frame>-<first 12 hex of the hash>.<ext>`: unique, and findable wherever it was moved.
pub fn original_name(frame: FrameId, hash: &str, ext: &str) -> String {
    let short = hash.get(..12).unwrap_or(hash);
    format!("{frame:06}-{short}.{ext}")
}

/// The frame number of an original's file name.
pub fn frame_of_original(name: &str) -> Option<FrameId> {
    let (number, rest) = name.split_once('-')?;
    if number.len() < 6 || !rest.contains('.') {
        return None;
    }
    number.parse().ok()
}

/// A student key as one folder name (`校/班/张三#2` → `张三#2`).
fn key_dir(key: &str) -> String {
    path_part(key.rsplit('/').next().unwrap_or(key))
}

/// Text as one safe path component: no separators, no characters Windows refuses (the office
/// opens the zips on Windows), no leading dots.
pub fn path_part(text: &str) -> String {
    let cleaned: String = text
        .trim()
        .chars()
        .map(|c| match c {
            '/' | '\\' | ':' | '*' | '?' | '"' | '<' | '>' | '|' => '_',
            c if c.is_control() => '_',
            c => c,
        })
        .collect();
    let cleaned = cleaned.trim_start_matches('.').trim();
    if cleaned.is_empty() {
        "_".into()
    } else {
        cleaned.to_string()
    }
}

pub use durable::{create_private_dir, move_file, write_atomic};

/// An I/O failure in words for the operator (Chinese): a full disk says how much is free and
/// what to do; anything else names the error.
pub fn io_zh(path: &Path, e: &io::Error) -> String {
    if durable::is_disk_full(e) {
        format!(
            "磁盘已满（剩余 {} MB）：请腾出空间（删除数据目录以外不需要的文件，或换一块有空间的磁盘），然后重试；已拍的照片都还在",
            free_mb(path)
        )
    } else {
        format!("{}：读写失败（{e}），请检查磁盘和权限", path.display())
    }
}

/// [`io_zh`] in English.
pub fn io_en(path: &Path, e: &io::Error) -> String {
    if durable::is_disk_full(e) {
        format!(
            "{}: the disk is full ({} MB free): make room, then try again; nothing taken so far is lost",
            path.display(),
            free_mb(path)
        )
    } else {
        format!("{}: {e}", path.display())
    }
}

/// Free megabytes on the file system of `path` (or its nearest existing parent).
fn free_mb(path: &Path) -> u64 {
    path.ancestors()
        .find_map(|p| durable::free_space(p).ok())
        .map_or(0, durable::megabytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn path_parts_are_safe() {
        assert_eq!(path_part("初一(1)班"), "初一(1)班");
        assert_eq!(path_part("a/b\\c:d"), "a_b_c_d");
        assert_eq!(path_part("..\u{0}x"), "_x");
        assert_eq!(path_part(" .. "), "_");
    }

    #[test]
    fn original_names_round_trip() {
        let name = original_name(42, "abcdef0123456789", "jpg");
        assert_eq!(name, "000042-abcdef012345.jpg");
        assert_eq!(frame_of_original(&name), Some(42));
        assert_eq!(frame_of_original("notes.txt"), None);
    }
}
