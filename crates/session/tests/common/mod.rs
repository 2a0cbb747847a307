//! A small school built from a CSV in memory, and helpers to drive an engine without cameras.
#![allow(dead_code)]

use std::path::Path;

use session::event::{Event, Outcome, OutcomeVerdict};
use session::{Engine, Layout};

pub const SCHOOL: &str = "梧州市测试小学";

/// A valid ID number for the n-th test student.
pub fn id(n: u32) -> String {
    let first17 = format!("45040320150{:03}{:03}", 101 + n % 27, n);
    let first17 = &first17[..17];
    let check = roster::id::check_char(first17).unwrap();
    format!("{first17}{check}")
}

/// One row: (class, name, id, original id — the student key, stable across corrections).
pub type Row = (String, String, String, String);

/// `学生` and the number in Chinese digits (digits are not allowed in names).
pub fn name(n: u32) -> String {
    const DIGITS: [char; 10] = ['零', '一', '二', '三', '四', '五', '六', '七', '八', '九'];
    let digits: String = n
        .to_string()
        .bytes()
        .map(|b| DIGITS[usize::from(b - b'0')])
        .collect();
    format!("学生{digits}")
}

/// `classes` classes of `per_class` students each.
pub fn rows(classes: u32, per_class: u32) -> Vec<Row> {
    let mut out = Vec::new();
    for c in 0..classes {
        for i in 0..per_class {
            let n = c * 100 + i;
            out.push((format!("一年级{}班", c + 1), name(n), id(n), id(n + 500)));
        }
    }
    out
}

pub fn roster_of(rows: &[Row]) -> roster::Roster {
    let mut csv = String::from("学校,班级,姓名,身份证号码,核对前身份证号码,核对前姓名\n");
    for (class, name, id, original) in rows {
        csv.push_str(&format!("{SCHOOL},{class},{name},{id},{original},{name}\n"));
    }
    let source = roster::Source {
        path: "名册.csv".into(),
        folder: None,
        bytes: csv.into_bytes(),
    };
    let options = roster::Options {
        as_of: chrono::NaiveDate::from_ymd_opt(2026, 9, 1).unwrap(),
        kindergarten_photos: false,
    };
    roster::load(&[source], &options)
}

pub fn create(data: &Path, rows: &[Row]) -> Engine {
    Engine::create(data, &roster_of(rows), None, vec!["名册.csv".into()], "-").unwrap()
}

/// Puts a frame into the spool and takes it in.
pub fn arrive(engine: &mut Engine, spool: &Path, content: &[u8]) -> session::Ingested {
    std::fs::create_dir_all(spool).unwrap();
    let path = spool.join(format!("f{}.jpg", engine.state().frames.len() + 1000));
    std::fs::write(&path, content).unwrap();
    engine.ingest(&path).unwrap()
}

/// Records a pipeline result without running the pipeline: the "photo" is a few distinct bytes.
pub fn process(engine: &mut Engine, frame: u64, verdict: OutcomeVerdict, photo: bool) {
    process_face(engine, frame, verdict, photo, None);
}

/// [`process`], with the face descriptor the pipeline would have recorded.
pub fn process_face(
    engine: &mut Engine,
    frame: u64,
    verdict: OutcomeVerdict,
    photo: bool,
    face: Option<pipeline::identity::Embedding>,
) {
    let layout: Layout = engine.layout().clone();
    if photo {
        let path = layout.photo(engine.school(), frame);
        session::layout::write_atomic(&path, format!("photo of frame {frame}").as_bytes()).unwrap();
    }
    engine
        .commit(Event::Processed {
            frame,
            outcome: Outcome {
                verdict,
                reasons: if verdict == OutcomeVerdict::Pass {
                    vec![]
                } else {
                    vec!["背景不是白色".into()]
                },
                photo,
                quality: Some(70),
                failed: vec![],
            },
            face,
        })
        .unwrap();
}

/// The name of the student at the cursor.
pub fn next(engine: &Engine) -> Option<String> {
    engine
        .state()
        .cursor
        .map(|s| engine.state().students[s].rec.name.clone())
}

/// Every file under a folder, relative, sorted.
pub fn files(dir: &Path) -> Vec<String> {
    let mut out: Vec<String> = walkdir::WalkDir::new(dir)
        .into_iter()
        .filter_map(Result::ok)
        .filter(|e| e.file_type().is_file())
        .map(|e| {
            e.path()
                .strip_prefix(dir)
                .unwrap()
                .to_string_lossy()
                .into_owned()
        })
        .collect();
    out.sort();
    out
}
