#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! `rollcall session …` and `rollcall rebuild` as an operator uses them: the demo roster, the
//! public-domain frames the repository ships, real files.

mod common;

use common::*;
use std::path::{Path, PathBuf};
use std::process::Output;

use serde_json::Value;

fn rollcall(args: &[&str], data: &Path) -> Output {
    let mut c = common::rollcall();
    let mut all: Vec<std::ffi::OsString> = Vec::new();
    for (i, a) in args.iter().enumerate() {
        all.push(a.into());
        let after = if args[0] == "rebuild" { 0 } else { 1 };
        if i == after {
            all.push(data.into());
        }
    }
    c.args(all).output().unwrap()
}

fn json(out: &Output) -> Value {
    serde_json::from_str(&ok(out)).unwrap()
}

fn files(dir: &Path) -> Vec<String> {
    let mut out = Vec::new();
    if let Ok(entries) = std::fs::read_dir(dir) {
        for e in entries {
            let p = e.unwrap().path();
            if p.is_dir() {
                for f in files(&p) {
                    out.push(format!("{}/{f}", p.file_name().unwrap().to_string_lossy()));
                }
            } else {
                out.push(p.file_name().unwrap().to_string_lossy().into_owned());
            }
        }
    }
    out.sort();
    out
}

const CLASS: &str = "初一(1)班";

/// A data folder (not yet made) and a roster folder holding the demo class: (data, rosters,
/// the class file it was copied from).
fn demo_school(dir: &Path) -> (PathBuf, PathBuf, PathBuf) {
    let roster_dir = dir.join("梧州市示例中学");
    std::fs::create_dir_all(&roster_dir).unwrap();
    let csv = repo().join("demo/rosters/梧州市示例中学/初一(1)班.csv");
    std::fs::copy(&csv, roster_dir.join("初一(1)班.csv")).unwrap();
    (dir.join("data"), roster_dir, csv)
}

#[test]
fn a_school_photographed_from_the_command_line() {
    let tmp = tempfile::tempdir().unwrap();
    let (data, roster_dir, csv) = demo_school(tmp.path());

    let started = json(&rollcall(
        &[
            "session",
            "start",
            roster_dir.to_str().unwrap(),
            "--json",
            "--as-of",
            "2026-09-01",
        ],
        &data,
    ));
    assert_eq!(started["school"], "梧州市示例中学");
    assert_eq!(started["students"], 9);
    assert_eq!(started["roster_errors"], 1, "黄可欣's 15-digit ID");
    assert_eq!(started["next"]["now"]["name"], "覃思远");

    // A second start of the same school is refused.
    let again = rollcall(&["session", "start", roster_dir.to_str().unwrap()], &data);
    assert_eq!(again.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&again.stderr).contains("会话已存在"));

    // 覃思远 passes; 韦雨欣 is absent; 莫家俊 fails (grey wall) then passes.
    let spool = tmp.path().join("spool");
    std::fs::create_dir_all(&spool).unwrap();
    let frames = repo().join("crates/pipeline/tests/data/pd/frames");
    let shoot = |name: &str| {
        std::fs::copy(frames.join(name), spool.join(name)).unwrap();
        let out = rollcall(
            &[
                "session",
                "run",
                "--spool",
                spool.to_str().unwrap(),
                "--until-idle",
                "--json",
            ],
            &data,
        );
        ok(&out)
            .lines()
            .map(|l| serde_json::from_str::<Value>(l).unwrap())
            .collect::<Vec<_>>()
    };
    let lines = shoot("IMG_1007.JPG");
    assert_eq!(lines[0]["line"]["event"], "frame_arrived");
    assert_eq!(lines[1]["line"]["outcome"]["verdict"], "pass");
    assert_eq!(lines[1]["next"]["now"]["name"], "韦雨欣");
    ok(&rollcall(&["session", "skip"], &data));
    let lines = shoot("IMG_1028.JPG");
    assert_eq!(lines[1]["line"]["outcome"]["verdict"], "fail");
    assert_eq!(
        lines[1]["next"]["now"]["name"], "莫家俊",
        "a failure keeps the student"
    );
    let lines = shoot("IMG_1021.JPG");
    assert_eq!(lines[1]["line"]["outcome"]["verdict"], "pass");
    assert_eq!(lines[1]["next"]["now"]["name"], "蒙晓彤");

    let out_dir = data.join("output/梧州市示例中学");
    assert_eq!(
        files(&out_dir),
        vec![
            format!("{CLASS}/450421201301175698-莫家俊.jpg"),
            format!("{CLASS}/450421201307215136-覃思远.jpg"),
        ]
    );
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(&out_dir).unwrap().permissions().mode();
    assert_eq!(mode & 0o077, 0, "output folders are owner-only");

    let status = json(&rollcall(&["session", "status", "--json"], &data));
    let class = &status["classes"][0];
    assert_eq!(class["photographed"], 2);
    assert_eq!(class["absent"], 1);
    assert_eq!(status["make_up"][0]["name"], "韦雨欣");
    assert_eq!(status["make_up"][0]["reason"], "缺席");
    let text = ok(&rollcall(&["session", "status"], &data));
    assert!(text.contains("补拍名单"), "{text}");
    assert!(
        !text.contains("450421201309041600"),
        "IDs are masked: {text}"
    );

    // Undo the last assignment: 莫家俊's passing frame goes back to nobody, he is next again.
    let undone = json(&rollcall(&["session", "undo", "--json"], &data));
    assert_eq!(undone["next"]["now"]["name"], "莫家俊");
    assert_eq!(files(&out_dir).len(), 1);
    // Give it back to him explicitly.
    ok(&rollcall(&["session", "assign", "3", "莫家俊"], &data));
    assert_eq!(files(&out_dir).len(), 2);

    // Jump by name, by class:row; unknown names are refused with a clear message.
    let jumped = json(&rollcall(&["session", "jump", "林小雨", "--json"], &data));
    assert_eq!(jumped["next"]["now"]["name"], "林小雨");
    let unknown = rollcall(&["session", "jump", "王五"], &data);
    assert_eq!(unknown.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&unknown.stderr).contains("名册上没有"));

    // The school corrects 覃思远's name: the filed photo is renamed by the reload.
    let fixed = std::fs::read_to_string(&csv)
        .unwrap()
        .replace("1,覃思远,", "1,覃思源,");
    std::fs::write(roster_dir.join("初一(1)班.csv"), fixed).unwrap();
    let diff = json(&rollcall(
        &["session", "reload", "--json", "--as-of", "2026-09-01"],
        &data,
    ));
    assert_eq!(diff["corrected"][0]["name"], "覃思源");
    assert!(files(&out_dir).contains(&format!("{CLASS}/450421201307215136-覃思源.jpg")));
    assert!(!files(&out_dir).contains(&format!("{CLASS}/450421201307215136-覃思远.jpg")));

    // output/ can be rebuilt from the journal and the originals, also without the cache.
    std::fs::remove_dir_all(&out_dir).unwrap();
    std::fs::remove_dir_all(data.join("photos")).unwrap();
    let rebuilt = json(&rollcall(&["rebuild", "--json"], &data));
    assert_eq!(rebuilt["written"], 2);
    assert_eq!(files(&out_dir).len(), 2);
    // Every frame is kept.
    assert_eq!(files(&data.join("originals/梧州市示例中学")).len(), 3);
}

#[test]
fn every_command_speaks_english_when_asked() {
    let tmp = tempfile::tempdir().unwrap();
    let (data, roster_dir, csv) = demo_school(tmp.path());
    let roster = roster_dir.to_str().unwrap();
    let en = |args: &[&str]| {
        let mut all = args.to_vec();
        all.extend_from_slice(&["--lang", "en"]);
        rollcall(&all, &data)
    };
    let han = |text: &str, allowed: &[&str]| {
        let mut rest = text.to_string();
        // Names, schools and classes are data, not words of rollcall.
        for a in allowed {
            rest = rest.replace(a, "");
        }
        assert!(
            !rest.chars().any(|c| ('\u{4e00}'..='\u{9fff}').contains(&c)),
            "Chinese words in English output:\n{text}"
        );
    };
    let data_words = ["梧州市示例中学", "初一(1)班", "初一", "班"];

    // A session's own words.
    let started = ok(&en(&["session", "start", roster]));
    assert!(started.contains("started"), "{started}");
    let names: Vec<String> = std::fs::read_to_string(&csv)
        .unwrap()
        .lines()
        .skip(1)
        .filter_map(|l| l.split(',').nth(1).map(str::to_string))
        .collect();
    let mut allowed: Vec<&str> = data_words.to_vec();
    allowed.extend(names.iter().map(String::as_str));
    han(&started, &allowed);
    ok(&en(&["session", "skip"]));
    let status = ok(&en(&["session", "status"]));
    assert!(status.contains("make-up list (9):"), "{status}");
    assert!(status.contains("absent"), "{status}");
    han(&status, &allowed);

    // The export shell's words and a kit error, both in English.
    let plan = ok(&en(&["submit", "plan"]));
    assert!(plan.starts_with("submission plan"), "{plan}");
    let missing = common::rollcall()
        .args(["--lang", "en", "verify"])
        .arg(tmp.path().join("nowhere"))
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&missing.stderr);
    assert_eq!(missing.status.code(), Some(2), "{err}");
    assert!(err.contains("no session in"), "{err}");
    han(&err, &[]);

    // The same in Chinese by default.
    let status = ok(&rollcall(&["session", "status"], &data));
    assert!(status.contains("补拍名单（9 人）："), "{status}");
}

/// 切莫张冠李戴: the same child photographed twice in a row, filed as two students. The second
/// photo is flagged at once (status, JSON and text), `faces check` and `verify` list the pair,
/// and the one command the warning names puts the frame back where it belongs.
#[test]
fn one_child_photographed_twice_is_caught_and_shifted_back() {
    let tmp = tempfile::tempdir().unwrap();
    let (data, roster_dir, _) = demo_school(tmp.path());
    let d = data.to_str().unwrap();
    ok(&run(&[
        "session",
        "start",
        d,
        roster_dir.to_str().unwrap(),
        "--as-of",
        "2026-09-01",
    ]));
    let spool = tmp.path().join("spool");
    std::fs::create_dir_all(&spool).unwrap();
    let frames = repo().join("crates/pipeline/tests/data/pd/frames");
    for (name, json) in [("IMG_1007.JPG", true), ("IMG_1021.JPG", false)] {
        std::fs::copy(frames.join(name), spool.join(name)).unwrap();
        let mut args = vec![
            "session",
            "run",
            d,
            "--spool",
            spool.to_str().unwrap(),
            "--until-idle",
        ];
        if json {
            args.push("--json");
        }
        let printed = ok(&run(&args));
        if json {
            assert!(!printed.contains("\"face\""), "no descriptor is printed");
        } else {
            assert!(
                printed.contains("⚠ 第 2 张（韦雨欣）像是 覃思远（上一位）"),
                "{printed}"
            );
        }
    }
    let journal =
        std::fs::read_to_string(data.join("sessions/梧州市示例中学/journal.jsonl")).unwrap();
    assert_eq!(
        journal.matches("\"face\":").count(),
        2,
        "each processed line carries its descriptor"
    );

    let status = json(&rollcall(&["session", "status", "--json"], &data));
    let w = &status["face_warnings"][0];
    assert_eq!(w["kind"], "same_face", "{status}");
    assert_eq!(w["student"]["name"], "韦雨欣");
    assert_eq!(w["other"]["name"], "覃思远");
    assert_eq!(w["previous"], true);
    assert_eq!(
        w["fix"],
        serde_json::json!({"command": "shift", "n": 1, "back": true})
    );
    let text = ok(&rollcall(&["session", "status"], &data));
    assert!(
        text.contains("第 2 张（韦雨欣）像是 覃思远（上一位）。顺移？/ 不是同一人"),
        "{text}"
    );
    assert!(
        text.contains(&format!("rollcall session shift {d} 1 --back")),
        "{text}"
    );
    let check = run(&["faces", "check", d]);
    assert_eq!(check.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&check.stdout).contains("1 对像是同一个人"));
    let v = run(&["verify", d, "--json"]);
    let report: Value = serde_json::from_slice(&v.stdout).unwrap();
    assert!(
        report[0]["defects"].to_string().contains("same_face"),
        "{report}"
    );

    // The fix the warning names: frame 2 goes back to 覃思远, 韦雨欣 is next again.
    let shifted = json(&rollcall(
        &["session", "shift", "1", "--back", "--json"],
        &data,
    ));
    assert_eq!(shifted["next"]["now"]["name"], "韦雨欣");
    let status = json(&rollcall(&["session", "status", "--json"], &data));
    assert_eq!(status["face_warnings"], serde_json::json!([]));
    ok(&run(&["faces", "check", d]));
    assert_eq!(
        files(&data.join("output/梧州市示例中学")),
        vec![format!("{CLASS}/450421201307215136-覃思远.jpg")],
        "韦雨欣 has no photo until she is photographed"
    );

    // By hand: two frames of one person, and of two people.
    let compare = |a: &str, b: &str| {
        let out = run(&[
            "faces",
            "compare",
            frames.join(a).to_str().unwrap(),
            frames.join(b).to_str().unwrap(),
            "--json",
        ]);
        (
            out.status.code(),
            serde_json::from_slice::<Value>(&out.stdout).ok(),
        )
    };
    let (code, same) = compare("IMG_1007.JPG", "IMG_1021.JPG");
    assert_eq!(code, Some(0));
    let same = same.unwrap();
    assert_eq!(same["same_person"], true, "{same}");
    assert!(same["similarity"].as_f64().unwrap() > same["threshold"].as_f64().unwrap());
    let (code, other) = compare("IMG_1007.JPG", "IMG_1014.JPG");
    assert_eq!(code, Some(0), "exit 0 either way");
    assert_eq!(other.unwrap()["same_person"], false);
    let (code, _) = compare("IMG_1007.JPG", "IMG_1056.JPG");
    assert_eq!(code, Some(2), "an empty wall has no usable face");
}
