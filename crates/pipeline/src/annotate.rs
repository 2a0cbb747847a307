//! Pictures that show the operator what went wrong, drawn with imageproc: a failed photo with
//! the regions of its failed checks marked ([`marked_photo`]), and a frame that gave no photo,
//! reduced, with the faces found, the eyes, the crop and the backdrop samples drawn on it
//! ([`overview`]; also `rollcall photo --debug`). Pure: images in, images out.

use image::Rgb;
use imageproc::drawing::{draw_filled_circle_mut, draw_hollow_rect_mut, draw_line_segment_mut};
use imageproc::rect::Rect;

use crate::checks::Regions;
use crate::raster::{Frame, Raster, RgbImage};
use crate::spec::Profile;
use crate::{PipelineError, SourceInfo};

const FAILED: Rgb<u8> = Rgb([230, 0, 0]);
const LIMIT: Rgb<u8> = Rgb([0, 170, 0]);
const FACE: Rgb<u8> = Rgb([255, 190, 0]);
const SAMPLE: Rgb<u8> = Rgb([0, 120, 255]);

/// Two pixels wide: the line and its neighbour.
fn line(img: &mut RgbImage, a: (f32, f32), b: (f32, f32), colour: Rgb<u8>) {
    let vertical = (b.0 - a.0).abs() < (b.1 - a.1).abs();
    for d in [0.0, 1.0] {
        let (da, db) = if vertical {
            ((a.0 + d, a.1), (b.0 + d, b.1))
        } else {
            ((a.0, a.1 + d), (b.0, b.1 + d))
        };
        draw_line_segment_mut(img, da, db, colour);
    }
}

fn rect(img: &mut RgbImage, r: [f32; 4], colour: Rgb<u8>) {
    let (w, h) = (img.width() as f32, img.height() as f32);
    let (x0, y0) = (r[0].clamp(0.0, w - 1.0), r[1].clamp(0.0, h - 1.0));
    let (x1, y1) = (r[2].clamp(0.0, w - 1.0), r[3].clamp(0.0, h - 1.0));
    if x1 - x0 < 2.0 || y1 - y0 < 2.0 {
        return;
    }
    for d in [0, 1] {
        let (rw, rh) = ((x1 - x0) as u32, (y1 - y0) as u32);
        if rw > 2 * d && rh > 2 * d {
            let r = Rect::at(x0 as i32 + d as i32, y0 as i32 + d as i32)
                .of_size(rw - 2 * d, rh - 2 * d);
            draw_hollow_rect_mut(img, r, colour);
        }
    }
}

fn hline(img: &mut RgbImage, y: f32, colour: Rgb<u8>) {
    let w = img.width() as f32;
    line(img, (0.0, y), (w - 1.0, y), colour);
}

fn vline(img: &mut RgbImage, x: f32, colour: Rgb<u8>) {
    let h = img.height() as f32;
    line(img, (x, 0.0), (x, h - 1.0), colour);
}

/// The photo with what its failed checks looked at marked in red (and, for the geometric ones,
/// the limits in green): the backdrop sample, the shadow bands, the cheeks, the face, the
/// clothing, the eye line, the hair top, the face's edges.
pub fn marked_photo(
    photo: &RgbImage,
    regions: &Regions,
    failed: &[&str],
    profile: &Profile,
) -> RgbImage {
    let mut img = photo.clone();
    let h = profile.height as f32;
    for &name in failed {
        match name {
            "background_white" | "background_uniform" => {
                for r in regions.backdrop {
                    rect(&mut img, r, FAILED);
                }
            }
            "background_shadow" => {
                for r in regions.shadow {
                    rect(&mut img, r, FAILED);
                }
            }
            "face_shadow" => {
                for r in regions.cheeks {
                    rect(&mut img, r, FAILED);
                }
            }
            "exposure" | "sharpness" | "yaw" | "pitch" | "roll" => {
                rect(&mut img, regions.face, FAILED)
            }
            "clothing_contrast" => rect(&mut img, regions.clothing, FAILED),
            "eye_line" => {
                hline(&mut img, h - profile.eye_line_min, LIMIT);
                hline(&mut img, regions.eye_y, FAILED);
            }
            "head_top" => {
                for y in profile.head_top {
                    hline(&mut img, y, LIMIT);
                }
                hline(&mut img, regions.head_top, FAILED);
            }
            "eye_center_x" => {
                for x in profile.eye_center_x {
                    vline(&mut img, x, LIMIT);
                }
                vline(&mut img, regions.eye_x, FAILED);
            }
            "face_width" => {
                for x in regions.face_x {
                    vline(&mut img, x, FAILED);
                }
            }
            _ => {}
        }
    }
    img
}

/// The frame reduced to at most `max_side` pixels, with the faces the detector found (amber),
/// the photo's crop (green), the eyes (red) and where the backdrop colour was sampled (blue).
pub fn overview(frame: &Frame, source: &SourceInfo, max_side: f32) -> RgbImage {
    let (dw, dh) = frame.display_size();
    let k = (max_side / dw.max(dh) as f32).min(1.0);
    let (w, h) = (
        ((dw as f32 * k) as u32).max(1),
        ((dh as f32 * k) as u32).max(1),
    );
    let mut img = RgbImage::new(w, h);
    for y in 0..h {
        for x in 0..w {
            let p = frame.sample((x as f32 + 0.5) / k, (y as f32 + 0.5) / k);
            img.set(x, y, p.map(|c| c as u8));
        }
    }
    // Source coordinates are camera pixels; the decoded raster may be reduced.
    let s = frame.scale() * k;
    let to = |p: [f32; 2]| (p[0] * s, p[1] * s);
    for b in &source.faces {
        rect(&mut img, b.map(|v| v * s), FACE);
    }
    if let Some(c) = source.crop {
        for i in 0..4 {
            line(&mut img, to(c[i]), to(c[(i + 1) % 4]), LIMIT);
        }
    }
    for p in &source.backdrop_samples {
        let (x, y) = to(*p);
        draw_filled_circle_mut(&mut img, (x as i32, y as i32), 4, SAMPLE);
    }
    for e in [source.eye_left, source.eye_right].into_iter().flatten() {
        let (x, y) = to(e);
        draw_filled_circle_mut(&mut img, (x as i32, y as i32), 3, FAILED);
    }
    img
}

/// A picture for the screen: JPEG at quality 80, 96 dpi; never filed.
pub fn jpeg(img: &RgbImage) -> Result<Vec<u8>, PipelineError> {
    crate::encode::encode_at(img, 96, 80)
}
