#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

//! The development rosters in `../shared/fixtures/rosters` against their `truth.json`: every
//! expected problem with the right code and row, nothing on clean rows, counts per school and
//! class, and the photo file name of every row.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use chrono::NaiveDate;
use roster::{Code, Options, Roster, Severity, Source};
use serde_json::Value;

/// The fixtures travel beside the checkout (CI always has them: missing there, the test fails).
fn fixtures() -> Option<PathBuf> {
    testkit::shared_fixtures().map(|d| d.join("rosters"))
}

fn truth(dir: &Path) -> Value {
    serde_json::from_slice(&std::fs::read(dir.join("truth.json")).unwrap()).unwrap()
}

fn load(dir: &Path, truth: &Value) -> Roster {
    let mut sources = Vec::new();
    for file in truth["files"].as_object().unwrap().keys() {
        let path = dir.join(file);
        let folder = Path::new(file)
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .map(|p| p.to_string_lossy().into_owned())
            .or_else(|| Some("rosters".into()));
        sources.push(Source {
            path: file.clone(),
            folder,
            bytes: std::fs::read(&path).unwrap(),
        });
    }
    let as_of =
        NaiveDate::parse_from_str(truth["reference_date"].as_str().unwrap(), "%Y-%m-%d").unwrap();
    roster::load(
        &sources,
        &Options {
            as_of,
            kindergarten_photos: false,
        },
    )
}

type Key = (String, String, u32, String);

#[test]
fn every_expected_problem_and_no_other() {
    let Some(dir) = fixtures() else { return };
    let truth = truth(&dir);
    let roster = load(&dir, &truth);

    let mut expected: BTreeSet<Key> = BTreeSet::new();
    for (file, f) in truth["files"].as_object().unwrap() {
        for (sheet, s) in f["sheets"].as_object().unwrap() {
            let Some(rows) = s.get("rows").and_then(Value::as_object) else {
                continue;
            };
            for (row, r) in rows {
                for code in r
                    .get("problems")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                {
                    expected.insert((
                        file.clone(),
                        sheet.clone(),
                        row.parse().unwrap(),
                        code.as_str().unwrap().into(),
                    ));
                }
            }
        }
    }
    let actual: BTreeSet<Key> = roster
        .problems
        .iter()
        .filter(|p| p.severity() != Severity::Info)
        .map(|p| {
            let l = &p.location;
            (
                l.file.clone(),
                l.sheet.clone().unwrap_or_default(),
                l.row.unwrap_or(0),
                p.code.as_str().to_string(),
            )
        })
        .collect();
    let missing: Vec<_> = expected.difference(&actual).collect();
    let extra: Vec<_> = actual.difference(&expected).collect();
    assert!(
        missing.is_empty() && extra.is_empty(),
        "missing {missing:#?}\nextra {extra:#?}"
    );
    assert_eq!(expected.len(), actual.len());
}

#[test]
fn severities_match_the_truth() {
    let Some(dir) = fixtures() else { return };
    let truth = truth(&dir);
    let roster = load(&dir, &truth);
    for p in &roster.problems {
        let Some(t) = truth["codes"].get(p.code.as_str()) else {
            continue;
        };
        let want = match t["severity"].as_str().unwrap() {
            "error" => Severity::Error,
            // Fixable problems are normalised and reported as warnings.
            "fixable" | "warning" => Severity::Warning,
            other => panic!("unknown severity {other}"),
        };
        assert_eq!(p.severity(), want, "{:?}", p.code);
        assert_eq!(
            p.code.is_fixable(),
            t["severity"] == "fixable",
            "{:?}",
            p.code
        );
        if p.code.is_fixable() {
            assert!(p.fixed.is_some(), "{p:?}");
        }
    }
}

#[test]
fn corrections_and_additions() {
    let Some(dir) = fixtures() else { return };
    let truth = truth(&dir);
    let roster = load(&dir, &truth);
    let pick = |list: &str| -> BTreeSet<(String, String, u32)> {
        truth[list]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| {
                (
                    c["file"].as_str().unwrap().to_string(),
                    c["sheet"].as_str().unwrap().to_string(),
                    u32::try_from(c["row"].as_u64().unwrap()).unwrap(),
                )
            })
            .collect()
    };
    let found = |code: Code| -> BTreeSet<(String, String, u32)> {
        roster
            .problems
            .iter()
            .filter(|p| p.code == code)
            .map(|p| {
                (
                    p.location.file.clone(),
                    p.location.sheet.clone().unwrap(),
                    p.location.row.unwrap(),
                )
            })
            .collect()
    };
    assert_eq!(found(Code::Correction), pick("corrections"));
    assert_eq!(found(Code::Addition), pick("additions"));
    assert!(
        roster
            .students()
            .filter(|s| s.correction)
            .all(|s| !s.addition)
    );
    // 核对前 values are kept exactly as received.
    for c in truth["corrections"].as_array().unwrap() {
        let s = roster
            .students()
            .find(|s| {
                roster.sheets[s.sheet].file == c["file"].as_str().unwrap()
                    && u64::from(s.row) == c["row"].as_u64().unwrap()
                    && roster.sheets[s.sheet].sheet == c["sheet"].as_str().unwrap()
            })
            .unwrap();
        assert_eq!(s.original_id, c["original_id"].as_str().unwrap());
        assert_eq!(s.original_name, c["original_name"].as_str().unwrap());
        assert_eq!(s.id_number.as_deref(), c["id"].as_str());
        assert_eq!(s.name, c["name"].as_str().unwrap());
    }
}

#[test]
fn counts_per_school_and_class() {
    let Some(dir) = fixtures() else { return };
    let truth = truth(&dir);
    let roster = load(&dir, &truth);
    let schools = truth["schools"].as_object().unwrap();
    assert_eq!(roster.schools.len(), schools.len());
    for (name, t) in schools {
        let school = roster
            .schools
            .iter()
            .find(|s| &s.name == name)
            .unwrap_or_else(|| panic!("school {name}"));
        let c = roster.counts(school);
        assert_eq!(
            c.students as u64,
            t["student_rows"].as_u64().unwrap(),
            "{name}"
        );
        assert_eq!(c.errors as u64, t["error_rows"].as_u64().unwrap(), "{name}");
        assert_eq!(
            c.photos_ready as u64,
            t["expected_photos"].as_u64().unwrap(),
            "{name}"
        );
        assert_eq!(
            c.photos_required > 0,
            t["photos_required"].as_bool().unwrap(),
            "{name}"
        );
        let classes = t["classes"].as_object().unwrap();
        assert_eq!(school.classes.len(), classes.len(), "{name}");
        for (class, n) in classes {
            let got = school
                .classes
                .iter()
                .find(|c| &c.name == class)
                .unwrap_or_else(|| panic!("{name} {class}"));
            assert_eq!(
                got.students.len() as u64,
                n.as_u64().unwrap(),
                "{name} {class}"
            );
        }
        let ids: BTreeSet<_> = school
            .students()
            .filter_map(|s| s.id_number.clone())
            .collect();
        assert_eq!(
            ids.len() as u64,
            t["distinct_valid_ids"].as_u64().unwrap(),
            "{name}"
        );
    }
}

#[test]
fn every_row_gets_the_expected_name_id_and_photo_file() {
    let Some(dir) = fixtures() else { return };
    let truth = truth(&dir);
    let roster = load(&dir, &truth);
    let mut reader = csv::Reader::from_path(dir.join("students.csv")).unwrap();
    let headers = reader.headers().unwrap().clone();
    let col = |name: &str| headers.iter().position(|h| h == name).unwrap();
    let (file, sheet, row) = (col("file"), col("sheet"), col("row"));
    let (name, id, photo) = (col("name_expected"), col("id_expected"), col("photo_file"));
    let mut rows = 0;
    for record in reader.records() {
        let r = record.unwrap();
        rows += 1;
        let s = roster
            .students()
            .find(|s| {
                let info = &roster.sheets[s.sheet];
                info.file == r[file] && info.sheet == r[sheet] && s.row.to_string() == r[row]
            })
            .unwrap_or_else(|| panic!("no student for {:?}", r));
        assert_eq!(s.name, &r[name], "{r:?}");
        // An ID that passed its own checks but belongs to an error row (duplicate) still has
        // an id_number; the truth leaves only ID-check failures empty.
        if !r[id].is_empty() {
            assert_eq!(s.id_number.as_deref(), Some(&r[id]), "{r:?}");
        }
        let want = (!r[photo].is_empty()).then(|| r[photo].to_string());
        let got = s
            .photo_required
            .then(|| s.photo_stem("-").map(|stem| format!("{stem}.jpg")))
            .flatten();
        assert_eq!(got, want, "{r:?}");
    }
    assert_eq!(rows, roster.students().count());
}

#[test]
fn problems_sheet_keeps_columns_and_text_ids() {
    use calamine::{Data, Reader, Xlsx};
    let Some(dir) = fixtures() else { return };
    let truth = truth(&dir);
    let roster = load(&dir, &truth);
    let bytes = roster::sheet::problems_workbook(&roster, roster::Lang::Zh)
        .unwrap()
        .unwrap();
    let mut wb = Xlsx::new(std::io::Cursor::new(bytes)).unwrap();
    let names = wb.sheet_names();
    assert!(names.contains(&"一年级1班".to_string()), "{names:?}");
    let range = wb.worksheet_range("名册").unwrap();
    let header: Vec<String> = range
        .rows()
        .next()
        .unwrap()
        .iter()
        .map(|c| c.to_string())
        .collect();
    assert_eq!(
        header,
        [
            "序号",
            "学校名称",
            "班级",
            "学生姓名",
            "性别",
            "民族",
            "公民身份号码",
            "核对前身份证号码",
            "核对前姓名",
            "问题说明"
        ]
    );
    // Every data cell is text; the numeric ID cell is written as the text Excel showed.
    let mut found_numeric = false;
    for row in range.rows().skip(1) {
        assert!(
            row.iter()
                .all(|c| matches!(c, Data::String(_) | Data::Empty)),
            "{row:?}"
        );
        if row[6] == Data::String("4.50421201205214E+17".into()) {
            found_numeric = true;
            assert!(row[9].to_string().contains("第 151 行"));
        }
    }
    assert!(found_numeric);
    // One row per problem row with an error or warning, nothing else.
    let want = truth["files"]["苍梧县石桥中学学生名册.ods"]["sheets"]["名册"]["rows"]
        .as_object()
        .unwrap()
        .values()
        .filter(|r| {
            r.get("problems")
                .is_some_and(|p| !p.as_array().unwrap().is_empty())
        })
        .count();
    assert_eq!(range.height() - 1, want);
}
