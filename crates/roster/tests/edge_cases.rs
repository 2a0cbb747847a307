#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! Workbooks made inside the tests for the cases the fixtures do not cover, and bad files.

use chrono::NaiveDate;
use roster::{Code, Options, Roster, Severity, Source};
use rust_xlsxwriter::{Format, Workbook};

fn options() -> Options {
    Options {
        as_of: NaiveDate::from_ymd_opt(2026, 9, 1).unwrap(),
        kindergarten_photos: false,
    }
}

fn src(path: &str, folder: Option<&str>, bytes: Vec<u8>) -> Source {
    Source {
        path: path.into(),
        folder: folder.map(str::to_string),
        bytes,
    }
}

fn codes_at(roster: &Roster, row: u32) -> Vec<Code> {
    roster
        .problems
        .iter()
        .filter(|p| p.location.row == Some(row))
        .map(|p| p.code)
        .collect()
}

/// The 17 digits and their check digit, computed independently of the roster crate.
use testkit::with_check_digit as id;

/// A class workbook with a merged title, a header with a note, a repeated header, a numeric
/// ID cell, a blank row and a footer.
fn messy_workbook() -> Vec<u8> {
    let mut wb = Workbook::new();
    let ws = wb.add_worksheet();
    ws.set_name("Sheet1").unwrap();
    let title = Format::new().set_bold();
    ws.merge_range(0, 0, 0, 4, "2026学年社保卡学生名册", &title)
        .unwrap();
    ws.write_row(
        1,
        0,
        ["序号", "姓 名", "性别", "身份证号码（18位）", "备注"],
    )
    .unwrap();
    ws.write_row(2, 0, ["1", "李光艳", "女", "45048120160327062X", ""])
        .unwrap();
    ws.write_number(3, 0, 2).unwrap();
    ws.write_string(3, 1, "黄燕").unwrap();
    ws.write_string(3, 2, "女").unwrap();
    ws.write_number(3, 3, 450403201909021424.0).unwrap();
    // row 5 left blank
    ws.write_row(
        5,
        0,
        ["序号", "姓 名", "性别", "身份证号码（18位）", "备注"],
    )
    .unwrap();
    ws.write_row(6, 0, ["3", "张三", "男", "450481080327061", ""])
        .unwrap();
    ws.write_row(7, 0, ["", "Tom李", "男", &id("45040320190914391"), "插班"])
        .unwrap();
    ws.write_row(9, 0, ["合计：4人", "", "", "", ""]).unwrap();
    ws.write_row(10, 0, ["", "制表人：王老师", "", "", ""])
        .unwrap();
    wb.save_to_buffer().unwrap()
}

#[test]
fn messy_class_workbook() {
    let roster = roster::load(
        &[src(
            "某某小学/三年级2班.xlsx",
            Some("某某小学"),
            messy_workbook(),
        )],
        &options(),
    );
    assert_eq!(roster.schools.len(), 1, "{roster:#?}");
    let school = &roster.schools[0];
    // School from the folder, class from the file name (the sheet name is a default one).
    assert_eq!(school.name, "某某小学");
    assert_eq!(school.classes.len(), 1);
    assert_eq!(school.classes[0].name, "三年级2班");
    let rows: Vec<u32> = school.students().map(|s| s.row).collect();
    assert_eq!(
        rows,
        [3, 4, 7, 8],
        "title, header, blank, repeated header and footer skipped"
    );
    assert!(codes_at(&roster, 3).is_empty());
    assert_eq!(codes_at(&roster, 4), [Code::IdNumericCell]);
    assert_eq!(codes_at(&roster, 7), [Code::IdLength]);
    let upgrade = roster
        .problems
        .iter()
        .find(|p| p.code == Code::IdLength)
        .unwrap();
    let suggestion = &upgrade.suggestion.as_ref().unwrap().zh;
    assert!(
        suggestion.contains(&roster::id::upgrade_15_in("450481080327061", "20").unwrap()),
        "{suggestion}"
    );
    assert_eq!(codes_at(&roster, 8), [Code::NameInvalidChar]);
    // Header texts and unknown columns are kept for the sheets written later.
    let sheet = &roster.sheets[0];
    assert_eq!(sheet.header_row, 2);
    assert_eq!(
        sheet.headers,
        ["序号", "姓 名", "性别", "身份证号码（18位）", "备注"]
    );
    assert_eq!(school.classes[0].students[3].cells[4], "插班");
    // A numeric ID cell keeps what Excel shows for it; the lost digits are not invented.
    assert_eq!(
        school.classes[0].students[1].cells[3],
        "4.50403201909021E+17"
    );
}

#[test]
fn several_files_make_one_school_and_duplicates_are_found_across_them() {
    let a = "序号,姓名,身份证号码\n1,李光艳,45048120160327062X\n2,王芳,450403201909021424\n";
    let b = "序号,姓名,身份证号码\n1,黄燕,450403201909021424\n";
    let c = "学校,班级,姓名,身份证号码\n另一小学,一班,李光艳,45048120160327062X\n";
    let (gbk, _, _) = encoding_rs::GBK.encode(b);
    let roster = roster::load(
        &[
            src(
                "城北小学/一年级1班.csv",
                Some("城北小学"),
                a.as_bytes().to_vec(),
            ),
            src("城北小学/一年级2班.csv", Some("城北小学"), gbk.into_owned()),
            src("另一小学.csv", None, c.as_bytes().to_vec()),
        ],
        &options(),
    );
    let names: Vec<_> = roster.schools.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(names, ["城北小学", "另一小学"]);
    assert_eq!(roster.schools[0].classes.len(), 2);
    let by_code = |code| {
        roster
            .problems
            .iter()
            .filter(|p| p.code == code)
            .map(|p| (p.location.file.as_str(), p.location.row.unwrap()))
            .collect::<Vec<_>>()
    };
    assert_eq!(
        by_code(Code::DuplicateIdInSchool),
        [("城北小学/一年级1班.csv", 3), ("城北小学/一年级2班.csv", 2)]
    );
    assert_eq!(
        by_code(Code::DuplicateIdAcrossSchools),
        [("城北小学/一年级1班.csv", 2), ("另一小学.csv", 2)]
    );
}

#[test]
fn kindergarten_photos_are_configurable() {
    let csv = format!(
        "学校,班级,姓名,身份证号码\n阳光幼儿园,小班,李光艳,{}\n",
        id("45048120220327062")
    );
    let load = |kindergarten_photos| {
        roster::load(
            &[src("阳光幼儿园.csv", None, csv.clone().into_bytes())],
            &Options {
                kindergarten_photos,
                ..options()
            },
        )
    };
    let off = load(false);
    assert_eq!(off.schools[0].kind, roster::SchoolKind::Kindergarten);
    assert!(!off.students().next().unwrap().photo_required);
    assert!(off.problems.is_empty(), "{:?}", off.problems);
    assert!(load(true).students().next().unwrap().photo_required);
}

#[test]
fn age_depends_on_the_school_kind() {
    let twelve = id("45048120140327062");
    let csv =
        format!("学校,班级,姓名,身份证号码\n某小学,六班,甲,{twelve}\n某幼儿园,大班,乙,{twelve}\n");
    let roster = roster::load(&[src("x.csv", None, csv.into_bytes())], &options());
    assert!(codes_at(&roster, 2).is_empty());
    assert_eq!(codes_at(&roster, 3), [Code::IdAge]);
}

#[test]
fn bad_files_are_named_and_the_rest_still_loads() {
    let good = "序号,姓名,身份证号码\n1,李光艳,45048120160327062X\n"
        .as_bytes()
        .to_vec();
    let encrypted = std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/data/encrypted.xlsx"
    ))
    .unwrap();
    let mut corrupt = messy_workbook();
    corrupt.truncate(corrupt.len() / 2);
    let roster = roster::load(
        &[
            src("a/empty.xlsx", None, Vec::new()),
            src("a/encrypted.xlsx", None, encrypted),
            src("a/corrupt.xlsx", None, corrupt),
            src(
                "a/page.xls",
                None,
                b"<html><body><table><tr><td>1</td></tr></table></body></html>".to_vec(),
            ),
            src(
                "a/photo.xlsx",
                None,
                vec![0xFF, 0xD8, 0xFF, 0xE0, 0, 0x10, b'J', b'F', b'I', b'F', 0],
            ),
            src(
                "a/notes.csv",
                None,
                "会议纪要\n今天拍照\n".as_bytes().to_vec(),
            ),
            src("a/good.csv", Some("好学校"), good),
        ],
        &options(),
    );
    let file_codes: Vec<(&str, Code)> = roster
        .unreadable_files()
        .map(|p| (p.location.file.as_str(), p.code))
        .collect();
    assert_eq!(
        file_codes,
        [
            ("a/empty.xlsx", Code::FileEmpty),
            ("a/encrypted.xlsx", Code::FileEncrypted),
            ("a/corrupt.xlsx", Code::FileCorrupt),
            ("a/page.xls", Code::FileHtmlOrText),
            ("a/photo.xlsx", Code::FileNotSpreadsheet),
            ("a/notes.csv", Code::FileNoHeader),
        ]
    );
    for p in roster.unreadable_files() {
        assert_eq!(p.severity(), Severity::Error);
        assert!(!p.message.zh.is_empty() && !p.message.en.is_empty());
    }
    assert_eq!(roster.students().count(), 1);
    assert_eq!(roster.schools[0].name, "好学校");
}

#[test]
fn a_summary_sheet_is_skipped_and_reported() {
    let mut wb = Workbook::new();
    let s = wb.add_worksheet();
    s.set_name("汇总").unwrap();
    s.write_row(0, 0, ["班级", "人数"]).unwrap();
    s.write_row(1, 0, ["一班", "1"]).unwrap();
    let c = wb.add_worksheet();
    c.set_name("一班").unwrap();
    c.write_row(0, 0, ["学校", "姓名", "身份证号码"]).unwrap();
    c.write_row(1, 0, ["某小学", "李光艳", "45048120160327062X"])
        .unwrap();
    wb.add_worksheet(); // empty: ignored silently
    let roster = roster::load(
        &[src("名册.xlsx", None, wb.save_to_buffer().unwrap())],
        &options(),
    );
    assert_eq!(roster.problems.len(), 1, "{:?}", roster.problems);
    assert_eq!(roster.problems[0].code, Code::SheetSkipped);
    assert_eq!(roster.problems[0].location.sheet.as_deref(), Some("汇总"));
    assert_eq!(roster.schools[0].classes[0].name, "一班");
}

#[test]
fn student_keys_are_stable_and_unique() {
    let csv = "姓名,身份证号码,核对前身份证号码,核对前姓名\n\
               李光艳,45048120160327062X,45048120160327062x,李光艳\n\
               王芳,450403201909021424,,\n\
               王芳,450403201909021424,,\n";
    let roster = roster::load(
        &[src("学校/一班.csv", Some("学校"), csv.as_bytes().to_vec())],
        &options(),
    );
    let keys: Vec<_> = roster.students().map(|s| s.key.as_str()).collect();
    assert_eq!(
        keys,
        ["45048120160327062X", "学校/一班/王芳", "学校/一班/王芳#2"]
    );
    // A lowercase x in the 核对前 column is not a correction, and it is kept as received.
    let first = roster.students().next().unwrap();
    assert!(!first.correction);
    assert_eq!(first.original_id, "45048120160327062x");
}

#[test]
fn xlsm_is_read_like_xlsx() {
    let roster = roster::load(
        &[src("学校/一班.xlsm", Some("学校"), messy_workbook())],
        &options(),
    );
    assert_eq!(roster.students().count(), 4);
    assert_eq!(roster.unreadable_files().count(), 0);
}

#[test]
fn truncated_workbooks_never_panic() {
    let whole = messy_workbook();
    for cut in (0..whole.len()).step_by(97) {
        let roster = roster::load(&[src("cut.xlsx", None, whole[..cut].to_vec())], &options());
        assert_eq!(roster.unreadable_files().count(), 1, "cut at {cut}");
    }
}

mod never_panics {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(200))]

        #[test]
        fn on_arbitrary_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..2000), ext in "(xlsx|xls|ods|csv)") {
            let roster = roster::load(&[src(&format!("x.{ext}"), None, bytes)], &options());
            prop_assert!(roster.students().count() <= 2000);
        }

        #[test]
        fn on_arbitrary_roster_text(rows in proptest::collection::vec(("\\PC{0,8}", "[0-9xX ０-９]{0,20}", "(男|女|\\PC{0,2})"), 0..30)) {
            let mut csv = String::from("姓名,身份证号码,性别,核对前身份证号码\n");
            for (name, id, gender) in &rows {
                let clean = |s: &str| s.replace([',', '"', '\n', '\r'], "");
                csv.push_str(&format!("{},{},{},{}\n", clean(name), clean(id), clean(gender), clean(id)));
            }
            let roster = roster::load(&[src("学校/一班.csv", Some("学校"), csv.into_bytes())], &options());
            // Every problem names a place that exists.
            for p in &roster.problems {
                prop_assert_eq!(&p.location.file, "学校/一班.csv");
            }
            prop_assert!(roster.students().count() <= rows.len());
        }
    }
}

#[test]
fn names_and_folders_that_cannot_become_a_file_name_are_errors() {
    let long = "赵".repeat(90);
    let class = "班".repeat(70);
    let csv = format!(
        "学校,班级,姓名,身份证号码\n测试小学,一(1)班,{long},{}\n测试小学,{class},李光艳,{}\n测试小学,一(1)班,黄燕,{}\n",
        id("45048120150327061"),
        id("45048120150327062"),
        id("45048120150327063"),
    );
    let roster = roster::load(&[src("名册.csv", None, csv.into_bytes())], &options());
    assert_eq!(codes_at(&roster, 2), vec![Code::NameTooLong]);
    let p = roster
        .problems
        .iter()
        .find(|p| p.code == Code::NameTooLong)
        .unwrap();
    assert_eq!(p.severity(), Severity::Error);
    assert!(
        p.message.zh.contains("90") && p.message.zh.contains("40"),
        "{}",
        p.message.zh
    );
    assert_eq!(codes_at(&roster, 3), vec![Code::FolderNameTooLong]);
    assert!(codes_at(&roster, 4).is_empty());
    let ready: Vec<&str> = roster
        .schools
        .iter()
        .flat_map(|s| s.students())
        .filter(|s| s.is_ready())
        .map(|s| s.name.as_str())
        .collect();
    assert_eq!(ready, ["黄燕"], "rows with these errors get no file name");
}

/// Small files that would take gigabytes if read naively are refused with their own codes,
/// naming the file, and reading them stays cheap.
#[test]
fn hostile_workbooks_are_refused_before_they_cost_memory() {
    use testkit::hostile;
    let cases: Vec<(&str, Vec<u8>, Code)> = vec![
        ("远角.xlsx", hostile::xlsx_far_corner(), Code::FileTooLarge),
        (
            "共享字符串.xlsx",
            hostile::xlsx_shared_strings_bomb(128),
            Code::FileTooLarge,
        ),
        ("重复行.ods", hostile::ods_repeat_bomb(), Code::FileTooLarge),
        ("远角.xls", hostile::xls_far_corner(), Code::FileTooLarge),
        ("加密.ods", hostile::ods_encrypted(), Code::FileEncrypted),
        ("二进制.xlsb", hostile::xlsb(), Code::FileUnsupported),
        ("excel4.xls", hostile::biff4(), Code::FileUnsupported),
    ];
    for (name, bytes, code) in cases {
        assert!(bytes.len() < 2 << 20, "{name}: {} bytes", bytes.len());
        let started = std::time::Instant::now();
        let roster = roster::load(&[src(name, None, bytes)], &options());
        let problems: Vec<_> = roster
            .problems
            .iter()
            .filter(|p| p.location.file == name)
            .collect();
        assert_eq!(problems.len(), 1, "{name}: {problems:?}");
        assert_eq!(problems[0].code, code, "{name}: {}", problems[0].message.en);
        assert_eq!(problems[0].severity(), Severity::Error);
        for text in [&problems[0].message.zh, &problems[0].message.en] {
            assert!(
                !text.contains(" { ") && !text.contains("Some("),
                "{name}: {text}"
            );
        }
        // Generous: it is the absence of a billion-cell grid that is checked, not speed.
        assert!(started.elapsed().as_secs() < 30, "{name}");
    }
}

/// Hard files from calamine's and xlrd's own test corpora (`tests/data/corpora`, with their
/// licences): each gets its own code, none panics.
#[test]
fn files_from_other_projects_corpora() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/corpora");
    for (file, code) in [
        ("calamine/issue_594_dos.ods", Some(Code::FileTooLarge)),
        (
            "calamine/number_rows_repeated.ods",
            Some(Code::FileNoHeader),
        ),
        ("calamine/issue_666_panic.xlsb", Some(Code::FileUnsupported)),
        ("calamine/too_small.xls", Some(Code::FileHtmlOrText)),
        (
            "xlrd/biff4_no_format_no_window2.xls",
            Some(Code::FileUnsupported),
        ),
        ("xlrd/sample.xlsb", Some(Code::FileUnsupported)),
        ("xlrd/ragged.xls", Some(Code::FileNoHeader)),
    ] {
        let bytes = std::fs::read(dir.join(file)).unwrap();
        let roster = roster::load(&[src(file, None, bytes)], &options());
        let codes: Vec<Code> = roster.problems.iter().map(|p| p.code).collect();
        assert_eq!(codes.first().copied(), code, "{file}: {codes:?}");
    }
}
