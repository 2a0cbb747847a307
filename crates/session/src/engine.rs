//! The imperative shell around [`State`]: one school's session with its journal and its files.
//!
//! Every change goes the same way: make the journal line, apply it to the state (which refuses
//! it without change if it is wrong), store any bytes it names, fsync the line, then bring the
//! folders in line ([`Filer::sync`]). If writing fails after the state changed, the state is
//! read back from the journal, so memory never runs ahead of disk.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use bilingual::Text;
use sha2::{Digest, Sha256};

use crate::command::{Command, Resolved};
use crate::event::{Event, FrameId, Line, Outcome, StudentRecord};
use crate::filing::{Filer, FilingError, SyncReport};
use crate::journal::{Journal, JournalError};
use crate::layout::{self, Layout};
use crate::reload::{self, RosterDiff};
use crate::state::{Refusal, State};

#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    #[error(transparent)]
    Journal(#[from] JournalError),
    #[error(transparent)]
    Filing(#[from] FilingError),
    #[error("{0}")]
    Refused(#[from] Refusal),
    #[error("{}", crate::layout::io_en(path, source))]
    Io {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error("no session in {0}: start one with `rollcall session start`")]
    NoSession(PathBuf),
    #[error("several schools have sessions in {data} ({schools}): name one with --school")]
    WhichSchool { data: PathBuf, schools: String },
    #[error("school {school} is not in the roster (it has: {have})")]
    SchoolNotInRoster { school: String, have: String },
    #[error("the roster holds several schools ({0}): name one with --school")]
    SeveralSchools(String),
    #[error("{path} is the journal of school {school}, in another school's folder: move it back")]
    WrongFolder { path: PathBuf, school: String },
}

impl EngineError {
    /// For the operator, in both languages.
    pub fn text(&self) -> Text {
        Text::new(self.zh(), roster::id::mask_all(&self.to_string()))
    }

    /// For the operator, in Chinese.
    pub fn zh(&self) -> String {
        match self {
            EngineError::Journal(e) => e.zh(),
            EngineError::Filing(e) => layout::io_zh(&e.path, &e.source),
            EngineError::Refused(r) => r.zh(),
            EngineError::Io { path, source } => layout::io_zh(path, source),
            EngineError::NoSession(d) => {
                format!(
                    "{} 中还没有拍摄会话，请先运行 rollcall session start",
                    d.display()
                )
            }
            EngineError::WhichSchool { schools, .. } => {
                format!("有多个学校的会话（{schools}），请用 --school 指定")
            }
            EngineError::SchoolNotInRoster { school, have } => {
                format!("名册中没有学校“{school}”（名册中有：{have}）")
            }
            EngineError::SeveralSchools(s) => {
                format!("名册中有多个学校（{s}），请用 --school 指定")
            }
            EngineError::WrongFolder { path, school } => format!(
                "{} 是学校“{school}”的拍摄日志，却在另一个学校的文件夹中：请把它移回原处",
                path.display()
            ),
        }
    }
}

/// Settings that are not part of the journal.
#[derive(Debug, Clone)]
pub struct Settings {
    /// More frames than this for one student raise a warning (the queue and the list have
    /// probably drifted apart).
    pub shot_limit: usize,
    /// Below this many free bytes on the data disk the console warns loudly and the camera
    /// keeps its frames (the default: about 200 frames of a 24 MP camera).
    pub low_space_bytes: u64,
}

/// The default of [`Settings::low_space_bytes`]: 200 frames of ~10 MB.
pub const LOW_SPACE_BYTES: u64 = 2_000_000_000;

impl Default for Settings {
    fn default() -> Self {
        Settings {
            shot_limit: 4,
            low_space_bytes: LOW_SPACE_BYTES,
        }
    }
}

/// Something the operator must know that is not a journal event: the data disk, filing that
/// waits for a retry, frames set aside. Shown by the console and `session status`.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Health {
    /// Free bytes on the data folder's disk (`None`: could not be read).
    pub free_bytes: Option<u64>,
    /// Free space is below [`Settings::low_space_bytes`].
    pub low_space: bool,
    pub low_space_bytes: u64,
    /// Current problems, oldest first; each clears itself when its cause is gone.
    pub problems: Vec<Problem>,
}

/// One current problem, in both languages.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Problem {
    pub kind: ProblemKind,
    /// `zh` and `en` beside `kind` in the JSON.
    #[serde(flatten)]
    pub text: Text,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ProblemKind {
    /// `output/` or `originals/` could not be brought in line with the journal; retried.
    Filing,
    /// A frame could not be taken in from the spool; retried.
    Ingest,
    /// A frame's verdict could not be recorded; retried.
    Record,
    /// A spool file that is not a frame was set aside.
    SetAside,
}

/// What happened to a spool file.
#[derive(Debug, Clone, PartialEq)]
pub enum Ingested {
    /// A new frame, given to this student (index into `State::students`).
    Arrived {
        frame: FrameId,
        student: Option<usize>,
        /// The student now has more takes than the shot limit.
        over_limit: bool,
        /// The journal line that recorded it.
        line: Line,
    },
    /// The same bytes arrived before as this frame; the spool copy was removed.
    Duplicate { of: FrameId },
    /// The file disappeared before it could be read.
    Gone,
}

/// One school's open session.
#[derive(Debug)]
pub struct Engine {
    layout: Layout,
    journal: Journal,
    state: State,
    filer: Filer,
    pub settings: Settings,
    problems: Vec<Problem>,
}

impl Engine {
    /// Starts a session for one school of a loaded roster.
    pub fn create(
        data: &Path,
        roster: &roster::Roster,
        school: Option<&str>,
        sources: Vec<String>,
        separator: &str,
    ) -> Result<Engine, EngineError> {
        let (name, students) = pick_school(roster, school)?;
        // Refused before anything is written: a journal that could not be opened again.
        crate::state::session_problem(&name, separator)?;
        let layout = Layout::new(data);
        layout::create_private_dir(data).map_err(|source| EngineError::Io {
            path: data.to_path_buf(),
            source,
        })?;
        let created = Journal::create(&layout.journal(&name), &name, separator)?;
        let filer = Filer::open(&layout, &name)?;
        let mut engine = Engine {
            layout,
            journal: created.journal,
            state: created.state,
            filer,
            settings: Settings::default(),
            problems: Vec::new(),
        };
        engine.commit(Event::RosterLoaded { sources, students })?;
        Ok(engine)
    }

    /// Opens the session of `school`, or the only one when `None`. Finishes any filing a crash
    /// interrupted; filing that fails now (a full disk) does not stop the session from opening:
    /// it is reported in [`Engine::health`] and retried ([`Engine::retry_filing`]).
    pub fn open(data: &Path, school: Option<&str>) -> Result<(Engine, SyncReport), EngineError> {
        let layout = Layout::new(data);
        let school = resolve_school(&layout, school)?;
        let path = layout.journal(&school);
        let replayed = Journal::open(&path)?;
        if let Some(torn) = &replayed.torn {
            tracing::warn!(
                bytes = torn.len(),
                "the journal's last line was torn by a crash and has been cut off"
            );
        }
        // A journal copied into another school's folder would act on that school's files.
        let folder = path
            .parent()
            .and_then(Path::file_name)
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        if layout::path_part(&replayed.state.school) != folder {
            return Err(EngineError::WrongFolder {
                path,
                school: replayed.state.school.clone(),
            });
        }
        let filer = Filer::open(&layout, &replayed.state.school)?;
        let mut engine = Engine {
            layout,
            journal: replayed.journal,
            state: replayed.state,
            filer,
            settings: Settings::default(),
            problems: Vec::new(),
        };
        let report = engine.sync();
        Ok((engine, report))
    }

    pub fn state(&self) -> &State {
        &self.state
    }

    pub fn layout(&self) -> &Layout {
        &self.layout
    }

    pub fn school(&self) -> &str {
        &self.state.school
    }

    /// Where a frame's original is stored.
    pub fn original(&self, frame: FrameId) -> Option<&Path> {
        self.filer.original(frame)
    }

    /// Records an event: validate, fsync, file. Returns the line and what the filing did. A
    /// refused event or a failed journal write changes nothing (the state is as before, the
    /// journal cut back to its last line). Once the line is written the event has happened:
    /// filing that fails then (a full disk) is not an error of the command — it is kept in
    /// [`Engine::health`] and retried.
    pub fn commit(&mut self, event: Event) -> Result<(Line, SyncReport), EngineError> {
        let line = self.journal.line(event);
        self.state.apply(&line)?;
        if let Err(e) = self.journal.write(&line) {
            self.reread();
            return Err(e.into());
        }
        let report = self.sync();
        Ok((line, report))
    }

    /// Brings the folders in line with the state; a failure is kept as a problem (and cleared
    /// by the next sync that succeeds).
    fn sync(&mut self) -> SyncReport {
        match self.filer.sync(&self.state) {
            Ok(report) => {
                self.clear_problem(ProblemKind::Filing);
                report
            }
            Err(e) => {
                tracing::warn!(error = %e, "filing failed; it is retried");
                self.set_problem(
                    ProblemKind::Filing,
                    format!(
                        "照片归档未完成，正在重试：{}",
                        layout::io_zh(&e.path, &e.source)
                    ),
                    format!("filing is incomplete and is retried: {e}"),
                );
                SyncReport::default()
            }
        }
    }

    /// Retries filing that failed earlier; true when nothing is left to retry.
    pub fn retry_filing(&mut self) -> bool {
        if self.has_problem(ProblemKind::Filing) {
            self.sync();
        }
        !self.has_problem(ProblemKind::Filing)
    }

    /// Notes a current problem of a kind (replacing an earlier one of that kind).
    pub fn set_problem(&mut self, kind: ProblemKind, zh: String, en: String) {
        let problem = Problem {
            kind,
            text: Text::new(roster::id::mask_all(&zh), roster::id::mask_all(&en)),
        };
        match self.problems.iter_mut().find(|p| p.kind == kind) {
            Some(p) => *p = problem,
            None => self.problems.push(problem),
        }
    }

    pub fn clear_problem(&mut self, kind: ProblemKind) {
        self.problems.retain(|p| p.kind != kind);
    }

    pub fn has_problem(&self, kind: ProblemKind) -> bool {
        self.problems.iter().any(|p| p.kind == kind)
    }

    /// The data disk and the current problems.
    pub fn health(&self) -> Health {
        let free_bytes = durable::free_space(&self.layout.data).ok();
        Health {
            free_bytes,
            low_space: free_bytes.is_some_and(|f| f < self.settings.low_space_bytes),
            low_space_bytes: self.settings.low_space_bytes,
            problems: self.problems.clone(),
        }
    }

    /// Takes one spool file in: hash, store under `originals/`, journal, then remove it from
    /// the spool. The caller must only call this when [`State::assignment_pending`] is false,
    /// so that every frame sees the cursor its predecessor left.
    pub fn ingest(&mut self, path: &Path) -> Result<Ingested, EngineError> {
        let bytes = match fs::read(path) {
            Ok(b) => b,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Ingested::Gone),
            Err(source) => {
                return Err(EngineError::Io {
                    path: path.to_path_buf(),
                    source,
                });
            }
        };
        let hash = format!("{:x}", Sha256::digest(&bytes));
        if let Some(of) = self.state.frame_by_hash(&hash) {
            if self.filer.original(of).is_none() {
                // Journaled but its original is gone: store these bytes again before removal.
                self.filer.store_original(&self.state, of, &bytes)?;
            }
            remove_from_spool(path)?;
            tracing::info!(frame = of, "the same bytes arrived again; kept once");
            return Ok(Ingested::Duplicate { of });
        }
        let ext = extension(path);
        // RAW frames are stored, never assigned (their JPEG twin is).
        let student = if durable::names::is_raw_extension(&ext) {
            None
        } else {
            self.state.assignee()
        };
        let frame = self.state.frames.len() as FrameId + 1;
        let line = self.journal.line(Event::FrameArrived {
            frame,
            hash,
            ext,
            size: bytes.len() as u64,
            source: path
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default(),
            student: student.map(|s| self.state.students[s].rec.key.clone()),
        });
        self.state.apply(&line)?;
        // Invariant 1: the bytes are safe under originals/ before the journal names them, and
        // the spool copy goes only after both.
        let stored = self
            .filer
            .store_original(&self.state, frame, &bytes)
            .map_err(EngineError::from)
            .and_then(|_| self.journal.write(&line).map_err(EngineError::from));
        if let Err(e) = stored {
            self.reread();
            return Err(e);
        }
        // The frame is recorded: a spool copy that cannot be removed now is found again later
        // and known by its hash.
        if let Err(e) = remove_from_spool(path) {
            tracing::warn!(error = %e, "a stored frame stays in the spool for now");
        }
        let over_limit =
            student.is_some_and(|s| self.state.students[s].takes.len() > self.settings.shot_limit);
        if over_limit {
            tracing::warn!(
                frame,
                limit = self.settings.shot_limit,
                "one student has more frames than the shot limit: has the queue drifted from the list?"
            );
        }
        Ok(Ingested::Arrived {
            frame,
            student,
            over_limit,
            line,
        })
    }

    /// Records the pipeline's answer for a frame, caching its photo first.
    pub fn record(
        &mut self,
        frame: FrameId,
        result: &Result<pipeline::Report, pipeline::PipelineError>,
    ) -> Result<(Line, SyncReport), EngineError> {
        if let Ok(report) = result {
            if let Some(photo) = &report.photo {
                self.cache_photo(frame, photo)?;
            }
            if let Some(preview) = &report.preview {
                self.cache_preview(frame, preview);
            }
        }
        self.commit(Event::Processed {
            frame,
            outcome: Outcome::from_report(result),
            face: result.as_ref().ok().and_then(|r| r.identity.clone()),
        })
    }

    /// Reloads the roster (the team fixed the Excel): the diff, recorded and applied in one
    /// step; filed photos are renamed by the same commit. Returns the diff and the line.
    pub fn reload(
        &mut self,
        roster: &roster::Roster,
        sources: Vec<String>,
    ) -> Result<(RosterDiff, Line), EngineError> {
        let (_, students) = pick_school(roster, Some(&self.state.school.clone()))?;
        let diff = reload::diff(&self.state, &students);
        let (line, _) = self.commit(Event::RosterLoaded { sources, students })?;
        Ok((diff, line))
    }

    /// Resolves an operator command against this session's state and commits its event, in
    /// one step (nothing can change the state in between). `today` dates a walk-in's ID check.
    /// A reload needs the roster files read first: see [`Engine::reload`].
    pub fn execute(
        &mut self,
        command: &Command,
        today: chrono::NaiveDate,
    ) -> Result<(Line, SyncReport), EngineError> {
        match self.state.resolve_command(command, today)? {
            Resolved::Event(event) => self.commit(event),
            Resolved::Reload => Err(Refusal::ReloadElsewhere.into()),
        }
    }

    /// Undoes the last undoable event.
    pub fn undo(&mut self) -> Result<(Line, SyncReport), EngineError> {
        let (target, _) = self.state.last_undoable().ok_or(Refusal::NothingToUndo)?;
        self.commit(Event::Undone { target })
    }

    /// Regenerates `output/` from the journal and `originals/`: every chosen photo is taken
    /// from the cache, or made again from its original when missing (always with
    /// `reprocess`).
    pub fn rebuild(
        &mut self,
        profile: &pipeline::Profile,
        reprocess: bool,
    ) -> Result<SyncReport, EngineError> {
        let mut filer = Filer::open(&self.layout, &self.state.school)?;
        if reprocess {
            for (_, _, frame) in self.state.desired_output() {
                self.reprocess(&filer, frame, profile)?;
            }
        }
        let mut report = filer.sync(&self.state)?;
        if !report.missing_photos.is_empty() {
            for &frame in &report.missing_photos {
                self.reprocess(&filer, frame, profile)?;
            }
            let again = filer.sync(&self.state)?;
            report.photos_written += again.photos_written;
            report.missing_photos = again.missing_photos;
        }
        self.filer = filer;
        Ok(report)
    }

    fn reprocess(
        &self,
        filer: &Filer,
        frame: FrameId,
        profile: &pipeline::Profile,
    ) -> Result<(), EngineError> {
        let Some(original) = filer.original(frame) else {
            return Ok(());
        };
        let bytes = fs::read(original).map_err(|source| EngineError::Io {
            path: original.to_path_buf(),
            source,
        })?;
        if let Ok(report) = pipeline::process(&bytes, profile) {
            if let Some(photo) = &report.photo {
                self.cache_photo(frame, photo)?;
            }
            if let Some(preview) = &report.preview {
                self.cache_preview(frame, preview);
            }
        }
        Ok(())
    }

    /// Keeps a frame's processed photo in `photos/` (the cache `output/` is filled from).
    fn cache_photo(&self, frame: FrameId, photo: &[u8]) -> Result<(), EngineError> {
        let path = self.layout.photo(&self.state.school, frame);
        layout::write_atomic(&path, photo).map_err(|source| EngineError::Io { path, source })
    }

    /// Keeps a failed frame's picture for the console. Only a screen aid: a failed write (a
    /// full disk) is logged and the session goes on.
    fn cache_preview(&self, frame: FrameId, preview: &[u8]) {
        let path = self.layout.preview(&self.state.school, frame);
        if let Err(error) = layout::write_atomic(&path, preview) {
            tracing::warn!(frame, %error, "the failed frame's picture for the console was not written");
        }
    }

    /// Frames waiting for the pipeline and where their originals are, oldest first.
    pub fn unprocessed(&self) -> Vec<(FrameId, PathBuf)> {
        self.state
            .unprocessed()
            .filter_map(|f| Some((f.id, self.filer.original(f.id)?.to_path_buf())))
            .collect()
    }

    /// After a failed write: the state as the journal says (the journal was cut back to its
    /// last good line, so this is the state before the event).
    fn reread(&mut self) {
        match Journal::read(self.journal.path()) {
            Ok(state) => self.state = state,
            Err(e) => tracing::error!(error = %e, "cannot reread the journal"),
        }
    }
}

/// The records of one school of a roster.
fn pick_school(
    roster: &roster::Roster,
    school: Option<&str>,
) -> Result<(String, Vec<StudentRecord>), EngineError> {
    let names = || {
        roster
            .schools
            .iter()
            .map(|s| s.name.as_str())
            .collect::<Vec<_>>()
            .join("、")
    };
    let found = match school {
        Some(name) => roster
            .schools
            .iter()
            .find(|s| s.name == name)
            .ok_or_else(|| EngineError::SchoolNotInRoster {
                school: name.to_string(),
                have: names(),
            })?,
        None => match roster.schools.as_slice() {
            [one] => one,
            [] => return Err(Refusal::EmptyRoster.into()),
            _ => return Err(EngineError::SeveralSchools(names())),
        },
    };
    let students = found.students().map(StudentRecord::from_roster).collect();
    Ok((found.name.clone(), students))
}

/// The session to use: the named one, or the only one.
pub fn resolve_school(layout: &Layout, school: Option<&str>) -> Result<String, EngineError> {
    if let Some(s) = school {
        return Ok(s.to_string());
    }
    let schools = layout.schools().map_err(|source| EngineError::Io {
        path: layout.sessions(),
        source,
    })?;
    match schools.as_slice() {
        [one] => Ok(one.clone()),
        [] => Err(EngineError::NoSession(layout.data.clone())),
        _ => Err(EngineError::WhichSchool {
            data: layout.data.clone(),
            schools: schools.join("、"),
        }),
    }
}

/// Removes a spool file once its bytes are safe, and makes the removal durable.
fn remove_from_spool(path: &Path) -> Result<(), EngineError> {
    let io = |p: &Path| {
        let p = p.to_path_buf();
        move |source| EngineError::Io { path: p, source }
    };
    fs::remove_file(path).map_err(io(path))?;
    if let Some(dir) = path.parent() {
        fs::File::open(dir)
            .and_then(|d| d.sync_all())
            .map_err(io(dir))?;
    }
    Ok(())
}

fn extension(path: &Path) -> String {
    let ext: String = path
        .extension()
        .map(|e| e.to_string_lossy().to_ascii_lowercase())
        .unwrap_or_default()
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .collect();
    if ext.is_empty() { "jpg".into() } else { ext }
}
