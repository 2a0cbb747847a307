//! JPEG encoding to the profile: 24-bit RGB, JFIF density in dpi, quality adjusted within the
//! profile's bounds until the file fits the size window.

use jpeg_encoder::{ColorType, Encoder, PixelDensity, PixelDensityUnit};

use crate::PipelineError;
use crate::raster::RgbImage;
use crate::spec::Profile;

/// An encoded photo and the quality that produced it.
#[derive(Debug, Clone)]
pub struct Encoded {
    pub bytes: Vec<u8>,
    pub quality: u8,
}

pub(crate) fn encode_at(img: &RgbImage, dpi: u16, quality: u8) -> Result<Vec<u8>, PipelineError> {
    let mut out = Vec::with_capacity(40_000);
    let mut encoder = Encoder::new(&mut out, quality);
    encoder.set_density(PixelDensity {
        density: (dpi, dpi),
        unit: PixelDensityUnit::Inches,
    });
    let (w, h) = (u16::try_from(img.width()), u16::try_from(img.height()));
    let (Ok(w), Ok(h)) = (w, h) else {
        return Err(PipelineError::Corrupt("photo too large to encode".into()));
    };
    encoder
        .encode(img.as_raw(), w, h, ColorType::Rgb)
        .map_err(|e| PipelineError::Corrupt(format!("JPEG encoding: {e}")))?;
    Ok(out)
}

/// Encodes at the profile's quality; outside the size window, moves the quality (binary
/// search within the bounds) to the closest fit. The caller checks the final size.
pub fn encode(img: &RgbImage, profile: &Profile) -> Result<Encoded, PipelineError> {
    let (min, max) = (
        u64::from(profile.size_min_kb) * 1000,
        u64::from(profile.size_max_kb) * 1000,
    );
    let fits = |len: usize| (len as u64) >= min && (len as u64) <= max;
    let first = encode_at(img, profile.dpi, profile.quality)?;
    if fits(first.len()) {
        return Ok(Encoded {
            bytes: first,
            quality: profile.quality,
        });
    }
    let (mut lo, mut hi) = if (first.len() as u64) < min {
        (profile.quality, profile.quality_max)
    } else {
        (profile.quality_min, profile.quality)
    };
    let mut best = Encoded {
        bytes: first,
        quality: profile.quality,
    };
    while lo <= hi {
        let q = lo + (hi - lo) / 2;
        let bytes = encode_at(img, profile.dpi, q)?;
        let len = bytes.len() as u64;
        let better = if len < min { false } else { len <= max };
        if better {
            return Ok(Encoded { bytes, quality: q });
        }
        // Keep the closest attempt.
        let gap = |l: u64| {
            if l < min {
                min - l
            } else {
                l.saturating_sub(max)
            }
        };
        if gap(len) < gap(best.bytes.len() as u64) {
            best = Encoded { bytes, quality: q };
        }
        if len < min {
            lo = q + 1;
        } else {
            if q == 0 {
                break;
            }
            hi = q - 1;
        }
    }
    Ok(best)
}

/// Reads back the JFIF header: (width, height, components, density unit, x density).
pub fn inspect(bytes: &[u8]) -> Option<(u16, u16, u8, u8, u16)> {
    let mut density = (0u8, 0u16);
    let mut i = 2;
    while i + 4 <= bytes.len() {
        if bytes[i] != 0xFF {
            return None;
        }
        let marker = bytes[i + 1];
        let len = usize::from(u16::from_be_bytes([bytes[i + 2], bytes[i + 3]]));
        let body = bytes.get(i + 4..i + 2 + len)?;
        if marker == 0xE0 && body.starts_with(b"JFIF\0") && body.len() >= 12 {
            density = (body[7], u16::from_be_bytes([body[8], body[9]]));
        }
        if matches!(marker, 0xC0..=0xC2) && body.len() >= 6 {
            let h = u16::from_be_bytes([body[1], body[2]]);
            let w = u16::from_be_bytes([body[3], body[4]]);
            return Some((w, h, body[5], density.0, density.1));
        }
        i += 2 + len;
    }
    None
}
