//! The session engine end to end on real files: assignment, operator commands, filing,
//! reloads, journal recovery and rebuild.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::fs;

use common::*;
use session::event::{Event, OutcomeVerdict::*};
use session::journal::JournalError;
use session::{Engine, EngineError, Ingested, Refusal};

fn setup(per_class: u32) -> (tempfile::TempDir, Engine, Vec<Row>) {
    let dir = tempfile::tempdir().unwrap();
    let rows = rows(2, per_class);
    let engine = create(&dir.path().join("data"), &rows);
    (dir, engine, rows)
}

fn output(dir: &tempfile::TempDir) -> Vec<String> {
    files(&dir.path().join("data/output").join(SCHOOL))
}

fn stem(rows: &[Row], i: usize) -> String {
    format!("{}/{}-{}.jpg", rows[i].0, rows[i].2, rows[i].1)
}

fn frame_of(ingested: Ingested) -> u64 {
    match ingested {
        Ingested::Arrived { frame, .. } => frame,
        other => panic!("expected a new frame, got {other:?}"),
    }
}

#[test]
fn a_pass_moves_the_cursor_a_failure_keeps_it() {
    let (dir, mut e, rows) = setup(5);
    let spool = dir.path().join("spool");
    assert_eq!(next(&e).as_deref(), Some("学生零"));
    let f1 = frame_of(arrive(&mut e, &spool, b"frame one"));
    assert_eq!(
        e.state().frames[0].owner,
        e.state().cursor,
        "given to the cursor"
    );
    process(&mut e, f1, Pass, true);
    assert_eq!(next(&e).as_deref(), Some("学生一"));
    let f2 = frame_of(arrive(&mut e, &spool, b"frame two"));
    process(&mut e, f2, Fail, true);
    assert_eq!(next(&e).as_deref(), Some("学生一"), "a retake is expected");
    let f3 = frame_of(arrive(&mut e, &spool, b"frame three"));
    process(&mut e, f3, Pass, true);
    assert_eq!(next(&e).as_deref(), Some("学生二"));

    assert_eq!(output(&dir), vec![stem(&rows, 0), stem(&rows, 1)]);
    let filed = fs::read(
        dir.path()
            .join("data/output")
            .join(SCHOOL)
            .join(stem(&rows, 1)),
    )
    .unwrap();
    assert_eq!(filed, b"photo of frame 3", "the passing take is filed");
    // Every frame's bytes are under originals/, and the spool is empty.
    let originals = files(&dir.path().join("data/originals").join(SCHOOL));
    assert_eq!(originals.len(), 3, "{originals:?}");
    // Under the student's key (the 核对前 ID), which never changes.
    assert!(originals[2].starts_with(&format!("{}/{}/000003-", rows[1].0, rows[1].3)));
    assert!(files(&spool).is_empty());
}

#[test]
fn skip_undo_and_make_up() {
    let (_dir, mut e, _) = setup(3);
    let s0 = e.state().cursor.unwrap();
    let key = e.state().students[s0].rec.key.clone();
    e.commit(Event::Skipped { student: key }).unwrap();
    assert_eq!(next(&e).as_deref(), Some("学生一"));
    let status = session::status::status(e.state());
    assert_eq!(status.classes[0].absent, 1);
    assert_eq!(status.make_up[0].name, "学生零");
    assert_eq!(status.make_up[0].reason, "缺席");
    e.undo().unwrap();
    assert_eq!(next(&e).as_deref(), Some("学生零"));
    assert_eq!(session::status::status(e.state()).classes[0].absent, 0);
    assert!(matches!(
        e.undo(),
        Err(EngineError::Refused(Refusal::NothingToUndo))
    ));
}

#[test]
fn shifting_frames_forward_fixes_a_drifted_queue_and_moves_files() {
    let (dir, mut e, rows) = setup(6);
    let spool = dir.path().join("spool");
    for i in 0..3 {
        let f = frame_of(arrive(&mut e, &spool, format!("frame {i}").as_bytes()));
        process(&mut e, f, Pass, true);
    }
    assert_eq!(next(&e).as_deref(), Some("学生三"));
    // 学生一 had stepped out: frames 2 and 3 were really 学生二 and 学生三.
    let shift = e.state().shift(2, true).unwrap();
    e.commit(shift).unwrap();
    assert_eq!(next(&e).as_deref(), Some("学生四"), "the queue goes on");
    let s1 = e.state().find(&rows[1].3).unwrap();
    assert_eq!(
        e.state().standing(s1),
        session::Standing::Waiting,
        "学生一 comes back later"
    );
    assert_eq!(
        output(&dir),
        vec![stem(&rows, 0), stem(&rows, 2), stem(&rows, 3)]
    );
    let originals = files(&dir.path().join("data/originals").join(SCHOOL));
    assert!(
        originals
            .iter()
            .any(|p| p.starts_with(&format!("{}/{}/000003-", rows[3].0, rows[3].3)))
    );
    assert_eq!(originals.len(), 3);

    e.undo().unwrap();
    assert_eq!(
        output(&dir),
        vec![stem(&rows, 0), stem(&rows, 1), stem(&rows, 2)]
    );
    assert_eq!(next(&e).as_deref(), Some("学生三"));
    // Shifting past the end of the class is refused.
    assert!(e.state().shift(20, true).is_err());
}

#[test]
fn retake_and_accept_anyway() {
    let (dir, mut e, rows) = setup(4);
    let spool = dir.path().join("spool");
    let f1 = frame_of(arrive(&mut e, &spool, b"eyes closed"));
    process(&mut e, f1, Pass, true);
    let key0 = e.state().students[e.state().frames[0].owner.unwrap()]
        .rec
        .key
        .clone();
    e.commit(Event::Retake { student: key0 }).unwrap();
    assert_eq!(next(&e).as_deref(), Some("学生零"));
    assert!(output(&dir).is_empty(), "the rejected photo is not filed");
    let f2 = frame_of(arrive(&mut e, &spool, b"eyes open"));
    process(&mut e, f2, Fail, true);
    // A near miss, accepted by the operator with a reason.
    e.commit(Event::AcceptedAnyway {
        frame: f2,
        reason: "轻微阴影，可用".into(),
    })
    .unwrap();
    assert_eq!(next(&e).as_deref(), Some("学生一"));
    assert_eq!(output(&dir), vec![stem(&rows, 0)]);
    // A frame with no photo at all cannot be accepted.
    let f3 = frame_of(arrive(&mut e, &spool, b"no face"));
    process(&mut e, f3, Fail, false);
    let refused = e.commit(Event::AcceptedAnyway {
        frame: f3,
        reason: "x".into(),
    });
    assert!(matches!(
        refused,
        Err(EngineError::Refused(Refusal::NoPhoto(3)))
    ));
}

#[test]
fn a_roster_correction_renames_the_photo_and_a_colliding_one_is_refused() {
    let (dir, mut e, mut rows) = setup(3);
    let spool = dir.path().join("spool");
    let f = frame_of(arrive(&mut e, &spool, b"one"));
    process(&mut e, f, Pass, true);
    assert_eq!(output(&dir), vec![stem(&rows, 0)]);

    rows[0].1 = "王小明".into();
    rows[0].2 = id(77);
    let (diff, _) = e
        .reload(&roster_of(&rows), vec!["名册.csv".into()])
        .unwrap();
    assert_eq!(diff.corrected.len(), 1);
    assert!(diff.corrected[0].has_photo);
    assert_eq!(
        output(&dir),
        vec![stem(&rows, 0)],
        "renamed in the same step"
    );

    let mut colliding = rows.clone();
    colliding[0].2 = rows[1].2.clone();
    let err = e.reload(&roster_of(&colliding), vec![]).unwrap_err();
    match &err {
        EngineError::Refused(Refusal::IdCollision { student, other, .. }) => {
            assert_eq!((student.as_str(), other.as_str()), ("王小明", "学生一"));
        }
        other => panic!("{other:?}"),
    }
    let zh = err.zh();
    assert!(zh.contains("拒绝载入名册") && zh.contains("王小明"), "{zh}");
    assert!(!zh.contains(&rows[1].2), "the ID is masked: {zh}");
    assert_eq!(output(&dir), vec![stem(&rows, 0)], "nothing changed");
}

#[test]
fn removed_rows_keep_their_takes_and_new_rows_join_the_queue() {
    let (dir, mut e, mut rows) = setup(3);
    let spool = dir.path().join("spool");
    let f = frame_of(arrive(&mut e, &spool, b"one"));
    process(&mut e, f, Pass, true);
    let removed = rows.remove(0);
    rows.push(("一年级1班".into(), "插班生".into(), id(50), id(450)));
    let (diff, _) = e.reload(&roster_of(&rows), vec![]).unwrap();
    assert_eq!(diff.removed_with_photos.len(), 1);
    assert_eq!(diff.added.len(), 1);
    assert!(
        output(&dir).is_empty(),
        "no longer on the roster: not submitted"
    );
    let originals = files(&dir.path().join("data/originals").join(SCHOOL));
    assert_eq!(originals.len(), 1, "the frame is kept");
    let status = session::status::status(e.state());
    assert_eq!(
        status.removed_with_takes,
        vec![format!("{} {}", removed.0, removed.1)]
    );
    assert!(
        e.state()
            .class_students("一年级1班")
            .any(|s| e.state().students[s].rec.name == "插班生")
    );
}

#[test]
fn the_same_bytes_twice_are_one_frame() {
    let (dir, mut e, _) = setup(3);
    let spool = dir.path().join("spool");
    let f = frame_of(arrive(&mut e, &spool, b"same"));
    process(&mut e, f, Fail, true);
    assert_eq!(
        arrive(&mut e, &spool, b"same"),
        Ingested::Duplicate { of: 1 }
    );
    assert_eq!(e.state().frames.len(), 1);
    assert!(files(&spool).is_empty());
}

#[test]
fn raw_frames_are_kept_but_never_assigned() {
    let (dir, mut e, _) = setup(3);
    let spool = dir.path().join("spool");
    fs::create_dir_all(&spool).unwrap();
    let raw = spool.join("DSC_0001.NEF");
    fs::write(&raw, b"raw bytes").unwrap();
    let Ingested::Arrived { student, .. } = e.ingest(&raw).unwrap() else {
        panic!()
    };
    assert_eq!(student, None);
    assert!(!e.state().assignment_pending());
    let originals = files(&dir.path().join("data/originals").join(SCHOOL));
    assert_eq!(originals.len(), 1);
    assert!(originals[0].starts_with("_未分配/000001-"));
    assert!(originals[0].ends_with(".nef"));
}

#[test]
fn walk_in_students_and_no_photo_needed() {
    let (dir, mut e, _) = setup(2);
    let spool = dir.path().join("spool");
    let walk_in = session::StudentRecord {
        key: "walk-in/1".into(),
        class: "一年级1班".into(),
        row: 0,
        id_number: Some(id(88)),
        id_text: id(88),
        name: "新来的".into(),
        photo_required: true,
        walk_in: true,
    };
    e.commit(Event::StudentAdded { student: walk_in }).unwrap();
    assert_eq!(next(&e).as_deref(), Some("新来的"));
    let f = frame_of(arrive(&mut e, &spool, b"walk in"));
    process(&mut e, f, Pass, true);
    assert!(output(&dir).contains(&format!("一年级1班/{}-新来的.jpg", id(88))));
    // Back to the queue, then mark the first student as needing no photo.
    e.commit(Event::ClassChosen {
        class: "一年级1班".into(),
    })
    .unwrap();
    assert_eq!(next(&e).as_deref(), Some("学生零"));
    let key = e.state().students[e.state().cursor.unwrap()]
        .rec
        .key
        .clone();
    e.commit(Event::PhotoNeeded {
        student: key,
        needed: false,
    })
    .unwrap();
    assert_eq!(next(&e).as_deref(), Some("学生一"));
}

#[test]
fn reopening_replays_to_the_same_state_and_the_journal_is_locked() {
    let (dir, mut e, _) = setup(4);
    let spool = dir.path().join("spool");
    for i in 0..3 {
        let f = frame_of(arrive(&mut e, &spool, format!("f{i}").as_bytes()));
        process(&mut e, f, if i == 1 { Fail } else { Pass }, true);
    }
    let data = dir.path().join("data");
    assert!(matches!(
        Engine::open(&data, None),
        Err(EngineError::Journal(JournalError::Locked { .. }))
    ));
    let before = e.state().clone();
    drop(e);
    let (e, report) = Engine::open(&data, None).unwrap();
    assert_eq!(*e.state(), before);
    assert_eq!(report.photos_written, 0, "nothing to redo");
}

#[test]
fn a_torn_last_line_is_cut_off_and_a_bad_line_is_named() {
    let (dir, mut e, _) = setup(2);
    let spool = dir.path().join("spool");
    frame_of(arrive(&mut e, &spool, b"f"));
    let journal = e.layout().journal(SCHOOL);
    let before = e.state().clone();
    drop(e);
    let mut text = fs::read(&journal).unwrap();
    text.extend_from_slice(br#"{"v":1,"seq":99,"at":"x","event":"skipp"#);
    fs::write(&journal, &text).unwrap();
    let (e, _) = Engine::open(&dir.path().join("data"), None).unwrap();
    assert_eq!(*e.state(), before);
    drop(e);
    let clean = fs::read_to_string(&journal).unwrap();
    assert!(clean.ends_with("}\n"), "the torn line is gone");

    let mut lines: Vec<&str> = clean.lines().collect();
    lines[1] = "{not json";
    fs::write(&journal, lines.join("\n") + "\n").unwrap();
    match Engine::open(&dir.path().join("data"), None) {
        Err(EngineError::Journal(JournalError::Corrupt { line, .. })) => assert_eq!(line, 2),
        other => panic!("{other:?}"),
    }
}

#[test]
fn rebuild_regenerates_output_from_the_journal() {
    let (dir, mut e, rows) = setup(3);
    let spool = dir.path().join("spool");
    for i in 0..2 {
        let f = frame_of(arrive(&mut e, &spool, format!("f{i}").as_bytes()));
        process(&mut e, f, Pass, true);
    }
    let out = dir.path().join("data/output").join(SCHOOL);
    fs::remove_dir_all(&out).unwrap();
    fs::create_dir_all(out.join("一年级1班")).unwrap();
    fs::write(out.join("一年级1班/stray.jpg"), b"not ours").unwrap();
    let report = e.rebuild(&pipeline::Profile::standard(), false).unwrap();
    assert_eq!(report.photos_written, 2);
    assert_eq!(output(&dir), vec![stem(&rows, 0), stem(&rows, 1)]);
}

#[test]
fn frames_without_a_class_are_unassigned_and_can_be_given_later() {
    let (dir, mut e, _) = setup(2);
    let spool = dir.path().join("spool");
    let s0 = e.state().cursor.unwrap();
    let key0 = e.state().students[s0].rec.key.clone();
    let key1 = e.state().students[e.state().after_cursor().unwrap()]
        .rec
        .key
        .clone();
    e.commit(Event::Skipped {
        student: key0.clone(),
    })
    .unwrap();
    e.commit(Event::Skipped { student: key1 }).unwrap();
    assert_eq!(next(&e), None, "class done");
    let f = frame_of(arrive(&mut e, &spool, b"stray"));
    assert_eq!(e.state().frames[0].owner, None);
    e.commit(Event::Reassigned {
        moves: vec![session::event::Move {
            frame: f,
            from: None,
            to: Some(key0),
        }],
    })
    .unwrap();
    process(&mut e, f, Pass, true);
    assert_eq!(output(&dir).len(), 1);
}

/// Validate before journaling: a record whose photo could not be filed never reaches the
/// journal, whichever way it comes (walk-in, hand-made roster line).
#[test]
fn records_that_could_not_be_filed_are_refused_before_the_journal() {
    let (_dir, mut e, _) = setup(2);
    let journal = e.layout().journal(SCHOOL);
    let before = fs::read(&journal).unwrap();
    let today = chrono::NaiveDate::from_ymd_opt(2026, 9, 1).unwrap();
    // Walk-ins go through the roster's name rules.
    for (name, code) in [("Bob <b>", "“B”"), (&*"赵".repeat(90), "90")] {
        let refusal = e
            .state()
            .walk_in(name, "一年级1班", Some(&id(77)), today)
            .unwrap_err();
        assert!(refusal.zh().contains(code), "{}", refusal.zh());
    }
    // A space around the name is normalised, as in a roster.
    let ok = e
        .state()
        .walk_in(" 新来的 ", "一年级1班", None, today)
        .unwrap();
    assert_eq!(ok.name, "新来的");
    // A hand-made record with a name no file can carry.
    let bad = session::StudentRecord {
        key: "walk-in/x".into(),
        class: "一年级1班".into(),
        row: 0,
        id_number: Some(id(78)),
        id_text: id(78),
        name: "赵".repeat(90),
        photo_required: true,
        walk_in: true,
    };
    let err = e
        .commit(Event::StudentAdded {
            student: bad.clone(),
        })
        .unwrap_err();
    assert!(matches!(err, EngineError::Refused(_)), "{err:?}");
    let mut students: Vec<session::StudentRecord> = e
        .state()
        .roster_order()
        .map(|s| e.state().students[s].rec.clone())
        .collect();
    students.push(session::StudentRecord {
        walk_in: false,
        ..bad
    });
    let err = e
        .commit(Event::RosterLoaded {
            sources: vec![],
            students,
        })
        .unwrap_err();
    assert!(err.zh().contains("无法存档"), "{}", err.zh());
    assert_eq!(fs::read(&journal).unwrap(), before, "nothing was written");
    // A separator that cannot be in a file name is refused before a journal exists.
    let dir = tempfile::tempdir().unwrap();
    let err = Engine::create(dir.path(), &roster_of(&rows(1, 2)), None, vec![], "/").unwrap_err();
    assert!(err.zh().contains("分隔符"), "{}", err.zh());
    assert!(!dir.path().join("sessions").exists());
}
