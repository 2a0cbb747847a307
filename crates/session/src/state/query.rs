//! Queries over the state: who is next, where each student stands, which take is filed, what
//! `output/` must hold, and the events some commands are resolved to (`shift`, walk-ins). None
//! of them changes the state.

use super::{FrameState, Refusal, Standing, State};
use crate::event::{Event, FrameId, Move, StudentRecord};

impl State {
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

    pub(super) fn waiting(&self, s: usize) -> bool {
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
