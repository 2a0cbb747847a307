//! Who is in the picture: a face descriptor, and how alike two of them are.
//!
//! The network is face-api.js's 128-D face recognition ResNet (a port of dlib's
//! `dlib_face_recognition_resnet_model_v1`), rebuilt as ONNX from the MIT-licensed npm package
//! `@vladmandic/face-api` by `models/identity.sh` and run with tract like the other models. It
//! sees a 150×150 chip aligned on the eye centres the pipeline already measured, placed as dlib
//! places its face chips (eyes level, 52.9 px apart, 46.6 px from the top, padding 0.25).
//!
//! A descriptor is stored as 128 signed bytes of the unit vector (base64 in JSON): small enough
//! for a journal line, and the similarity it gives differs from the float one by less than 0.01.
//! It is personal data: it stays in the data folder (journal, photo cache) and is never logged,
//! packed or sent to the console.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::PipelineError;
use crate::detect;
use crate::measure::Measures;
use crate::raster::Frame;

/// Length of a descriptor.
pub const DIM: usize = 128;
/// The chip the network sees.
pub(crate) const CHIP: usize = 150;
/// Where dlib's face chips (150 px, padding 0.25) put the eye centres: the mean of its 68-point
/// template's eye contours.
const CHIP_EYE_RIGHT: [f32; 2] = [47.6, 46.6];
const CHIP_EYE_LEFT: [f32; 2] = [100.5, 46.6];

/// Cosine similarity at or above which two faces are taken for the same person. Chosen on the
/// development pictures (docs/identity.md): above every pair of different people seen there
/// (a false-match rate under 1 % needs only 0.904, but a class of 40 is 780 pairs), while two
/// photos of one person on one photo day — same light, minutes apart — score 0.99.
pub const SAME_PERSON: f32 = 0.955;
/// Below this a retake is taken for someone else than the earlier take of the same student.
pub const DIFFERENT_PERSON: f32 = 0.90;

/// A face descriptor: the network's output scaled to unit length, each number ×127 as a byte.
#[derive(Clone, PartialEq, Eq)]
pub struct Embedding(Box<[i8; DIM]>);

impl Embedding {
    /// From the network's output (any length-128 vector that is not all zeros).
    pub fn from_floats(v: &[f32]) -> Option<Embedding> {
        if v.len() != DIM {
            return None;
        }
        let norm = v.iter().map(|x| x * x).sum::<f32>().sqrt();
        if !norm.is_finite() || norm < 1e-6 {
            return None;
        }
        let mut out = [0i8; DIM];
        for (o, x) in out.iter_mut().zip(v) {
            *o = (x / norm * 127.0).round().clamp(-127.0, 127.0) as i8;
        }
        Some(Embedding(Box::new(out)))
    }

    /// Cosine similarity, −1 to 1 (1: the same face).
    pub fn similarity(&self, other: &Embedding) -> f32 {
        let (mut dot, mut na, mut nb) = (0i32, 0i32, 0i32);
        for (&a, &b) in self.0.iter().zip(other.0.iter()) {
            let (a, b) = (i32::from(a), i32::from(b));
            dot += a * b;
            na += a * a;
            nb += b * b;
        }
        if na == 0 || nb == 0 {
            return 0.0;
        }
        dot as f32 / ((na as f32).sqrt() * (nb as f32).sqrt())
    }

    /// Whether two faces are taken for the same person ([`SAME_PERSON`]).
    pub fn same_person(&self, other: &Embedding) -> bool {
        self.similarity(other) >= SAME_PERSON
    }

    fn to_base64(&self) -> String {
        STANDARD.encode(self.0.map(|b| b as u8))
    }

    fn from_base64(s: &str) -> Option<Embedding> {
        let bytes = STANDARD.decode(s).ok()?;
        let arr: [u8; DIM] = bytes.try_into().ok()?;
        Some(Embedding(Box::new(arr.map(|b| b as i8))))
    }
}

/// Never the numbers: a descriptor is personal data and has no business in a log line.
impl std::fmt::Debug for Embedding {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Embedding(..)")
    }
}

impl Serialize for Embedding {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_base64())
    }
}

impl<'de> Deserialize<'de> for Embedding {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Embedding, D::Error> {
        let s = String::deserialize(d)?;
        Embedding::from_base64(&s).ok_or_else(|| {
            serde::de::Error::custom(format!("a face descriptor is {DIM} bytes in base64"))
        })
    }
}

/// The descriptor of the face whose eyes `m` measured, from the frame's own pixels.
pub fn embed(frame: &Frame, m: &Measures) -> Result<Embedding, PipelineError> {
    // Chip pixels → display pixels: a similarity taking the chip's eye centres onto the
    // measured ones (the image-left eye is the subject's right).
    let [rx, ry] = m.eye_right;
    let [lx, ly] = m.eye_left;
    let angle = (ly - ry).atan2(lx - rx);
    let k = m.iod / (CHIP_EYE_LEFT[0] - CHIP_EYE_RIGHT[0]);
    let half = CHIP as f32 / 2.0;
    // The chip's centre, from the eye midpoint, in chip pixels, turned and scaled to display.
    let (du, dv) = (
        half - (CHIP_EYE_RIGHT[0] + CHIP_EYE_LEFT[0]) / 2.0,
        half - CHIP_EYE_RIGHT[1],
    );
    let (s, c) = angle.sin_cos();
    let centre = [
        m.eye_mid[0] + k * (du * c - dv * s),
        m.eye_mid[1] + k * (du * s + dv * c),
    ];
    let out = detect::descriptor(frame, angle, k, centre)?;
    Embedding::from_floats(&out)
        .ok_or_else(|| PipelineError::Model("the face descriptor is empty".into()))
}

/// The descriptor of the largest face in any picture (a camera frame or a finished photo):
/// `None` when no face is found. For comparing files; the pipeline's [`crate::process`]
/// computes the same for every frame it measures.
pub fn embed_bytes(bytes: &[u8]) -> Result<Option<Embedding>, PipelineError> {
    let decoded = crate::decode::decode(bytes)?;
    let frame = &decoded.frame;
    let faces = detect::faces(frame)?;
    let Some(largest) = faces.iter().max_by(|a, b| a.width().total_cmp(&b.width())) else {
        return Ok(None);
    };
    let mesh = detect::mesh(frame, largest)?;
    if mesh.presence < detect::MIN_SCORE {
        return Ok(None);
    }
    let m = crate::measure::measure(frame, &mesh);
    embed(frame, &m).map(Some)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_descriptor_is_alike_to_itself_and_survives_its_text_form() {
        let v: Vec<f32> = (0..DIM)
            .map(|i| ((i * 37 % 11) as f32 - 5.0) / 7.0)
            .collect();
        let e = Embedding::from_floats(&v).unwrap();
        assert!((e.similarity(&e) - 1.0).abs() < 1e-6);
        let json = serde_json::to_string(&e).unwrap();
        assert_eq!(json.len(), 2 + 172, "{json}");
        let back: Embedding = serde_json::from_str(&json).unwrap();
        assert_eq!(back, e);
        assert_eq!(format!("{e:?}"), "Embedding(..)");
        let neg: Vec<f32> = v.iter().map(|x| -x).collect();
        let n = Embedding::from_floats(&neg).unwrap();
        assert!((e.similarity(&n) + 1.0).abs() < 1e-6);
    }

    #[test]
    fn quantising_moves_the_similarity_by_less_than_a_hundredth() {
        // Two pseudo-random vectors at a known angle.
        let a: Vec<f32> = (0..DIM)
            .map(|i| ((i * 7919 % 97) as f32 / 97.0) - 0.5)
            .collect();
        let b: Vec<f32> = (0..DIM)
            .map(|i| a[i] * 0.8 + (((i * 104729 % 89) as f32 / 89.0) - 0.5) * 0.6)
            .collect();
        let exact = {
            let dot: f32 = a.iter().zip(&b).map(|(x, y)| x * y).sum();
            let na: f32 = a.iter().map(|x| x * x).sum::<f32>().sqrt();
            let nb: f32 = b.iter().map(|x| x * x).sum::<f32>().sqrt();
            dot / (na * nb)
        };
        let q = Embedding::from_floats(&a)
            .unwrap()
            .similarity(&Embedding::from_floats(&b).unwrap());
        assert!((q - exact).abs() < 0.01, "{q} vs {exact}");
    }

    #[test]
    fn wrong_lengths_and_zero_vectors_are_refused() {
        assert!(Embedding::from_floats(&[1.0; 3]).is_none());
        assert!(Embedding::from_floats(&[0.0; DIM]).is_none());
        assert!(serde_json::from_str::<Embedding>("\"AAAA\"").is_err());
    }
}
