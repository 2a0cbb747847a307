//! The `--debug` picture of `rollcall photo`: the frame, reduced, with the eyes and the photo's
//! crop box drawn on it (imageproc).

use std::path::Path;

use anyhow::{Context, Result};
use image::Rgb;
use imageproc::drawing::{draw_filled_circle_mut, draw_line_segment_mut};
use pipeline::Report;
use pipeline::raster::{Raster, RgbImage};

const MAX_SIDE: f32 = 900.0;

pub fn write(bytes: &[u8], report: &Report, path: &Path) -> Result<()> {
    let decoded = pipeline::decode::decode(bytes).context("decoding for the debug picture")?;
    let frame = &decoded.frame;
    let (dw, dh) = frame.display_size();
    let k = (MAX_SIDE / dw.max(dh) as f32).min(1.0);
    let (w, h) = ((dw as f32 * k) as u32, (dh as f32 * k) as u32);
    let mut img = RgbImage::new(w.max(1), h.max(1));
    for y in 0..img.height() {
        for x in 0..img.width() {
            let p = frame.sample((x as f32 + 0.5) / k, (y as f32 + 0.5) / k);
            img.set(x, y, p.map(|c| c as u8));
        }
    }
    // Source coordinates are camera pixels; the decoded raster may be reduced.
    let to = |p: [f32; 2]| (p[0] * frame.scale() * k, p[1] * frame.scale() * k);
    if let Some(c) = report.source.crop {
        for i in 0..4 {
            // Two pixels wide: one line beside the other.
            for d in [0.0, 1.0] {
                let (a, b) = (to(c[i]), to(c[(i + 1) % 4]));
                draw_line_segment_mut(&mut img, (a.0 + d, a.1), (b.0 + d, b.1), Rgb([0, 200, 0]));
            }
        }
    }
    for e in [report.source.eye_left, report.source.eye_right]
        .into_iter()
        .flatten()
    {
        let p = to(e);
        draw_filled_circle_mut(&mut img, (p.0 as i32, p.1 as i32), 3, Rgb([255, 0, 0]));
    }
    let mut out = Vec::new();
    jpeg_encoder::Encoder::new(&mut out, 85)
        .encode(
            img.as_raw(),
            img.width() as u16,
            img.height() as u16,
            jpeg_encoder::ColorType::Rgb,
        )
        .context("encoding the debug picture")?;
    std::fs::write(path, out).with_context(|| format!("writing {}", path.display()))
}
