#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! Crash safety of `rollcall session run`: a process filing frames is killed with SIGKILL at
//! arbitrary moments, many times, and restarted. In the end every frame is stored once, none is
//! assigned twice or skipped, and `output/` is exactly what an uninterrupted run produces.

mod common;

use common::*;
use std::collections::BTreeMap;
use std::path::Path;
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

/// The frames of the test, in shooting order: passes and failures mixed, each with distinct
/// bytes (a trailer after the JPEG's end marker changes the hash, not the picture).
fn frames() -> Vec<Vec<u8>> {
    let dir = repo().join("crates/pipeline/tests/data/pd/frames");
    let pattern = [
        "IMG_1007", "IMG_1014", "IMG_1028", "IMG_1021", "IMG_1035", "IMG_1014",
    ];
    (0..18)
        .map(|i| {
            let mut bytes =
                std::fs::read(dir.join(format!("{}.JPG", pattern[i % pattern.len()]))).unwrap();
            bytes.extend_from_slice(format!("take {i}").as_bytes());
            bytes
        })
        .collect()
}

fn start(data: &Path) {
    let out = rollcall()
        .args(["session", "start"])
        .arg(data)
        .arg(repo().join("demo/rosters/梧州市示例中学"))
        .args(["--as-of", "2026-09-01"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn fill_spool(spool: &Path) {
    std::fs::create_dir_all(spool).unwrap();
    for (i, bytes) in frames().iter().enumerate() {
        // Found by the first run's scan: ordered by modification time, then name.
        std::fs::write(spool.join(format!("DSC_{i:04}.JPG")), bytes).unwrap();
    }
}

fn spawn_run(data: &Path, spool: &Path) -> Child {
    rollcall()
        .args(["session", "run"])
        .arg(data)
        .arg("--spool")
        .arg(spool)
        .args(["--until-idle", "--jobs", "2", "--json"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap()
}

/// Frame hash → student key, from the journal.
fn assignments(data: &Path) -> BTreeMap<String, Option<String>> {
    let journal =
        std::fs::read_to_string(data.join("sessions/梧州市示例中学/journal.jsonl")).unwrap();
    let mut by_frame: BTreeMap<u64, (String, Option<String>)> = BTreeMap::new();
    for line in journal.lines() {
        let v: Value = serde_json::from_str(line).unwrap();
        match v["event"].as_str().unwrap() {
            "frame_arrived" => {
                let frame = v["frame"].as_u64().unwrap();
                let hash = v["hash"].as_str().unwrap().to_string();
                assert!(
                    by_frame.values().all(|(h, _)| *h != hash),
                    "frame stored twice"
                );
                by_frame.insert(frame, (hash, v["student"].as_str().map(String::from)));
            }
            "reassigned" | "undone" => panic!("no operator ran commands in this test"),
            _ => {}
        }
    }
    by_frame.into_values().collect()
}

#[test]
fn killing_the_session_at_any_moment_loses_nothing_and_assigns_nothing_twice() {
    let tmp = tempfile::tempdir().unwrap();

    // The reference: one uninterrupted run.
    let reference = tmp.path().join("reference");
    start(&reference);
    let spool = tmp.path().join("spool-reference");
    fill_spool(&spool);
    let status = spawn_run(&reference, &spool).wait().unwrap();
    assert!(status.success());
    let want = assignments(&reference);
    assert_eq!(want.len(), frames().len());
    let want_output = tree(&reference.join("output"));
    assert!(want_output.len() >= 4, "{:?}", want_output.keys());

    // The same frames, with the process killed again and again.
    let data = tmp.path().join("crashed");
    start(&data);
    let spool = tmp.path().join("spool");
    fill_spool(&spool);
    // Kill delays (ms) spread over start-up, ingest, processing and filing.
    let delays = [
        40u64, 150, 90, 400, 25, 700, 260, 60, 1000, 330, 120, 520, 15, 800,
    ];
    let mut kills = 0;
    for &delay in &delays {
        let mut child = spawn_run(&data, &spool);
        let started = Instant::now();
        loop {
            if child.try_wait().unwrap().is_some() {
                break;
            }
            if started.elapsed() >= Duration::from_millis(delay) {
                child.kill().unwrap(); // SIGKILL
                child.wait().unwrap();
                kills += 1;
                break;
            }
            std::thread::sleep(Duration::from_millis(5));
        }
        // Between runs: nothing lost — every spool file gone from the spool is stored.
        let stored: Vec<Vec<u8>> = walk(&data.join("originals"))
            .iter()
            .map(|p| std::fs::read(p).unwrap())
            .collect();
        let spooled: Vec<Vec<u8>> = walk(&spool)
            .iter()
            .map(|p| std::fs::read(p).unwrap())
            .collect();
        for f in frames() {
            assert!(
                stored.contains(&f) || spooled.contains(&f),
                "a frame was lost"
            );
        }
    }
    assert!(kills >= delays.len() / 2, "only {kills} runs were killed");
    let status = spawn_run(&data, &spool).wait().unwrap();
    assert!(status.success());

    assert_eq!(
        assignments(&data),
        want,
        "every frame assigned exactly as without crashes"
    );
    assert!(walk(&spool).is_empty(), "the spool is empty");
    let originals = tree(&data.join("originals"));
    assert_eq!(originals.len(), frames().len());
    for f in frames() {
        assert_eq!(
            originals.values().filter(|b| **b == f).count(),
            1,
            "each frame stored once"
        );
    }
    assert_eq!(
        tree(&data.join("output")),
        want_output,
        "output/ as without crashes"
    );
}
