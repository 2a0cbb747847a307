//! The office's wire format: what kits send and what the office answers, and the city view
//! the coordinator's page and `rollcall office status --json` read. One definition, serde on
//! both ends (the server here, the kit's client in `kit::sync`, the tests).
//!
//! The kit's protocol, all with `Authorization: Bearer <kit token>`:
//!
//! ```text
//! GET  /api/kit/cursor        -> Cursor           what the office already holds of this kit
//! POST /api/kit/lines         Lines -> Accepted   one school's next journal lines, in order
//! POST /api/kit/submissions   Vec<Submission> -> Accepted (through = how many were new)
//! POST /api/kit/status        KitStatus -> Accepted
//! POST /api/kit/pack          zip bytes, header x-rollcall-sha256 -> Accepted
//! ```
//!
//! Idempotent: the key of a line is (kit, school, seq); a line the office has is skipped, a gap
//! is refused with the office's cursor ([`Refusal::Gap`]) so the kit resends from there.

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

/// The most lines one request may carry (a day of a busy kit is ~5,000).
pub const MAX_LINES: usize = 5_000;

/// The header carrying an uploaded pack's SHA-256 (hex).
pub const SHA256_HEADER: &str = "x-rollcall-sha256";

/// A line as the office keeps it, in 64 hex digits: SHA-256 of its JSON without the face
/// descriptor. The same on both ends (the kit's journal, the office's copy).
pub fn fingerprint(line: &session::Line) -> String {
    fingerprint_text(&serde_json::to_string(&line.redacted()).unwrap_or_default())
}

/// [`fingerprint`] of a line already in that JSON form (the office keeps its lines so: they
/// arrive without descriptors and are written with `serde_json::to_string`).
pub fn fingerprint_text(text: &str) -> String {
    use sha2::{Digest, Sha256};
    format!("{:x}", Sha256::digest(text.as_bytes()))
}

/// What the office holds of the asking kit.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Cursor {
    /// The kit's name as the office knows it.
    pub kit: String,
    /// Per school: the last journal line the office has (0: none).
    pub schools: BTreeMap<String, u64>,
    /// Per school: the [`fingerprint`] of that line, so a kit whose journal is not the one the
    /// office has (a data folder replaced or restored from an old copy) finds out.
    #[serde(default)]
    pub last: BTreeMap<String, String>,
    /// SHA-256 of every submission (zip) the office has in the kit's ledger.
    pub submissions: Vec<String>,
    /// SHA-256 of every pack uploaded.
    pub packs: Vec<String>,
}

/// One school's next journal lines. Redacted (`session::Line::redacted`): the office refuses a
/// line that carries a face descriptor.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Lines {
    pub school: String,
    pub lines: Vec<session::Line>,
}

/// The office took a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Accepted {
    /// Lines: the last line the office now has for the school. Submissions: how many were
    /// new. Status and packs: 1.
    pub through: u64,
}

/// Why the office did not take a request (the body of every 4xx/5xx answer).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "refusal", rename_all = "snake_case")]
pub enum Refusal {
    /// The lines do not follow what the office has: resend from `through + 1`.
    Gap { school: String, through: u64 },
    /// A line the journal of this school would not accept (the office replays every line with
    /// the kit's own state machine before keeping it).
    Invalid { zh: String, en: String },
    /// No token, an unknown token, or a revoked one.
    Unauthorized { zh: String, en: String },
    /// The request is not allowed for this token (a kit reading the city, a coordinator
    /// sending lines), or from this host.
    Forbidden { zh: String, en: String },
    /// The database is not reachable or failed; try again later.
    Unavailable { zh: String, en: String },
}

/// What a kit says of itself on each sync.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct KitStatus {
    /// rollcall's version on the kit.
    pub version: String,
    /// When the kit made this snapshot.
    pub at: Option<DateTime<Utc>>,
    /// The school being photographed now, if any.
    pub school: Option<String>,
    /// Free space under the data folder, bytes.
    pub free_bytes: Option<u64>,
    /// Schools whose lines the office refused at this sync, and why.
    #[serde(default)]
    pub refused: Vec<SchoolRefused>,
}

/// A school whose journal the office would not take.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SchoolRefused {
    pub school: String,
    pub refusal: Refusal,
}

/// The coordinator's view of the city: `GET /api/city`, `rollcall office status --json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct City {
    pub at: DateTime<Utc>,
    pub teams: Vec<Team>,
    pub schools: Vec<SchoolRow>,
    /// The same ID number on more than one school's roster, city-wide: each ID once (the first
    /// `query::MAX_LISTED` by ID).
    pub duplicates: Vec<Duplicate>,
    /// How many IDs are on more than one roster.
    pub duplicates_total: u64,
    /// Roster rows whose ID number or name is still wrong (no file name can be made), the first
    /// `query::MAX_LISTED` by school, class and row.
    pub problems: Vec<Problem>,
    pub problems_total: u64,
    /// What is due by the city's schedule, and what was submitted.
    pub due: Vec<Due>,
}

/// Counts of students by where they stand.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Counts {
    pub students: u64,
    pub photographed: u64,
    pub retake: u64,
    pub absent: u64,
    pub to_come: u64,
    pub no_photo: u64,
}

impl Counts {
    /// A school's counts as the session states them (`session::status`, the kit's own).
    pub fn of(status: &session::status::Status) -> Counts {
        let mut c = Counts::default();
        for class in &status.classes {
            c.add(&Counts {
                students: class.students as u64,
                photographed: class.photographed as u64,
                retake: class.failed as u64,
                absent: class.absent as u64,
                to_come: class.remaining as u64,
                no_photo: class.no_photo_needed as u64,
            });
        }
        c
    }

    pub fn add(&mut self, other: &Counts) {
        self.students += other.students;
        self.photographed += other.photographed;
        self.retake += other.retake;
        self.absent += other.absent;
        self.to_come += other.to_come;
        self.no_photo += other.no_photo;
    }
}

/// One team (工作小组) and its kits.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Team {
    pub team: String,
    pub kits: Vec<KitRow>,
    pub counts: Counts,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct KitRow {
    pub kit: String,
    pub last_sync: Option<DateTime<Utc>>,
    pub status: Option<KitStatus>,
    pub schools: u64,
    pub counts: Counts,
    pub revoked: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SchoolRow {
    pub school: String,
    pub kit: String,
    pub team: String,
    pub counts: Counts,
    /// Journal lines the office has.
    pub lines: u64,
    pub frames: u64,
    /// The last line's time on the kit.
    pub last_line_at: Option<DateTime<Utc>>,
    pub synced_at: Option<DateTime<Utc>>,
    /// Nobody left on the make-up list since this day.
    pub completed_on: Option<NaiveDate>,
    /// The last zip submitted (date), and whether it was complete.
    pub submitted: Option<NaiveDate>,
    pub submitted_complete: bool,
}

/// One student on a school's make-up list (补拍名单): `GET /api/school?kit=…&school=…`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MakeUp {
    pub class: String,
    pub row: u32,
    pub name: String,
    /// Masked.
    pub id: String,
    /// 待拍 / 需重拍 / 缺席 (`session::Standing`).
    pub standing: session::Standing,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SchoolDetail {
    pub school: String,
    pub kit: String,
    pub make_up: Vec<MakeUp>,
}

/// One ID number on several rosters.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Duplicate {
    /// Masked.
    pub id: String,
    pub places: Vec<Place>,
}

/// Where a student is on a roster.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Place {
    pub school: String,
    pub kit: String,
    pub class: String,
    pub name: String,
    pub standing: session::Standing,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Problem {
    pub school: String,
    pub kit: String,
    pub class: String,
    pub row: u32,
    pub name: String,
    /// The ID as written, masked.
    pub id: String,
}

/// One submission due by the schedule (`export::plan`), city-wide.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Due {
    pub due: NaiveDate,
    /// `daily` or `weekly`.
    pub kind: String,
    pub covers: NaiveDate,
    pub schools: Vec<DueSchool>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DueSchool {
    pub school: String,
    pub submitted: bool,
}

impl std::fmt::Display for Refusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Refusal::Gap { school, through } => write!(
                f,
                "the office has lines of {school} up to {through} only: resend from {}",
                through + 1
            ),
            Refusal::Invalid { zh, en }
            | Refusal::Unauthorized { zh, en }
            | Refusal::Forbidden { zh, en }
            | Refusal::Unavailable { zh, en } => write!(f, "{zh} / {en}"),
        }
    }
}
