//! From a camera frame to a photo for the social-security card, with a verdict per check.
//!
//! Pure: bytes in, photo and report out. No files, no clock reads beyond timing, no threads.
//!
//! - [`decode`]: bytes → [`raster::Frame`] (format by content, EXIF orientation, DCT scaling).
//! - [`detect`]: faces (BlazeFace full-range) and landmarks (FaceMesh) with tract.

pub mod decode;
pub mod detect;
pub mod raster;

/// Why a frame could not be processed at all (as opposed to failing a check).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum PipelineError {
    #[error("the file is empty")]
    Empty,
    #[error("not an image (neither JPEG nor PNG)")]
    NotAnImage,
    #[error("a RAW file: not processed (shoot JPEG or RAW+JPEG)")]
    Raw,
    #[error("damaged image: {0}")]
    Corrupt(String),
    #[error("image too large ({width}×{height})")]
    TooLarge { width: u32, height: u32 },
    #[error("face model: {0}")]
    Model(String),
}
