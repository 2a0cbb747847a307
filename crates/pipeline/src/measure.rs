//! Measurements of the face in the source frame (display pixels of the decoded raster): eye
//! centres, roll, face width, chin, the head's pose in degrees ([`crate::pose`]), and the top of
//! the hair, which no model
//! gives: it is found by scanning up from the forehead, along the face's own up direction, for
//! where the backdrop resumes.

use serde::Serialize;

use crate::detect::Mesh;
use crate::raster::Frame;

/// FaceMesh contour of the subject's right eye (image left) and left eye.
const RIGHT_EYE: [usize; 16] = [
    33, 7, 163, 144, 145, 153, 154, 155, 133, 173, 157, 158, 159, 160, 161, 246,
];
const LEFT_EYE: [usize; 16] = [
    263, 249, 390, 373, 374, 380, 381, 382, 362, 398, 384, 385, 386, 387, 388, 466,
];
const CHEEK_RIGHT: usize = 234;
const CHEEK_LEFT: usize = 454;
const FOREHEAD: usize = 10;
const CHIN: usize = 152;

/// A point in display pixels.
pub type Point = [f32; 2];

#[derive(Debug, Clone, Serialize)]
pub struct Measures {
    /// Subject's right eye (image left) and left eye.
    pub eye_right: Point,
    pub eye_left: Point,
    pub eye_mid: Point,
    pub iod: f32,
    /// Angle of the right-eye → left-eye vector; positive is clockwise on screen.
    pub roll_deg: f32,
    pub face_width: f32,
    pub chin: Point,
    pub forehead: Point,
    /// The head's yaw, pitch and roll in degrees (`None` when the fit fails).
    pub pose: Option<crate::pose::Pose>,
    /// Distance from the eye line up to the top of the hair, along the face's up direction.
    pub hair_above_eyes: f32,
    /// The hair reaches the top of the frame: the top of the head is not in the picture.
    pub hair_cut_by_frame: bool,
    /// How clearly the hair stands out from the backdrop (0–1).
    pub hair_confidence: f32,
    /// The backdrop colour the scan compared against.
    pub backdrop: [f32; 3],
    /// Where that colour was sampled (display pixels): around and above the head.
    pub backdrop_samples: Vec<Point>,
}

fn sub(a: Point, b: Point) -> Point {
    [a[0] - b[0], a[1] - b[1]]
}

fn dot(a: Point, b: Point) -> f32 {
    a[0] * b[0] + a[1] * b[1]
}

fn dist(a: Point, b: Point) -> f32 {
    let d = sub(a, b);
    dot(d, d).sqrt()
}

fn color_distance(a: [f32; 3], b: [f32; 3]) -> f32 {
    ((a[0] - b[0]).powi(2) + (a[1] - b[1]).powi(2) + (a[2] - b[2]).powi(2)).sqrt()
}

/// Measures a face from its landmarks. Eye centres are the iris centres from the Iris model;
/// should it fail, the centroid of the eye contour.
pub fn measure(frame: &Frame, mesh: &Mesh) -> Measures {
    let eye_right = crate::detect::iris_center(frame, mesh.xy(33), mesh.xy(133), false)
        .unwrap_or_else(|_| mesh.centroid(&RIGHT_EYE));
    let eye_left = crate::detect::iris_center(frame, mesh.xy(362), mesh.xy(263), true)
        .unwrap_or_else(|_| mesh.centroid(&LEFT_EYE));
    let eye_mid = [
        (eye_right[0] + eye_left[0]) / 2.0,
        (eye_right[1] + eye_left[1]) / 2.0,
    ];
    let axis_v = sub(eye_left, eye_right);
    let iod = dot(axis_v, axis_v).sqrt().max(1e-3);
    let axis = [axis_v[0] / iod, axis_v[1] / iod];
    let up = [axis[1], -axis[0]];
    let roll_deg = axis[1].atan2(axis[0]).to_degrees();
    let (cr, cl) = (mesh.xy(CHEEK_RIGHT), mesh.xy(CHEEK_LEFT));
    let face_width = dist(cr, cl);
    let forehead = mesh.xy(FOREHEAD);
    let backdrop_samples = backdrop_points(frame, eye_mid, axis, up, face_width);
    let colours: Vec<[f32; 3]> = backdrop_samples
        .iter()
        .map(|p| frame.sample(p[0], p[1]))
        .collect();
    let backdrop = crate::raster::median_color(&colours).unwrap_or([255.0; 3]);
    let (hair_above_eyes, hair_cut_by_frame, hair_confidence) =
        hair_top(frame, eye_mid, forehead, axis, up, face_width, backdrop);
    Measures {
        eye_right,
        eye_left,
        eye_mid,
        iod,
        roll_deg,
        face_width,
        chin: mesh.xy(CHIN),
        forehead,
        pose: crate::pose::estimate(mesh),
        hair_above_eyes,
        hair_cut_by_frame,
        hair_confidence,
        backdrop,
        backdrop_samples,
    }
}

/// Where the backdrop colour is sampled: points around and above the head, far enough out to
/// miss hair and shoulders, inside the frame.
fn backdrop_points(frame: &Frame, eye_mid: Point, axis: Point, up: Point, fw: f32) -> Vec<Point> {
    let (dw, dh) = frame.display_size();
    let mut points = Vec::new();
    for (a, u) in [
        (-1.3, 0.6),
        (1.3, 0.6),
        (-1.2, 1.2),
        (1.2, 1.2),
        (0.0, 1.9),
        (-0.8, 1.8),
        (0.8, 1.8),
    ] {
        let p = [
            eye_mid[0] + (axis[0] * a + up[0] * u) * fw,
            eye_mid[1] + (axis[1] * a + up[1] * u) * fw,
        ];
        if p[0] >= 1.0 && p[1] >= 1.0 && p[0] < dw as f32 - 1.0 && p[1] < dh as f32 - 1.0 {
            points.push(p);
        }
    }
    points
}

/// Scans up from the forehead. Returns (distance from the eye line to the hair top, whether
/// the hair runs out of the frame, confidence), against the backdrop colour given.
fn hair_top(
    frame: &Frame,
    eye_mid: Point,
    forehead: Point,
    axis: Point,
    up: Point,
    fw: f32,
    backdrop: [f32; 3],
) -> (f32, bool, f32) {
    let (dw, dh) = frame.display_size();
    let start = dot(sub(forehead, eye_mid), up).max(0.0);
    let half = 0.22 * fw;
    let threshold = 28.0;
    let step = (fw / 200.0).max(1.0);
    let mut last_hair = start;
    let mut clear_run = 0.0;
    let mut contrast_sum: f32 = 0.0;
    let mut contrast_n: f32 = 0.0;
    let mut d = start;
    while d < start + 2.0 * fw {
        let centre = [eye_mid[0] + up[0] * d, eye_mid[1] + up[1] * d];
        let mut hair = 0;
        let mut inside = 0;
        let n = 24;
        for i in 0..=n {
            let t = -half + 2.0 * half * i as f32 / n as f32;
            let p = [centre[0] + axis[0] * t, centre[1] + axis[1] * t];
            if p[0] < 0.0 || p[1] < 0.0 || p[0] >= dw as f32 || p[1] >= dh as f32 {
                continue;
            }
            inside += 1;
            let dist = color_distance(frame.sample(p[0], p[1]), backdrop);
            if dist > threshold {
                hair += 1;
                contrast_sum += dist;
                contrast_n += 1.0;
            }
        }
        if inside == 0 {
            // Reached the edge of the frame while still on the head.
            let confidence = (contrast_sum / contrast_n.max(1.0) / 100.0).min(1.0);
            return (last_hair, clear_run < 3.0 * step, confidence);
        }
        if hair as f32 >= 0.25 * inside as f32 {
            last_hair = d;
            clear_run = 0.0;
        } else {
            clear_run += step;
            if clear_run > 0.06 * fw {
                break;
            }
        }
        d += step;
    }
    let confidence = (contrast_sum / contrast_n.max(1.0) / 100.0).min(1.0);
    (last_hair, false, confidence)
}

/// The standard's geometry as measured on a finished photo (any photo: rollcall's own, or
/// another tool's), from scratch: decode, detect, landmarks, hair scan. Output pixels.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Geometry {
    pub width: u32,
    pub height: u32,
    /// Eye midpoint from the left edge.
    pub eye_center_x: f32,
    /// Cheek to cheek.
    pub face_width: f32,
    /// Eye line above the bottom edge.
    pub eye_line: f32,
    /// Top of the hair below the top edge.
    pub head_top: f32,
    pub faces: usize,
    /// The head's pose in degrees.
    pub pose: Option<crate::pose::Pose>,
}

impl Geometry {
    /// The geometric clauses this photo misses under `profile`, with a margin for the
    /// re-detection's own error (`tolerance` of the face width; 3 px for the hair top).
    pub fn misses(&self, profile: &crate::Profile, tolerance: f32) -> Vec<&'static str> {
        let p = profile;
        let tol = tolerance * self.face_width;
        let mut out = Vec::new();
        if self.width != p.width || self.height != p.height {
            out.push("resolution");
        }
        if self.faces != 1 {
            out.push("single_face");
        }
        if self.eye_center_x < p.eye_center_x[0] - tol
            || self.eye_center_x > p.eye_center_x[1] + tol
        {
            out.push("eye_center_x");
        }
        if self.face_width < p.face_width[0] - tol || self.face_width > p.face_width[1] + tol {
            out.push("face_width");
        }
        if self.eye_line < p.eye_line_min - tol {
            out.push("eye_line");
        }
        if self.head_top < p.head_top[0] - 3.0 || self.head_top > p.head_top[1] + 3.0 {
            out.push("head_top");
        }
        out
    }
}

/// Measures a finished photo. `Ok(None)` when no face is found in it.
pub fn geometry(photo: &[u8]) -> Result<Option<Geometry>, crate::PipelineError> {
    let decoded = crate::decode::decode(photo)?;
    let frame = &decoded.frame;
    let faces = crate::detect::faces(frame)?;
    let Some(first) = faces.first() else {
        return Ok(None);
    };
    let mesh = crate::detect::mesh(frame, first)?;
    let m = measure(frame, &mesh);
    let (width, height) = frame.display_size();
    Ok(Some(Geometry {
        width,
        height,
        eye_center_x: m.eye_mid[0],
        face_width: m.face_width,
        eye_line: height as f32 - m.eye_mid[1],
        head_top: m.eye_mid[1] - m.hair_above_eyes,
        faces: faces.len(),
        pose: m.pose,
    }))
}
