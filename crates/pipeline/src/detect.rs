//! Faces and landmarks: MediaPipe's full-range BlazeFace (detector, 6 keypoints) and FaceMesh
//! (468 landmarks), converted to ONNX (see `models/convert.sh`, Apache-2.0, `models/NOTICE`),
//! and the face recognition network of [`crate::identity`] (`models/identity.sh`, MIT),
//! embedded in the binary and run with tract. No network, no files at run time.
//!
//! Every model sees a small input (192×192, 64×64 for Iris): its region of the stored frame is
//! box-filtered to about the input's resolution ([`Frame::reduced`]), then sampled through one
//! affine map (model input → display → stored pixels, the EXIF orientation included). The frame
//! is never rotated as a whole.

use std::sync::{Arc, OnceLock};

use fast_image_resize::FilterType;
use tract_onnx::prelude::*;

use crate::PipelineError;
use crate::raster::{Affine, Frame, Raster};

const DETECTOR: &[u8] = include_bytes!("../models/face_detection_full_range.onnx");
const MESH: &[u8] = include_bytes!("../models/face_landmark.onnx");
const IRIS: &[u8] = include_bytes!("../models/iris_landmark.onnx");
const RECOGNITION: &[u8] = include_bytes!("../models/face_recognition.onnx");
const IRIS_SIZE: usize = 64;
const SIZE: usize = 192;
/// Score limit before the sigmoid, as MediaPipe's decoder uses.
const RAW_SCORE_LIMIT: f32 = 80.0;
/// Detections below this score are dropped.
pub const MIN_SCORE: f32 = 0.5;
const NMS_IOU: f32 = 0.3;

type Plan = Arc<TypedRunnableModel>;

struct Models {
    detector: Plan,
    mesh: Plan,
    iris: Plan,
    recognition: Plan,
}

fn load(bytes: &[u8], size: usize) -> TractResult<Plan> {
    onnx()
        .model_for_read(&mut std::io::Cursor::new(bytes))?
        .with_input_fact(0, f32::fact([1, 3, size, size]).into())?
        .into_optimized()?
        .into_runnable()
}

fn models() -> Result<&'static Models, PipelineError> {
    static MODELS: OnceLock<Result<Models, String>> = OnceLock::new();
    MODELS
        .get_or_init(|| {
            Ok(Models {
                detector: load(DETECTOR, SIZE).map_err(|e| format!("face detector: {e}"))?,
                mesh: load(MESH, SIZE).map_err(|e| format!("face mesh: {e}"))?,
                iris: load(IRIS, IRIS_SIZE).map_err(|e| format!("iris: {e}"))?,
                recognition: load(RECOGNITION, crate::identity::CHIP)
                    .map_err(|e| format!("face recognition: {e}"))?,
            })
        })
        .as_ref()
        .map_err(|e| PipelineError::Model(e.clone()))
}

/// Runs a model and returns each output flattened.
fn infer(plan: &Plan, input: Tensor) -> Result<Vec<Vec<f32>>, PipelineError> {
    let err = |e: TractError| PipelineError::Model(e.to_string());
    plan.run(tvec!(input.into()))
        .map_err(err)?
        .iter()
        .map(|o| {
            Ok(o.to_plain_array_view::<f32>()
                .map_err(err)?
                .iter()
                .copied()
                .collect())
        })
        .collect()
}

/// Loads the models now (they load lazily otherwise); a daemon calls this at start.
pub fn warm_up() -> Result<(), PipelineError> {
    models().map(|_| ())
}

/// A face found by the detector, in display pixels of the decoded frame.
#[derive(Debug, Clone, PartialEq)]
pub struct Detection {
    pub score: f32,
    /// xmin, ymin, xmax, ymax.
    pub bbox: [f32; 4],
    /// Image-left eye (the subject's right), image-right eye, nose tip, mouth, tragions.
    pub keypoints: [[f32; 2]; 6],
}

impl Detection {
    pub fn width(&self) -> f32 {
        self.bbox[2] - self.bbox[0]
    }
}

/// A `size`×`size` model input: `map` takes input pixel coordinates to display points, and
/// `footprint` is an input pixel's size in display pixels. Points outside the picture read as
/// black (letterbox).
fn sample_input(
    frame: &Frame,
    map: &Affine,
    footprint: f32,
    (lo, hi): (f32, f32),
    size: usize,
) -> Result<Tensor, PipelineError> {
    // Area averaging: the region is box-filtered to about the input's resolution, so one
    // bilinear tap per input pixel is enough (the copy's pixel is at most an input pixel).
    // Without a copy (an input pixel spans about one frame pixel or less) the frame is
    // sampled directly.
    let (w, h) = (size as f32, size as f32);
    let corners = [(0.0, 0.0), (w, 0.0), (0.0, h), (w, h)].map(|(u, v)| map.apply(u, v));
    let reduced = frame.reduced(&corners, 1.0 / footprint, FilterType::Box);
    let (img, to) = match &reduced {
        Some(r) => (&r.image, frame.stored_map(map).then(&r.from_stored)),
        None => (&frame.stored, frame.stored_map(map)),
    };
    let (sw, sh) = (img.width() as f32, img.height() as f32);
    let norm = (hi - lo) / 255.0;
    let plane = size * size;
    let mut buf = vec![0.0f32; 3 * plane];
    for v in 0..size {
        for u in 0..size {
            let (x, y) = to.apply(u as f32 + 0.5, v as f32 + 0.5);
            let p = if x < 0.0 || y < 0.0 || x >= sw || y >= sh {
                [0.0; 3]
            } else {
                img.sample(x, y)
            };
            for (c, a) in p.iter().enumerate() {
                buf[c * plane + v * size + u] = lo + a * norm;
            }
        }
    }
    tract_ndarray::Array4::from_shape_vec((1, 3, size, size), buf)
        .map(IntoTensor::into_tensor)
        .map_err(|e| PipelineError::Model(e.to_string()))
}

/// Input pixel coordinates of an `n`×`n` model input → display points: the input's centre at
/// `centre`, turned by `angle`, `k` display pixels per input pixel, mirrored left–right when
/// `mirror` (the Iris model knows one eye; the other is shown to it mirrored).
fn square_map(n: f32, angle: f32, k: f32, centre: [f32; 2], mirror: bool) -> Affine {
    let flip = if mirror { -1.0 } else { 1.0 };
    Affine::scale_shift(flip, 1.0, -flip * n / 2.0, -n / 2.0)
        .then(&Affine::rotate_scale(angle, k, centre))
}

fn sigmoid(x: f32) -> f32 {
    1.0 / (1.0 + (-x.clamp(-RAW_SCORE_LIMIT, RAW_SCORE_LIMIT)).exp())
}

fn iou(a: &[f32; 4], b: &[f32; 4]) -> f32 {
    let ix = (a[2].min(b[2]) - a[0].max(b[0])).max(0.0);
    let iy = (a[3].min(b[3]) - a[1].max(b[1])).max(0.0);
    let inter = ix * iy;
    let union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter;
    if union <= 0.0 { 0.0 } else { inter / union }
}

/// Weighted non-maximum suppression, as MediaPipe does for BlazeFace.
fn weighted_nms(mut dets: Vec<Detection>) -> Vec<Detection> {
    dets.sort_by(|a, b| b.score.total_cmp(&a.score));
    let mut out = Vec::new();
    while let Some(best) = dets.first().cloned() {
        let (group, rest): (Vec<_>, Vec<_>) = dets
            .into_iter()
            .partition(|d| iou(&best.bbox, &d.bbox) > NMS_IOU);
        dets = rest;
        let total: f32 = group.iter().map(|d| d.score).sum();
        let mut merged = best.clone();
        merged.bbox = [0.0; 4];
        merged.keypoints = [[0.0; 2]; 6];
        for d in &group {
            let w = d.score / total;
            for i in 0..4 {
                merged.bbox[i] += d.bbox[i] * w;
            }
            for k in 0..6 {
                merged.keypoints[k][0] += d.keypoints[k][0] * w;
                merged.keypoints[k][1] += d.keypoints[k][1] * w;
            }
        }
        out.push(merged);
    }
    out
}

/// Every face the full-range detector finds in the frame, best first.
///
/// The whole frame first (letterboxed into the detector's square). When that finds nothing, a
/// second pass looks at overlapping squares of two thirds of the short side: a student standing
/// far off and to one side is a face of ~10 input pixels in the whole-frame pass, too small for
/// the model, and the photographer should hear "move closer", not "no face". The second pass
/// runs only on frames without a face (an empty wall), so it costs nothing on a normal shot.
pub fn faces(frame: &Frame) -> Result<Vec<Detection>, PipelineError> {
    let (dw, dh) = frame.display_size();
    let (dw, dh) = (dw as f32, dh as f32);
    // Letterbox the display picture into the square input.
    let side = dw.max(dh);
    let whole = detect_in(frame, ((dw - side) / 2.0, (dh - side) / 2.0, side))?;
    if !whole.is_empty() {
        return Ok(whole);
    }
    let tile = dw.min(dh) * 2.0 / 3.0;
    let mut dets = Vec::new();
    for y in tile_starts(dh, tile) {
        for x in tile_starts(dw, tile) {
            dets.extend(detect_in(frame, (x, y, tile))?);
        }
    }
    Ok(weighted_nms(dets))
}

/// The most squares the second pass looks at along one side: a camera frame (3:2) needs 3, the
/// narrowest frame the pipeline accepts (4:1, [`crate::decode::MAX_ASPECT`]) 8; the bound keeps
/// any input's cost fixed (a 1000×1 strip would otherwise be 2,250 detector runs).
pub const MAX_TILES_PER_SIDE: usize = 8;

/// Starts of squares of `tile` covering `0..length`, overlapping by at least a third (at most
/// [`MAX_TILES_PER_SIDE`] of them: spread evenly when a third's overlap would need more).
fn tile_starts(length: f32, tile: f32) -> Vec<f32> {
    if tile <= 0.0 || length <= tile {
        return vec![0.0];
    }
    let n = (((length - tile) / (tile * 2.0 / 3.0)).ceil() as usize + 1).min(MAX_TILES_PER_SIDE);
    let step = (length - tile) / (n - 1) as f32;
    (0..n).map(|i| i as f32 * step).collect()
}

/// The detector on one square of the display picture (`x`, `y`, `side`; it may reach outside
/// the picture, which reads as black), detections in display pixels.
fn detect_in(
    frame: &Frame,
    (ox, oy, side): (f32, f32, f32),
) -> Result<Vec<Detection>, PipelineError> {
    let models = models()?;
    let k = side / SIZE as f32;
    let map = Affine::scale_shift(k, k, ox, oy);
    let input = sample_input(frame, &map, k, (-1.0, 1.0), SIZE)?;
    let out = infer(&models.detector, input)?;
    let (boxes, scores) = (&out[0], &out[1]);
    let grid = SIZE / 4; // one anchor per cell of a stride-4 grid
    let mut dets = Vec::new();
    for a in 0..grid * grid {
        let score = sigmoid(scores[a]);
        if score < MIN_SCORE {
            continue;
        }
        let (ax, ay) = (
            ((a % grid) as f32 + 0.5) / grid as f32,
            ((a / grid) as f32 + 0.5) / grid as f32,
        );
        let r = |i: usize| boxes[a * 16 + i] / SIZE as f32;
        let (cx, cy, w, h) = (r(0) + ax, r(1) + ay, r(2), r(3));
        if w <= 0.0 || h <= 0.0 {
            continue;
        }
        // Normalised input coordinates to display pixels.
        let to = |x: f32, y: f32| [ox + x * side, oy + y * side];
        let tl = to(cx - w / 2.0, cy - h / 2.0);
        let br = to(cx + w / 2.0, cy + h / 2.0);
        let mut keypoints = [[0.0; 2]; 6];
        for (kk, kp) in keypoints.iter_mut().enumerate() {
            *kp = to(r(4 + 2 * kk) + ax, r(5 + 2 * kk) + ay);
        }
        dets.push(Detection {
            score,
            bbox: [tl[0], tl[1], br[0], br[1]],
            keypoints,
        });
    }
    Ok(weighted_nms(dets))
}

/// FaceMesh's 468 landmarks in display pixels of the decoded frame, and its face-presence
/// score.
#[derive(Debug, Clone)]
pub struct Mesh {
    pub points: Vec<[f32; 3]>,
    pub presence: f32,
}

impl Mesh {
    pub fn xy(&self, i: usize) -> [f32; 2] {
        [self.points[i][0], self.points[i][1]]
    }

    /// Mean of several landmarks.
    pub fn centroid(&self, idx: &[usize]) -> [f32; 2] {
        let n = idx.len() as f32;
        let (sx, sy) = idx.iter().fold((0.0, 0.0), |(sx, sy), &i| {
            (sx + self.points[i][0], sy + self.points[i][1])
        });
        [sx / n, sy / n]
    }
}

/// Runs FaceMesh on the region of a detection: a square 1.5× the detection box, turned so
/// the eyes are level.
pub fn mesh(frame: &Frame, det: &Detection) -> Result<Mesh, PipelineError> {
    let models = models()?;
    let [l, r] = [det.keypoints[0], det.keypoints[1]];
    let angle = (r[1] - l[1]).atan2(r[0] - l[0]);
    let (cx, cy) = (
        (det.bbox[0] + det.bbox[2]) / 2.0,
        (det.bbox[1] + det.bbox[3]) / 2.0,
    );
    let side = (det.bbox[2] - det.bbox[0]).max(det.bbox[3] - det.bbox[1]) * 1.5;
    let k = side / SIZE as f32;
    let map = square_map(SIZE as f32, angle, k, [cx, cy], false);
    let input = sample_input(frame, &map, k, (0.0, 1.0), SIZE)?;
    let out = infer(&models.mesh, input)?;
    let (raw, flag) = (&out[0], &out[1]);
    let points = raw
        .chunks_exact(3)
        .map(|p| {
            let (x, y) = map.apply(p[0], p[1]);
            [x, y, p[2] * k]
        })
        .collect();
    Ok(Mesh {
        points,
        presence: sigmoid(flag.first().copied().unwrap_or(-RAW_SCORE_LIMIT)),
    })
}

/// The iris centre of one eye, from the Iris model on a 64×64 crop around the eye corners
/// (2.3× their distance, turned level). `flip` mirrors the crop: the model knows one eye, and
/// the image-right eye is shown to it mirrored.
pub fn iris_center(
    frame: &Frame,
    corner_a: [f32; 2],
    corner_b: [f32; 2],
    flip: bool,
) -> Result<[f32; 2], PipelineError> {
    let models = models()?;
    let angle = (corner_b[1] - corner_a[1]).atan2(corner_b[0] - corner_a[0]);
    let (cx, cy) = (
        (corner_a[0] + corner_b[0]) / 2.0,
        (corner_a[1] + corner_b[1]) / 2.0,
    );
    let width = ((corner_b[0] - corner_a[0]).powi(2) + (corner_b[1] - corner_a[1]).powi(2)).sqrt();
    let side = width * 2.3;
    let n = IRIS_SIZE as f32;
    let k = side / n;
    let map = square_map(n, angle, k, [cx, cy], flip);
    let input = sample_input(frame, &map, k, (0.0, 1.0), IRIS_SIZE)?;
    let out = infer(&models.iris, input)?;
    let v = &out[1];
    if v.len() < 2 {
        return Err(PipelineError::Model("iris output too short".into()));
    }
    let (x, y) = map.apply(v[0], v[1]);
    Ok([x, y])
}

/// The face recognition network's output for the `CHIP`×`CHIP` square centred at `centre`
/// (display pixels), turned by `angle`, `k` display pixels per chip pixel ([`crate::identity`]).
pub(crate) fn descriptor(
    frame: &Frame,
    angle: f32,
    k: f32,
    centre: [f32; 2],
) -> Result<Vec<f32>, PipelineError> {
    let models = models()?;
    let n = crate::identity::CHIP;
    let map = square_map(n as f32, angle, k, centre, false);
    let input = sample_input(frame, &map, k, (0.0, 255.0), n)?;
    infer(&models.recognition, input)?
        .into_iter()
        .next()
        .ok_or_else(|| PipelineError::Model("face recognition: no output".into()))
}

#[cfg(test)]
mod tests {
    use super::tile_starts;

    #[test]
    fn tiles_cover_the_whole_length_and_overlap_by_a_third() {
        for (length, tile) in [
            (3000.0, 1333.3),
            (2000.0, 1333.3),
            (1333.3, 1333.3),
            (4000.0, 900.0),
        ] {
            let starts = tile_starts(length, tile);
            assert_eq!(starts[0], 0.0);
            let last = starts[starts.len() - 1];
            assert!(
                (last + tile - length.max(tile)).abs() < 0.01,
                "{length} {tile}: {starts:?}"
            );
            for w in starts.windows(2) {
                assert!(w[1] - w[0] <= tile * 2.0 / 3.0 + 0.01, "{starts:?}");
            }
        }
    }

    #[test]
    fn a_strip_costs_a_bounded_number_of_squares() {
        let starts = tile_starts(1000.0, 0.67);
        assert_eq!(starts.len(), super::MAX_TILES_PER_SIDE);
        assert_eq!(starts[0], 0.0);
        assert!((starts[starts.len() - 1] + 0.67 - 1000.0).abs() < 0.01);
    }
}
