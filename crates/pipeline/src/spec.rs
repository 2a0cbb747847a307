//! The photo standard as one profile: every size, limit and threshold the pipeline uses.
//! Built in: `358x441` (社会保障卡, the default) and `236x295` (an older 300 dpi variant with a
//! ≤100 KB window). A TOML file may replace any key of the default profile.

use serde::{Deserialize, Serialize};

/// All limits of one photo standard. Output coordinates are pixels of the finished photo.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Profile {
    pub name: String,
    pub width: u32,
    pub height: u32,
    pub dpi: u16,
    /// JPEG quality to try first, and the bounds it may be moved within to meet the size window.
    pub quality: u8,
    pub quality_min: u8,
    pub quality_max: u8,
    /// File size window in KB (1 KB = 1000 bytes); a 0 minimum means none.
    pub size_min_kb: u32,
    pub size_max_kb: u32,
    /// Midpoint of the eyes, from the left edge.
    pub eye_center_x: [f32; 2],
    /// Cheek to cheek.
    pub face_width: [f32; 2],
    /// Top of the hair below the top edge.
    pub head_top: [f32; 2],
    /// The eye line at least this far above the bottom edge.
    pub eye_line_min: f32,
    /// Roll up to this is levelled; more fails `roll`.
    pub max_roll_deg: f32,
    /// |yaw| (turned left or right) at most, degrees ([`crate::pose`]).
    pub max_yaw_deg: f32,
    /// Pitch (chin up positive, down negative) within, degrees. Not symmetric: a student looking
    /// into the lens measures about −5° against MediaPipe's canonical face.
    pub pitch_deg: [f32; 2],
    /// How far inside each geometric window the crop keeps its value: the room another
    /// measurement of the same photo needs to agree that it passes.
    pub margins: Margins,
    /// Output pixels per decoded pixel (the pixels the photo is rendered from), at most.
    pub max_upscale: f32,
    /// Backdrop: mean luminance at least, mean chroma at most, luminance spread at most.
    pub background_min_luma: f32,
    pub background_max_chroma: f32,
    pub background_max_std: f32,
    /// Share of the backdrop beside the head that looks like a cast shadow, at most.
    pub background_shadow_max_fraction: f32,
    /// Darker face half / lighter face half, at least.
    pub face_shadow_min_ratio: f32,
    /// Mean face luminance within.
    pub exposure: [f32; 2],
    /// Variance of the Laplacian over the face, at least.
    pub sharpness_min: f32,
    /// |clothing luminance − backdrop luminance|, at least.
    pub clothing_min_contrast: f32,
}

impl Default for Profile {
    fn default() -> Self {
        Profile::standard()
    }
}

/// Safety margins of the geometric windows, in output pixels (docs/photo-standard.md says how
/// they were derived: from the disagreement between the pipeline and an independent landmark
/// model on the same photos).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Margins {
    pub eye_center_x: f32,
    pub face_width: f32,
    pub head_top: f32,
    pub eye_line: f32,
}

impl Margins {
    pub fn standard() -> Margins {
        Margins {
            eye_center_x: 4.0,
            face_width: 16.0,
            head_top: 3.0,
            eye_line: 4.0,
        }
    }

    fn scaled(self, k: f32) -> Margins {
        let r = |v: f32| (v * k).round();
        Margins {
            eye_center_x: r(self.eye_center_x),
            face_width: r(self.face_width),
            head_top: r(self.head_top),
            eye_line: r(self.eye_line),
        }
    }
}

impl Default for Margins {
    fn default() -> Self {
        Margins::standard()
    }
}

/// The name of the default profile (the card's standard), as commands and the configuration
/// take it.
pub const DEFAULT_PROFILE: &str = "358x441";

impl Profile {
    /// 社会保障卡制证用数字相片: 358×441, 350 dpi, 14–40 KB.
    pub fn standard() -> Profile {
        Profile {
            name: DEFAULT_PROFILE.into(),
            width: 358,
            height: 441,
            dpi: 350,
            quality: 70,
            quality_min: 45,
            quality_max: 92,
            size_min_kb: 14,
            size_max_kb: 40,
            eye_center_x: [162.0, 196.0],
            face_width: [179.0, 255.0],
            head_top: [7.0, 21.0],
            eye_line_min: 207.0,
            max_roll_deg: 5.0,
            max_yaw_deg: 10.0,
            pitch_deg: [-20.0, 10.0],
            margins: Margins::standard(),
            max_upscale: 1.25,
            background_min_luma: 215.0,
            background_max_chroma: 16.0,
            background_max_std: 12.0,
            background_shadow_max_fraction: 0.04,
            face_shadow_min_ratio: 0.62,
            exposure: [70.0, 225.0],
            sharpness_min: 4.0,
            clothing_min_contrast: 18.0,
        }
    }

    /// The older 236×295 @ 300 dpi variant, ≤ 100 KB; geometry scaled from the standard.
    pub fn small() -> Profile {
        let k = 236.0 / 358.0;
        let base = Profile::standard();
        let scale = |r: [f32; 2]| [(r[0] * k).round(), (r[1] * k).round()];
        Profile {
            name: "236x295".into(),
            width: 236,
            height: 295,
            dpi: 300,
            size_min_kb: 0,
            size_max_kb: 100,
            eye_center_x: scale(base.eye_center_x),
            face_width: scale(base.face_width),
            head_top: scale(base.head_top),
            eye_line_min: (base.eye_line_min * k).round(),
            margins: base.margins.scaled(k),
            ..base
        }
    }

    /// A built-in profile by name.
    pub fn named(name: &str) -> Option<Profile> {
        match name {
            DEFAULT_PROFILE | "default" | "standard" => Some(Profile::standard()),
            "236x295" | "small" => Some(Profile::small()),
            _ => None,
        }
    }

    /// A profile from TOML: keys left out keep the standard profile's values; unknown keys
    /// are an error.
    pub fn from_toml(text: &str) -> Result<Profile, toml::de::Error> {
        toml::from_str(text)
    }

    /// Target values the crop aims for: the middle of each window.
    pub fn target_eye_x(&self) -> f32 {
        (self.eye_center_x[0] + self.eye_center_x[1]) / 2.0
    }

    pub fn target_face_width(&self) -> f32 {
        (self.face_width[0] + self.face_width[1]) / 2.0
    }

    pub fn target_head_top(&self) -> f32 {
        (self.head_top[0] + self.head_top[1]) / 2.0
    }

    /// The lowest the eye line may sit (output y).
    pub fn max_eye_y(&self) -> f32 {
        self.height as f32 - self.eye_line_min
    }

    /// A window narrowed by its margin on both sides (its middle when the margin leaves
    /// nothing).
    pub fn inside(window: [f32; 2], margin: f32) -> [f32; 2] {
        let (lo, hi) = (window[0] + margin, window[1] - margin);
        if lo <= hi {
            [lo, hi]
        } else {
            let mid = (window[0] + window[1]) / 2.0;
            [mid, mid]
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn toml_overrides_and_refuses_typos() {
        let p = Profile::from_toml("name = \"mine\"\nsize_max_kb = 60\n").unwrap();
        assert_eq!(p.size_max_kb, 60);
        assert_eq!(p.width, 358);
        assert!(Profile::from_toml("size_max_kbb = 60").is_err());
        let round_trip = Profile::from_toml(&toml::to_string(&Profile::small()).unwrap()).unwrap();
        assert_eq!(round_trip, Profile::small());
    }

    #[test]
    fn small_profile_scales_the_geometry() {
        let p = Profile::small();
        assert_eq!((p.width, p.height, p.dpi), (236, 295, 300));
        assert_eq!(p.eye_center_x, [107.0, 129.0]);
        assert!(p.max_eye_y() < 295.0);
    }
}
