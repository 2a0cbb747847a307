//! From a camera frame to a photo for the social-security card, with a verdict per check.
//!
//! Pure: bytes in, photo and report out. No files, no threads; the only clock read is for the
//! stage timings in the report.
//!
//! - [`decode`]: bytes → [`raster::Frame`] (format by content, EXIF orientation, DCT scaling).
//! - [`detect`]: faces (BlazeFace full-range) and landmarks (FaceMesh) with tract.
//! - [`measure`]: eyes, roll, face width, top of the hair; [`pose`]: yaw and pitch in degrees.
//! - [`identity`]: a face descriptor (who is it?) and the similarity of two.
//! - [`crop`]: the placement that satisfies the standard, and the rendering.
//! - [`checks`]: every clause of the standard as a check; [`encode`]: JPEG to the size window.
//! - [`spec`]: the profile holding every limit. [`process`] runs them all.

pub mod annotate;
pub mod checks;
pub mod crop;
pub mod decode;
pub mod detect;
pub mod encode;
pub mod identity;
pub mod measure;
pub mod pose;
pub mod raster;
pub mod spec;

use std::time::Instant;

use serde::Serialize;

pub use checks::Check;
pub use spec::Profile;

/// Why a frame could not be processed at all (as opposed to failing a check).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum PipelineError {
    #[error("the file is empty")]
    Empty,
    #[error("not an image (neither JPEG nor PNG)")]
    NotAnImage,
    #[error("a RAW file: not processed (shoot JPEG or RAW+JPEG)")]
    Raw,
    #[error("damaged image: {0}")]
    Corrupt(String),
    #[error("image too large ({width}×{height})")]
    TooLarge { width: u32, height: u32 },
    /// Too small or too narrow to be a camera frame (a thumbnail, a strip of pixels).
    #[error("{width}×{height} pixels is not a photo of a person (too small or too narrow)")]
    NotAPhoto { width: u32, height: u32 },
    /// A real image in a format the pipeline does not read.
    #[error("{0} is not supported")]
    Unsupported(decode::Unsupported),
    #[error("face model: {0}")]
    Model(String),
    /// The frame's file could not be read (a disk or permission problem, not the image's).
    #[error("the file cannot be read: {0}")]
    Unreadable(String),
    /// A bug: the pipeline panicked on this frame (the session goes on).
    #[error("internal error while processing: {0}")]
    Internal(String),
}

impl PipelineError {
    /// What the operator should do, in Chinese.
    pub fn zh(&self) -> &'static str {
        match self {
            PipelineError::Empty => "文件是空的，请重拍",
            PipelineError::NotAnImage => "不是照片文件",
            PipelineError::Raw => "RAW 文件不处理，请设置相机同时保存 JPEG",
            PipelineError::Corrupt(_) => "照片文件损坏（传输中断？），请重拍",
            PipelineError::TooLarge { .. } => "照片尺寸过大",
            PipelineError::NotAPhoto { .. } => {
                "图像太小或太窄，不是相机拍的照片，请检查文件或相机设置"
            }
            PipelineError::Unsupported(u) => u.zh(),
            PipelineError::Model(_) => "人脸模型加载失败（程序问题，请联系技术支持）",
            PipelineError::Unreadable(_) => {
                "照片文件无法读取（磁盘或权限问题），原始文件仍保留，请检查磁盘后重试"
            }
            PipelineError::Internal(_) => {
                "处理这张照片时程序出错，请重拍；如再次出现请联系技术支持"
            }
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Verdict {
    Pass,
    Fail,
}

/// Face geometry in the photo.
#[derive(Debug, Clone, Serialize)]
pub struct FaceOut {
    /// The subject's left eye (image right).
    pub eye_left: [f32; 2],
    pub eye_right: [f32; 2],
    pub face_width: f32,
    pub head_top: f32,
}

/// The source frame as displayed (camera pixels).
#[derive(Debug, Clone, Serialize)]
pub struct SourceInfo {
    pub width: u32,
    pub height: u32,
    pub orientation: u8,
    pub eye_left: Option<[f32; 2]>,
    pub eye_right: Option<[f32; 2]>,
    /// The photo's corners in the source (top-left, top-right, bottom-right, bottom-left).
    pub crop: Option<[[f32; 2]; 4]>,
    /// The faces the detector found (x0, y0, x1, y1).
    pub faces: Vec<[f32; 4]>,
    /// Where the backdrop colour was sampled.
    pub backdrop_samples: Vec<[f32; 2]>,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct Timings {
    pub decode: f32,
    pub detect: f32,
    pub crop: f32,
    pub checks: f32,
    pub encode: f32,
    /// The face descriptor ([`identity`]).
    pub identity: f32,
    pub total: f32,
}

/// Everything the pipeline found out about one frame.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub verdict: Verdict,
    /// The photo, whenever a crop was possible (also when another check failed, so the
    /// operator sees it); only a `Pass` is filed.
    #[serde(skip)]
    pub photo: Option<Vec<u8>>,
    /// For a failed frame, a JPEG that shows the operator why: the photo with the failed
    /// checks' regions marked, or, when there is no photo, the frame reduced with the faces
    /// found drawn on it ([`annotate`]).
    #[serde(skip)]
    pub preview: Option<Vec<u8>>,
    pub quality: Option<u8>,
    pub checks: Vec<Check>,
    pub face: Option<FaceOut>,
    pub source: SourceInfo,
    pub warnings: Vec<String>,
    pub timings_ms: Timings,
    /// Whose face this is ([`identity`]), whenever one face was measured, passed or not. Never
    /// serialised with the report: a descriptor is personal data, stored only where the session
    /// keeps its photos.
    #[serde(skip)]
    pub identity: Option<identity::Embedding>,
}

impl Report {
    /// The messages of the failed checks, Chinese then English (`中文 / English`): the form
    /// the journal records them in.
    pub fn reasons(&self) -> Vec<String> {
        self.failed_texts().map(bilingual::Text::both).collect()
    }

    /// The messages of the failed checks in one language.
    pub fn reasons_in(&self, lang: bilingual::Lang) -> Vec<String> {
        self.failed_texts()
            .map(|t| t.get(lang).to_string())
            .collect()
    }

    fn failed_texts(&self) -> impl Iterator<Item = &bilingual::Text> {
        self.checks
            .iter()
            .filter(|c| !c.ok)
            .filter_map(|c| c.message.as_ref())
    }
}

fn ms(t: Instant) -> f32 {
    t.elapsed().as_secs_f32() * 1000.0
}

/// The long side of the reduced frame shown when a frame gives no photo.
const PREVIEW_SIDE: f32 = 640.0;

/// Faces whose detection box is at least this fraction of the largest count as people.
const PERSON_MIN_RELATIVE_SIZE: f32 = 0.35;

/// Processes one frame.
pub fn process(bytes: &[u8], profile: &Profile) -> Result<Report, PipelineError> {
    let start = Instant::now();
    let decoded = decode::decode(bytes)?;
    let frame = &decoded.frame;
    // A thumbnail or a strip of pixels is no photo, and never reaches the detector.
    if let Some(e) = decode::shape_problem(frame.full_width, frame.full_height) {
        return Err(e);
    }
    let mut timings = Timings {
        decode: ms(start),
        ..Timings::default()
    };
    let mut warnings = decoded.warnings.clone();
    if let Some(v) = decoded.invalid_orientation {
        warnings.push(format!("invalid EXIF orientation {v}, treated as upright"));
    }
    let scale = frame.scale();
    let mut source = SourceInfo {
        width: frame.full_width,
        height: frame.full_height,
        orientation: frame.orientation.to_exif(),
        eye_left: None,
        eye_right: None,
        crop: None,
        faces: Vec::new(),
        backdrop_samples: Vec::new(),
    };
    let mut report = |checks: Vec<Check>,
                      photo: Option<encode::Encoded>,
                      preview: Option<Vec<u8>>,
                      face: Option<FaceOut>,
                      source: SourceInfo,
                      mut timings: Timings| {
        timings.total = ms(start);
        let verdict = if checks.iter().all(|c| c.ok) {
            Verdict::Pass
        } else {
            Verdict::Fail
        };
        Report {
            verdict,
            quality: photo.as_ref().map(|p| p.quality),
            photo: photo.map(|p| p.bytes),
            preview,
            checks,
            face,
            source,
            warnings: std::mem::take(&mut warnings),
            timings_ms: timings,
            identity: None,
        }
    };

    let t = Instant::now();
    let faces = detect::faces(frame)?;
    let largest = faces
        .iter()
        .map(detect::Detection::width)
        .fold(0.0f32, f32::max);
    let people = faces
        .iter()
        .filter(|f| f.width() >= PERSON_MIN_RELATIVE_SIZE * largest)
        .count();
    source.faces = faces.iter().map(|f| f.bbox.map(|v| v / scale)).collect();
    // The frame as the operator should see it when it gives no photo.
    let overview =
        |source: &SourceInfo| annotate::jpeg(&annotate::overview(frame, source, PREVIEW_SIDE)).ok();
    let single = Check {
        name: "single_face",
        ok: people == 1,
        value: people as f32,
        limit: "1".into(),
        message: match people {
            0 => Some(bilingual::Text::new(
                "没有检测到人脸，请让学生站到相机前",
                "no face found",
            )),
            1 => None,
            _ => Some(bilingual::Text::new(
                "画面中不止一个人，请只留一人",
                "more than one person in the frame",
            )),
        },
        margin: None,
    };
    if people != 1 {
        timings.detect = ms(t);
        let preview = overview(&source);
        return Ok(report(vec![single], None, preview, None, source, timings));
    }
    let mesh = detect::mesh(frame, &faces[0])?;
    let m = measure::measure(frame, &mesh);
    timings.detect = ms(t);
    let t = Instant::now();
    let face_id = identity::embed(frame, &m)?;
    timings.identity = ms(t);
    source.eye_left = Some([m.eye_left[0] / scale, m.eye_left[1] / scale]);
    source.eye_right = Some([m.eye_right[0] / scale, m.eye_right[1] / scale]);
    source.backdrop_samples = m
        .backdrop_samples
        .iter()
        .map(|p| [p[0] / scale, p[1] / scale])
        .collect();
    let roll = checks::check(
        "roll",
        m.roll_deg.abs() <= profile.max_roll_deg,
        m.roll_deg,
        format!("|x| ≤ {}°", profile.max_roll_deg),
        "头部倾斜，请摆正头部",
        "head tilted: hold the head straight",
    );
    let roll = Check {
        margin: Some(profile.max_roll_deg - m.roll_deg.abs()),
        ..roll
    };

    // The pose is judged on the frame: a turned head is a retake whether or not it can be
    // cropped.
    let [yaw, pitch] = checks::pose_checks(m.pose, profile);

    let t = Instant::now();
    let placement = match crop::solve(&m, frame, profile) {
        Ok(p) => p,
        Err(failure) => {
            timings.crop = ms(t);
            let mut checks = vec![single, roll, yaw, pitch];
            if failure.check != "roll" {
                checks.push(Check {
                    name: failure.check,
                    ok: false,
                    value: f32::NAN,
                    limit: "a crop inside the frame".into(),
                    message: Some(failure.text.clone()),
                    margin: None,
                });
            }
            let preview = overview(&source);
            return Ok(Report {
                identity: Some(face_id),
                ..report(checks, None, preview, None, source, timings)
            });
        }
    };
    let (w, h) = (profile.width as f32, profile.height as f32);
    source.crop = Some([(0.0, 0.0), (w, 0.0), (w, h), (0.0, h)].map(|(u, v)| {
        let p = placement.to_source(&m, u, v);
        [p[0] / scale, p[1] / scale]
    }));
    let img = crop::render(frame, &m, &placement, profile);
    timings.crop = ms(t);

    let t = Instant::now();
    let mut checks = vec![single, roll, yaw, pitch];
    checks.extend(checks::run(&img, &m, &placement, profile));
    timings.checks = ms(t);

    let t = Instant::now();
    let encoded = encode::encode(&img, profile)?;
    timings.encode = ms(t);
    let header = encode::inspect(&encoded.bytes);
    let expected = (
        profile.width as u16,
        profile.height as u16,
        3,
        1,
        profile.dpi,
    );
    checks.push(checks::check(
        "resolution",
        header == Some(expected),
        profile.width as f32,
        format!(
            "{}×{} px, {} dpi, 24-bit RGB",
            profile.width, profile.height, profile.dpi
        ),
        "输出格式错误（程序问题）",
        "wrong output format",
    ));
    let size = encoded.bytes.len() as f32 / 1000.0;
    checks.push(checks::check(
        "file_size",
        size >= profile.size_min_kb as f32 && size <= profile.size_max_kb as f32,
        size,
        format!(
            "{}–{} KB (quality {})",
            profile.size_min_kb, profile.size_max_kb, encoded.quality
        ),
        "文件大小超出范围",
        "file size outside the window",
    ));
    checks.sort_by_key(|c| checks::ORDER.iter().position(|&n| n == c.name));
    let failed: Vec<&str> = checks.iter().filter(|c| !c.ok).map(|c| c.name).collect();
    let preview = (!failed.is_empty())
        .then(|| {
            let regions = checks::Regions::new(&m, &placement, profile);
            annotate::jpeg(&annotate::marked_photo(&img, &regions, &failed, profile)).ok()
        })
        .flatten();
    let face = FaceOut {
        eye_left: placement.to_output(&m, m.eye_left),
        eye_right: placement.to_output(&m, m.eye_right),
        face_width: placement.face_width,
        head_top: placement.head_top,
    };
    Ok(Report {
        identity: Some(face_id),
        ..report(checks, Some(encoded), preview, Some(face), source, timings)
    })
}
