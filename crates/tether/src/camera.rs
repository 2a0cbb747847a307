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

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use gphoto2::camera::CameraEvent;
use gphoto2::error::ErrorKind;
use gphoto2::list::CameraDescriptor;
use gphoto2::widget::{RadioWidget, TextWidget};
use gphoto2::{Camera, Context};
use serde::Serialize;

pub use crate::settings::{CameraConfig, CaptureTarget, ImageSize, SMALL_MIN_PIXELS};
use sha2::{Digest, Sha256};
use tokio::sync::{mpsc, watch};

use crate::ledger::{self, Ledger, Listed, Step};
use crate::spool::Spool;
use crate::{Captures, Command, Event, FrameArrived, FrameKind, Status, TetherError};

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
                let serial = serial(&camera).await;
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

/// The camera's serial number from its summary. `Camera::summary` is a synchronous libgphoto2
/// call (it talks to the camera over USB), so it runs on a blocking thread with a reference of
/// its own, which is dropped there too (a camera's `Drop` blocks).
async fn serial(camera: &Camera) -> Option<String> {
    let camera = camera.clone();
    tokio::task::spawn_blocking(move || {
        let summary = camera.summary();
        drop(camera);
        summary.ok().and_then(|s| serial_from_summary(&s))
    })
    .await
    .ok()
    .flatten()
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
        let serial = serial(&camera).await;
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
        gphoto2::Error::new(GP_ERROR_MODEL_NOT_FOUND, None),
        config.camera.clone().unwrap_or_default(),
    ))
}

/// `GP_ERROR_MODEL_NOT_FOUND` (gphoto2-result.h): no (matching) camera.
const GP_ERROR_MODEL_NOT_FOUND: i32 = -105;

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
        model: c.name.clone(),
        port,
        battery,
        free_bytes,
    }
}

async fn apply_settings(c: &Connected, config: &CameraConfig, events: &mpsc::Sender<Event>) {
    let mut unset: Vec<(&str, String)> = Vec::new();
    if let Some(choice) = match config.capture_target {
        CaptureTarget::Leave => None,
        CaptureTarget::Card => Some(["Memory card", "card"]),
        CaptureTarget::Ram => Some(["Internal RAM", "sdram"]),
    } {
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
            unset.push(("capturetarget", e.to_string()));
        }
    }
    if config.image_size == ImageSize::Small {
        let result = async {
            let widget = c.camera.config_key::<RadioWidget>("imagesize").await?;
            let Some(pick) = smallest_enough(widget.choices_iter()) else {
                return Ok(None);
            };
            if widget.readonly() {
                return Err(gphoto2::Error::new(
                    -2,
                    Some(format!("read-only on this body; wanted {pick}")),
                ));
            }
            widget.set_choice(&pick)?;
            c.camera.set_config(&widget).await.map(|()| Some(pick))
        }
        .await;
        match result {
            Ok(Some(pick)) => tracing::info!(size = %pick, "JPEG size set"),
            Ok(None) => {}
            Err(e) => unset.push(("imagesize", e.to_string())),
        }
    }
    for (what, e) in unset {
        let _ = events
            .send(Event::Status(Status::Error {
                message: format!("{what} not set: {e}"),
                remedy: Some(format!(
                    "请在相机菜单中手动设置（{what}）。 / Set it on the camera itself ({what})."
                )),
            }))
            .await;
    }
}

/// From choices like `6000x4000`, the smallest whose long side is at least
/// [`SMALL_MIN_PIXELS`]; the largest when none is.
fn smallest_enough(choices: impl Iterator<Item = String>) -> Option<String> {
    let sizes: Vec<(u32, String)> = choices
        .filter_map(|c| {
            let (w, h) = c.split_once(['x', 'X', '*'])?;
            let (w, h): (u32, u32) = (w.trim().parse().ok()?, h.trim().parse().ok()?);
            Some((w.max(h), c))
        })
        .collect();
    sizes
        .iter()
        .filter(|(long, _)| *long >= SMALL_MIN_PIXELS)
        .min_by_key(|(long, _)| *long)
        .or_else(|| sizes.iter().max_by_key(|(long, _)| *long))
        .map(|(_, c)| c.clone())
}

/// Says a status once: repeated identical statuses (every retry while unplugged) are not
/// repeated.
#[derive(Default)]
struct Said {
    last: Option<String>,
}

impl Said {
    async fn say(&mut self, events: &mpsc::Sender<Event>, status: Status) {
        let key = format!("{status:?}");
        if self.last.as_deref() != Some(key.as_str()) {
            let _ = events.send(Event::Status(status)).await;
            self.last = Some(key);
        }
    }
}

/// Tethers until `shutdown` turns true: connects, downloads every new file into the spool,
/// reconnects after errors. When the spool cannot store a frame (a full disk) the frame stays on
/// the camera, the status says so, and the next connection's catch-up fetches it.
pub async fn run(
    config: CameraConfig,
    spool: Arc<Spool>,
    events: mpsc::Sender<Event>,
    mut commands: mpsc::Receiver<Command>,
    mut shutdown: watch::Receiver<bool>,
) -> Result<(), TetherError> {
    let context = Context::new().map_err(|e| camera_error(&e))?;
    let mut ledger = Ledger::open(spool.dir())?;
    let mut backoff = Duration::from_millis(250);
    let mut capture = Captures::default();
    let mut said = Said::default();
    while !*shutdown.borrow() {
        match connect(&context, &config).await {
            Ok(connected) => {
                backoff = Duration::from_millis(250);
                apply_settings(&connected, &config, &events).await;
                said.say(&events, status_connected(&context, &connected).await)
                    .await;
                let mut io = Io {
                    context: &context,
                    config: &config,
                    spool: &spool,
                    events: &events,
                    captures: &mut capture,
                    ledger: &mut ledger,
                };
                let outcome = session(&connected, &mut io, &mut commands, &shutdown).await;
                let name = connected.name.clone();
                release(connected.camera).await;
                match outcome {
                    Ok(()) => break,
                    Err(SessionEnd::Spool(e)) => {
                        // A full disk: what was not stored stays on the camera (neither fetched
                        // nor deleted) and the catch-up of the next connection fetches it.
                        tracing::error!(error = %e, "cannot store frames; waiting for room");
                        said.say(&events, crate::spool_trouble(&e)).await;
                        tokio::select! {
                            _ = tokio::time::sleep(Duration::from_secs(5)) => {}
                            _ = shutdown.changed() => {}
                        }
                    }
                    Err(SessionEnd::Camera(e)) => {
                        tracing::warn!(camera = %name, error = %e, "camera lost; reconnecting");
                        said.say(&events, status_for(&e, &name)).await;
                    }
                }
            }
            Err((e, what)) => {
                tracing::debug!(error = %e, camera = %what, "no camera");
                said.say(&events, status_for(&e, &what)).await;
                // Trigger presses while no camera is there are answered, not queued.
                while let Ok(Command::Trigger) = commands.try_recv() {
                    said.say(
                        &events,
                        Status::Error {
                            message: "no camera connected: trigger ignored".into(),
                            remedy: Some("请连接相机。 / Connect the camera.".into()),
                        },
                    )
                    .await;
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
            message: e.to_string(),
        },
        ErrorKind::ModelNotFound | ErrorKind::IoUsbFind | ErrorKind::UnknownPort => {
            Status::Disconnected {
                message: "no camera found (相机未连接或未开机)".into(),
            }
        }
        _ => Status::Disconnected {
            message: format!("{camera}: {e}"),
        },
    }
}

enum SessionEnd {
    Camera(gphoto2::Error),
    Spool(TetherError),
}

/// Errors about one file (the camera is fine): report, skip the file, go on.
fn is_per_file(e: &gphoto2::Error) -> bool {
    matches!(
        e.kind(),
        ErrorKind::NotSupported
            | ErrorKind::FileNotFound
            | ErrorKind::CorruptedData
            | ErrorKind::BadParameters
            | ErrorKind::DirectoryNotFound
    )
}

/// Fetches one file; an error about the file alone is reported and skipped, so one unreadable
/// file cannot stop tethering.
async fn fetch_or_skip(
    c: &Connected,
    io: &mut Io<'_>,
    folder: &str,
    name: &str,
) -> Result<Option<(String, CameraFile)>, SessionEnd> {
    match file_info(c, folder, name).await {
        Ok(info) => Ok(Some((file_key(c, folder, name, &info), info))),
        Err(e) if is_per_file(&e) => {
            skip_report(io, folder, name, &e).await;
            Ok(None)
        }
        Err(e) => Err(SessionEnd::Camera(e)),
    }
}

async fn skip_report(io: &Io<'_>, folder: &str, name: &str, e: &gphoto2::Error) {
    let path = format!("{}/{name}", folder.trim_end_matches('/'));
    tracing::error!(camera_path = %path, error = %e, "cannot download a file from the camera");
    let _ = io.events.send(Event::Status(Status::Error {
        message: format!("cannot download {path}: {e}"),
        remedy: Some("该照片无法从相机下载，请用读卡器复制后放入收片文件夹。 / This file cannot be downloaded; copy it with a card reader into the spool folder.".into()),
    }))
    .await;
}

/// What a connection needs besides the camera.
struct Io<'a> {
    context: &'a Context,
    config: &'a CameraConfig,
    spool: &'a Arc<Spool>,
    events: &'a mpsc::Sender<Event>,
    captures: &'a mut Captures,
    ledger: &'a mut Ledger,
}

/// Every file on the camera: (folder, name), in name order.
async fn list_files(camera: &Camera) -> Result<Vec<(String, String)>, gphoto2::Error> {
    let mut out = Vec::new();
    let mut folders = vec!["/".to_string()];
    while let Some(folder) = folders.pop() {
        for name in camera.fs().list_files(&folder).await? {
            out.push((folder.clone(), name));
        }
        for sub in camera.fs().list_folders(&folder).await? {
            folders.push(format!("{}/{sub}", folder.trim_end_matches('/')));
        }
    }
    out.sort();
    Ok(out)
}

/// The ledger key of a camera file: camera, path, size and time, because names repeat.
fn file_key(c: &Connected, folder: &str, name: &str, info: &CameraFile) -> String {
    format!(
        "{}\t{}/{}\t{}\t{}",
        c.name,
        folder.trim_end_matches('/'),
        name,
        info.size,
        info.mtime
    )
}

/// What the catch-up and the ledger need to know of a file on the camera.
struct CameraFile {
    size: u64,
    /// Seconds since 1970 by the camera's clock; 0 when the camera does not say.
    mtime: i64,
}

async fn file_info(c: &Connected, folder: &str, name: &str) -> Result<CameraFile, gphoto2::Error> {
    let info = c.camera.fs().file_info(folder, name).await?;
    Ok(CameraFile {
        size: info.file().size().unwrap_or(0),
        mtime: info.file().mtime().unwrap_or(0),
    })
}

/// Downloads one camera file's bytes.
async fn download(
    c: &Connected,
    io: &Io<'_>,
    folder: &str,
    name: &str,
) -> Result<Vec<u8>, SessionEnd> {
    let file = c
        .camera
        .fs()
        .download(folder, name)
        .await
        .map_err(SessionEnd::Camera)?;
    let data = file
        .get_data(io.context)
        .await
        .map_err(SessionEnd::Camera)?;
    Ok(data.into_vec())
}

/// Downloads one camera file into the spool, records it, deletes it in internal-RAM mode, and
/// reports it. Returns the SHA-256 of what was stored.
async fn fetch(
    c: &Connected,
    io: &mut Io<'_>,
    folder: &str,
    name: &str,
    key: &str,
) -> Result<[u8; 32], SessionEnd> {
    let started = Instant::now();
    let data = download(c, io, folder, name).await?;
    store(c, io, folder, name, key, data, started).await
}

/// Stores downloaded bytes: spool, ledger, delete (RAM mode, not on a nearly full disk), event.
async fn store(
    c: &Connected,
    io: &mut Io<'_>,
    folder: &str,
    name: &str,
    key: &str,
    data: Vec<u8>,
    started: Instant,
) -> Result<[u8; 32], SessionEnd> {
    let digest: [u8; 32] = Sha256::digest(&data).into();
    let (stem, extension) = crate::split_name(Path::new(name));
    let kind = FrameKind::from_extension(&extension);
    let bytes = data.len() as u64;
    let stored =
        crate::spool::store_blocking(Arc::clone(io.spool), data, c.name.clone(), extension)
            .await
            .map_err(SessionEnd::Spool)?;
    io.ledger.record("got", key).map_err(SessionEnd::Spool)?;
    let camera_path = format!("{}/{}", folder.trim_end_matches('/'), name);
    tracing::info!(spool = %stored.display(), camera_path = %camera_path, ms = started.elapsed().as_millis() as u64, "frame stored");
    let low = io.config.low_space_bytes > 0
        && durable::free_space(io.spool.dir()).is_ok_and(|f| f < io.config.low_space_bytes);
    if low {
        tracing::warn!(camera_path = %camera_path, "the disk is nearly full: the frame stays on the camera too");
    }
    if io.config.capture_target == CaptureTarget::Ram && !io.config.keep_on_card && !low {
        // Only now that the bytes are safe in the spool.
        if let Err(e) = c.camera.fs().delete_file(folder, name).await {
            tracing::warn!(error = %e, camera_path = %camera_path, "could not delete from the camera");
        }
    }
    let _ = io
        .events
        .send(Event::Frame(FrameArrived {
            path: stored,
            camera: c.name.clone(),
            camera_path,
            capture: io.captures.assign(&stem, kind),
            kind,
            bytes,
        }))
        .await;
    Ok(digest)
}

/// Downloads what is on the camera and not in the ledger: frames a crash, a cable pull or a
/// lost event left behind. The first time a camera is seen, what it holds is old work: it is
/// recorded as seen and not downloaded. Returns the keys fetched with the SHA-256 of their
/// bytes, so that a late event for the same file is not stored twice.
async fn catch_up(c: &Connected, io: &mut Io<'_>) -> Result<HashMap<String, [u8; 32]>, SessionEnd> {
    let files = list_files(&c.camera).await.map_err(SessionEnd::Camera)?;
    let first_time = !io.ledger.knows_camera(&c.name);
    let mut listed = Vec::new();
    for (folder, name) in files {
        if let Some((key, info)) = fetch_or_skip(c, io, &folder, &name).await? {
            listed.push(Listed {
                mtime: info.mtime,
                folder,
                name,
                key,
            });
        }
    }
    let mut fetched = HashMap::new();
    for step in ledger::plan_catch_up(first_time, listed, io.ledger) {
        match step {
            Step::Seen(file) => io
                .ledger
                .record("seen", &file.key)
                .map_err(SessionEnd::Spool)?,
            Step::Fetch(file) => {
                let Listed {
                    folder, name, key, ..
                } = file;
                tracing::info!(camera_path = %format!("{folder}/{name}"), "fetching a frame missed earlier");
                match fetch(c, io, &folder, &name, &key).await {
                    Err(SessionEnd::Camera(e)) if is_per_file(&e) => {
                        skip_report(io, &folder, &name, &e).await
                    }
                    Err(e) => return Err(e),
                    Ok(digest) => {
                        fetched.insert(key, digest);
                    }
                }
            }
        }
    }
    if first_time {
        // Mark the camera known even when its card is empty.
        io.ledger
            .record("camera", &c.name)
            .map_err(SessionEnd::Spool)?;
    }
    Ok(fetched)
}

async fn session(
    c: &Connected,
    io: &mut Io<'_>,
    commands: &mut mpsc::Receiver<Command>,
    shutdown: &watch::Receiver<bool>,
) -> Result<(), SessionEnd> {
    let fetched = catch_up(c, io).await?;
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
            .wait_event(io.config.wait)
            .await
            .map_err(SessionEnd::Camera)?;
        if let CameraEvent::NewFile(path) = event {
            let (folder, name) = (path.folder().into_owned(), path.name().into_owned());
            let Some((key, _)) = fetch_or_skip(c, io, &folder, &name).await? else {
                continue;
            };
            // An event is a new file even when its name was used before. A late event for a
            // file the catch-up of this connection fetched is skipped only when the bytes are
            // the same: a camera reusing a name within the same second for a file of the same
            // size has the same key, and must not be lost for it.
            let started = Instant::now();
            let result = match fetched.get(&key) {
                Some(digest) => match download(c, io, &folder, &name).await {
                    Ok(data) if Sha256::digest(&data)[..] == digest[..] => continue,
                    Ok(data) => store(c, io, &folder, &name, &key, data, started).await,
                    Err(e) => Err(e),
                },
                None => fetch(c, io, &folder, &name, &key).await,
            };
            match result {
                Err(SessionEnd::Camera(e)) if is_per_file(&e) => {
                    skip_report(io, &folder, &name, &e).await
                }
                Err(e) => return Err(e),
                Ok(_) => {}
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn small_size_keeps_enough_pixels() {
        let choices = ["6016x4016", "4512x3008", "3008x2008", "1920x1280"].map(String::from);
        assert_eq!(
            smallest_enough(choices.into_iter()).as_deref(),
            Some("3008x2008")
        );
        let tiny = ["640x480", "1024x768"].map(String::from);
        assert_eq!(
            smallest_enough(tiny.into_iter()).as_deref(),
            Some("1024x768")
        );
        assert_eq!(
            smallest_enough(["Large", "Small"].map(String::from).into_iter()),
            None
        );
    }

    #[test]
    fn a_claimed_camera_gets_the_exact_remedy() {
        // GP_ERROR_IO_USB_CLAIM: the desktop's gvfs holds the camera.
        let e = gphoto2::Error::new(-53, None);
        assert_eq!(e.kind(), ErrorKind::IoUsbClaim);
        match status_for(&e, "Nikon DSC D750") {
            Status::Error {
                remedy: Some(r), ..
            } => assert!(r.contains("gio mount -s gphoto2"), "{r}"),
            other => panic!("{other:?}"),
        }
        let unplugged = gphoto2::Error::new(-52, None);
        assert!(matches!(
            status_for(&unplugged, "x"),
            Status::Disconnected { .. }
        ));
        let busy = gphoto2::Error::new(-110, None);
        assert!(matches!(status_for(&busy, "x"), Status::Busy { .. }));
    }

    #[test]
    fn serial_is_read_from_the_summary() {
        let s = "Manufacturer: Nikon\nModel: D750\n  Serial Number: 3001234\nVersion: 1.0";
        assert_eq!(serial_from_summary(s).as_deref(), Some("3001234"));
        assert_eq!(serial_from_summary("Model: X"), None);
    }
}
