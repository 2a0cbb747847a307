//! `rollcall photo`: frames in, standard photos out, with a verdict per check. Inputs are
//! processed on `--jobs` threads; an unreadable input never stops the others.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, mpsc};

use crate::{lang, say};

use anyhow::{Context, Result, bail};
use clap::Args;
use pipeline::{Profile, Report, Verdict};
use serde_json::{Value, json};

#[derive(Debug, Args)]
pub struct PhotoArgs {
    /// Frames (JPEG; PNG works too) or folders of frames.
    #[arg(required = true, value_name = "FILE|DIR")]
    inputs: Vec<PathBuf>,

    /// Where passed photos are written as `<input stem>.jpg` (created owner-only).
    #[arg(long, value_name = "DIR")]
    out: PathBuf,

    /// Photo standard: `358x441` (default), `236x295`, or a TOML file replacing any of the
    /// default profile's keys.
    #[arg(long, value_name = "NAME|FILE", default_value = pipeline::spec::DEFAULT_PROFILE)]
    profile: String,

    /// One JSON object per input, one per line.
    #[arg(long)]
    json: bool,

    /// Worker threads (default: the number of cores).
    #[arg(long, value_name = "N")]
    jobs: Option<usize>,

    /// Also write an annotated picture per frame here (eyes, crop box).
    #[arg(long, value_name = "DIR")]
    debug: Option<PathBuf>,
}

fn collect(inputs: &[PathBuf]) -> Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    for input in inputs {
        if input.is_dir() {
            let mut files: Vec<PathBuf> = std::fs::read_dir(input)
                .with_context(|| format!("reading folder {}", input.display()))?
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| {
                    p.is_file()
                        && !p
                            .file_name()
                            .is_some_and(|n| n.to_string_lossy().starts_with('.'))
                })
                .collect();
            files.sort();
            out.extend(files);
        } else if input.exists() {
            out.push(input.clone());
        } else {
            bail!(say(
                format!("找不到文件 {}", input.display()),
                format!("cannot open {}", input.display()),
            ));
        }
    }
    Ok(out)
}

struct Outcome {
    input: PathBuf,
    result: Result<(Report, Option<PathBuf>), String>,
}

fn process_one(input: &Path, profile: &Profile, out: &Path, debug: Option<&Path>) -> Outcome {
    let result = (|| {
        let bytes = std::fs::read(input).map_err(|e| format!("cannot read: {e}"))?;
        let report = pipeline::process(&bytes, profile).map_err(|e| format!("{} ({e})", e.zh()))?;
        let stem = input
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_else(|| "photo".into());
        let mut written = None;
        if report.verdict == Verdict::Pass
            && let Some(photo) = &report.photo
        {
            let path = out.join(format!("{stem}.jpg"));
            let tmp = out.join(format!(".{stem}.jpg.part"));
            std::fs::write(&tmp, photo)
                .and_then(|()| std::fs::rename(&tmp, &path))
                .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
            written = Some(path);
        }
        if let Some(dir) = debug
            && let Err(e) =
                crate::photo_debug::write(&bytes, &report, &dir.join(format!("{stem}.debug.jpg")))
        {
            tracing::warn!(error = %e, "debug picture not written");
        }
        Ok((report, written))
    })();
    Outcome {
        input: input.to_path_buf(),
        result,
    }
}

fn to_json(o: &Outcome) -> Value {
    match &o.result {
        Ok((r, written)) => json!({
            "input": o.input.display().to_string(),
            "verdict": r.verdict,
            "output": written.as_ref().map(|p| p.display().to_string()),
            "reasons": r.reasons_in(lang()),
            "checks": r.checks,
            "face": r.face,
            "source": r.source,
            "quality": r.quality,
            "warnings": r.warnings,
            "timings_ms": r.timings_ms,
        }),
        Err(e) => json!({
            "input": o.input.display().to_string(),
            "verdict": "error",
            "output": null,
            "reasons": [e],
            "checks": [],
        }),
    }
}

fn human(o: &Outcome) -> String {
    let name = o.input.display();
    match &o.result {
        Ok((_, Some(path))) => format!("{} {name} → {}", say("通过", "pass  "), path.display()),
        Ok((r, None)) => format!(
            "{} {name}: {}",
            say("重拍", "retake"),
            r.reasons_in(lang()).join(&say("；", "; "))
        ),
        Err(e) => format!("{} {name}: {e}", say("错误", "error ")),
    }
}

pub fn run(args: PhotoArgs) -> Result<ExitCode> {
    let profile = kit::load_profile(&args.profile)?;
    let inputs = collect(&args.inputs)?;
    tether::spool::create_private_dir(&args.out)
        .with_context(|| format!("creating {}", args.out.display()))?;
    if let Some(d) = &args.debug {
        tether::spool::create_private_dir(d)
            .with_context(|| format!("creating {}", d.display()))?;
    }
    pipeline::detect::warm_up().context("loading the face models")?;
    let jobs = args
        .jobs
        .unwrap_or_else(|| {
            std::thread::available_parallelism()
                .map(usize::from)
                .unwrap_or(1)
        })
        .clamp(1, 64);
    let next = AtomicUsize::new(0);
    let (tx, rx) = mpsc::channel();
    let all_ok = Mutex::new(true);
    std::thread::scope(|scope| -> Result<()> {
        for _ in 0..jobs.min(inputs.len().max(1)) {
            let tx = tx.clone();
            let (inputs, next, profile, args) = (&inputs, &next, &profile, &args);
            scope.spawn(move || {
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(input) = inputs.get(i) else { break };
                    let outcome = process_one(input, profile, &args.out, args.debug.as_deref());
                    if tx.send(outcome).is_err() {
                        break;
                    }
                }
            });
        }
        drop(tx);
        for outcome in rx {
            let ok = matches!(&outcome.result, Ok((r, _)) if r.verdict == Verdict::Pass);
            if !ok && let Ok(mut all) = all_ok.lock() {
                *all = false;
            }
            let line = if args.json {
                serde_json::to_string(&to_json(&outcome))?
            } else {
                human(&outcome)
            };
            crate::emit(&format!("{line}\n"))?;
        }
        Ok(())
    })?;
    let all_ok = all_ok.lock().map(|g| *g).unwrap_or(false);
    Ok(if all_ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}
