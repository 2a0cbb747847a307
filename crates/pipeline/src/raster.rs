//! A plain RGB raster and the coordinate mapping between the stored pixels of a frame and the
//! picture a viewer shows (EXIF orientation). Frames are never rotated as a whole: every
//! sampler maps display coordinates to stored ones.

use fast_image_resize::images::{Image, ImageRef};
use fast_image_resize::{FilterType, PixelType, ResizeAlg, ResizeOptions, Resizer};

/// The pipeline's pixel buffer: `image::RgbImage` (8-bit RGB, row-major, no padding), read
/// through [`Raster`] where the hot loops need plain arrays and indices.
pub use image::RgbImage;
/// EXIF orientation, as the `image` crate names its eight values; [`Oriented`] maps points.
pub use image::metadata::Orientation;

/// Pixel access and bilinear sampling on the pipeline's buffer.
pub trait Raster {
    /// The pixel at (x, y) (inside the raster).
    fn rgb(&self, x: u32, y: u32) -> [u8; 3];
    /// Sets the pixel at (x, y) (inside the raster).
    fn set(&mut self, x: u32, y: u32, p: [u8; 3]);
    /// Bilinear sample at continuous stored coordinates (pixel centres at +0.5); outside the
    /// raster the nearest edge pixel is used.
    fn sample(&self, x: f32, y: f32) -> [f32; 3];
    /// Fills `out` with bilinear samples of this raster ([`warp`]).
    fn warp_into(&self, to: &Affine, out: &mut RgbImage);
}

impl Raster for RgbImage {
    #[inline]
    fn rgb(&self, x: u32, y: u32) -> [u8; 3] {
        let i = (y as usize * self.width() as usize + x as usize) * 3;
        let d = self.as_raw();
        [d[i], d[i + 1], d[i + 2]]
    }

    #[inline]
    fn set(&mut self, x: u32, y: u32, p: [u8; 3]) {
        let i = (y as usize * self.width() as usize + x as usize) * 3;
        let d: &mut [u8] = self;
        d[i..i + 3].copy_from_slice(&p);
    }

    #[inline]
    fn sample(&self, x: f32, y: f32) -> [f32; 3] {
        let (width, height) = self.dimensions();
        let fx = (x - 0.5).clamp(0.0, (width - 1) as f32);
        let fy = (y - 0.5).clamp(0.0, (height - 1) as f32);
        // Both are clamped to ≥ 0, so truncation is floor (f32::floor is a libm call on
        // baseline x86-64, and this runs a million times per frame).
        let (x0, y0) = (fx as u32, fy as u32);
        let (x1, y1) = ((x0 + 1).min(width - 1), (y0 + 1).min(height - 1));
        let (ax, ay) = (fx - x0 as f32, fy - y0 as f32);
        let (p00, p10, p01, p11) = (
            self.rgb(x0, y0),
            self.rgb(x1, y0),
            self.rgb(x0, y1),
            self.rgb(x1, y1),
        );
        let mut out = [0.0; 3];
        for c in 0..3 {
            let top = p00[c] as f32 * (1.0 - ax) + p10[c] as f32 * ax;
            let bottom = p01[c] as f32 * (1.0 - ax) + p11[c] as f32 * ax;
            out[c] = top * (1.0 - ay) + bottom * ay;
        }
        out
    }

    fn warp_into(&self, to: &Affine, out: &mut RgbImage) {
        warp(self, to, out);
    }
}

/// A buffer of `width`×`height` from row-major RGB bytes; `None` when the length is not that.
pub fn from_rgb(width: u32, height: u32, data: Vec<u8>) -> Option<RgbImage> {
    RgbImage::from_raw(width, height, data)
}

/// Rec. 601 luminance of an RGB colour.
pub fn luma(c: [f32; 3]) -> f32 {
    0.299 * c[0] + 0.587 * c[1] + 0.114 * c[2]
}

/// The per-channel median of some colours, `None` for none.
pub fn median_color(samples: &[[f32; 3]]) -> Option<[f32; 3]> {
    if samples.is_empty() {
        return None;
    }
    let mut out = [0.0; 3];
    for (c, o) in out.iter_mut().enumerate() {
        let mut v: Vec<f32> = samples.iter().map(|s| s[c]).collect();
        v.sort_by(f32::total_cmp);
        *o = v[v.len() / 2];
    }
    Some(out)
}

/// Where a stored pixel appears to a viewer, for each EXIF orientation. Invalid values are
/// treated as upright by the decoder (`Orientation::NoTransforms`).
pub trait Oriented: Copy {
    /// The EXIF value (1–8).
    fn exif(self) -> u8;

    /// True when display width and height are the stored height and width.
    fn swaps_axes(self) -> bool {
        matches!(self.exif(), 5..=8)
    }

    /// Display size for a stored size.
    fn display_size(self, w: u32, h: u32) -> (u32, u32) {
        if self.swaps_axes() { (h, w) } else { (w, h) }
    }

    /// Maps a display point to the stored raster (continuous coordinates). `w`,`h` are the
    /// stored dimensions.
    fn to_stored(self, x: f32, y: f32, w: f32, h: f32) -> (f32, f32) {
        self.stored_affine(w, h).apply(x, y)
    }

    /// [`Oriented::to_stored`] as an affine map.
    fn stored_affine(self, w: f32, h: f32) -> Affine {
        let (a, b, c, d, e, f) = match self.exif() {
            2 => (-1.0, 0.0, w, 0.0, 1.0, 0.0),
            3 => (-1.0, 0.0, w, 0.0, -1.0, h),
            4 => (1.0, 0.0, 0.0, 0.0, -1.0, h),
            5 => (0.0, 1.0, 0.0, 1.0, 0.0, 0.0),
            6 => (0.0, 1.0, 0.0, -1.0, 0.0, h),
            7 => (0.0, -1.0, w, -1.0, 0.0, h),
            8 => (0.0, -1.0, w, 1.0, 0.0, 0.0),
            _ => (1.0, 0.0, 0.0, 0.0, 1.0, 0.0),
        };
        Affine { a, b, c, d, e, f }
    }

    /// Maps a stored point to display coordinates (inverse of [`Oriented::to_stored`]).
    fn to_display(self, x: f32, y: f32, w: f32, h: f32) -> (f32, f32) {
        match self.exif() {
            2 => (w - x, y),
            3 => (w - x, h - y),
            4 => (x, h - y),
            5 => (y, x),
            6 => (h - y, x),
            7 => (h - y, w - x),
            8 => (y, w - x),
            _ => (x, y),
        }
    }
}

impl Oriented for Orientation {
    fn exif(self) -> u8 {
        self.to_exif()
    }
}

/// An affine map of the plane: (u, v) → (a·u + b·v + c, d·u + e·v + f). Every sampler composes
/// its own map (model input or photo pixel → display point) with the orientation's (display →
/// stored) once, then walks the stored raster with additions only.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Affine {
    pub a: f32,
    pub b: f32,
    pub c: f32,
    pub d: f32,
    pub e: f32,
    pub f: f32,
}

impl Affine {
    /// A rotation by `angle` (radians) and uniform `scale` about the origin, then a shift:
    /// (u, v) → `origin` + R(angle)·(u, v)·scale.
    pub fn rotate_scale(angle: f32, scale: f32, origin: [f32; 2]) -> Affine {
        let (cos, sin) = (angle.cos() * scale, angle.sin() * scale);
        Affine {
            a: cos,
            b: -sin,
            c: origin[0],
            d: sin,
            e: cos,
            f: origin[1],
        }
    }

    /// (u, v) → (u·kx + dx, v·ky + dy).
    pub fn scale_shift(kx: f32, ky: f32, dx: f32, dy: f32) -> Affine {
        Affine {
            a: kx,
            b: 0.0,
            c: dx,
            d: 0.0,
            e: ky,
            f: dy,
        }
    }

    #[inline]
    pub fn apply(&self, u: f32, v: f32) -> (f32, f32) {
        (
            self.a * u + self.b * v + self.c,
            self.d * u + self.e * v + self.f,
        )
    }

    /// This map, then `next`.
    pub fn then(&self, next: &Affine) -> Affine {
        let q = next;
        Affine {
            a: q.a * self.a + q.b * self.d,
            b: q.a * self.b + q.b * self.e,
            c: q.a * self.c + q.b * self.f + q.c,
            d: q.d * self.a + q.e * self.d,
            e: q.d * self.b + q.e * self.e,
            f: q.d * self.c + q.e * self.f + q.f,
        }
    }
}

/// A decoded frame as the viewer sees it, without rotating pixels.
#[derive(Debug, Clone)]
pub struct Frame {
    /// Stored pixels (possibly decoded at a reduced scale).
    pub stored: RgbImage,
    pub orientation: Orientation,
    /// Display size of the full-resolution frame.
    pub full_width: u32,
    pub full_height: u32,
}

impl Frame {
    /// Display size of the decoded (possibly reduced) pixels.
    pub fn display_size(&self) -> (u32, u32) {
        self.orientation
            .display_size(self.stored.width(), self.stored.height())
    }

    /// Decoded display pixels per full-resolution display pixel.
    pub fn scale(&self) -> f32 {
        self.display_size().0 as f32 / self.full_width as f32
    }

    /// Bilinear sample at display coordinates of the decoded raster.
    #[inline]
    pub fn sample(&self, x: f32, y: f32) -> [f32; 3] {
        let (sx, sy) = self.display_to_stored().apply(x, y);
        self.stored.sample(sx, sy)
    }

    /// Display coordinates of the decoded raster → stored pixels (the orientation).
    pub fn display_to_stored(&self) -> Affine {
        self.orientation
            .stored_affine(self.stored.width() as f32, self.stored.height() as f32)
    }

    /// `map` (display coordinates) followed by the orientation: straight to stored pixels.
    pub fn stored_map(&self, map: &Affine) -> Affine {
        map.then(&self.display_to_stored())
    }

    /// Fills `out` with bilinear samples: output pixel centre (x + ½, y + ½) comes from the
    /// display point `map` gives.
    pub fn warp_into(&self, map: &Affine, out: &mut RgbImage) {
        warp(&self.stored, &self.stored_map(map), out);
    }

    /// The stored pixels under a display region (the bounding box of `corners`, plus room for
    /// the filter), reduced by `scale` (< 1) with `filter`, and the map from stored
    /// coordinates into the copy. `None` when there is nothing to reduce (scale near 1, the
    /// region outside the frame): sample the stored pixels directly then.
    ///
    /// This is how every big reduction is done: fast_image_resize filters the region row by
    /// row with SIMD, then the caller's warp needs one bilinear tap per pixel. Sampling the
    /// stored frame directly took 3×3 taps per pixel for the same anti-aliasing and cost more
    /// than the models (13 ms per 192² input, 15 ms for the photo, on a 24 MP frame).
    pub fn reduced(
        &self,
        corners: &[(f32, f32)],
        scale: f32,
        filter: FilterType,
    ) -> Option<Reduced> {
        if !(scale > 0.0 && scale < 0.9) {
            return None;
        }
        let to = self.display_to_stored();
        let (mut x0, mut y0, mut x1, mut y1) = (f32::MAX, f32::MAX, f32::MIN, f32::MIN);
        for &(x, y) in corners {
            let (sx, sy) = to.apply(x, y);
            (x0, y0, x1, y1) = (x0.min(sx), y0.min(sy), x1.max(sx), y1.max(sy));
        }
        // The filter reaches ~3 reduced pixels beyond the region.
        let margin = 3.0 / scale;
        let (w, h) = (self.stored.width() as f32, self.stored.height() as f32);
        let (x0, y0) = (
            (x0 - margin).max(0.0).floor(),
            (y0 - margin).max(0.0).floor(),
        );
        let (x1, y1) = ((x1 + margin).min(w).ceil(), (y1 + margin).min(h).ceil());
        if x1 - x0 < 1.0 || y1 - y0 < 1.0 {
            return None;
        }
        let dw = ((x1 - x0) * scale).ceil().max(1.0) as u32;
        let dh = ((y1 - y0) * scale).ceil().max(1.0) as u32;
        let src = ImageRef::new(
            self.stored.width(),
            self.stored.height(),
            self.stored.as_raw(),
            PixelType::U8x3,
        )
        .ok()?;
        let mut dst = Image::new(dw, dh, PixelType::U8x3);
        let options = ResizeOptions::new()
            .crop(
                f64::from(x0),
                f64::from(y0),
                f64::from(x1 - x0),
                f64::from(y1 - y0),
            )
            .resize_alg(ResizeAlg::Convolution(filter));
        Resizer::new().resize(&src, &mut dst, &options).ok()?;
        let (kx, ky) = (dw as f32 / (x1 - x0), dh as f32 / (y1 - y0));
        Some(Reduced {
            image: from_rgb(dw, dh, dst.into_vec())?,
            from_stored: Affine::scale_shift(kx, ky, -x0 * kx, -y0 * ky),
            scale: kx.max(ky),
        })
    }
}

/// A reduced copy of part of a frame's stored pixels ([`Frame::reduced`]).
#[derive(Debug)]
pub struct Reduced {
    pub image: RgbImage,
    /// Stored coordinates → coordinates in `image`.
    pub from_stored: Affine,
    /// `image` pixels per stored pixel.
    pub scale: f32,
}

/// Fills `out` with bilinear samples of `src`: output pixel centre (x + ½, y + ½)
/// comes from the point `to` gives. One affine step per pixel, and tile by tile: a portrait
/// frame is stored landscape, so an output row walks down a stored column; a 32×32 tile
/// keeps the pixels it reads in cache. Tiles whose samples all fall inside the raster take
/// an integer path (16.16 fixed-point coordinates, 8-bit weights, no clamping): the float
/// sampler cost 23 ns a pixel, and a photo warps 630,000 of them.
pub fn warp(src: &RgbImage, to: &Affine, out: &mut RgbImage) {
    const TILE: usize = 32;
    let (w, h) = (out.width() as usize, out.height() as usize);
    // The integer path needs every sample's top-left tap at ≥ 0 and its right and lower
    // neighbours inside: pixel-corner coordinates (centre − ½) in [0, size − 1), with a
    // margin for the fixed-point steps. The extremes of an affine map over a tile are at
    // its corner samples.
    let (xmax, ymax) = (src.width() as f32 - 1.01, src.height() as f32 - 1.01);
    let out: &mut [u8] = out;
    for ty in (0..h).step_by(TILE) {
        for tx in (0..w).step_by(TILE) {
            let (tw, th) = (TILE.min(w - tx), TILE.min(h - ty));
            let inside = [(0, 0), (tw - 1, 0), (0, th - 1), (tw - 1, th - 1)]
                .iter()
                .all(|&(dx, dy)| {
                    let (x, y) = to.apply((tx + dx) as f32 + 0.5, (ty + dy) as f32 + 0.5);
                    (0.01..xmax).contains(&(x - 0.5)) && (0.01..ymax).contains(&(y - 0.5))
                });
            for y in ty..ty + th {
                let (sx, sy) = to.apply(tx as f32 + 0.5, y as f32 + 0.5);
                let start = (y * w + tx) * 3;
                let row = &mut out[start..start + tw * 3];
                if inside {
                    warp_row_fixed(src, sx - 0.5, sy - 0.5, to.a, to.d, row);
                } else {
                    warp_row_float(src, sx, sy, to.a, to.d, row);
                }
            }
        }
    }
}

fn warp_row_float(src: &RgbImage, mut sx: f32, mut sy: f32, dx: f32, dy: f32, row: &mut [u8]) {
    for px in row.chunks_exact_mut(3) {
        let p = src.sample(sx, sy);
        for c in 0..3 {
            // `as u8` saturates: rounding without a libm call.
            px[c] = (p[c] + 0.5) as u8;
        }
        sx += dx;
        sy += dy;
    }
}

/// `x`, `y`: the first sample in pixel-corner coordinates, known to be inside with its
/// right and lower neighbours for the whole row.
fn warp_row_fixed(src: &RgbImage, x: f32, y: f32, dx: f32, dy: f32, row: &mut [u8]) {
    const ONE: f32 = 65536.0;
    let stride = src.width() as usize * 3;
    let data = src.as_raw();
    let (mut fx, mut fy) = ((x * ONE) as i64, (y * ONE) as i64);
    let (sx, sy) = ((dx * ONE) as i64, (dy * ONE) as i64);
    for px in row.chunks_exact_mut(3) {
        let (x0, y0) = ((fx.max(0) >> 16) as usize, (fy.max(0) >> 16) as usize);
        let (ax, ay) = (((fx >> 8) & 255) as u32, ((fy >> 8) & 255) as u32);
        let i = y0 * stride + x0 * 3;
        let (Some(top), Some(bottom)) = (data.get(i..i + 6), data.get(i + stride..i + stride + 6))
        else {
            // Unreachable by the caller's check; stay correct rather than panic: the float
            // sampler at this pixel's centre.
            let p = src.sample(fx as f32 / ONE + 0.5, fy as f32 / ONE + 0.5);
            px.copy_from_slice(&p.map(|v| (v + 0.5) as u8));
            fx += sx;
            fy += sy;
            continue;
        };
        for c in 0..3 {
            let t = u32::from(top[c]) * (256 - ax) + u32::from(top[c + 3]) * ax;
            let b = u32::from(bottom[c]) * (256 - ax) + u32::from(bottom[c + 3]) * ax;
            px[c] = ((t * (256 - ay) + b * ay + 32768) >> 16) as u8;
        }
        fx += sx;
        fy += sy;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn orientation_maps_round_trip_for_all_eight() {
        let (w, h) = (300.0, 200.0);
        for o in 1..=8 {
            let o = Orientation::from_exif(o).unwrap();
            let (dw, dh) = o.display_size(300, 200);
            for &(x, y) in &[
                (0.0, 0.0),
                (10.5, 20.25),
                (dw as f32, dh as f32),
                (17.0, 150.0),
            ] {
                let (sx, sy) = o.to_stored(x, y, w, h);
                assert!(
                    (0.0..=w).contains(&sx) && (0.0..=h).contains(&sy),
                    "{o:?} {x},{y}"
                );
                let (bx, by) = o.to_display(sx, sy, w, h);
                assert!((bx - x).abs() < 1e-3 && (by - y).abs() < 1e-3, "{o:?}");
            }
        }
    }

    #[test]
    fn composed_maps_agree_with_applying_one_after_the_other() {
        let p = Affine::rotate_scale(0.3, 1.7, [10.0, -4.0]);
        let q = Orientation::from_exif(7)
            .unwrap()
            .stored_affine(300.0, 200.0);
        let pq = p.then(&q);
        for (u, v) in [(0.0, 0.0), (12.5, 3.25), (-7.0, 40.0)] {
            let (x, y) = p.apply(u, v);
            let want = q.apply(x, y);
            let got = pq.apply(u, v);
            assert!((want.0 - got.0).abs() < 1e-3 && (want.1 - got.1).abs() < 1e-3);
        }
    }

    #[test]
    fn the_integer_warp_matches_the_float_sampler() {
        let mut src = RgbImage::new(120, 90);
        for (i, v) in src.iter_mut().enumerate() {
            *v = ((i * 37 + i / 360 * 11) % 256) as u8;
        }
        // Mostly inside, partly outside (the float path with clamping), turned and reduced.
        let to = Affine::rotate_scale(0.08, 1.3, [-6.0, 4.0]);
        let mut out = RgbImage::new(100, 70);
        src.warp_into(&to, &mut out);
        let mut worst = 0;
        for y in 0..70 {
            for x in 0..100 {
                let (sx, sy) = to.apply(x as f32 + 0.5, y as f32 + 0.5);
                let want = src.sample(sx, sy);
                let got = out.rgb(x, y);
                for c in 0..3 {
                    worst = worst.max((want[c] - f32::from(got[c])).abs().round() as i32);
                }
            }
        }
        assert!(worst <= 2, "largest difference {worst}");
    }

    #[test]
    fn a_reduced_copy_is_sampled_where_the_display_point_is() {
        // Stored 400×300: left half red, right half blue; shown turned (orientation 6, so the
        // display is 300×400 and the stored left half is the display's top half).
        let mut stored = RgbImage::new(400, 300);
        for y in 0..300 {
            for x in 0..400 {
                stored.set(x, y, if x < 200 { [255, 0, 0] } else { [0, 0, 255] });
            }
        }
        let frame = Frame {
            stored,
            orientation: Orientation::from_exif(6).unwrap(),
            full_width: 300,
            full_height: 400,
        };
        let region = [(20.0, 20.0), (280.0, 20.0), (20.0, 380.0), (280.0, 380.0)];
        let r = frame.reduced(&region, 0.25, FilterType::Box).unwrap();
        assert!(
            r.image.width() <= 110 && r.image.height() <= 85,
            "{:?}",
            (r.image.width(), r.image.height())
        );
        let to = frame.display_to_stored().then(&r.from_stored);
        let at = |x: f32, y: f32| {
            let (u, v) = to.apply(x, y);
            r.image.sample(u, v)
        };
        let top = at(150.0, 60.0);
        let bottom = at(150.0, 340.0);
        assert!(top[0] > 250.0 && top[2] < 5.0, "{top:?}");
        assert!(bottom[2] > 250.0 && bottom[0] < 5.0, "{bottom:?}");
        assert!(frame.reduced(&region, 0.95, FilterType::Box).is_none());
    }

    #[test]
    fn orientation_6_is_a_clockwise_view_of_the_stored_pixels() {
        // Stored 3x2, displayed 2x3 rotated clockwise: the stored bottom-left corner is the
        // displayed top-left.
        let o = Orientation::from_exif(6).unwrap();
        assert_eq!(o.to_stored(0.0, 0.0, 3.0, 2.0), (0.0, 2.0));
        assert_eq!(o.to_stored(2.0, 0.0, 3.0, 2.0), (0.0, 0.0));
    }
}
