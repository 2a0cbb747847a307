//! The session as a pure state machine: [`State::apply`] folds journal lines into the state
//! (here: the checks and the changes, event by event); [`query`] answers questions without
//! changing anything (who is next, where each student stands, what `output/` must hold);
//! [`undo`] keeps and applies the inverses.
//!
//! No files, no clocks, no threads. Every rule about assignment lives here:
//! - a frame goes to the cursor when it arrives; a pass moves the cursor to the next student
//!   of the class who is still waiting, a failure keeps it (a retake is expected);
//! - a student's chosen take is the one the operator chose, else their latest usable take
//!   (passed or accepted anyway, and not rejected by a retake);
//! - every operator action and every assignment can be undone, last first. The inverse is
//!   captured when the event is applied, so replaying the journal rebuilds the undo history too.

use std::collections::HashMap;

use crate::event::{Event, FrameId, Line, Outcome, OutcomeVerdict, StudentRecord, VERSION};

pub use crate::refusal::Refusal;

pub mod faces;
mod query;
mod undo;

use undo::{Inverse, UndoEntry};

/// Where a student stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Standing {
    /// In the queue, no take yet.
    Waiting,
    /// Has takes, none usable: a retake is due.
    Failed,
    /// A take is being processed.
    Processing,
    /// Has a chosen photo.
    Photographed,
    /// Skipped as absent (make-up day).
    Absent,
    /// Needs no photo (kindergarten, or marked).
    NoPhotoNeeded,
    /// No longer on the roster (kept because it has takes).
    Removed,
}

impl Standing {
    pub fn zh(self) -> &'static str {
        match self {
            Standing::Waiting => "待拍",
            Standing::Failed => "需重拍",
            Standing::Processing => "处理中",
            Standing::Photographed => "已拍",
            Standing::Absent => "缺席",
            Standing::NoPhotoNeeded => "无需拍照",
            Standing::Removed => "已从名册删除",
        }
    }

    pub fn en(self) -> &'static str {
        match self {
            Standing::Waiting => "to come",
            Standing::Failed => "retake",
            Standing::Processing => "processing",
            Standing::Photographed => "photographed",
            Standing::Absent => "absent",
            Standing::NoPhotoNeeded => "no photo needed",
            Standing::Removed => "removed from the roster",
        }
    }

    /// The standing in words, both languages.
    pub fn text(self) -> bilingual::Text {
        bilingual::Text::new(self.zh(), self.en())
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct StudentState {
    pub rec: StudentRecord,
    pub removed: bool,
    pub absent: bool,
    /// The operator's override of `rec.photo_required`.
    pub needed: Option<bool>,
    /// The take the operator chose, if any.
    pub chosen: Option<FrameId>,
    /// Frames given to this student, in arrival order.
    pub takes: Vec<FrameId>,
}

impl StudentState {
    pub fn needs_photo(&self) -> bool {
        !self.removed && self.needed.unwrap_or(self.rec.photo_required)
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct FrameState {
    pub id: FrameId,
    pub hash: String,
    pub ext: String,
    pub size: u64,
    pub source: String,
    /// Index into [`State::students`].
    pub owner: Option<usize>,
    pub outcome: Option<Outcome>,
    /// Accepted anyway, with the operator's reason.
    pub accepted: Option<String>,
    /// Rejected by a retake.
    pub rejected: bool,
    /// The face's descriptor, from the `processed` line.
    pub face: Option<pipeline::identity::Embedding>,
    /// The operator confirmed this take shows its student ([`Event::SamePerson`]).
    pub same_person: bool,
}

impl FrameState {
    /// Has a photo that may be filed.
    pub fn usable(&self) -> bool {
        match &self.outcome {
            Some(o) => {
                o.photo
                    && !self.rejected
                    && (o.verdict == OutcomeVerdict::Pass || self.accepted.is_some())
            }
            None => false,
        }
    }
}

/// One school's session, as the journal says.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct State {
    pub school: String,
    pub separator: String,
    pub sources: Vec<String>,
    /// Every student ever on the roster (indices are stable; removed ones stay).
    pub students: Vec<StudentState>,
    /// Roster order of the students on the current roster, walk-ins last.
    order: Vec<usize>,
    /// `order` split by class (derived; rebuilt by [`State::reindex`]).
    by_class: HashMap<String, Vec<usize>>,
    index: HashMap<String, usize>,
    /// Class names in roster order.
    pub classes: Vec<String>,
    pub class: Option<String>,
    pub cursor: Option<usize>,
    /// Frame `n` is `frames[n - 1]`.
    pub frames: Vec<FrameState>,
    hashes: HashMap<String, FrameId>,
    undo: Vec<UndoEntry>,
    /// Pairs of students (indices, smaller first) confirmed to be different people.
    pub different_people: std::collections::BTreeSet<(usize, usize)>,
    /// The last applied line.
    pub seq: u64,
    roster_loaded: bool,
}

impl State {
    /// Applies one journal line: checks it against the state, then changes the state. A
    /// refused line changes nothing.
    pub fn apply(&mut self, line: &Line) -> Result<(), Refusal> {
        if line.v > VERSION {
            return Err(Refusal::Version(line.v));
        }
        if line.seq != self.seq + 1 {
            return Err(Refusal::Sequence {
                expected: self.seq + 1,
                got: line.seq,
            });
        }
        self.apply_event(line.seq, &line.event)?;
        self.seq = line.seq;
        Ok(())
    }

    fn apply_event(&mut self, seq: u64, event: &Event) -> Result<(), Refusal> {
        match event {
            Event::Opened { school, separator } => {
                if seq != 1 {
                    return Err(Refusal::NotOpened);
                }
                session_problem(school, separator)?;
                self.school = school.clone();
                self.separator = separator.clone();
                return Ok(());
            }
            Event::RosterLoaded { sources, students } => {
                if seq == 1 {
                    return Err(Refusal::NotOpened);
                }
                return self.load_roster(sources, students);
            }
            _ if !self.roster_loaded => return Err(Refusal::NotOpened),
            _ => {}
        }
        let cursor = self.cursor;
        let class = self.class.clone();
        let inverse = match event {
            Event::Opened { .. } | Event::RosterLoaded { .. } => return Ok(()),
            Event::FrameArrived {
                frame,
                hash,
                ext,
                size,
                source,
                student,
            } => {
                let expected = self.frames.len() as FrameId + 1;
                if *frame != expected {
                    return Err(Refusal::FrameOrder {
                        expected,
                        got: *frame,
                    });
                }
                if let Some(&f) = self.hashes.get(hash) {
                    return Err(Refusal::Duplicate(*frame, f));
                }
                let owner = student.as_deref().map(|k| self.active(k)).transpose()?;
                self.frames.push(FrameState {
                    id: *frame,
                    hash: hash.clone(),
                    ext: ext.clone(),
                    size: *size,
                    source: source.clone(),
                    owner: None,
                    outcome: None,
                    accepted: None,
                    rejected: false,
                    face: None,
                    same_person: false,
                });
                self.hashes.insert(hash.clone(), *frame);
                let Some(s) = owner else { return Ok(()) };
                let was_absent = std::mem::replace(&mut self.students[s].absent, false);
                self.set_owner(*frame, Some(s));
                Inverse::Assignment {
                    frame: *frame,
                    student: s,
                    was_absent,
                }
            }
            Event::Processed {
                frame,
                outcome,
                face,
            } => {
                let f = self.frame(*frame)?;
                self.frames[f].outcome = Some(outcome.clone());
                self.frames[f].face = face.clone();
                if let Some(o) = self.frames[f].owner {
                    self.advance_if_done(o);
                }
                return Ok(());
            }
            Event::ClassChosen { class: name } => {
                if !self.classes.contains(name) {
                    return Err(Refusal::UnknownClass(name.clone()));
                }
                self.class = Some(name.clone());
                self.cursor = self.first_in_class(name);
                Inverse::Cursor { cursor, class }
            }
            Event::Skipped { student } => {
                let s = self.active(student)?;
                let was_absent = std::mem::replace(&mut self.students[s].absent, true);
                if self.cursor == Some(s) {
                    self.cursor = self.next_waiting(s);
                }
                Inverse::Absent {
                    student: s,
                    was_absent,
                    cursor,
                }
            }
            Event::Retake { student } => {
                let s = self.active(student)?;
                let chosen = self.chosen_take(s);
                if let Some(f) = chosen {
                    self.frames[f as usize - 1].rejected = true;
                }
                self.put_cursor(s);
                Inverse::Rejected {
                    frame: chosen,
                    cursor,
                    class,
                }
            }
            Event::AcceptedAnyway { frame, reason } => {
                let f = self.frame(*frame)?;
                let fs = &self.frames[f];
                let owner = fs.owner.ok_or(Refusal::Unassigned(*frame))?;
                let outcome = fs.outcome.as_ref().ok_or(Refusal::NotProcessed(*frame))?;
                if !outcome.photo {
                    return Err(Refusal::NoPhoto(*frame));
                }
                if fs.usable() {
                    return Err(Refusal::AlreadyPasses(*frame));
                }
                let was_rejected = fs.rejected;
                let was_accepted = self.frames[f].accepted.replace(reason.clone());
                self.frames[f].rejected = false;
                self.advance_if_done(owner);
                Inverse::Accepted {
                    frame: *frame,
                    was_accepted,
                    was_rejected,
                    cursor,
                }
            }
            Event::Reassigned { moves } => {
                let mut resolved = Vec::with_capacity(moves.len());
                for m in moves {
                    let f = self.frame(m.frame)?;
                    let actual = self.frames[f].owner;
                    let from = m.from.as_deref().map(|k| self.student(k)).transpose()?;
                    if actual != from {
                        return Err(Refusal::OwnerMismatch {
                            frame: m.frame,
                            expected: m.from.clone(),
                            actual: actual.map(|s| self.students[s].rec.key.clone()),
                        });
                    }
                    let to = m.to.as_deref().map(|k| self.active(k)).transpose()?;
                    resolved.push((m.frame, from, to));
                }
                let chosen: Vec<(usize, Option<FrameId>)> = resolved
                    .iter()
                    .flat_map(|&(_, from, to)| [from, to])
                    .flatten()
                    .map(|s| (s, self.students[s].chosen))
                    .collect();
                for &(frame, _, to) in &resolved {
                    self.set_owner(frame, to);
                }
                if let Some(&(_, _, Some(to))) = resolved.last() {
                    self.class = Some(self.students[to].rec.class.clone());
                    // The last frame's student is done (by it or an earlier take): the queue
                    // goes on after them; otherwise they are up for a retake.
                    self.cursor = if self.chosen_take(to).is_some() {
                        self.next_waiting(to)
                    } else {
                        Some(to)
                    };
                }
                Inverse::Moves {
                    moves: resolved
                        .iter()
                        .rev()
                        .map(|&(f, from, _)| (f, from))
                        .collect(),
                    chosen,
                    cursor,
                    class,
                }
            }
            Event::Jumped { student } => {
                let s = self.active(student)?;
                self.put_cursor(s);
                Inverse::Cursor { cursor, class }
            }
            Event::StudentAdded { student } => {
                // A walk-in's name passes the name rules even before it has an ID.
                if let Some(finding) = roster::name::check(&student.name).first_error() {
                    return Err(Refusal::InvalidName(finding.text()));
                }
                self.fileable(student)?;
                let (s, revived) = match self.index.get(&student.key) {
                    Some(&s) if !self.students[s].removed => {
                        return Err(Refusal::DuplicateKey(student.key.clone()));
                    }
                    Some(&s) => {
                        let old = std::mem::replace(&mut self.students[s].rec, student.clone());
                        self.students[s].removed = false;
                        (s, Some(old))
                    }
                    None => (self.push_student(student.clone()), None),
                };
                self.order.push(s);
                self.reindex();
                self.put_cursor(s);
                Inverse::Added {
                    student: s,
                    revived,
                    cursor,
                    class,
                }
            }
            Event::TakeChosen { frame } => {
                let f = self.frame(*frame)?;
                let owner = self.frames[f].owner.ok_or(Refusal::Unassigned(*frame))?;
                if self.frames[f].outcome.is_none() {
                    return Err(Refusal::NotProcessed(*frame));
                }
                if !self.frames[f].usable() {
                    return Err(Refusal::NotUsable(*frame));
                }
                let before = self.students[owner].chosen.replace(*frame);
                Inverse::Chosen {
                    student: owner,
                    before,
                }
            }
            Event::PhotoNeeded { student, needed } => {
                let s = self.active(student)?;
                let before = self.students[s].needed.replace(*needed);
                if !needed && self.cursor == Some(s) {
                    self.cursor = self.next_waiting(s);
                }
                Inverse::Needed {
                    student: s,
                    before,
                    cursor,
                }
            }
            Event::DifferentPeople { students } => {
                let a = self.active(&students[0])?;
                let b = self.active(&students[1])?;
                if a == b {
                    return Err(Refusal::SameStudent);
                }
                let pair = (a.min(b), a.max(b));
                if !self.different_people.insert(pair) {
                    return Err(Refusal::AlreadyConfirmed);
                }
                Inverse::DifferentPeople { pair }
            }
            Event::SamePerson { frame } => {
                let f = self.frame(*frame)?;
                if self.frames[f].owner.is_none() {
                    return Err(Refusal::Unassigned(*frame));
                }
                if std::mem::replace(&mut self.frames[f].same_person, true) {
                    return Err(Refusal::AlreadyConfirmed);
                }
                Inverse::SamePerson { frame: *frame }
            }
            Event::Undone { target } => {
                let top = self.undo.last().ok_or(Refusal::NothingToUndo)?;
                if top.seq != *target {
                    return Err(Refusal::UndoOrder {
                        expected: top.seq,
                        got: *target,
                    });
                }
                if let Some(entry) = self.undo.pop() {
                    self.revert(entry.inverse);
                }
                return Ok(());
            }
        };
        self.undo.push(UndoEntry {
            seq,
            what: event_name(event),
            inverse,
        });
        Ok(())
    }

    fn load_roster(
        &mut self,
        sources: &[String],
        students: &[StudentRecord],
    ) -> Result<(), Refusal> {
        if students.is_empty() {
            return Err(Refusal::EmptyRoster);
        }
        let mut new_index: HashMap<&str, usize> = HashMap::new();
        for (i, r) in students.iter().enumerate() {
            if new_index.insert(&r.key, i).is_some() {
                return Err(Refusal::DuplicateKey(r.key.clone()));
            }
            self.fileable(r)?;
        }
        // A corrected ID that another student already has would file two photos under one name
        // (the roster marks both rows as duplicates, so compare the IDs as written).
        let mut ids: HashMap<&str, &StudentRecord> = HashMap::new();
        for r in students {
            let id = r.id_number.as_deref().unwrap_or(&r.id_text);
            if id.is_empty() {
                continue;
            }
            if let Some(other) = ids.insert(id, r) {
                let (changed, kept) = if self.id_changed(r) {
                    (r, other)
                } else if self.id_changed(other) {
                    (other, r)
                } else {
                    // Duplicates from the school's own list: the roster check reports them and
                    // neither row gets a file name until fixed.
                    continue;
                };
                return Err(Refusal::IdCollision {
                    student: changed.name.clone(),
                    row: changed.row,
                    id: id.to_string(),
                    other: kept.name.clone(),
                    other_row: kept.row,
                });
            }
        }
        let mut order = Vec::with_capacity(students.len());
        for r in students {
            let s = match self.index.get(&r.key) {
                Some(&s) => {
                    self.students[s].rec = r.clone();
                    self.students[s].removed = false;
                    s
                }
                None => self.push_student(r.clone()),
            };
            order.push(s);
        }
        for (s, st) in self.students.iter_mut().enumerate() {
            if !new_index.contains_key(st.rec.key.as_str()) {
                if st.rec.walk_in && !st.removed {
                    order.push(s);
                } else {
                    st.removed = true;
                }
            }
        }
        self.order = order;
        self.reindex();
        self.sources = sources.to_vec();
        let first = !self.roster_loaded;
        self.roster_loaded = true;
        let keep_class = self
            .class
            .as_ref()
            .is_some_and(|c| self.classes.contains(c));
        if keep_class {
            if self.cursor.is_none_or(|s| self.students[s].removed) {
                self.cursor = self.class.clone().and_then(|c| self.first_in_class(&c));
            }
        } else if first || self.class.is_some() {
            self.class = self.classes.first().cloned();
            self.cursor = self.class.clone().and_then(|c| self.first_in_class(&c));
        }
        Ok(())
    }

    /// A record whose photo could not be filed is refused (validate before journaling): a
    /// record with an ID must make a file name the office and the file system take.
    fn fileable(&self, r: &StudentRecord) -> Result<(), Refusal> {
        let Some(id) = &r.id_number else {
            return Ok(());
        };
        match roster::filename::photo_path_problem(
            &self.school,
            &r.class,
            id,
            &self.separator,
            &r.name,
        ) {
            None => Ok(()),
            Some(why) => Err(Refusal::Unfileable {
                student: r.name.chars().take(20).collect(),
                why,
            }),
        }
    }

    fn id_changed(&self, r: &StudentRecord) -> bool {
        self.index
            .get(&r.key)
            .is_some_and(|&s| self.students[s].rec.id_text != r.id_text)
    }

    fn push_student(&mut self, rec: StudentRecord) -> usize {
        let s = self.students.len();
        self.index.insert(rec.key.clone(), s);
        self.students.push(StudentState {
            rec,
            removed: false,
            absent: false,
            needed: None,
            chosen: None,
            takes: Vec::new(),
        });
        s
    }

    fn set_owner(&mut self, frame: FrameId, owner: Option<usize>) {
        let f = frame as usize - 1;
        if let Some(old) = self.frames[f].owner {
            self.students[old].takes.retain(|&t| t != frame);
            if self.students[old].chosen == Some(frame) {
                self.students[old].chosen = None;
            }
        }
        self.frames[f].owner = owner;
        if let Some(new) = owner {
            let takes = &mut self.students[new].takes;
            let at = takes.partition_point(|&t| t < frame);
            takes.insert(at, frame);
        }
    }

    fn put_cursor(&mut self, s: usize) {
        self.cursor = Some(s);
        self.class = Some(self.students[s].rec.class.clone());
    }

    fn advance_if_done(&mut self, s: usize) {
        if self.cursor == Some(s) && self.chosen_take(s).is_some() {
            self.cursor = self.next_waiting(s);
        }
    }

    fn frame(&self, id: FrameId) -> Result<usize, Refusal> {
        let f = (id as usize).wrapping_sub(1);
        if f < self.frames.len() {
            Ok(f)
        } else {
            Err(Refusal::UnknownFrame(id))
        }
    }

    fn student(&self, key: &str) -> Result<usize, Refusal> {
        self.index
            .get(key)
            .copied()
            .ok_or_else(|| Refusal::UnknownStudent(key.to_string()))
    }

    fn active(&self, key: &str) -> Result<usize, Refusal> {
        let s = self.student(key)?;
        if self.students[s].removed {
            return Err(Refusal::UnknownStudent(key.to_string()));
        }
        Ok(s)
    }

    /// Rebuilds the class list and the per-class order from `order`.
    fn reindex(&mut self) {
        self.classes.clear();
        self.by_class.clear();
        for &s in &self.order {
            let c = &self.students[s].rec.class;
            match self.by_class.get_mut(c) {
                Some(list) => list.push(s),
                None => {
                    self.classes.push(c.clone());
                    self.by_class.insert(c.clone(), vec![s]);
                }
            }
        }
    }
}

/// Why a session cannot be opened for this school with this separator, if it cannot.
pub fn session_problem(school: &str, separator: &str) -> Result<(), Refusal> {
    if let Some(why) = roster::filename::separator_problem(separator) {
        return Err(Refusal::BadSession(why));
    }
    if school.trim().is_empty() {
        return Err(Refusal::BadSession(roster::Text::new(
            "学校名称为空",
            "the school has no name",
        )));
    }
    if let Some(n) = roster::filename::folder_too_long(school) {
        return Err(Refusal::BadSession(roster::Text::new(
            format!(
                "学校名称有 {n} 个字，超过文件夹名允许的 {} 个字，请在名册中改短",
                roster::filename::MAX_FOLDER_CHARS
            ),
            format!(
                "the school name has {n} characters, more than the {} a folder allows; shorten it in the roster",
                roster::filename::MAX_FOLDER_CHARS
            ),
        )));
    }
    Ok(())
}

/// The event's name as written in the journal.
pub fn event_name(event: &Event) -> &'static str {
    match event {
        Event::Opened { .. } => "opened",
        Event::RosterLoaded { .. } => "roster_loaded",
        Event::FrameArrived { .. } => "frame_arrived",
        Event::Processed { .. } => "processed",
        Event::ClassChosen { .. } => "class_chosen",
        Event::Skipped { .. } => "skipped",
        Event::Retake { .. } => "retake",
        Event::AcceptedAnyway { .. } => "accepted_anyway",
        Event::Reassigned { .. } => "reassigned",
        Event::Jumped { .. } => "jumped",
        Event::StudentAdded { .. } => "student_added",
        Event::TakeChosen { .. } => "take_chosen",
        Event::PhotoNeeded { .. } => "photo_needed",
        Event::DifferentPeople { .. } => "different_people",
        Event::SamePerson { .. } => "same_person",
        Event::Undone { .. } => "undone",
    }
}
