//! Shared by the pipeline's integration tests: running frames and re-measuring outputs.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use pipeline::{Profile, Report, measure};
use serde_json::Value;

/// Asserts that a re-measured photo is inside the profile's geometric limits, with a margin
/// for the re-detection's own error (3 % of the face width, 3 px for the hair).
pub fn assert_geometry(name: &str, photo: &[u8], p: &Profile) {
    let g = measure::geometry(photo)
        .unwrap()
        .unwrap_or_else(|| panic!("{name}: no face in the output"));
    let misses = g.misses(p, 0.03);
    assert!(misses.is_empty(), "{name}: {misses:?} in {g:?}");
}

/// The failed check names of a report.
pub fn failed(r: &Report) -> Vec<&'static str> {
    r.checks.iter().filter(|c| !c.ok).map(|c| c.name).collect()
}

/// Eye error over the inter-ocular distance against truth (display coordinates).
pub fn eye_error(r: &Report, truth: &Value) -> Option<f32> {
    let d = &truth["display"];
    let iod = d["iod_px"].as_f64()? as f32;
    let get = |v: &Value| [v[0].as_f64().unwrap() as f32, v[1].as_f64().unwrap() as f32];
    let (tr, tl) = (get(&d["eye_subject_right"]), get(&d["eye_subject_left"]));
    let (er, el) = (r.source.eye_right?, r.source.eye_left?);
    let e = |a: [f32; 2], b: [f32; 2]| ((a[0] - b[0]).powi(2) + (a[1] - b[1]).powi(2)).sqrt();
    Some(e(er, tr).max(e(el, tl)) / iod)
}
