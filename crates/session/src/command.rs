//! The operator's command vocabulary: one type for every front end (`rollcall session …`, the
//! console's page, `rollcall ctl`, the demo), serialized as the console's `/api/command` body,
//! and resolved against the state in one place ([`State::resolve_command`]).
//!
//! Resolving is where a default becomes a student or a frame ("skip" means the student whose
//! turn it is). It must happen against the state the event is applied to: a running session
//! resolves on its own thread ([`crate::Engine::execute`]), never against a page's or a
//! console's possibly older copy, or a skip pressed just after a pass skips the student who
//! was just photographed.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::event::{Event, FrameId, Move};
use crate::state::{Refusal, State};

/// An operator command, as the console and `rollcall ctl` send it (`{"command":"skip"}`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "command", rename_all = "snake_case", deny_unknown_fields)]
pub enum Command {
    /// Mark a student absent (make-up list). Default: the student whose turn it is.
    Skip {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        student: Option<String>,
    },
    /// Ask for another take of a student. Default: the student of the last frame.
    Retake {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        student: Option<String>,
    },
    /// Use a take that failed its checks, with the reason. Default frame: the last one.
    Accept {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        frame: Option<FrameId>,
        reason: String,
    },
    /// Undo the last undoable action.
    Undo,
    /// Move the last `n` assigned frames one student forward (or `back`).
    Shift {
        n: usize,
        #[serde(default)]
        back: bool,
    },
    /// Make a student the next one.
    Jump { student: String },
    /// A walk-in: a student not on the roster.
    Add {
        name: String,
        class: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        id: Option<String>,
    },
    /// Use this take for its student.
    Choose { frame: FrameId },
    /// Photograph this class next.
    Class { class: String },
    /// Mark a student as needing no photo (or, with `needed`, as needing one again).
    NoPhoto {
        student: String,
        #[serde(default)]
        needed: bool,
    },
    /// Give a frame to a student (`none` or no student: to nobody).
    Assign {
        frame: FrameId,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        student: Option<String>,
    },
    /// Read the roster files again (the front end reads them; see [`Resolved::Reload`]).
    Reload,
    /// Two students whose photos look alike are two people (twins): the answer to a
    /// same-face warning ([`crate::FaceWarning`]).
    DifferentPeople { students: [String; 2] },
    /// A take that does not look like the student's earlier ones shows the student after all.
    SamePerson { frame: FrameId },
}

/// What a command comes to against a state.
#[derive(Debug, Clone, PartialEq)]
pub enum Resolved {
    /// The event to journal.
    Event(Event),
    /// The roster files must be read again: the only command that needs I/O before it can
    /// become an event, so the front end reads them and calls [`crate::Engine::reload`].
    Reload,
}

impl State {
    /// Resolves an operator command into the event it stands for, refusing what the state
    /// does not allow before anything is written. `today` dates a walk-in's ID check.
    pub fn resolve_command(
        &self,
        command: &Command,
        today: NaiveDate,
    ) -> Result<Resolved, Refusal> {
        let key = |s: usize| self.students[s].rec.key.clone();
        let event = match command {
            Command::Skip { student } => {
                let s = match student {
                    Some(q) => self.resolve(q)?,
                    None => self.cursor.ok_or(Refusal::NoStudentNext)?,
                };
                Event::Skipped { student: key(s) }
            }
            Command::Retake { student } => {
                let s = match student {
                    Some(q) => self.resolve(q)?,
                    None => self
                        .frames
                        .iter()
                        .rev()
                        .find_map(|f| f.owner)
                        .ok_or(Refusal::NoFrameYet)?,
                };
                Event::Retake { student: key(s) }
            }
            Command::Accept { frame, reason } => {
                let frame = match frame {
                    Some(f) => *f,
                    None => self
                        .frames
                        .last()
                        .map(|f| f.id)
                        .ok_or(Refusal::NoFrameYet)?,
                };
                let reason = reason.trim();
                if reason.is_empty() {
                    return Err(Refusal::ReasonMissing);
                }
                Event::AcceptedAnyway {
                    frame,
                    reason: reason.to_string(),
                }
            }
            Command::Undo => {
                let (target, _) = self.last_undoable().ok_or(Refusal::NothingToUndo)?;
                Event::Undone { target }
            }
            Command::Shift { n, back } => self.shift(*n, !back)?,
            Command::Jump { student } => Event::Jumped {
                student: key(self.resolve(student)?),
            },
            Command::Add { name, class, id } => Event::StudentAdded {
                student: self.walk_in(name, class, id.as_deref(), today)?,
            },
            Command::Choose { frame } => Event::TakeChosen { frame: *frame },
            Command::Class { class } => Event::ClassChosen {
                class: class.clone(),
            },
            Command::NoPhoto { student, needed } => Event::PhotoNeeded {
                student: key(self.resolve(student)?),
                needed: *needed,
            },
            Command::Assign { frame, student } => {
                let from = self
                    .frame_state(*frame)
                    .ok_or(Refusal::UnknownFrame(*frame))?
                    .owner
                    .map(key);
                let to = match student.as_deref() {
                    None | Some("") | Some("none") => None,
                    Some(q) => Some(key(self.resolve(q)?)),
                };
                Event::Reassigned {
                    moves: vec![Move {
                        frame: *frame,
                        from,
                        to,
                    }],
                }
            }
            Command::Reload => return Ok(Resolved::Reload),
            Command::DifferentPeople { students: [a, b] } => Event::DifferentPeople {
                students: [key(self.resolve(a)?), key(self.resolve(b)?)],
            },
            Command::SamePerson { frame } => Event::SamePerson { frame: *frame },
        };
        Ok(Resolved::Event(event))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_wire_form_is_the_consoles() {
        let c: Command = serde_json::from_str(r#"{"command":"skip"}"#).unwrap();
        assert_eq!(c, Command::Skip { student: None });
        let c: Command =
            serde_json::from_str(r#"{"command":"no_photo","student":"1班:3"}"#).unwrap();
        assert_eq!(
            c,
            Command::NoPhoto {
                student: "1班:3".into(),
                needed: false
            }
        );
        let c: Command = serde_json::from_str(r#"{"command":"shift","n":2,"back":true}"#).unwrap();
        assert_eq!(c, Command::Shift { n: 2, back: true });
        assert_eq!(
            serde_json::to_string(&Command::Accept {
                frame: None,
                reason: "家长要求".into()
            })
            .unwrap(),
            r#"{"command":"accept","reason":"家长要求"}"#
        );
        assert!(serde_json::from_str::<Command>(r#"{"command":"format_disk"}"#).is_err());
        assert!(serde_json::from_str::<Command>(r#"{"command":"skip","studnet":"x"}"#).is_err());
    }

    #[test]
    fn defaults_need_something_to_default_to() {
        let state = State::default();
        let today = NaiveDate::from_ymd_opt(2026, 11, 30).unwrap();
        for (command, refusal) in [
            (Command::Skip { student: None }, Refusal::NoStudentNext),
            (Command::Retake { student: None }, Refusal::NoFrameYet),
            (
                Command::Accept {
                    frame: None,
                    reason: "x".into(),
                },
                Refusal::NoFrameYet,
            ),
            (
                Command::Accept {
                    frame: Some(1),
                    reason: "  ".into(),
                },
                Refusal::ReasonMissing,
            ),
            (Command::Undo, Refusal::NothingToUndo),
        ] {
            assert_eq!(state.resolve_command(&command, today), Err(refusal));
        }
        assert_eq!(
            state.resolve_command(&Command::Reload, today),
            Ok(Resolved::Reload)
        );
    }
}
