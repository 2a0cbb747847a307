//! The journal's vocabulary: every event a session records, one JSON object per line.
//!
//! Events say what happened, including decisions (which student a frame was given to), so a
//! replay does not depend on how a later version would decide. The format is versioned by
//! [`VERSION`] on every line; a reader refuses lines from a newer version rather than guess.

use serde::{Deserialize, Serialize};

/// Version written on every line. 2: `processed` lines carry the face descriptor, and the
/// events `different_people` and `same_person` exist (a version-1 journal reads unchanged).
pub const VERSION: u32 = 2;

/// A frame's number within its session: 1, 2, 3 … in arrival order.
pub type FrameId = u64;

/// One journal line.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Line {
    pub v: u32,
    /// 1-based position in the journal; [`Event::Undone`] names events by it.
    pub seq: u64,
    /// UTC time of recording (RFC 3339). Informational; replay never reads it.
    pub at: String,
    #[serde(flatten)]
    pub event: Event,
}

impl Line {
    /// The line as it may leave the data folder (printed by `--json`, shown anywhere): the
    /// same, without the face descriptor.
    pub fn redacted(&self) -> Line {
        let mut line = self.clone();
        if let Event::Processed { face, .. } = &mut line.event {
            *face = None;
        }
        line
    }

    /// The UTC day the line was recorded (`None` if `at` is not RFC 3339: informational only).
    pub fn day(&self) -> Option<chrono::NaiveDate> {
        chrono::DateTime::parse_from_rfc3339(&self.at)
            .ok()
            .map(|t| t.naive_utc().date())
    }
}

/// One roster row as the session needs it: enough to queue, show and name the photo. Copied
/// into the journal so that a replay does not depend on the Excel file, which keeps changing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StudentRecord {
    /// The roster's stable student key (see `roster::Student::key`).
    pub key: String,
    pub class: String,
    /// Row in the roster file (0 for a walk-in).
    pub row: u32,
    /// The checked ID number; `None` while the roster row has an error, so no file name can be
    /// made yet.
    pub id_number: Option<String>,
    /// The ID as written, whatever its state.
    pub id_text: String,
    pub name: String,
    pub photo_required: bool,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub walk_in: bool,
}

impl StudentRecord {
    /// From a checked roster row.
    pub fn from_roster(s: &roster::Student) -> StudentRecord {
        StudentRecord {
            key: s.key.clone(),
            class: s.class.clone(),
            row: s.row,
            id_number: if s.is_ready() {
                s.id_number.clone()
            } else {
                None
            },
            id_text: s.id_text.clone(),
            name: s.name.clone(),
            photo_required: s.photo_required,
            walk_in: false,
        }
    }
}

/// What the pipeline made of a frame.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Outcome {
    pub verdict: OutcomeVerdict,
    /// Messages of the failed checks, or the reason the frame could not be read.
    pub reasons: Vec<String>,
    /// A photo was made (also for a failed check): it can be accepted anyway.
    pub photo: bool,
    pub quality: Option<u8>,
    /// Names of the failed checks.
    #[serde(default)]
    pub failed: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum OutcomeVerdict {
    Pass,
    Fail,
    Error,
}

impl Outcome {
    /// From the pipeline's answer.
    pub fn from_report(result: &Result<pipeline::Report, pipeline::PipelineError>) -> Outcome {
        match result {
            Ok(r) => Outcome {
                verdict: match r.verdict {
                    pipeline::Verdict::Pass => OutcomeVerdict::Pass,
                    pipeline::Verdict::Fail => OutcomeVerdict::Fail,
                },
                reasons: r.reasons(),
                photo: r.photo.is_some(),
                quality: r.quality,
                failed: r
                    .checks
                    .iter()
                    .filter(|c| !c.ok)
                    .map(|c| c.name.to_string())
                    .collect(),
            },
            Err(e) => Outcome {
                verdict: OutcomeVerdict::Error,
                reasons: vec![format!("{}（{e}）", e.zh())],
                photo: false,
                quality: None,
                failed: Vec::new(),
            },
        }
    }
}

/// One frame moved from one student to another (`None`: unassigned).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Move {
    pub frame: FrameId,
    pub from: Option<String>,
    pub to: Option<String>,
}

/// Everything a session records.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum Event {
    /// First line of every journal.
    Opened {
        school: String,
        /// Between ID number and name in photo file names (`-` by default).
        separator: String,
    },
    /// The roster, first or reloaded: the full list in roster order. A reload keeps every
    /// take; rows that disappeared are kept as removed.
    RosterLoaded {
        sources: Vec<String>,
        students: Vec<StudentRecord>,
    },
    /// A frame was stored under `originals/` and given to `student` (the cursor at that
    /// moment; `None` when no class is chosen or the frame is RAW).
    FrameArrived {
        frame: FrameId,
        /// SHA-256 of the bytes, hex.
        hash: String,
        /// Lower-case extension of the stored original.
        ext: String,
        size: u64,
        /// Name of the spool file it came from (for the operator; never used to name files).
        source: String,
        student: Option<String>,
    },
    Processed {
        frame: FrameId,
        outcome: Outcome,
        /// The face's descriptor ([`pipeline::identity`]), whenever one face was measured:
        /// recorded so a replay never recomputes it. Stays in the journal (the data folder);
        /// never logged, packed or sent to the console.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        face: Option<pipeline::identity::Embedding>,
    },
    /// The operator chose a class: the cursor goes to its first student who needs a photo.
    ClassChosen { class: String },
    /// The student is absent (缺席): on the make-up list, the cursor moves on.
    Skipped { student: String },
    /// The student's chosen photo is rejected (e.g. eyes closed); the cursor returns to them.
    Retake { student: String },
    /// A take that failed a check is used anyway.
    AcceptedAnyway { frame: FrameId, reason: String },
    /// Frames given to other students (shift, or assigning an unassigned frame).
    Reassigned { moves: Vec<Move> },
    /// The cursor was put on a student.
    Jumped { student: String },
    /// A walk-in student who is not on the roster.
    StudentAdded { student: StudentRecord },
    /// The operator prefers this take for its student.
    TakeChosen { frame: FrameId },
    /// The student needs no photo (or needs one again).
    PhotoNeeded { student: String, needed: bool },
    /// The operator looked at two students whose photos look alike and says they are two
    /// people (twins): no more warnings for the pair, and `verify` lets it pass.
    DifferentPeople {
        /// The two student keys.
        students: [String; 2],
    },
    /// The operator says a take that does not look like the student's earlier takes is the
    /// student after all.
    SamePerson { frame: FrameId },
    /// The event at `target` is undone.
    Undone { target: u64 },
}

impl Event {
    /// Operator actions and assignments can be undone; facts (arrival as such, processing
    /// results, roster loads) cannot.
    pub fn is_undoable(&self) -> bool {
        match self {
            Event::Opened { .. }
            | Event::RosterLoaded { .. }
            | Event::Processed { .. }
            | Event::Undone { .. } => false,
            Event::FrameArrived { student, .. } => student.is_some(),
            _ => true,
        }
    }
}
