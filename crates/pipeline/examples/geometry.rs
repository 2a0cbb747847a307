//! Measures finished photos against the standard's geometry (eye position, face width, eye
//! line, hair top, size), from scratch: for comparing another tool's crops with rollcall's
//! (`scripts/compare-autocrop`). One JSON object per file on stdout.
//!
//!     cargo run --release -p pipeline --example geometry -- PHOTO...

use pipeline::{Profile, measure};
use serde_json::json;

fn main() -> std::process::ExitCode {
    let profile = Profile::standard();
    let mut status = std::process::ExitCode::SUCCESS;
    for path in std::env::args().skip(1) {
        let line = match std::fs::read(&path)
            .map_err(|e| e.to_string())
            .and_then(|bytes| measure::geometry(&bytes).map_err(|e| e.to_string()))
        {
            Ok(Some(g)) => {
                let misses = g.misses(&profile, 0.03);
                json!({ "file": path, "geometry": g, "misses": misses, "ok": misses.is_empty() })
            }
            Ok(None) => {
                json!({ "file": path, "geometry": null, "misses": ["single_face"], "ok": false })
            }
            Err(e) => {
                status = std::process::ExitCode::from(1);
                json!({ "file": path, "error": e, "ok": false })
            }
        };
        println!("{line}");
    }
    status
}
