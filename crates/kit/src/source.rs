//! The running frame source: the camera (libgphoto2), a watched folder or the demo camera,
//! storing into the spool, with its control socket (`<spool>/.tether.sock`) answering
//! `trigger` and `status`.
//!
//! Events come on a bounded channel: a source that gets ahead of its reader waits (a frame is
//! already safe in the spool when it is reported, so waiting loses nothing).

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use tether::{CameraConfig, Command, Event, Status, control};
use tokio::net::UnixListener;
use tokio::sync::{mpsc, watch};

use crate::{Error, Result};

/// How many events may wait for the reader before the source waits.
const EVENTS: usize = 64;

/// Where frames come from.
#[derive(Debug, Clone)]
pub enum SourceKind {
    /// A tethered camera through libgphoto2.
    Camera(CameraConfig),
    /// A folder filled by other software or a card reader.
    Folder(PathBuf),
    /// The built-in demo camera: these frames, on trigger and (with a pace) by itself.
    Demo {
        frames: Vec<tether::demo::DemoFrame>,
        pace: Option<Duration>,
    },
}

/// The source's task: it ends when the source stops by itself or is shut down.
pub type SourceTask = tokio::task::JoinHandle<Result<(), tether::TetherError>>;

/// A running source with its control socket (`<spool>/.tether.sock`).
#[derive(Debug)]
pub struct Source {
    pub events: mpsc::Receiver<Event>,
    /// The last camera status (what the control socket answers).
    status: watch::Sender<Status>,
    shutdown: watch::Sender<bool>,
    pub task: SourceTask,
    socket: PathBuf,
}

impl Source {
    /// Starts `kind` storing into `spool` (created owner-only) and serving the control socket,
    /// on the current tokio runtime.
    pub fn start(kind: SourceKind, spool_dir: &Path) -> Result<Source> {
        let spool = Arc::new(tether::spool::Spool::open(spool_dir)?);
        let (events_tx, events) = mpsc::channel(EVENTS);
        // A few presses may wait while the camera is busy; more are refused, not queued.
        let (commands_tx, commands_rx) = mpsc::channel(8);
        let (shutdown, shutdown_rx) = watch::channel(false);
        let socket = control::socket(spool_dir);
        let _ = std::fs::remove_file(&socket);
        let listener = UnixListener::bind(&socket).map_err(|e| {
            Error::io(
                bilingual::Text::new(
                    format!("控制接口无法监听 {}", socket.display()),
                    format!("cannot listen on {}", socket.display()),
                ),
                e,
            )
        })?;
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
            SourceKind::Camera(config) => {
                camera_source(config, spool, events_tx, commands_rx, shutdown_rx)?
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

    /// Stops the source and waits for it to end, reading its events meanwhile (a source
    /// blocked on a full channel could not see the shutdown); returns those events.
    pub async fn finish(mut self) -> Result<Vec<Event>> {
        self.shutdown();
        let mut rest = Vec::new();
        let result = loop {
            tokio::select! {
                result = &mut self.task => break result,
                Some(event) = self.events.recv() => rest.push(event),
            }
        };
        rest.extend(self.close());
        result.map_err(|e| {
            Error::refused(
                format!("相机任务异常结束：{e}"),
                format!("the frame source's task failed: {e}"),
            )
        })??;
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

#[cfg(feature = "camera")]
fn camera_source(
    config: CameraConfig,
    spool: Arc<tether::spool::Spool>,
    events: mpsc::Sender<Event>,
    commands: mpsc::Receiver<Command>,
    shutdown: watch::Receiver<bool>,
) -> Result<SourceTask> {
    Ok(tokio::spawn(tether::camera::run(
        config, spool, events, commands, shutdown,
    )))
}

#[cfg(not(feature = "camera"))]
fn camera_source(
    _config: CameraConfig,
    _spool: Arc<tether::spool::Spool>,
    _events: mpsc::Sender<Event>,
    _commands: mpsc::Receiver<Command>,
    _shutdown: watch::Receiver<bool>,
) -> Result<SourceTask> {
    Err(Error::refused(
        "此版本不支持相机，请用文件夹来源",
        "this rollcall was built without camera support (libgphoto2); use a folder source",
    ))
}
