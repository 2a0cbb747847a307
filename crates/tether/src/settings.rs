//! How to tether: the camera settings, the same whether or not libgphoto2 is built in (the
//! configuration file and the command line parse them either way; only the camera source
//! reads them).

use std::time::Duration;

use serde::{Deserialize, Serialize};

/// Where the body stores captures.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "clap", derive(clap::ValueEnum))]
#[serde(rename_all = "lowercase")]
pub enum CaptureTarget {
    /// The memory card: files stay there; rollcall never deletes them.
    Card,
    /// The camera's internal RAM: files are deleted once stored in the spool (unless
    /// `keep_on_card`).
    Ram,
    /// Whatever the camera is set to; nothing is deleted.
    #[default]
    Leave,
}

/// The JPEG size the body should record.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "clap", derive(clap::ValueEnum))]
#[serde(rename_all = "lowercase")]
pub enum ImageSize {
    /// As set on the body.
    #[default]
    Leave,
    /// The smallest size whose long side still has at least [`SMALL_MIN_PIXELS`] pixels: a
    /// 358×441 photo needs far less than 24 MP, and small files transfer and decode faster.
    Small,
}

/// The long side, in pixels, that `ImageSize::Small` keeps at least.
pub const SMALL_MIN_PIXELS: u32 = 2000;

/// How to tether.
#[derive(Debug, Clone)]
pub struct CameraConfig {
    /// Connect only to a camera whose model contains this text or whose serial is this.
    pub camera: Option<String>,
    pub capture_target: CaptureTarget,
    pub image_size: ImageSize,
    /// Never delete from the camera, even in internal-RAM mode.
    pub keep_on_card: bool,
    /// One event wait. Short, so a trigger or shutdown is never held up for long.
    pub wait: Duration,
    /// Below this many free bytes on the spool's disk nothing is deleted from the camera, even
    /// in internal-RAM mode: the frames stay where they are while the disk is nearly full.
    pub low_space_bytes: u64,
}

impl Default for CameraConfig {
    fn default() -> Self {
        CameraConfig {
            camera: None,
            capture_target: CaptureTarget::Leave,
            image_size: ImageSize::Leave,
            keep_on_card: false,
            wait: Duration::from_millis(200),
            low_space_bytes: 0,
        }
    }
}
