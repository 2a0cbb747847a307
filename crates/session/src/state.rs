//! The session as a pure state machine: [`State::apply`] folds journal lines into the state;
//! queries answer who is next, what each student's status is, and what `output/` must hold.
//!
//! No files, no clocks, no threads. Every rule about assignment lives here:
//! - a frame goes to the cursor when it arrives; a pass moves the cursor to the next student
//!   of the class who is still waiting, a failure keeps it (a retake is expected);
//! - a student's chosen take is the one the operator chose, else their latest usable take
//!   (passed or accepted anyway, and not rejected by a retake);
//! - every operator action and every assignment can be undone, last first. The inverse is
//!   captured when the event is applied, so replaying the journal rebuilds the undo history too.

use std::collections::HashMap;

use crate::event::{Event, FrameId, Line, Move, Outcome, OutcomeVerdict, StudentRecord, VERSION};

pub use crate::refusal::Refusal;

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

/// How to revert one undoable event.
#[derive(Debug, Clone, PartialEq)]
enum Inverse {
    Assignment {
        frame: FrameId,
        student: usize,
        was_absent: bool,
    },
    Absent {
        student: usize,
        was_absent: bool,
        cursor: Option<usize>,
    },
    Rejected {
        frame: Option<FrameId>,
        cursor: Option<usize>,
        class: Option<String>,
    },
    Accepted {
        frame: FrameId,
        /// An earlier acceptance of the same frame (then rejected by a retake).
        was_accepted: Option<String>,
        was_rejected: bool,
        cursor: Option<usize>,
    },
    Moves {
        moves: Vec<(FrameId, Option<usize>)>,
        /// Chosen takes of the students involved (a move clears a choice).
        chosen: Vec<(usize, Option<FrameId>)>,
        cursor: Option<usize>,
        class: Option<String>,
    },
    Cursor {
        cursor: Option<usize>,
        class: Option<String>,
    },
    Added {
        student: usize,
        /// The record of a removed student the walk-in revived.
        revived: Option<StudentRecord>,
        cursor: Option<usize>,
        class: Option<String>,
    },
    Chosen {
        student: usize,
        before: Option<FrameId>,
    },
    Needed {
        student: usize,
        before: Option<bool>,
        cursor: Option<usize>,
    },
}

#[derive(Debug, Clone, PartialEq)]
struct UndoEntry {
    seq: u64,
    what: &'static str,
    inverse: Inverse,
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
            Event::Processed { frame, outcome } => {
                let f = self.frame(*frame)?;
                self.frames[f].outcome = Some(outcome.clone());
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

    fn revert(&mut self, inverse: Inverse) {
        match inverse {
            Inverse::Assignment {
                frame,
                student,
                was_absent,
            } => {
                self.set_owner(frame, None);
                self.students[student].absent = was_absent;
                // The frame's student is up again, whoever the cursor had moved on to.
                self.put_cursor(student);
            }
            Inverse::Absent {
                student,
                was_absent,
                cursor,
            } => {
                self.students[student].absent = was_absent;
                self.cursor = cursor;
            }
            Inverse::Rejected {
                frame,
                cursor,
                class,
            } => {
                if let Some(f) = frame {
                    self.frames[f as usize - 1].rejected = false;
                }
                self.cursor = cursor;
                self.class = class;
            }
            Inverse::Accepted {
                frame,
                was_accepted,
                was_rejected,
                cursor,
            } => {
                let f = &mut self.frames[frame as usize - 1];
                f.accepted = was_accepted;
                f.rejected = was_rejected;
                self.cursor = cursor;
            }
            Inverse::Moves {
                moves,
                chosen,
                cursor,
                class,
            } => {
                for (frame, owner) in moves {
                    self.set_owner(frame, owner);
                }
                for (s, c) in chosen.into_iter().rev() {
                    self.students[s].chosen = c;
                }
                self.cursor = cursor;
                self.class = class;
            }
            Inverse::Cursor { cursor, class } => {
                self.cursor = cursor;
                self.class = class;
            }
            Inverse::Added {
                student,
                revived,
                cursor,
                class,
            } => {
                self.order.retain(|&s| s != student);
                self.reindex();
                match revived {
                    Some(rec) => {
                        self.students[student].rec = rec;
                        self.students[student].removed = true;
                    }
                    // Undo runs last-first, so a student added by this event is the last one
                    // unless a roster reload added more since; then it stays, as removed.
                    None if student + 1 == self.students.len() => {
                        self.index.remove(&self.students[student].rec.key);
                        self.students.pop();
                    }
                    None => self.students[student].removed = true,
                }
                self.cursor = cursor;
                self.class = class;
            }
            Inverse::Chosen { student, before } => self.students[student].chosen = before,
            Inverse::Needed {
                student,
                before,
                cursor,
            } => {
                self.students[student].needed = before;
                self.cursor = cursor;
            }
        }
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

    // ----- queries -----

    /// Students of the current roster in roster order (walk-ins last).
    pub fn roster_order(&self) -> impl Iterator<Item = usize> + '_ {
        self.order.iter().copied()
    }

    /// A student by key, ID number, or `<class>:<row>`; removed students are not found.
    pub fn find(&self, query: &str) -> Option<usize> {
        let query = query.trim();
        if let Some(&s) = self.index.get(query) {
            return (!self.students[s].removed).then_some(s);
        }
        let upper = query.to_uppercase();
        if let Some(s) = self.order.iter().copied().find(|&s| {
            let r = &self.students[s].rec;
            r.id_number.as_deref() == Some(upper.as_str()) || r.id_text == upper
        }) {
            return Some(s);
        }
        if let Some((class, row)) = query.rsplit_once([':', '：'])
            && let Ok(row) = row.trim().parse::<u32>()
        {
            return self.order.iter().copied().find(|&s| {
                let r = &self.students[s].rec;
                r.class == class.trim() && r.row == row
            });
        }
        None
    }

    /// Students whose name contains `text`, in roster order.
    pub fn search(&self, text: &str) -> Vec<usize> {
        let text = text.trim();
        if text.is_empty() {
            return Vec::new();
        }
        if let Some(s) = self.find(text) {
            return vec![s];
        }
        self.order
            .iter()
            .copied()
            .filter(|&s| self.students[s].rec.name.contains(text))
            .collect()
    }

    /// The one student a typed or scanned text means: key, ID, `<class>:<row>`, or a name
    /// (or part of one) that only one student has.
    pub fn resolve(&self, query: &str) -> Result<usize, Refusal> {
        let found = self.search(query);
        match found.as_slice() {
            [one] => Ok(*one),
            [] => Err(Refusal::UnknownStudent(query.trim().to_string())),
            many => Err(Refusal::Ambiguous {
                query: query.trim().to_string(),
                count: many.len(),
                candidates: many
                    .iter()
                    .take(8)
                    .map(|&s| {
                        let r = &self.students[s].rec;
                        format!("{}:{} {}", r.class, r.row, r.name)
                    })
                    .collect::<Vec<_>>()
                    .join("、"),
            }),
        }
    }

    /// The record of a walk-in student (插班生), for [`Event::StudentAdded`]. An ID, when
    /// given, must pass the ID rules as of `today` (the age rule is left to the roster check).
    pub fn walk_in(
        &self,
        name: &str,
        class: &str,
        id: Option<&str>,
        today: chrono::NaiveDate,
    ) -> Result<StudentRecord, Refusal> {
        let class = class.trim().to_string();
        if name.trim().is_empty() || class.is_empty() {
            return Err(Refusal::WalkInIncomplete);
        }
        // Exactly the rules of a roster row: the name as normalised, refused on any error.
        let check = roster::name::check(name);
        if let Some(finding) = check.first_error() {
            return Err(Refusal::InvalidName(finding.text()));
        }
        let name = check.normalised;
        if let Some(n) = roster::filename::folder_too_long(&class) {
            return Err(Refusal::InvalidName(roster::Text::new(
                format!(
                    "班级名称有 {n} 个字，超过 {} 个字",
                    roster::filename::MAX_FOLDER_CHARS
                ),
                format!(
                    "the class name has {n} characters, more than {}",
                    roster::filename::MAX_FOLDER_CHARS
                ),
            )));
        }
        let id_text = id.unwrap_or("").trim().to_uppercase();
        let id_number = if id_text.is_empty() {
            None
        } else {
            let check = roster::id::check(&id_text, today, None);
            match check.usable() {
                Some(id) => Some(id.to_string()),
                None => return Err(Refusal::InvalidId(roster::id::mask(&id_text))),
            }
        };
        let n = self.students.iter().filter(|s| s.rec.walk_in).count() + 1;
        Ok(StudentRecord {
            key: match &id_number {
                Some(id) => id.clone(),
                None => format!("{}/{class}/{name}+{n}", self.school),
            },
            class,
            row: 0,
            id_number,
            id_text,
            name,
            photo_required: true,
            walk_in: true,
        })
    }

    /// The students of a class in roster order.
    pub fn class_students<'a>(&'a self, class: &'a str) -> impl Iterator<Item = usize> + 'a {
        self.by_class.get(class).into_iter().flatten().copied()
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

    /// The take that would be filed for a student.
    pub fn chosen_take(&self, s: usize) -> Option<FrameId> {
        let st = &self.students[s];
        if let Some(c) = st.chosen
            && self.frames[c as usize - 1].usable()
        {
            return Some(c);
        }
        st.takes
            .iter()
            .rev()
            .copied()
            .find(|&t| self.frames[t as usize - 1].usable())
    }

    pub fn standing(&self, s: usize) -> Standing {
        let st = &self.students[s];
        if st.removed {
            Standing::Removed
        } else if self.chosen_take(s).is_some() {
            Standing::Photographed
        } else if !st.needs_photo() {
            Standing::NoPhotoNeeded
        } else if st.absent {
            Standing::Absent
        } else if st
            .takes
            .last()
            .is_some_and(|&t| self.frames[t as usize - 1].outcome.is_none())
        {
            Standing::Processing
        } else if st.takes.is_empty() {
            Standing::Waiting
        } else {
            Standing::Failed
        }
    }

    fn waiting(&self, s: usize) -> bool {
        let st = &self.students[s];
        st.needs_photo() && !st.absent && self.chosen_take(s).is_none()
    }

    /// The next student after `s` in its class who still waits, wrapping around to the ones
    /// passed over; `None` when the class is done (absent students wait for make-up day).
    pub fn next_waiting(&self, s: usize) -> Option<usize> {
        let queue: Vec<usize> = self.class_students(&self.students[s].rec.class).collect();
        let pos = queue.iter().position(|&q| q == s).map_or(0, |p| p + 1);
        queue[pos..]
            .iter()
            .chain(&queue[..pos])
            .copied()
            .find(|&q| q != s && self.waiting(q))
    }

    /// Where a class starts: its first waiting student, else its first absent one (make-up).
    pub fn first_in_class(&self, class: &str) -> Option<usize> {
        self.class_students(class)
            .find(|&s| self.waiting(s))
            .or_else(|| {
                self.class_students(class).find(|&s| {
                    let st = &self.students[s];
                    st.needs_photo() && self.chosen_take(s).is_none()
                })
            })
    }

    /// The student after the cursor (shown as "then").
    pub fn after_cursor(&self) -> Option<usize> {
        self.cursor.and_then(|c| self.next_waiting(c))
    }

    /// A frame assigned to a student is still being processed. New frames wait for it, so
    /// that a burst is assigned exactly as if the frames had come one by one.
    pub fn assignment_pending(&self) -> bool {
        self.frames
            .iter()
            .rev()
            .any(|f| f.owner.is_some() && f.outcome.is_none())
    }

    /// Frames without an outcome, oldest first.
    pub fn unprocessed(&self) -> impl Iterator<Item = &FrameState> {
        self.frames.iter().filter(|f| f.outcome.is_none())
    }

    pub fn frame_by_hash(&self, hash: &str) -> Option<FrameId> {
        self.hashes.get(hash).copied()
    }

    pub fn frame_state(&self, id: FrameId) -> Option<&FrameState> {
        self.frame(id).ok().map(|f| &self.frames[f])
    }

    /// The student a new frame goes to (the cursor, unless that student was removed).
    pub fn assignee(&self) -> Option<usize> {
        self.cursor.filter(|&s| !self.students[s].removed)
    }

    /// The photo file name (without extension) for a student, when the roster allows one.
    pub fn photo_stem(&self, s: usize) -> Option<String> {
        let r = &self.students[s].rec;
        r.id_number
            .as_ref()
            .map(|id| format!("{id}{}{}", self.separator, r.name))
    }

    /// What `output/` must hold: (class, file stem, frame) for every student on the current
    /// roster with a chosen take and a valid ID, in roster order.
    pub fn desired_output(&self) -> Vec<(String, String, FrameId)> {
        self.order
            .iter()
            .copied()
            .filter(|&s| self.students[s].needed != Some(false))
            .filter_map(|s| {
                let frame = self.chosen_take(s)?;
                let stem = self.photo_stem(s)?;
                Some((self.students[s].rec.class.clone(), stem, frame))
            })
            .collect()
    }

    /// The last undoable event still in effect: (seq, event name).
    pub fn last_undoable(&self) -> Option<(u64, &'static str)> {
        self.undo.last().map(|e| (e.seq, e.what))
    }

    /// The event that moves the last `n` assigned frames one student forward (`forward`) or
    /// back in their class: the fix when the queue and the list drifted apart.
    pub fn shift(&self, n: usize, forward: bool) -> Result<Event, Refusal> {
        if n == 0 {
            return Err(Refusal::Shift("0 frames".into()));
        }
        let frames: Vec<&FrameState> = self
            .frames
            .iter()
            .filter(|f| f.owner.is_some())
            .rev()
            .take(n)
            .collect();
        if frames.len() < n {
            return Err(Refusal::Shift(format!(
                "only {} frames are assigned",
                frames.len()
            )));
        }
        let mut moves = Vec::with_capacity(n);
        for f in frames.into_iter().rev() {
            let Some(owner) = f.owner else { continue };
            let queue: Vec<usize> = self
                .class_students(&self.students[owner].rec.class)
                .filter(|&s| self.students[s].needs_photo())
                .collect();
            let pos = queue.iter().position(|&s| s == owner);
            let to = match (pos, forward) {
                (Some(p), true) => queue.get(p + 1),
                (Some(p), false) => p.checked_sub(1).and_then(|p| queue.get(p)),
                (None, _) => None,
            };
            let Some(&to) = to else {
                return Err(Refusal::Shift(format!(
                    "frame {} is at the {} of the class",
                    f.id,
                    if forward { "end" } else { "start" }
                )));
            };
            moves.push(Move {
                frame: f.id,
                from: Some(self.students[owner].rec.key.clone()),
                to: Some(self.students[to].rec.key.clone()),
            });
        }
        Ok(Event::Reassigned { moves })
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
        Event::Undone { .. } => "undone",
    }
}
