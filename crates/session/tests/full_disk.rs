//! A photo day on a real full disk: the data folder on a small tmpfs (needs root, as CI has).
//! Every failed write leaves the journal and the folders as they were, the command is refused
//! with "disk full", the state does not advance, and everything works again once space is
//! freed — including a restart.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::fs;

use common::*;
use session::event::{Event, OutcomeVerdict::*};
use session::{Engine, EngineError};

#[test]
fn a_full_disk_refuses_commands_without_tearing_the_journal_and_the_session_reopens() {
    let Some(disk) = testkit::Tmpfs::mount(6 * 1024) else {
        return;
    };
    let data = disk.path().join("data");
    let spool = disk.path().join("spool");
    let rows = rows(1, 40);
    let mut e = create(&data, &rows);
    let f1 = match arrive(&mut e, &spool, b"frame one") {
        session::Ingested::Arrived { frame, .. } => frame,
        other => panic!("{other:?}"),
    };
    process(&mut e, f1, Pass, true);
    let journal = e.layout().journal(SCHOOL);
    let ballast = disk.fill();

    // The repro: alternate skip and undo until one fails.
    let mut refused = 0;
    for i in 0..400 {
        let good = fs::read(&journal).unwrap();
        let before = e.state().clone();
        let result = if i % 2 == 0 {
            let key = e.state().students[e.state().cursor.unwrap()]
                .rec
                .key
                .clone();
            e.commit(Event::Skipped { student: key }).map(|_| ())
        } else {
            e.undo().map(|_| ())
        };
        match result {
            Ok(()) => {}
            Err(err) => {
                refused += 1;
                assert!(
                    matches!(&err, EngineError::Journal(_)),
                    "a journal write failed: {err:?}"
                );
                assert!(err.zh().contains("磁盘已满"), "{}", err.zh());
                assert!(err.to_string().contains("disk is full"), "{err}");
                assert_eq!(
                    fs::read(&journal).unwrap(),
                    good,
                    "the journal is as it was"
                );
                assert_eq!(*e.state(), before, "the state did not advance");
                if refused == 3 {
                    break;
                }
            }
        }
    }
    assert_eq!(refused, 3, "a full disk refused commands");
    // A frame arriving now stays in the spool.
    fs::remove_file(&ballast).unwrap();
    fs::write(spool.join("late.jpg"), b"late frame").unwrap();
    let ballast = disk.fill();
    let frames = e.state().frames.len();
    assert!(e.ingest(&spool.join("late.jpg")).is_err());
    assert_eq!(e.state().frames.len(), frames);
    assert!(
        spool.join("late.jpg").exists(),
        "the frame stays where it was"
    );

    // Space is freed: the next command works and follows the last good line.
    fs::remove_file(&ballast).unwrap();
    let key = e.state().students[e.state().cursor.unwrap()]
        .rec
        .key
        .clone();
    e.commit(Event::Skipped { student: key }).unwrap();
    let frame = match e.ingest(&spool.join("late.jpg")).unwrap() {
        session::Ingested::Arrived { frame, .. } => frame,
        other => panic!("{other:?}"),
    };
    process(&mut e, frame, Pass, true);
    let state = e.state().clone();
    drop(e);
    let (reopened, _) = Engine::open(&data, None).expect("the session opens again");
    assert_eq!(*reopened.state(), state, "replay gives the same state");
}

#[test]
fn filing_that_fails_after_the_line_is_written_is_retried_and_never_undone() {
    let Some(disk) = testkit::Tmpfs::mount(6 * 1024) else {
        return;
    };
    let data = disk.path().join("data");
    let spool = disk.path().join("spool");
    let rows = rows(1, 5);
    let mut e = create(&data, &rows);
    let f1 = match arrive(&mut e, &spool, b"frame one") {
        session::Ingested::Arrived { frame, .. } => frame,
        other => panic!("{other:?}"),
    };
    // The photo is cached before the full disk; filing it into output/ then fails.
    let photo = e.layout().photo(SCHOOL, f1);
    session::layout::write_atomic(&photo, &vec![7u8; 256 * 1024]).unwrap();
    let ballast = disk.fill();
    // Leave just enough for a journal line, not for the photo's copy in output/.
    fs::OpenOptions::new()
        .write(true)
        .open(&ballast)
        .unwrap()
        .set_len(fs::metadata(&ballast).unwrap().len() - 64 * 1024)
        .unwrap();
    let (line, _) = e
        .commit(Event::Processed {
            frame: f1,
            outcome: session::event::Outcome {
                verdict: Pass,
                reasons: vec![],
                photo: true,
                quality: Some(70),
                failed: vec![],
            },
            face: None,
        })
        .expect("the verdict is recorded although filing fails");
    assert_eq!(e.state().seq, line.seq);
    let health = e.health();
    assert!(
        health
            .problems
            .iter()
            .any(|p| p.kind == session::engine::ProblemKind::Filing
                && p.text.zh.contains("磁盘已满")),
        "{health:?}"
    );
    assert!(output_files(&data).is_empty(), "not filed yet");
    // `session status` reads the same without touching anything.
    let state = session::journal::Journal::read(&e.layout().journal(SCHOOL)).unwrap();
    assert_eq!(session::filing::unfiled(e.layout(), &state).len(), 1);
    // Reopening works although filing still fails (no crash loop).
    drop(e);
    let (mut e, _) = Engine::open(&data, None).expect("opens while the disk is full");
    assert!(!e.retry_filing());
    fs::remove_file(&ballast).unwrap();
    assert!(e.retry_filing(), "filed once space is back");
    assert_eq!(output_files(&data).len(), 1);
    assert!(e.health().problems.is_empty());
    assert!(session::filing::unfiled(e.layout(), e.state()).is_empty());
}

fn output_files(data: &std::path::Path) -> Vec<String> {
    files(&data.join("output"))
}
