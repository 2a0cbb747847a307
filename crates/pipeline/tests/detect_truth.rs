#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! Detector and landmarks against the public-domain frames' truth.

use pipeline::{decode, detect};
use serde_json::Value;

fn data() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/pd")
}

#[test]
fn eyes_are_found_where_the_truth_says() {
    let truth: Value =
        serde_json::from_slice(&std::fs::read(data().join("truth.json")).unwrap()).unwrap();
    for (file, t) in truth["frames"].as_object().unwrap() {
        let bytes = std::fs::read(data().join(file)).unwrap();
        let d = decode::decode(&bytes).unwrap();
        let faces = detect::faces(&d.frame).unwrap();
        let scale = d.frame.scale();
        eprintln!(
            "{file}: {} faces {:?}",
            faces.len(),
            faces.iter().map(|f| f.score).collect::<Vec<_>>()
        );
        if t["expected"]["faces"] == 0 {
            continue;
        }
        let f = &faces[0];
        let m = detect::mesh(&d.frame, f).unwrap();
        let right = m.centroid(&[
            33, 7, 163, 144, 145, 153, 154, 155, 133, 173, 157, 158, 159, 160, 161, 246,
        ]);
        let left = m.centroid(&[
            263, 249, 390, 373, 374, 380, 381, 382, 362, 398, 384, 385, 386, 387, 388, 466,
        ]);
        let tr = &t["display"]["eye_subject_right"];
        let tl = &t["display"]["eye_subject_left"];
        let iod = t["display"]["iod_px"].as_f64().unwrap() as f32;
        let err = |p: [f32; 2], q: &Value| {
            let (x, y) = (q[0].as_f64().unwrap() as f32, q[1].as_f64().unwrap() as f32);
            ((p[0] / scale - x).powi(2) + (p[1] / scale - y).powi(2)).sqrt() / iod
        };
        eprintln!(
            "  right eye err {:.3} left eye err {:.3} presence {:.2}",
            err(right, tr),
            err(left, tl),
            m.presence
        );
    }
}
