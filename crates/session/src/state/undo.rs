//! Undo: what each undoable event's inverse is, captured when the event is applied (so a
//! replayed journal rebuilds the undo history too), and how it is reverted.

use super::State;
use crate::event::{FrameId, StudentRecord};

/// How to revert one undoable event.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Inverse {
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
    DifferentPeople {
        pair: (usize, usize),
    },
    SamePerson {
        frame: FrameId,
    },
}

#[derive(Debug, Clone, PartialEq)]
pub(super) struct UndoEntry {
    pub(super) seq: u64,
    pub(super) what: &'static str,
    pub(super) inverse: Inverse,
}

impl State {
    pub(super) fn revert(&mut self, inverse: Inverse) {
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
            Inverse::DifferentPeople { pair } => {
                self.different_people.remove(&pair);
            }
            Inverse::SamePerson { frame } => self.frames[frame as usize - 1].same_person = false,
        }
    }

    /// The last undoable event still in effect: (seq, event name).
    pub fn last_undoable(&self) -> Option<(u64, &'static str)> {
        self.undo.last().map(|e| (e.seq, e.what))
    }
}
