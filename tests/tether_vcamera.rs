#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! `rollcall tether` against libgphoto2's own virtual camera (built by scripts/build-vcamera):
//! the real binary, the real libgphoto2, a photographer pressing the shutter (a file in
//! VCAMERA_PRESSES) and pulling the cable (VCAMERA_UNPLUG). The virtual camera lives inside the
//! rollcall process, so every test runs its own process.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdout, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use serde_json::Value;

fn iolibs() -> Option<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/vcamera/iolibs");
    if dir.join("vusb.so").exists() {
        return Some(dir.canonicalize().unwrap());
    }
    assert!(
        std::env::var_os("CI").is_none(),
        "CI must build the virtual camera first (scripts/build-vcamera)"
    );
    eprintln!("skipping: run scripts/build-vcamera to test against the virtual camera");
    None
}

/// A virtual camera's world: its card, the photographer's presses, the cable, a private HOME.
struct VCam {
    root: tempfile::TempDir,
    iolibs: PathBuf,
    images: u32,
}

impl VCam {
    fn new() -> Option<VCam> {
        let iolibs = iolibs()?;
        let root = tempfile::tempdir().unwrap();
        for d in ["card/DCIM/100NIKON", "presses", "home", "images"] {
            std::fs::create_dir_all(root.path().join(d)).unwrap();
        }
        // An old photo already on the card: it must not be downloaded.
        std::fs::write(
            root.path().join("card/DCIM/100NIKON/DSC_0500.JPG"),
            b"old photo",
        )
        .unwrap();
        Some(VCam {
            root,
            iolibs,
            images: 0,
        })
    }

    fn path(&self, p: &str) -> PathBuf {
        self.root.path().join(p)
    }

    fn spool(&self) -> PathBuf {
        self.path("spool")
    }

    /// A new image with unique bytes, as the camera would write it.
    fn image(&mut self, ext: &str) -> PathBuf {
        self.images += 1;
        let path = self.path(&format!("images/{:04}.{ext}", self.images));
        let mut bytes = format!("image {} ", self.images).into_bytes();
        bytes.extend((0..20_000u32).map(|i| (i.wrapping_mul(self.images * 7919) >> 3) as u8));
        std::fs::write(&path, bytes).unwrap();
        path
    }

    /// The photographer presses the shutter; the camera writes these files.
    fn press(&mut self, files: &[&Path]) {
        let n = std::fs::read_dir(self.path("presses")).unwrap().count() + self.images as usize;
        let tmp = self.path(&format!("presses/.{n}.tmp"));
        let text: String = files.iter().map(|f| format!("{}\n", f.display())).collect();
        std::fs::write(&tmp, text).unwrap();
        std::fs::rename(&tmp, self.path(&format!("presses/{n:08}"))).unwrap();
    }

    fn unplug(&self) {
        std::fs::write(self.path("unplugged"), b"").unwrap();
    }

    fn replug(&self) {
        std::fs::remove_file(self.path("unplugged")).unwrap();
    }

    fn command(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_rollcall"));
        cmd.args(args)
            .env("IOLIBS", &self.iolibs)
            .env("VCAMERADIR", self.path("card"))
            .env("VCAMERA_PRESSES", self.path("presses"))
            .env("VCAMERA_UNPLUG", self.path("unplugged"))
            .env("HOME", self.path("home"))
            .env("RUST_LOG", "warn");
        cmd
    }

    fn tether(&self, extra: &[&str]) -> Tether {
        let spool = self.spool();
        let mut args = vec!["tether", "--json", "--spool", spool.to_str().unwrap()];
        args.extend_from_slice(extra);
        let mut child = self
            .command(&args)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let lines = reader(child.stdout.take().unwrap());
        Tether { child, lines }
    }
}

fn reader(stdout: ChildStdout) -> mpsc::Receiver<Value> {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            let value: Value =
                serde_json::from_str(&line).unwrap_or_else(|e| panic!("{e}: {line}"));
            if tx.send(value).is_err() {
                break;
            }
        }
    });
    rx
}

struct Tether {
    child: Child,
    lines: mpsc::Receiver<Value>,
}

impl Tether {
    /// Waits for the next event matching `pred` (a generous limit: this is not a speed test).
    fn wait_for(&self, what: &str, pred: impl Fn(&Value) -> bool) -> Value {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(v) if pred(&v) => return v,
                Ok(_) => continue,
                Err(_) => panic!("no {what} within 30 s"),
            }
        }
    }

    fn connected(&self) -> Value {
        self.wait_for("connected status", |v| v["status"] == "connected")
    }

    fn frames(&self, n: usize) -> Vec<Value> {
        (0..n)
            .map(|_| self.wait_for("frame", |v| v["event"] == "frame"))
            .collect()
    }

    fn stop(mut self) {
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        let status = self.child.wait().unwrap();
        assert!(status.success(), "tether exits 0 on SIGTERM: {status:?}");
    }
}

impl Drop for Tether {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn spool_files(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| !p.file_name().unwrap().to_string_lossy().starts_with('.'))
        .collect();
    files.sort();
    files
}

#[test]
fn a_hundred_presses_give_a_hundred_identical_spool_files() {
    let Some(mut cam) = VCam::new() else { return };
    let tether = cam.tether(&[]);
    tether.connected();
    let images: Vec<PathBuf> = (0..100).map(|_| cam.image("JPG")).collect();
    for image in &images {
        cam.press(&[image]);
    }
    let frames = tether.frames(100);
    for (frame, image) in frames.iter().zip(&images) {
        let path = PathBuf::from(frame["path"].as_str().unwrap());
        assert_eq!(
            std::fs::read(&path).unwrap(),
            std::fs::read(image).unwrap(),
            "{frame}"
        );
        assert_eq!(frame["kind"], "jpeg");
    }
    let files = spool_files(&cam.spool());
    assert_eq!(
        files.len(),
        100,
        "one spool file per press, the old card photo not among them"
    );
    assert!(files.iter().all(|f| f.extension().unwrap() == "jpg"));
    tether.stop();
}

#[test]
fn reconnects_after_a_cable_pull_and_never_overwrites_a_reused_name() {
    let Some(mut cam) = VCam::new() else { return };
    let tether = cam.tether(&[]);
    tether.connected();
    let first = [cam.image("JPG"), cam.image("JPG")];
    cam.press(&[&first[0]]);
    cam.press(&[&first[1]]);
    let before = tether.frames(2);
    assert!(
        before[0]["camera_path"]
            .as_str()
            .unwrap()
            .ends_with("DSC_0001.JPG")
    );

    cam.unplug();
    let status = tether.wait_for("disconnected status", |v| v["status"] == "disconnected");
    assert!(status["reason"].is_string());
    std::thread::sleep(Duration::from_millis(500));
    cam.replug();
    tether.connected();

    // The camera starts its numbering again: DSC_0001 once more.
    let second = [cam.image("JPG"), cam.image("JPG")];
    cam.press(&[&second[0]]);
    cam.press(&[&second[1]]);
    let after = tether.frames(2);
    assert!(
        after[0]["camera_path"]
            .as_str()
            .unwrap()
            .ends_with("DSC_0001.JPG")
    );
    let all: Vec<_> = before.iter().chain(&after).collect();
    for (frame, image) in all.iter().zip(first.iter().chain(&second)) {
        assert_eq!(
            std::fs::read(frame["path"].as_str().unwrap()).unwrap(),
            std::fs::read(image).unwrap()
        );
    }
    assert_eq!(spool_files(&cam.spool()).len(), 4);
    tether.stop();
}

#[test]
fn software_trigger_takes_a_frame() {
    let Some(cam) = VCam::new() else { return };
    let tether = cam.tether(&[]);
    tether.connected();
    let spool = cam.spool();
    let out = cam
        .command(&["tether", "--spool", spool.to_str().unwrap(), "--trigger"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let frame = tether.wait_for("frame", |v| v["event"] == "frame");
    assert!(
        std::fs::metadata(frame["path"].as_str().unwrap())
            .unwrap()
            .len()
            > 0
    );
    tether.stop();
}

#[test]
fn raw_and_jpeg_of_one_press_are_one_capture() {
    let Some(mut cam) = VCam::new() else { return };
    let tether = cam.tether(&[]);
    tether.connected();
    let (jpg, raw) = (cam.image("JPG"), cam.image("DNG"));
    cam.press(&[&jpg, &raw]);
    let next = cam.image("JPG");
    cam.press(&[&next]);
    let frames = tether.frames(3);
    assert_eq!(frames[0]["capture"], frames[1]["capture"]);
    assert_ne!(frames[1]["capture"], frames[2]["capture"]);
    let kinds: Vec<_> = frames.iter().map(|f| f["kind"].as_str().unwrap()).collect();
    assert_eq!(kinds, ["jpeg", "raw", "jpeg"]);
    assert!(frames[1]["path"].as_str().unwrap().ends_with(".dng"));
    tether.stop();
}

#[test]
fn trigger_without_a_running_tether_says_so() {
    let Some(cam) = VCam::new() else { return };
    let spool = cam.spool();
    std::fs::create_dir_all(&spool).unwrap();
    let out = cam
        .command(&["tether", "--spool", spool.to_str().unwrap(), "--trigger"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no tether running"));
}

#[test]
fn cameras_lists_the_virtual_camera() {
    let Some(cam) = VCam::new() else { return };
    let out = cam.command(&["cameras", "--json"]).output().unwrap();
    assert!(out.status.success());
    let list: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(list[0]["model"], "Nikon DSC D750");
    assert_eq!(list[0]["port"], "usb:001,001");
    cam.unplug();
    let out = cam.command(&["cameras", "--json"]).output().unwrap();
    let list: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(list.as_array().unwrap().len(), 0, "unplugged: {list}");
}
