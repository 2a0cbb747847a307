//! Builds what the page shows ([`View`]) from the session state: who is next and after, the
//! last frame with its verdict, the current class with every student's standing, progress, and
//! the make-up list's size and revision. Sent whole on every change: it grows with the class,
//! never with the school (the school-wide make-up list is [`make_up`], fetched when its
//! revision changes), so a page that reconnects is right at once.

use std::hash::{Hash, Hasher};

use session::State;
use session::event::OutcomeVerdict;

use crate::api::{Last, MakeUpList, Person, Progress, Row, Verdict, View};

fn person(state: &State, s: usize) -> Person {
    let st = &state.students[s];
    Person {
        key: st.rec.key.clone(),
        name: st.rec.name.clone(),
        class: st.rec.class.clone(),
        row: st.rec.row,
        id: roster::id::mask(&st.rec.id_text),
        takes: st.takes.len(),
    }
}

/// The view of a state.
///
/// `make_up` is the school's list ([`make_up`]), built once per change by the caller: the view
/// carries only its length and revision.
pub fn build(
    state: &State,
    health: session::engine::Health,
    shot_limit: usize,
    make_up: &MakeUpList,
) -> View {
    let last = state.frames.last().map(|f| Last {
        frame: f.id,
        student: f.owner.map(|s| state.students[s].rec.name.clone()),
        verdict: match f.outcome.as_ref().map(|o| o.verdict) {
            None => Verdict::Processing,
            Some(OutcomeVerdict::Pass) => Verdict::Pass,
            Some(OutcomeVerdict::Fail) => Verdict::Fail,
            Some(OutcomeVerdict::Error) => Verdict::Error,
        },
        reasons: f
            .outcome
            .as_ref()
            .map(|o| o.reasons.clone())
            .unwrap_or_default(),
        failed: f
            .outcome
            .as_ref()
            .map(|o| o.failed.clone())
            .unwrap_or_default(),
        photo: f.outcome.as_ref().is_some_and(|o| o.photo),
        accepted: f.accepted.is_some(),
    });
    let students: Vec<Row> = match &state.class {
        Some(c) => state
            .class_students(c)
            .map(|s| {
                let st = &state.students[s];
                let standing = state.standing(s);
                Row {
                    key: st.rec.key.clone(),
                    row: st.rec.row,
                    name: st.rec.name.clone(),
                    id: roster::id::mask(&st.rec.id_text),
                    standing,
                    standing_zh: standing.zh().to_string(),
                    takes: st.takes.len(),
                    next: state.cursor == Some(s),
                }
            })
            .collect(),
        None => Vec::new(),
    };
    let count = |iter: &mut dyn Iterator<Item = usize>| {
        let mut p = Progress::default();
        for s in iter {
            if state.students[s].needs_photo() {
                p.total += 1;
                p.done += usize::from(state.chosen_take(s).is_some());
            }
        }
        p
    };
    let class_progress = match &state.class {
        Some(c) => count(&mut state.class_students(c)),
        None => Progress::default(),
    };
    let school_progress = count(&mut state.roster_order());
    let shot_limit_hit = state
        .cursor
        .is_some_and(|s| state.students[s].takes.len() >= shot_limit);
    View {
        seq: state.seq,
        school: state.school.clone(),
        class: state.class.clone(),
        classes: state.classes.clone(),
        next: state.cursor.map(|s| person(state, s)),
        then: state.after_cursor().map(|s| person(state, s)),
        last,
        shot_limit_hit,
        shot_limit,
        students,
        class_progress,
        school_progress,
        make_up_count: make_up.make_up.len(),
        make_up_rev: make_up.rev,
        frames: state.frames.len(),
        can_undo: state.last_undoable().map(|(_, what)| what.to_string()),
        health,
        faces: state.face_warnings(),
    }
}

/// The school's make-up list, with a revision that changes whenever the list does (the page
/// asks for the list again only then).
pub fn make_up(state: &State) -> MakeUpList {
    let make_up = session::status::status(state).make_up;
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    make_up.hash(&mut hasher);
    MakeUpList {
        seq: state.seq,
        rev: hasher.finish(),
        make_up,
    }
}
