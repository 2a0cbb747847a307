#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! Evaluation over the development fixtures in `../shared/fixtures` (not shipped with the
//! repository; CI has them). Prints a table and fails when a target is missed:
//! every white-wall frame passes; grey fails `background_white`; shadow fails
//! `background_shadow`; rolled fails `roll`; a small face off to the side fails `face_width`
//! ("move closer"); two people and an empty wall fail `single_face`;
//! every broken file is an error; eye positions within 5 % of the inter-ocular distance
//! (median ≤ 3 %); every passed photo re-measured is inside every geometric limit.

mod common;

use std::path::PathBuf;

use pipeline::{Profile, Verdict};
use serde_json::Value;

/// Missing under CI, the test fails; elsewhere it says so and returns.
fn fixtures() -> Option<PathBuf> {
    testkit::shared_fixtures()
}

#[test]
fn development_fixtures_meet_the_targets() {
    let Some(dir) = fixtures() else { return };
    let truth: Value =
        serde_json::from_slice(&std::fs::read(dir.join("truth.json")).unwrap()).unwrap();
    let profile = Profile::standard();
    let mut misses: Vec<String> = Vec::new();
    let mut eye_errors: Vec<f32> = Vec::new();
    println!(
        "{:<22} {:<16} {:<8} {:>7} {:>8}  failed checks",
        "frame", "kind", "verdict", "eye err", "ms"
    );
    for (file, t) in truth["frames"].as_object().unwrap() {
        let bytes = std::fs::read(dir.join(file)).unwrap();
        let r = pipeline::process(&bytes, &profile).unwrap();
        let failed = common::failed(&r);
        let kind = t["kind"].as_str().unwrap();
        let err = common::eye_error(&r, t);
        if let Some(e) = err {
            eye_errors.push(e);
            if e > 0.05 {
                misses.push(format!("{file}: eye error {e:.3} of the IOD"));
            }
        }
        println!(
            "{:<22} {:<16} {:<8} {:>7} {:>8.0}  {}",
            file.trim_start_matches("frames/"),
            kind,
            format!("{:?}", r.verdict).to_lowercase(),
            err.map(|e| format!("{:.3}", e))
                .unwrap_or_else(|| "-".into()),
            r.timings_ms.total,
            failed.join(",")
        );
        let want: Option<&str> = match kind {
            "grey" => Some("background_white"),
            "shadow" => Some("background_shadow"),
            "rolled" => Some("roll"),
            // Found by the detector's second pass, and refused with "move closer".
            "small_offcentre" => Some("face_width"),
            "two_people" | "empty_wall" => Some("single_face"),
            _ => None,
        };
        match (kind, want) {
            ("white", _) if r.verdict != Verdict::Pass => {
                misses.push(format!("{file}: white wall should pass, failed {failed:?}"));
            }
            (_, Some(check)) if !failed.contains(&check) => misses.push(format!(
                "{file}: {kind} should fail {check}, failed {failed:?}"
            )),
            _ => {}
        }
        if r.verdict == Verdict::Pass {
            common::assert_geometry(file, r.photo.as_ref().unwrap(), &profile);
        }
    }
    for (file, _) in truth["bad"].as_object().unwrap() {
        let bytes = std::fs::read(dir.join(file)).unwrap();
        match pipeline::process(&bytes, &profile) {
            Err(e) => println!(
                "{:<22} {:<16} error    {}",
                file.trim_start_matches("bad/"),
                "broken",
                e
            ),
            Ok(r) if file.to_lowercase().ends_with(".jpg") && bytes.starts_with(b"\x89PNG") => {
                println!(
                    "{:<22} {:<16} {:?} (PNG data, decoded by content)",
                    file, "png", r.verdict
                )
            }
            Ok(r) => misses.push(format!("{file}: broken file gave {:?}", r.verdict)),
        }
    }
    eye_errors.sort_by(f32::total_cmp);
    let median = eye_errors.get(eye_errors.len() / 2).copied().unwrap_or(1.0);
    println!(
        "eye error over IOD: median {median:.3}, max {:.3} ({} frames)",
        eye_errors.last().unwrap_or(&0.0),
        eye_errors.len()
    );
    if median > 0.03 {
        misses.push(format!("median eye error {median:.3} > 0.03"));
    }
    assert!(misses.is_empty(), "targets missed:\n{}", misses.join("\n"));
}
