#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! `rollcall roster check` as a user runs it: the real binary on real files, exit statuses,
//! the JSON document, the problems sheet, languages and bad input.

mod common;

use std::path::PathBuf;
use std::process::Output;

use common::{repo, run};
use serde_json::Value;

fn demo() -> String {
    repo().join("demo/rosters").to_string_lossy().into_owned()
}

fn stdout(o: &Output) -> String {
    String::from_utf8(o.stdout.clone()).unwrap()
}

fn fixture_rosters() -> Option<PathBuf> {
    testkit::shared_fixtures().map(|d| d.join("rosters"))
}

#[test]
fn demo_roster_report_in_chinese_with_errors_exits_1() {
    let out = run(&["roster", "check", &demo(), "--as-of", "2026-09-01"]);
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = stdout(&out);
    assert!(
        text.contains("梧州市示例小学（小学）：2 个班，90 名学生"),
        "{text}"
    );
    assert!(text.contains("梧州市示例中学"), "{text}");
    assert!(text.contains("[id_numeric_cell]"), "{text}");
    assert!(text.contains("校验位不对"), "{text}");
}

#[test]
fn english_on_request() {
    let out = run(&[
        "--lang",
        "en",
        "roster",
        "check",
        &demo(),
        "--as-of",
        "2026-09-01",
    ]);
    let text = stdout(&out);
    assert!(text.contains("2 classes, 90 students"), "{text}");
    assert!(text.contains("Check character mismatch"), "{text}");
    assert!(!text.contains("校验位不对"), "{text}");
}

#[test]
fn json_document_has_the_promised_shape() {
    let out = run(&[
        "roster",
        "check",
        &demo(),
        "--json",
        "--as-of",
        "2026-09-01",
    ]);
    assert_eq!(out.status.code(), Some(1));
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
    let schools = doc["schools"].as_array().unwrap();
    let primary = schools
        .iter()
        .find(|s| s["name"] == "梧州市示例小学")
        .unwrap();
    assert_eq!(primary["students"], 90);
    let classes = primary["classes"].as_array().unwrap();
    assert_eq!(classes.len(), 2);
    for c in classes {
        assert!(c["name"].is_string());
        assert_eq!(c["students"], 45);
        assert_eq!(c["photos_required"], 45);
    }
    let problems = doc["problems"].as_array().unwrap();
    assert!(!problems.is_empty());
    for p in problems {
        for key in [
            "file", "sheet", "row", "column", "code", "severity", "message",
        ] {
            assert!(p.get(key).is_some(), "{key} missing in {p}");
        }
        assert!(["error", "warning", "info"].contains(&p["severity"].as_str().unwrap()));
    }
    let numeric = problems
        .iter()
        .find(|p| p["code"] == "id_numeric_cell")
        .unwrap();
    assert_eq!(numeric["file"], "梧州市示例小学社保卡学生名册.xlsx");
    assert_eq!(numeric["sheet"], "名册");
    assert_eq!(numeric["row"], 40);
    assert_eq!(numeric["column"], "F");
    assert_eq!(numeric["severity"], "error");
}

#[test]
fn clean_roster_exits_0_and_warnings_are_allowed() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("一年级1班.csv");
    std::fs::write(&file, "姓名,身份证号码\n李 光艳,45048120160327062x\n").unwrap();
    let out = run(&[
        "roster",
        "check",
        file.to_str().unwrap(),
        "--as-of",
        "2026-09-01",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
    let text = stdout(&out);
    assert!(
        text.contains("[id_lowercase_x]") && text.contains("[name_space]"),
        "{text}"
    );
    // The school is the folder's name when each file is one class.
    let school = dir
        .path()
        .file_name()
        .unwrap()
        .to_string_lossy()
        .into_owned();
    assert!(text.starts_with(&school), "{text}");
}

#[test]
fn unreadable_input_exits_2_and_still_reports_the_rest() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("坏文件.xlsx"), b"PK\x03\x04broken").unwrap();
    std::fs::write(
        dir.path().join("一班.csv"),
        "姓名,身份证号码\n李光艳,45048120160327062X\n",
    )
    .unwrap();
    std::fs::write(dir.path().join("~$一班.xlsx"), b"lock file").unwrap();
    let out = run(&[
        "roster",
        "check",
        dir.path().to_str().unwrap(),
        "--json",
        "--as-of",
        "2026-09-01",
    ]);
    assert_eq!(out.status.code(), Some(2));
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
    let problems = doc["problems"].as_array().unwrap();
    assert_eq!(problems.len(), 1, "lock file ignored: {problems:?}");
    assert_eq!(problems[0]["file"], "坏文件.xlsx");
    assert_eq!(problems[0]["code"], "file_corrupt");
    assert_eq!(doc["schools"][0]["students"], 1);
}

#[test]
fn usage_errors_and_missing_paths_exit_2() {
    let out = run(&["roster", "check"]);
    assert_eq!(out.status.code(), Some(2));
    let out = run(&["roster", "check", "/no/such/roster.xlsx"]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("/no/such/roster.xlsx"), "{err}");
    let out = run(&["roster", "check", &demo(), "--as-of", "2026-13-01"]);
    assert_eq!(out.status.code(), Some(2));
    let empty = tempfile::tempdir().unwrap();
    let out = run(&["roster", "check", empty.path().to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn problems_sheet_is_written_with_text_ids() {
    use calamine::{Data, Reader, Xlsx};
    let dir = tempfile::tempdir().unwrap();
    let out_file = dir.path().join("问题名单.xlsx");
    let out = run(&[
        "roster",
        "check",
        &demo(),
        "--as-of",
        "2026-09-01",
        "--problems",
        out_file.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(1));
    let mut wb: Xlsx<_> = calamine::open_workbook(&out_file).unwrap();
    let range = wb.worksheet_range("名册").unwrap();
    let rows: Vec<_> = range.rows().collect();
    let header: Vec<String> = rows[0].iter().map(ToString::to_string).collect();
    assert_eq!(header.last().unwrap(), "问题说明");
    assert_eq!(&header[..3], ["序号", "学校", "班级"]);
    // Rows with errors or warnings only (5 errors + 1 warning in the primary school's file).
    assert_eq!(rows.len() - 1, 6);
    for row in &rows[1..] {
        assert!(matches!(&row[5], Data::String(_)), "ID as text: {row:?}");
        assert!(row.last().unwrap().to_string().starts_with("原表第 "));
    }
}

#[test]
fn the_development_rosters_give_the_expected_counts() {
    let Some(dir) = fixture_rosters() else { return };
    let files: Vec<String> = [
        "梧州市长洲区滨江小学社保卡学生名册.xlsx",
        "苍梧县石桥中学学生名册.ods",
        "蒙山县实验幼儿园.xls",
        "梧州市万秀区城北小学",
    ]
    .iter()
    .map(|f| dir.join(f).to_string_lossy().into_owned())
    .collect();
    let mut args = vec!["roster", "check", "--json", "--as-of", "2026-09-01"];
    args.extend(files.iter().map(String::as_str));
    let out = run(&args);
    assert_eq!(out.status.code(), Some(1));
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
    let truth: Value =
        serde_json::from_slice(&std::fs::read(dir.join("truth.json")).unwrap()).unwrap();
    for (name, t) in truth["schools"].as_object().unwrap() {
        let s = doc["schools"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| &s["name"] == name)
            .unwrap();
        assert_eq!(s["students"], t["student_rows"], "{name}");
        assert_eq!(s["photos_ready"], t["expected_photos"], "{name}");
        assert_eq!(s["error_rows"], t["error_rows"], "{name}");
    }
}
