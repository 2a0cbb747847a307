//! Filing: makes the folders match the state. Originals move to their student's folder when a
//! frame changes hands; `output/` holds exactly the chosen photos of the current roster under
//! their current names. Reconciling (rather than replaying individual file operations) is what
//! makes a crash at any moment harmless: the next sync finishes the job.

use std::collections::HashMap;
use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use crate::event::FrameId;
use crate::layout::{self, Layout};
use crate::state::State;

#[derive(Debug, thiserror::Error)]
#[error("{}", crate::layout::io_en(path, source))]
pub struct FilingError {
    pub path: PathBuf,
    #[source]
    pub source: io::Error,
}

fn err(path: &Path) -> impl FnOnce(io::Error) -> FilingError + '_ {
    move |source| FilingError {
        path: path.to_path_buf(),
        source,
    }
}

/// What a sync did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct SyncReport {
    pub originals_moved: usize,
    pub photos_written: usize,
    pub photos_removed: usize,
    /// Frames whose processed photo is not in the cache (rebuild regenerates them).
    pub missing_photos: Vec<FrameId>,
    /// Frames whose original is nowhere under `originals/` (should never happen).
    pub missing_originals: Vec<FrameId>,
}

/// Knows where every original is and what `output/` holds.
#[derive(Debug)]
pub struct Filer {
    layout: Layout,
    school: String,
    originals: HashMap<FrameId, PathBuf>,
    /// Output files and the frame whose photo they hold (`None`: found on disk, not yet
    /// compared).
    output: HashMap<PathBuf, Option<FrameId>>,
}

impl Filer {
    /// Indexes `originals/` and `output/` of a school as they are on disk.
    pub fn open(layout: &Layout, school: &str) -> Result<Filer, FilingError> {
        let mut originals = HashMap::new();
        for (path, name) in files_below(&layout.originals(school))? {
            if let Some(frame) = layout::frame_of_original(&name) {
                originals.insert(frame, path);
            }
        }
        let mut output = HashMap::new();
        for (path, name) in files_below(&layout.output(school))? {
            if name.ends_with(".jpg") && !name.starts_with('.') {
                output.insert(path, None);
            }
        }
        Ok(Filer {
            layout: layout.clone(),
            school: school.to_string(),
            originals,
            output,
        })
    }

    /// Stores a new frame's bytes where the state says it belongs (the frame must already be
    /// applied to `state`).
    pub fn store_original(
        &mut self,
        state: &State,
        frame: FrameId,
        bytes: &[u8],
    ) -> Result<PathBuf, FilingError> {
        let path = self
            .layout
            .original(state, frame)
            .ok_or_else(|| FilingError {
                path: self.layout.originals(&self.school),
                source: io::Error::other(format!("frame {frame} is not in the session")),
            })?;
        layout::write_atomic(&path, bytes).map_err(err(&path))?;
        self.originals.insert(frame, path.clone());
        Ok(path)
    }

    /// Where a frame's original is now.
    pub fn original(&self, frame: FrameId) -> Option<&Path> {
        self.originals.get(&frame).map(PathBuf::as_path)
    }

    /// Moves originals and writes/removes output photos until the folders match `state`.
    pub fn sync(&mut self, state: &State) -> Result<SyncReport, FilingError> {
        let mut report = SyncReport::default();
        for f in &state.frames {
            let Some(want) = self.layout.original(state, f.id) else {
                continue;
            };
            match self.originals.get(&f.id) {
                Some(have) if *have == want => {}
                Some(have) => {
                    let have = have.clone();
                    layout::move_file(&have, &want).map_err(err(&have))?;
                    self.originals.insert(f.id, want);
                    report.originals_moved += 1;
                }
                None => report.missing_originals.push(f.id),
            }
        }

        let mut desired: HashMap<PathBuf, FrameId> = HashMap::new();
        for (class, stem, frame) in state.desired_output() {
            desired.insert(self.layout.output_file(&state.school, &class, &stem), frame);
        }
        let stale: Vec<PathBuf> = self
            .output
            .keys()
            .filter(|p| !desired.contains_key(*p))
            .cloned()
            .collect();
        for path in stale {
            match fs::remove_file(&path) {
                Ok(()) => report.photos_removed += 1,
                Err(e) if e.kind() == io::ErrorKind::NotFound => {}
                Err(e) => return Err(err(&path)(e)),
            }
            self.output.remove(&path);
            if let Some(dir) = path.parent() {
                // An emptied class folder goes too; one holding anything else stays.
                let _ = fs::remove_dir(dir);
            }
        }
        for (path, frame) in desired {
            if self.output.get(&path) == Some(&Some(frame)) {
                continue;
            }
            let photo = self.layout.photo(&state.school, frame);
            let bytes = match fs::read(&photo) {
                Ok(b) => b,
                Err(e) if e.kind() == io::ErrorKind::NotFound => {
                    report.missing_photos.push(frame);
                    continue;
                }
                Err(e) => return Err(err(&photo)(e)),
            };
            let same = self.output.contains_key(&path)
                && fs::read(&path).is_ok_and(|existing| existing == bytes);
            if !same {
                layout::write_atomic(&path, &bytes).map_err(err(&path))?;
                report.photos_written += 1;
            }
            self.output.insert(path, Some(frame));
        }
        report.missing_photos.sort_unstable();
        Ok(report)
    }

    /// Every output file as (path, frame).
    pub fn output_files(&self) -> impl Iterator<Item = (&Path, Option<FrameId>)> {
        self.output.iter().map(|(p, f)| (p.as_path(), *f))
    }
}

/// The photos `output/` should hold and does not (filing that waits for a retry: a full disk),
/// read without touching anything — for `session status` while a daemon runs.
pub fn unfiled(layout: &Layout, state: &State) -> Vec<PathBuf> {
    state
        .desired_output()
        .into_iter()
        .map(|(class, stem, _)| layout.output_file(&state.school, &class, &stem))
        .filter(|p| !p.is_file())
        .collect()
}

/// Every file below `root` (none when it does not exist) with its file name.
fn files_below(root: &Path) -> Result<Vec<(PathBuf, String)>, FilingError> {
    let mut out = Vec::new();
    if !root.is_dir() {
        return Ok(out);
    }
    for entry in walkdir::WalkDir::new(root) {
        let entry = entry.map_err(|e| FilingError {
            path: root.to_path_buf(),
            source: e.into(),
        })?;
        if entry.file_type().is_file() {
            let name = entry.file_name().to_string_lossy().into_owned();
            out.push((entry.into_path(), name));
        }
    }
    Ok(out)
}
