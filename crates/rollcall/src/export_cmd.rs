//! `rollcall verify`, `rollcall pack`, `rollcall submit plan`, `rollcall print`: what leaves the
//! kit. Reads the session (journal) and the roster files, lists `output/<school>/`, and hands
//! the facts to the pure `export` crate; writes what it returns.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result, anyhow, bail};
use chrono::NaiveDate;
use clap::{Args, Subcommand, ValueEnum};
use export::pack::{Entry, Names};
use export::plan::{Progress, Submission};
use export::verify::{Expected, Facts, Found};
use serde_json::json;
use session::{Event, Layout, State};

#[derive(Debug, Args)]
pub struct VerifyArgs {
    /// The data folder.
    #[arg(value_name = "DATA")]
    data: PathBuf,

    /// The school (default: every school with a session).
    #[arg(long)]
    school: Option<String>,

    /// Photo standard the files must meet.
    #[arg(long, value_name = "NAME|FILE", default_value = pipeline::spec::DEFAULT_PROFILE)]
    profile: String,

    #[arg(long)]
    json: bool,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum NamesArg {
    Utf8,
    Gbk,
}

#[derive(Debug, Args)]
pub struct PackArgs {
    #[arg(value_name = "DATA")]
    data: PathBuf,

    /// The school to pack.
    #[arg(
        long,
        conflicts_with = "complete",
        required_unless_present = "complete"
    )]
    school: Option<String>,

    /// Pack every school whose make-up list is empty.
    #[arg(long)]
    complete: bool,

    /// Where the zips go (default: `<DATA>/submissions/`).
    #[arg(long, value_name = "DIR")]
    out: Option<PathBuf>,

    /// File names in the zip: utf8 (default), or gbk for old Windows unzip tools.
    #[arg(long, value_enum, default_value_t = NamesArg::Utf8)]
    names: NamesArg,

    /// Pack even when verify finds defects (the daily submissions of the first days): the
    /// defects are listed.
    #[arg(long)]
    allow_incomplete: bool,

    #[arg(long, value_name = "NAME|FILE", default_value = pipeline::spec::DEFAULT_PROFILE)]
    profile: String,

    #[arg(long)]
    json: bool,
}

#[derive(Debug, Subcommand)]
pub enum SubmitCommand {
    /// What is due by the city's schedule, and which submitted schools changed since (报送计划).
    ///
    /// First three working days of the campaign: each next working day, the data collected the
    /// working day before. Afterwards, every Monday: the schools completed the week before.
    Plan(PlanArgs),
}

#[derive(Debug, Args)]
pub struct PlanArgs {
    #[arg(value_name = "DATA")]
    data: PathBuf,

    /// The day to plan for (default today).
    #[arg(long, value_name = "YYYY-MM-DD")]
    date: Option<NaiveDate>,

    #[arg(long)]
    json: bool,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum Printable {
    /// Class lists in shooting order with check boxes.
    ClassList,
    /// The make-up list.
    MakeUp,
    /// 信息采集表 for students whose data is in doubt.
    Forms,
}

#[derive(Debug, Args)]
pub struct PrintArgs {
    #[arg(value_name = "DATA")]
    data: PathBuf,

    #[arg(value_enum)]
    what: Printable,

    #[arg(long)]
    school: Option<String>,

    /// The HTML file to write (open it in a browser and print).
    #[arg(long, value_name = "FILE.html")]
    out: PathBuf,
}

/// One school: its session state and the roster files read again.
struct School {
    name: String,
    state: State,
    journal: PathBuf,
}

fn schools(data: &Path, only: Option<&str>) -> Result<Vec<School>> {
    let layout = Layout::new(data);
    let names = match only {
        Some(s) => vec![s.to_string()],
        None => layout
            .schools()
            .with_context(|| format!("cannot list {}", layout.sessions().display()))?,
    };
    if names.is_empty() {
        bail!(
            "{} 中还没有拍摄会话 / no session in {}",
            data.display(),
            data.display()
        );
    }
    names
        .into_iter()
        .map(|name| {
            let journal = layout.journal(&name);
            let state = session::journal::Journal::read(&journal)
                .map_err(|e| anyhow!("{}\n  ({e})", e.zh()))?;
            Ok(School {
                name: state.school.clone(),
                state,
                journal,
            })
        })
        .collect()
}

fn expected(state: &State, profile: &pipeline::Profile) -> Expected {
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
    }
}

/// Every file under `output/<school>/` with what it is.
fn found(dir: &Path) -> Result<Vec<(Found, Vec<u8>)>> {
    let mut out = Vec::new();
    if !dir.is_dir() {
        return Ok(out);
    }
    for entry in walkdir::WalkDir::new(dir).sort_by_file_name() {
        let entry = entry.with_context(|| format!("cannot read {}", dir.display()))?;
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
        let bytes = std::fs::read(entry.path())
            .with_context(|| format!("cannot read {}", entry.path().display()))?;
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
fn write_sheets(data: &Path, school: &School) -> Result<usize> {
    let paths: Vec<PathBuf> = school.state.sources.iter().map(PathBuf::from).collect();
    let roster = crate::inputs::load(&paths, chrono::Local::now().date_naive(), true)
        .with_context(|| {
            "名册文件已移动或删除：请用 rollcall session reload <DATA> <名册> 指定新位置 / the roster files moved"
        })?;
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
        bail!(
            "名册文件在上次载入后有改动：请先运行 rollcall session reload，照片才会按新名册命名 / the roster files changed since the session loaded them: run `rollcall session reload` first"
        );
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
        let bytes = export::sheet::to_xlsx(&sheet).context("writing a class sheet")?;
        let class_dir = session::layout::path_part(class);
        let path = layout
            .output(&school.name)
            .join(&class_dir)
            .join(export::verify::sheet_file(&class_dir));
        if std::fs::read(&path).ok().as_deref() != Some(bytes.as_slice()) {
            session::layout::write_atomic(&path, &bytes)
                .with_context(|| format!("cannot write {}", path.display()))?;
        }
        n += 1;
    }
    Ok(n)
}

fn defects_text(school: &str, defects: &[export::verify::Defect]) -> String {
    let mut text = String::new();
    if defects.is_empty() {
        let _ = writeln!(text, "{school}：检查通过 / clean");
    } else {
        let _ = writeln!(text, "{school}：{} 个问题", defects.len());
        for d in defects {
            let _ = writeln!(
                text,
                "  [{}] {}",
                d.code.as_str(),
                roster::id::mask_all(&d.message.zh)
            );
        }
    }
    text
}

pub fn verify(a: VerifyArgs) -> Result<ExitCode> {
    let profile = crate::photo_cmd::load_profile(&a.profile)?;
    let layout = Layout::new(&a.data);
    let mut all_clean = true;
    let mut report = Vec::new();
    for school in schools(&a.data, a.school.as_deref())? {
        let files = found(&layout.output(&school.name))?;
        let found: Vec<Found> = files.into_iter().map(|(f, _)| f).collect();
        let defects = export::verify::verify(&expected(&school.state, &profile), &found);
        all_clean &= defects.is_empty();
        if a.json {
            report.push(
                json!({ "school": school.name, "clean": defects.is_empty(), "defects": defects }),
            );
        } else {
            crate::emit(&defects_text(&school.name, &defects))?;
        }
    }
    if a.json {
        crate::emit(&(serde_json::to_string_pretty(&report)? + "\n"))?;
    }
    Ok(if all_clean {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

/// The journal's lines, typed; a line that is not one (a torn last line) is left out, as the
/// replay does.
fn journal_lines(journal: &Path) -> Result<Vec<session::Line>> {
    let text = std::fs::read_to_string(journal)
        .with_context(|| format!("cannot read {}", journal.display()))?;
    Ok(text
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect())
}

/// The day of the journal's last dated line: the zip's timestamp, so the same content packs to
/// the same bytes.
fn last_date(journal: &Path) -> Result<(u16, u8, u8)> {
    use chrono::Datelike;
    let day = journal_lines(journal)?
        .iter()
        .rev()
        .find_map(session::Line::day)
        .ok_or_else(|| anyhow!("{} has no dated line", journal.display()))?;
    Ok((
        u16::try_from(day.year()).context("the journal's year")?,
        u8::try_from(day.month()).context("the journal's month")?,
        u8::try_from(day.day()).context("the journal's day")?,
    ))
}

pub fn pack(a: PackArgs) -> Result<ExitCode> {
    let profile = crate::photo_cmd::load_profile(&a.profile)?;
    let layout = Layout::new(&a.data);
    let out_dir = a.out.clone().unwrap_or_else(|| a.data.join("submissions"));
    session::layout::create_private_dir(&out_dir)
        .with_context(|| format!("cannot create {}", out_dir.display()))?;
    let mut results = Vec::new();
    let mut code = ExitCode::SUCCESS;
    for school in schools(&a.data, a.school.as_deref())? {
        if a.complete && !session::status::status(&school.state).make_up.is_empty() {
            continue;
        }
        write_sheets(&a.data, &school)?;
        let dir = layout.output(&school.name);
        let files = found(&dir)?;
        let facts: Vec<Found> = files.iter().map(|(f, _)| f.clone()).collect();
        let defects = export::verify::verify(&expected(&school.state, &profile), &facts);
        if !defects.is_empty() {
            // What is missing, also when packing partial data on purpose.
            eprint!("{}", defects_text(&school.name, &defects));
        }
        if !defects.is_empty() && !a.allow_incomplete {
            eprintln!(
                "rollcall: {} 未打包：请先解决上述问题，或用 --allow-incomplete 打包部分数据 / not packed",
                school.name
            );
            code = ExitCode::from(1);
            continue;
        }
        let root = session::layout::path_part(&school.name);
        let entries = zip_entries(&root, files);
        let count = entries.len();
        let zip_name = format!("{root}.zip");
        let names = match a.names {
            NamesArg::Utf8 => Names::Utf8,
            NamesArg::Gbk => Names::Gbk,
        };
        let packed = export::pack::pack(entries, names, last_date(&school.journal)?, &zip_name)
            .map_err(|e| anyhow!("{}: {e}", school.name))?;
        let zip_path = out_dir.join(&zip_name);
        session::layout::write_atomic(&zip_path, &packed.zip)
            .with_context(|| format!("cannot write {}", zip_path.display()))?;
        session::layout::write_atomic(
            &out_dir.join(format!("{zip_name}.sha256")),
            packed.manifest.as_bytes(),
        )?;
        let entry = Submission {
            school: school.name.clone(),
            date: chrono::Local::now().date_naive(),
            zip: zip_path.to_string_lossy().into_owned(),
            sha256: packed.sha256.clone(),
            content_hash: packed.content_hash.clone(),
            files: count,
            complete: defects.is_empty(),
        };
        append_ledger(&a.data, &entry)?;
        if a.json {
            results.push(json!({ "school": school.name, "zip": zip_path, "sha256": packed.sha256, "files": count, "complete": entry.complete, "defects": defects }));
        } else {
            let partial = if entry.complete {
                ""
            } else {
                "（部分数据）"
            };
            crate::emit(&format!(
                "{} → {}{partial}：{count} 个文件，sha256 {}\n",
                school.name,
                zip_path.display(),
                &packed.sha256[..16]
            ))?;
        }
    }
    if a.json {
        crate::emit(&(serde_json::to_string_pretty(&results)? + "\n"))?;
    }
    Ok(code)
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
    let (mut file, _) = durable::AppendFile::open_lines(&path)
        .with_context(|| format!("cannot open {}", path.display()))?;
    let mut line = serde_json::to_string(entry)?;
    line.push('\n');
    file.append(line.as_bytes())
        .with_context(|| format!("cannot write {}", path.display()))
}

fn read_ledger(data: &Path) -> Result<Vec<Submission>> {
    let path = ledger_path(data);
    let text = match std::fs::read_to_string(&path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(e).with_context(|| format!("cannot read {}", path.display())),
    };
    text.lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
        .map(|(i, l)| {
            serde_json::from_str(l)
                .with_context(|| format!("{} line {}: unreadable", path.display(), i + 1))
        })
        .collect()
}

/// Shooting days and the completion day of a school, from its journal.
fn progress(school: &School, content_hash: Option<String>) -> Result<Progress> {
    let mut shooting_days = BTreeSet::new();
    let mut last_photo_day = None;
    for line in journal_lines(&school.journal)? {
        let Some(day) = line.day() else { continue };
        match line.event {
            Event::FrameArrived { .. } => {
                shooting_days.insert(day);
                last_photo_day = Some(day);
            }
            Event::Processed { .. }
            | Event::AcceptedAnyway { .. }
            | Event::TakeChosen { .. }
            | Event::Reassigned { .. }
            | Event::PhotoNeeded { .. } => {
                last_photo_day = Some(day);
            }
            _ => {}
        }
    }
    let complete = session::status::status(&school.state).make_up.is_empty();
    Ok(Progress {
        school: school.name.clone(),
        shooting_days,
        completed_on: if complete { last_photo_day } else { None },
        content_hash,
    })
}

pub fn submit(cmd: SubmitCommand) -> Result<ExitCode> {
    let SubmitCommand::Plan(a) = cmd;
    let today = a.date.unwrap_or_else(|| chrono::Local::now().date_naive());
    let layout = Layout::new(&a.data);
    let mut progress_all = Vec::new();
    for school in schools(&a.data, None)? {
        // What a pack would hold now, to see whether a submitted school changed.
        let files = found(&layout.output(&school.name))?;
        let entries = zip_entries(&session::layout::path_part(&school.name), files);
        let hash = export::pack::content_hash(&entries);
        progress_all.push(progress(&school, Some(hash))?);
    }
    let ledger = read_ledger(&a.data)?;
    let plan = export::plan::plan(today, &progress_all, &ledger);
    if a.json {
        crate::emit(&(serde_json::to_string_pretty(&plan)? + "\n"))?;
        return Ok(ExitCode::SUCCESS);
    }
    let mut text = format!("报送计划（{today}）\n");
    if plan.items.is_empty() {
        text.push_str("近期没有需要报送的数据。\n");
    }
    for item in &plan.items {
        let what = match item.kind {
            export::plan::Kind::Daily => format!("{} 采集的数据", item.covers),
            export::plan::Kind::Weekly => format!("{} 起一周内完成采集的学校", item.covers),
        };
        let when = if item.due < today {
            "已逾期"
        } else if item.due == today {
            "今天"
        } else {
            "将到期"
        };
        let _ = writeln!(text, "{} {when}：{what}", item.due);
        for (school, done) in &item.schools {
            let _ = writeln!(
                text,
                "  {} {school}",
                if *done {
                    "✓ 已打包"
                } else {
                    "✗ 待打包"
                }
            );
        }
    }
    for school in &plan.resubmit {
        let _ = writeln!(text, "需重新报送：{school}（报送后有改动）");
    }
    crate::emit(&text)?;
    Ok(ExitCode::SUCCESS)
}

pub fn print(a: PrintArgs) -> Result<ExitCode> {
    let schools = schools(&a.data, a.school.as_deref())?;
    if schools.len() > 1 {
        let names: Vec<&str> = schools.iter().map(|s| s.name.as_str()).collect();
        bail!(
            "有多个学校（{}），请用 --school 指定 / name one with --school",
            names.join("、")
        );
    }
    let mut html = String::new();
    for school in &schools {
        let state = &school.state;
        let page = match a.what {
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
        };
        html.push_str(&page);
    }
    session::layout::write_atomic(&a.out, html.as_bytes())
        .with_context(|| format!("cannot write {}", a.out.display()))?;
    crate::emit(&format!(
        "已写入 {}（用浏览器打开并打印）\n",
        a.out.display()
    ))?;
    Ok(ExitCode::SUCCESS)
}
