#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! `rollcall photo` as a user runs it, on the public-domain frames the repository ships.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

fn pd() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../pipeline/tests/data/pd")
}

/// A check of a `--json` line, by name.
fn check<'a>(line: &'a Value, name: &str) -> &'a Value {
    line["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == name)
        .unwrap_or_else(|| panic!("no check {name} in {line}"))
}

fn photo(args: &[&str]) -> (Option<i32>, Vec<Value>, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_rollcall"))
        .arg("photo")
        .args(args)
        .env_remove("RUST_LOG")
        .output()
        .unwrap();
    let lines = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .filter(|l| l.starts_with('{'))
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    (
        out.status.code(),
        lines,
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn verdicts(lines: &[Value]) -> BTreeMap<String, String> {
    lines
        .iter()
        .map(|v| {
            let name = Path::new(v["input"].as_str().unwrap())
                .file_name()
                .unwrap()
                .to_string_lossy()
                .into_owned();
            (name, v["verdict"].as_str().unwrap().to_string())
        })
        .collect()
}

#[test]
fn frames_and_broken_files_in_one_run() {
    let out = tempfile::tempdir().unwrap();
    let (frames, bad) = (pd().join("frames"), pd().join("bad"));
    let (code, lines, _) = photo(&[
        frames.to_str().unwrap(),
        bad.to_str().unwrap(),
        "--out",
        out.path().to_str().unwrap(),
        "--json",
        "--jobs",
        "2",
    ]);
    assert_eq!(code, Some(1), "some frames fail");
    let v = verdicts(&lines);
    assert_eq!(v.len(), 14, "one line per input: {v:?}");
    for f in ["IMG_1007.JPG", "IMG_1014.JPG", "IMG_1021.JPG"] {
        assert_eq!(v[f], "pass", "{f}");
        let stem = f.trim_end_matches(".JPG");
        assert!(out.path().join(format!("{stem}.jpg")).exists());
    }
    for f in [
        "IMG_1028.JPG",
        "IMG_1035.JPG",
        "IMG_1042.JPG",
        "IMG_1049.JPG",
        "IMG_1056.JPG",
    ] {
        assert_eq!(v[f], "fail", "{f}");
        let stem = f.trim_end_matches(".JPG");
        assert!(
            !out.path().join(format!("{stem}.jpg")).exists(),
            "only passes are written"
        );
    }
    for f in [
        "IMG_1901.JPG",
        "IMG_1902.JPG",
        "IMG_1904.JPG",
        "IMG_1905.CR2",
        "IMG_1906.JPG",
    ] {
        assert_eq!(v[f], "error", "{f}");
    }
    let line = lines
        .iter()
        .find(|l| l["input"].as_str().unwrap().ends_with("IMG_1014.JPG"))
        .unwrap();
    for key in [
        "checks",
        "face",
        "source",
        "timings_ms",
        "reasons",
        "output",
    ] {
        assert!(line.get(key).is_some(), "{key}");
    }
    let names: Vec<&str> = line["checks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        [
            "single_face",
            "face_width",
            "head_top",
            "eye_center_x",
            "eye_line",
            "roll",
            "yaw",
            "pitch",
            "resolution",
            "background_white",
            "background_uniform",
            "background_shadow",
            "face_shadow",
            "exposure",
            "sharpness",
            "clothing_contrast",
            "file_size"
        ]
    );
    // A passed photo keeps every geometric value at least the profile's margin inside its
    // limit, and says how far (the pose checks too, in degrees).
    let margins = pipeline::Profile::standard().margins;
    for (name, least) in [
        ("face_width", margins.face_width),
        ("head_top", margins.head_top),
        ("eye_center_x", margins.eye_center_x),
        ("eye_line", margins.eye_line),
        ("yaw", 0.0),
        ("pitch", 0.0),
    ] {
        let margin = check(line, name)["margin"].as_f64().unwrap() as f32;
        assert!(margin >= least - 0.01, "{name}: margin {margin} < {least}");
    }
    let rolled = lines
        .iter()
        .find(|l| l["input"].as_str().unwrap().ends_with("IMG_1042.JPG"))
        .unwrap();
    assert!(rolled["reasons"][0].as_str().unwrap().contains("头部倾斜"));
    for key in ["decode", "detect", "crop", "checks", "encode", "total"] {
        assert!(line["timings_ms"][key].as_f64().unwrap() >= 0.0, "{key}");
    }
    // The subject's left eye is on the image's right.
    assert!(
        line["face"]["eye_left"][0].as_f64().unwrap()
            > line["face"]["eye_right"][0].as_f64().unwrap()
    );
}

#[test]
fn one_job_or_two_give_the_same_verdicts() {
    let frames = pd().join("frames");
    let run = |jobs: &str| {
        let out = tempfile::tempdir().unwrap();
        let (_, lines, _) = photo(&[
            frames.to_str().unwrap(),
            "--out",
            out.path().to_str().unwrap(),
            "--json",
            "--jobs",
            jobs,
        ]);
        verdicts(&lines)
    };
    assert_eq!(run("1"), run("2"));
}

#[test]
fn profiles_by_name_and_file_and_a_wrong_one() {
    let frame = pd().join("frames/IMG_1014.JPG");
    let out = tempfile::tempdir().unwrap();
    // The frame into `out` under a profile, and more arguments.
    let with = |profile: &str, more: &[&str]| {
        let mut args = vec![
            frame.to_str().unwrap(),
            "--out",
            out.path().to_str().unwrap(),
            "--profile",
            profile,
        ];
        args.extend_from_slice(more);
        photo(&args)
    };
    let (code, lines, _) = with("236x295", &["--json"]);
    assert_eq!(code, Some(0));
    assert!(
        check(&lines[0], "resolution")["limit"]
            .as_str()
            .unwrap()
            .starts_with("236×295")
    );
    let toml = out.path().join("mine.toml");
    std::fs::write(
        &toml,
        "name = \"tight\"\nsize_max_kb = 20\nsize_min_kb = 18\n",
    )
    .unwrap();
    let (code, lines, _) = with(toml.to_str().unwrap(), &["--json"]);
    assert_eq!(code, Some(0), "{lines:?}");
    let size = std::fs::metadata(out.path().join("IMG_1014.jpg"))
        .unwrap()
        .len();
    assert!(
        (18_000..=20_000).contains(&size),
        "the quality was moved into the window: {size}"
    );
    let (code, _, err) = with("passport", &[]);
    assert_eq!(code, Some(2));
    assert!(err.contains("未知的照片规格"), "{err}");
    let (code, _, err) = with("passport", &["--lang", "en"]);
    assert_eq!(code, Some(2));
    assert!(err.contains("unknown profile"), "{err}");
}
