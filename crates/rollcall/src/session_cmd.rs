//! `rollcall session …` and `rollcall rebuild`: starting a school's session, running it on a
//! spool folder, the operator's commands, progress and the make-up list.

use std::fmt::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;

use anyhow::{Context, Result, anyhow};
use chrono::NaiveDate;
use clap::{Args, Subcommand};
use kit::report::{next_line, notice_text};

use crate::{lang, say};
use serde_json::json;
use session::runner::{Notice, RunOptions};
use session::{Command, Engine, EngineError, State};

#[derive(Debug, Subcommand)]
pub enum SessionCommand {
    /// Start photographing a school: load its roster into a new session (开始拍摄会话).
    ///
    /// The roster is checked as by `rollcall roster check`; rows with errors are photographed
    /// too and their photos filed once the roster is fixed (`rollcall session reload`). The
    /// session lives in `<DATA>/sessions/<school>/journal.jsonl`.
    ///
    /// Example: rollcall session start ~/rollcall 名册/城北小学/
    Start(StartArgs),

    /// Run the session: take every frame from the spool folder, give it to the student whose
    /// turn it is, process and file it, until Ctrl-C (拍摄).
    ///
    /// A passed photo moves on to the next student; a failed one keeps the same student for a
    /// retake. Photos are filed as `<DATA>/output/<school>/<class>/<ID>-<name>.jpg`, every
    /// frame is kept under `<DATA>/originals/`. Operator commands work while it runs only
    /// through the console; stop it to use `rollcall session skip` and the like.
    ///
    /// Example: rollcall session run ~/rollcall --spool ~/rollcall/spool
    Run(RunArgs),

    /// Progress per class and the make-up list (进度与补拍名单).
    Status(StatusArgs),

    /// Reload the roster after the school fixed it: corrected IDs and names rename the filed
    /// photos, new rows join the queue, removed rows keep their photos (重新载入名册).
    Reload(ReloadArgs),

    /// The student whose turn it is is absent: put them on the make-up list (缺席/跳过).
    Skip(StudentArgs),

    /// Reject a student's photo and photograph them again (重拍). Default: the student of the
    /// last frame.
    Retake(StudentArgs),

    /// Use a frame that failed a check anyway, with a reason (强制采用). Default: the last frame.
    Accept(AcceptArgs),

    /// Undo the last action or assignment (撤销).
    Undo(CommonArgs),

    /// Move the last N frames one student forward or back: the fix when someone stepped out of
    /// the queue (顺移).
    Shift(ShiftArgs),

    /// Make a student the next one, by ID, name, or `<class>:<row>` (跳转).
    Jump(StudentArgs),

    /// Add a student who is not on the roster (walk-in, 插班生) and make them the next one.
    Add(AddArgs),

    /// Prefer another take of a student (选用另一张).
    Choose(FrameArgs),

    /// Photograph another class: the cursor goes to its first student (选择班级).
    Class(ClassArgs),

    /// A student needs no photo (or, with --needed, needs one again) (无需拍照).
    NoPhoto(NoPhotoArgs),

    /// Give a frame to a student (e.g. one that arrived with no class chosen) (指定照片归属).
    Assign(AssignArgs),

    /// Two students whose photos look alike are two people (twins): their face warning goes
    /// away and `verify` lets the pair pass (不是同一人).
    ///
    /// Example: rollcall session different-people ~/rollcall 一年级1班:3 一年级1班:4
    DifferentPeople(PairArgs),

    /// A take that does not look like the student's earlier takes shows the student after
    /// all (是同一人).
    SamePerson(FrameArgs),
}

#[derive(Debug, Args)]
pub struct PairArgs {
    #[command(flatten)]
    common: CommonArgs,

    /// The two students: ID number, name, or `<class>:<row>` each.
    #[arg(value_name = "STUDENT", num_args = 2, required = true)]
    students: Vec<String>,
}

#[derive(Debug, Args)]
pub struct CommonArgs {
    /// The data folder (sessions, originals, output).
    #[arg(value_name = "DATA")]
    pub data: PathBuf,

    /// The school, when the data folder holds several sessions.
    #[arg(long)]
    pub school: Option<String>,

    /// Print JSON instead of text.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct StartArgs {
    #[command(flatten)]
    common: CommonArgs,

    /// Roster files or folders.
    #[arg(required = true, value_name = "ROSTER")]
    roster: Vec<PathBuf>,

    /// Roster date (YYYY-MM-DD) for birth-date and age checks; default today.
    #[arg(long, value_name = "DATE")]
    as_of: Option<NaiveDate>,

    /// Kindergarten children need photos too.
    #[arg(long)]
    kindergarten_photos: bool,

    /// Between ID number and name in file names (some regions want none).
    #[arg(long, default_value = "-")]
    separator: String,
}

#[derive(Debug, Args)]
pub struct RunArgs {
    #[command(flatten)]
    common: CommonArgs,

    /// The spool folder frames arrive in (from `rollcall tether` or any tether software).
    #[arg(long, value_name = "DIR")]
    spool: PathBuf,

    /// Photo standard: `358x441` (default), `236x295`, or a TOML file.
    #[arg(long, value_name = "NAME|FILE", default_value = pipeline::spec::DEFAULT_PROFILE)]
    profile: String,

    /// Pipeline workers (default: the number of cores).
    #[arg(long, value_name = "N")]
    jobs: Option<usize>,

    /// Warn when one student has more frames than this.
    #[arg(long, value_name = "N", default_value_t = 4)]
    shot_limit: usize,

    /// Stop once the spool is empty and every frame is processed.
    #[arg(long)]
    until_idle: bool,

    /// Serve the operator console here, e.g. 127.0.0.1:8750 (another address than loopback
    /// needs the token `rollcall console url` shows).
    #[arg(long, value_name = "ADDR")]
    console: Option<std::net::SocketAddr>,
}

#[derive(Debug, Args)]
pub struct StatusArgs {
    #[command(flatten)]
    common: CommonArgs,
}

#[derive(Debug, Args)]
pub struct ReloadArgs {
    #[command(flatten)]
    common: CommonArgs,

    /// Roster files or folders; default: the ones the session was started with.
    #[arg(value_name = "ROSTER")]
    roster: Vec<PathBuf>,

    #[arg(long, value_name = "DATE")]
    as_of: Option<NaiveDate>,

    #[arg(long)]
    kindergarten_photos: bool,
}

#[derive(Debug, Args)]
pub struct StudentArgs {
    #[command(flatten)]
    common: CommonArgs,

    /// ID number, name, or `<class>:<row>`; default: see the command.
    #[arg(value_name = "STUDENT")]
    student: Option<String>,
}

#[derive(Debug, Args)]
pub struct AcceptArgs {
    #[command(flatten)]
    common: CommonArgs,

    /// Why the photo is good enough (kept in the journal).
    #[arg(long)]
    reason: String,

    /// Frame number; default: the last frame.
    #[arg(value_name = "FRAME")]
    frame: Option<u64>,
}

#[derive(Debug, Args)]
pub struct ShiftArgs {
    #[command(flatten)]
    common: CommonArgs,

    /// How many of the last frames to move.
    #[arg(value_name = "N")]
    n: usize,

    /// Move them one student back (default: forward).
    #[arg(long)]
    back: bool,
}

#[derive(Debug, Args)]
pub struct AddArgs {
    #[command(flatten)]
    common: CommonArgs,

    #[arg(long)]
    name: String,

    #[arg(long)]
    class: String,

    /// The ID number (needed for the file name; can come later with a roster reload).
    #[arg(long)]
    id: Option<String>,
}

#[derive(Debug, Args)]
pub struct FrameArgs {
    #[command(flatten)]
    common: CommonArgs,

    #[arg(value_name = "FRAME")]
    frame: u64,
}

#[derive(Debug, Args)]
pub struct ClassArgs {
    #[command(flatten)]
    common: CommonArgs,

    #[arg(value_name = "CLASS")]
    class: String,
}

#[derive(Debug, Args)]
pub struct NoPhotoArgs {
    #[command(flatten)]
    common: CommonArgs,

    #[arg(value_name = "STUDENT")]
    student: String,

    /// The student needs a photo after all.
    #[arg(long)]
    needed: bool,
}

#[derive(Debug, Args)]
pub struct AssignArgs {
    #[command(flatten)]
    common: CommonArgs,

    #[arg(value_name = "FRAME")]
    frame: u64,

    /// ID number, name, or `<class>:<row>`; `none` to unassign.
    #[arg(value_name = "STUDENT")]
    student: String,
}

#[derive(Debug, Args)]
pub struct RebuildArgs {
    #[command(flatten)]
    common: CommonArgs,

    /// Process every chosen frame again from its original (default: use the cached photos).
    #[arg(long)]
    reprocess: bool,

    #[arg(long, value_name = "NAME|FILE", default_value = pipeline::spec::DEFAULT_PROFILE)]
    profile: String,
}

/// An engine error as the operator reads it: Chinese, then English.
fn explain(e: EngineError) -> anyhow::Error {
    kit::Error::from(e).into()
}

fn open(common: &CommonArgs) -> Result<Engine> {
    let (engine, report) = Engine::open(&common.data, common.school.as_deref()).map_err(explain)?;
    if report.originals_moved + report.photos_written + report.photos_removed > 0 {
        tracing::info!(?report, "finished filing interrupted by the last stop");
    }
    Ok(engine)
}

fn load_roster(
    paths: &[PathBuf],
    as_of: Option<NaiveDate>,
    kindergarten_photos: bool,
) -> Result<(roster::Roster, Vec<String>)> {
    let (roster, absolute) = kit::inputs::load_for_session(paths, as_of, kindergarten_photos)?;
    for p in roster.unreadable_files() {
        eprintln!("rollcall: {}: {}", p.location.file, p.message.get(lang()));
    }
    Ok((roster, absolute))
}

pub fn run(cmd: SessionCommand) -> Result<ExitCode> {
    match cmd {
        SessionCommand::Start(a) => start(a),
        SessionCommand::Run(a) => run_session(a),
        SessionCommand::Status(a) => status(&a.common),
        SessionCommand::Reload(a) => reload(a),
        SessionCommand::Skip(a) => command(&a.common, Command::Skip { student: a.student }),
        SessionCommand::Retake(a) => command(&a.common, Command::Retake { student: a.student }),
        SessionCommand::Accept(a) => command(
            &a.common,
            Command::Accept {
                frame: a.frame,
                reason: a.reason,
            },
        ),
        SessionCommand::Undo(common) => command(&common, Command::Undo),
        SessionCommand::Shift(a) => command(
            &a.common,
            Command::Shift {
                n: a.n,
                back: a.back,
            },
        ),
        SessionCommand::Jump(a) => {
            let student = a
                .student
                .ok_or_else(|| anyhow!(say("请指定学生", "name a student")))?;
            command(&a.common, Command::Jump { student })
        }
        SessionCommand::Add(a) => command(
            &a.common,
            Command::Add {
                name: a.name,
                class: a.class,
                id: a.id,
            },
        ),
        SessionCommand::Choose(a) => command(&a.common, Command::Choose { frame: a.frame }),
        SessionCommand::Class(a) => command(&a.common, Command::Class { class: a.class }),
        SessionCommand::NoPhoto(a) => command(
            &a.common,
            Command::NoPhoto {
                student: a.student,
                needed: a.needed,
            },
        ),
        SessionCommand::Assign(a) => command(
            &a.common,
            Command::Assign {
                frame: a.frame,
                student: Some(a.student),
            },
        ),
        SessionCommand::DifferentPeople(a) => {
            let [x, y]: [String; 2] = a
                .students
                .try_into()
                .map_err(|_| anyhow!(say("请给出两个学生", "name two students")))?;
            command(&a.common, Command::DifferentPeople { students: [x, y] })
        }
        SessionCommand::SamePerson(a) => command(&a.common, Command::SamePerson { frame: a.frame }),
    }
}

/// The two answers to a face warning as commands to type.
fn cli_answers(w: &session::FaceWarning, data: &std::path::Path) -> String {
    let data = data.display();
    let cli = |c: &Command| match c {
        Command::Shift { n, back } => {
            format!(
                "rollcall session shift {data} {n}{}",
                if *back { " --back" } else { "" }
            )
        }
        // A face warning gives a frame to the student it shows, or to nobody.
        Command::Assign { frame, student } => format!(
            "rollcall session assign {data} {frame} {}",
            student.as_ref().map_or("none".to_string(), |_| {
                format!("{}:{}", w.other.class, w.other.row)
            })
        ),
        Command::DifferentPeople { .. } => format!(
            "rollcall session different-people {data} {}:{} {}:{}",
            w.student.class, w.student.row, w.other.class, w.other.row
        ),
        Command::SamePerson { frame } => format!("rollcall session same-person {data} {frame}"),
        other => format!("{other:?}"),
    };
    say(
        format!("改正：{}    确认无误：{}", cli(&w.fix), cli(&w.dismiss)),
        format!("fix: {}    it is right: {}", cli(&w.fix), cli(&w.dismiss)),
    )
}

/// Runs one operator command on a session that is not running elsewhere.
fn command(common: &CommonArgs, command: Command) -> Result<ExitCode> {
    let mut engine = open(common)?;
    let (line, report) = engine
        .execute(&command, chrono::Local::now().date_naive())
        .map_err(explain)?;
    if common.json {
        let mut text = serde_json::to_string_pretty(&json!({
            "event": line,
            "next": next_json(engine.state()),
            "filed": { "written": report.photos_written, "removed": report.photos_removed },
        }))?;
        text.push('\n');
        crate::emit(&text)?;
    } else {
        let event = session::state::event_name(&line.event);
        let mut text = say(format!("已记录：{event}\n"), format!("recorded: {event}\n"));
        text.push_str(&next_line(engine.state(), lang()));
        crate::emit(&text)?;
    }
    Ok(ExitCode::SUCCESS)
}

fn next_json(state: &State) -> serde_json::Value {
    let student = |s: usize| {
        let r = &state.students[s].rec;
        json!({ "class": r.class, "row": r.row, "name": r.name })
    };
    json!({
        "now": state.cursor.map(student),
        "then": state.after_cursor().map(student),
    })
}

fn start(a: StartArgs) -> Result<ExitCode> {
    let (roster, sources) = load_roster(&a.roster, a.as_of, a.kindergarten_photos)?;
    let engine = Engine::create(
        &a.common.data,
        &roster,
        a.common.school.as_deref(),
        sources,
        &a.separator,
    )
    .map_err(explain)?;
    let state = engine.state();
    let unnamed = state
        .roster_order()
        .filter(|&s| state.photo_stem(s).is_none())
        .count();
    if a.common.json {
        let mut text = serde_json::to_string_pretty(&json!({
            "school": state.school,
            "classes": state.classes,
            "students": state.roster_order().count(),
            "roster_errors": unnamed,
            "journal": engine.layout().journal(&state.school),
            "next": next_json(state),
        }))?;
        text.push('\n');
        crate::emit(&text)?;
    } else {
        let (school, classes, students) = (
            &state.school,
            state.classes.len(),
            state.roster_order().count(),
        );
        let mut text = say(
            format!("已开始 {school}：{classes} 个班，{students} 名学生。\n"),
            format!("started {school}: {classes} classes, {students} students.\n"),
        );
        if unnamed > 0 {
            text.push_str(&say(
                format!("注意：{unnamed} 名学生的名册信息有误（见 rollcall roster check），照片照常拍摄，名册改正后 rollcall session reload 即可归档。\n"),
                format!("note: the roster data of {unnamed} students is wrong (see rollcall roster check); photograph them as usual, and after the roster is fixed rollcall session reload files their photos.\n"),
            ));
        }
        text.push_str(&next_line(state, lang()));
        crate::emit(&text)?;
    }
    Ok(ExitCode::SUCCESS)
}

fn reload(a: ReloadArgs) -> Result<ExitCode> {
    let mut engine = open(&a.common)?;
    let paths: Vec<PathBuf> = if a.roster.is_empty() {
        engine.state().sources.iter().map(PathBuf::from).collect()
    } else {
        a.roster.clone()
    };
    let (roster, sources) = load_roster(&paths, a.as_of, a.kindergarten_photos)?;
    let (diff, _) = engine.reload(&roster, sources).map_err(explain)?;
    if a.common.json {
        let mut text = serde_json::to_string_pretty(&diff)?;
        text.push('\n');
        crate::emit(&text)?;
        return Ok(ExitCode::SUCCESS);
    }
    let mut text = String::new();
    if diff.is_empty() {
        text.push_str(&say("名册没有变化。\n", "the roster has not changed.\n"));
    }
    for c in &diff.corrected {
        let renamed = if c.has_photo {
            say("（照片已改名）", " (photo renamed)")
        } else {
            String::new()
        };
        let name = &c.name;
        text.push_str(&say(
            format!("更正：{name}{renamed}\n"),
            format!("corrected: {name}{renamed}\n"),
        ));
    }
    if !diff.added.is_empty() {
        let n = diff.added.len();
        text.push_str(&say(
            format!("新增 {n} 名学生，已加入队列。\n"),
            format!("{n} students added to the queue.\n"),
        ));
    }
    if !diff.removed_with_photos.is_empty() {
        let n = diff.removed_with_photos.len();
        text.push_str(&say(
            format!("注意：{n} 名已拍照的学生不在新名册中，照片保留在 originals/，不再提交。\n"),
            format!("note: {n} photographed students are not on the new roster; their photos stay in originals/ and are no longer submitted.\n"),
        ));
    }
    if !diff.removed.is_empty() {
        let n = diff.removed.len();
        text.push_str(&say(
            format!("删除 {n} 名未拍照的学生。\n"),
            format!("{n} students not yet photographed removed.\n"),
        ));
    }
    crate::emit(&text)?;
    Ok(ExitCode::SUCCESS)
}

fn status(common: &CommonArgs) -> Result<ExitCode> {
    let layout = session::Layout::new(&common.data);
    let school =
        session::engine::resolve_school(&layout, common.school.as_deref()).map_err(explain)?;
    // Read without the lock: status works while the session runs.
    let state =
        session::journal::Journal::read(&layout.journal(&school)).map_err(|e| explain(e.into()))?;
    let status = session::status::status(&state);
    let unfiled = session::filing::unfiled(&layout, &state);
    let free = durable::free_space(&common.data).ok();
    let faces = state.face_warnings();
    if common.json {
        let mut value = serde_json::to_value(&status)?;
        value["unfiled"] = json!(unfiled.len());
        value["free_bytes"] = json!(free);
        value["face_warnings"] = serde_json::to_value(&faces)?;
        let mut text = serde_json::to_string_pretty(&value)?;
        text.push('\n');
        crate::emit(&text)?;
        return Ok(ExitCode::SUCCESS);
    }
    let (school, frames) = (&status.school, status.frames);
    let mut text = say(
        format!("{school}：共 {frames} 张照片\n"),
        format!("{school}: {frames} frames\n"),
    );
    text.push_str(&say(
        "班级\t学生\t已拍\t需重拍\t缺席\t待拍\t无需拍照\t名册有误\n",
        "class\tstudents\tdone\tretake\tabsent\tto come\tno photo\troster errors\n",
    ));
    for c in &status.classes {
        let _ = writeln!(
            text,
            "{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}",
            c.class,
            c.students,
            c.photographed,
            c.failed,
            c.absent,
            c.remaining,
            c.no_photo_needed,
            c.unnamed
        );
    }
    text.push_str(&next_line(&state, lang()));
    for w in &faces {
        text.push_str(&say(
            format!("⚠ 人脸：{}\n", w.zh()),
            format!("⚠ faces: {}\n", w.en()),
        ));
        text.push_str(&format!("    {}\n", cli_answers(w, &common.data)));
    }
    if !status.make_up.is_empty() {
        let n = status.make_up.len();
        text.push_str(&say(
            format!("补拍名单（{n} 人）：\n"),
            format!("make-up list ({n}):\n"),
        ));
        for m in &status.make_up {
            let (class, row, name, id) = (&m.class, m.row, &m.name, &m.id);
            let why = m.standing.text();
            text.push_str(&say(
                format!("  {class} 第{row}行 {name} {id}  {}\n", why.zh),
                format!("  {class} row {row} {name} {id}  {}\n", why.en),
            ));
        }
    }
    for r in &status.removed_with_takes {
        text.push_str(&say(
            format!("注意：{r} 已不在名册中，但有照片（保留在 originals/）\n"),
            format!("note: {r} is no longer on the roster but has photos (kept in originals/)\n"),
        ));
    }
    if !unfiled.is_empty() {
        let n = unfiled.len();
        text.push_str(&say(
            format!("注意：{n} 张照片尚未归档到 output/（磁盘已满？腾出空间后运行中的服务会自动补上，或运行 rollcall rebuild）\n"),
            format!("note: {n} photos are not filed in output/ yet (disk full? once there is room the running service files them, or run rollcall rebuild)\n"),
        ));
    }
    if let Some(free) = free {
        let mb = durable::megabytes(free);
        text.push_str(&say(
            format!("数据盘剩余 {mb} MB\n"),
            format!("{mb} MB free on the data disk\n"),
        ));
    }
    crate::emit(&text)?;
    Ok(ExitCode::SUCCESS)
}

fn run_session(a: RunArgs) -> Result<ExitCode> {
    let mut engine = open(&a.common)?;
    engine.settings.shot_limit = a.shot_limit;
    let defaults = RunOptions::default();
    let options = RunOptions {
        profile: kit::load_profile(&a.profile)?,
        jobs: a.jobs.unwrap_or(defaults.jobs),
        until_idle: a.until_idle,
        ..defaults
    };
    let stop = Arc::new(AtomicBool::new(false));
    for signal in [signal_hook::consts::SIGINT, signal_hook::consts::SIGTERM] {
        signal_hook::flag::register(signal, Arc::clone(&stop))
            .with_context(|| format!("cannot handle signal {signal}"))?;
    }
    if !a.common.json {
        eprint!("{}", next_line(engine.state(), lang()));
    }
    let json = a.common.json;
    let (remote, inbox) = session::runner::remote();
    let shot_limit = a.shot_limit;
    // The console's server runs on the process's runtime; the session runs on this thread.
    let runtime = crate::runtime()?;
    let console = match a.console {
        Some(addr) => {
            let first = console::Snapshot::of(&engine, shot_limit);
            let _inside = runtime.enter();
            let running = kit::console::start(
                &a.common.data,
                kit::console::Settings {
                    listen: addr,
                    spool: Some(a.spool.clone()),
                    sounds: true,
                    hosts: Vec::new(),
                },
                remote,
                first,
                tokio_util::sync::CancellationToken::new(),
            )?;
            eprintln!("{}: {}", say("控制台", "console"), running.url);
            Some(running)
        }
        None => None,
    };
    let summary = session::runner::run_with(
        &mut engine,
        &a.spool,
        &options,
        &stop,
        inbox,
        &mut |engine, notice| {
            if let Some(c) = &console {
                c.publish
                    .send_replace(Arc::new(console::Snapshot::of(engine, shot_limit)));
            }
            let text = if json {
                notice_json(engine, &notice)
            } else {
                notice_text(engine, &notice, lang())
            };
            let _ = crate::emit(&text);
        },
    )
    .map_err(explain)?;
    if let Some(console) = console {
        runtime.block_on(console.stop());
    }
    if !json {
        let (new, twice, done) = (summary.arrived, summary.duplicates, summary.processed);
        eprintln!(
            "{}",
            say(
                format!("本次：新照片 {new}，重复 {twice}，已处理 {done}"),
                format!("this run: {new} new frames, {twice} duplicates, {done} processed"),
            )
        );
    }
    Ok(ExitCode::SUCCESS)
}

fn notice_json(engine: &Engine, notice: &Notice) -> String {
    let value = match notice {
        Notice::Recorded(line) => {
            json!({ "line": line.redacted(), "next": next_json(engine.state()) })
        }
        Notice::Duplicate { file, of } => json!({ "duplicate": file, "of": of }),
        Notice::ShotLimit { frame, student } => json!({
            "shot_limit": engine.settings.shot_limit,
            "frame": frame,
            "student": engine.state().students[*student].rec.name,
        }),
        Notice::Trouble(message) => json!({ "trouble": message }),
        Notice::Health => json!({ "health": engine.health() }),
    };
    format!("{value}\n")
}

pub fn rebuild(a: RebuildArgs) -> Result<ExitCode> {
    let mut engine = open(&a.common)?;
    let profile = kit::load_profile(&a.profile)?;
    let report = engine.rebuild(&profile, a.reprocess).map_err(explain)?;
    let output = engine.layout().output(engine.school());
    if a.common.json {
        let mut text = serde_json::to_string_pretty(&json!({
            "output": output,
            "written": report.photos_written,
            "removed": report.photos_removed,
            "originals_moved": report.originals_moved,
            "missing_photos": report.missing_photos,
            "missing_originals": report.missing_originals,
        }))?;
        text.push('\n');
        crate::emit(&text)?;
    } else {
        let (out, written, removed) = (
            output.display(),
            report.photos_written,
            report.photos_removed,
        );
        crate::emit(&say(
            format!("{out}：写入 {written} 张，删除 {removed} 张\n"),
            format!("{out}: {written} written, {removed} removed\n"),
        ))?;
    }
    if !report.missing_originals.is_empty() || !report.missing_photos.is_empty() {
        let (originals, photos) = (&report.missing_originals, &report.missing_photos);
        eprintln!(
            "rollcall: {}",
            say(
                format!("缺少原始照片 {originals:?}，无法生成照片 {photos:?}"),
                format!("missing originals {originals:?}; cannot make photos {photos:?}"),
            )
        );
        return Ok(ExitCode::from(1));
    }
    Ok(ExitCode::SUCCESS)
}
