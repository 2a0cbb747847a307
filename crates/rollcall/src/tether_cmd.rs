//! `rollcall cameras` and `rollcall tether`: the camera (or a watched folder) into the spool,
//! one line per frame, until SIGINT/SIGTERM. A second `rollcall tether --trigger` presses the
//! shutter through the running tether's control socket (`<spool>/.tether.sock`, inside the
//! owner-only spool folder).

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{Context, Result, bail};
use clap::Args;
use kit::source::{Source, SourceKind};
use tether::{CameraConfig, CaptureTarget, Event, ImageSize, control};

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
    #[arg(long, value_enum, default_value_t = CaptureTarget::Leave)]
    capture_target: CaptureTarget,

    /// Never delete anything from the camera.
    #[arg(long)]
    keep_on_card: bool,

    /// JPEG size: `small` picks the smallest size with a long side of at least 2000 px where
    /// the body lets rollcall set it (faster transfer and decoding); `leave` keeps the body's.
    #[arg(long, value_enum, default_value_t = ImageSize::Leave)]
    image_size: ImageSize,

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
        let runtime = crate::runtime()?;
        let found = runtime
            .block_on(tether::camera::detect())
            .context("detecting cameras")?;
        if args.json {
            crate::emit(&format!("{}\n", serde_json::to_string_pretty(&found)?))?;
        } else if found.is_empty() {
            crate::emit(&crate::say(
                "没有检测到相机。请检查 USB 线并打开相机。\n",
                "No camera detected: check the USB cable and switch the camera on.\n",
            ))?;
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
    let runtime = crate::runtime()?;
    if args.trigger {
        return runtime.block_on(trigger(&args.spool));
    }
    runtime.block_on(run(args))
}

async fn trigger(spool: &Path) -> Result<ExitCode> {
    let reply = control::ask(spool, control::Request::Trigger, Duration::from_secs(5))
        .await
        .with_context(|| {
            crate::say(
                format!("{} 上没有正在运行的联机拍摄", spool.display()),
                format!("no tether running on {}", spool.display()),
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

async fn run(args: TetherArgs) -> Result<ExitCode> {
    let kind = match &args.folder {
        Some(folder) => SourceKind::Folder(folder.clone()),
        None => SourceKind::Camera(CameraConfig {
            camera: args.camera.clone(),
            capture_target: args.capture_target,
            image_size: args.image_size,
            keep_on_card: args.keep_on_card,
            low_space_bytes: session::engine::LOW_SPACE_BYTES,
            ..CameraConfig::default()
        }),
    };
    let mut source = Source::start(kind, &args.spool)?;
    let shutdown = tokio_util::sync::CancellationToken::new();
    kit::supervisor::cancel_on_signals(shutdown.clone())?;
    let ended = loop {
        tokio::select! {
            Some(event) = source.events.recv() => {
                source.note(&event);
                print_event(&event, args.json)?
            }
            () = shutdown.cancelled() => break None,
            ended = &mut source.task => break Some(ended),
        }
    };
    let (rest, result) = match ended {
        // The source stopped by itself (an error it cannot retry).
        Some(result) => (
            source.close(),
            result.context("tether task")?.map_err(kit::Error::from),
        ),
        None => (source.finish().await?, Ok(())),
    };
    // Report what arrived while shutting down.
    for event in rest {
        print_event(&event, args.json)?;
    }
    result?;
    Ok(ExitCode::SUCCESS)
}
