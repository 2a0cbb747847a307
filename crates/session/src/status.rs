//! Progress of a session: per class, how many are photographed, failed, absent, still to
//! come; and the make-up list (补拍名单) of everyone who still needs a photo.

use serde::Serialize;

use crate::state::{Standing, State};

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ClassStatus {
    pub class: String,
    pub students: usize,
    pub photographed: usize,
    pub failed: usize,
    pub absent: usize,
    pub remaining: usize,
    pub no_photo_needed: usize,
    /// Photographed, but the roster row has an error, so the file cannot be named yet.
    pub unnamed: usize,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, serde::Deserialize)]
pub struct MakeUp {
    pub class: String,
    pub row: u32,
    pub name: String,
    /// Masked ID number.
    pub id: String,
    pub standing: Standing,
    /// Why (zh): 缺席 / 需重拍 / 待拍.
    pub reason: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Status {
    pub school: String,
    pub class: Option<String>,
    /// The student whose turn it is: (class, row, name).
    pub next: Option<(String, u32, String)>,
    pub frames: usize,
    pub classes: Vec<ClassStatus>,
    pub make_up: Vec<MakeUp>,
    /// Students removed from the roster who still have takes (kept, never deleted).
    pub removed_with_takes: Vec<String>,
}

pub fn status(state: &State) -> Status {
    let mut classes: Vec<ClassStatus> = state
        .classes
        .iter()
        .map(|c| ClassStatus {
            class: c.clone(),
            ..ClassStatus::default()
        })
        .collect();
    let mut make_up = Vec::new();
    for s in state.roster_order() {
        let st = &state.students[s];
        let Some(c) = classes.iter_mut().find(|c| c.class == st.rec.class) else {
            continue;
        };
        c.students += 1;
        let standing = state.standing(s);
        match standing {
            Standing::Photographed => {
                c.photographed += 1;
                c.unnamed += usize::from(state.photo_stem(s).is_none());
            }
            Standing::Failed => c.failed += 1,
            Standing::Absent => c.absent += 1,
            Standing::Waiting | Standing::Processing => c.remaining += 1,
            Standing::NoPhotoNeeded => c.no_photo_needed += 1,
            Standing::Removed => {}
        }
        if matches!(
            standing,
            Standing::Failed | Standing::Absent | Standing::Waiting
        ) {
            make_up.push(MakeUp {
                class: st.rec.class.clone(),
                row: st.rec.row,
                name: st.rec.name.clone(),
                id: roster::id::mask(&st.rec.id_text),
                standing,
                reason: standing.zh().to_string(),
            });
        }
    }
    let removed_with_takes = state
        .students
        .iter()
        .filter(|s| s.removed && !s.takes.is_empty())
        .map(|s| format!("{} {}", s.rec.class, s.rec.name))
        .collect();
    Status {
        school: state.school.clone(),
        class: state.class.clone(),
        next: state.cursor.map(|s| {
            let r = &state.students[s].rec;
            (r.class.clone(), r.row, r.name.clone())
        }),
        frames: state.frames.len(),
        classes,
        make_up,
        removed_with_takes,
    }
}

/// When a school was photographed, as its journal says: the days frames arrived, and the last
/// day anything changed a student's photo. What the submission schedule needs (the kit's `plan`
/// and the office's both read it from here).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Days {
    pub shooting: std::collections::BTreeSet<chrono::NaiveDate>,
    pub last_photo: Option<chrono::NaiveDate>,
}

impl Days {
    /// Adds one line (in journal order).
    pub fn add(&mut self, line: &crate::Line) {
        use crate::Event;
        let Some(day) = line.day() else { return };
        match line.event {
            Event::FrameArrived { .. } => {
                self.shooting.insert(day);
                self.last_photo = Some(day);
            }
            Event::Processed { .. }
            | Event::AcceptedAnyway { .. }
            | Event::TakeChosen { .. }
            | Event::Reassigned { .. }
            | Event::PhotoNeeded { .. } => self.last_photo = Some(day),
            _ => {}
        }
    }

    /// The day the school was complete (nobody left on `status`'s make-up list), if it is.
    pub fn completed_on(&self, status: &Status) -> Option<chrono::NaiveDate> {
        status
            .make_up
            .is_empty()
            .then_some(self.last_photo)
            .flatten()
    }
}
