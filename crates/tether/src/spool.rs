//! The spool folder: where every frame lands first, under a name made by rollcall.
//!
//! A file is written as `<final name>.part`, fsync'd, renamed to its final name, and the folder
//! is fsync'd; only then is it reported. A reader therefore never sees a partial file under a
//! final name. Names never come from the camera (cameras reuse `DSC_0001.JPG`, wrap at 9999 and
//! restart after a reconnect): they are `<UTC time>-<sequence>-<camera>.<ext>`, and a name that
//! exists already is never overwritten.

use std::fs::{self, File};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use crate::TetherError;

/// Suffix of files being written.
pub const PART: &str = ".part";

/// A spool folder.
#[derive(Debug)]
pub struct Spool {
    dir: PathBuf,
    sequence: AtomicU64,
}

impl Spool {
    /// Opens (creating it owner-only if needed) the spool folder and removes `.part` leftovers
    /// of a crash: their frames are still on the camera or in the source folder and will be
    /// downloaded again.
    pub fn open(dir: &Path) -> Result<Spool, TetherError> {
        let err = |source| TetherError::Spool {
            path: dir.to_path_buf(),
            source,
        };
        create_private_dir(dir).map_err(err)?;
        for entry in fs::read_dir(dir).map_err(err)? {
            let entry = entry.map_err(err)?;
            let name = entry.file_name();
            if name.to_string_lossy().ends_with(PART) {
                tracing::warn!(file = %entry.path().display(), "removing a partial download left by a crash");
                fs::remove_file(entry.path()).map_err(err)?;
            }
        }
        Ok(Spool {
            dir: dir.to_path_buf(),
            sequence: AtomicU64::new(0),
        })
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Stores one file: `.part`, fsync, rename, fsync the folder. Returns the final path.
    /// `camera` goes into the name (sanitised); `extension` is lower-cased.
    pub fn store(
        &self,
        bytes: &[u8],
        camera: &str,
        extension: &str,
    ) -> Result<PathBuf, TetherError> {
        let err = |source| TetherError::Spool {
            path: self.dir.clone(),
            source,
        };
        let camera = sanitise(camera);
        let extension = sanitise(&extension.to_ascii_lowercase());
        let (final_path, part_path) = loop {
            let n = self.sequence.fetch_add(1, Ordering::Relaxed);
            let time = chrono::Utc::now().format("%Y%m%dT%H%M%S%.3fZ");
            let name = format!("{time}-{n:06}-{camera}.{extension}");
            let final_path = self.dir.join(&name);
            let part_path = self.dir.join(format!("{name}{PART}"));
            if !final_path.exists() && !part_path.exists() {
                break (final_path, part_path);
            }
        };
        let written = durable::create_new(&part_path).and_then(|mut file| {
            file.write_all(bytes)?;
            file.sync_all()
        });
        if let Err(e) = written {
            // A full disk: the part goes, the frame stays on the camera or in the source folder.
            let _ = fs::remove_file(&part_path);
            return Err(err(e));
        }
        // `create_new` above and the existence check make an overwrite impossible short of a
        // second writer racing on the same name, which the sequence number rules out.
        fs::rename(&part_path, &final_path).map_err(err)?;
        File::open(&self.dir)
            .and_then(|d| d.sync_all())
            .map_err(err)?;
        Ok(final_path)
    }
}

/// [`Spool::store`] on a blocking thread (it fsyncs), for async callers.
pub async fn store_blocking(
    spool: std::sync::Arc<Spool>,
    bytes: Vec<u8>,
    camera: String,
    extension: String,
) -> Result<PathBuf, TetherError> {
    tokio::task::spawn_blocking(move || spool.store(&bytes, &camera, &extension))
        .await
        .map_err(|e| TetherError::Camera(format!("store task failed: {e}")))?
}

/// Keeps letters, digits, `-` and `_`: a camera model or extension as part of a file name.
fn sanitise(s: &str) -> String {
    let out: String = s
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
        .collect();
    if out.is_empty() { "x".into() } else { out }
}

pub use durable::create_private_dir;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stores_under_unique_names_and_never_leaves_parts() {
        let dir = tempfile::tempdir().unwrap();
        let spool = Spool::open(&dir.path().join("spool")).unwrap();
        let a = spool.store(b"one", "Nikon DSC D750", "JPG").unwrap();
        let b = spool.store(b"two", "Nikon DSC D750", "JPG").unwrap();
        assert_ne!(a, b);
        assert_eq!(fs::read(&a).unwrap(), b"one");
        assert_eq!(fs::read(&b).unwrap(), b"two");
        let name = a.file_name().unwrap().to_string_lossy().into_owned();
        assert!(name.ends_with("-NikonDSCD750.jpg"), "{name}");
        let names: Vec<_> = fs::read_dir(spool.dir())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names.len(), 2);
        use std::os::unix::fs::PermissionsExt;
        let mode = fs::metadata(spool.dir()).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o700);
    }

    #[test]
    fn leftover_parts_are_removed_not_renamed() {
        let dir = tempfile::tempdir().unwrap();
        fs::write(dir.path().join("x.jpg.part"), b"half").unwrap();
        fs::write(dir.path().join("kept.jpg"), b"whole").unwrap();
        let spool = Spool::open(dir.path()).unwrap();
        let mut names: Vec<_> = fs::read_dir(spool.dir())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        names.sort();
        assert_eq!(names, ["kept.jpg"]);
    }

    #[test]
    fn existing_names_are_never_overwritten() {
        let dir = tempfile::tempdir().unwrap();
        let spool = Spool::open(dir.path()).unwrap();
        // Many stores within the same millisecond still get distinct names.
        let paths: std::collections::BTreeSet<_> = (0..200)
            .map(|i| {
                spool
                    .store(format!("{i}").as_bytes(), "cam", "jpg")
                    .unwrap()
            })
            .collect();
        assert_eq!(paths.len(), 200);
    }
}
