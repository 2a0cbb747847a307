//! The photo standard as checks. Geometric checks use the landmarks mapped into the photo;
//! the others look at the photo's pixels: the backdrop outside the head and shoulders, the two
//! halves of the face, the face's exposure and focus, the clothing below the chin.

use serde::Serialize;

use crate::crop::Placement;
use crate::measure::Measures;
use crate::raster::{Raster, RgbImage, luma as raster_luma, median_color};
use crate::spec::Profile;

/// Every check, in the order reports list them.
pub const ORDER: [&str; 17] = [
    "single_face",
    "face_width",
    "head_top",
    "eye_center_x",
    "eye_line",
    "roll",
    "yaw",
    "pitch",
    "resolution",
    "background_white",
    "background_uniform",
    "background_shadow",
    "face_shadow",
    "exposure",
    "sharpness",
    "clothing_contrast",
    "file_size",
];

/// One check's result.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Check {
    pub name: &'static str,
    pub ok: bool,
    pub value: f32,
    /// The limit in words (`179–255`, `≥ 207`).
    pub limit: String,
    /// What the photographer should do when it fails (`None` when it passed).
    pub message: Option<bilingual::Text>,
    /// How far inside its limit the value is, in the value's unit (negative: outside), for the
    /// geometric and pose checks. The crop keeps it at least the profile's margin.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub margin: Option<f32>,
}

impl Check {
    fn with_margin(mut self, margin: Option<f32>) -> Check {
        self.margin = margin;
        self
    }
}

/// How far `v` is inside `window` (negative outside).
fn inside(v: f32, window: [f32; 2]) -> f32 {
    (v - window[0]).min(window[1] - v)
}

pub(crate) fn check(
    name: &'static str,
    ok: bool,
    value: f32,
    limit: String,
    zh: &str,
    en: &str,
) -> Check {
    Check {
        name,
        ok,
        value,
        limit,
        message: (!ok).then(|| bilingual::Text::new(zh, en)),
        margin: None,
    }
}

fn within(v: f32, r: [f32; 2]) -> bool {
    v >= r[0] && v <= r[1]
}

fn luma(p: [u8; 3]) -> f32 {
    raster_luma(p.map(f32::from))
}

/// A rectangle clamped to the image, `margin` pixels inside its edges: (x0, y0, x1, y1).
fn clamp_rect(img: &RgbImage, r: [f32; 4], margin: f32) -> (u32, u32, u32, u32) {
    let x0 = r[0].max(margin) as u32;
    let y0 = r[1].max(margin) as u32;
    let x1 = r[2].min(img.width() as f32 - margin).max(0.0) as u32;
    let y1 = r[3].min(img.height() as f32 - margin).max(0.0) as u32;
    (x0, y0, x1, y1)
}

fn chroma(p: [u8; 3]) -> f32 {
    f32::from(*p.iter().max().unwrap_or(&0) - *p.iter().min().unwrap_or(&0))
}

/// Mean luminance, mean chroma (max − min channel) and luminance standard deviation of the
/// pixels in `rects` that `keep` accepts, and the fraction of pixels it accepted.
fn stats(
    img: &RgbImage,
    rects: &[[f32; 4]],
    keep: impl Fn([u8; 3]) -> bool,
) -> Option<((f32, f32, f32), f32)> {
    let (mut n, mut total, mut sl, mut sl2, mut sc) = (0.0f64, 0.0f64, 0.0f64, 0.0f64, 0.0f64);
    for &r in rects {
        let (x0, y0, x1, y1) = clamp_rect(img, r, 0.0);
        for y in y0..y1 {
            for x in x0..x1 {
                let p = img.rgb(x, y);
                total += 1.0;
                if !keep(p) {
                    continue;
                }
                let l = f64::from(luma(p));
                n += 1.0;
                sl += l;
                sl2 += l * l;
                sc += f64::from(chroma(p));
            }
        }
    }
    (n >= 20.0).then(|| {
        let mean = sl / n;
        let spread = (sl2 / n - mean * mean).max(0.0).sqrt();
        (
            (mean as f32, (sc / n) as f32, spread as f32),
            (n / total) as f32,
        )
    })
}

/// [`stats`] over every pixel.
fn region_stats(img: &RgbImage, rects: &[[f32; 4]]) -> Option<(f32, f32, f32)> {
    stats(img, rects, |_| true).map(|(s, _)| s)
}

/// The backdrop colour: the median of a top corner patch (the brighter corner, since hair that
/// reaches a corner is darker than a white wall).
fn corner_color(img: &RgbImage) -> [f32; 3] {
    let k = 12.min(img.width()).min(img.height());
    let median = |x0: u32| {
        let px: Vec<[f32; 3]> = (0..k)
            .flat_map(|y| (x0..x0 + k).map(move |x| (x, y)))
            .map(|(x, y)| img.rgb(x, y).map(f32::from))
            .collect();
        median_color(&px).unwrap_or([255.0; 3])
    };
    let (l, r) = (median(0), median(img.width() - k));
    if raster_luma(l) >= raster_luma(r) {
        l
    } else {
        r
    }
}

/// [`stats`] of the pixels whose colour is within `tolerance` of `reference`.
fn backdrop_stats(
    img: &RgbImage,
    rects: &[[f32; 4]],
    reference: [f32; 3],
    tolerance: f32,
) -> Option<((f32, f32, f32), f32)> {
    stats(img, rects, |p| {
        let d = (0..3)
            .map(|c| (f32::from(p[c]) - reference[c]).powi(2))
            .sum::<f32>()
            .sqrt();
        d <= tolerance
    })
}

/// The fraction of a rectangle that looks like a cast shadow: darker than the backdrop by more
/// than 12 %, neutral, and smooth (no texture, unlike hair).
fn shadow_fraction(img: &RgbImage, r: [f32; 4], bg_luma: f32) -> f32 {
    let (x0, y0, x1, y1) = clamp_rect(img, r, 1.0);
    let (mut n, mut hits) = (0u32, 0u32);
    for y in y0..y1 {
        for x in x0..x1 {
            n += 1;
            let p = img.rgb(x, y);
            let l = luma(p);
            if l > bg_luma * 0.88 || l < bg_luma * 0.35 || chroma(p) > 14.0 {
                continue;
            }
            let grad = (luma(img.rgb(x + 1, y)) - luma(img.rgb(x - 1, y))).abs()
                + (luma(img.rgb(x, y + 1)) - luma(img.rgb(x, y - 1))).abs();
            if grad < 6.0 {
                hits += 1;
            }
        }
    }
    if n == 0 { 0.0 } else { hits as f32 / n as f32 }
}

/// Variance of the 4-neighbour Laplacian of luminance inside a rectangle.
fn sharpness(img: &RgbImage, r: [f32; 4]) -> f32 {
    let (x0, y0, x1, y1) = clamp_rect(img, r, 1.0);
    let (mut n, mut s, mut s2) = (0.0f64, 0.0f64, 0.0f64);
    for y in y0..y1 {
        for x in x0..x1 {
            let c = luma(img.rgb(x, y));
            let lap = luma(img.rgb(x - 1, y))
                + luma(img.rgb(x + 1, y))
                + luma(img.rgb(x, y - 1))
                + luma(img.rgb(x, y + 1))
                - 4.0 * c;
            n += 1.0;
            s += f64::from(lap);
            s2 += f64::from(lap * lap);
        }
    }
    if n < 1.0 {
        return 0.0;
    }
    let mean = s / n;
    (s2 / n - mean * mean) as f32
}

/// Where the pixel checks look, in photo pixels (x0, y0, x1, y1): one definition for the checks
/// and for the marks drawn on a failed photo ([`crate::annotate`]).
#[derive(Debug, Clone, PartialEq)]
pub struct Regions {
    /// Above the head and the strips beside it above the eyes.
    pub backdrop: [[f32; 4]; 3],
    /// Beside the face, from the hair top to the chin, left and right.
    pub shadow: [[f32; 4]; 2],
    /// The cheeks below the eyes, left and right.
    pub cheeks: [[f32; 4]; 2],
    /// The face (exposure and sharpness).
    pub face: [f32; 4],
    /// Below the chin between the shoulders.
    pub clothing: [f32; 4],
    pub eye_x: f32,
    pub eye_y: f32,
    pub head_top: f32,
    /// The face's left and right edge (cheek to cheek).
    pub face_x: [f32; 2],
}

impl Regions {
    pub fn new(m: &Measures, p: &Placement, profile: &Profile) -> Regions {
        let (w, h) = (profile.width as f32, profile.height as f32);
        let fw = p.face_width;
        let chin = p.to_output(m, m.chin);
        let (ex, ey) = (p.eye_x, p.eye_y);
        let top = (p.head_top - 4.0).max(0.0);
        let side = 0.09 * w;
        let (face_l, face_r) = (ex - fw / 2.0, ex + fw / 2.0);
        let band = [p.head_top.max(0.0), chin[1].min(h)];
        let cheek_band = [ey + 0.08 * fw, ey + 0.38 * fw];
        Regions {
            backdrop: [
                [side, 0.0, w - side, top],
                [0.0, 0.0, side, ey],
                [w - side, 0.0, w, ey],
            ],
            shadow: [
                [0.0, band[0], (face_l - 0.02 * fw).max(0.0), band[1]],
                [(face_r + 0.02 * fw).min(w), band[0], w, band[1]],
            ],
            cheeks: [
                [ex - 0.36 * fw, cheek_band[0], ex - 0.12 * fw, cheek_band[1]],
                [ex + 0.12 * fw, cheek_band[0], ex + 0.36 * fw, cheek_band[1]],
            ],
            face: [
                ex - 0.35 * fw,
                ey - 0.1 * fw,
                ex + 0.35 * fw,
                chin[1] - 0.1 * fw,
            ],
            clothing: [ex - 0.45 * fw, chin[1] + 0.25 * fw, ex + 0.45 * fw, h],
            eye_x: ex,
            eye_y: ey,
            head_top: p.head_top,
            face_x: [face_l, face_r],
        }
    }
}

/// `yaw` and `pitch` in degrees, with which way to turn when they fail.
pub fn pose_checks(pose: Option<crate::pose::Pose>, profile: &Profile) -> [Check; 2] {
    let Some(pose) = pose else {
        let unknown = |name| Check {
            name,
            ok: false,
            value: f32::NAN,
            limit: "a head pose".into(),
            message: Some(bilingual::Text::new(
                "无法判断头部朝向，请正对镜头重拍",
                "the head's pose cannot be measured: face the lens and retake",
            )),
            margin: None,
        };
        return [unknown("yaw"), unknown("pitch")];
    };
    let angle = |name, value: f32, window: [f32; 2], text: fn(f32) -> bilingual::Text| {
        let ok = within(value, window);
        Check {
            name,
            ok,
            value,
            limit: if window[0] == -window[1] {
                format!("|x| ≤ {}°", window[1])
            } else {
                format!("{}° – {}°", window[0], window[1])
            },
            message: (!ok).then(|| text(value)),
            margin: Some(inside(value, window)),
        }
    };
    let max_yaw = profile.max_yaw_deg;
    [
        angle("yaw", pose.yaw_deg, [-max_yaw, max_yaw], |v| {
            let n = v.abs().round();
            // Positive: the nose points to the image right, the student's own left.
            let (side, back) = if v > 0.0 {
                (("左", "left"), ("右", "right"))
            } else {
                (("右", "right"), ("左", "left"))
            };
            bilingual::Text::new(
                format!(
                    "头向学生自己的{}边转了约 {n}°，请向{}转回，正对镜头",
                    side.0, back.0
                ),
                format!(
                    "head turned about {n}° to the student's {}: turn back to the {}, face the lens",
                    side.1, back.1
                ),
            )
        }),
        angle("pitch", pose.pitch_deg, profile.pitch_deg, |v| {
            let n = v.abs().round();
            if v > 0.0 {
                bilingual::Text::new(
                    format!("抬头约 {n}°，请稍低头，平视镜头"),
                    format!("chin up by about {n}°: lower the chin, look straight into the lens"),
                )
            } else {
                bilingual::Text::new(
                    format!("低头约 {n}°，请稍抬头，平视镜头"),
                    format!("chin down by about {n}°: raise the chin, look straight into the lens"),
                )
            }
        }),
    ]
}

/// Everything but `single_face`, `roll`, `yaw` and `pitch` (judged before the crop) and
/// `file_size` (after encoding).
pub fn run(img: &RgbImage, m: &Measures, p: &Placement, profile: &Profile) -> Vec<Check> {
    let mut out = Vec::new();
    let h = profile.height as f32;
    let fw = p.face_width;
    let (ex, ey) = (p.eye_x, p.eye_y);
    let regions = Regions::new(m, p, profile);

    out.push(
        check(
            "face_width",
            within(fw, profile.face_width),
            fw,
            format!("{}–{}", profile.face_width[0], profile.face_width[1]),
            "头像大小不合适，请调整距离",
            "face size out of range: adjust the distance",
        )
        .with_margin(Some(inside(fw, profile.face_width))),
    );
    let head_ok = within(p.head_top, profile.head_top) || p.hair_cut;
    out.push(
        check(
            "head_top",
            head_ok,
            p.head_top,
            format!("{}–{}", profile.head_top[0], profile.head_top[1]),
            "头顶位置不合适",
            "top of the head out of place",
        )
        // Cut hair has no top in the photo to keep inside the window.
        .with_margin((!p.hair_cut).then(|| inside(p.head_top, profile.head_top))),
    );
    out.push(
        check(
            "eye_center_x",
            within(ex, profile.eye_center_x),
            ex,
            format!("{}–{}", profile.eye_center_x[0], profile.eye_center_x[1]),
            "人像不居中",
            "not centred",
        )
        .with_margin(Some(inside(ex, profile.eye_center_x))),
    );
    out.push(
        check(
            "eye_line",
            h - ey >= profile.eye_line_min,
            h - ey,
            format!("≥ {}", profile.eye_line_min),
            "眼睛位置太低，请抬高相机",
            "eyes too low",
        )
        .with_margin(Some(h - ey - profile.eye_line_min)),
    );
    // Backdrop: above the head and the strips beside it above the shoulders, where the colour
    // is the corner's (hair that reaches into these strips is not backdrop).
    let backdrop_rects = regions.backdrop;
    let bg = backdrop_stats(img, &backdrop_rects, corner_color(img), 45.0);
    let ((bg_luma, bg_chroma, bg_std), _coverage) = bg.unwrap_or(((0.0, 0.0, 0.0), 0.0));
    out.push(check(
        "background_white",
        bg.is_some()
            && bg_luma >= profile.background_min_luma
            && bg_chroma <= profile.background_max_chroma,
        bg_luma,
        format!(
            "luminance ≥ {}, chroma ≤ {}",
            profile.background_min_luma, profile.background_max_chroma
        ),
        "背景不是白色，请用白色背景并补光",
        "backdrop not white",
    ));
    out.push(check(
        "background_uniform",
        bg.is_some() && bg_std <= profile.background_max_std,
        bg_std,
        format!("≤ {}", profile.background_max_std),
        "背景不均匀，请移除背景上的物品",
        "backdrop not uniform",
    ));
    // Shadow: a smooth, neutral, darker-than-backdrop area beside the head. Hair is textured
    // or coloured; a shadow on a white wall is neither.
    let left = shadow_fraction(img, regions.shadow[0], bg_luma);
    let right = shadow_fraction(img, regions.shadow[1], bg_luma);
    let shadow = left.max(right);
    out.push(check(
        "background_shadow",
        shadow <= profile.background_shadow_max_fraction,
        shadow,
        format!("≤ {}", profile.background_shadow_max_fraction),
        "头像后面有阴影，请离背景远一点或调整灯光",
        "shadow on the backdrop",
    ));
    // The face: cheeks left and right below the eyes.
    let half_l = region_stats(img, &[regions.cheeks[0]]);
    let half_r = region_stats(img, &[regions.cheeks[1]]);
    let face_ratio = match (half_l, half_r) {
        (Some(l), Some(r)) => l.0.min(r.0) / l.0.max(r.0).max(1.0),
        _ => 1.0,
    };
    out.push(check(
        "face_shadow",
        face_ratio >= profile.face_shadow_min_ratio,
        face_ratio,
        format!("≥ {}", profile.face_shadow_min_ratio),
        "脸上有阴影，请调整灯光",
        "shadow on the face",
    ));
    let face_rect = regions.face;
    let exposure = region_stats(img, &[face_rect]).map(|s| s.0).unwrap_or(0.0);
    let (zh, en) = if exposure < profile.exposure[0] {
        ("脸部太暗，请补光", "face too dark")
    } else {
        ("脸部过亮，请减弱灯光", "face too bright")
    };
    out.push(check(
        "exposure",
        within(exposure, profile.exposure),
        exposure,
        format!("{}–{}", profile.exposure[0], profile.exposure[1]),
        zh,
        en,
    ));
    let sharp = sharpness(img, face_rect);
    out.push(check(
        "sharpness",
        sharp >= profile.sharpness_min,
        sharp,
        format!("≥ {}", profile.sharpness_min),
        "照片模糊，请对焦后重拍",
        "blurred: focus and retake",
    ));
    // Clothing: below the chin, between the shoulders.
    let clothing = region_stats(img, &[regions.clothing]);
    let contrast = clothing
        .map(|c| (bg_luma - c.0).abs().max((c.1 - bg_chroma).abs()))
        .unwrap_or(f32::MAX);
    out.push(check(
        "clothing_contrast",
        contrast >= profile.clothing_min_contrast,
        if contrast == f32::MAX { -1.0 } else { contrast },
        format!("≥ {}", profile.clothing_min_contrast),
        "衣服颜色与背景太接近，请换深色衣服",
        "clothing too close to the backdrop colour",
    ));
    out
}
