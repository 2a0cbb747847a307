//! The daemon: the frame source with its control socket, the session runner on its own thread
//! (spool watcher, pipeline workers, engine) and the console, started from the configuration
//! and supervised on the caller's tokio runtime until the shutdown token is cancelled.
//!
//! The service manager hears READY once all three run, STATUS whenever the camera or the counts
//! change, and WATCHDOG while the session thread's heartbeat is fresh (a hung engine is
//! restarted; the journal makes that safe). It is a trait ([`ServiceManager`]): systemd in the
//! daemon ([`Systemd`]), a recorder in tests. Shutdown: open pages lose their event streams, the
//! source stops (the camera is released), the frames in flight get their verdicts, exit.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use session::Engine;
use session::runner::{Notice, RunOptions};
use tether::{Event, Status};
use tokio_util::sync::CancellationToken;

use crate::config::{Config, SourceName};
use crate::source::{Source, SourceKind};
use crate::{Error, Result};

/// What the supervisor tells the service manager.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Report {
    /// Source, session and console run.
    Ready,
    /// One line: the camera, then the session.
    Status(String),
    /// The session is alive (sent at a third of the manager's watchdog period).
    Watchdog,
    /// Shutting down.
    Stopping,
}

/// The service manager the supervisor reports to.
pub trait ServiceManager: Send + Sync {
    fn report(&self, report: &Report);
    /// The watchdog period, when the manager expects pings.
    fn watchdog(&self) -> Option<Duration>;
}

/// systemd, through `sd_notify` (nothing happens outside a `Type=notify` unit).
#[derive(Debug, Default, Clone, Copy)]
pub struct Systemd;

impl ServiceManager for Systemd {
    fn report(&self, report: &Report) {
        use sd_notify::NotifyState;
        let state = match report {
            Report::Ready => NotifyState::Ready,
            Report::Status(s) => NotifyState::Status(s),
            Report::Watchdog => NotifyState::Watchdog,
            Report::Stopping => NotifyState::Stopping,
        };
        if let Err(e) = sd_notify::notify(&[state]) {
            tracing::debug!(error = %e, "sd_notify");
        }
    }

    fn watchdog(&self) -> Option<Duration> {
        sd_notify::watchdog_enabled()
    }
}

/// Cancels `token` on SIGTERM or SIGINT (spawned on the current runtime).
pub fn cancel_on_signals(token: CancellationToken) -> Result<()> {
    let mut sigterm = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        .map_err(|e| {
            Error::io(
                bilingual::Text::new("无法处理 SIGTERM", "cannot handle SIGTERM"),
                e,
            )
        })?;
    tokio::spawn(async move {
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = sigterm.recv() => {}
        }
        token.cancel();
    });
    Ok(())
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
        let (engine, report) = Engine::open(&config.data, config.school.as_deref())?;
        if report.originals_moved + report.photos_written + report.photos_removed > 0 {
            tracing::info!(?report, "finished filing interrupted by the last stop");
        }
        return Ok(engine);
    }
    if config.roster.is_empty() {
        return Err(Error::refused(
            format!(
                "数据目录 {} 中没有拍摄会话，配置中也没有名册：请在配置文件中设置 roster = [\"名册\"]，\
                 或先运行 rollcall session start",
                config.data.display()
            ),
            format!(
                "no session in {} and no roster configured: set roster = [\"…\"] in the configuration \
                 or run rollcall session start",
                config.data.display()
            ),
        ));
    }
    let (roster, sources) =
        crate::inputs::load_for_session(&config.roster, None, config.kindergarten_photos)?;
    let engine = Engine::create(
        &config.data,
        &roster,
        config.school.as_deref(),
        sources,
        "-",
    )?;
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
            Error::refused(
                "[camera] source = \"folder\" 需要设置 folder = \"…\"",
                "[camera] source = \"folder\" needs folder = \"…\"",
            )
        })?),
        SourceName::Demo => SourceKind::Demo {
            frames: crate::demo::frames(),
            pace: camera.demo_pace(),
        },
    })
}

/// What STATUS= says: the camera, then the session.
#[derive(Debug, Default)]
struct Summary {
    camera: String,
    session: String,
}

/// Runs the daemon on the current runtime until `shutdown` is cancelled (or a part stops by
/// itself, which is an error).
pub async fn run(
    config: &Config,
    manager: &dyn ServiceManager,
    shutdown: CancellationToken,
) -> Result<()> {
    let opening = config.clone();
    let mut engine = tokio::task::spawn_blocking(move || open_or_start(&opening))
        .await
        .map_err(|e| {
            Error::refused(
                format!("无法打开拍摄会话：{e}"),
                format!("opening the session failed: {e}"),
            )
        })??;
    engine.settings.shot_limit = config.shot_limit;
    engine.settings.low_space_bytes = config.low_space_bytes();
    let defaults = RunOptions::default();
    let heartbeat = Arc::new(AtomicU64::new(0));
    let options = RunOptions {
        profile: crate::load_profile(&config.profile)?,
        jobs: config.jobs.unwrap_or(defaults.jobs),
        heartbeat: Some(Arc::clone(&heartbeat)),
        ..defaults
    };
    supervise(config, engine, options, heartbeat, manager, shutdown).await
}

async fn supervise(
    config: &Config,
    mut engine: Engine,
    options: RunOptions,
    heartbeat: Arc<AtomicU64>,
    manager: &dyn ServiceManager,
    shutdown: CancellationToken,
) -> Result<()> {
    let spool = config.data.join("spool");
    let mut source = Source::start(source_kind(config)?, &spool)?;
    let shot_limit = config.shot_limit;
    let (remote, inbox) = session::runner::remote();
    if let Some(token) = &config.console.token {
        crate::console::set_token(&config.data, token)?;
    }
    let console = crate::console::start(
        &config.data,
        crate::console::Settings {
            listen: config.console.listen,
            spool: Some(spool.clone()),
            sounds: config.console.sounds,
            hosts: config.console.hosts.clone(),
        },
        remote,
        console::Snapshot::of(&engine, shot_limit),
        shutdown.child_token(),
    )?;
    tracing::info!(url = %console.address(), "console / 控制台 (rollcall console url shows the link with the token)");
    let school = engine.state().school.clone();
    let summary = Arc::new(Mutex::new(Summary {
        camera: "相机：正在连接".into(),
        session: crate::report::summary(&engine),
    }));
    let stop = Arc::new(AtomicBool::new(false));
    let (done_tx, mut done) = tokio::sync::oneshot::channel();
    let thread = {
        let stop = Arc::clone(&stop);
        let summary = Arc::clone(&summary);
        let spool = spool.clone();
        let publish = console.publish.clone();
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
                        publish.send_replace(Arc::new(console::Snapshot::of(engine, shot_limit)));
                        log_notice(engine, &notice);
                        if let Ok(mut s) = summary.lock() {
                            s.session = crate::report::summary(engine);
                        }
                    },
                );
                let _ = done_tx.send(result);
            })
            .map_err(|e| {
                Error::io(
                    bilingual::Text::new("无法启动拍摄会话线程", "cannot start the session thread"),
                    e,
                )
            })?
    };

    let syncing = start_sync(config, &school, shutdown.child_token());
    manager.report(&Report::Ready);
    let watchdog = manager.watchdog();
    // Ping at a third of the watchdog's period; look at the state every second anyway.
    let period = watchdog.map_or(Duration::from_secs(1), |w| {
        (w / 3).clamp(Duration::from_millis(50), Duration::from_secs(1))
    });
    let mut tick = tokio::time::interval(period);
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
            () = shutdown.cancelled() => break Ok(()),
            result = &mut done => {
                // The session thread ended by itself: an error it cannot go on from.
                break Err(match result {
                    Ok(Err(e)) => Error::from(e),
                    _ => Error::refused("拍摄会话意外停止", "the session stopped by itself"),
                });
            }
            ended = &mut source.task => {
                break Err(match ended {
                    Ok(Err(e)) => Error::from(e),
                    _ => Error::refused("相机来源意外停止", "the frame source stopped by itself"),
                });
            }
            _ = tick.tick() => {
                let beat = heartbeat.load(Ordering::Relaxed);
                let now = session::runner::heartbeat_origin().elapsed().as_millis();
                let alive = now.saturating_sub(u128::from(beat)) < 5_000;
                if watchdog.is_some() && alive {
                    manager.report(&Report::Watchdog);
                }
                let status = match summary.lock() {
                    Ok(s) => format!("{} · {}", s.camera, s.session),
                    Err(_) => continue,
                };
                if status != last_status {
                    manager.report(&Report::Status(status.clone()));
                    last_status = status;
                }
            }
        }
    };
    manager.report(&Report::Stopping);
    tracing::info!("stopping: releasing the camera, finishing the frames in flight");
    if let Some(task) = syncing {
        // A sync in progress finishes on its own thread (bounded by its timeouts); the next
        // start resumes from what the office has.
        task.abort();
    }
    // Open pages lose their event streams now; their next request finds the console gone.
    console.stop().await;
    let rest = if source.task.is_finished() {
        source.close()
    } else {
        source.finish().await.unwrap_or_else(|e| {
            tracing::error!(error = %e, "the frame source stopped with an error");
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
    Ok(())
}

/// Syncs to the office every `[office] interval_s` on a blocking thread, until `stop`. Never
/// holds anything the photo day needs: it reads the journals' whole lines and the ledger.
/// A failure is logged once per streak (the office unreachable all day is one warning).
fn start_sync(
    config: &Config,
    school: &str,
    stop: CancellationToken,
) -> Option<tokio::task::JoinHandle<()>> {
    let office = match crate::sync::Office::from_config(&config.office) {
        Ok(Some(o)) => Arc::new(o),
        Ok(None) => return None,
        Err(e) => {
            tracing::error!(error = %e, "office: not syncing ([office] in the configuration)");
            return None;
        }
    };
    let data = config.data.clone();
    let school = school.to_string();
    let period = Duration::from_secs(config.office.interval_s.max(1));
    Some(tokio::spawn(async move {
        let mut tick = tokio::time::interval(period);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut failing = false;
        loop {
            tokio::select! {
                () = stop.cancelled() => break,
                _ = tick.tick() => {}
            }
            let (o, d, s) = (Arc::clone(&office), data.clone(), school.clone());
            match tokio::task::spawn_blocking(move || o.sync_and_record(&d, Some(&s))).await {
                Ok(Ok(synced)) => {
                    if failing || synced.lines + synced.submissions > 0 {
                        tracing::info!(
                            lines = synced.lines,
                            submissions = synced.submissions,
                            packs = synced.packs,
                            "office: synced"
                        );
                    }
                    failing = false;
                }
                Ok(Err(e)) if !failing => {
                    tracing::warn!(error = %e, "office: sync failed; the kit works on and retries");
                    failing = true;
                }
                Ok(Err(e)) => tracing::debug!(error = %e, "office: sync failed again"),
                Err(e) => tracing::error!(error = %e, "office: the sync task failed"),
            }
        }
    }))
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
    let text = crate::report::notice_text(engine, notice, bilingual::Lang::Zh);
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
            && let Ok(json) = serde_json::to_string(&line.redacted().event)
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
