#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! `rollcall tether` against libgphoto2's own virtual camera (built by scripts/build-vcamera):
//! the real binary, the real libgphoto2, a photographer pressing the shutter (a file in
//! VCAMERA_PRESSES) and pulling the cable (VCAMERA_UNPLUG). The virtual camera lives inside the
//! rollcall process, so every test runs its own process.

mod common;

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdout, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use serde_json::Value;

/// A virtual camera's world: its card, the photographer's presses, the cable, a private HOME.
struct VCam {
    root: tempfile::TempDir,
    iolibs: PathBuf,
    images: u32,
    presses: u32,
}

impl VCam {
    fn new() -> Option<VCam> {
        let iolibs = common::vcamera_iolibs()?;
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
            presses: 0,
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
        self.image_of_size(ext, 20_000)
    }

    fn image_of_size(&mut self, ext: &str, size: u32) -> PathBuf {
        self.images += 1;
        let path = self.path(&format!("images/{:04}.{ext}", self.images));
        let mut bytes = format!("image {} ", self.images).into_bytes();
        bytes.extend((0..size).map(|i| (i.wrapping_mul(self.images * 7919) >> 3) as u8));
        std::fs::write(&path, bytes).unwrap();
        path
    }

    /// The photographer presses the shutter; the camera writes these files.
    fn press(&mut self, files: &[&Path]) {
        self.presses += 1;
        common::vcamera_press(&self.path("presses"), self.presses, files);
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
        self.tether_numbered(extra, None)
    }

    /// A tether whose camera numbers its files from `first` (VCAMERA_FIRST).
    fn tether_numbered(&self, extra: &[&str], first: Option<&str>) -> Tether {
        let spool = self.spool();
        let mut args = vec!["tether", "--json", "--spool", spool.to_str().unwrap()];
        args.extend_from_slice(extra);
        let mut cmd = self.command(&args);
        if let Some(first) = first {
            cmd.env("VCAMERA_FIRST", first);
        }
        let mut child = cmd
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
        self.wait_for("connected status", |v| v["state"] == "connected")
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
    let status = tether.wait_for("disconnected status", |v| v["state"] == "disconnected");
    assert!(status["message"].is_string());
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
    // The control socket also tells the console the camera's state.
    use std::io::{BufRead, BufReader, Write};
    let mut socket =
        std::os::unix::net::UnixStream::connect(tether::control::socket(&spool)).unwrap();
    let request = serde_json::to_string(&tether::control::Request::Status).unwrap();
    socket.write_all(format!("{request}\n").as_bytes()).unwrap();
    let mut line = String::new();
    BufReader::new(&socket).read_line(&mut line).unwrap();
    match serde_json::from_str(&line).unwrap() {
        tether::control::Reply::Status {
            status: tether::Status::Connected { model, .. },
        } => assert!(model.contains("Nikon"), "{line}"),
        other => panic!("not connected: {other:?}"),
    }
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
    assert!(String::from_utf8_lossy(&out.stderr).contains("没有正在运行的联机拍摄"));
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

/// The contents of every final spool file (no `.part`): each must be a whole image.
fn spool_contents(spool: &Path) -> Vec<Vec<u8>> {
    spool_files(spool)
        .iter()
        .filter(|p| !p.to_string_lossy().ends_with(".part"))
        .map(|p| std::fs::read(p).unwrap())
        .collect()
}

#[test]
fn sigkill_during_downloads_loses_nothing_and_shows_no_partial_file() {
    let Some(mut cam) = VCam::new() else { return };
    // Big frames, so that downloads are still going on when the process is killed.
    let images: Vec<PathBuf> = (0..40)
        .map(|_| cam.image_of_size("JPG", 3_000_000))
        .collect();
    let mut interrupted = 0;
    let wanted: std::collections::BTreeSet<Vec<u8>> =
        images.iter().map(|i| std::fs::read(i).unwrap()).collect();
    // Three kills at different moments; presses keep coming between them.
    for (round, chunk) in images.chunks(14).enumerate() {
        // Numbering restarts with each process; keep the card's names apart.
        let first = (1 + round * 100).to_string();
        let tether = cam.tether_numbered(&[], Some(&first));
        tether.connected();
        for image in chunk {
            cam.press(&[image]);
        }
        // Kill while this round's frames are still arriving (not on a frame the start-up
        // catch-up fetched from the round before).
        let prefix = format!("DSC_0{round}");
        tether.wait_for("frame of this round", |v| {
            v["event"] == "frame" && v["camera_path"].as_str().unwrap().contains(&prefix)
        });
        let mut tether = tether;
        tether.child.kill().unwrap();
        tether.child.wait().unwrap();
        let contents = spool_contents(&cam.spool());
        for content in &contents {
            assert!(
                wanted.contains(content),
                "a final spool file is not a whole image"
            );
        }
        let pressed = images
            .chunks(14)
            .take(round + 1)
            .map(<[PathBuf]>::len)
            .sum::<usize>();
        let distinct: std::collections::BTreeSet<&Vec<u8>> = contents.iter().collect();
        if distinct.len() < pressed {
            interrupted += 1;
        }
    }
    assert!(
        interrupted > 0,
        "no kill happened while frames were still coming: nothing was tested"
    );
    // A last run fetches what the card still holds that never reached the spool. (A camera
    // in card mode never reuses a name that is on the card: start its numbering past them.)
    let tether = cam.tether_numbered(&[], Some("901"));
    tether.connected();
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let have: std::collections::BTreeSet<Vec<u8>> =
            spool_contents(&cam.spool()).into_iter().collect();
        if wanted.is_subset(&have) {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "missing {} of {} frames\nledger:\n{}\ncard: {:?}",
            wanted.difference(&have).count(),
            wanted.len(),
            std::fs::read_to_string(cam.spool().join(".camera-ledger.log")).unwrap_or_default(),
            std::fs::read_dir(cam.path("card/DCIM/100NIKON"))
                .unwrap()
                .map(|e| e.unwrap().file_name())
                .collect::<Vec<_>>()
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    tether.stop();
}

#[test]
fn internal_ram_mode_deletes_from_the_camera_only_after_storing() {
    let Some(mut cam) = VCam::new() else { return };
    let tether = cam.tether(&["--capture-target", "ram"]);
    tether.connected();
    let image = cam.image("JPG");
    cam.press(&[&image]);
    let frame = tether.wait_for("frame", |v| v["event"] == "frame");
    assert_eq!(
        std::fs::read(frame["path"].as_str().unwrap()).unwrap(),
        std::fs::read(&image).unwrap()
    );
    // Gone from the card once safe in the spool; the old photo stays.
    let card = cam.path("card/DCIM/100NIKON");
    let deadline = Instant::now() + Duration::from_secs(10);
    while card.join("DSC_0001.JPG").exists() {
        assert!(Instant::now() < deadline, "not deleted from the camera");
        std::thread::sleep(Duration::from_millis(100));
    }
    assert!(card.join("DSC_0500.JPG").exists());
    tether.stop();

    // --keep-on-card: nothing is deleted.
    let tether = cam.tether(&["--capture-target", "ram", "--keep-on-card"]);
    tether.connected();
    let image = cam.image("JPG");
    cam.press(&[&image]);
    tether.wait_for("frame", |v| v["event"] == "frame");
    tether.stop();
    assert!(card.join("DSC_0001.JPG").exists());
}

#[test]
fn names_wrapping_after_9999_are_new_frames() {
    let Some(mut cam) = VCam::new() else { return };
    let tether = cam.tether_numbered(&["--capture-target", "ram"], Some("9998"));
    tether.connected();
    let images: Vec<PathBuf> = (0..4).map(|_| cam.image("JPG")).collect();
    // One press at a time, as in a shoot: a camera never holds two files of one name.
    let mut frames = Vec::new();
    for image in &images {
        cam.press(&[image]);
        frames.extend(tether.frames(1));
    }
    let names: Vec<&str> = frames
        .iter()
        .map(|f| {
            f["camera_path"]
                .as_str()
                .unwrap()
                .rsplit('/')
                .next()
                .unwrap()
        })
        .collect();
    assert_eq!(
        names,
        [
            "DSC_9998.JPG",
            "DSC_9999.JPG",
            "DSC_9998.JPG",
            "DSC_9999.JPG"
        ]
    );
    for (frame, image) in frames.iter().zip(&images) {
        assert_eq!(
            std::fs::read(frame["path"].as_str().unwrap()).unwrap(),
            std::fs::read(image).unwrap()
        );
    }
    tether.stop();
}

#[test]
fn settings_capture_target_and_a_read_only_image_size_is_reported() {
    let Some(cam) = VCam::new() else { return };
    let tether = cam.tether(&["--capture-target", "card", "--image-size", "small"]);
    // The virtual D750's image size is read-only: the operator is told to set it on the body.
    let error = tether.wait_for("error status", |v| v["state"] == "error");
    assert!(
        error["message"].as_str().unwrap().contains("imagesize"),
        "{error}"
    );
    assert!(
        error["remedy"].as_str().unwrap().contains("相机"),
        "{error}"
    );
    tether.connected();
    tether.stop();
    // libgphoto2 keeps the capture target in its host-side settings ($HOME is private here).
    let settings = std::fs::read_to_string(cam.path("home/.gphoto/settings")).unwrap();
    assert!(settings.contains("capturetarget=card"), "{settings}");
}

#[test]
fn folder_source_copies_each_finished_file_once_and_leaves_the_source_alone() {
    let Some(mut cam) = VCam::new() else { return };
    let source = cam.path("card-reader/DCIM/100CANON");
    std::fs::create_dir_all(&source).unwrap();
    let source_root = cam.path("card-reader");
    let tether = cam.tether(&["--folder", source_root.to_str().unwrap()]);
    tether.connected();
    let a = cam.image("JPG");
    std::fs::copy(&a, source.join("IMG_0001.JPG")).unwrap();
    // A file still being written (.part) and a hidden file are not frames.
    std::fs::write(source.join("IMG_0002.JPG.part"), b"half").unwrap();
    std::fs::write(source.join(".DS_Store"), b"x").unwrap();
    let frame = tether.wait_for("frame", |v| v["event"] == "frame");
    assert_eq!(
        std::fs::read(frame["path"].as_str().unwrap()).unwrap(),
        std::fs::read(&a).unwrap()
    );
    assert!(
        frame["camera_path"]
            .as_str()
            .unwrap()
            .ends_with("IMG_0001.JPG")
    );
    let b = cam.image("JPG");
    std::fs::copy(&b, source.join("IMG_0002.JPG")).unwrap();
    let frame = tether.wait_for("frame", |v| v["event"] == "frame");
    assert_eq!(
        std::fs::read(frame["path"].as_str().unwrap()).unwrap(),
        std::fs::read(&b).unwrap()
    );
    tether.stop();
    assert!(
        source.join("IMG_0001.JPG").exists(),
        "the source is never changed"
    );

    // After a restart nothing is imported twice.
    let tether = cam.tether(&["--folder", source_root.to_str().unwrap()]);
    tether.connected();
    let c = cam.image("JPG");
    std::fs::copy(&c, source.join("IMG_0003.JPG")).unwrap();
    let frame = tether.wait_for("frame", |v| v["event"] == "frame");
    assert!(
        frame["camera_path"]
            .as_str()
            .unwrap()
            .ends_with("IMG_0003.JPG"),
        "{frame}"
    );
    tether.stop();
    assert_eq!(spool_files(&cam.spool()).len(), 3);
}

#[test]
fn only_the_configured_camera_is_used() {
    let Some(cam) = VCam::new() else { return };
    let tether = cam.tether(&["--camera", "Canon EOS"]);
    let status = tether.wait_for("disconnected status", |v| v["state"] == "disconnected");
    assert!(
        status["message"].as_str().unwrap().contains("no camera"),
        "{status}"
    );
    tether.stop();
    let tether = cam.tether(&["--camera", "D750"]);
    let connected = tether.connected();
    assert!(
        connected["model"]
            .as_str()
            .unwrap()
            .starts_with("Nikon DSC D750")
    );
    tether.stop();
}
