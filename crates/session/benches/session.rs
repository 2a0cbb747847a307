//! Session costs (`cargo bench -p session`): replaying a 10,000-event journal (target ≤ 100 ms),
//! taking a spool file in (hash, store, fsync, journal), and the whole path from a file landing
//! in the spool to its assignment being journaled, through notify (target ≤ 50 ms; the
//! pipeline is not part of it).
#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)] // A benchmark with bad set-up data should stop loudly.

use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, mpsc};
use std::time::{Duration, Instant};

use criterion::{Criterion, criterion_group, criterion_main};
use session::event::{Event, Line, Outcome, OutcomeVerdict, StudentRecord, VERSION};
use session::runner::{self, Notice, RunOptions};
use session::{Engine, State};

/// A valid ID for student n (n < 100 000).
fn id(n: u32) -> String {
    let first17 = format!(
        "4504032015{:02}{:02}{:03}",
        1 + n / 28 % 12,
        1 + n % 28,
        n % 1000
    );
    let check = roster::id::check_char(&first17).expect("17 digits");
    format!("{first17}{check}")
}

use testkit::name;

fn students(n: u32) -> Vec<StudentRecord> {
    (0..n)
        .map(|i| StudentRecord {
            key: format!("k{i}"),
            class: format!("{}班", i / 50 + 1),
            row: i % 50 + 2,
            id_number: Some(id(i)),
            id_text: id(i),
            name: name(i),
            photo_required: true,
            walk_in: false,
        })
        .collect()
}

/// A realistic journal of `events` lines: a 4,000-student school, frames arriving and being
/// processed (one in four fails), absences, undos and shifts.
fn journal(events: usize) -> Vec<u8> {
    let mut state = State::default();
    let mut out = Vec::new();
    let mut push = |state: &mut State, event: Event| {
        let line = Line {
            v: VERSION,
            seq: state.seq + 1,
            at: "2026-11-29T08:00:00.000Z".into(),
            event,
        };
        if let Err(refusal) = state.apply(&line) {
            panic!(
                "the benchmark's journal line {} was refused: {refusal}",
                line.seq
            );
        }
        serde_json::to_writer(&mut out, &line).expect("json");
        out.push(b'\n');
    };
    push(
        &mut state,
        Event::Opened {
            school: "梧州市示例小学".into(),
            separator: "-".into(),
        },
    );
    push(
        &mut state,
        Event::RosterLoaded {
            sources: vec!["名册.xlsx".into()],
            students: students(4000),
        },
    );
    let mut n = 0u64;
    while (state.seq as usize) < events {
        n += 1;
        if state.cursor.is_none() {
            let next = state
                .classes
                .iter()
                .find(|c| state.first_in_class(c).is_some())
                .cloned();
            match next {
                Some(class) => push(&mut state, Event::ClassChosen { class }),
                None => break,
            };
            continue;
        }
        let student = state.cursor.map(|s| state.students[s].rec.key.clone());
        match n % 40 {
            7 => {
                push(
                    &mut state,
                    Event::Skipped {
                        student: student.expect("cursor"),
                    },
                );
            }
            13 => {
                if let Some((target, _)) = state.last_undoable() {
                    push(&mut state, Event::Undone { target });
                }
            }
            29 => {
                if let Ok(shift) = state.shift(1, true) {
                    push(&mut state, shift);
                }
            }
            _ => {
                let frame = state.frames.len() as u64 + 1;
                push(
                    &mut state,
                    Event::FrameArrived {
                        frame,
                        hash: format!("{:064x}", frame * 7919),
                        ext: "jpg".into(),
                        size: 6_000_000,
                        source: format!("20261129T080000.000Z-{frame:06}-NikonD750.jpg"),
                        student,
                    },
                );
                let pass = !n.is_multiple_of(4);
                push(
                    &mut state,
                    Event::Processed {
                        frame,
                        face: None,
                        outcome: Outcome {
                            verdict: if pass {
                                OutcomeVerdict::Pass
                            } else {
                                OutcomeVerdict::Fail
                            },
                            reasons: if pass {
                                vec![]
                            } else {
                                vec!["头像后面有阴影，请离背景远一点或调整灯光".into()]
                            },
                            photo: true,
                            quality: Some(70),
                            failed: vec![],
                        },
                    },
                );
            }
        }
    }
    out
}

fn replay(c: &mut Criterion) {
    let bytes = journal(10_000);
    let lines = bytes.iter().filter(|&&b| b == b'\n').count();
    assert!(lines >= 10_000, "{lines} lines");
    let mut group = c.benchmark_group("session");
    group.sample_size(20);
    group.bench_function("replay_10000_events", |b| {
        b.iter(|| {
            let (state, _, _) =
                session::journal::replay(&bytes, Path::new("journal.jsonl")).expect("replay");
            state
        })
    });
    group.finish();
}

fn roster_for_engine() -> roster::Roster {
    let mut csv = String::from("学校,班级,姓名,身份证号码\n");
    for i in 0..200u32 {
        csv.push_str(&format!(
            "梧州市示例小学,{}班,{},{}\n",
            i / 50 + 1,
            name(i),
            id(i)
        ));
    }
    roster::load(
        &[roster::Source {
            path: "名册.csv".into(),
            folder: None,
            bytes: csv.into_bytes(),
        }],
        &roster::Options {
            as_of: chrono::NaiveDate::from_ymd_opt(2026, 9, 1).expect("date"),
            kindergarten_photos: false,
        },
    )
}

/// A session in a temporary folder, and its spool folder.
fn engine_with_spool() -> (tempfile::TempDir, Engine, std::path::PathBuf) {
    let dir = tempfile::tempdir().expect("tmp");
    let engine = Engine::create(
        &dir.path().join("data"),
        &roster_for_engine(),
        None,
        vec![],
        "-",
    )
    .expect("engine");
    let spool = dir.path().join("spool");
    std::fs::create_dir_all(&spool).expect("spool");
    (dir, engine, spool)
}

/// A frame-sized file (6 MB, what a DSLR writes at medium JPEG size), different every time.
fn frame(i: u64) -> Vec<u8> {
    let mut bytes = vec![0u8; 6_000_000];
    bytes[..8].copy_from_slice(&i.to_le_bytes());
    bytes
}

fn ingest(c: &mut Criterion) {
    let (_dir, mut engine, spool) = engine_with_spool();
    let mut i = 0u64;
    let mut group = c.benchmark_group("session");
    group.sample_size(20);
    group.bench_function("ingest_6mb_frame", |b| {
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            for _ in 0..iters {
                i += 1;
                let path = spool.join(format!("{i}.bin"));
                std::fs::write(&path, frame(i)).expect("write");
                let t = Instant::now();
                engine.ingest(&path).expect("ingest");
                total += t.elapsed();
                // Keep the cursor free for the next frame (a result is due before the next).
                engine
                    .commit(Event::Processed {
                        frame: engine.state().frames.len() as u64,
                        face: None,
                        outcome: Outcome {
                            verdict: OutcomeVerdict::Error,
                            reasons: vec![],
                            photo: false,
                            quality: None,
                            failed: vec![],
                        },
                    })
                    .expect("processed");
            }
            total
        })
    });
    group.finish();
}

fn landed_to_assigned(c: &mut Criterion) {
    let (dir, engine, spool) = engine_with_spool();
    let stop = Arc::new(AtomicBool::new(false));
    let (tx, rx) = mpsc::channel::<Instant>();
    let runner = {
        let (stop, spool) = (Arc::clone(&stop), spool.clone());
        std::thread::spawn(move || {
            let mut engine = engine;
            let options = RunOptions {
                jobs: 1,
                ..RunOptions::default()
            };
            runner::run(&mut engine, &spool, &options, &stop, &mut |_, notice| {
                if let Notice::Recorded(Line {
                    event: Event::FrameArrived { .. },
                    ..
                }) = notice
                {
                    let _ = tx.send(Instant::now());
                }
            })
            .expect("run");
        })
    };
    let staging = dir.path().join("staging");
    std::fs::create_dir_all(&staging).expect("staging");
    let mut i = 1_000_000u64;
    let mut group = c.benchmark_group("session");
    group.sample_size(10);
    group.bench_function("spool_file_to_assignment_6mb", |b| {
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            for _ in 0..iters {
                i += 1;
                // As `rollcall tether` writes: complete elsewhere, then renamed in.
                let tmp = staging.join(format!("{i}.jpg"));
                std::fs::write(&tmp, frame(i)).expect("write");
                let t = Instant::now();
                std::fs::rename(&tmp, spool.join(format!("{i}.jpg"))).expect("rename");
                let at = rx.recv_timeout(Duration::from_secs(10)).expect("assigned");
                total += at.duration_since(t);
                // Let the (failing) pipeline result land before the next frame.
                std::thread::sleep(Duration::from_millis(30));
            }
            total
        })
    });
    group.finish();
    stop.store(true, Ordering::Relaxed);
    runner.join().expect("runner");
}

criterion_group!(benches, replay, ingest, landed_to_assigned);
criterion_main!(benches);
