//! The crop: a similarity transform from the source frame to the photo, solved so that the
//! standard's geometry holds — eye midpoint centred, face width, top of the hair and eye line
//! inside their windows — with small roll levelled. Rendering warps the rotated crop at twice the
//! output resolution and resizes it with a Lanczos filter (fast_image_resize, SIMD).

use bilingual::Text;
use fast_image_resize::images::Image;
use fast_image_resize::{FilterType, PixelType, ResizeAlg, ResizeOptions, Resizer};
use serde::Serialize;

use crate::measure::{Measures, Point};
use crate::raster::{Affine, Frame, RgbImage};
use crate::spec::Profile;

/// Where the crop puts things, in output pixels, and how.
#[derive(Debug, Clone, Serialize)]
pub struct Placement {
    /// Output pixels per decoded source pixel (at most the profile's `max_upscale`).
    pub scale: f32,
    /// Output pixels per full-resolution camera pixel.
    pub upscale: f32,
    /// Rotation applied (degrees): the measured roll, removed.
    pub rotation_deg: f32,
    pub eye_x: f32,
    pub eye_y: f32,
    pub head_top: f32,
    pub face_width: f32,
    /// The hair had to be cut at the top (allowed when nothing else satisfies the rules).
    pub hair_cut: bool,
}

/// Why no crop can satisfy the standard, in words the photographer can act on.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CropFailure {
    pub check: &'static str,
    /// `zh` and `en` beside `check` in the JSON.
    #[serde(flatten)]
    pub text: Text,
}

impl Placement {
    /// Maps an output point to source display coordinates (decoded raster).
    pub fn to_source(&self, m: &Measures, u: f32, v: f32) -> Point {
        let (x, y) = self.source_map(m).apply(u, v);
        [x, y]
    }

    /// [`Placement::to_source`] as an affine map: the eye midpoint's output position goes to
    /// its source position, turned by the roll and scaled.
    pub fn source_map(&self, m: &Measures) -> Affine {
        Affine::scale_shift(1.0, 1.0, -self.eye_x, -self.eye_y).then(&Affine::rotate_scale(
            self.rotation_deg.to_radians(),
            1.0 / self.scale,
            m.eye_mid,
        ))
    }

    /// Maps a source point to output coordinates.
    pub fn to_output(&self, m: &Measures, p: Point) -> Point {
        let (dx, dy) = (p[0] - m.eye_mid[0], p[1] - m.eye_mid[1]);
        let t = -self.rotation_deg.to_radians();
        let (c, s) = (t.cos(), t.sin());
        [
            self.eye_x + (dx * c - dy * s) * self.scale,
            self.eye_y + (dx * s + dy * c) * self.scale,
        ]
    }
}

/// Solves the placement, or the reason no crop of this frame can satisfy the standard.
pub fn solve(m: &Measures, frame: &Frame, profile: &Profile) -> Result<Placement, CropFailure> {
    if m.roll_deg.abs() > profile.max_roll_deg {
        return Err(CropFailure {
            check: "roll",
            text: Text::new(
                "头部倾斜，请摆正头部",
                "head tilted: hold the head straight",
            ),
        });
    }
    if m.hair_cut_by_frame {
        return Err(CropFailure {
            check: "head_top",
            text: Text::new(
                "头顶超出画面，请降低相机或后退",
                "top of the head outside the frame: lower the camera or step back",
            ),
        });
    }
    let fw = m.face_width.max(1.0);
    // Every window narrowed by its safety margin: the crop aims at the middle and never closer
    // to a limit than the margin, so another measurement of the photo agrees that it passes.
    let margins = &profile.margins;
    let width_window = Profile::inside(profile.face_width, margins.face_width);
    let (s_min, s_max) = (width_window[0] / fw, width_window[1] / fw);
    let s_pref = profile.target_face_width() / fw;
    let max_eye_y = profile.max_eye_y() - margins.eye_line;
    let top_min = Profile::inside(profile.head_top, margins.head_top)[0];
    // Preferred: face width in the middle of its window, hair top in the middle of its own;
    // then shrink (down to the smallest face the margin allows) until the eye line is high
    // enough; if the hair is so tall that even that fails, the eye line keeps its margin and
    // the hair is cut at the top (the standard allows it).
    let mut s = s_pref;
    let mut head_top = profile.target_head_top();
    let mut hair_cut = false;
    if head_top + s * m.hair_above_eyes > max_eye_y {
        head_top = top_min;
        s = ((max_eye_y - head_top) / m.hair_above_eyes.max(1.0)).clamp(s_min, s_max);
        if head_top + s * m.hair_above_eyes > max_eye_y {
            // Cut for real, by the margin: hair ending just inside the top edge would be a hair
            // top above its window, not a cut.
            hair_cut = true;
            head_top = (max_eye_y - s * m.hair_above_eyes).min(-margins.head_top);
        }
    }
    let eye_y = head_top + s * m.hair_above_eyes;
    // Against the decoded pixels the photo is rendered from (a 24 MP frame is decoded at 1/2):
    // a face that needs more than `max_upscale` of them would come out soft, however many the
    // camera had. Such a face is far from the camera; the photographer should move closer.
    let upscale = s * frame.scale();
    if s > profile.max_upscale {
        return Err(CropFailure {
            check: "face_width",
            text: Text::new("头像太小，请靠近", "face too small: move closer"),
        });
    }
    let placement = Placement {
        scale: s,
        upscale,
        rotation_deg: m.roll_deg,
        eye_x: profile.target_eye_x(),
        eye_y,
        head_top,
        face_width: fw * s,
        hair_cut,
    };
    // Every corner of the photo must come from inside the frame.
    let (dw, dh) = frame.display_size();
    let (w, h) = (profile.width as f32, profile.height as f32);
    let tolerance = 2.0 / s;
    let mut outside = [false; 4]; // left, top, right, bottom
    for (u, v) in [(0.0, 0.0), (w, 0.0), (0.0, h), (w, h)] {
        let p = placement.to_source(m, u, v);
        outside[0] |= p[0] < -tolerance;
        outside[1] |= p[1] < -tolerance;
        outside[2] |= p[0] > dw as f32 + tolerance;
        outside[3] |= p[1] > dh as f32 + tolerance;
    }
    if outside[1] {
        return Err(CropFailure {
            check: "head_top",
            text: Text::new(
                "头顶上方空间不够，请降低相机或让学生坐低",
                "not enough room above the head: lower the camera",
            ),
        });
    }
    if outside[0] || outside[2] {
        return Err(CropFailure {
            check: "eye_center_x",
            text: Text::new(
                "人像太靠边，请站到画面中间",
                "too far to the side: stand in the middle of the frame",
            ),
        });
    }
    if outside[3] {
        return Err(CropFailure {
            check: "eye_line",
            text: Text::new(
                "人像太靠下，请抬高相机或让学生站高",
                "too low in the frame: raise the camera",
            ),
        });
    }
    Ok(placement)
}

/// Renders the photo: warps the rotated crop at up to twice the output resolution (bilinear),
/// then reduces it with Lanczos3 (fast_image_resize, SIMD). Twice is enough for the filter to do
/// the anti-aliasing; warping at full source resolution cost three times as much for no visible
/// gain. (Reducing first and warping at the output size was measured too: the bilinear tap at
/// output resolution blurs by up to half a pixel, and the sharpness measure fell by 40 %.)
pub fn render(frame: &Frame, m: &Measures, p: &Placement, profile: &Profile) -> RgbImage {
    let (w, h) = (profile.width, profile.height);
    let map = p.source_map(m);
    let direct = || {
        let mut out = RgbImage::new(w, h);
        frame.warp_into(&map, &mut out);
        out
    };
    if p.scale >= 0.8 {
        // Little or no reduction: a direct bilinear warp is as good as a resize.
        return direct();
    }
    let factor = (1.0 / p.scale).min(2.0);
    let (iw, ih) = (
        ((w as f32 * factor).round() as u32).max(1),
        ((h as f32 * factor).round() as u32).max(1),
    );
    let mut inter = RgbImage::new(iw, ih);
    let (kx, ky) = (w as f32 / iw as f32, h as f32 / ih as f32);
    frame.warp_into(
        &Affine::scale_shift(kx, ky, 0.0, 0.0).then(&map),
        &mut inter,
    );
    let resized = Image::from_vec_u8(iw, ih, inter.into_raw(), PixelType::U8x3)
        .ok()
        .and_then(|src| {
            let mut dst = Image::new(w, h, PixelType::U8x3);
            let options =
                ResizeOptions::new().resize_alg(ResizeAlg::Convolution(FilterType::Lanczos3));
            Resizer::new().resize(&src, &mut dst, &options).ok()?;
            Some(dst.into_vec())
        });
    // The resizer refuses only impossible sizes; fall back to the direct warp.
    resized
        .and_then(|data| crate::raster::from_rgb(w, h, data))
        .unwrap_or_else(direct)
}
