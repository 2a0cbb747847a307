//! Bytes to a [`Frame`]: format by content (a PNG named `.jpg` still decodes; RAW files are
//! recognised and set aside), EXIF orientation (all eight values; invalid ones are upright with
//! a warning), a pixel limit against decompression bombs, and DCT-scaled JPEG decoding so a
//! 24 MP frame is decoded at the size the crop needs, not larger.

use std::io::Cursor;

use crate::PipelineError;
use crate::raster::{Frame, Orientation, Rgb};

/// Frames above this many pixels are refused (a 61 MP full-frame body is ~9500×6300).
pub const MAX_PIXELS: u64 = 120_000_000;

/// Decoding aims for at least this many pixels on the long side (a 24 MP JPEG decodes at 1/2).
pub const TARGET_LONG_SIDE: u32 = 2800;

/// What the bytes are.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Jpeg,
    Png,
    Raw,
    Unknown,
}

/// Recognises the format by content; RAW also by its TIFF/ISO-BMFF header.
pub fn sniff(bytes: &[u8]) -> Kind {
    if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
        Kind::Jpeg
    } else if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
        Kind::Png
    } else if bytes.starts_with(b"II*\0")
        || bytes.starts_with(b"MM\0*")
        || bytes.get(4..12) == Some(b"ftypcrx ")
    {
        Kind::Raw
    } else {
        Kind::Unknown
    }
}

/// The EXIF orientation, and whether the stored value was invalid.
pub fn orientation(bytes: &[u8]) -> (Orientation, Option<u32>) {
    // Camera EXIF is often slightly off (thumbnail IFDs, maker notes): keep what was read.
    let read = exif::Reader::new()
        .continue_on_error(true)
        .read_from_container(&mut Cursor::new(bytes))
        .or_else(|e| e.distill_partial_result(|_errors| {}));
    let Ok(exif) = read else {
        return (Orientation::UPRIGHT, None);
    };
    let Some(field) = exif.get_field(exif::Tag::Orientation, exif::In::PRIMARY) else {
        return (Orientation::UPRIGHT, None);
    };
    match field.value.get_uint(0) {
        Some(v @ 1..=8) => (Orientation(v as u8), None),
        Some(v) => (Orientation::UPRIGHT, Some(v)),
        None => (Orientation::UPRIGHT, Some(0)),
    }
}

/// A decoded frame and what the decoder noticed.
#[derive(Debug)]
pub struct Decoded {
    pub frame: Frame,
    /// An invalid EXIF orientation value that was treated as upright.
    pub invalid_orientation: Option<u32>,
}

/// Decodes a JPEG or PNG frame.
pub fn decode(bytes: &[u8]) -> Result<Decoded, PipelineError> {
    match sniff(bytes) {
        Kind::Jpeg => decode_jpeg(bytes),
        Kind::Png => decode_png(bytes),
        Kind::Raw => Err(PipelineError::Raw),
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
    let (orientation, invalid_orientation) = orientation(bytes);
    let mut decoder = jpeg_decoder::Decoder::new(Cursor::new(bytes));
    decoder
        .read_info()
        .map_err(|e| PipelineError::Corrupt(e.to_string()))?;
    let info = decoder
        .info()
        .ok_or_else(|| PipelineError::Corrupt("no JPEG header".into()))?;
    let (w, h) = (u32::from(info.width), u32::from(info.height));
    check_size(w, h)?;
    let long = w.max(h);
    // DCT scaling: the smallest of 1/8..8/8 that keeps TARGET_LONG_SIDE pixels.
    let want = TARGET_LONG_SIDE.min(long);
    let req_w = (u64::from(w) * u64::from(want)).div_ceil(u64::from(long)) as u16;
    let req_h = (u64::from(h) * u64::from(want)).div_ceil(u64::from(long)) as u16;
    let (sw, sh) = decoder
        .scale(req_w, req_h)
        .map_err(|e| PipelineError::Corrupt(e.to_string()))?;
    let pixels = decoder
        .decode()
        .map_err(|e| PipelineError::Corrupt(e.to_string()))?;
    let info = decoder
        .info()
        .ok_or_else(|| PipelineError::Corrupt("no JPEG header".into()))?;
    let (sw, sh) = (u32::from(sw), u32::from(sh));
    let n = sw as usize * sh as usize;
    let data = match info.pixel_format {
        jpeg_decoder::PixelFormat::RGB24 => pixels,
        jpeg_decoder::PixelFormat::L8 => pixels.iter().flat_map(|&l| [l, l, l]).collect(),
        jpeg_decoder::PixelFormat::L16 => pixels
            .chunks_exact(2)
            .flat_map(|p| [p[0], p[0], p[0]])
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
        return Err(PipelineError::Corrupt(
            "decoded size does not match the header".into(),
        ));
    }
    let (full_width, full_height) = orientation.display_size(w, h);
    Ok(Decoded {
        frame: Frame {
            stored: Rgb {
                width: sw,
                height: sh,
                data,
            },
            orientation,
            full_width,
            full_height,
        },
        invalid_orientation,
    })
}

fn decode_png(bytes: &[u8]) -> Result<Decoded, PipelineError> {
    let mut decoder = png::Decoder::new(Cursor::new(bytes));
    decoder.set_transformations(png::Transformations::EXPAND | png::Transformations::STRIP_16);
    let mut reader = decoder
        .read_info()
        .map_err(|e| PipelineError::Corrupt(e.to_string()))?;
    let (w, h) = (reader.info().width, reader.info().height);
    check_size(w, h)?;
    let mut buf = vec![0; reader.output_buffer_size().unwrap_or(0)];
    let out = reader
        .next_frame(&mut buf)
        .map_err(|e| PipelineError::Corrupt(e.to_string()))?;
    let buf = &buf[..out.buffer_size()];
    let data: Vec<u8> = match out.color_type {
        png::ColorType::Rgb => buf.to_vec(),
        // Alpha over white: a transparent backdrop is a white one.
        png::ColorType::Rgba => buf
            .chunks_exact(4)
            .flat_map(|p| {
                let a = u16::from(p[3]);
                [p[0], p[1], p[2]].map(|c| ((u16::from(c) * a + 255 * (255 - a)) / 255) as u8)
            })
            .collect(),
        png::ColorType::Grayscale => buf.iter().flat_map(|&l| [l, l, l]).collect(),
        png::ColorType::GrayscaleAlpha => buf
            .chunks_exact(2)
            .flat_map(|p| [p[0], p[0], p[0]])
            .collect(),
        png::ColorType::Indexed => {
            return Err(PipelineError::Corrupt("indexed PNG not expanded".into()));
        }
    };
    if data.len() != w as usize * h as usize * 3 {
        return Err(PipelineError::Corrupt(
            "decoded size does not match the header".into(),
        ));
    }
    Ok(Decoded {
        frame: Frame {
            stored: Rgb {
                width: w,
                height: h,
                data,
            },
            orientation: Orientation::UPRIGHT,
            full_width: w,
            full_height: h,
        },
        invalid_orientation: None,
    })
}
