#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! Files from other projects' test corpora (`tests/data/corpora`, with their licences) and
//! variants of a shipped frame that libjpeg and Pillow decode with a warning: each gets an
//! answer in words (no Rust debug rendering), in bounded time, and what a reference decoder
//! decodes is decoded.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use pipeline::decode::Unsupported;
use pipeline::{PipelineError, Profile, Verdict};

fn corpora() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/corpora")
}

fn frame(name: &str) -> Vec<u8> {
    std::fs::read(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/data/pd/frames")
            .join(name),
    )
    .unwrap()
}

/// No operator message may carry a Rust debug rendering.
fn assert_words(file: &str, text: &str) {
    for marker in [" { ", "Some(", "ChunkType", "::", "InsufficientInput"] {
        assert!(!text.contains(marker), "{file}: {text}");
    }
}

#[test]
fn corpus_files_get_an_answer_in_words_and_in_bounded_time() {
    let profile = Profile::standard();
    type Expect = fn(&Result<pipeline::Report, PipelineError>) -> bool;
    let cases: [(&str, Expect); 12] = [
        // 1000×1: the detector never runs (it took 52 s in a debug build before).
        ("jpeg-decoder/grayscale_large.jpg", |r| {
            matches!(
                r,
                Err(PipelineError::NotAPhoto {
                    width: 1000,
                    height: 1
                })
            )
        }),
        ("jpeg-decoder/extraneous-data.jpg", |r| {
            matches!(r, Err(PipelineError::NotAPhoto { .. }))
        }),
        ("jpeg-decoder/jpg-cmyk-1.jpg", |r| {
            matches!(r, Err(PipelineError::NotAPhoto { .. }))
        }),
        ("jpeg-decoder/16bit-qtables.jpg", |r| {
            matches!(r, Err(PipelineError::NotAPhoto { .. }))
        }),
        ("libjpeg-turbo/monkey12.jpg", |r| {
            matches!(
                r,
                Err(PipelineError::Unsupported(Unsupported::JpegPrecision(12)))
            )
        }),
        // Arithmetic coding: libjpeg-turbo decodes it (then it is too small), the pure-Rust
        // decoder does not have it.
        ("libjpeg-turbo/testimgari.jpg", |r| {
            matches!(
                r,
                Err(PipelineError::NotAPhoto {
                    width: 227,
                    height: 149
                }) | Err(PipelineError::Unsupported(Unsupported::JpegCoding))
            )
        }),
        ("libjpeg-turbo/testorig.jpg", |r| {
            matches!(r, Err(PipelineError::NotAPhoto { .. }))
        }),
        ("image-png/invalid_palette_index.png", |r| r.is_err()),
        ("image-png/x_consecutive_idat.png", |r| {
            matches!(r, Err(PipelineError::Corrupt(_)))
        }),
        ("image-png/x_ihdr_missing.png", |r| {
            matches!(r, Err(PipelineError::Corrupt(_)))
        }),
        ("image-png/x_interlaced_chck.png", |r| {
            matches!(r, Err(PipelineError::Corrupt(_)))
        }),
        ("image-png/x_unexpected_eof.png", |r| {
            matches!(r, Err(PipelineError::Corrupt(_)))
        }),
    ];
    for (file, expected) in cases {
        let bytes = std::fs::read(corpora().join(file)).unwrap();
        let started = Instant::now();
        let result = pipeline::process(&bytes, &profile);
        let took = started.elapsed();
        assert!(expected(&result), "{file}: {result:?}");
        if let Err(e) = &result {
            assert_words(file, &e.to_string());
            assert_words(file, e.zh());
        }
        // Generous for a debug build: what is checked is that no input runs for minutes.
        assert!(took < Duration::from_secs(20), "{file}: {took:?}");
    }
}

/// A shipped frame (passes) with an unknown JFIF revision, and with stray bytes before a
/// marker: libjpeg's djpeg and Pillow decode both with a warning, and so does rollcall.
#[test]
fn libjpeg_warnings_are_warnings() {
    let profile = Profile::standard();
    let clean = frame("IMG_1007.JPG");
    assert_eq!(
        &clean[6..11],
        b"JFIF\0",
        "the frame starts with a JFIF segment"
    );
    let mut jfif = clean.clone();
    jfif[11] = 0xFF;
    jfif[12] = 0x01;
    // Three stray bytes before the first quantisation table (after APP0 and APP1).
    let mut extraneous = clean.clone();
    let mut at = 2;
    while extraneous[at + 1] != 0xDB {
        at += 2 + usize::from(u16::from_be_bytes([extraneous[at + 2], extraneous[at + 3]]));
    }
    extraneous.splice(at..at, [0x00, 0x11, 0x22]);
    for (what, bytes) in [("JFIF 255.01", jfif), ("stray bytes", extraneous)] {
        let r = pipeline::process(&bytes, &profile).unwrap_or_else(|e| panic!("{what}: {e}"));
        assert_eq!(r.verdict, Verdict::Pass, "{what}: {:?}", r.reasons());
        assert!(
            r.warnings.iter().any(|w| w.starts_with("JPEG:")),
            "{what}: the warning is reported: {:?}",
            r.warnings
        );
    }
}

/// A TIFF is a TIFF, not a RAW file; a TIFF-based RAW (sub-images in its first directory) is.
#[test]
fn tiff_and_tiff_based_raw_are_told_apart() {
    fn tiff(tags: &[u16]) -> Vec<u8> {
        let mut b = b"II*\0\x08\0\0\0".to_vec();
        b.extend_from_slice(&(tags.len() as u16).to_le_bytes());
        for &t in tags {
            b.extend_from_slice(&t.to_le_bytes());
            b.extend_from_slice(&[3, 0, 1, 0, 0, 0, 1, 0, 0, 0]);
        }
        b.extend_from_slice(&[0; 4]);
        b
    }
    let profile = Profile::standard();
    let plain = tiff(&[0x0100, 0x0101, 0x0106]);
    assert!(matches!(
        pipeline::process(&plain, &profile),
        Err(PipelineError::Unsupported(Unsupported::Tiff))
    ));
    let nef_like = tiff(&[0x00FE, 0x0100, 0x014A]);
    assert!(matches!(
        pipeline::process(&nef_like, &profile),
        Err(PipelineError::Raw)
    ));
    let zh = PipelineError::Unsupported(Unsupported::Tiff).zh();
    assert!(zh.contains("JPEG"), "{zh}");
}
