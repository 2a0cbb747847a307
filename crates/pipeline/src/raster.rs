//! A plain RGB raster and the coordinate mapping between the stored pixels of a frame and the
//! picture a viewer shows (EXIF orientation). Frames are never rotated as a whole: every
//! sampler maps display coordinates to stored ones.

use serde::Serialize;

/// 8-bit RGB pixels, row-major.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rgb {
    pub width: u32,
    pub height: u32,
    pub data: Vec<u8>,
}

impl Rgb {
    pub fn new(width: u32, height: u32) -> Rgb {
        Rgb {
            width,
            height,
            data: vec![0; width as usize * height as usize * 3],
        }
    }

    #[inline]
    pub fn pixel(&self, x: u32, y: u32) -> [u8; 3] {
        let i = (y as usize * self.width as usize + x as usize) * 3;
        [self.data[i], self.data[i + 1], self.data[i + 2]]
    }

    #[inline]
    pub fn put(&mut self, x: u32, y: u32, p: [u8; 3]) {
        let i = (y as usize * self.width as usize + x as usize) * 3;
        self.data[i..i + 3].copy_from_slice(&p);
    }

    /// Bilinear sample at continuous stored coordinates (pixel centres at +0.5); outside the
    /// raster the nearest edge pixel is used.
    #[inline]
    pub fn sample(&self, x: f32, y: f32) -> [f32; 3] {
        let fx = (x - 0.5).clamp(0.0, (self.width - 1) as f32);
        let fy = (y - 0.5).clamp(0.0, (self.height - 1) as f32);
        let (x0, y0) = (fx.floor() as u32, fy.floor() as u32);
        let (x1, y1) = ((x0 + 1).min(self.width - 1), (y0 + 1).min(self.height - 1));
        let (ax, ay) = (fx - x0 as f32, fy - y0 as f32);
        let (p00, p10, p01, p11) = (
            self.pixel(x0, y0),
            self.pixel(x1, y0),
            self.pixel(x0, y1),
            self.pixel(x1, y1),
        );
        let mut out = [0.0; 3];
        for c in 0..3 {
            let top = p00[c] as f32 * (1.0 - ax) + p10[c] as f32 * ax;
            let bottom = p01[c] as f32 * (1.0 - ax) + p11[c] as f32 * ax;
            out[c] = top * (1.0 - ay) + bottom * ay;
        }
        out
    }
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

/// EXIF orientation (1–8). Invalid values are treated as upright by the decoder.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Orientation(pub u8);

impl Orientation {
    pub const UPRIGHT: Orientation = Orientation(1);

    /// True when display width and height are the stored height and width.
    pub fn swaps_axes(self) -> bool {
        matches!(self.0, 5..=8)
    }

    /// Display size for a stored size.
    pub fn display_size(self, w: u32, h: u32) -> (u32, u32) {
        if self.swaps_axes() { (h, w) } else { (w, h) }
    }

    /// Maps a display point to the stored raster (continuous coordinates). `w`,`h` are the
    /// stored dimensions.
    pub fn to_stored(self, x: f32, y: f32, w: f32, h: f32) -> (f32, f32) {
        match self.0 {
            2 => (w - x, y),
            3 => (w - x, h - y),
            4 => (x, h - y),
            5 => (y, x),
            6 => (y, h - x),
            7 => (w - y, h - x),
            8 => (w - y, x),
            _ => (x, y),
        }
    }

    /// Maps a stored point to display coordinates (inverse of [`Orientation::to_stored`]).
    pub fn to_display(self, x: f32, y: f32, w: f32, h: f32) -> (f32, f32) {
        match self.0 {
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

/// A decoded frame as the viewer sees it, without rotating pixels.
#[derive(Debug, Clone)]
pub struct Frame {
    /// Stored pixels (possibly decoded at a reduced scale).
    pub stored: Rgb,
    pub orientation: Orientation,
    /// Display size of the full-resolution frame.
    pub full_width: u32,
    pub full_height: u32,
}

impl Frame {
    /// Display size of the decoded (possibly reduced) pixels.
    pub fn display_size(&self) -> (u32, u32) {
        self.orientation
            .display_size(self.stored.width, self.stored.height)
    }

    /// Decoded display pixels per full-resolution display pixel.
    pub fn scale(&self) -> f32 {
        self.display_size().0 as f32 / self.full_width as f32
    }

    /// Bilinear sample at display coordinates of the decoded raster.
    #[inline]
    pub fn sample(&self, x: f32, y: f32) -> [f32; 3] {
        let (sx, sy) =
            self.orientation
                .to_stored(x, y, self.stored.width as f32, self.stored.height as f32);
        self.stored.sample(sx, sy)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn orientation_maps_round_trip_for_all_eight() {
        let (w, h) = (300.0, 200.0);
        for o in 1..=8 {
            let o = Orientation(o);
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
    fn orientation_6_is_a_clockwise_view_of_the_stored_pixels() {
        // Stored 3x2, displayed 2x3 rotated clockwise: the stored bottom-left corner is the
        // displayed top-left.
        let o = Orientation(6);
        assert_eq!(o.to_stored(0.0, 0.0, 3.0, 2.0), (0.0, 2.0));
        assert_eq!(o.to_stored(2.0, 0.0, 3.0, 2.0), (0.0, 0.0));
    }
}
