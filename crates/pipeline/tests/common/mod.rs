//! Shared by the pipeline's integration tests: running frames and re-measuring outputs.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use pipeline::{Profile, Report, decode, detect, measure};
use serde_json::Value;

/// Re-measures a finished photo from scratch (decode, detect, landmarks) and returns
/// (eye midpoint x, face width, eye line above the bottom, head top).
pub fn remeasure(photo: &[u8]) -> (f32, f32, f32, f32) {
    let d = decode::decode(photo).unwrap();
    let faces = detect::faces(&d.frame).unwrap();
    assert!(!faces.is_empty(), "no face in the output");
    let mesh = detect::mesh(&d.frame, &faces[0]).unwrap();
    let m = measure::measure(&d.frame, &mesh);
    let h = d.frame.display_size().1 as f32;
    (
        m.eye_mid[0],
        m.face_width,
        h - m.eye_mid[1],
        m.eye_mid[1] - m.hair_above_eyes,
    )
}

/// Asserts that a re-measured photo is inside the profile's geometric limits, with a margin
/// for the re-detection's own error (3 % of the face width, 3 px for the hair).
pub fn assert_geometry(name: &str, photo: &[u8], p: &Profile) {
    let (ex, fw, eye_line, head_top) = remeasure(photo);
    let tol = 0.03 * fw;
    assert!(
        ex >= p.eye_center_x[0] - tol && ex <= p.eye_center_x[1] + tol,
        "{name}: eye x {ex}"
    );
    assert!(
        fw >= p.face_width[0] - tol && fw <= p.face_width[1] + tol,
        "{name}: face width {fw}"
    );
    assert!(
        eye_line >= p.eye_line_min - tol,
        "{name}: eye line {eye_line}"
    );
    assert!(
        head_top >= p.head_top[0] - 3.0 && head_top <= p.head_top[1] + 3.0,
        "{name}: head top {head_top}"
    );
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
