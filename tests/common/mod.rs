//! Helpers shared by the end-to-end tests: where the repository is, a command's output checked,
//! a folder read as a tree.
#![allow(dead_code, unused_imports)] // each test file uses a part

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The rollcall binary under test, in a clean environment (no `RUST_LOG`, no `ROLLCALL_LANG`):
/// what it prints is what a user sees.
pub fn rollcall() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_rollcall"));
    c.env_remove("RUST_LOG").env_remove("ROLLCALL_LANG");
    c
}

/// Runs rollcall with `args` to its end.
pub fn run(args: &[&str]) -> Output {
    rollcall().args(args).output().expect("run rollcall")
}

/// The repository's root.
pub fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The public-domain frames the repository ships.
pub fn frames_dir() -> PathBuf {
    repo().join("crates/pipeline/tests/data/pd/frames")
}

/// A command's stdout, after checking it succeeded (its output in the message if not).
pub fn ok(out: &Output) -> String {
    assert!(
        out.status.success(),
        "status {:?}\nstdout: {}\nstderr: {}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout.clone()).expect("UTF-8 output")
}

/// Every file below `dir`.
pub fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    if let Ok(entries) = std::fs::read_dir(dir) {
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() {
                out.extend(walk(&p));
            } else {
                out.push(p);
            }
        }
    }
    out.sort();
    out
}

/// Every file below `dir` by its relative path, with its bytes.
pub fn tree(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    walk(dir)
        .into_iter()
        .map(|p| {
            let rel = p
                .strip_prefix(dir)
                .unwrap_or(&p)
                .to_string_lossy()
                .into_owned();
            let bytes = std::fs::read(&p).unwrap_or_default();
            (rel, bytes)
        })
        .collect()
}

pub use testkit::with_check_digit;

/// libgphoto2's virtual camera (scripts/build-vcamera): its iolibs folder, or `None` off CI
/// when it has not been built (the test is then skipped, saying so).
pub fn vcamera_iolibs() -> Option<PathBuf> {
    let dir = repo().join("target/vcamera/iolibs");
    testkit::require(
        dir.join("vusb.so").exists(),
        "libgphoto2's virtual camera is not built (scripts/build-vcamera)",
    )
    .then(|| dir.canonicalize().ok())
    .flatten()
}

/// The photographer presses the shutter of the virtual camera: press number `n`, a file in
/// its `VCAMERA_PRESSES` folder naming the images the camera writes (two: RAW+JPEG), renamed
/// in whole so the camera never reads half of it.
pub fn vcamera_press(presses: &Path, n: u32, images: &[&Path]) {
    let tmp = presses.join(format!(".{n}.tmp"));
    let text: String = images
        .iter()
        .map(|f| format!("{}\n", f.display()))
        .collect();
    std::fs::write(&tmp, text).expect("write a press");
    std::fs::rename(&tmp, presses.join(format!("{n:08}"))).expect("rename a press");
}
