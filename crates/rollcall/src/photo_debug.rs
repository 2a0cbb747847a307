//! The `--debug` picture of `rollcall photo`: the frame, reduced, with the faces found, the
//! eyes, the photo's crop box and where the backdrop colour was sampled
//! ([`pipeline::annotate::overview`]).

use std::path::Path;

use anyhow::{Context, Result};
use pipeline::Report;

const MAX_SIDE: f32 = 900.0;

pub fn write(bytes: &[u8], report: &Report, path: &Path) -> Result<()> {
    let decoded = pipeline::decode::decode(bytes).context("decoding for the debug picture")?;
    let img = pipeline::annotate::overview(&decoded.frame, &report.source, MAX_SIDE);
    let out = pipeline::annotate::jpeg(&img).context("encoding the debug picture")?;
    std::fs::write(path, out).with_context(|| format!("writing {}", path.display()))
}
