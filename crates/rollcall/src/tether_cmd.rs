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
use tether::{Command, Event, Status};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::{UnixListener, UnixStream};
use tokio::sync::{mpsc, watch};

/// Name of the control socket inside the spool folder.
pub const SOCKET: &str = ".tether.sock";

#[derive(Debug, Args)]
pub struct CamerasArgs {
    /// One JSON document instead of a table.
    #[arg(long)]
    json: bool,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum Size {
    Small,
    Leave,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum Target {
    Card,
    Ram,
    Leave,
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
    #[arg(long, value_enum, default_value_t = Target::Leave)]
    capture_target: Target,

    /// Never delete anything from the camera.
    #[arg(long)]
    keep_on_card: bool,

    /// JPEG size: `small` picks the smallest size with a long side of at least 2000 px where
    /// the body lets rollcall set it (faster transfer and decoding); `leave` keeps the body's.
    #[arg(long, value_enum, default_value_t = Size::Leave)]
    image_size: Size,

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
    let path = spool.join(SOCKET);
    let stream = UnixStream::connect(&path).await.with_context(|| {
        format!(
            "no tether running on {} (没有正在运行的联机拍摄)",
            spool.display()
        )
    })?;
    let (read, mut write) = stream.into_split();
    write.write_all(b"trigger\n").await?;
    let mut line = String::new();
    BufReader::new(read).read_line(&mut line).await?;
    if line.trim() != "ok" {
        bail!("the tether answered: {}", line.trim());
    }
    Ok(ExitCode::SUCCESS)
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
            Event::Status(Status::Connected {
                camera,
                port,
                battery,
                free_bytes,
            }) => format!(
                "connected\t{camera}\t{port}\tbattery {}\tfree {}",
                battery.as_deref().unwrap_or("?"),
                free_bytes
                    .map(|b| format!("{} MB", b / 1_000_000))
                    .unwrap_or_else(|| "?".into())
            ),
            Event::Status(Status::Disconnected { reason }) => format!("disconnected\t{reason}"),
            Event::Status(Status::Busy { reason }) => format!("busy\t{reason}"),
            Event::Status(Status::Error { message, remedy }) => {
                format!("error\t{message}\t{}", remedy.as_deref().unwrap_or(""))
            }
        }
    };
    crate::emit(&format!("{line}\n"))
}

async fn run(args: TetherArgs) -> Result<ExitCode> {
    let spool = Arc::new(tether::spool::Spool::open(&args.spool)?);
    let (events_tx, mut events_rx) = mpsc::unbounded_channel();
    let (commands_tx, commands_rx) = mpsc::unbounded_channel();
    let (shutdown_tx, shutdown_rx) = watch::channel(false);

    let socket_path = args.spool.join(SOCKET);
    let _ = std::fs::remove_file(&socket_path);
    let listener = UnixListener::bind(&socket_path)
        .with_context(|| format!("cannot listen on {}", socket_path.display()))?;
    // The last camera status, for the console (`status` on the control socket).
    let status = Arc::new(std::sync::Mutex::new(
        serde_json::json!({"state": "starting", "message": "正在连接相机"}).to_string(),
    ));
    tokio::spawn(serve_control(listener, commands_tx, Arc::clone(&status)));

    let source = match &args.folder {
        Some(folder) => tokio::spawn(tether::folder::run(
            folder.clone(),
            Duration::from_millis(250),
            Arc::clone(&spool),
            events_tx,
            shutdown_rx,
        )),
        None => camera_source(&args, spool, events_tx, commands_rx, shutdown_rx)?,
    };

    let mut sigterm = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
    let mut source = source;
    let result = loop {
        tokio::select! {
            Some(event) = events_rx.recv() => {
                if let Event::Status(st) = &event
                    && let Ok(mut last) = status.lock()
                {
                    *last = status_json(st);
                }
                print_event(&event, args.json)?
            }
            _ = tokio::signal::ctrl_c() => { let _ = shutdown_tx.send(true); }
            _ = sigterm.recv() => { let _ = shutdown_tx.send(true); }
            finished = &mut source => break finished,
        }
    };
    // Report what arrived while shutting down.
    while let Ok(event) = events_rx.try_recv() {
        print_event(&event, args.json)?;
    }
    let _ = std::fs::remove_file(&socket_path);
    result.context("tether task")??;
    Ok(ExitCode::SUCCESS)
}

#[cfg(feature = "camera")]
fn camera_source(
    args: &TetherArgs,
    spool: Arc<tether::spool::Spool>,
    events: mpsc::UnboundedSender<Event>,
    commands: mpsc::UnboundedReceiver<Command>,
    shutdown: watch::Receiver<bool>,
) -> Result<tokio::task::JoinHandle<Result<(), tether::TetherError>>> {
    use tether::camera::{CameraConfig, CaptureTarget, ImageSize};
    let config = CameraConfig {
        camera: args.camera.clone(),
        capture_target: match args.capture_target {
            Target::Card => CaptureTarget::Card,
            Target::Ram => CaptureTarget::Ram,
            Target::Leave => CaptureTarget::Leave,
        },
        image_size: match args.image_size {
            Size::Small => ImageSize::Small,
            Size::Leave => ImageSize::Leave,
        },
        keep_on_card: args.keep_on_card,
        ..CameraConfig::default()
    };
    Ok(tokio::spawn(tether::camera::run(
        config, spool, events, commands, shutdown,
    )))
}

#[cfg(not(feature = "camera"))]
fn camera_source(
    _args: &TetherArgs,
    _spool: Arc<tether::spool::Spool>,
    _events: mpsc::UnboundedSender<Event>,
    _commands: mpsc::UnboundedReceiver<Command>,
    _shutdown: watch::Receiver<bool>,
) -> Result<tokio::task::JoinHandle<Result<(), tether::TetherError>>> {
    bail!("this rollcall was built without camera support; use --folder DIR")
}

/// A camera status as one line of JSON for the console.
fn status_json(status: &Status) -> String {
    let value = match status {
        Status::Connected {
            camera,
            port,
            battery,
            free_bytes,
        } => serde_json::json!({
            "state": "connected", "model": camera, "port": port, "battery": battery,
            "free": free_bytes.map(|b| format!("{} MB", b / 1_000_000)),
        }),
        Status::Disconnected { reason } => {
            serde_json::json!({"state": "disconnected", "message": reason})
        }
        Status::Busy { reason } => serde_json::json!({"state": "busy", "message": reason}),
        Status::Error { message, remedy } => {
            serde_json::json!({"state": "error", "message": message, "remedy": remedy})
        }
    };
    value.to_string()
}

async fn serve_control(
    listener: UnixListener,
    commands: mpsc::UnboundedSender<Command>,
    status: Arc<std::sync::Mutex<String>>,
) {
    while let Ok((stream, _)) = listener.accept().await {
        let commands = commands.clone();
        let status = Arc::clone(&status);
        tokio::spawn(async move {
            let (read, mut write) = stream.into_split();
            let mut lines = BufReader::new(read).lines();
            while let Ok(Some(line)) = lines.next_line().await {
                let answer = match line.trim() {
                    "trigger" => {
                        if commands.send(Command::Trigger).is_ok() {
                            "ok\n".to_string()
                        } else {
                            "error stopped\n".to_string()
                        }
                    }
                    "status" => match status.lock() {
                        Ok(s) => format!("{s}\n"),
                        Err(_) => "error\n".to_string(),
                    },
                    other => {
                        tracing::warn!(command = other, "unknown control command");
                        "error unknown command\n".to_string()
                    }
                };
                if write.write_all(answer.as_bytes()).await.is_err() {
                    break;
                }
            }
        });
    }
}
