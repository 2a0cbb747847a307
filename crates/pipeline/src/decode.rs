//! Bytes to a [`Frame`]: format by content (a PNG named `.jpg` still decodes; RAW files are
//! recognised and set aside), EXIF orientation (all eight values; invalid ones are upright with
//! a warning), a pixel limit against decompression bombs, and DCT-scaled JPEG decoding so a
//! 24 MP frame is decoded at the size the crop needs, not larger.
//!
//! JPEG decoding has two backends: libjpeg-turbo (feature `turbo`, on by default) and the
//! pure-Rust `jpeg-decoder`, which is the whole decoder without the feature and the fallback
//! for files libjpeg-turbo refuses.

use std::io::Cursor;

use crate::PipelineError;
use crate::raster::{Frame, Orientation, Oriented, RgbImage, from_rgb};

/// Frames above this many pixels are refused (a 61 MP full-frame body is ~9500×6300).
pub const MAX_PIXELS: u64 = 120_000_000;

/// Frames whose short side is below this are not camera frames: the smallest face the standard
/// allows (179 px wide at most 1.25× enlarged) needs a frame several times its size.
pub const MIN_SIDE: u32 = 240;
/// Frames longer than this many times their width (or wider than tall) are strips, not photos.
pub const MAX_ASPECT: u32 = 4;

/// Image formats recognised but not read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unsupported {
    /// A JPEG of 12 (or 16) bits per sample.
    JpegPrecision(u8),
    /// A TIFF image (not a camera RAW).
    Tiff,
    /// A JPEG coding the decoder lacks (arithmetic coding without libjpeg-turbo, say).
    JpegCoding,
}

impl std::fmt::Display for Unsupported {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Unsupported::JpegPrecision(bits) => write!(f, "a {bits}-bit JPEG"),
            Unsupported::Tiff => f.write_str("a TIFF image"),
            Unsupported::JpegCoding => f.write_str("this kind of JPEG coding"),
        }
    }
}

impl Unsupported {
    /// What to do, in Chinese.
    pub fn zh(self) -> &'static str {
        match self {
            Unsupported::JpegPrecision(_) => {
                "不支持 12/16 位 JPEG：请把相机设为普通 JPEG，或导出为 8 位 JPEG"
            }
            Unsupported::Tiff => "不支持 TIFF 图像：请把相机设为 JPEG，或导出为 JPEG",
            Unsupported::JpegCoding => "不支持这种 JPEG 编码：请导出为普通（基线）JPEG",
        }
    }
}

/// Decoding aims for at least this many pixels on the long side (a 24 MP JPEG decodes at 1/2).
pub const TARGET_LONG_SIDE: u32 = 2800;

/// What the bytes are.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Jpeg,
    Png,
    Raw,
    Tiff,
    Unknown,
}

/// Recognises the format by content. Most camera RAW formats are TIFF files inside: they are
/// told from plain TIFFs by their own signatures (CR2, ORF, RW2, CR3) or by the sub-images and
/// DNG version tag a RAW file's first directory carries.
pub fn sniff(bytes: &[u8]) -> Kind {
    if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
        Kind::Jpeg
    } else if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
        Kind::Png
    } else if bytes.get(4..12) == Some(b"ftypcrx ")
        || bytes.starts_with(b"IIRO")
        || bytes.starts_with(b"IIRS")
        || bytes.starts_with(b"IIU\0")
    {
        Kind::Raw
    } else if bytes.starts_with(b"II*\0") || bytes.starts_with(b"MM\0*") {
        if bytes.get(8..10) == Some(b"CR") || tiff_is_raw(bytes) {
            Kind::Raw
        } else {
            Kind::Tiff
        }
    } else {
        Kind::Unknown
    }
}

/// True when a TIFF's first directory has sub-images (0x014A) or a DNG version (0xC612): what
/// NEF, ARW, DNG, PEF and other TIFF-based RAW files carry and exported TIFFs do not.
fn tiff_is_raw(bytes: &[u8]) -> bool {
    let little = bytes.starts_with(b"II");
    let u16_at = |at: usize| {
        bytes.get(at..at + 2).map(|b| {
            if little {
                u16::from_le_bytes([b[0], b[1]])
            } else {
                u16::from_be_bytes([b[0], b[1]])
            }
        })
    };
    let u32_at = |at: usize| {
        bytes.get(at..at + 4).map(|b| {
            if little {
                u32::from_le_bytes([b[0], b[1], b[2], b[3]])
            } else {
                u32::from_be_bytes([b[0], b[1], b[2], b[3]])
            }
        })
    };
    let Some(ifd) = u32_at(4).map(|o| o as usize) else {
        return false;
    };
    let Some(count) = u16_at(ifd) else {
        return false;
    };
    (0..usize::from(count.min(512)))
        .filter_map(|i| u16_at(ifd + 2 + 12 * i))
        .any(|tag| tag == 0x014A || tag == 0xC612)
}

/// What a JPEG's frame header (SOFn) says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct JpegFrame {
    pub precision: u8,
    pub width: u32,
    pub height: u32,
    pub components: u8,
    /// SOF3, SOF7, SOF11, SOF15: lossless.
    pub lossless: bool,
}

/// The frame header of a JPEG, found by walking its markers (stray bytes between segments are
/// skipped, as libjpeg does with a warning).
pub fn jpeg_frame(bytes: &[u8]) -> Option<JpegFrame> {
    let mut at = 2;
    while at + 4 <= bytes.len() {
        if bytes[at] != 0xFF || bytes[at + 1] == 0x00 {
            at += 1;
            continue;
        }
        let marker = bytes[at + 1];
        if marker == 0xFF {
            at += 1;
            continue;
        }
        let len = usize::from(u16::from_be_bytes([bytes[at + 2], bytes[at + 3]]));
        let sof = matches!(marker, 0xC0..=0xCF) && !matches!(marker, 0xC4 | 0xC8 | 0xCC);
        if sof {
            let b = bytes.get(at + 4..at + 10)?;
            return Some(JpegFrame {
                precision: b[0],
                height: u32::from(u16::from_be_bytes([b[1], b[2]])),
                width: u32::from(u16::from_be_bytes([b[3], b[4]])),
                components: b[5],
                lossless: matches!(marker, 0xC3 | 0xC7 | 0xCB | 0xCF),
            });
        }
        if marker == 0xDA {
            return None;
        }
        at += 2 + len;
    }
    None
}

/// A frame too small or too narrow to be a photo of a person, as an error.
pub fn shape_problem(width: u32, height: u32) -> Option<PipelineError> {
    let (short, long) = (width.min(height), width.max(height));
    (short < MIN_SIDE || long > short.saturating_mul(MAX_ASPECT))
        .then_some(PipelineError::NotAPhoto { width, height })
}

/// The EXIF orientation, and whether the stored value was invalid.
pub fn orientation(bytes: &[u8]) -> (Orientation, Option<u32>) {
    // Camera EXIF is often slightly off (thumbnail IFDs, maker notes): keep what was read.
    let read = exif::Reader::new()
        .continue_on_error(true)
        .read_from_container(&mut Cursor::new(bytes))
        .or_else(|e| e.distill_partial_result(|_errors| {}));
    let Ok(exif) = read else {
        return (Orientation::NoTransforms, None);
    };
    let Some(field) = exif.get_field(exif::Tag::Orientation, exif::In::PRIMARY) else {
        return (Orientation::NoTransforms, None);
    };
    let value = field.value.get_uint(0);
    match value
        .and_then(|v| u8::try_from(v).ok())
        .and_then(Orientation::from_exif)
    {
        Some(o) => (o, None),
        None => (Orientation::NoTransforms, Some(value.unwrap_or(0))),
    }
}

/// A decoded frame and what the decoder noticed.
#[derive(Debug)]
pub struct Decoded {
    pub frame: Frame,
    /// An invalid EXIF orientation value that was treated as upright.
    pub invalid_orientation: Option<u32>,
    /// What the decoder warned about while still decoding the image (libjpeg's warnings).
    pub warnings: Vec<String>,
}

/// Decodes a JPEG or PNG frame.
pub fn decode(bytes: &[u8]) -> Result<Decoded, PipelineError> {
    match sniff(bytes) {
        Kind::Jpeg => decode_jpeg(bytes),
        Kind::Png => decode_other(bytes),
        Kind::Raw => Err(PipelineError::Raw),
        Kind::Tiff => Err(PipelineError::Unsupported(Unsupported::Tiff)),
        Kind::Unknown if bytes.is_empty() => Err(PipelineError::Empty),
        Kind::Unknown => Err(PipelineError::NotAnImage),
    }
}

fn check_size(w: u32, h: u32) -> Result<(), PipelineError> {
    let pixels = u64::from(w) * u64::from(h);
    if w == 0 || h == 0 {
        return Err(PipelineError::Corrupt("zero-sized image".into()));
    }
    if pixels > MAX_PIXELS {
        return Err(PipelineError::TooLarge {
            width: w,
            height: h,
        });
    }
    Ok(())
}

fn decode_jpeg(bytes: &[u8]) -> Result<Decoded, PipelineError> {
    if let Some(JpegFrame {
        precision: bits @ 9..,
        ..
    }) = jpeg_frame(bytes)
    {
        return Err(PipelineError::Unsupported(Unsupported::JpegPrecision(bits)));
    }
    let (orientation, invalid_orientation) = orientation(bytes);
    let (stored, w, h, warnings) = jpeg_pixels(bytes)?;
    let (full_width, full_height) = orientation.display_size(w, h);
    Ok(Decoded {
        frame: Frame {
            stored,
            orientation,
            full_width,
            full_height,
        },
        invalid_orientation,
        warnings,
    })
}

/// Pixels, the full size, and the decoder's warnings.
type Pixels = (RgbImage, u32, u32, Vec<String>);

/// The DCT scale `n/8` to decode a frame whose long side is `long` at: the smallest that keeps
/// [`TARGET_LONG_SIDE`] pixels (or the whole frame when it is smaller), among `allowed`.
fn eighths(long: u32, allowed: &[u32]) -> u32 {
    let want = TARGET_LONG_SIDE.min(long);
    allowed
        .iter()
        .copied()
        .find(|&n| (u64::from(long) * u64::from(n)).div_ceil(8) >= u64::from(want))
        .unwrap_or(8)
}

/// Decodes with libjpeg-turbo; files it cannot take are handed to the pure-Rust decoder:
/// CMYK/YCCK JPEGs (libjpeg-turbo does not convert them to RGB) and files it rejects with a
/// warning it treats as an error (e.g. stray bytes before a marker, which cameras write
/// sometimes and the pure decoder tolerates). When both refuse, libjpeg-turbo's reason is
/// reported.
/// Decodes a JPEG, first setting right what libjpeg would only warn about (see [`repair`]).
fn jpeg_pixels(bytes: &[u8]) -> Result<Pixels, PipelineError> {
    match repair(bytes) {
        Some((fixed, warnings)) => {
            let (rgb, w, h, mut more) = jpeg_pixels_as_is(&fixed)?;
            more.splice(0..0, warnings);
            Ok((rgb, w, h, more))
        }
        None => jpeg_pixels_as_is(bytes),
    }
}

/// What libjpeg decodes with a warning, set right in a copy of the headers so that both
/// decoders read the file as libjpeg (djpeg, Pillow) does: bytes between two header segments
/// that belong to none ("extraneous bytes before marker") are dropped, and a JFIF version
/// other than 1.x is read as 1.02 ("unknown JFIF revision"). Nothing after the start of scan is
/// touched. `None` when there is nothing to set right.
pub fn repair(bytes: &[u8]) -> Option<(Vec<u8>, Vec<String>)> {
    let mut out = Vec::with_capacity(bytes.len());
    out.extend_from_slice(bytes.get(..2)?);
    let mut warnings = Vec::new();
    let mut at = 2;
    let mut stray = 0usize;
    while at + 4 <= bytes.len() {
        if bytes[at] != 0xFF {
            stray += 1;
            at += 1;
            continue;
        }
        let marker = bytes[at + 1];
        if marker == 0xFF {
            // Fill bytes before a marker are allowed.
            at += 1;
            continue;
        }
        if marker == 0x00 {
            // A stuffed zero belongs to scan data, never between header segments.
            stray += 2;
            at += 2;
            continue;
        }
        if stray > 0 {
            warnings.push(format!(
                "JPEG: {stray} stray bytes before marker 0x{marker:02x} skipped"
            ));
            stray = 0;
        }
        if marker == 0xDA {
            out.extend_from_slice(&bytes[at..]);
            return (!warnings.is_empty()).then_some((out, warnings));
        }
        let len = usize::from(u16::from_be_bytes([bytes[at + 2], bytes[at + 3]]));
        let end = (at + 2 + len).min(bytes.len());
        let start = out.len();
        out.extend_from_slice(&bytes[at..end]);
        if marker == 0xE0 && out.get(start + 4..start + 9) == Some(b"JFIF\0") {
            let major = out.get(start + 9).copied().unwrap_or(1);
            if major != 1 && major != 2 {
                let minor = out.get(start + 10).copied().unwrap_or(0);
                warnings.push(format!(
                    "JPEG: unknown JFIF revision {major}.{minor:02} read as 1.02"
                ));
                out[start + 9] = 1;
                if let Some(m) = out.get_mut(start + 10) {
                    *m = 2;
                }
            }
        }
        at = end;
    }
    None
}

#[cfg(feature = "turbo")]
fn jpeg_pixels_as_is(bytes: &[u8]) -> Result<Pixels, PipelineError> {
    match turbo::decode(bytes) {
        Ok(Some(decoded)) => Ok(decoded),
        Ok(None) => pure::decode(bytes),
        Err(e @ PipelineError::TooLarge { .. }) => Err(e),
        Err(turbo) => pure::decode(bytes).map_err(|_| turbo),
    }
}

#[cfg(not(feature = "turbo"))]
fn jpeg_pixels_as_is(bytes: &[u8]) -> Result<Pixels, PipelineError> {
    pure::decode(bytes)
}

/// libjpeg-turbo (the `turbojpeg` crate, its bundled library built with SIMD): decodes a 24 MP
/// frame at 1/2 about twice as fast as the pure-Rust decoder.
#[cfg(feature = "turbo")]
mod turbo {
    use turbojpeg::{Colorspace, Decompressor, Image, PixelFormat, ScalingFactor};

    use super::{PipelineError, Pixels, check_size, eighths, from_rgb, size_mismatch};

    /// libjpeg's own message, without the crate's prefix.
    fn message(e: &turbojpeg::Error) -> String {
        match e {
            turbojpeg::Error::TurboJpegError(m) => m.clone(),
            other => other.to_string(),
        }
    }

    fn corrupt(e: turbojpeg::Error) -> PipelineError {
        PipelineError::Corrupt(message(&e))
    }

    /// The decoded pixels and the full size, or `None` for a colour space it leaves to the
    /// pure decoder.
    pub(super) fn decode(bytes: &[u8]) -> Result<Option<Pixels>, PipelineError> {
        let mut decompressor = Decompressor::new().map_err(corrupt)?;
        let header = decompressor.read_header(bytes).map_err(corrupt)?;
        if matches!(header.colorspace, Colorspace::CMYK | Colorspace::YCCK) || header.is_lossless {
            return Ok(None);
        }
        // The library reports sizes as C ints (JPEG allows at most 65535), so they fit u32.
        let (w, h) = (header.width as u32, header.height as u32);
        check_size(w, h)?;
        let n = eighths(w.max(h), &[1, 2, 3, 4, 5, 6, 7, 8]);
        let scale = ScalingFactor::new(n as usize, 8);
        decompressor.set_scaling_factor(scale).map_err(corrupt)?;
        let scaled = header.scaled(scale);
        let mut image = Image {
            pixels: vec![0; 3 * scaled.width * scaled.height],
            width: scaled.width,
            pitch: 3 * scaled.width,
            height: scaled.height,
            format: PixelFormat::RGB,
        };
        // A warning is reported as a failed call too, and then it is not known how much was
        // decoded: it stays an error. The harmless ones never get here (`repair`).
        decompressor
            .decompress(bytes, image.as_deref_mut())
            .map_err(corrupt)?;
        let rgb = from_rgb(scaled.width as u32, scaled.height as u32, image.pixels)
            .ok_or_else(size_mismatch)?;
        Ok(Some((rgb, w, h, Vec::new())))
    }
}

/// The pure-Rust decoder (`jpeg-decoder`): the whole decoder without the `turbo` feature, and
/// the fallback for what libjpeg-turbo refuses. It scales by 1/8, 1/4, 1/2 or not at all.
mod pure {
    use std::io::Cursor;

    use super::{PipelineError, Pixels, check_size, eighths, from_rgb, size_mismatch};

    /// jpeg-decoder's error in words (its `Display` of an unsupported feature is a debug
    /// rendering).
    fn corrupt(e: jpeg_decoder::Error) -> PipelineError {
        PipelineError::Corrupt(match e {
            jpeg_decoder::Error::Format(m) => m,
            jpeg_decoder::Error::Unsupported(_) => {
                return PipelineError::Unsupported(super::Unsupported::JpegCoding);
            }
            jpeg_decoder::Error::Io(_) => "the file ends too early".into(),
            jpeg_decoder::Error::Internal(_) => "internal decoder error".into(),
        })
    }

    pub(super) fn decode(bytes: &[u8]) -> Result<Pixels, PipelineError> {
        let mut decoder = jpeg_decoder::Decoder::new(Cursor::new(bytes));
        decoder.read_info().map_err(corrupt)?;
        let info = decoder
            .info()
            .ok_or_else(|| PipelineError::Corrupt("no JPEG header".into()))?;
        let (w, h) = (u32::from(info.width), u32::from(info.height));
        check_size(w, h)?;
        let n = eighths(w.max(h), &[1, 2, 4, 8]);
        let req_w = (u64::from(w) * u64::from(n)).div_ceil(8) as u16;
        let req_h = (u64::from(h) * u64::from(n)).div_ceil(8) as u16;
        let (sw, sh) = decoder.scale(req_w, req_h).map_err(corrupt)?;
        let pixels = decoder.decode().map_err(corrupt)?;
        let info = decoder
            .info()
            .ok_or_else(|| PipelineError::Corrupt("no JPEG header".into()))?;
        let (sw, sh) = (u32::from(sw), u32::from(sh));
        let n = sw as usize * sh as usize;
        let data = match info.pixel_format {
            jpeg_decoder::PixelFormat::RGB24 => pixels,
            jpeg_decoder::PixelFormat::L8 => pixels.iter().flat_map(|&l| [l, l, l]).collect(),
            // Native-endian 16-bit samples: the high byte is the 8-bit value.
            jpeg_decoder::PixelFormat::L16 => pixels
                .chunks_exact(2)
                .map(|p| (u16::from_ne_bytes([p[0], p[1]]) >> 8) as u8)
                .flat_map(|l| [l, l, l])
                .collect(),
            jpeg_decoder::PixelFormat::CMYK32 => pixels
                .chunks_exact(4)
                .flat_map(|p| {
                    let k = u16::from(p[3]);
                    [p[0], p[1], p[2]].map(|c| ((u16::from(c) * k) / 255) as u8)
                })
                .collect(),
        };
        if data.len() != n * 3 {
            return Err(size_mismatch());
        }
        let rgb = from_rgb(sw, sh, data).ok_or_else(size_mismatch)?;
        Ok((rgb, w, h, Vec::new()))
    }
}

/// The `image` crate's error in words (its format errors render chunk types as debug
/// structures).
fn image_error(e: image::ImageError) -> PipelineError {
    PipelineError::Corrupt(
        match e {
            image::ImageError::Limits(_) => "the image is too large",
            image::ImageError::IoError(_) => "the file ends too early",
            _ => "the image's structure is broken",
        }
        .into(),
    )
}

/// Non-JPEG frames (PNG) through the `image` crate, its limits set to the pixel guard: the
/// header is read first, and a frame above [`MAX_PIXELS`] is refused before anything is
/// decoded. 16-bit samples are scaled to 8 bits; alpha is composed over white (a transparent
/// backdrop is a white one).
fn decode_other(bytes: &[u8]) -> Result<Decoded, PipelineError> {
    let reader = || {
        image::ImageReader::new(Cursor::new(bytes))
            .with_guessed_format()
            .map_err(|e| image_error(image::ImageError::IoError(e)))
    };
    let (w, h) = reader()?.into_dimensions().map_err(image_error)?;
    check_size(w, h)?;
    let mut limits = image::Limits::default();
    limits.max_image_width = Some(w);
    limits.max_image_height = Some(h);
    // The decoded image at up to 16 bits and 4 channels, and the 8-bit copy.
    limits.max_alloc = Some(MAX_PIXELS * 8 + MAX_PIXELS * 4);
    let mut reader = reader()?;
    reader.limits(limits);
    let image = reader.decode().map_err(image_error)?;
    let stored = if image.color().has_alpha() {
        let rgba = image.into_rgba8();
        let (w, h) = rgba.dimensions();
        let data = rgba
            .pixels()
            .flat_map(|p| {
                let a = u16::from(p[3]);
                [p[0], p[1], p[2]].map(|c| ((u16::from(c) * a + 255 * (255 - a)) / 255) as u8)
            })
            .collect();
        from_rgb(w, h, data).ok_or_else(size_mismatch)?
    } else {
        image.into_rgb8()
    };
    let (w, h) = stored.dimensions();
    Ok(Decoded {
        frame: Frame {
            stored,
            orientation: Orientation::NoTransforms,
            full_width: w,
            full_height: h,
        },
        invalid_orientation: None,
        warnings: Vec::new(),
    })
}

fn size_mismatch() -> PipelineError {
    PipelineError::Corrupt("decoded size does not match the header".into())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::raster::Raster;

    fn frame(name: &str) -> Vec<u8> {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/data/pd/frames")
            .join(name);
        std::fs::read(path).unwrap()
    }

    fn png(image: image::DynamicImage) -> Vec<u8> {
        let mut bytes = Vec::new();
        image
            .write_to(&mut Cursor::new(&mut bytes), image::ImageFormat::Png)
            .unwrap();
        bytes
    }

    #[test]
    fn a_16_bit_grey_png_keeps_its_high_byte() {
        // 0xC000: the low byte is 0, which the old fallback decoder took.
        let grey = image::ImageBuffer::from_pixel(320, 320, image::Luma([0xC000u16]));
        let d = decode(&png(image::DynamicImage::ImageLuma16(grey))).unwrap();
        let [r, g, b] = d.frame.stored.rgb(10, 10);
        assert!((190..=192).contains(&r) && r == g && g == b, "{r} {g} {b}");
    }

    #[test]
    fn a_transparent_png_backdrop_is_white() {
        let clear = image::RgbaImage::from_pixel(320, 320, image::Rgba([0, 0, 0, 0]));
        let d = decode(&png(image::DynamicImage::ImageRgba8(clear))).unwrap();
        assert_eq!(d.frame.stored.rgb(5, 5), [255, 255, 255]);
    }

    #[test]
    fn a_png_beyond_the_pixel_guard_is_refused_from_its_header() {
        // A valid header claiming 20000×20000 (400 MP) and no image data.
        let mut bytes = b"\x89PNG\r\n\x1a\n".to_vec();
        let mut ihdr = b"IHDR".to_vec();
        ihdr.extend_from_slice(&20000u32.to_be_bytes());
        ihdr.extend_from_slice(&20000u32.to_be_bytes());
        ihdr.extend_from_slice(&[8, 2, 0, 0, 0]);
        bytes.extend_from_slice(&13u32.to_be_bytes());
        bytes.extend_from_slice(&ihdr);
        bytes.extend_from_slice(&crc32(&ihdr).to_be_bytes());
        for chunk in [&b"IDAT"[..], &b"IEND"[..]] {
            bytes.extend_from_slice(&0u32.to_be_bytes());
            bytes.extend_from_slice(chunk);
            bytes.extend_from_slice(&crc32(chunk).to_be_bytes());
        }
        let got = decode(&bytes);
        assert!(
            matches!(
                got,
                Err(PipelineError::TooLarge {
                    width: 20000,
                    height: 20000
                })
            ),
            "{got:?}"
        );
    }

    /// PNG's CRC-32 (ISO 3309), for a hand-made chunk.
    fn crc32(bytes: &[u8]) -> u32 {
        let mut crc = !0u32;
        for &b in bytes {
            crc ^= u32::from(b);
            for _ in 0..8 {
                crc = if crc & 1 == 1 {
                    (crc >> 1) ^ 0xEDB8_8320
                } else {
                    crc >> 1
                };
            }
        }
        !crc
    }

    /// Mean absolute difference per channel value.
    #[cfg(feature = "turbo")]
    fn mean_diff(a: &RgbImage, b: &RgbImage) -> f64 {
        assert_eq!(a.dimensions(), b.dimensions());
        let sum: u64 = a
            .as_raw()
            .iter()
            .zip(b.as_raw())
            .map(|(&x, &y)| u64::from(x.abs_diff(y)))
            .sum();
        sum as f64 / a.as_raw().len() as f64
    }

    #[test]
    fn scale_keeps_the_target_long_side() {
        assert_eq!(eighths(6000, &[1, 2, 3, 4, 5, 6, 7, 8]), 4);
        assert_eq!(eighths(6000, &[1, 2, 4, 8]), 4);
        assert_eq!(eighths(5472, &[1, 2, 3, 4, 5, 6, 7, 8]), 5);
        assert_eq!(eighths(5472, &[1, 2, 4, 8]), 8);
        assert_eq!(eighths(2000, &[1, 2, 4, 8]), 8);
        assert_eq!(eighths(22400, &[1, 2, 4, 8]), 1);
    }

    #[cfg(feature = "turbo")]
    #[test]
    fn both_decoders_agree_on_a_camera_frame() {
        let bytes = frame("IMG_1014.JPG");
        let (fast, w, h, _) = turbo::decode(&bytes).unwrap().unwrap();
        let (slow, w2, h2, _) = pure::decode(&bytes).unwrap();
        assert_eq!((w, h), (w2, h2));
        // Different IDCT and upsampling: close, not identical.
        let d = mean_diff(&fast, &slow);
        assert!(d < 2.0, "mean difference {d}");
    }

    #[test]
    fn cmyk_jpegs_decode_to_rgb() {
        // 64×48, cyan on the left half, white on the right (Adobe-style CMYK as stored).
        let (w, h) = (64u16, 48u16);
        let mut cmyk = Vec::new();
        for _ in 0..h {
            for x in 0..w {
                cmyk.extend(if x < w / 2 {
                    [0, 255, 255, 255]
                } else {
                    [255, 255, 255, 255]
                });
            }
        }
        let mut bytes = Vec::new();
        jpeg_encoder::Encoder::new(&mut bytes, 90)
            .encode(&cmyk, w, h, jpeg_encoder::ColorType::Cmyk)
            .unwrap();
        let d = decode(&bytes).unwrap();
        let img = &d.frame.stored;
        assert_eq!(img.dimensions(), (64, 48));
        let left = img.rgb(8, 24);
        let right = img.rgb(56, 24);
        assert!(left[0] < 40 && left[1] > 200 && left[2] > 200, "{left:?}");
        assert!(right.iter().all(|&c| c > 230), "{right:?}");
    }

    #[test]
    fn a_truncated_jpeg_is_damaged_not_a_panic() {
        let bytes = frame("IMG_1014.JPG");
        let cut = &bytes[..bytes.len() / 3];
        assert!(matches!(decode(cut), Err(PipelineError::Corrupt(_))));
        let header_only = &bytes[..600];
        assert!(matches!(
            decode(header_only),
            Err(PipelineError::Corrupt(_))
        ));
    }
}
