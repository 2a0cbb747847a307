//! The `--debug` picture of `rollcall photo`: the frame, reduced, with the eyes and the photo's
//! crop box drawn on it.

use std::path::Path;

use anyhow::{Context, Result};
use pipeline::Report;
use pipeline::raster::Rgb;

const MAX_SIDE: f32 = 900.0;

fn dot(img: &mut Rgb, x: f32, y: f32, r: i32, c: [u8; 3]) {
    for dy in -r..=r {
        for dx in -r..=r {
            let (px, py) = (x as i32 + dx, y as i32 + dy);
            if px >= 0 && py >= 0 && (px as u32) < img.width && (py as u32) < img.height {
                img.put(px as u32, py as u32, c);
            }
        }
    }
}

fn line(img: &mut Rgb, a: [f32; 2], b: [f32; 2], c: [u8; 3]) {
    let n = ((b[0] - a[0]).abs().max((b[1] - a[1]).abs()) as usize).max(1);
    for i in 0..=n {
        let t = i as f32 / n as f32;
        dot(
            img,
            a[0] + (b[0] - a[0]) * t,
            a[1] + (b[1] - a[1]) * t,
            1,
            c,
        );
    }
}

pub fn write(bytes: &[u8], report: &Report, path: &Path) -> Result<()> {
    let decoded = pipeline::decode::decode(bytes).context("decoding for the debug picture")?;
    let frame = &decoded.frame;
    let (dw, dh) = frame.display_size();
    let k = (MAX_SIDE / dw.max(dh) as f32).min(1.0);
    let (w, h) = ((dw as f32 * k) as u32, (dh as f32 * k) as u32);
    let mut img = Rgb::new(w.max(1), h.max(1));
    for y in 0..img.height {
        for x in 0..img.width {
            let p = frame.sample((x as f32 + 0.5) / k, (y as f32 + 0.5) / k);
            img.put(x, y, p.map(|c| c as u8));
        }
    }
    // Source coordinates are camera pixels; the decoded raster may be reduced.
    let to = |p: [f32; 2]| [p[0] * frame.scale() * k, p[1] * frame.scale() * k];
    if let Some(c) = report.source.crop {
        for i in 0..4 {
            line(&mut img, to(c[i]), to(c[(i + 1) % 4]), [0, 200, 0]);
        }
    }
    for e in [report.source.eye_left, report.source.eye_right]
        .into_iter()
        .flatten()
    {
        let p = to(e);
        dot(&mut img, p[0], p[1], 3, [255, 0, 0]);
    }
    let mut out = Vec::new();
    jpeg_encoder::Encoder::new(&mut out, 85)
        .encode(
            &img.data,
            img.width as u16,
            img.height as u16,
            jpeg_encoder::ColorType::Rgb,
        )
        .context("encoding the debug picture")?;
    std::fs::write(path, out).with_context(|| format!("writing {}", path.display()))
}
