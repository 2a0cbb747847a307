//! The console's wire types: what the server sends and every client (the page, `rollcall ctl`,
//! the demo, the tests) reads, Serialize and Deserialize on both ends. Requests are
//! [`session::Command`] (`POST /api/command`) and [`tether::control`]'s for the camera.
//!
//! - `GET /api/state`, and each `view` event of `GET /api/events`: [`View`], bounded by the
//!   current class;
//! - `GET /api/make-up`: [`MakeUpList`], the whole school's, asked for when
//!   [`View::make_up_rev`] changes;
//! - `POST /api/command`: [`Recorded`], or [`Failure`] with 409 (refused) / 503 (not recorded);
//! - `GET /api/search?q=`: a list of [`Found`];
//! - `GET /api/camera`: [`tether::Status`]; `POST /api/trigger`: [`Done`] or [`Failure`];
//! - `<DATA>/console.json`: [`ConsoleInfo`], where a running console is reached;
//! - `GET /api/office` and `<DATA>/office.json` (written by the kit's office sync):
//!   [`OfficeSync`], 404 when the kit reports to no office.

use serde::{Deserialize, Serialize};
use session::event::Line;
use session::reload::RosterDiff;
use session::runner::Rejected;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Person {
    pub key: String,
    pub name: String,
    pub class: String,
    pub row: u32,
    /// Masked ID.
    pub id: String,
    pub takes: usize,
}

/// Where the last frame is: still being processed, or its verdict.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    Processing,
    Pass,
    Fail,
    Error,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Last {
    pub frame: u64,
    /// The student it went to (`None`: unassigned).
    pub student: Option<String>,
    pub verdict: Verdict,
    pub reasons: Vec<String>,
    pub failed: Vec<String>,
    pub photo: bool,
    pub accepted: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Row {
    pub key: String,
    pub row: u32,
    pub name: String,
    pub id: String,
    pub standing: session::Standing,
    pub standing_zh: String,
    pub takes: usize,
    pub next: bool,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Progress {
    pub done: usize,
    pub total: usize,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct View {
    /// The journal line the view reflects; grows with every change.
    pub seq: u64,
    pub school: String,
    pub class: Option<String>,
    pub classes: Vec<String>,
    pub next: Option<Person>,
    pub then: Option<Person>,
    pub last: Option<Last>,
    /// The next student already has more frames than the shot limit.
    pub shot_limit_hit: bool,
    pub shot_limit: usize,
    pub students: Vec<Row>,
    pub class_progress: Progress,
    pub school_progress: Progress,
    /// How many students of the school are on the make-up list.
    pub make_up_count: usize,
    /// Changes whenever the make-up list does: then `GET /api/make-up` has the list.
    pub make_up_rev: u64,
    pub frames: usize,
    /// The last undoable action (for the undo button's title).
    pub can_undo: Option<String>,
    /// The data disk's free space and the current problems (filing retried, frames set aside).
    pub health: session::engine::Health,
    /// Faces that contradict the list, newest first (the banner shows the first): names,
    /// frames, the similarity and the two answers — never a descriptor.
    pub faces: Vec<session::FaceWarning>,
}

/// The school's make-up list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MakeUpList {
    /// The journal line it reflects.
    pub seq: u64,
    /// The same as [`View::make_up_rev`] for the same list.
    pub rev: u64,
    pub make_up: Vec<session::status::MakeUp>,
}

/// A command was recorded: its journal line (and, for a reload, what changed).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Recorded {
    pub ok: bool,
    pub line: Line,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub diff: Option<RosterDiff>,
}

/// An action without a journal line succeeded (the shutter was pressed).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Done {
    pub ok: bool,
}

/// Why a request was not served: the message in both languages, and `refused` when the state
/// did not allow the command (as opposed to a failure to record it).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Failure {
    pub error: Rejected,
}

/// One student found by the search box.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Found {
    pub key: String,
    pub name: String,
    pub class: String,
    pub row: u32,
    /// Masked ID.
    pub id: String,
    /// In Chinese (待拍, 已拍…).
    pub standing: String,
}

/// Where a running console is reached (`<DATA>/console.json`, owner-only).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConsoleInfo {
    /// The address to open in a browser (with the token when one is needed).
    pub url: String,
    /// The address without the token.
    pub base: String,
    pub token: Option<String>,
}

/// The kit's last report to the coordinator's office (`<DATA>/office.json`, written after every
/// sync by `kit::sync`; the console shows it in its header).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OfficeSync {
    /// The office's address.
    pub url: String,
    /// When the kit last tried.
    pub tried_at: String,
    /// When a sync last went through (RFC 3339), if ever.
    pub synced_at: Option<String>,
    /// Why the last try failed (`None`: it went through).
    pub error: Option<bilingual::Text>,
}

/// Where [`OfficeSync`] is kept in a data folder.
pub const OFFICE_SYNC_FILE: &str = "office.json";
