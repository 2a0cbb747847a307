//! `rollcall daemon`: the field kit's one process — the frame source (camera, folder or demo
//! camera) with its control socket, the session runner (spool watcher, pipeline workers,
//! engine) on its own thread, and the console — started from the configuration file.
//!
//! Under systemd (Type=notify) it reports READY once all three run, STATUS whenever the
//! camera or the counts change, and WATCHDOG while the session thread's heartbeat is fresh (a
//! hung engine is restarted by systemd; the journal makes that safe). SIGTERM/SIGINT: stop the
//! source (the camera is released), let the frames in flight get their verdicts, flush, exit 0.

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::{Result, anyhow};
use clap::Args;
use sd_notify::NotifyState;
use session::Engine;
use session::runner::{Notice, RunOptions};
use tether::{Event, Status};

use crate::config::{self, Config, SourceName};
use crate::tether_cmd::{Source, SourceKind};

#[derive(Debug, Args)]
pub struct DaemonArgs {
    /// The configuration file (see `rollcall config example`).
    #[arg(long, value_name = "FILE", env = "ROLLCALL_CONFIG", default_value = config::DEFAULT_PATH)]
    config: PathBuf,
}

pub fn run(args: DaemonArgs) -> Result<ExitCode> {
    let config = config::load(&args.config)?;
    serve(&config)
}

/// Opens the session in the data folder, or starts one from the configured rosters.
pub fn open_or_start(config: &Config) -> Result<Engine> {
    let layout = session::Layout::new(&config.data);
    let schools = layout.schools().unwrap_or_default();
    let exists = match &config.school {
        Some(s) => schools.iter().any(|x| x == s),
        None => !schools.is_empty(),
    };
    if exists {
        let (engine, report) = Engine::open(&config.data, config.school.as_deref())
            .map_err(crate::session_cmd::explain)?;
        if report.originals_moved + report.photos_written + report.photos_removed > 0 {
            tracing::info!(?report, "finished filing interrupted by the last stop");
        }
        return Ok(engine);
    }
    if config.roster.is_empty() {
        return Err(anyhow!(
            "数据目录 {} 中没有拍摄会话，配置中也没有名册：请在配置文件中设置 roster = [\"名册\"]，\
             或先运行 rollcall session start / no session and no roster configured",
            config.data.display()
        ));
    }
    let (roster, sources) =
        crate::session_cmd::load_roster(&config.roster, None, config.kindergarten_photos)?;
    let engine = Engine::create(
        &config.data,
        &roster,
        config.school.as_deref(),
        sources,
        "-",
    )
    .map_err(crate::session_cmd::explain)?;
    tracing::info!(
        school = %engine.state().school,
        students = engine.state().roster_order().count(),
        "session started from the configured rosters"
    );
    Ok(engine)
}

fn source_kind(config: &Config) -> Result<SourceKind> {
    let camera = &config.camera;
    Ok(match camera.source {
        SourceName::Camera => SourceKind::Camera(camera.options(config.low_space_bytes())),
        SourceName::Folder => SourceKind::Folder(camera.folder.clone().ok_or_else(|| {
            anyhow!("[camera] source = \"folder\" needs folder = \"…\" (请设置 folder)")
        })?),
        SourceName::Demo => SourceKind::Demo {
            frames: crate::demo::frames(),
            pace: camera.demo_pace(),
        },
    })
}

/// Runs the daemon until SIGTERM/SIGINT.
pub fn serve(config: &Config) -> Result<ExitCode> {
    let mut engine = open_or_start(config)?;
    engine.settings.shot_limit = config.shot_limit;
    engine.settings.low_space_bytes = config.low_space_bytes();
    let defaults = RunOptions::default();
    let heartbeat = Arc::new(AtomicU64::new(0));
    let options = RunOptions {
        profile: crate::photo_cmd::load_profile(&config.profile)?,
        jobs: config.jobs.unwrap_or(defaults.jobs),
        heartbeat: Some(Arc::clone(&heartbeat)),
        ..defaults
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    runtime.block_on(supervise(config, engine, options, heartbeat))
}

/// What STATUS= says: the camera, then the session.
#[derive(Debug, Default)]
struct Summary {
    camera: String,
    session: String,
}

async fn supervise(
    config: &Config,
    mut engine: Engine,
    options: RunOptions,
    heartbeat: Arc<AtomicU64>,
) -> Result<ExitCode> {
    let spool = config.data.join("spool");
    let mut source = Source::start(source_kind(config)?, &spool)?;
    let shot_limit = config.shot_limit;
    let (remote, inbox) = session::runner::remote();
    if let Some(token) = &config.console.token {
        crate::console_cmd::set_token(&config.data, token)?;
    }
    let console = crate::console_cmd::start(
        &config.data,
        config.console.listen,
        remote,
        console::Snapshot::of(&engine, shot_limit),
        Some(spool.clone()),
        config.console.sounds,
        config.console.hosts.clone(),
    )?;
    let console_stop = console.stopper();
    // The address without its token: the journal is readable by more people than the console.
    let address = console
        .url
        .split('?')
        .next()
        .unwrap_or_default()
        .to_string();
    tracing::info!(url = %address, "console / 控制台 (rollcall console url shows the link with the token)");
    let summary = Arc::new(Mutex::new(Summary {
        camera: "相机：正在连接".into(),
        session: session_summary(&engine),
    }));
    let stop = Arc::new(AtomicBool::new(false));
    let (done_tx, mut done) = tokio::sync::oneshot::channel();
    let thread = {
        let stop = Arc::clone(&stop);
        let summary = Arc::clone(&summary);
        let spool = spool.clone();
        std::thread::Builder::new()
            .name("session".into())
            .spawn(move || {
                let result = session::runner::run_with(
                    &mut engine,
                    &spool,
                    &options,
                    &stop,
                    inbox,
                    &mut |engine, notice| {
                        console
                            .publish
                            .send_replace(Arc::new(console::Snapshot::of(engine, shot_limit)));
                        log_notice(engine, &notice);
                        if let Ok(mut s) = summary.lock() {
                            s.session = session_summary(engine);
                        }
                    },
                );
                drop(console);
                let _ = done_tx.send(result);
            })?
    };

    notify(&[NotifyState::Ready]);
    let watchdog = sd_notify::watchdog_enabled();
    // Ping at a third of the watchdog's period; look at the state every second anyway.
    let period = watchdog.map_or(Duration::from_secs(1), |w| {
        (w / 3).clamp(Duration::from_millis(50), Duration::from_secs(1))
    });
    let mut tick = tokio::time::interval(period);
    let mut sigterm = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
    let mut last_status = String::new();
    let outcome: Result<()> = loop {
        tokio::select! {
            Some(event) = source.events.recv() => {
                source.note(&event);
                log_event(&event);
                if let Event::Status(st) = &event
                    && let Ok(mut s) = summary.lock()
                {
                    s.camera = Status::summary(st);
                }
            }
            _ = tokio::signal::ctrl_c() => break Ok(()),
            _ = sigterm.recv() => break Ok(()),
            result = &mut done => {
                // The session thread ended by itself: an error it cannot go on from.
                break Err(match result {
                    Ok(Err(e)) => anyhow!(crate::session_cmd::explain(e)),
                    _ => anyhow!("the session stopped by itself"),
                });
            }
            ended = &mut source.task => {
                break Err(match ended {
                    Ok(Err(e)) => anyhow!(e).context("the frame source stopped"),
                    _ => anyhow!("the frame source stopped by itself"),
                });
            }
            _ = tick.tick() => {
                let beat = heartbeat.load(Ordering::Relaxed);
                let now = session::runner::heartbeat_origin().elapsed().as_millis();
                let alive = now.saturating_sub(u128::from(beat)) < 5_000;
                if watchdog.is_some() && alive {
                    notify(&[NotifyState::Watchdog]);
                }
                let status = match summary.lock() {
                    Ok(s) => format!("{} · {}", s.camera, s.session),
                    Err(_) => continue,
                };
                if status != last_status {
                    notify(&[NotifyState::Status(&status)]);
                    last_status = status;
                }
            }
        }
    };
    notify(&[NotifyState::Stopping]);
    tracing::info!("stopping: releasing the camera, finishing the frames in flight");
    // Open pages lose their event streams now; their next request finds the console gone.
    console_stop.cancel();
    let source_ended = source.task.is_finished();
    let rest = if source_ended {
        source.close()
    } else {
        source.finish().await.unwrap_or_else(|e| {
            tracing::error!(error = %format!("{e:#}"), "the frame source stopped with an error");
            Vec::new()
        })
    };
    for event in &rest {
        log_event(event);
    }
    stop.store(true, Ordering::Relaxed);
    let joined = tokio::task::spawn_blocking(move || thread.join()).await;
    if joined.is_err() || matches!(joined, Ok(Err(_))) {
        tracing::error!("the session thread panicked");
    }
    outcome?;
    tracing::info!("stopped");
    Ok(ExitCode::SUCCESS)
}

fn notify(state: &[NotifyState<'_>]) {
    if let Err(e) = sd_notify::notify(state) {
        tracing::debug!(error = %e, "sd_notify");
    }
}

/// "初一(1)班 · 已拍 12/45 · 补拍 3": the class being photographed and the school's counts.
fn session_summary(engine: &Engine) -> String {
    let state = engine.state();
    let status = session::status::status(state);
    let students: usize = status
        .classes
        .iter()
        .map(|c| c.students - c.no_photo_needed)
        .sum();
    let done: usize = status.classes.iter().map(|c| c.photographed).sum();
    let class = state.class.as_deref().unwrap_or("未选班级");
    let health = engine.health();
    let disk = match health.free_bytes {
        Some(free) if health.low_space => {
            format!(" · 磁盘空间不足！剩余 {} MB", durable::megabytes(free))
        }
        Some(free) => format!(" · 磁盘剩余 {:.1} GB", free as f64 / 1e9),
        None => String::new(),
    };
    let problems = if health.problems.is_empty() {
        String::new()
    } else {
        format!(" · 问题 {} 个", health.problems.len())
    };
    format!(
        "{class} · 已拍 {done}/{students} · 补拍 {}{disk}{problems}",
        status.make_up.len()
    )
}

fn log_event(event: &Event) {
    match event {
        // The camera module logs each stored frame at info already.
        Event::Frame(f) => tracing::debug!(
            file = %f.path.display(),
            camera_path = %f.camera_path,
            bytes = f.bytes,
            "frame stored in the spool"
        ),
        Event::Status(status @ (Status::Starting { .. } | Status::None { .. })) => {
            tracing::info!(status = %status.summary(), "camera status")
        }
        Event::Status(status @ Status::Connected { .. }) => {
            tracing::info!(status = %status.summary(), "camera connected")
        }
        Event::Status(status @ (Status::Disconnected { .. } | Status::Busy { .. })) => {
            tracing::warn!(status = %status.summary(), "camera not ready")
        }
        Event::Status(status @ Status::Error { .. }) => {
            tracing::error!(status = %status.summary(), "camera error")
        }
    }
}

fn log_notice(engine: &Engine, notice: &Notice) {
    let text = crate::session_cmd::notice_text(engine, notice);
    // One journal entry per notice: its lines joined.
    let text = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect::<Vec<_>>()
        .join(" · ");
    if text.is_empty() {
        // Operator commands and reloads: the journal line itself (IDs masked by the writer).
        if let Notice::Recorded(line) = notice
            && let Ok(json) = serde_json::to_string(&line.event)
        {
            tracing::info!("操作 / recorded: {json}");
        }
        return;
    }
    match notice {
        Notice::Trouble(_) | Notice::ShotLimit { .. } => tracing::warn!("{text}"),
        _ => tracing::info!("{text}"),
    }
}
