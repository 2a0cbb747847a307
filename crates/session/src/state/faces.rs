//! 切莫张冠李戴: faces that contradict the list. Two students of a class whose photos show the
//! same face (one child photographed twice, every later photo filed one student off), and a
//! retake that shows someone else than the student's earlier takes. Derived from the state on
//! every ask — nothing here is stored but the operator's confirmations
//! ([`crate::Event::DifferentPeople`], [`crate::Event::SamePerson`]) — and never blocking:
//! the queue goes on, `verify` refuses to pack an unconfirmed pair.
//!
//! The thresholds are [`pipeline::identity`]'s; comparisons stay inside a class (a class of 50
//! is 1,225 pairs of 128-byte dot products: microseconds).

use serde::{Deserialize, Serialize};

use super::State;
use crate::command::Command;
use crate::event::FrameId;
use pipeline::identity::{DIFFERENT_PERSON, Embedding, SAME_PERSON};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FaceWarningKind {
    /// The take looks like another student's photo.
    SameFace,
    /// The take does not look like the student's earlier takes.
    NotSamePerson,
}

/// A student as a warning names them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Who {
    pub key: String,
    pub name: String,
    pub class: String,
    pub row: u32,
}

/// One face that contradicts the list, with the operator's two answers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FaceWarning {
    pub kind: FaceWarningKind,
    /// The take in question and the student it is filed under.
    pub frame: FrameId,
    pub student: Who,
    /// The take it was compared with, and its student (the same student for
    /// [`FaceWarningKind::NotSamePerson`]).
    pub other_frame: FrameId,
    pub other: Who,
    /// Cosine similarity of the two faces.
    pub similarity: f32,
    /// The other take is the frame just before this one: the queue slipped by one.
    pub previous: bool,
    /// The repair (one key): shift the frames back (or forward) by one, or give the frame to
    /// the student it shows.
    pub fix: Command,
    /// The other answer (one key): two different people (twins), or the same student after all.
    pub dismiss: Command,
    /// The banner's sentence.
    pub message: bilingual::Text,
}

impl FaceWarning {
    /// The banner's sentence, in Chinese.
    pub fn zh(&self) -> String {
        self.message.zh.clone()
    }

    /// The same in English.
    pub fn en(&self) -> String {
        self.message.en.clone()
    }

    fn with_message(mut self) -> FaceWarning {
        self.message = bilingual::Text::new(self.zh_text(), self.en_text());
        self
    }

    fn zh_text(&self) -> String {
        match self.kind {
            FaceWarningKind::SameFace if self.previous => format!(
                "第 {} 张（{}）像是 {}（上一位）。顺移？/ 不是同一人",
                self.frame, self.student.name, self.other.name,
            ),
            FaceWarningKind::SameFace => format!(
                "第 {} 张（{}）像是 {}（第 {} 张）。归给 {}？/ 不是同一人",
                self.frame, self.student.name, self.other.name, self.other_frame, self.other.name
            ),
            FaceWarningKind::NotSamePerson => format!(
                "第 {} 张不像 {} 之前的照片（第 {} 张）：不是同一个人？",
                self.frame, self.student.name, self.other_frame
            ),
        }
    }

    fn en_text(&self) -> String {
        match self.kind {
            FaceWarningKind::SameFace if self.previous => format!(
                "frame {} ({}) looks like {} (the previous student): shift? / not the same person",
                self.frame, self.student.name, self.other.name
            ),
            FaceWarningKind::SameFace => format!(
                "frame {} ({}) looks like {} (frame {}): give it to {}? / not the same person",
                self.frame, self.student.name, self.other.name, self.other_frame, self.other.name
            ),
            FaceWarningKind::NotSamePerson => format!(
                "frame {} does not look like {}'s earlier take (frame {}): someone else?",
                self.frame, self.student.name, self.other_frame
            ),
        }
    }
}

/// Two students whose photos show the same face.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FacePair {
    pub a: Who,
    pub a_frame: FrameId,
    pub b: Who,
    pub b_frame: FrameId,
    pub similarity: f32,
    /// The operator confirmed they are two people.
    pub confirmed: bool,
}

impl FacePair {
    /// The later take and its student (the one in question), then the earlier.
    pub fn later_first(self) -> (Who, FrameId, Who, FrameId) {
        if self.a_frame > self.b_frame {
            (self.a, self.a_frame, self.b, self.b_frame)
        } else {
            (self.b, self.b_frame, self.a, self.a_frame)
        }
    }
}

impl State {
    fn who(&self, s: usize) -> Who {
        let r = &self.students[s].rec;
        Who {
            key: r.key.clone(),
            name: r.name.clone(),
            class: r.class.clone(),
            row: r.row,
        }
    }

    fn face(&self, frame: FrameId) -> Option<&Embedding> {
        self.frame_state(frame)?.face.as_ref()
    }

    /// The take whose face stands for a student: the one that would be filed, else the newest
    /// take with a face (a failed take still shows who stood there).
    fn face_take(&self, s: usize) -> Option<FrameId> {
        self.chosen_take(s)
            .filter(|&f| self.face(f).is_some())
            .or_else(|| {
                self.students[s]
                    .takes
                    .iter()
                    .rev()
                    .copied()
                    .find(|&f| self.face(f).is_some() && !self.frames[f as usize - 1].rejected)
            })
    }

    /// Every pair of different students of a class whose photos show the same face, the
    /// confirmed ones included (marked), in roster order.
    pub fn same_faces(&self) -> Vec<FacePair> {
        let mut pairs = Vec::new();
        for class in &self.classes {
            let takes: Vec<(usize, FrameId)> = self
                .class_students(class)
                .filter(|&s| !self.students[s].removed)
                .filter_map(|s| Some((s, self.face_take(s)?)))
                .collect();
            for (i, &(a, fa)) in takes.iter().enumerate() {
                for &(b, fb) in &takes[i + 1..] {
                    let (Some(ea), Some(eb)) = (self.face(fa), self.face(fb)) else {
                        continue;
                    };
                    let similarity = ea.similarity(eb);
                    if similarity >= SAME_PERSON {
                        pairs.push(FacePair {
                            a: self.who(a),
                            a_frame: fa,
                            b: self.who(b),
                            b_frame: fb,
                            similarity,
                            confirmed: self.different_people.contains(&(a.min(b), a.max(b))),
                        });
                    }
                }
            }
        }
        pairs
    }

    /// The assigned frames after `frame`, itself included (what a shift must move).
    fn assigned_since(&self, frame: FrameId) -> usize {
        self.frames
            .iter()
            .filter(|f| f.owner.is_some() && f.id >= frame)
            .count()
    }

    /// The assigned frame just before `frame`.
    fn assigned_before(&self, frame: FrameId) -> Option<FrameId> {
        self.frames
            .iter()
            .rev()
            .filter(|f| f.owner.is_some() && f.id < frame)
            .map(|f| f.id)
            .next()
    }

    /// What the operator should look at now, newest first: unconfirmed same-face pairs (the
    /// later take is the one in question) and retakes that show someone else.
    pub fn face_warnings(&self) -> Vec<FaceWarning> {
        let mut out = Vec::new();
        for p in self.same_faces().into_iter().filter(|p| !p.confirmed) {
            let similarity = p.similarity;
            let (student, frame, other, other_frame) = p.later_first();
            let previous = self.assigned_before(frame) == Some(other_frame);
            let fix = if previous {
                Command::Shift {
                    n: self.assigned_since(frame),
                    back: true,
                }
            } else {
                Command::Assign {
                    frame,
                    student: Some(other.key.clone()),
                }
            };
            let dismiss = Command::DifferentPeople {
                students: [student.key.clone(), other.key.clone()],
            };
            out.push(
                FaceWarning {
                    kind: FaceWarningKind::SameFace,
                    frame,
                    student,
                    other_frame,
                    other,
                    similarity,
                    previous,
                    fix,
                    dismiss,
                    message: bilingual::Text::default(),
                }
                .with_message(),
            );
        }
        for s in self.roster_order() {
            let Some(take) = self.face_take(s) else {
                continue;
            };
            if self.frames[take as usize - 1].same_person {
                continue;
            }
            let Some(face) = self.face(take) else {
                continue;
            };
            let earlier: Vec<(FrameId, f32)> = self.students[s]
                .takes
                .iter()
                .copied()
                .filter(|&f| f < take)
                .filter_map(|f| Some((f, self.face(f)?.similarity(face))))
                .collect();
            let Some(&(best_frame, best)) = earlier.iter().max_by(|a, b| a.1.total_cmp(&b.1))
            else {
                continue;
            };
            if best >= DIFFERENT_PERSON {
                continue;
            }
            let fix = if self.assigned_since(take) == 1 {
                Command::Shift { n: 1, back: false }
            } else {
                Command::Assign {
                    frame: take,
                    student: None,
                }
            };
            out.push(
                FaceWarning {
                    kind: FaceWarningKind::NotSamePerson,
                    frame: take,
                    student: self.who(s),
                    other_frame: best_frame,
                    other: self.who(s),
                    similarity: best,
                    previous: false,
                    fix,
                    dismiss: Command::SamePerson { frame: take },
                    message: bilingual::Text::default(),
                }
                .with_message(),
            );
        }
        out.sort_by_key(|w| std::cmp::Reverse(w.frame));
        out
    }
}
