//! Property tests over random sequences of frames, results and operator commands, on real
//! files: after every step a frame belongs to at most one student, every frame that arrived is
//! under `originals/`, `output/` holds exactly the chosen takes of the current roster under
//! their current names, a refused command changes nothing, undo restores the previous state,
//! and replaying the journal gives the same state.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::collections::BTreeSet;

use common::*;
use proptest::prelude::*;
use session::event::{Event, Line, OutcomeVerdict};
use session::{Engine, EngineError, State};

#[derive(Debug, Clone)]
enum Op {
    Arrive,
    Process { pass: bool, photo: bool },
    Skip(u8),
    Retake(u8),
    Accept,
    Choose,
    Shift { n: u8, forward: bool },
    Jump(u8),
    Class(u8),
    NoPhoto(u8, bool),
    Add,
    Undo,
    Correct(u8),
    RemoveRow(u8),
    Reopen,
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        6 => Just(Op::Arrive),
        6 => (any::<bool>(), prop::bool::weighted(0.9)).prop_map(|(pass, photo)| Op::Process { pass, photo }),
        1 => any::<u8>().prop_map(Op::Skip),
        1 => any::<u8>().prop_map(Op::Retake),
        1 => Just(Op::Accept),
        1 => Just(Op::Choose),
        2 => (1u8..4, any::<bool>()).prop_map(|(n, forward)| Op::Shift { n, forward }),
        1 => any::<u8>().prop_map(Op::Jump),
        1 => any::<u8>().prop_map(Op::Class),
        1 => (any::<u8>(), any::<bool>()).prop_map(|(s, b)| Op::NoPhoto(s, b)),
        1 => Just(Op::Add),
        3 => Just(Op::Undo),
        1 => any::<u8>().prop_map(Op::Correct),
        1 => any::<u8>().prop_map(Op::RemoveRow),
        1 => Just(Op::Reopen),
    ]
}

struct World {
    dir: tempfile::TempDir,
    engine: Option<Engine>,
    rows: Vec<Row>,
    counter: u32,
}

impl World {
    fn e(&mut self) -> &mut Engine {
        self.engine.as_mut().unwrap()
    }

    fn key(&mut self, i: u8) -> Option<String> {
        let state = self.e().state();
        let order: Vec<usize> = state.roster_order().collect();
        let s = *order.get(usize::from(i) % order.len().max(1))?;
        Some(state.students[s].rec.key.clone())
    }

    fn run(&mut self, op: &Op) -> Result<Option<Event>, EngineError> {
        let spool = self.dir.path().join("spool");
        self.counter += 1;
        let counter = self.counter;
        let commit = |w: &mut World, ev: Event| w.e().commit(ev).map(|(line, _)| Some(line.event));
        match op {
            Op::Arrive => {
                if self.e().state().assignment_pending() {
                    return Ok(None);
                }
                let before = self.e().state().frames.len();
                arrive(
                    self.e(),
                    &spool,
                    format!("frame bytes {counter}").as_bytes(),
                );
                let state = self.e().state();
                assert_eq!(state.frames.len(), before + 1);
                let f = &state.frames[before];
                Ok(Some(Event::FrameArrived {
                    frame: f.id,
                    hash: f.hash.clone(),
                    ext: f.ext.clone(),
                    size: f.size,
                    source: f.source.clone(),
                    student: f.owner.map(|s| state.students[s].rec.key.clone()),
                }))
            }
            Op::Process { pass, photo } => {
                let Some(frame) = self.e().state().unprocessed().next().map(|f| f.id) else {
                    return Ok(None);
                };
                let verdict = if *pass {
                    OutcomeVerdict::Pass
                } else {
                    OutcomeVerdict::Fail
                };
                process(self.e(), frame, verdict, *photo);
                Ok(None)
            }
            Op::Skip(i) => match self.key(*i) {
                Some(student) => commit(self, Event::Skipped { student }),
                None => Ok(None),
            },
            Op::Retake(i) => match self.key(*i) {
                Some(student) => commit(self, Event::Retake { student }),
                None => Ok(None),
            },
            Op::Jump(i) => match self.key(*i) {
                Some(student) => commit(self, Event::Jumped { student }),
                None => Ok(None),
            },
            Op::NoPhoto(i, needed) => match self.key(*i) {
                Some(student) => commit(
                    self,
                    Event::PhotoNeeded {
                        student,
                        needed: *needed,
                    },
                ),
                None => Ok(None),
            },
            Op::Class(i) => {
                let classes = &self.e().state().classes;
                let class = classes[usize::from(*i) % classes.len()].clone();
                commit(self, Event::ClassChosen { class })
            }
            Op::Accept => {
                let frame = self
                    .e()
                    .state()
                    .frames
                    .iter()
                    .rev()
                    .find(|f| !f.usable())
                    .map(|f| f.id);
                match frame {
                    Some(frame) => commit(
                        self,
                        Event::AcceptedAnyway {
                            frame,
                            reason: "测试".into(),
                        },
                    ),
                    None => Ok(None),
                }
            }
            Op::Choose => {
                let frame = self.e().state().frames.first().map(|f| f.id);
                match frame {
                    Some(frame) => commit(self, Event::TakeChosen { frame }),
                    None => Ok(None),
                }
            }
            Op::Shift { n, forward } => {
                let shift = self.e().state().shift(usize::from(*n), *forward);
                match shift {
                    Ok(ev) => commit(self, ev),
                    Err(r) => Err(r.into()),
                }
            }
            Op::Add => {
                let student = session::StudentRecord {
                    key: format!("walk-in/{counter}"),
                    class: "一年级1班".into(),
                    row: 0,
                    id_number: Some(id(600 + counter % 300)),
                    id_text: id(600 + counter % 300),
                    name: format!("插班{}", name(counter)),
                    photo_required: true,
                    walk_in: true,
                };
                commit(self, Event::StudentAdded { student })
            }
            Op::Undo => self.e().undo().map(|(line, _)| Some(line.event)),
            Op::Correct(i) => {
                let i = usize::from(*i) % self.rows.len();
                let mut rows = self.rows.clone();
                rows[i].1 = format!("{}改", rows[i].1);
                rows[i].2 = id(300 + counter % 200);
                self.reload(rows)
            }
            Op::RemoveRow(i) => {
                if self.rows.len() <= 2 {
                    return Ok(None);
                }
                let mut rows = self.rows.clone();
                rows.remove(usize::from(*i) % rows.len());
                self.reload(rows)
            }
            Op::Reopen => {
                let before = self.e().state().clone();
                self.engine = None;
                let (engine, _) = Engine::open(&self.dir.path().join("data"), None).unwrap();
                assert_eq!(*engine.state(), before, "replay gives the same state");
                self.engine = Some(engine);
                Ok(None)
            }
        }
    }

    fn reload(&mut self, rows: Vec<Row>) -> Result<Option<Event>, EngineError> {
        let r = self.e().reload(&roster_of(&rows), vec![]).map(|_| None);
        if r.is_ok() {
            self.rows = rows;
        }
        r
    }

    fn check_files(&mut self) {
        let data = self.dir.path().join("data");
        let engine = self.engine.as_ref().unwrap();
        let state = engine.state();
        let layout = engine.layout();
        // Every frame that arrived is under originals/, exactly where the state says.
        let originals: BTreeSet<String> = files(&layout.originals(SCHOOL)).into_iter().collect();
        assert_eq!(originals.len(), state.frames.len(), "{originals:?}");
        for f in &state.frames {
            let want = layout.original(state, f.id).unwrap();
            assert!(want.is_file(), "frame {} not at {}", f.id, want.display());
        }
        // output/ holds exactly the chosen takes of the current roster, under current names.
        let mut want: Vec<(String, String)> = state
            .desired_output()
            .into_iter()
            .map(|(class, stem, frame)| {
                (
                    format!("{class}/{stem}.jpg"),
                    format!("photo of frame {frame}"),
                )
            })
            .collect();
        want.sort();
        let out = data.join("output").join(SCHOOL);
        let have: Vec<(String, String)> = files(&out)
            .into_iter()
            .map(|p| {
                let content = std::fs::read_to_string(out.join(&p)).unwrap();
                (p, content)
            })
            .collect();
        assert_eq!(have, want);
        assert!(files(&self.dir.path().join("spool")).is_empty());
    }
}

/// Ownership is consistent: each frame is in the takes of its owner and of no one else.
fn check_ownership(state: &State) {
    let mut seen = BTreeSet::new();
    for (s, st) in state.students.iter().enumerate() {
        assert!(st.takes.windows(2).all(|w| w[0] < w[1]));
        for &t in &st.takes {
            assert!(seen.insert(t), "frame {t} belongs to two students");
            assert_eq!(state.frames[t as usize - 1].owner, Some(s));
        }
    }
    for f in &state.frames {
        assert_eq!(f.owner.is_some(), seen.contains(&f.id));
    }
}

/// What an operator can observe of a state.
fn observable(state: &State) -> impl PartialEq + std::fmt::Debug {
    (
        state.students.clone(),
        state.frames.clone(),
        state.cursor,
        state.class.clone(),
        state.classes.clone(),
        state.roster_order().collect::<Vec<_>>(),
    )
}

fn undo_restores(before: &State, after: &State, event: &Event) {
    let Some((target, _)) = after.last_undoable() else {
        panic!("{event:?} should be undoable")
    };
    let mut undone = after.clone();
    undone
        .apply(&Line {
            v: session::event::VERSION,
            seq: after.seq + 1,
            at: String::new(),
            event: Event::Undone { target },
        })
        .unwrap();
    if let Event::FrameArrived { .. } = event {
        // The frame stays (it arrived), unassigned; everything else is as before.
        let last = undone.frames.pop().unwrap();
        assert_eq!(last.owner, None);
    }
    assert_eq!(
        observable(&undone),
        observable(before),
        "after undoing {event:?}"
    );
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn invariants_hold_under_random_commands(ops in prop::collection::vec(op(), 1..40)) {
        let dir = tempfile::tempdir().unwrap();
        let rows = rows(2, 4);
        let engine = create(&dir.path().join("data"), &rows);
        let mut world = World { dir, engine: Some(engine), rows, counter: 0 };
        for op in &ops {
            let before = world.e().state().clone();
            match world.run(op) {
                Ok(Some(event)) if event.is_undoable() => {
                    undo_restores(&before, world.e().state(), &event);
                }
                Ok(_) => {}
                Err(EngineError::Refused(_)) => {
                    prop_assert_eq!(world.e().state(), &before, "a refused {:?} changed the state", op);
                }
                Err(e) => panic!("{op:?}: {e}"),
            }
            check_ownership(world.e().state());
            world.check_files();
        }
    }
}
