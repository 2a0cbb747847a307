//! `rollcall cameras` and `rollcall tether`: the camera (or a watched folder) into the spool,
//! one line per frame, until SIGINT/SIGTERM. A second `rollcall tether --trigger` presses the
//! shutter through the running tether's control socket (`<spool>/.tether.sock`, inside the
//! owner-only spool folder).

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result, bail};
use clap::{Args, ValueEnum};
use tether::{Command, Event, Status, control};
use tokio::net::UnixListener;
use tokio::sync::{mpsc, watch};

#[derive(Debug, Args)]
pub struct CamerasArgs {
    /// One JSON document instead of a table.
    #[arg(long)]
    json: bool,
}

#[derive(Debug, Args)]
pub struct TetherArgs {
    /// The spool folder frames are stored in (created owner-only).
    #[arg(long, value_name = "DIR")]
    spool: PathBuf,

    /// Only this camera: text in its model name, or its serial number.
    #[arg(long, value_name = "MODEL|SERIAL")]
    camera: Option<String>,

    /// Where the camera stores captures. `ram`: files are deleted from the camera once safe in
    /// the spool (unless --keep-on-card). `card`: kept on the card. `leave`: as set on the body.
    #[arg(long, value_enum, default_value_t = CaptureTargetOpt::Leave)]
    capture_target: CaptureTargetOpt,

    /// Never delete anything from the camera.
    #[arg(long)]
    keep_on_card: bool,

    /// JPEG size: `small` picks the smallest size with a long side of at least 2000 px where
    /// the body lets rollcall set it (faster transfer and decoding); `leave` keeps the body's.
    #[arg(long, value_enum, default_value_t = ImageSizeOpt::Leave)]
    image_size: ImageSizeOpt,

    /// Take frames from this folder (another tethering program, a card reader) instead of a
    /// camera. Files there are never changed or deleted.
    #[arg(long, value_name = "DIR")]
    folder: Option<PathBuf>,

    /// One JSON object per line.
    #[arg(long)]
    json: bool,

    /// Press the shutter of the tether already running on --spool, then exit.
    #[arg(long)]
    trigger: bool,
}

pub fn cameras(args: CamerasArgs) -> Result<ExitCode> {
    #[cfg(feature = "camera")]
    {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        let found = runtime
            .block_on(tether::camera::detect())
            .context("detecting cameras")?;
        if args.json {
            crate::emit(&format!("{}\n", serde_json::to_string_pretty(&found)?))?;
        } else if found.is_empty() {
            crate::emit(
                "没有检测到相机。请检查 USB 线并打开相机。 / No camera detected: check the USB cable and switch the camera on.\n",
            )?;
        } else {
            let mut out = String::new();
            for c in &found {
                out.push_str(&format!(
                    "{}\t{}\t{}\n",
                    c.model,
                    c.port,
                    c.serial.as_deref().unwrap_or("-")
                ));
            }
            crate::emit(&out)?;
        }
        Ok(ExitCode::SUCCESS)
    }
    #[cfg(not(feature = "camera"))]
    {
        let _ = args;
        bail!("this rollcall was built without camera support (feature `camera`, libgphoto2)")
    }
}

pub fn tether(args: TetherArgs) -> Result<ExitCode> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    if args.trigger {
        return runtime.block_on(trigger(&args.spool));
    }
    runtime.block_on(run(args))
}

async fn trigger(spool: &Path) -> Result<ExitCode> {
    let reply = control::ask(spool, control::Request::Trigger, Duration::from_secs(5))
        .await
        .with_context(|| {
            format!(
                "没有正在运行的联机拍摄 / no tether running on {}",
                spool.display()
            )
        })?;
    match reply {
        control::Reply::Ok => Ok(ExitCode::SUCCESS),
        other => bail!("the tether answered: {other:?}"),
    }
}

fn print_event(event: &Event, json: bool) -> Result<()> {
    let line = if json {
        serde_json::to_string(event)?
    } else {
        match event {
            Event::Frame(f) => format!(
                "frame\t{}\t{}\tcapture {}\t{} bytes",
                f.path.display(),
                f.camera_path,
                f.capture,
                f.bytes
            ),
            Event::Status(status) => status.summary(),
        }
    };
    crate::emit(&format!("{line}\n"))
}

/// Where frames come from.
#[derive(Debug, Clone)]
pub enum SourceKind {
    Camera(CameraOptions),
    /// A folder filled by other software or a card reader.
    Folder(PathBuf),
    /// The built-in demo camera: these frames, on trigger and (with a pace) by itself.
    Demo {
        frames: Vec<tether::demo::DemoFrame>,
        pace: Option<Duration>,
    },
}

/// Camera settings (the same with or without libgphoto2 built in).
#[derive(Debug, Clone, Default)]
// Read only by the libgphoto2 source; a build without it still parses the settings.
#[cfg_attr(not(feature = "camera"), allow(dead_code))]
pub struct CameraOptions {
    /// Only this camera: text in its model name, or its serial number.
    pub model: Option<String>,
    pub capture_target: CaptureTargetOpt,
    pub image_size: ImageSizeOpt,
    pub keep_on_card: bool,
    /// Below this many free bytes on the spool's disk nothing is deleted from the camera.
    pub low_space_bytes: u64,
}

#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, ValueEnum, serde::Deserialize, serde::Serialize,
)]
#[serde(rename_all = "lowercase")]
pub enum CaptureTargetOpt {
    Card,
    Ram,
    #[default]
    Leave,
}

#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, ValueEnum, serde::Deserialize, serde::Serialize,
)]
#[serde(rename_all = "lowercase")]
pub enum ImageSizeOpt {
    Small,
    #[default]
    Leave,
}

/// A running source with its control socket (`<spool>/.tether.sock`).
pub struct Source {
    pub events: mpsc::UnboundedReceiver<Event>,
    /// The last camera status (what the control socket answers).
    status: watch::Sender<Status>,
    shutdown: watch::Sender<bool>,
    /// The source's task (awaited, it ends when the source stops by itself).
    pub task: tokio::task::JoinHandle<Result<(), tether::TetherError>>,
    socket: PathBuf,
}

impl Source {
    /// Starts `kind` storing into `spool` (created owner-only) and serving the control socket.
    pub fn start(kind: SourceKind, spool_dir: &Path) -> Result<Source> {
        let spool = Arc::new(tether::spool::Spool::open(spool_dir)?);
        let (events_tx, events) = mpsc::unbounded_channel();
        // A few presses may wait while the camera is busy; more are refused, not queued.
        let (commands_tx, commands_rx) = mpsc::channel(8);
        let (shutdown, shutdown_rx) = watch::channel(false);
        let socket = control::socket(spool_dir);
        let _ = std::fs::remove_file(&socket);
        let listener = UnixListener::bind(&socket)
            .with_context(|| format!("cannot listen on {}", socket.display()))?;
        let (status, status_rx) = watch::channel(Status::Starting {
            message: "正在连接相机".into(),
        });
        tokio::spawn(control::serve(listener, commands_tx, status_rx));
        let task = match kind {
            SourceKind::Folder(folder) => tokio::spawn(tether::folder::run(
                folder,
                Duration::from_millis(250),
                spool,
                events_tx,
                shutdown_rx,
            )),
            SourceKind::Demo { frames, pace } => {
                // Shots continue their numbering after a restart (the spool names carry time).
                let first = u64::try_from(chrono::Utc::now().timestamp_millis()).unwrap_or(0);
                tokio::spawn(tether::demo::run(
                    frames,
                    pace,
                    first,
                    spool,
                    events_tx,
                    commands_rx,
                    shutdown_rx,
                ))
            }
            SourceKind::Camera(options) => {
                camera_source(&options, spool, events_tx, commands_rx, shutdown_rx)?
            }
        };
        Ok(Source {
            events,
            status,
            shutdown,
            task,
            socket,
        })
    }

    /// Notes a status for the control socket's `status` answer.
    pub fn note(&self, event: &Event) {
        if let Event::Status(st) = event {
            self.status.send_replace(st.clone());
        }
    }

    /// Asks the source to stop (the camera is released when its task ends).
    pub fn shutdown(&self) {
        let _ = self.shutdown.send(true);
    }

    /// Waits for the source to end; returns the events reported meanwhile.
    pub async fn finish(mut self) -> Result<Vec<Event>> {
        self.shutdown();
        let result = (&mut self.task).await;
        let rest = self.close();
        result.context("tether task")??;
        Ok(rest)
    }

    /// After the task has ended: the events still queued; the control socket removed.
    pub fn close(mut self) -> Vec<Event> {
        let mut rest = Vec::new();
        while let Ok(event) = self.events.try_recv() {
            rest.push(event);
        }
        let _ = std::fs::remove_file(&self.socket);
        rest
    }
}

async fn run(args: TetherArgs) -> Result<ExitCode> {
    let kind = match &args.folder {
        Some(folder) => SourceKind::Folder(folder.clone()),
        None => SourceKind::Camera(CameraOptions {
            model: args.camera.clone(),
            capture_target: args.capture_target,
            image_size: args.image_size,
            keep_on_card: args.keep_on_card,
            low_space_bytes: session::engine::LOW_SPACE_BYTES,
        }),
    };
    let mut source = Source::start(kind, &args.spool)?;
    let mut sigterm = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
    let ended = loop {
        tokio::select! {
            Some(event) = source.events.recv() => {
                source.note(&event);
                print_event(&event, args.json)?
            }
            _ = tokio::signal::ctrl_c() => break None,
            _ = sigterm.recv() => break None,
            ended = &mut source.task => break Some(ended),
        }
    };
    let (rest, result) = match ended {
        // The source stopped by itself (an error it cannot retry).
        Some(result) => (source.close(), result.context("tether task")?),
        None => (source.finish().await?, Ok(())),
    };
    // Report what arrived while shutting down.
    for event in rest {
        print_event(&event, args.json)?;
    }
    result?;
    Ok(ExitCode::SUCCESS)
}

#[cfg(feature = "camera")]
fn camera_source(
    options: &CameraOptions,
    spool: Arc<tether::spool::Spool>,
    events: mpsc::UnboundedSender<Event>,
    commands: mpsc::Receiver<Command>,
    shutdown: watch::Receiver<bool>,
) -> Result<tokio::task::JoinHandle<Result<(), tether::TetherError>>> {
    use tether::camera::{CameraConfig, CaptureTarget, ImageSize};
    let config = CameraConfig {
        camera: options.model.clone(),
        capture_target: match options.capture_target {
            CaptureTargetOpt::Card => CaptureTarget::Card,
            CaptureTargetOpt::Ram => CaptureTarget::Ram,
            CaptureTargetOpt::Leave => CaptureTarget::Leave,
        },
        image_size: match options.image_size {
            ImageSizeOpt::Small => ImageSize::Small,
            ImageSizeOpt::Leave => ImageSize::Leave,
        },
        keep_on_card: options.keep_on_card,
        low_space_bytes: options.low_space_bytes,
        ..CameraConfig::default()
    };
    Ok(tokio::spawn(tether::camera::run(
        config, spool, events, commands, shutdown,
    )))
}

#[cfg(not(feature = "camera"))]
fn camera_source(
    _options: &CameraOptions,
    _spool: Arc<tether::spool::Spool>,
    _events: mpsc::UnboundedSender<Event>,
    _commands: mpsc::Receiver<Command>,
    _shutdown: watch::Receiver<bool>,
) -> Result<tokio::task::JoinHandle<Result<(), tether::TetherError>>> {
    bail!(
        "this rollcall was built without camera support (libgphoto2); use a folder source / 此版本不支持相机，请用文件夹来源"
    )
}
