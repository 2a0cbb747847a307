//! A tethered camera through libgphoto2 (the `gphoto2` crate).
//!
//! The loop: detect and connect (matching a configured model or serial), confirm with a real
//! call, then wait for events in short slices, draining them; each new file is downloaded,
//! stored in the spool (see [`crate::spool`]) and reported; in internal-RAM mode it is then
//! deleted from the camera. A software trigger is sent between waits, so it never queues behind
//! a long one. After any error the camera object is thrown away (dropped on a blocking thread:
//! its `Drop` blocks), and the loop backs off (250 ms doubling to 5 s) and detects again.
//!
//! The crate's calls run in order on one libgphoto2 worker thread; every call here is awaited,
//! never waited on inside async code.

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use gphoto2::camera::CameraEvent;
use gphoto2::error::ErrorKind;
use gphoto2::list::CameraDescriptor;
use gphoto2::widget::{RadioWidget, TextWidget};
use gphoto2::{Camera, Context};
use serde::Serialize;
use tokio::sync::{mpsc, watch};

use crate::spool::Spool;
use crate::{Captures, Command, Event, FrameArrived, FrameKind, Status, TetherError};

/// Where the body stores captures.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum CaptureTarget {
    /// The memory card: files stay there; rollcall never deletes them.
    Card,
    /// The camera's internal RAM: files are deleted once stored in the spool (unless
    /// `keep_on_card`).
    Ram,
    /// Whatever the camera is set to; nothing is deleted.
    Leave,
}

/// How to tether.
#[derive(Debug, Clone)]
pub struct CameraConfig {
    /// Connect only to a camera whose model contains this text or whose serial is this.
    pub camera: Option<String>,
    pub capture_target: CaptureTarget,
    /// Never delete from the camera, even in internal-RAM mode.
    pub keep_on_card: bool,
    /// One event wait. Short, so a trigger or shutdown is never held up for long.
    pub wait: Duration,
}

impl Default for CameraConfig {
    fn default() -> Self {
        CameraConfig {
            camera: None,
            capture_target: CaptureTarget::Leave,
            keep_on_card: false,
            wait: Duration::from_millis(200),
        }
    }
}

/// A camera found by detection.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DetectedCamera {
    pub model: String,
    pub port: String,
    pub serial: Option<String>,
}

const CLAIM_REMEDY: &str = "相机被电脑桌面程序（gvfs）占用。请在终端运行：gio mount -s gphoto2，然后重新插拔相机；长期解决：systemctl --user mask gvfs-gphoto2-volume-monitor。 / The desktop (gvfs) holds the camera. Run `gio mount -s gphoto2` and replug the camera; to stop it for good: `systemctl --user mask gvfs-gphoto2-volume-monitor`.";

fn camera_error(e: &gphoto2::Error) -> TetherError {
    TetherError::Camera(e.to_string())
}

/// Lists the cameras libgphoto2 detects, with their serial numbers when a short connection
/// can read them.
pub async fn detect() -> Result<Vec<DetectedCamera>, TetherError> {
    let context = Context::new().map_err(|e| camera_error(&e))?;
    let list = context.list_cameras().await.map_err(|e| camera_error(&e))?;
    let mut found = Vec::new();
    for descriptor in list {
        let serial = match context.get_camera(&descriptor).await {
            Ok(camera) => {
                let serial = camera.summary().ok().and_then(|s| serial_from_summary(&s));
                release(camera).await;
                serial
            }
            Err(_) => None,
        };
        found.push(DetectedCamera {
            model: descriptor.model,
            port: descriptor.port,
            serial,
        });
    }
    Ok(found)
}

/// `Serial Number: 3123456` in libgphoto2's summary text.
fn serial_from_summary(summary: &str) -> Option<String> {
    summary.lines().find_map(|l| {
        let (key, value) = l.split_once(':')?;
        let value = value.trim();
        (key.trim().eq_ignore_ascii_case("Serial Number") && !value.is_empty())
            .then(|| value.to_string())
    })
}

/// Drops a camera on a blocking thread: its `Drop` blocks on the worker thread, and panics
/// when libgphoto2 fails to release it, which must not take the daemon down.
async fn release(camera: Camera) {
    if tokio::task::spawn_blocking(move || drop(camera))
        .await
        .is_err()
    {
        tracing::warn!("releasing the camera failed; continuing");
    }
}

struct Connected {
    camera: Camera,
    name: String,
}

async fn connect(
    context: &Context,
    config: &CameraConfig,
) -> Result<Connected, (gphoto2::Error, String)> {
    let list = context
        .list_cameras()
        .await
        .map_err(|e| (e, "detect".to_string()))?;
    let descriptors: Vec<CameraDescriptor> = list.collect();
    for descriptor in descriptors {
        if let Some(want) = &config.camera
            && !descriptor.model.contains(want.as_str())
        {
            // A serial can only be checked after connecting.
            if descriptor.model.is_empty() {
                continue;
            }
        }
        let camera = match context.get_camera(&descriptor).await {
            Ok(c) => c,
            Err(e) => return Err((e, descriptor.model)),
        };
        // libgphoto2 connects lazily: confirm with a real call before saying "connected".
        if let Err(e) = camera.storages().await {
            release(camera).await;
            return Err((e, descriptor.model));
        }
        let serial = camera.summary().ok().and_then(|s| serial_from_summary(&s));
        if let Some(want) = &config.camera
            && !descriptor.model.contains(want.as_str())
            && serial.as_deref() != Some(want.as_str())
        {
            release(camera).await;
            continue;
        }
        let name = match &serial {
            Some(s) => format!("{} {s}", descriptor.model),
            None => descriptor.model.clone(),
        };
        tracing::info!(camera = %name, port = %descriptor.port, "camera connected");
        return Ok(Connected { camera, name });
    }
    Err((
        gphoto2::Error::new(libgphoto2_sys_model_not_found(), None),
        config.camera.clone().unwrap_or_default(),
    ))
}

/// GP_ERROR_MODEL_NOT_FOUND: no (matching) camera.
fn libgphoto2_sys_model_not_found() -> i32 {
    -105
}

async fn status_connected(context: &Context, c: &Connected) -> Status {
    let battery = c
        .camera
        .config_key::<TextWidget>("batterylevel")
        .await
        .ok()
        .map(|w| w.value());
    let free_bytes = c
        .camera
        .storages()
        .await
        .ok()
        .and_then(|s| s.first().and_then(|s| s.free_kb()));
    let port = c.camera.port_info().map(|p| p.path()).unwrap_or_default();
    let _ = context;
    Status::Connected {
        camera: c.name.clone(),
        port,
        battery,
        free_bytes,
    }
}

async fn apply_settings(
    c: &Connected,
    config: &CameraConfig,
    events: &mpsc::UnboundedSender<Event>,
) {
    let choice = match config.capture_target {
        CaptureTarget::Leave => return,
        CaptureTarget::Card => ["Memory card", "card"],
        CaptureTarget::Ram => ["Internal RAM", "sdram"],
    };
    let result = async {
        let widget = c.camera.config_key::<RadioWidget>("capturetarget").await?;
        let pick = widget
            .choices_iter()
            .find(|ch| choice.iter().any(|want| ch.eq_ignore_ascii_case(want)))
            .unwrap_or_else(|| choice[0].to_string());
        widget.set_choice(&pick)?;
        c.camera.set_config(&widget).await
    }
    .await;
    if let Err(e) = result {
        let _ = events.send(Event::Status(Status::Error {
            message: format!("capture target not set: {e}"),
            remedy: Some(
                "在相机菜单中手动设置存储位置。 / Set the capture target on the camera itself."
                    .into(),
            ),
        }));
    }
}

/// Tethers until `shutdown` turns true: connects, downloads every new file into the spool,
/// reconnects after errors. Returns only on shutdown or when the spool fails (a full disk):
/// frames must not be downloaded when they cannot be stored.
pub async fn run(
    config: CameraConfig,
    spool: Arc<Spool>,
    events: mpsc::UnboundedSender<Event>,
    mut commands: mpsc::UnboundedReceiver<Command>,
    mut shutdown: watch::Receiver<bool>,
) -> Result<(), TetherError> {
    let context = Context::new().map_err(|e| camera_error(&e))?;
    let mut backoff = Duration::from_millis(250);
    let mut capture = Captures::default();
    let mut last_status: Option<String> = None;
    let mut say = |events: &mpsc::UnboundedSender<Event>, status: Status| {
        // Repeated identical statuses (every retry while unplugged) are said once.
        let key = format!("{status:?}");
        if last_status.as_deref() != Some(key.as_str()) {
            let _ = events.send(Event::Status(status));
            last_status = Some(key);
        }
    };
    while !*shutdown.borrow() {
        match connect(&context, &config).await {
            Ok(connected) => {
                backoff = Duration::from_millis(250);
                apply_settings(&connected, &config, &events).await;
                say(&events, status_connected(&context, &connected).await);
                let outcome = session(
                    &context,
                    &connected,
                    &config,
                    &spool,
                    &events,
                    &mut commands,
                    &shutdown,
                    &mut capture,
                )
                .await;
                let name = connected.name.clone();
                release(connected.camera).await;
                match outcome {
                    Ok(()) => break,
                    Err(SessionEnd::Spool(e)) => return Err(e),
                    Err(SessionEnd::Camera(e)) => {
                        tracing::warn!(camera = %name, error = %e, "camera lost; reconnecting");
                        say(&events, status_for(&e, &name));
                    }
                }
            }
            Err((e, what)) => {
                tracing::debug!(error = %e, camera = %what, "no camera");
                say(&events, status_for(&e, &what));
                // Trigger presses while no camera is there are answered, not queued.
                while let Ok(Command::Trigger) = commands.try_recv() {
                    say(
                        &events,
                        Status::Error {
                            message: "no camera connected: trigger ignored".into(),
                            remedy: Some("请连接相机。 / Connect the camera.".into()),
                        },
                    );
                }
                tokio::select! {
                    _ = tokio::time::sleep(backoff) => {}
                    _ = shutdown.changed() => {}
                }
                backoff = (backoff * 2).min(Duration::from_secs(5));
            }
        }
    }
    Ok(())
}

fn status_for(e: &gphoto2::Error, camera: &str) -> Status {
    match e.kind() {
        ErrorKind::IoUsbClaim => Status::Error {
            message: format!("{camera}: {e}"),
            remedy: Some(CLAIM_REMEDY.into()),
        },
        ErrorKind::CameraBusy => Status::Busy {
            reason: e.to_string(),
        },
        ErrorKind::ModelNotFound | ErrorKind::IoUsbFind | ErrorKind::UnknownPort => {
            Status::Disconnected {
                reason: "no camera found (相机未连接或未开机)".into(),
            }
        }
        _ => Status::Disconnected {
            reason: format!("{camera}: {e}"),
        },
    }
}

enum SessionEnd {
    Camera(gphoto2::Error),
    Spool(TetherError),
}

#[allow(clippy::too_many_arguments)]
async fn session(
    context: &Context,
    c: &Connected,
    config: &CameraConfig,
    spool: &Arc<Spool>,
    events: &mpsc::UnboundedSender<Event>,
    commands: &mut mpsc::UnboundedReceiver<Command>,
    shutdown: &watch::Receiver<bool>,
    captures: &mut Captures,
) -> Result<(), SessionEnd> {
    loop {
        if *shutdown.borrow() {
            return Ok(());
        }
        while let Ok(command) = commands.try_recv() {
            match command {
                Command::Trigger => {
                    tracing::info!("software trigger");
                    c.camera
                        .trigger_capture()
                        .await
                        .map_err(SessionEnd::Camera)?;
                }
            }
        }
        let event = c
            .camera
            .wait_event(config.wait)
            .await
            .map_err(SessionEnd::Camera)?;
        if let CameraEvent::NewFile(path) = event {
            let (folder, name) = (path.folder().into_owned(), path.name().into_owned());
            let started = Instant::now();
            let file = c
                .camera
                .fs()
                .download(&folder, &name)
                .await
                .map_err(SessionEnd::Camera)?;
            let data = file.get_data(context).await.map_err(SessionEnd::Camera)?;
            let extension = Path::new(&name)
                .extension()
                .map(|e| e.to_string_lossy().into_owned())
                .unwrap_or_else(|| "bin".into());
            let stem = Path::new(&name)
                .file_stem()
                .map(|s| s.to_string_lossy().into_owned())
                .unwrap_or_default();
            let kind = FrameKind::from_extension(&extension);
            let spool2 = Arc::clone(spool);
            let camera_name = c.name.clone();
            let bytes = data.len() as u64;
            let stored =
                tokio::task::spawn_blocking(move || spool2.store(&data, &camera_name, &extension))
                    .await
                    .map_err(|e| {
                        SessionEnd::Spool(TetherError::Camera(format!("store task failed: {e}")))
                    })?
                    .map_err(SessionEnd::Spool)?;
            let camera_path = format!("{}/{}", folder.trim_end_matches('/'), name);
            tracing::info!(spool = %stored.display(), camera_path = %camera_path, ms = started.elapsed().as_millis() as u64, "frame stored");
            if config.capture_target == CaptureTarget::Ram && !config.keep_on_card {
                // Only now that the bytes are safe in the spool.
                if let Err(e) = c.camera.fs().delete_file(&folder, &name).await {
                    tracing::warn!(error = %e, camera_path = %camera_path, "could not delete from the camera");
                }
            }
            let _ = events.send(Event::Frame(FrameArrived {
                path: stored,
                camera: c.name.clone(),
                camera_path,
                capture: captures.assign(&stem, kind),
                kind,
                bytes,
            }));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serial_is_read_from_the_summary() {
        let s = "Manufacturer: Nikon\nModel: D750\n  Serial Number: 3001234\nVersion: 1.0";
        assert_eq!(serial_from_summary(s).as_deref(), Some("3001234"));
        assert_eq!(serial_from_summary("Model: X"), None);
    }
}
