#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! The public-domain frames the repository ships (tests/data/pd, from shared/fixtures-pd):
//! verdicts per kind, eye accuracy, broken files, and every passed photo re-measured.

mod common;

use pipeline::raster::{Oriented, Raster};
use pipeline::{PipelineError, Profile, Verdict};
use serde_json::Value;

fn data() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/pd")
}

fn truth() -> Value {
    serde_json::from_slice(&std::fs::read(data().join("truth.json")).unwrap()).unwrap()
}

#[test]
fn each_kind_of_frame_gets_its_verdict() {
    let truth = truth();
    let profile = Profile::standard();
    for (file, t) in truth["frames"].as_object().unwrap() {
        let bytes = std::fs::read(data().join(file)).unwrap();
        let r = pipeline::process(&bytes, &profile).unwrap();
        let failed = common::failed(&r);
        match t["kind"].as_str().unwrap() {
            "white" => {
                assert_eq!(r.verdict, Verdict::Pass, "{file}: {failed:?}");
                let photo = r.photo.as_ref().unwrap();
                common::assert_geometry(file, photo, &profile);
                let err = common::eye_error(&r, t).unwrap();
                assert!(err < 0.05, "{file}: eye error {err}");
            }
            "grey" => assert!(failed.contains(&"background_white"), "{file}: {failed:?}"),
            "shadow" => assert!(failed.contains(&"background_shadow"), "{file}: {failed:?}"),
            "rolled" => assert!(failed.contains(&"roll"), "{file}: {failed:?}"),
            "empty_wall" => assert_eq!(failed, ["single_face"], "{file}"),
            "small_offcentre" => assert_eq!(r.verdict, Verdict::Fail, "{file}"),
            other => panic!("unknown kind {other}"),
        }
        assert!(r.timings_ms.total > 0.0);
    }
}

#[test]
fn broken_files_are_errors_with_a_reason() {
    let truth = truth();
    for (file, t) in truth["bad"].as_object().unwrap() {
        let bytes = std::fs::read(data().join(file)).unwrap();
        match pipeline::process(&bytes, &Profile::standard()) {
            Err(e) => {
                assert!(!e.zh().is_empty());
                if file.ends_with(".CR2") {
                    assert_eq!(e, PipelineError::Raw, "{file}");
                }
            }
            // A PNG named .jpg is a real photo and decodes by content.
            Ok(r) => assert!(
                t.to_string().to_lowercase().contains("png"),
                "{file} should be an error: {:?}",
                common::failed(&r)
            ),
        }
    }
}

#[test]
fn the_small_profile_works_too() {
    let bytes = std::fs::read(data().join("frames/IMG_1014.JPG")).unwrap();
    let profile = Profile::small();
    let r = pipeline::process(&bytes, &profile).unwrap();
    assert_eq!(r.verdict, Verdict::Pass, "{:?}", common::failed(&r));
    let photo = r.photo.unwrap();
    assert_eq!(
        pipeline::encode::inspect(&photo),
        Some((236, 295, 3, 1, 300))
    );
    assert!(photo.len() <= 100_000);
    common::assert_geometry("small", &photo, &profile);
}

#[test]
fn all_eight_orientations_give_the_same_eyes() {
    // The same upright picture stored in each EXIF orientation: the eyes found in display
    // coordinates must agree.
    let bytes = std::fs::read(data().join("frames/IMG_1021.JPG")).unwrap();
    let base = pipeline::process(&bytes, &Profile::standard()).unwrap();
    let base_eye = base.source.eye_left.unwrap();
    let d = pipeline::decode::decode(&bytes).unwrap();
    for o in 1..=8u8 {
        let orientation = pipeline::raster::Orientation::from_exif(o).unwrap();
        let frame = &d.frame;
        let (dw, dh) = frame.stored.dimensions();
        // Store the upright picture so that orientation `o` shows it upright again.
        let (sw, sh) = if orientation.swaps_axes() {
            (dh, dw)
        } else {
            (dw, dh)
        };
        let mut stored = pipeline::raster::RgbImage::new(sw, sh);
        for y in 0..sh {
            for x in 0..sw {
                let (px, py) =
                    orientation.to_display(x as f32 + 0.5, y as f32 + 0.5, sw as f32, sh as f32);
                stored.set(x, y, frame.stored.rgb(px as u32, py as u32));
            }
        }
        let rotated = pipeline::raster::Frame {
            stored,
            orientation,
            full_width: frame.full_width,
            full_height: frame.full_height,
        };
        let faces = pipeline::detect::faces(&rotated).unwrap();
        let mesh = pipeline::detect::mesh(&rotated, &faces[0]).unwrap();
        let m = pipeline::measure::measure(&rotated, &mesh);
        let err =
            ((m.eye_left[0] - base_eye[0]).powi(2) + (m.eye_left[1] - base_eye[1]).powi(2)).sqrt();
        assert!(err < 0.03 * m.iod, "orientation {o}: {err} px");
    }
}

/// A failed frame carries a picture that shows why: the grey wall's photo with the backdrop
/// sample marked in red, the empty wall's frame reduced (no photo to mark); a passed one none.
#[test]
fn failed_frames_show_what_went_wrong() {
    let profile = Profile::standard();
    let process = |name: &str| {
        pipeline::process(
            &std::fs::read(data().join("frames").join(name)).unwrap(),
            &profile,
        )
        .unwrap()
    };
    let decode = |bytes: &[u8]| pipeline::decode::decode(bytes).unwrap().frame.stored;
    let red = |img: &image::RgbImage| {
        img.pixels()
            .filter(|p| p[0] > 200 && p[1] < 40 && p[2] < 40)
            .count()
    };

    let grey = process("IMG_1028.JPG");
    assert!(common::failed(&grey).contains(&"background_white"));
    let marked = decode(grey.preview.as_ref().unwrap());
    assert_eq!(marked.dimensions(), (358, 441));
    let plain = decode(grey.photo.as_ref().unwrap());
    assert!(
        red(&marked) > 500 && red(&plain) == 0,
        "the backdrop sample is marked in red: {} red pixels, the photo {}",
        red(&marked),
        red(&plain)
    );

    let empty = process("IMG_1056.JPG");
    assert!(empty.photo.is_none());
    let overview = decode(empty.preview.as_ref().unwrap());
    assert_eq!(
        overview.width().max(overview.height()),
        640,
        "the frame, reduced"
    );

    let white = process("IMG_1007.JPG");
    assert_eq!(white.verdict, Verdict::Pass);
    assert!(white.preview.is_none());
    // The samples the backdrop colour came from are in the report (and the --debug picture).
    assert!(white.source.backdrop_samples.len() >= 4);
    assert_eq!(white.source.faces.len(), 1);
}
