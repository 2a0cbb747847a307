//! `rollcall`: the command-line entry point. Parses arguments (clap), sets up logging
//! (tracing), and hands each command to its module. Commands do their I/O here, at the edge;
//! the crates they call are pure.

mod config_cmd;
mod console_cmd;
mod daemon;
mod demo;
mod export_cmd;
mod faces_cmd;
mod logging;
mod office_cmd;
mod photo_cmd;
mod photo_debug;
mod roster_cmd;
mod session_cmd;
mod tether_cmd;

use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};

// A roster check allocates a few strings per cell; mimalloc makes that (and freeing) cheap,
// which is a third of the time of a 10,000-row import with the system allocator.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Field kit for school photo days (社保卡学生照片采集).
///
/// Checks the school's rosters before photo day, assigns each tethered camera frame to the
/// next student, crops it to the social-security card standard, files it as
/// `<ID number>-<name>.jpg` and packs each school for the office.
///
/// New here? `rollcall demo` shows a photo day without a camera.
#[derive(Debug, Parser)]
#[command(
    name = "rollcall",
    version,
    propagate_version = true,
    arg_required_else_help = true
)]
struct Cli {
    /// Language of messages: zh (中文) or en.
    #[arg(long, global = true, value_enum, default_value_t = LangArg::Zh, env = "ROLLCALL_LANG")]
    lang: LangArg,

    /// More log output on stderr (-v info, -vv debug). RUST_LOG overrides.
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    verbose: u8,

    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum LangArg {
    Zh,
    En,
}

impl From<LangArg> for roster::Lang {
    fn from(l: LangArg) -> Self {
        match l {
            LangArg::Zh => roster::Lang::Zh,
            LangArg::En => roster::Lang::En,
        }
    }
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Rosters (学生名册): check them before photo day.
    #[command(subcommand)]
    Roster(roster_cmd::RosterCommand),

    /// Photos: crop frames to the card's photo standard and check them (照片处理).
    ///
    /// Every frame is decoded (EXIF orientation respected), the face found, the crop solved so
    /// the standard's geometry holds, and every clause checked. Passed photos are written as
    /// `<out>/<input stem>.jpg`; a failed one gets the reason the photographer can act on.
    /// Exit status: 0 all passed, 1 any failed or could not be read, 2 usage.
    ///
    /// Example: rollcall photo DCIM/ --out 照片/ --json
    Photo(photo_cmd::PhotoArgs),

    /// List the cameras libgphoto2 detects (model, port, serial) (检测相机).
    Cameras(tether_cmd::CamerasArgs),

    /// Tether: every frame from the camera into the spool folder, one line each, until Ctrl-C
    /// (联机拍摄).
    ///
    /// Frames are downloaded to `<spool>/<name>.part`, fsync'd and renamed to a unique name made
    /// by rollcall; the camera's own names are never used. The camera is reconnected by itself
    /// after a cable pull. `rollcall tether --spool DIR --trigger` presses the shutter of the
    /// running tether.
    ///
    /// Example: rollcall tether --spool ~/rollcall/spool --capture-target ram
    Tether(tether_cmd::TetherArgs),

    /// Photographing a school: start, run, operator commands, progress (拍摄会话).
    ///
    /// A session assigns every frame to the student whose turn it is, processes and files it,
    /// and records everything in a journal that can be replayed after a crash.
    ///
    /// Example: rollcall session start ~/rollcall 名册/ && rollcall session run ~/rollcall --spool ~/rollcall/spool
    #[command(subcommand)]
    Session(session_cmd::SessionCommand),

    /// Regenerate `output/` from the journal and `originals/` (重建照片目录).
    Rebuild(session_cmd::RebuildArgs),

    /// Check a school's folder before it leaves (提交前检查).
    ///
    /// Every student who needs a photo has exactly one, named `<ID>-<name>.jpg` from the
    /// current roster; nothing else is there; every photo is a JPEG of the standard's size,
    /// density and size window; each class sheet lists the students whose photos are there.
    /// Exit status 0 only when clean.
    Verify(export_cmd::VerifyArgs),

    /// Write the class sheets, verify, and zip a school for the office (打包报送).
    ///
    /// `<DATA>/submissions/<school>.zip` holds `<school>/<class>/{<class>.xlsx, photos}`,
    /// with a SHA-256 manifest beside it; each pack is recorded in `<DATA>/submissions.jsonl`.
    ///
    /// Example: rollcall pack ~/rollcall --school 梧州市示例中学
    Pack(export_cmd::PackArgs),

    /// The submission schedule (报送).
    #[command(subcommand)]
    Submit(export_cmd::SubmitCommand),

    /// The operator console (控制台).
    #[command(subcommand)]
    Console(console_cmd::ConsoleCommand),

    /// Operator commands to a running session, through its console (遥控).
    ///
    /// Example: rollcall ctl ~/rollcall skip
    Ctl(console_cmd::CtlArgs),

    /// The field kit's service: camera, session, console in one process (后台服务).
    ///
    /// Reads the configuration file, opens the session in its data folder (or starts one from
    /// the configured rosters), and runs the frame source, the session and the console until
    /// SIGTERM. Under systemd it reports READY, STATUS and WATCHDOG (Type=notify).
    ///
    /// Example: rollcall daemon --config /etc/rollcall/rollcall.toml
    Daemon(daemon::DaemonArgs),

    /// A photo day in a minute without a camera: demo roster, demo camera, console (演示).
    ///
    /// Starts `rollcall daemon` on a fresh demo data folder with the virtual camera (when
    /// built) or the built-in demo camera, shoots the bundled frames — passes, failures with
    /// their reasons, a retake — skips an absent student, and prints the make-up list. The
    /// console stays open until Ctrl-C (or use --exit).
    ///
    /// Example: rollcall demo --open
    Demo(demo::DemoArgs),

    /// The configuration file: check it, or print the documented example (配置).
    ///
    /// Example: rollcall config check /etc/rollcall/rollcall.toml
    #[command(subcommand)]
    Config(config_cmd::ConfigCommand),

    /// Faces: is it the same person? which students' photos look alike? (人脸核对)
    ///
    /// rollcall compares every photo with the other students' of its class while it runs (the
    /// console warns at once); these commands do the same by hand.
    ///
    /// Example: rollcall faces check ~/rollcall
    #[command(subcommand)]
    Faces(faces_cmd::FacesCommand),

    /// The coordinator's office: many kits, one view of the city (办公室).
    ///
    /// `office serve` runs the service over PostgreSQL; kits report to it with `rollcall sync`
    /// (and the daemon by itself when `[office]` is configured). Start: `office cert`, `office
    /// serve`, then `office token add` for each kit and coordinator.
    ///
    /// Example: rollcall office status --db postgres://rollcall@localhost/office
    #[command(subcommand)]
    Office(office_cmd::OfficeCommand),

    /// Report this kit's sessions to the office now (同步到办公室).
    ///
    /// Sends what the office lacks: journal lines (no photos, no face data), the submission
    /// ledger, the status; resumes where a cut-off sync stopped. The daemon does this by
    /// itself every `[office] interval_s`.
    ///
    /// Example: rollcall sync --config /etc/rollcall/rollcall.toml
    Sync(office_cmd::SyncArgs),

    /// Printable pages: class lists, the make-up list, 信息采集表 (打印).
    ///
    /// Example: rollcall print ~/rollcall make-up --out 补拍名单.html
    Print(export_cmd::PrintArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    logging::init(
        cli.verbose,
        matches!(
            cli.command,
            Command::Daemon(_) | Command::Office(office_cmd::OfficeCommand::Serve(_))
        ),
    );
    let lang = roster::Lang::from(cli.lang);
    let _ = LANG.set(lang);
    let result = match cli.command {
        Command::Roster(cmd) => roster_cmd::run(cmd, lang),
        Command::Photo(args) => photo_cmd::run(args),
        Command::Cameras(args) => tether_cmd::cameras(args),
        Command::Tether(args) => tether_cmd::tether(args),
        Command::Session(cmd) => session_cmd::run(cmd),
        Command::Rebuild(args) => session_cmd::rebuild(args),
        Command::Verify(args) => export_cmd::verify(args),
        Command::Pack(args) => export_cmd::pack(args),
        Command::Submit(cmd) => export_cmd::submit(cmd),
        Command::Print(args) => export_cmd::print(args),
        Command::Console(cmd) => console_cmd::run(cmd),
        Command::Ctl(args) => console_cmd::ctl(args),
        Command::Daemon(args) => daemon::run(args),
        Command::Demo(args) => demo::run(args),
        Command::Config(cmd) => config_cmd::run(cmd),
        Command::Faces(cmd) => faces_cmd::run(cmd),
        Command::Office(cmd) => office_cmd::run(cmd),
        Command::Sync(args) => office_cmd::sync(args),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            // Errors may name files under originals/ (folders named by ID) or quote a roster
            // value: ID numbers of minors never reach a terminal log in full.
            eprintln!("rollcall: {}", roster::id::mask_all(&error_text(&e, lang)));
            ExitCode::from(2)
        }
    }
}

/// The operator's language (`--lang`, `ROLLCALL_LANG`), set once at start.
static LANG: std::sync::OnceLock<roster::Lang> = std::sync::OnceLock::new();

pub fn lang() -> roster::Lang {
    LANG.get().copied().unwrap_or(roster::Lang::Zh)
}

/// The words in the operator's language.
pub fn say(zh: impl Into<String>, en: impl Into<String>) -> String {
    lang().pick(zh.into(), en.into())
}

/// An error as the operator reads it: the chain of contexts, and a kit error (which carries
/// both languages and its own cause) in the operator's language.
fn error_text(e: &anyhow::Error, lang: roster::Lang) -> String {
    let mut parts = Vec::new();
    for cause in e.chain() {
        if let Some(k) = cause.downcast_ref::<kit::Error>() {
            parts.push(k.in_lang(lang));
            break;
        }
        parts.push(cause.to_string());
    }
    parts.join(": ")
}

/// Writes command output to stdout. A closed pipe (`rollcall … | head`) ends the output
/// quietly instead of panicking.
pub fn emit(text: &str) -> anyhow::Result<()> {
    use std::io::Write as _;
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => Err(e.into()),
        _ => Ok(()),
    }
}

/// The process's one tokio runtime, for the commands that need one (two workers: the machine
/// this runs on has two cores, and the pipeline's own threads do the heavy work).
pub fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    Ok(tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?)
}
