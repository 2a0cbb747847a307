//! The camera end of rollcall: get every frame into the spool folder, under a unique name,
//! without ever losing or overwriting one.
//!
//! - [`spool`]: the output contract shared by every source: download to `<spool>/<name>.part`,
//!   fsync, rename to a unique name made by rollcall, fsync the folder; `.part` leftovers from a
//!   crash are removed (never renamed) at start.
//! - [`camera`] (feature `gphoto2`): a tethered camera through libgphoto2 — detect, connect,
//!   short waits for events, download, optional delete in internal-RAM mode, software trigger
//!   between waits, reconnect with back-off.
//! - [`settings`]: the camera settings (capture target, JPEG size), with or without libgphoto2.
//! - [`ledger`]: what the camera source remembers, and its catch-up plan (no libgphoto2);
//! - [`folder`]: a folder filled by another tethering program or a card reader.
//! - [`demo`]: the demo camera, shooting bundled frames on trigger or at a pace.
//! - [`control`]: the running source's control socket: its name and its typed protocol.
//!
//! Sources report [`Event`]s on a channel: frames and camera status.

#[cfg(feature = "gphoto2")]
pub mod camera;
pub mod control;
pub mod demo;
pub mod folder;
pub mod ledger;
pub mod settings;
pub mod spool;

pub use settings::{CameraConfig, CaptureTarget, ImageSize};

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

/// A frame safely stored in the spool.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FrameArrived {
    /// The spool file (final name, fsync'd).
    pub path: PathBuf,
    /// The camera (model and serial when known) or the watched folder.
    pub camera: String,
    /// Where the file was on the camera (`/store_00010001/DCIM/100NIKON/DSC_0001.JPG`) or in
    /// the watched folder. For information only: cameras reuse names.
    pub camera_path: String,
    /// Files of one capture (RAW+JPEG) share this number.
    pub capture: u64,
    pub kind: FrameKind,
    pub bytes: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum FrameKind {
    Jpeg,
    Raw,
    Other,
}

impl FrameKind {
    /// From a file extension (any case).
    pub fn from_extension(ext: &str) -> FrameKind {
        match ext.to_ascii_lowercase().as_str() {
            "jpg" | "jpeg" => FrameKind::Jpeg,
            e if durable::names::is_raw_extension(e) => FrameKind::Raw,
            _ => FrameKind::Other,
        }
    }
}

/// A file name's stem and extension (`bin` when it has none): the stem pairs RAW+JPEG, the
/// extension names the spool file.
pub fn split_name(name: &std::path::Path) -> (String, String) {
    let stem = name
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    let extension = name
        .extension()
        .map(|e| e.to_string_lossy().into_owned())
        .unwrap_or_else(|| "bin".into());
    (stem, extension)
}

/// The state of a source, for the operator: the one definition of what the control socket,
/// the console's `/api/camera`, `rollcall tether --json` and the logs say about a camera.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "lowercase")]
pub enum Status {
    /// The source has started and has not found its camera yet.
    Starting {
        message: String,
    },
    Connected {
        /// The camera's model (and serial when known), or the watched folder.
        model: String,
        port: String,
        /// Battery level as the body reports it (`75%`), when it does.
        battery: Option<String>,
        /// Free space on the capture storage, bytes, when reported.
        free_bytes: Option<u64>,
    },
    Disconnected {
        message: String,
    },
    Busy {
        message: String,
    },
    Error {
        message: String,
        /// What the operator should do, in Chinese and English.
        remedy: Option<String>,
    },
    /// No source is running (the console's answer when no tether listens).
    None {
        message: String,
    },
}

impl Status {
    /// One short line for the operator (the daemon's systemd status, `rollcall tether`).
    pub fn summary(&self) -> String {
        match self {
            Status::Connected {
                model,
                battery,
                free_bytes,
                ..
            } => {
                let mut text = format!("相机：{model}");
                if let Some(b) = battery {
                    text.push_str(&format!("（电量 {b}）"));
                }
                if let Some(free) = free_bytes {
                    text.push_str(&format!("，存储卡剩余 {} MB", free / 1_000_000));
                }
                text
            }
            Status::Starting { message } | Status::None { message } => format!("相机：{message}"),
            Status::Disconnected { message } => format!("相机未连接：{message}"),
            Status::Busy { message } => format!("相机忙：{message}"),
            Status::Error { message, remedy } => match remedy {
                Some(r) => format!("相机错误：{message}；{r}"),
                None => format!("相机错误：{message}"),
            },
        }
    }
}

/// What a source reports.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "event", rename_all = "lowercase")]
pub enum Event {
    Frame(FrameArrived),
    Status(Status),
}

/// Commands a running source accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Command {
    /// Press the shutter (software trigger).
    Trigger,
}

/// The operator's status when a frame cannot be stored in the spool: a full disk says so and
/// what happens to the frame (it stays on the camera or in the source folder and is fetched
/// once there is room again).
pub fn spool_trouble(e: &TetherError) -> Status {
    let full = match e {
        TetherError::Spool { source, .. } => durable::is_disk_full(source),
        _ => false,
    };
    if full {
        Status::Error {
            message: "磁盘已满，新照片留在相机/存储卡上 / the disk is full: new frames stay on the camera"
                .into(),
            remedy: Some(
                "请腾出磁盘空间；有空间后照片会自动导入。 / Make room on the disk; the frames are fetched by themselves afterwards."
                    .into(),
            ),
        }
    } else {
        Status::Error {
            message: format!("cannot store a frame in the spool: {e}"),
            remedy: Some(
                "请检查收片文件夹所在磁盘；照片留在相机上，稍后自动重试。 / Check the spool's disk; the frame stays on the camera and is retried."
                    .into(),
            ),
        }
    }
}

/// Errors of the tether crate.
#[derive(Debug, thiserror::Error)]
pub enum TetherError {
    #[error("spool folder {path}: {source}")]
    Spool {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("watched folder {path}: {source}")]
    Folder {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("camera: {0}")]
    Camera(String),
}

/// Numbers captures: the files of one press (RAW+JPEG) arrive one after the other with the
/// same base name and different kinds, and share a number.
#[derive(Debug, Default)]
pub struct Captures {
    number: u64,
    last_stem: String,
    last_kinds: Vec<FrameKind>,
}

impl Captures {
    /// The capture number for a file with this base name and kind.
    pub fn assign(&mut self, stem: &str, kind: FrameKind) -> u64 {
        if self.number == 0 || stem != self.last_stem || self.last_kinds.contains(&kind) {
            self.number += 1;
            self.last_stem = stem.to_string();
            self.last_kinds.clear();
        }
        self.last_kinds.push(kind);
        self.number
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn raw_and_jpeg_of_one_press_share_a_capture() {
        let mut c = Captures::default();
        assert_eq!(c.assign("DSC_0001", FrameKind::Jpeg), 1);
        assert_eq!(c.assign("DSC_0001", FrameKind::Raw), 1);
        assert_eq!(c.assign("DSC_0002", FrameKind::Jpeg), 2);
        // The same name again (a camera restarting its numbering) is a new capture.
        assert_eq!(c.assign("DSC_0002", FrameKind::Jpeg), 3);
    }
}
