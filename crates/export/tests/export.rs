//! The export core on data made in the tests: class sheets read back with calamine, every
//! defect kind of `verify`, deterministic zips in UTF-8 and GBK, the submission schedule over a
//! calendar.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::{BTreeMap, BTreeSet};
use std::io::Read;

use chrono::NaiveDate;
use export::pack::{self, Entry, Names, PackError};
use export::plan::{self, Kind, Progress, Submission};
use export::sheet::{self, WalkIn};
use export::verify::{self, Code, Expected, Facts, Found, Student};

/// The 17 digits and their check digit, computed independently of the roster crate.
use testkit::with_check_digit as id;

fn roster_csv(csv: &str) -> roster::Roster {
    roster::load(
        &[roster::Source {
            path: "梧州市示例小学/一年级1班.csv".into(),
            folder: Some("梧州市示例小学".into()),
            bytes: csv.as_bytes().to_vec(),
        }],
        &roster::Options {
            as_of: NaiveDate::from_ymd_opt(2026, 9, 1).unwrap(),
            kindergarten_photos: false,
        },
    )
}

#[test]
fn the_class_sheet_keeps_the_original_columns_and_writes_ids_as_text() {
    let a = id("45040320190301001");
    let b = id("45040320190302002");
    let b_lower = b.to_lowercase();
    let csv =
        format!("序号,姓名,性别,身份证号码,备注\n1,韦小宝,男,{a},\n2,莫 小 雨,女,{b_lower},走读\n");
    let r = roster_csv(&csv);
    let school = &r.schools[0];
    let class = &school.classes[0];
    let walk_in = WalkIn {
        name: "插班生".into(),
        id: id("45040320190303003"),
    };
    let s = sheet::class_sheet(
        &r,
        &school.name,
        &class.name,
        std::slice::from_ref(&walk_in),
    );
    assert_eq!(
        s.headers,
        [
            "序号",
            "姓名",
            "性别",
            "身份证号码",
            "备注",
            "核对前身份证号码",
            "核对前姓名"
        ]
    );
    assert_eq!(s.rows.len(), 3);
    // Corrected values in 身份证号码/姓名, received values in the 核对前 columns.
    assert_eq!(s.rows[1][3], b, "normalised ID");
    assert_eq!(s.rows[1][1], "莫小雨", "normalised name");
    assert_eq!(s.rows[1][5], b_lower, "received ID as received");
    assert_eq!(s.rows[1][6], "莫 小 雨");
    assert_eq!(s.rows[1][4], "走读", "other columns untouched");
    assert_eq!(s.rows[2][1], "插班生");

    let bytes = sheet::to_xlsx(&s).unwrap();
    assert_eq!(bytes, sheet::to_xlsx(&s).unwrap(), "deterministic");
    use calamine::{Data, Reader, Xlsx};
    let mut book = Xlsx::new(std::io::Cursor::new(bytes)).unwrap();
    let range = book.worksheet_range(&class.name).unwrap();
    let rows: Vec<Vec<Data>> = range.rows().map(|r| r.to_vec()).collect();
    assert_eq!(rows[0][3], Data::String("身份证号码".into()));
    assert_eq!(rows[1][3], Data::String(a.clone()), "an ID is a text cell");
    assert_eq!(rows[1][0], Data::String("1".into()), "every cell is text");
    assert_eq!(rows[3][3], Data::String(walk_in.id));
}

fn jpeg(w: u16, h: u16, dpi: u16, kb: u64) -> Facts {
    Facts::Jpeg {
        width: w,
        height: h,
        components: 3,
        density_unit: 1,
        density: dpi,
        bytes: kb * 1024,
    }
}

#[test]
fn verify_finds_every_kind_of_defect() {
    let a = id("45040320190301001");
    let b = id("45040320190302002");
    let c = id("45040320190303003");
    let students = vec![
        Student {
            name: "韦小宝".into(),
            id_number: Some(a.clone()),
            file: Some(format!("{a}-韦小宝.jpg")),
            needs_photo: true,
        },
        Student {
            name: "莫小雨".into(),
            id_number: Some(b.clone()),
            file: Some(format!("{b}-莫小雨.jpg")),
            needs_photo: true,
        },
        Student {
            name: "黄可欣".into(),
            id_number: None,
            file: None,
            needs_photo: true,
        },
        Student {
            name: "陈宇航".into(),
            id_number: Some(c.clone()),
            file: Some(format!("{c}-陈宇航.jpg")),
            needs_photo: true,
        },
    ];
    let expected = Expected {
        school: "梧州市示例小学".into(),
        separator: "-".into(),
        classes: BTreeMap::from([("一年级1班".to_string(), students)]),
        width: 358,
        height: 441,
        dpi: 350,
        size_min_kb: 14,
        size_max_kb: 40,
        same_faces: Vec::new(),
    };
    let f = |file: &str, facts: Facts| Found {
        class: "一年级1班".into(),
        file: file.into(),
        facts,
    };
    // Clean first.
    let clean_expected = Expected {
        classes: BTreeMap::from([(
            "一年级1班".to_string(),
            expected.classes["一年级1班"][..1].to_vec(),
        )]),
        ..expected.clone()
    };
    let clean = [
        f(&format!("{a}-韦小宝.jpg"), jpeg(358, 441, 350, 20)),
        f(
            "一年级1班.xlsx",
            Facts::Sheet(Ok(vec![(a.clone(), "韦小宝".into())])),
        ),
    ];
    assert_eq!(verify::verify(&clean_expected, &clean), vec![]);

    let found = [
        f(&format!("{a}-韦小宝.jpg"), jpeg(300, 441, 300, 50)),
        f(&format!("{b}-莫晓雨.jpg"), jpeg(358, 441, 350, 20)),
        f(&format!("{c}-陈宇航.jpg"), Facts::NotJpeg),
        f("IMG_0001.JPG", Facts::Other),
        f(
            "一年级1班.xlsx",
            Facts::Sheet(Ok(vec![
                (a.clone(), "韦小宝".into()),
                (b.clone(), "莫晓雨".into()),
            ])),
        ),
        Found {
            class: "二年级1班".into(),
            file: "x.jpg".into(),
            facts: jpeg(358, 441, 350, 20),
        },
    ];
    let defects = verify::verify(&expected, &found);
    let codes: BTreeSet<Code> = defects.iter().map(|d| d.code).collect();
    let want = BTreeSet::from([
        Code::MissingPhoto,
        Code::RosterError,
        Code::NameMismatch,
        Code::ExtraFile,
        Code::NotJpeg,
        Code::WrongSize,
        Code::WrongDensity,
        Code::FileSize,
        Code::SheetMismatch,
    ]);
    assert_eq!(codes, want, "{defects:#?}");
    let mismatch = defects
        .iter()
        .find(|d| d.code == Code::NameMismatch)
        .unwrap();
    assert!(
        mismatch.message.zh.contains("莫小雨"),
        "names the right file"
    );
    let missing = verify::verify(&expected, &found[..4]);
    assert!(missing.iter().any(|d| d.code == Code::MissingSheet));
}

fn entries() -> Vec<Entry> {
    vec![
        Entry {
            path: "梧州市示例小学/一年级1班/450403201903010012-韦小宝.jpg".into(),
            bytes: b"photo one".to_vec(),
        },
        Entry {
            path: "梧州市示例小学/一年级1班/一年级1班.xlsx".into(),
            bytes: b"sheet".to_vec(),
        },
        Entry {
            path: "梧州市示例小学/一年级2班/450403201903020029-莫小雨.jpg".into(),
            bytes: b"photo two".to_vec(),
        },
    ]
}

fn read_zip(bytes: &[u8]) -> Vec<(Vec<u8>, bool, Vec<u8>)> {
    let mut z = zip::ZipArchive::new(std::io::Cursor::new(bytes)).unwrap();
    (0..z.len())
        .map(|i| {
            let mut f = z.by_index(i).unwrap();
            let name = f.name_raw().to_vec();
            // General purpose bit 11: names are UTF-8.
            let utf8 =
                std::str::from_utf8(&name).is_ok() && f.name().is_ok_and(|n| n.as_bytes() == name);
            let mut content = Vec::new();
            f.read_to_end(&mut content).unwrap();
            (name, utf8, content)
        })
        .collect()
}

#[test]
fn zips_are_deterministic_in_utf8_and_gbk() {
    let a = pack::pack(entries(), Names::Utf8, (2026, 11, 30), "x.zip").unwrap();
    let mut shuffled = entries();
    shuffled.reverse();
    let b = pack::pack(shuffled, Names::Utf8, (2026, 11, 30), "x.zip").unwrap();
    assert_eq!(
        a.zip, b.zip,
        "same content, same bytes, whatever the order given"
    );
    assert_eq!(a.manifest.lines().count(), 4);
    assert!(a.manifest.ends_with("  x.zip\n"));
    let files = read_zip(&a.zip);
    assert_eq!(files.len(), 3);
    assert_eq!(
        String::from_utf8(files[0].0.clone()).unwrap(),
        "梧州市示例小学/一年级1班/450403201903010012-韦小宝.jpg"
    );
    assert_eq!(files[0].2, b"photo one");

    let g = pack::pack(entries(), Names::Gbk, (2026, 11, 30), "x.zip").unwrap();
    assert_eq!(
        g.content_hash, a.content_hash,
        "the content hash ignores the name encoding"
    );
    assert_eq!(
        pack::content_hash(&entries()),
        a.content_hash,
        "the same hash without making the zip"
    );
    let files = read_zip(&g.zip);
    let (name, _, content) = &files[0];
    let (decoded, _, bad) = encoding_rs::GBK.decode(name);
    assert!(!bad);
    assert_eq!(
        decoded,
        "梧州市示例小学/一年级1班/450403201903010012-韦小宝.jpg"
    );
    assert_eq!(content, b"photo one");

    let mut rare = entries();
    rare[0].path = "梧州市示例小学/一年级1班/450403201903010012-𠀀.jpg".into();
    match pack::pack(rare, Names::Gbk, (2026, 11, 30), "x.zip") {
        Err(PackError::NotGbk(name)) => assert!(name.contains('𠀀')),
        other => panic!("{other:?}"),
    }
}

fn d(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
}

#[test]
fn the_submission_plan_follows_the_city_schedule() {
    // Mon 2 Nov 2026 the campaign starts. School A: Mon–Thu, complete Thu 5 Nov.
    // School B: Fri 6 and Mon 9, complete Mon 9. School C: from Tue 10, not complete.
    let days = |list: &[&str]| list.iter().map(|s| d(s)).collect::<BTreeSet<_>>();
    let schools = vec![
        Progress {
            school: "A".into(),
            shooting_days: days(&["2026-11-02", "2026-11-03", "2026-11-04", "2026-11-05"]),
            completed_on: Some(d("2026-11-05")),
            content_hash: Some("a2".into()),
        },
        Progress {
            school: "B".into(),
            shooting_days: days(&["2026-11-06", "2026-11-09"]),
            completed_on: Some(d("2026-11-09")),
            content_hash: Some("b1".into()),
        },
        Progress {
            school: "C".into(),
            shooting_days: days(&["2026-11-10"]),
            completed_on: None,
            content_hash: None,
        },
    ];
    let sub = |school: &str, date: &str, hash: &str, complete: bool| Submission {
        school: school.into(),
        date: d(date),
        zip: format!("{school}.zip"),
        sha256: "0".into(),
        content_hash: hash.into(),
        files: 1,
        complete,
    };

    // Tue 3 Nov: Monday's data is due today.
    let p = plan::plan(d("2026-11-03"), &schools, &[]);
    let today: Vec<_> = p
        .items
        .iter()
        .filter(|i| i.due == d("2026-11-03"))
        .collect();
    assert_eq!(today.len(), 1);
    assert_eq!(today[0].kind, Kind::Daily);
    assert_eq!(today[0].covers, d("2026-11-02"));
    assert_eq!(today[0].schools, vec![("A".to_string(), false)]);

    // Submitted daily data disappears from the plan; the next daily item is ahead.
    let ledger = vec![sub("A", "2026-11-03", "a0", false)];
    let p = plan::plan(d("2026-11-03"), &schools, &ledger);
    assert!(p.items.iter().all(|i| i.due > d("2026-11-03")));
    assert_eq!(p.items[0].covers, d("2026-11-03"));

    // Mon 9 Nov: the daily phase ended Thu 5 Nov; A (complete Thu) is due today, weekly.
    let ledger = vec![
        sub("A", "2026-11-03", "a0", false),
        sub("A", "2026-11-04", "a0", false),
        sub("A", "2026-11-05", "a1", false),
    ];
    let p = plan::plan(d("2026-11-09"), &schools, &ledger);
    let weekly: Vec<_> = p.items.iter().filter(|i| i.kind == Kind::Weekly).collect();
    assert_eq!(weekly[0].due, d("2026-11-09"));
    assert_eq!(weekly[0].schools, vec![("A".to_string(), false)]);
    // B completed on the 9th: next Monday, shown as coming.
    assert_eq!(weekly[1].due, d("2026-11-16"));
    assert_eq!(weekly[1].schools, vec![("B".to_string(), false)]);
    assert!(p.resubmit.is_empty());

    // A submitted complete on the 9th, then a make-up photo changed it: resubmit.
    let mut ledger = ledger;
    ledger.push(sub("A", "2026-11-09", "a1", true));
    let p = plan::plan(d("2026-11-10"), &schools, &ledger);
    assert_eq!(p.resubmit, vec!["A".to_string()]);
    assert!(
        p.items
            .iter()
            .all(|i| i.schools.iter().all(|(s, _)| s != "A"))
    );

    assert!(plan::is_working_day(d("2026-11-06")));
    assert!(!plan::is_working_day(d("2026-11-07")));
    assert_eq!(plan::next_working_day(d("2026-11-06")), d("2026-11-09"));
}

#[test]
fn printables_escape_and_mask() {
    let html = export::print::forms(
        "<学校>",
        &[export::print::Form {
            class: "一年级1班".into(),
            name: "黄可欣".into(),
            roster_id: roster::id::mask("450421130127806"),
            problem: "15 位".into(),
        }],
    );
    assert!(html.contains("&lt;学校&gt;"));
    assert!(html.contains("45***********06"));
    assert_eq!(html.matches("<span></span>").count(), 18);
}

#[test]
fn a_file_name_the_office_would_not_take_is_a_defect() {
    let a = id("45040320190301001");
    let students = vec![Student {
        name: "Bob <b>".into(),
        id_number: Some(a.clone()),
        // What the session's path cleaning made of it: it looks like a file, but is not a name.
        file: Some(format!("{a}-Bob _b_.jpg")),
        needs_photo: true,
    }];
    let expected = Expected {
        school: "梧州市示例小学".into(),
        separator: "-".into(),
        classes: BTreeMap::from([("一年级1班".to_string(), students)]),
        width: 358,
        height: 441,
        dpi: 350,
        size_min_kb: 14,
        size_max_kb: 40,
        same_faces: Vec::new(),
    };
    let found = [
        Found {
            class: "一年级1班".into(),
            file: format!("{a}-Bob _b_.jpg"),
            facts: jpeg(358, 441, 350, 20),
        },
        Found {
            class: "一年级1班".into(),
            file: "一年级1班.xlsx".into(),
            facts: Facts::Sheet(Ok(vec![(a.clone(), "Bob <b>".into())])),
        },
    ];
    let defects = verify::verify(&expected, &found);
    assert_eq!(
        defects.iter().map(|d| d.code).collect::<Vec<_>>(),
        [Code::BadFileName]
    );
    assert_eq!(defects[0].code.as_str(), "bad_file_name");
}
