#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! `rollcall pack`, `verify`, `submit plan` and `print` as a user runs them, with the results
//! read back by independent tools: Info-ZIP `unzip`, Python's `zipfile` (also decoding GBK
//! names as cp936) and openpyxl for the class sheet.

mod common;

use common::*;
use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

use serde_json::Value;

/// Debian's python3, which has openpyxl from the system packages (scripts/setup).
fn python(script: &str, args: &[&Path]) -> String {
    let python = if Path::new("/usr/bin/python3").exists() {
        "/usr/bin/python3"
    } else {
        "python3"
    };
    let out = Command::new(python)
        .arg("-c")
        .arg(script)
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// Every row of a workbook's active sheet, as openpyxl reads it.
fn sheet_rows(path: &Path) -> Vec<Vec<Value>> {
    let json = python(
        "import sys, json, openpyxl\n\
         ws = openpyxl.load_workbook(sys.argv[1]).active\n\
         print(json.dumps([[c.value for c in r] for r in ws.iter_rows()], ensure_ascii=False))",
        &[path],
    );
    serde_json::from_str(&json).unwrap()
}

#[test]
fn a_school_is_packed_verified_and_read_back_by_other_tools() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let school_dir = tmp.path().join("梧州市测试中学");
    std::fs::create_dir_all(&school_dir).unwrap();
    let a = with_check_digit("45040320120301001");
    let b = with_check_digit("45040320120302002");
    std::fs::write(
        school_dir.join("初二(3)班.csv"),
        format!(
            "序号,姓名,性别,身份证号码,家长电话\n1,韦小宝,男,{a},13800000000\n2,莫小雨,女,{b},\n"
        ),
    )
    .unwrap();
    let d = data.to_str().unwrap();
    ok(&run(&["session", "start", d, school_dir.to_str().unwrap()]));
    let spool = tmp.path().join("spool");
    std::fs::create_dir_all(&spool).unwrap();
    let frames = repo().join("crates/pipeline/tests/data/pd/frames");
    for f in ["IMG_1007.JPG", "IMG_1014.JPG"] {
        std::fs::copy(frames.join(f), spool.join(f)).unwrap();
    }
    ok(&run(&[
        "session",
        "run",
        d,
        "--spool",
        spool.to_str().unwrap(),
        "--until-idle",
    ]));

    // Before packing the class sheet is missing; pack writes it, verifies, zips.
    let v = run(&["verify", d, "--json"]);
    assert_eq!(v.status.code(), Some(1));
    let report: Value = serde_json::from_slice(&v.stdout).unwrap();
    assert_eq!(report[0]["defects"][0]["code"], "missing_sheet");
    let packed: Value = serde_json::from_str(&ok(&run(&[
        "pack",
        d,
        "--school",
        "梧州市测试中学",
        "--json",
    ])))
    .unwrap();
    assert_eq!(packed[0]["files"], 3);
    assert_eq!(packed[0]["complete"], true);
    ok(&run(&["verify", d]));

    let school_out = data.join("output/梧州市测试中学");
    let mut want = BTreeMap::new();
    for (rel, bytes) in tree(&school_out) {
        want.insert(format!("梧州市测试中学/{rel}"), bytes);
    }
    assert!(want.contains_key(&format!("梧州市测试中学/初二(3)班/{a}-韦小宝.jpg")));
    assert!(want.contains_key("梧州市测试中学/初二(3)班/初二(3)班.xlsx"));
    let zip = data.join("submissions/梧州市测试中学.zip");
    let first = std::fs::read(&zip).unwrap();

    // Info-ZIP unzip gives the same tree and bytes.
    let unz = tmp.path().join("unzip");
    let out = Command::new("unzip")
        .arg("-q")
        .arg(&zip)
        .arg("-d")
        .arg(&unz)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(tree(&unz), want);

    // Python's zipfile too.
    let listing = python(
        "import sys, zipfile, hashlib\n\
         z = zipfile.ZipFile(sys.argv[1])\n\
         for i in z.infolist():\n    print(i.filename + '\\t' + hashlib.sha256(z.read(i)).hexdigest())",
        &[&zip],
    );
    let from_python: BTreeMap<String, String> = listing
        .lines()
        .map(|l| {
            let (n, h) = l.split_once('\t').unwrap();
            (n.to_string(), h.to_string())
        })
        .collect();
    let manifest =
        std::fs::read_to_string(data.join("submissions/梧州市测试中学.zip.sha256")).unwrap();
    for (name, hash) in &from_python {
        assert!(
            manifest.contains(&format!("{hash}  {name}")),
            "{name} in the manifest"
        );
    }
    assert_eq!(from_python.len(), want.len());

    // Same content, same bytes.
    ok(&run(&["pack", d, "--school", "梧州市测试中学"]));
    assert_eq!(std::fs::read(&zip).unwrap(), first);

    // GBK names, for old Windows tools: Python decoding them as cp936 sees the same names.
    let gbk_dir = tmp.path().join("gbk");
    ok(&run(&[
        "pack",
        d,
        "--school",
        "梧州市测试中学",
        "--names",
        "gbk",
        "--out",
        gbk_dir.to_str().unwrap(),
    ]));
    let names = python(
        "import sys, zipfile\n\
         z = zipfile.ZipFile(sys.argv[1], metadata_encoding='cp936')\n\
         print('\\n'.join(sorted(i.filename for i in z.infolist())))",
        &[&gbk_dir.join("梧州市测试中学.zip")],
    );
    let want_names: Vec<&str> = want.keys().map(String::as_str).collect();
    assert_eq!(names.lines().collect::<Vec<_>>(), want_names);

    // The class sheet read by openpyxl: original columns kept, 核对前 columns added, IDs text.
    let rows = sheet_rows(&school_out.join("初二(3)班/初二(3)班.xlsx"));
    assert_eq!(
        rows[0],
        [
            "序号",
            "姓名",
            "性别",
            "身份证号码",
            "家长电话",
            "核对前身份证号码",
            "核对前姓名"
        ]
    );
    assert_eq!(
        rows[1][3],
        Value::String(a.clone()),
        "the ID is a string, not a number"
    );
    assert_eq!(rows[1][4], "13800000000");
    assert_eq!(rows[2][5], Value::String(b.clone()));

    // A stray file is found.
    std::fs::write(school_out.join("初二(3)班/IMG_0001.JPG"), b"stray").unwrap();
    let v = run(&["verify", d, "--json"]);
    assert_eq!(v.status.code(), Some(1));
    let report: Value = serde_json::from_slice(&v.stdout).unwrap();
    assert_eq!(report[0]["defects"][0]["code"], "extra_file");
    let refused = run(&["pack", d, "--school", "梧州市测试中学"]);
    assert_eq!(refused.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&refused.stderr).contains("未打包"));
    std::fs::remove_file(school_out.join("初二(3)班/IMG_0001.JPG")).unwrap();

    // The plan for tomorrow-or-the-next-working-day lists today's data as packed; the ledger
    // holds every pack.
    let ledger = std::fs::read_to_string(data.join("submissions.jsonl")).unwrap();
    assert_eq!(ledger.lines().count(), 3);
    let plan: Value = serde_json::from_str(&ok(&run(&["submit", "plan", d, "--json"]))).unwrap();
    let items = plan["items"].as_array().unwrap();
    assert_eq!(items[0]["kind"], "daily");
    assert_eq!(items[0]["schools"][0][0], "梧州市测试中学");
    assert_eq!(items[0]["schools"][0][1], true, "already packed");

    // A walk-in is photographed and appears at the end of the class sheet.
    let c = with_check_digit("45040320120303003");
    ok(&run(&[
        "session",
        "add",
        d,
        "--name",
        "插班生",
        "--class",
        "初二(3)班",
        "--id",
        &c,
    ]));
    // The walk-in looks like 韦小宝 (the frames show two people): their twin, says the teacher.
    // Until someone confirms it, verify reports the pair and pack refuses.
    std::fs::copy(frames.join("IMG_1021.JPG"), spool.join("IMG_1021.JPG")).unwrap();
    ok(&run(&[
        "session",
        "run",
        d,
        "--spool",
        spool.to_str().unwrap(),
        "--until-idle",
    ]));
    assert_eq!(
        run(&["pack", d, "--school", "梧州市测试中学"])
            .status
            .code(),
        Some(1)
    );
    let v = run(&["verify", d, "--json"]);
    assert_eq!(v.status.code(), Some(1));
    let report: Value = serde_json::from_slice(&v.stdout).unwrap();
    let codes: Vec<&str> = report[0]["defects"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["code"].as_str().unwrap())
        .collect();
    assert!(codes.contains(&"same_face"), "{report}");
    let check = run(&["faces", "check", d, "--json"]);
    assert_eq!(check.status.code(), Some(1), "an unconfirmed pair");
    ok(&run(&[
        "session",
        "different-people",
        d,
        "韦小宝",
        "插班生",
    ]));
    let check: Value = serde_json::from_str(&ok(&run(&["faces", "check", d, "--json"]))).unwrap();
    assert_eq!(check[0]["pairs"], serde_json::json!([]));
    assert_eq!(check[0]["confirmed"][0]["a"]["name"], "韦小宝");
    assert!(
        !check.to_string().contains("\"face\""),
        "no descriptor is printed"
    );
    ok(&run(&["pack", d, "--school", "梧州市测试中学"]));
    let rows = sheet_rows(&school_out.join("初二(3)班/初二(3)班.xlsx"));
    assert_eq!(rows.len(), 4);
    assert_eq!(rows[3][1], "插班生");
    assert_eq!(rows[3][3], Value::String(c.clone()));
    assert!(
        school_out
            .join(format!("初二(3)班/{c}-插班生.jpg"))
            .is_file()
    );

    // Printables.
    let html = tmp.path().join("list.html");
    ok(&run(&[
        "print",
        d,
        "class-list",
        "--out",
        html.to_str().unwrap(),
    ]));
    let text = std::fs::read_to_string(&html).unwrap();
    assert!(text.contains("韦小宝") && text.contains("已拍"));
    assert!(!text.contains(&a), "IDs are masked on paper");
}
