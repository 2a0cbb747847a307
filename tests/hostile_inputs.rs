#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! Hostile files against the real binary: workbooks that would take gigabytes if read
//! naively (generated here), a reload with such a file, and the peak memory they cost.
//! One test in this binary, so the children's peak memory is this test's alone.

mod common;
use common::run;

#[test]
fn workbook_bombs_are_refused_within_500_mb_and_a_reload_with_one_is_refused() {
    use testkit::hostile;
    let dir = tempfile::tempdir().unwrap();
    let files = [
        ("远角.xlsx", hostile::xlsx_far_corner(), "file_too_large"),
        (
            "共享字符串.xlsx",
            hostile::xlsx_shared_strings_bomb(1536),
            "file_too_large",
        ),
        ("重复行.ods", hostile::ods_repeat_bomb(), "file_too_large"),
        ("远角.xls", hostile::xls_far_corner(), "file_too_large"),
        ("加密.ods", hostile::ods_encrypted(), "file_encrypted"),
        ("二进制.xlsb", hostile::xlsb(), "file_unsupported"),
        ("excel4.xls", hostile::biff4(), "file_unsupported"),
    ];
    for (name, bytes, code) in &files {
        assert!(bytes.len() < 10 << 20, "{name}: a file of at most 10 MB");
        let path = dir.path().join(name);
        std::fs::write(&path, bytes).unwrap();
        let out = run(&["roster", "check", path.to_str().unwrap(), "--json"]);
        // 2: a file could not be read (documented in `rollcall roster check --help`).
        assert_eq!(
            out.status.code(),
            Some(2),
            "{name}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        let codes: Vec<&str> = report["problems"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|p| p["code"].as_str())
            .collect();
        assert_eq!(codes, [*code], "{name}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            !stderr.contains("WARN"),
            "{name}: library warnings reach stderr: {stderr}"
        );
    }
    let peak = nix::sys::resource::getrusage(nix::sys::resource::UsageWho::RUSAGE_CHILDREN)
        .unwrap()
        .max_rss(); // KiB on Linux
    assert!(
        peak < 500 * 1024,
        "peak memory of a roster check: {} MB",
        peak / 1024
    );
    eprintln!(
        "peak memory of the hostile roster checks: {} MB",
        peak / 1024
    );

    // A session whose roster file is replaced by a bomb: the reload is refused, the session
    // is as it was.
    let data = dir.path().join("data");
    let roster = dir.path().join("名册.csv");
    std::fs::write(
        &roster,
        format!(
            "学校,班级,姓名,身份证号码\n测试小学,一(1)班,李光艳,{}\n",
            testkit::id(1)
        ),
    )
    .unwrap();
    let out = run(&[
        "session",
        "start",
        data.to_str().unwrap(),
        roster.to_str().unwrap(),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let journal = data.join("sessions/测试小学/journal.jsonl");
    let before = std::fs::read(&journal).unwrap();
    let bomb = dir.path().join("名册.xlsx");
    std::fs::write(&bomb, hostile::xlsx_far_corner()).unwrap();
    let out = run(&[
        "session",
        "reload",
        data.to_str().unwrap(),
        bomb.to_str().unwrap(),
    ]);
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("名册.xlsx") && stderr.contains("太大"),
        "{stderr}"
    );
    assert_eq!(
        std::fs::read(&journal).unwrap(),
        before,
        "the session is as it was"
    );
}
