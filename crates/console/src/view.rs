//! What the page shows, as one JSON document built from the session state: who is next and
//! after, the last frame with its verdict, the current class with every student's standing,
//! progress, the make-up list. Sent whole on every change (a class is small), so a page that
//! reconnects is right at once.

use serde::Serialize;
use session::State;
use session::event::OutcomeVerdict;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Person {
    pub key: String,
    pub name: String,
    pub class: String,
    pub row: u32,
    /// Masked ID.
    pub id: String,
    pub takes: usize,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Last {
    pub frame: u64,
    /// The student it went to (`None`: unassigned).
    pub student: Option<String>,
    /// `processing`, `pass`, `fail` or `error`.
    pub verdict: String,
    pub reasons: Vec<String>,
    pub failed: Vec<String>,
    pub photo: bool,
    pub accepted: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Row {
    pub key: String,
    pub row: u32,
    pub name: String,
    pub id: String,
    pub standing: session::Standing,
    pub standing_zh: &'static str,
    pub takes: usize,
    pub next: bool,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Progress {
    pub done: usize,
    pub total: usize,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
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
    pub make_up: Vec<session::status::MakeUp>,
    pub frames: usize,
    /// The last undoable action (for the undo button's title).
    pub can_undo: Option<&'static str>,
    /// The data disk's free space and the current problems (filing retried, frames set aside).
    pub health: session::engine::Health,
}

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
pub fn build(state: &State, health: session::engine::Health, shot_limit: usize) -> View {
    let last = state.frames.last().map(|f| Last {
        frame: f.id,
        student: f.owner.map(|s| state.students[s].rec.name.clone()),
        verdict: match f.outcome.as_ref().map(|o| o.verdict) {
            None => "processing",
            Some(OutcomeVerdict::Pass) => "pass",
            Some(OutcomeVerdict::Fail) => "fail",
            Some(OutcomeVerdict::Error) => "error",
        }
        .to_string(),
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
                    standing_zh: standing.zh(),
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
        make_up: session::status::status(state).make_up,
        frames: state.frames.len(),
        can_undo: state.last_undoable().map(|(_, what)| what),
        health,
    }
}
