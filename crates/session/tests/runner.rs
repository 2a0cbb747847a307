//! The spool watcher and worker pool for real: notify events, a burst of hundreds of files,
//! partial and temporary files, a file still being written, and stopping.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::io::Write;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, mpsc};
use std::thread;
use std::time::{Duration, Instant};

use common::*;
use session::event::Event;
use session::runner::{self, Notice, RunOptions};

fn options(until_idle: bool) -> RunOptions {
    RunOptions {
        jobs: 2,
        until_idle,
        settle: Duration::from_millis(300),
        ..RunOptions::default()
    }
}

/// The spool names of the session's frames, in frame order.
fn sources(engine: &session::Engine) -> Vec<String> {
    engine
        .state()
        .frames
        .iter()
        .map(|f| f.source.clone())
        .collect()
}

/// Runs a session on its own thread until `stop`; every journal line comes out of the channel
/// with the moment it was reported. Returns once the runner watches the spool and has made its
/// first scan (its first heartbeat): no sleep stands in for readiness.
#[allow(clippy::type_complexity)]
fn spawn(
    engine: session::Engine,
    spool: std::path::PathBuf,
    mut options: RunOptions,
) -> (
    Arc<AtomicBool>,
    mpsc::Receiver<(Instant, Event)>,
    thread::JoinHandle<(session::Engine, runner::RunSummary)>,
) {
    let stop = Arc::new(AtomicBool::new(false));
    let (tx, rx) = mpsc::channel();
    let beat = Arc::new(AtomicU64::new(u64::MAX));
    options.heartbeat = Some(Arc::clone(&beat));
    let handle = {
        let stop = Arc::clone(&stop);
        thread::spawn(move || {
            let mut engine = engine;
            let summary = runner::run(&mut engine, &spool, &options, &stop, &mut |_, n| {
                if let Notice::Recorded(line) = n {
                    let _ = tx.send((Instant::now(), line.event));
                }
            })
            .unwrap();
            (engine, summary)
        })
    };
    while beat.load(Ordering::Relaxed) == u64::MAX {
        assert!(
            !handle.is_finished(),
            "the runner stopped before its first turn"
        );
        thread::sleep(Duration::from_millis(5));
    }
    (stop, rx, handle)
}

#[test]
fn a_burst_is_taken_in_arrival_order_and_temporary_files_are_ignored() {
    let dir = tempfile::tempdir().unwrap();
    let engine = create(&dir.path().join("data"), &rows(1, 3));
    let spool = dir.path().join("spool");
    std::fs::create_dir_all(&spool).unwrap();
    let (stop, rx, handle) = spawn(engine, spool.clone(), options(false));
    std::fs::write(spool.join("half.jpg.part"), b"partial").unwrap();
    std::fs::write(spool.join(".hidden.jpg"), b"hidden").unwrap();
    std::fs::write(spool.join("x.tmp"), b"temp").unwrap();
    // 300 frames as fast as the disk takes them, named against their order (z…a) so that only
    // the order of arrival can sort them right.
    for i in 0..300 {
        std::fs::write(
            spool.join(format!("{:04}.jpg", 1000 - i)),
            format!("not a jpeg {i}"),
        )
        .unwrap();
    }
    let mut processed = 0;
    while processed < 300 {
        let (_, event) = rx.recv_timeout(Duration::from_secs(20)).expect("events");
        processed += usize::from(matches!(event, Event::Processed { .. }));
    }
    stop.store(true, Ordering::Relaxed);
    let (engine, summary) = handle.join().unwrap();
    assert_eq!(summary.arrived, 300);
    let sources = sources(&engine);
    let want: Vec<String> = (0..300).map(|i| format!("{:04}.jpg", 1000 - i)).collect();
    assert_eq!(sources, want, "arrival order");
    // Not images: every outcome is an error naming why, and the cursor never moved.
    assert!(
        engine
            .state()
            .frames
            .iter()
            .all(|f| f.outcome.as_ref().unwrap().reasons[0].contains("不是照片"))
    );
    assert_eq!(next(&engine).as_deref(), Some("学生零"));
    let mut left = files(&spool);
    left.sort();
    assert_eq!(left, vec![".hidden.jpg", "half.jpg.part", "x.tmp"]);
}

#[test]
fn frames_waiting_in_the_spool_at_start_are_taken_and_the_run_ends_when_idle() {
    let dir = tempfile::tempdir().unwrap();
    let mut engine = create(&dir.path().join("data"), &rows(1, 3));
    let spool = dir.path().join("spool");
    std::fs::create_dir_all(&spool).unwrap();
    for i in 0..20 {
        std::fs::write(
            spool.join(format!("DSC_{i:04}.JPG")),
            format!("left over {i}"),
        )
        .unwrap();
    }
    let stop = AtomicBool::new(false);
    let summary = runner::run(&mut engine, &spool, &options(true), &stop, &mut |_, _| {}).unwrap();
    assert_eq!((summary.arrived, summary.processed), (20, 20));
    let sources = sources(&engine);
    let want: Vec<String> = (0..20).map(|i| format!("DSC_{i:04}.JPG")).collect();
    assert_eq!(sources, want, "by modification time, then name");
    assert!(files(&spool).is_empty());
}

#[test]
fn frames_dropped_while_running_are_seen_and_a_growing_file_waits() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let engine = create(&data, &rows(1, 3));
    let spool = dir.path().join("spool");
    std::fs::create_dir_all(&spool).unwrap();
    // The folder given by a relative path through a symlink, as on a command line: events name
    // files by absolute paths, and must still match it.
    std::os::unix::fs::symlink(&spool, dir.path().join("spool-link")).unwrap();
    let cwd = std::env::current_dir().unwrap();
    let up = "../".repeat(cwd.components().count());
    let given =
        std::path::PathBuf::from(up).join(dir.path().join("spool-link").strip_prefix("/").unwrap());
    assert!(given.is_relative() && given.is_dir());
    // No safety-net rescan within the test, and no file settles by its size alone: whatever is
    // taken is taken by its file-system event.
    let (stop, rx, handle) = spawn(
        engine,
        given.clone(),
        RunOptions {
            rescan: Duration::from_secs(3600),
            settle: Duration::from_secs(3600),
            ..options(false)
        },
    );
    let arrived = |rx: &mpsc::Receiver<(Instant, Event)>| loop {
        let (at, ev) = rx.recv_timeout(Duration::from_secs(10)).expect("an event");
        if let Event::FrameArrived { source, .. } = ev {
            return (at, source);
        }
    };

    // Written elsewhere and renamed in, as `rollcall tether` does: taken by its rename event.
    let tmp = dir.path().join("a.jpg");
    std::fs::write(&tmp, b"renamed in").unwrap();
    std::fs::rename(&tmp, spool.join("a.jpg")).unwrap();
    let (_, source) = arrived(&rx);
    assert_eq!(source, "a.jpg");

    // Written in place, slowly: not taken while it grows, taken when it is closed.
    let mut f = std::fs::File::create(spool.join("b.jpg")).unwrap();
    for _ in 0..6 {
        f.write_all(b"some more bytes ").unwrap();
        f.flush().unwrap();
        thread::sleep(Duration::from_millis(100));
        let early = rx
            .try_iter()
            .find(|(_, ev)| matches!(ev, Event::FrameArrived { .. }));
        assert!(early.is_none(), "taken while growing: {early:?}");
    }
    drop(f);
    let (_, source) = arrived(&rx);
    assert_eq!(source, "b.jpg");

    stop.store(true, Ordering::Relaxed);
    let (engine, _) = handle.join().unwrap();
    assert_eq!(engine.state().frames.len(), 2);
    assert_eq!(engine.state().frames[1].size, 16 * 6, "the whole file");
}

#[test]
fn stopping_lets_the_frame_in_flight_get_its_verdict() {
    let dir = tempfile::tempdir().unwrap();
    let mut engine = create(&dir.path().join("data"), &rows(1, 2));
    let spool = dir.path().join("spool");
    std::fs::create_dir_all(&spool).unwrap();
    // Any bytes: the pipeline answers with an error verdict for a file that is no JPEG, which
    // is as much a recorded verdict as a pass.
    std::fs::write(spool.join("a.jpg"), b"not a picture").unwrap();
    let stop = AtomicBool::new(false);
    let mut lines = Vec::new();
    runner::run(&mut engine, &spool, &options(false), &stop, &mut |_, n| {
        if let Notice::Recorded(line) = n {
            // Stop as soon as the frame is taken in: it is still being processed.
            if matches!(line.event, Event::FrameArrived { .. }) {
                stop.store(true, Ordering::Relaxed);
            }
            lines.push(line.event);
        }
    })
    .unwrap();
    assert!(
        matches!(
            lines.as_slice(),
            [Event::FrameArrived { .. }, Event::Processed { .. }]
        ),
        "{lines:?}"
    );
}
