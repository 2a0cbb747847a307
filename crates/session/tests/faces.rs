//! Face warnings on a real engine and journal: the same face filed under two students, a
//! retake that shows someone else; the one-key answers, undo, and a replay that gives the same
//! warnings without recomputing anything. Descriptors are made up here (the pipeline's are
//! tested in `crates/pipeline/tests/identity.rs`; `tests/cli_faces.rs` runs both on photos).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::*;
use pipeline::identity::{DIM, Embedding};
use session::event::OutcomeVerdict::*;
use session::{Command, Engine, FaceWarningKind, Ingested};

/// A descriptor for person `p`: far from every other person's, `jitter` a small change of
/// the same face (another take).
fn face(p: usize, jitter: usize) -> Embedding {
    let v: Vec<f32> = (0..DIM)
        .map(|i| {
            let base = if (i + p * 7) % 16 < 4 { 1.0 } else { 0.0 };
            base + if i == jitter { 0.05 } else { 0.0 }
        })
        .collect();
    Embedding::from_floats(&v).unwrap()
}

fn shoot(e: &mut Engine, spool: &std::path::Path, n: u32, person: usize) -> u64 {
    let frame = match arrive(e, spool, format!("frame {n}").as_bytes()) {
        Ingested::Arrived { frame, .. } => frame,
        other => panic!("{other:?}"),
    };
    process_face(e, frame, Pass, true, Some(face(person, n as usize)));
    frame
}

/// A class of `n` in a fresh data folder: (folder, data, engine, rows, spool).
fn class_of(
    n: u32,
) -> (
    tempfile::TempDir,
    std::path::PathBuf,
    Engine,
    Vec<Row>,
    std::path::PathBuf,
) {
    let dir = tempfile::tempdir().unwrap();
    let rows = rows(1, n);
    let data = dir.path().join("data");
    let e = create(&data, &rows);
    let spool = dir.path().join("spool");
    (dir, data, e, rows, spool)
}

fn today() -> chrono::NaiveDate {
    chrono::NaiveDate::from_ymd_opt(2026, 12, 1).unwrap()
}

#[test]
fn the_made_up_faces_are_what_the_test_means() {
    assert!(face(0, 1).same_person(&face(0, 2)));
    assert!(!face(0, 1).same_person(&face(1, 1)));
    assert!(face(0, 1).similarity(&face(1, 1)) < pipeline::identity::DIFFERENT_PERSON);
}

#[test]
fn one_child_photographed_twice_is_flagged_and_one_key_shifts_it_back() {
    let (_dir, data, mut e, _rows, spool) = class_of(5);
    shoot(&mut e, &spool, 1, 0); // 学生零
    assert!(e.state().face_warnings().is_empty());
    let f2 = shoot(&mut e, &spool, 2, 0); // the same child again, filed as 学生一
    let warnings = e.state().face_warnings();
    assert_eq!(warnings.len(), 1, "{warnings:?}");
    let w = &warnings[0];
    assert_eq!(w.kind, FaceWarningKind::SameFace);
    assert_eq!((w.frame, w.other_frame), (f2, 1));
    assert_eq!(
        (w.student.name.as_str(), w.other.name.as_str()),
        ("学生一", "学生零")
    );
    assert!(w.previous);
    assert_eq!(
        w.zh(),
        "第 2 张（学生一）像是 学生零（上一位）。顺移？/ 不是同一人"
    );
    assert_eq!(w.fix, Command::Shift { n: 1, back: true });
    assert_eq!(
        next(&e).as_deref(),
        Some("学生二"),
        "the queue was never blocked"
    );

    e.execute(&w.fix, today()).unwrap();
    assert!(e.state().face_warnings().is_empty());
    assert_eq!(
        next(&e).as_deref(),
        Some("学生一"),
        "学生一 is photographed next"
    );
    let filed = files(&data.join("output").join(SCHOOL));
    assert_eq!(filed.len(), 1, "only 学生零 has a photo: {filed:?}");
    assert!(filed[0].contains("学生零"));

    // Undo brings the warning back; a replay of the journal gives the same state.
    e.undo().unwrap();
    assert_eq!(e.state().face_warnings().len(), 1);
    drop(e);
    let (e, _) = Engine::open(&data, None).unwrap();
    assert_eq!(e.state().face_warnings().len(), 1);
    assert!(
        e.state().frames.iter().all(|f| f.face.is_some()),
        "descriptors come back from the journal"
    );
}

#[test]
fn twins_confirmed_as_two_people_stop_warning_and_pass() {
    let (_dir, data, mut e, rows, spool) = class_of(4);
    shoot(&mut e, &spool, 1, 0);
    shoot(&mut e, &spool, 2, 5); // twins: 学生一 and 学生二 look alike
    shoot(&mut e, &spool, 3, 5);
    let w = e.state().face_warnings();
    assert_eq!(w.len(), 1);
    let pairs = e.state().same_faces();
    assert_eq!(pairs.len(), 1);
    assert!(!pairs[0].confirmed);
    let Command::DifferentPeople { students } = &w[0].dismiss else {
        panic!("{:?}", w[0].dismiss)
    };
    assert_eq!(students[0], rows[2].3, "keyed by the students' stable keys");
    e.execute(&w[0].dismiss, today()).unwrap();
    assert!(e.state().face_warnings().is_empty());
    assert!(e.state().same_faces()[0].confirmed);
    // Confirming twice is refused before anything is written.
    let seq = e.state().seq;
    assert!(e.execute(&w[0].dismiss, today()).is_err());
    assert_eq!(e.state().seq, seq);
    // The confirmation survives a replay.
    drop(e);
    let (e, _) = Engine::open(&data, None).unwrap();
    assert!(e.state().face_warnings().is_empty());
}

#[test]
fn a_retake_that_shows_someone_else_is_flagged() {
    let (_dir, _data, mut e, _rows, spool) = class_of(4);
    shoot(&mut e, &spool, 1, 0);
    e.execute(&Command::Retake { student: None }, today())
        .unwrap();
    let f2 = shoot(&mut e, &spool, 2, 3); // another child stepped in for the retake
    let w = e.state().face_warnings();
    assert_eq!(w.len(), 1, "{w:?}");
    assert_eq!(w[0].kind, FaceWarningKind::NotSamePerson);
    assert_eq!((w[0].frame, w[0].other_frame), (f2, 1));
    assert_eq!(w[0].student.name, "学生零");
    assert_eq!(w[0].dismiss, Command::SamePerson { frame: f2 });
    // "It is the same child" (grown a fringe since the first take): no more warning.
    e.execute(&w[0].dismiss, today()).unwrap();
    assert!(e.state().face_warnings().is_empty());
    e.undo().unwrap();
    // Or the repair: the frame belongs to the next student.
    let fix = e.state().face_warnings()[0].fix.clone();
    assert_eq!(fix, Command::Shift { n: 1, back: false });
    e.execute(&fix, today()).unwrap();
    assert!(e.state().face_warnings().is_empty());
    assert_eq!(
        e.state().frames[1]
            .owner
            .map(|s| e.state().students[s].rec.name.clone())
            .as_deref(),
        Some("学生一")
    );
}

#[test]
fn a_journal_written_before_descriptors_opens_without_warnings() {
    let (_dir, data, mut e, _rows, spool) = class_of(3);
    for n in 1..=2 {
        let Ingested::Arrived { frame, .. } = arrive(&mut e, &spool, format!("f{n}").as_bytes())
        else {
            panic!()
        };
        process(&mut e, frame, Pass, true);
    }
    drop(e);
    // The same journal as version 1 wrote it: no descriptors, `"v":1` on every line.
    let path = data.join("sessions").join(SCHOOL).join("journal.jsonl");
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(!text.contains("\"face\""));
    std::fs::write(&path, text.replace("{\"v\":2,", "{\"v\":1,")).unwrap();
    let (e, _) = Engine::open(&data, None).unwrap();
    assert_eq!(e.state().frames.len(), 2);
    assert!(e.state().face_warnings().is_empty());
    assert!(e.state().same_faces().is_empty());
}
