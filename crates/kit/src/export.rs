//! The export shell: what leaves the kit. Reads the sessions (journals), the roster files and
//! `output/<school>/`, hands the facts to the pure `export` crate, and writes what it returns
//! (class sheets, zips with their checksums, the submissions ledger). The command line renders
//! the results.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use chrono::NaiveDate;
use export::pack::{Entry, Names};
use export::plan::{Plan, Progress, Submission};
use export::verify::{Defect, Expected, Facts, Found};
use serde::Serialize;
use session::{Layout, State};

use crate::{Error, Result};

/// One school: its session state and the roster files read again.
#[derive(Debug)]
pub struct School {
    pub name: String,
    pub state: State,
    pub journal: PathBuf,
}

pub fn schools(data: &Path, only: Option<&str>) -> Result<Vec<School>> {
    let layout = Layout::new(data);
    let names = match only {
        Some(s) => vec![s.to_string()],
        None => layout
            .schools()
            .map_err(|e| Error::read(&layout.sessions(), e))?,
    };
    if names.is_empty() {
        return Err(Error::refused(
            format!("{} 中还没有拍摄会话", data.display()),
            format!("no session in {}", data.display()),
        ));
    }
    names
        .into_iter()
        .map(|name| {
            let journal = layout.journal(&name);
            let state = session::journal::Journal::read(&journal)?;
            Ok(School {
                name: state.school.clone(),
                state,
                journal,
            })
        })
        .collect()
}

pub fn expected(state: &State, profile: &pipeline::Profile) -> Expected {
    let mut classes: BTreeMap<String, Vec<export::verify::Student>> = BTreeMap::new();
    for s in state.roster_order() {
        let st = &state.students[s];
        classes
            .entry(session::layout::path_part(&st.rec.class))
            .or_default()
            .push(export::verify::Student {
                name: st.rec.name.clone(),
                id_number: st.rec.id_number.clone(),
                file: state
                    .photo_stem(s)
                    .map(|stem| format!("{}.jpg", session::layout::path_part(&stem))),
                needs_photo: st.needs_photo(),
            });
    }
    Expected {
        school: state.school.clone(),
        separator: state.separator.clone(),
        classes,
        width: u16::try_from(profile.width).unwrap_or(u16::MAX),
        height: u16::try_from(profile.height).unwrap_or(u16::MAX),
        dpi: profile.dpi,
        size_min_kb: profile.size_min_kb,
        size_max_kb: profile.size_max_kb,
        same_faces: state
            .same_faces()
            .into_iter()
            .filter(|p| !p.confirmed)
            .map(|p| {
                let class = session::layout::path_part(&p.a.class);
                let names = [p.a.name.clone(), p.b.name.clone()];
                let (later, ..) = p.later_first();
                export::verify::SameFace {
                    class,
                    file: state
                        .find(&later.key)
                        .and_then(|s| state.photo_stem(s))
                        .map(|stem| format!("{}.jpg", session::layout::path_part(&stem))),
                    names,
                }
            })
            .collect(),
    }
}

/// Every file under `output/<school>/` with what it is.
pub fn found(dir: &Path) -> Result<Vec<(Found, Vec<u8>)>> {
    let mut out = Vec::new();
    if !dir.is_dir() {
        return Ok(out);
    }
    for entry in walkdir::WalkDir::new(dir).sort_by_file_name() {
        let entry = entry.map_err(|e| Error::read(dir, std::io::Error::from(e)))?;
        if !entry.file_type().is_file() {
            continue;
        }
        let rel = entry.path().strip_prefix(dir).unwrap_or(entry.path());
        let parts: Vec<String> = rel
            .components()
            .map(|c| c.as_os_str().to_string_lossy().into_owned())
            .collect();
        let (class, file) = match parts.as_slice() {
            [class, file] => (class.clone(), file.clone()),
            _ => (String::new(), parts.join("/")),
        };
        if file.starts_with('.') {
            continue; // a temporary file of an atomic write in progress
        }
        let bytes = std::fs::read(entry.path()).map_err(|e| Error::read(entry.path(), e))?;
        let lower = file.to_lowercase();
        let facts = if lower.ends_with(".jpg") || lower.ends_with(".jpeg") {
            match pipeline::encode::inspect(&bytes) {
                Some((width, height, components, density_unit, density)) => Facts::Jpeg {
                    width,
                    height,
                    components,
                    density_unit,
                    density,
                    bytes: bytes.len() as u64,
                },
                None => Facts::NotJpeg,
            }
        } else if lower.ends_with(".xlsx") {
            Facts::Sheet(sheet_rows(&file, &bytes))
        } else {
            Facts::Other
        };
        out.push((Found { class, file, facts }, bytes));
    }
    Ok(out)
}

/// The (ID, name) of every row of a class sheet, read back as a roster.
fn sheet_rows(file: &str, bytes: &[u8]) -> std::result::Result<Vec<(String, String)>, String> {
    let roster = roster::load(
        &[roster::Source {
            path: file.to_string(),
            folder: None,
            bytes: bytes.to_vec(),
        }],
        &roster::Options {
            as_of: chrono::Local::now().date_naive(),
            kindergarten_photos: true,
        },
    );
    if let Some(p) = roster.unreadable_files().next() {
        return Err(p.message.get(roster::Lang::Zh).to_string());
    }
    Ok(roster
        .students()
        .map(|s| (s.id_text.clone(), s.name.clone()))
        .collect())
}

/// Reads the roster files the session was started with and writes every class sheet.
pub fn write_sheets(data: &Path, school: &School) -> Result<usize> {
    let paths: Vec<PathBuf> = school.state.sources.iter().map(PathBuf::from).collect();
    let roster = crate::inputs::load(&paths, chrono::Local::now().date_naive(), true).map_err(
        |e| {
            Error::invalid(
                bilingual::Text::new(
                    "名册文件已移动或删除：请用 rollcall session reload <DATA> <名册> 指定新位置",
                    "the roster files moved: give their place with rollcall session reload <DATA> <ROSTER>",
                ),
                e,
            )
        },
    )?;
    // The sheet must describe the roster the photos are named from.
    let state = &school.state;
    let current: BTreeSet<(&str, &str, &str)> = roster
        .students()
        .filter(|s| s.school == school.name)
        .map(|s| (s.key.as_str(), s.id_text.as_str(), s.name.as_str()))
        .collect();
    let journaled: BTreeSet<(&str, &str, &str)> = state
        .roster_order()
        .map(|s| &state.students[s].rec)
        .filter(|r| !r.walk_in)
        .map(|r| (r.key.as_str(), r.id_text.as_str(), r.name.as_str()))
        .collect();
    if current != journaled {
        return Err(Error::refused(
            "名册文件在上次载入后有改动：请先运行 rollcall session reload，照片才会按新名册命名",
            "the roster files changed since the session loaded them: run `rollcall session reload` first",
        ));
    }
    let layout = Layout::new(data);
    let mut n = 0;
    for class in &state.classes {
        let walk_ins: Vec<export::sheet::WalkIn> = state
            .class_students(class)
            .map(|s| &state.students[s].rec)
            .filter(|r| r.walk_in)
            .map(|r| export::sheet::WalkIn {
                name: r.name.clone(),
                id: r.id_number.clone().unwrap_or_else(|| r.id_text.clone()),
            })
            .collect();
        let sheet = export::sheet::class_sheet(&roster, &school.name, class, &walk_ins);
        let bytes = export::sheet::to_xlsx(&sheet).map_err(|e| {
            Error::invalid(
                bilingual::Text::new(
                    format!("无法生成 {class} 的班级表"),
                    format!("cannot make the class sheet of {class}"),
                ),
                e,
            )
        })?;
        let class_dir = session::layout::path_part(class);
        let path = layout
            .output(&school.name)
            .join(&class_dir)
            .join(export::verify::sheet_file(&class_dir));
        if std::fs::read(&path).ok().as_deref() != Some(bytes.as_slice()) {
            durable::write_atomic(&path, &bytes).map_err(|e| Error::write(&path, e))?;
        }
        n += 1;
    }
    Ok(n)
}

/// The day of the journal's last dated line: the zip's timestamp, so the same content packs to
/// the same bytes.
fn last_date(journal: &Path) -> Result<(u16, u8, u8)> {
    use chrono::Datelike;
    let day = session::journal::Journal::lines(journal)?
        .iter()
        .rev()
        .find_map(session::Line::day)
        .ok_or_else(|| Error::invalid(named(journal), "no dated line"))?;
    let bad = |e: std::num::TryFromIntError| Error::invalid(named(journal), e);
    Ok((
        u16::try_from(day.year()).map_err(bad)?,
        u8::try_from(day.month()).map_err(bad)?,
        u8::try_from(day.day()).map_err(bad)?,
    ))
}

/// The files of a school folder as zip entries `<school>/<class>/<file>` (files outside a
/// class folder are left out; verify reports them).
fn zip_entries(root: &str, files: Vec<(Found, Vec<u8>)>) -> Vec<Entry> {
    files
        .into_iter()
        .filter(|(f, _)| !f.class.is_empty())
        .map(|(f, bytes)| Entry {
            path: format!("{root}/{}/{}", f.class, f.file),
            bytes,
        })
        .collect()
}

fn ledger_path(data: &Path) -> PathBuf {
    data.join("submissions.jsonl")
}

fn append_ledger(data: &Path, entry: &Submission) -> Result<()> {
    let path = ledger_path(data);
    let (mut file, _) =
        durable::AppendFile::open_lines(&path).map_err(|e| Error::write(&path, e))?;
    let mut line = serde_json::to_string(entry).map_err(|e| Error::invalid(named(&path), e))?;
    line.push('\n');
    file.append(line.as_bytes())
        .map_err(|e| Error::write(&path, e))
}

pub fn read_ledger(data: &Path) -> Result<Vec<Submission>> {
    let path = ledger_path(data);
    let text = match std::fs::read_to_string(&path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(Error::read(&path, e)),
    };
    text.lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
        .map(|(i, l)| {
            serde_json::from_str(l).map_err(|e| {
                Error::invalid(
                    bilingual::Text::new(
                        format!("{} 第 {} 行无法读取", path.display(), i + 1),
                        format!("{} line {}: unreadable", path.display(), i + 1),
                    ),
                    e,
                )
            })
        })
        .collect()
}

/// Shooting days and the completion day of a school, from its journal.
fn progress(school: &School, content_hash: Option<String>) -> Result<Progress> {
    let mut days = session::status::Days::default();
    for line in session::journal::Journal::lines(&school.journal)? {
        days.add(&line);
    }
    Ok(Progress {
        school: school.name.clone(),
        completed_on: days.completed_on(&session::status::status(&school.state)),
        shooting_days: days.shooting,
        content_hash,
    })
}

/// A file's name as the subject of a message.
fn named(path: &Path) -> bilingual::Text {
    bilingual::Text::new(path.display().to_string(), path.display().to_string())
}

/// What `verify` found for one school.
#[derive(Debug, Serialize)]
pub struct Verified {
    pub school: String,
    pub clean: bool,
    pub defects: Vec<Defect>,
}

/// Checks each school's output folder against its session and the profile.
pub fn verify(
    data: &Path,
    only: Option<&str>,
    profile: &pipeline::Profile,
) -> Result<Vec<Verified>> {
    let layout = Layout::new(data);
    let mut report = Vec::new();
    for school in schools(data, only)? {
        let files = found(&layout.output(&school.name))?;
        let found: Vec<Found> = files.into_iter().map(|(f, _)| f).collect();
        let defects = export::verify::verify(&expected(&school.state, profile), &found);
        report.push(Verified {
            school: school.name,
            clean: defects.is_empty(),
            defects,
        });
    }
    Ok(report)
}

/// Which schools to pack, where, how.
#[derive(Debug, Clone)]
pub struct PackOptions {
    /// Where the zips go.
    pub out: PathBuf,
    /// One school; `None`: every school.
    pub school: Option<String>,
    /// Only the schools whose make-up list is empty.
    pub complete_only: bool,
    /// Pack even with defects (the daily submissions of the first days).
    pub allow_incomplete: bool,
    pub names: Names,
}

/// One school's pack.
#[derive(Debug, Serialize)]
pub struct Packed {
    pub school: String,
    /// The zip written; `None` when defects kept it from being packed.
    pub zip: Option<PathBuf>,
    pub sha256: Option<String>,
    pub files: usize,
    pub complete: bool,
    pub defects: Vec<Defect>,
}

/// Writes the class sheets, verifies and packs each school; every zip written is noted in the
/// submissions ledger.
pub fn pack(
    data: &Path,
    options: &PackOptions,
    profile: &pipeline::Profile,
) -> Result<Vec<Packed>> {
    let layout = Layout::new(data);
    durable::create_private_dir(&options.out).map_err(|e| Error::write(&options.out, e))?;
    let mut results = Vec::new();
    for school in schools(data, options.school.as_deref())? {
        if options.complete_only && !session::status::status(&school.state).make_up.is_empty() {
            continue;
        }
        write_sheets(data, &school)?;
        let files = found(&layout.output(&school.name))?;
        let facts: Vec<Found> = files.iter().map(|(f, _)| f.clone()).collect();
        let defects = export::verify::verify(&expected(&school.state, profile), &facts);
        if !defects.is_empty() && !options.allow_incomplete {
            results.push(Packed {
                school: school.name,
                zip: None,
                sha256: None,
                files: 0,
                complete: false,
                defects,
            });
            continue;
        }
        let root = session::layout::path_part(&school.name);
        let entries = zip_entries(&root, files);
        let count = entries.len();
        let zip_name = format!("{root}.zip");
        let packed = export::pack::pack(
            entries,
            options.names,
            last_date(&school.journal)?,
            &zip_name,
        )
        .map_err(|e| {
            Error::invalid(
                bilingual::Text::new(school.name.clone(), school.name.clone()),
                e,
            )
        })?;
        let zip_path = options.out.join(&zip_name);
        durable::write_atomic(&zip_path, &packed.zip).map_err(|e| Error::write(&zip_path, e))?;
        let sums = options.out.join(format!("{zip_name}.sha256"));
        durable::write_atomic(&sums, packed.manifest.as_bytes())
            .map_err(|e| Error::write(&sums, e))?;
        let entry = Submission {
            school: school.name.clone(),
            date: chrono::Local::now().date_naive(),
            zip: zip_path.to_string_lossy().into_owned(),
            sha256: packed.sha256.clone(),
            content_hash: packed.content_hash.clone(),
            files: count,
            complete: defects.is_empty(),
        };
        append_ledger(data, &entry)?;
        results.push(Packed {
            school: school.name,
            zip: Some(zip_path),
            sha256: Some(packed.sha256),
            files: count,
            complete: entry.complete,
            defects,
        });
    }
    Ok(results)
}

/// What is due by the city's schedule on `today`, and which submitted schools changed since.
pub fn plan(data: &Path, today: NaiveDate) -> Result<Plan> {
    let layout = Layout::new(data);
    let mut progress_all = Vec::new();
    for school in schools(data, None)? {
        // What a pack would hold now, to see whether a submitted school changed.
        let files = found(&layout.output(&school.name))?;
        let entries = zip_entries(&session::layout::path_part(&school.name), files);
        let hash = export::pack::content_hash(&entries);
        progress_all.push(progress(&school, Some(hash))?);
    }
    let ledger = read_ledger(data)?;
    Ok(export::plan::plan(today, &progress_all, &ledger))
}

/// What `print` can print.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Printable {
    /// Class lists in shooting order with check boxes.
    ClassList,
    /// The make-up list.
    MakeUp,
    /// 信息采集表 for students whose data is in doubt.
    Forms,
}

/// The printable page of `what` for one school (HTML).
pub fn printable(school: &School, what: Printable) -> String {
    let state = &school.state;
    match what {
        Printable::ClassList => {
            let lines: Vec<export::print::Line> = state
                .roster_order()
                .map(|s| {
                    let r = &state.students[s].rec;
                    export::print::Line {
                        class: r.class.clone(),
                        row: r.row,
                        name: r.name.clone(),
                        id: roster::id::mask(&r.id_text),
                        status: state.standing(s).zh().to_string(),
                    }
                })
                .collect();
            export::print::class_lists(&school.name, &lines)
        }
        Printable::MakeUp => {
            let lines: Vec<export::print::Line> = session::status::status(state)
                .make_up
                .into_iter()
                .map(|m| export::print::Line {
                    class: m.class,
                    row: m.row,
                    name: m.name,
                    id: m.id,
                    status: m.reason,
                })
                .collect();
            export::print::make_up(&school.name, &lines)
        }
        Printable::Forms => {
            let forms: Vec<export::print::Form> = state
                .roster_order()
                .map(|s| &state.students[s].rec)
                .filter(|r| r.id_number.is_none())
                .map(|r| export::print::Form {
                    class: r.class.clone(),
                    name: r.name.clone(),
                    roster_id: if r.id_text.is_empty() {
                        "（空）".into()
                    } else {
                        roster::id::mask(&r.id_text)
                    },
                    problem: "身份证号码或姓名有误".into(),
                })
                .collect();
            export::print::forms(&school.name, &forms)
        }
    }
}
