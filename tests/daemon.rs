#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! `rollcall daemon` as a field kit runs it: a real process, libgphoto2's virtual camera, a
//! roster of two classes, the console's API as the operator; a whole photo day with an absent
//! student, a retake, a cable pull, a roster correction, a SIGKILL and a restart, then `pack`
//! and `verify`. Also: the sd_notify protocol against a socket this test listens on, the
//! systemd kit (`systemd-analyze verify`), `rollcall config check`, `rollcall demo`, two kits
//! reporting to one office (a real PostgreSQL) through an outage, and the press-to-verdict
//! benchmark (ignored; `scripts/bench-daemon` runs it).

mod common;
use common::rollcall;

use std::collections::{BTreeMap, BTreeSet};
use std::os::unix::net::UnixDatagram;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::{frames_dir, ok, repo, tree};
use serde_json::{Value, json};

const SCHOOL: &str = "梧州市端到端中学";
const CLASS1: &str = "初一(1)班";
const CLASS2: &str = "初一(2)班";

/// A valid 18-digit ID number for a child born 2013-01-01.
fn id(seq: u32) -> String {
    common::with_check_digit(&format!("45042120130101{seq:03}"))
}

fn write_class(dir: &Path, class: &str, students: &[(&str, &str)]) {
    let mut text = String::from("序号,姓名,性别,身份证号码\n");
    for (i, (name, id)) in students.iter().enumerate() {
        text.push_str(&format!("{},{name},男,{id}\n", i + 1));
    }
    std::fs::write(dir.join(format!("{class}.csv")), text).unwrap();
}

/// The world of one photo day: the camera's card and presses, the data folder, the rosters.
struct Day {
    root: tempfile::TempDir,
    iolibs: Option<PathBuf>,
    presses: u32,
    config: PathBuf,
}

impl Day {
    fn new(iolibs: Option<PathBuf>, source: &str, extra: &str) -> Day {
        Day::for_school(SCHOOL, iolibs, source, extra)
    }

    fn for_school(school: &str, iolibs: Option<PathBuf>, source: &str, extra: &str) -> Day {
        let root = tempfile::tempdir().unwrap();
        for d in ["card/DCIM/100NIKON", "presses", "images", "home", "roster"] {
            std::fs::create_dir_all(root.path().join(d)).unwrap();
        }
        let config = root.path().join("rollcall.toml");
        let text = format!(
            "data = {:?}\nroster = [{:?}]\njobs = 2\n{extra}\n[camera]\nsource = \"{source}\"\n\n[console]\nlisten = \"127.0.0.1:0\"\n",
            root.path().join("data").display().to_string(),
            root.path()
                .join("roster")
                .join(school)
                .display()
                .to_string(),
        );
        std::fs::write(&config, text).unwrap();
        Day {
            root,
            iolibs,
            presses: 0,
            config,
        }
    }

    fn path(&self, p: &str) -> PathBuf {
        self.root.path().join(p)
    }

    fn data(&self) -> PathBuf {
        self.path("data")
    }

    /// The photographer presses the shutter: the camera writes `image` (a unique shot of
    /// it) onto its card. Returns the bytes the camera wrote.
    fn press(&mut self, image: &Path) -> Vec<u8> {
        self.presses += 1;
        let n = self.presses;
        let bytes = tether::demo::unique_shot(&std::fs::read(image).unwrap(), u64::from(n));
        let shot = self.path(&format!("images/{n:04}.JPG"));
        std::fs::write(&shot, &bytes).unwrap();
        common::vcamera_press(&self.path("presses"), n, &[&shot]);
        bytes
    }

    fn daemon(&self, log: &str, env: &[(&str, &str)]) -> Daemon {
        let mut cmd = rollcall();
        cmd.args(["daemon", "--config"])
            .arg(&self.config)
            .env("RUST_LOG", "info")
            .env("HOME", self.path("home"))
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(self.path(log)).unwrap());
        if let Some(iolibs) = &self.iolibs {
            cmd.env("IOLIBS", iolibs)
                .env("VCAMERADIR", self.path("card"))
                .env("VCAMERA_PRESSES", self.path("presses"))
                .env("VCAMERA_UNPLUG", self.path("unplugged"));
        }
        for (k, v) in env {
            cmd.env(k, v);
        }
        let _ = std::fs::remove_file(self.data().join("console.json"));
        let child = cmd.spawn().unwrap();
        let mut daemon = Daemon {
            child,
            api: None,
            log: self.path(log),
        };
        daemon.connect(&self.data());
        daemon
    }
}

/// The console's API, as the page uses it.
struct Api {
    base: String,
    csrf: String,
    agent: ureq::Agent,
}

impl Api {
    fn get(&self, path: &str) -> Value {
        self.agent
            .get(format!("{}{path}", self.base))
            .call()
            .unwrap()
            .body_mut()
            .read_json()
            .unwrap()
    }

    fn post(&self, path: &str, body: Value) -> (u16, Value) {
        let mut r = self
            .agent
            .post(format!("{}{path}", self.base))
            .header("x-rollcall-csrf", &self.csrf)
            .send_json(&body)
            .unwrap();
        let status = r.status().as_u16();
        (status, r.body_mut().read_json().unwrap_or(Value::Null))
    }

    fn command(&self, body: Value) -> Value {
        let (status, answer) = self.post("/api/command", body.clone());
        assert_eq!(status, 200, "{body}: {answer}");
        answer
    }

    fn state(&self) -> Value {
        self.get("/api/state")
    }
}

struct Daemon {
    child: Child,
    api: Option<Api>,
    log: PathBuf,
}

impl Daemon {
    fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    fn connect(&mut self, data: &Path) {
        let deadline = Instant::now() + Duration::from_secs(60);
        let info = loop {
            if let Ok(text) = std::fs::read_to_string(data.join("console.json"))
                && let Ok(v) = serde_json::from_str::<Value>(&text)
            {
                break v;
            }
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!("the daemon stopped ({status}):\n{}", self.log());
            }
            assert!(Instant::now() < deadline, "no console:\n{}", self.log());
            std::thread::sleep(Duration::from_millis(50));
        };
        let base = info["base"]
            .as_str()
            .unwrap()
            .trim_end_matches('/')
            .to_string();
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .build()
            .into();
        let response = agent.get(format!("{base}/api/state")).call().unwrap();
        let csrf = response.headers()["x-rollcall-csrf"]
            .to_str()
            .unwrap()
            .to_string();
        self.api = Some(Api { base, csrf, agent });
    }

    fn api(&self) -> &Api {
        self.api.as_ref().unwrap()
    }

    fn wait(&self, what: &str, pred: impl Fn(&Api) -> bool) {
        let deadline = Instant::now() + Duration::from_secs(60);
        while !pred(self.api()) {
            assert!(
                Instant::now() < deadline,
                "no {what} within 60 s; state {}\nlog:\n{}",
                self.api().state(),
                self.log()
            );
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    fn camera(&self, state: &str) {
        self.wait(&format!("camera {state}"), |api| {
            api.get("/api/camera")["state"] == state
        });
    }

    /// Waits for frame `n` to be recorded.
    fn frame_arrived(&self, n: u64) {
        self.wait(&format!("frame {n}"), |api| {
            api.state()["frames"].as_u64().unwrap_or(0) >= n
        });
    }

    /// Waits for frame `n`'s verdict; returns the console's `last`.
    fn verdict(&self, n: u64) -> Value {
        self.wait(&format!("verdict of frame {n}"), |api| {
            let s = api.state();
            s["frames"].as_u64().unwrap_or(0) >= n
                && s["last"]["frame"] == n
                && s["last"]["verdict"] != "processing"
        });
        self.api().state()["last"].clone()
    }

    fn signal(&self, signal: nix::sys::signal::Signal) {
        let pid = nix::unistd::Pid::from_raw(self.child.id() as i32);
        nix::sys::signal::kill(pid, signal).unwrap();
    }

    fn terminate(mut self) -> String {
        self.signal(nix::sys::signal::Signal::SIGTERM);
        let status = self.child.wait().unwrap();
        assert!(
            status.success(),
            "SIGTERM → exit 0: {status}\n{}",
            self.log()
        );
        self.log()
    }

    fn kill(mut self) -> String {
        self.child.kill().unwrap();
        self.child.wait().unwrap();
        self.log()
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn frame(name: &str) -> PathBuf {
    frames_dir().join(name)
}

/// What `rollcall photo` makes of these bytes: the photo a filed frame must be.
fn expected_photo(bytes: &[u8]) -> Vec<u8> {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("shot.jpg");
    std::fs::write(&input, bytes).unwrap();
    let out = dir.path().join("out");
    ok(&rollcall()
        .arg("photo")
        .arg(&input)
        .arg("--out")
        .arg(&out)
        .output()
        .unwrap());
    std::fs::read(out.join("shot.jpg")).unwrap()
}

#[test]
fn a_photo_day_with_the_virtual_camera_survives_a_cable_pull_a_correction_and_a_kill() {
    let Some(iolibs) = common::vcamera_iolibs() else {
        return;
    };
    let mut day = Day::new(Some(iolibs), "camera", "");
    let roster_dir = day.path("roster").join(SCHOOL);
    std::fs::create_dir_all(&roster_dir).unwrap();
    let ids: Vec<String> = (1..=6).map(|i| id(i * 2 + 1)).collect();
    write_class(
        &roster_dir,
        CLASS1,
        &[
            ("覃思远", &ids[0]),
            ("莫家俊", &ids[1]),
            ("蒙晓彤", &ids[2]),
        ],
    );
    let class2 = |d_name: &str| {
        write_class(
            &roster_dir,
            CLASS2,
            &[(d_name, &ids[3]), ("陈宇航", &ids[4]), ("李诗琪", &ids[5])],
        )
    };
    class2("梁子默");

    let daemon = day.daemon("daemon1.log", &[]);
    daemon.camera("connected");
    let api = daemon.api();
    assert_eq!(api.state()["next"]["name"], "覃思远");

    // Class 1: a pass; a grey wall, then the retake; an absent student.
    let a = day.press(&frame("IMG_1007.JPG"));
    let last = daemon.verdict(1);
    assert_eq!(
        (&last["verdict"], &last["student"]),
        (&json!("pass"), &json!("覃思远"))
    );
    day.press(&frame("IMG_1028.JPG"));
    let last = daemon.verdict(2);
    assert_eq!(last["verdict"], "fail", "{last}");
    assert!(
        last["failed"].to_string().contains("background_white"),
        "{last}"
    );
    assert_eq!(
        api.state()["next"]["name"],
        "莫家俊",
        "a failed frame is retaken"
    );
    let b = day.press(&frame("IMG_1021.JPG"));
    assert_eq!(daemon.verdict(3)["verdict"], "pass");
    assert_eq!(api.state()["next"]["name"], "蒙晓彤");
    api.command(json!({"command": "skip"}));

    // Class 2, after the cable is pulled and plugged back in.
    api.command(json!({"command": "class", "class": CLASS2}));
    std::fs::write(day.path("unplugged"), b"").unwrap();
    daemon.camera("disconnected");
    std::fs::remove_file(day.path("unplugged")).unwrap();
    daemon.camera("connected");
    let d = day.press(&frame("IMG_1014.JPG"));
    assert_eq!(daemon.verdict(4)["student"], "梁子默");

    // The school corrects a name: the filed photo is renamed at once.
    let out2 = day.data().join("output").join(SCHOOL).join(CLASS2);
    assert!(out2.join(format!("{}-梁子默.jpg", ids[3])).exists());
    class2("梁子墨");
    api.command(json!({"command": "reload"}));
    assert!(out2.join(format!("{}-梁子墨.jpg", ids[3])).exists());
    assert!(!out2.join(format!("{}-梁子默.jpg", ids[3])).exists());

    // SIGKILL right after the next frame is recorded, before (or while) it is processed.
    let e = day.press(&frame("IMG_1007.JPG"));
    daemon.frame_arrived(5);
    let log1 = daemon.kill();

    let daemon = day.daemon("daemon2.log", &[]);
    daemon.camera("connected");
    let last = daemon.verdict(5);
    assert_eq!(
        (&last["verdict"], &last["student"]),
        (&json!("pass"), &json!("陈宇航"))
    );
    let f = day.press(&frame("IMG_1021.JPG"));
    assert_eq!(daemon.verdict(6)["student"], "李诗琪");

    // The console: everyone but the absent student, who is the whole make-up list.
    let state = daemon.api().state();
    let list: console::api::MakeUpList =
        serde_json::from_value(daemon.api().get("/api/make-up")).unwrap();
    let make_up: Vec<&str> = list.make_up.iter().map(|m| m.name.as_str()).collect();
    assert_eq!(make_up, ["蒙晓彤"], "{list:?}");
    assert_eq!(state["make_up_count"], 1);
    assert_eq!(state["make_up_rev"], list.rev);
    assert_eq!(state["school_progress"], json!({"done": 5, "total": 6}));
    // The public-domain frames show two people for five students: the console warns of each
    // pair of students whose photos look alike (覃思远 and 莫家俊, 陈宇航 and 李诗琪), computed
    // by the daemon's own pipeline and read back from the journal after the kill; the
    // operator answers each ("not the same person", as for twins) and the warnings go.
    let faces: Vec<session::FaceWarning> = serde_json::from_value(state["faces"].clone()).unwrap();
    let pairs: Vec<(&str, &str)> = faces
        .iter()
        .filter(|w| w.kind == session::FaceWarningKind::SameFace)
        .map(|w| (w.other.name.as_str(), w.student.name.as_str()))
        .collect();
    assert_eq!(
        pairs,
        [("陈宇航", "李诗琪"), ("覃思远", "莫家俊")],
        "{faces:?}"
    );
    assert!(
        !state.to_string().contains(r#""face":"#),
        "no descriptor reaches the console"
    );
    for _ in 0..8 {
        let faces: Vec<session::FaceWarning> =
            serde_json::from_value(daemon.api().state()["faces"].clone()).unwrap();
        let Some(w) = faces.first() else { break };
        daemon
            .api()
            .command(serde_json::to_value(&w.dismiss).unwrap());
    }
    assert_eq!(daemon.api().state()["faces"], json!([]));
    let log2 = daemon.terminate();

    // Pack (partial: one student is absent) and verify.
    let data = day.data();
    let d_str = data.to_str().unwrap();
    let packed: Value = serde_json::from_str(&ok(&rollcall()
        .args([
            "pack",
            d_str,
            "--school",
            SCHOOL,
            "--allow-incomplete",
            "--json",
        ])
        .output()
        .unwrap()))
    .unwrap();
    assert_eq!(packed[0]["complete"], false, "{packed}");
    let v = rollcall()
        .args(["verify", d_str, "--json"])
        .output()
        .unwrap();
    assert_eq!(v.status.code(), Some(1));
    let report: Value = serde_json::from_slice(&v.stdout).unwrap();
    let defects = report[0]["defects"].as_array().unwrap();
    assert_eq!(defects.len(), 1, "{report}");
    assert_eq!(defects[0]["code"], "missing_photo");
    assert_eq!(defects[0]["class"], CLASS1);

    // Exactly the expected files, names and bytes, in the output and in the zip.
    let want: BTreeMap<String, Vec<u8>> = [
        (format!("{CLASS1}/{}-覃思远.jpg", ids[0]), &a),
        (format!("{CLASS1}/{}-莫家俊.jpg", ids[1]), &b),
        (format!("{CLASS2}/{}-梁子墨.jpg", ids[3]), &d),
        (format!("{CLASS2}/{}-陈宇航.jpg", ids[4]), &e),
        (format!("{CLASS2}/{}-李诗琪.jpg", ids[5]), &f),
    ]
    .into_iter()
    .map(|(name, shot)| (name, expected_photo(shot)))
    .collect();
    let output = tree(&data.join("output").join(SCHOOL));
    let photos: BTreeMap<String, Vec<u8>> = output
        .iter()
        .filter(|(k, _)| k.ends_with(".jpg"))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    assert_eq!(
        photos.keys().collect::<Vec<_>>(),
        want.keys().collect::<Vec<_>>()
    );
    assert!(
        photos == want,
        "filed photos differ from `rollcall photo` of the same shots"
    );
    let sheets: BTreeSet<&String> = output.keys().filter(|k| k.ends_with(".xlsx")).collect();
    assert_eq!(sheets.len(), 2, "{sheets:?}");

    let unzipped = day.path("unzipped");
    let zip = data.join("submissions").join(format!("{SCHOOL}.zip"));
    let out = Command::new("unzip")
        .arg("-q")
        .arg(&zip)
        .arg("-d")
        .arg(&unzipped)
        .output()
        .unwrap();
    ok(&out);
    assert_eq!(tree(&unzipped.join(SCHOOL)), output);

    // No full ID number in any log line, and no face descriptor (the journal has them all).
    let journal = std::fs::read_to_string(
        data.join("sessions")
            .join(session::layout::path_part(SCHOOL))
            .join("journal.jsonl"),
    )
    .unwrap();
    let descriptors: Vec<String> = journal
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter_map(|l| l["face"].as_str().map(str::to_string))
        .collect();
    assert_eq!(
        descriptors.len(),
        6,
        "every frame's descriptor is journaled"
    );
    for log in [&log1, &log2] {
        assert!(log.contains("camera connected"), "{log}");
        for id in &ids {
            assert!(!log.contains(id.as_str()), "an ID in the log:\n{log}");
        }
        for d in &descriptors {
            assert!(!log.contains(&d[..40]), "a face descriptor in the log");
        }
    }
    for (name, bytes) in tree(&unzipped) {
        let text = String::from_utf8_lossy(&bytes);
        for d in &descriptors {
            assert!(
                !text.contains(&d[..40]),
                "a face descriptor in the zip: {name}"
            );
        }
    }
}

/// Reads sd_notify datagrams until one satisfies `pred`.
fn notified(socket: &UnixDatagram, seen: &mut Vec<String>, pred: impl Fn(&str) -> bool) -> String {
    let deadline = Instant::now() + Duration::from_secs(20);
    let mut buf = vec![0u8; 4096];
    loop {
        if Instant::now() > deadline {
            let other: Vec<&String> = seen.iter().filter(|m| *m != "WATCHDOG=1").collect();
            panic!(
                "not notified; saw {} watchdog pings and {other:?}",
                seen.len() - other.len()
            );
        }
        match socket.recv(&mut buf) {
            Ok(n) => {
                let text = String::from_utf8_lossy(&buf[..n]).trim_end().to_string();
                seen.push(text.clone());
                if pred(&text) {
                    return text;
                }
            }
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
            Err(e) => panic!("{e}"),
        }
    }
}

#[test]
fn the_daemon_speaks_sd_notify_ready_status_watchdog_stopping() {
    let day = Day::new(None, "demo", "");
    let roster_dir = day.path("roster").join(SCHOOL);
    std::fs::create_dir_all(&roster_dir).unwrap();
    write_class(
        &roster_dir,
        CLASS1,
        &[("覃思远", &id(11)), ("莫家俊", &id(13))],
    );

    let socket_path = day.path("notify.sock");
    let socket = UnixDatagram::bind(&socket_path).unwrap();
    socket
        .set_read_timeout(Some(Duration::from_millis(200)))
        .unwrap();
    let daemon = day.daemon(
        "daemon.log",
        &[
            ("NOTIFY_SOCKET", socket_path.to_str().unwrap()),
            ("WATCHDOG_USEC", "600000"),
        ],
    );
    let mut seen = Vec::new();
    notified(&socket, &mut seen, |m| m.contains("READY=1"));
    let status = notified(&socket, &mut seen, |m| m.starts_with("STATUS="));
    assert!(status.contains("已拍 0/2"), "{status}");
    assert!(
        status.contains("磁盘剩余"),
        "free space on the data disk: {status}"
    );
    // A watchdog period of 0.6 s: pings at least every 0.2 s.
    for _ in 0..3 {
        notified(&socket, &mut seen, |m| m == "WATCHDOG=1");
    }
    // The demo camera shoots on the console's shutter button; STATUS follows the count.
    let (code, answer) = daemon.api().post("/api/trigger", json!({}));
    assert_eq!(code, 200, "{answer}");
    let last = daemon.verdict(1);
    assert_eq!(last["verdict"], "pass", "{last}");
    let status = notified(&socket, &mut seen, |m| m.contains("已拍 1/2"));
    assert!(status.contains("rollcall demo camera"), "{status}");

    daemon.signal(nix::sys::signal::Signal::SIGTERM);
    notified(&socket, &mut seen, |m| m.contains("STOPPING=1"));
    let mut child = daemon;
    let exit = child.child.wait().unwrap();
    assert!(exit.success(), "{exit}");
}

#[test]
fn config_check_names_the_line_of_an_unknown_key_and_accepts_a_good_file() {
    let day = Day::new(None, "demo", "");
    let roster_dir = day.path("roster").join(SCHOOL);
    std::fs::create_dir_all(&roster_dir).unwrap();
    write_class(&roster_dir, CLASS1, &[("覃思远", &id(11))]);
    let good = rollcall()
        .args(["config", "check"])
        .arg(&day.config)
        .output()
        .unwrap();
    let text = ok(&good);
    assert!(text.contains("1 名学生"), "{text}");

    let bad = day.path("bad.toml");
    std::fs::write(
        &bad,
        "data = \"/tmp/x\"\n[camera]\nsource = \"demo\"\ncapture_targt = \"ram\"\n",
    )
    .unwrap();
    let out = rollcall()
        .args(["config", "check", "--json"])
        .arg(&bad)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    let message = report["findings"][0]["message"].as_str().unwrap();
    assert!(message.contains("line 4"), "{message}");
    assert!(message.contains("capture_targt"), "{message}");

    // The documented example is what `config example` prints, and it parses.
    let example = ok(&rollcall().args(["config", "example"]).output().unwrap());
    assert_eq!(
        example,
        std::fs::read_to_string(repo().join("systemd/rollcall.toml.example")).unwrap()
    );
}

#[test]
fn the_systemd_kit_installs_into_a_root_and_the_unit_verifies() {
    let root = tempfile::tempdir().unwrap();
    let out = Command::new(repo().join("systemd/install"))
        .arg("--root")
        .arg(root.path())
        .env("ROLLCALL_BIN", env!("CARGO_BIN_EXE_rollcall"))
        .output()
        .unwrap();
    ok(&out);
    for f in [
        "usr/local/bin/rollcall",
        "etc/systemd/system/rollcall.service",
        "etc/udev/rules.d/70-rollcall-camera.rules",
        "etc/tmpfiles.d/rollcall.conf",
        "etc/rollcall/rollcall.toml",
    ] {
        assert!(root.path().join(f).exists(), "{f}");
    }
    let unit =
        std::fs::read_to_string(root.path().join("etc/systemd/system/rollcall.service")).unwrap();
    for key in [
        "Type=notify",
        "WatchdogSec=",
        "Restart=always",
        "StateDirectory=rollcall",
        "Environment=HOME=/var/lib/rollcall",
        "ProtectSystem=strict",
        "ProtectHome=yes",
        "PrivateTmp=yes",
        "NoNewPrivileges=yes",
        "SupplementaryGroups=plugdev",
        "DeviceAllow=char-usb_device rw",
    ] {
        assert!(unit.contains(key), "{key}");
    }
    let rule = std::fs::read_to_string(
        root.path()
            .join("etc/udev/rules.d/70-rollcall-camera.rules"),
    )
    .unwrap();
    assert!(rule.contains("ENV{ID_GPHOTO2}==\"1\"") && rule.contains("SYSTEMD_WANTS"));

    let analyze = which("systemd-analyze");
    if !testkit::require(
        analyze.is_ok(),
        "systemd-analyze is not installed (scripts/setup installs systemd)",
    ) {
        return;
    }
    let Ok(analyze) = analyze else { return };
    // Each unit as installed, its ExecStart pointing at the binary laid out in the root.
    let check = root.path().join("check");
    std::fs::create_dir_all(&check).unwrap();
    let bin = root.path().join("usr/local/bin/rollcall");
    let verify = |name: &str, unit: &str| {
        std::fs::write(
            check.join(name),
            unit.replace("/usr/local/bin/rollcall", bin.to_str().unwrap()),
        )
        .unwrap();
        let out = Command::new(&analyze)
            .arg("verify")
            .arg(check.join(name))
            .output()
            .unwrap();
        // Clean: success, and nothing said about the unit (a machine not booted with systemd
        // may add notes of its own).
        let said = String::from_utf8_lossy(&out.stderr);
        assert!(
            out.status.success() && !said.contains(name),
            "systemd-analyze verify {name}: {}{said}",
            String::from_utf8_lossy(&out.stdout)
        );
    };
    verify("rollcall.service", &unit);

    // The office's machine: the binary, its unit (verified the same way) and office.env.
    let office = root.path().join("office");
    let out = Command::new(repo().join("systemd/install"))
        .args(["--office", "--root"])
        .arg(&office)
        .env("ROLLCALL_BIN", env!("CARGO_BIN_EXE_rollcall"))
        .output()
        .unwrap();
    ok(&out);
    let env = office.join("etc/rollcall/office.env");
    assert!(
        std::fs::read_to_string(&env)
            .unwrap()
            .contains("ROLLCALL_OFFICE_DB=")
    );
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(
        std::fs::metadata(&env).unwrap().permissions().mode() & 0o777,
        0o600
    );
    let unit =
        std::fs::read_to_string(office.join("etc/systemd/system/rollcall-office.service")).unwrap();
    for key in [
        "EnvironmentFile=/etc/rollcall/office.env",
        "LoadCredential=office.key",
        "DynamicUser=yes",
    ] {
        assert!(unit.contains(key), "{key}");
    }
    verify("rollcall-office.service", &unit);
}

fn which(program: &str) -> Result<PathBuf, ()> {
    std::env::var_os("PATH")
        .iter()
        .flat_map(std::env::split_paths)
        .map(|d| d.join(program))
        .find(|p| p.is_file())
        .ok_or(())
}

#[test]
fn the_demo_shows_passes_a_failure_a_skip_and_the_make_up_list() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("demo");
    let demo = || {
        rollcall()
            .args(["demo", "--camera", "builtin", "--exit", "--pace", "0"])
            .args(["--console", "127.0.0.1:0", "--data"])
            .arg(&data)
            .output()
            .unwrap()
    };
    let text = ok(&demo());
    assert!(text.contains("：合格"), "{text}");
    assert!(text.contains("背景不是白色"), "{text}");
    // Each line in one language: the journal's `中文 / English` reasons shown in Chinese.
    assert!(!text.contains("background"), "{text}");
    assert!(text.contains("跳过：蒙晓彤 缺席"), "{text}");
    assert!(text.contains("补拍名单（3 人）："), "{text}");
    // Two people in the demo's frames, many students: the face guard says so.
    assert!(text.contains("人脸提示（"), "{text}");
    assert!(text.contains("F 改正，D 不是同一人"), "{text}");
    let photos = common::walk(&data.join("output"));
    assert_eq!(photos.len(), 5, "{photos:?}");
    // A second run recreates its own folder; another folder is never deleted.
    ok(&demo());
    let refused = rollcall()
        .args(["demo", "--exit", "--data"])
        .arg(dir.path())
        .output()
        .unwrap();
    assert_eq!(refused.status.code(), Some(2));
}

/// Shutter press on the virtual camera to the verdict on the console's API, over 100 presses
/// of 24 MP frames. A benchmark, not a test: `scripts/bench-daemon` runs it (release build)
/// and docs/benchmarks.md keeps the numbers.
#[test]
#[ignore = "benchmark: scripts/bench-daemon"]
fn bench_press_to_verdict() {
    let Some(iolibs) = common::vcamera_iolibs() else {
        return;
    };
    let presses: usize = std::env::var("ROLLCALL_BENCH_PRESSES")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(100);
    let fixtures = repo().join("../shared/fixtures/frames");
    let sources: Vec<PathBuf> = [
        "IMG_7014.JPG",
        "IMG_7056.JPG",
        "IMG_7070.JPG",
        "IMG_7077.JPG",
    ]
    .iter()
    .map(|f| fixtures.join(f))
    .filter(|p| p.exists())
    .collect();
    assert!(!sources.is_empty(), "needs ../shared/fixtures/frames");
    let mut day = Day::new(Some(iolibs), "camera", "");
    let roster_dir = day.path("roster").join(SCHOOL);
    std::fs::create_dir_all(&roster_dir).unwrap();
    let ids: Vec<String> = (0..presses as u32).map(|i| id(i + 1)).collect();
    let names: Vec<String> = (0..presses).map(|i| format!("学生{i:03}")).collect();
    let students: Vec<(&str, &str)> = names
        .iter()
        .zip(&ids)
        .map(|(n, i)| (n.as_str(), i.as_str()))
        .collect();
    write_class(&roster_dir, CLASS1, &students);
    let daemon = day.daemon("bench.log", &[]);
    daemon.camera("connected");
    let mut times = Vec::new();
    for n in 1..=presses {
        let start = Instant::now();
        day.press(&sources[n % sources.len()]);
        daemon.verdict(n as u64);
        times.push(start.elapsed().as_secs_f64() * 1000.0);
    }
    daemon.terminate();
    times.sort_by(f64::total_cmp);
    let p = |q: f64| times[((times.len() - 1) as f64 * q).round() as usize];
    println!(
        "press → verdict over {} presses of 24 MP frames: median {:.0} ms, p95 {:.0} ms, min {:.0} ms, max {:.0} ms",
        times.len(),
        p(0.5),
        p(0.95),
        times[0],
        times[times.len() - 1]
    );
}

/// A daemon with the built-in demo camera and a class of two, for the console's own tests.
fn demo_daemon(day: &Day) -> Daemon {
    let roster_dir = day.path("roster").join(SCHOOL);
    std::fs::create_dir_all(&roster_dir).unwrap();
    write_class(
        &roster_dir,
        CLASS1,
        &[("覃思远", &id(11)), ("莫家俊", &id(13))],
    );
    day.daemon("daemon.log", &[])
}

/// The console's address (host:port).
fn console_addr(daemon: &Daemon) -> String {
    daemon
        .api()
        .base
        .trim_start_matches("http://")
        .trim_end_matches('/')
        .to_string()
}

/// An open event stream, as a page keeps it: the request sent, the first event read.
fn open_stream(addr: &str) -> std::net::TcpStream {
    use std::io::{Read, Write};
    let mut s = std::net::TcpStream::connect(addr).unwrap();
    write!(
        s,
        "GET /api/events HTTP/1.1\r\nHost: {addr}\r\nAccept: text/event-stream\r\n\r\n"
    )
    .unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let mut buf = [0u8; 4096];
    let mut seen = String::new();
    while !seen.contains("event: view") {
        let n = s.read(&mut buf).unwrap();
        assert!(n > 0, "the stream closed early: {seen}");
        seen.push_str(&String::from_utf8_lossy(&buf[..n]));
    }
    s
}

#[test]
fn sigterm_with_consoles_open_stops_within_five_seconds() {
    use std::io::Read;
    let day = Day::new(None, "demo", "");
    let mut daemon = demo_daemon(&day);
    let addr = console_addr(&daemon);
    let streams: Vec<_> = (0..3).map(|_| open_stream(&addr)).collect();
    let started = Instant::now();
    daemon.signal(nix::sys::signal::Signal::SIGTERM);
    // Each page's stream is ended by the server at once, not cut when the process exits.
    let ended: Vec<_> = streams
        .into_iter()
        .map(|mut s| {
            std::thread::spawn(move || {
                let mut rest = Vec::new();
                let _ = s.read_to_end(&mut rest);
                started.elapsed()
            })
        })
        .collect();
    let status = loop {
        if let Some(status) = daemon.child.try_wait().unwrap() {
            break status;
        }
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "still running 5 s after SIGTERM with open consoles:\n{}",
            daemon.log()
        );
        std::thread::sleep(Duration::from_millis(20));
    };
    let took = started.elapsed();
    assert!(status.success(), "{status}\n{}", daemon.log());
    for e in ended {
        let at = e.join().unwrap();
        assert!(
            at < Duration::from_secs(1),
            "a stream ended only after {at:?}"
        );
    }
    eprintln!("SIGTERM with 3 open event streams: exit 0 after {took:?}");
}

/// Raises this process's descriptor limit (the flood needs over a thousand).
fn raise_fd_limit(want: u64) {
    use nix::sys::resource::{Resource, getrlimit, setrlimit};
    let (soft, hard) = getrlimit(Resource::RLIMIT_NOFILE).unwrap();
    if soft < want {
        setrlimit(Resource::RLIMIT_NOFILE, want.min(hard), hard).unwrap();
    }
}

fn open_fds(pid: u32) -> usize {
    std::fs::read_dir(format!("/proc/{pid}/fd")).map_or(0, |d| d.count())
}

#[test]
fn a_flood_of_idle_half_requests_neither_kills_the_console_nor_the_spool() {
    use std::io::Write;
    raise_fd_limit(4096);
    let day = Day::new(None, "demo", "");
    let daemon = demo_daemon(&day);
    let addr = console_addr(&daemon);
    let pid = daemon.child.id();
    let before = open_fds(pid);
    // 1,100 connections that never finish their headers (bounded in count and time; loopback
    // only).
    let started = Instant::now();
    let mut flood = Vec::new();
    for i in 0..1100 {
        match std::net::TcpStream::connect(&addr) {
            Ok(mut s) => {
                if i % 2 == 0 {
                    let _ = s.write_all(b"GET / HTTP/1.1\r\nHo");
                }
                flood.push(s);
            }
            Err(e) => panic!("connect {i}: {e}"),
        }
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "flood too slow"
        );
    }
    let during = open_fds(pid);
    assert!(
        during < before + console::harden::MAX_CONNECTIONS + 64,
        "descriptors: {before} before, {during} during the flood"
    );
    // Meanwhile a frame arrives in the spool and is taken, processed and recorded.
    let frame = std::fs::read(frame("IMG_1007.JPG")).unwrap();
    let spool = day.data().join("spool");
    std::fs::write(spool.join("during-the-flood.jpg.tmp"), &frame).unwrap();
    std::fs::rename(
        spool.join("during-the-flood.jpg.tmp"),
        spool.join("during-the-flood.jpg"),
    )
    .unwrap();
    let journal = day
        .data()
        .join("sessions")
        .join(SCHOOL)
        .join("journal.jsonl");
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let text = std::fs::read_to_string(&journal).unwrap_or_default();
        if text.contains("\"event\":\"processed\"") {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the spool stalled during the flood:\n{}",
            daemon.log()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    // The console answers again once the idle connections time out (10 s), flood or not.
    let deadline = Instant::now() + console::harden::HEADER_TIMEOUT + Duration::from_secs(10);
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .timeout_global(Some(Duration::from_secs(3)))
        .http_status_as_error(false)
        .build()
        .into();
    loop {
        if let Ok(r) = agent.get(format!("http://{addr}/api/state")).call()
            && r.status() == 200
        {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the console did not come back:\n{}",
            daemon.log()
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    eprintln!(
        "flood of 1,100 idle connections: {before} descriptors before, {during} during; console back after {:?}",
        started.elapsed()
    );
    drop(flood);
    let log = daemon.terminate();
    assert!(!log.contains("Too many open files"), "{log}");
}

#[test]
fn spool_files_that_are_not_frames_are_set_aside_and_the_console_says_so() {
    // A threshold above any disk: the console warns about free space at once.
    let day = Day::new(None, "demo", "low_space_mb = 100000000\n");
    let daemon = demo_daemon(&day);
    let view = daemon.api().state();
    assert_eq!(view["health"]["low_space"], true, "{view}");
    assert!(view["health"]["free_bytes"].as_u64().unwrap() > 0);
    let spool = day.data().join("spool");
    std::fs::write(spool.join("0001-empty.jpg"), b"").unwrap();
    std::os::unix::fs::symlink("/etc/passwd", spool.join("0002-link.jpg")).unwrap();
    std::thread::sleep(Duration::from_millis(50));
    let frame = std::fs::read(frame("IMG_1007.JPG")).unwrap();
    std::fs::write(spool.join(".0003.tmp"), &frame).unwrap();
    std::fs::rename(spool.join(".0003.tmp"), spool.join("0003-frame.jpg")).unwrap();
    // The frame behind them is not held up for good: it gets its verdict.
    let last = daemon.verdict(1);
    assert_eq!(last["verdict"], "pass", "{last}");
    let rejected: Vec<String> = std::fs::read_dir(spool.join("rejected"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert!(
        rejected.contains(&"0001-empty.jpg".to_string()),
        "{rejected:?}"
    );
    assert!(
        rejected.contains(&"0002-link.jpg".to_string()),
        "{rejected:?}"
    );
    let view = daemon.api().state();
    let problems = view["health"]["problems"].to_string();
    assert!(problems.contains("set_aside"), "{problems}");
    let log = daemon.terminate();
    assert!(log.contains("spool file set aside"), "{log}");
    // The journal holds one frame: the link's target was never read as a frame.
    let journal = std::fs::read_to_string(
        day.data()
            .join("sessions")
            .join(SCHOOL)
            .join("journal.jsonl"),
    )
    .unwrap();
    assert_eq!(journal.matches("\"event\":\"frame_arrived\"").count(), 1);
}

/// `rollcall office serve` as a process, on 127.0.0.1:`port`.
struct OfficeProcess {
    child: Child,
    log: PathBuf,
}

impl OfficeProcess {
    /// Over TLS with the certificate and key in `tls` (office.pem, office.key).
    fn start(db: &str, port: u16, tls: &Path, log: &Path) -> OfficeProcess {
        use std::io::BufRead;
        let mut child = rollcall()
            .args(["office", "serve", "--db", db, "--listen"])
            .arg(format!("127.0.0.1:{port}"))
            .arg("--tls-cert")
            .arg(tls.join("office.pem"))
            .arg("--tls-key")
            .arg(tls.join("office.key"))
            .env("RUST_LOG", "info")
            .stdout(Stdio::piped())
            .stderr(std::fs::File::create(log).unwrap())
            .spawn()
            .unwrap();
        // Its first line says where it serves: it listens from then on.
        let mut line = String::new();
        std::io::BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        assert!(
            line.contains(&format!("127.0.0.1:{port}")),
            "office: {line:?}\n{}",
            std::fs::read_to_string(log).unwrap_or_default()
        );
        OfficeProcess {
            child,
            log: log.to_path_buf(),
        }
    }

    fn stop(mut self) -> String {
        let pid = nix::unistd::Pid::from_raw(self.child.id() as i32);
        nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGTERM).unwrap();
        let status = self.child.wait().unwrap();
        let log = std::fs::read_to_string(&self.log).unwrap_or_default();
        assert!(
            status.success(),
            "office: SIGTERM → exit 0: {status}\n{log}"
        );
        log
    }
}

impl Drop for OfficeProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// (students, photographed, retake, absent, to come, lines) of a kit's journal, read by the
/// session crate itself.
fn journal_counts(journal: &Path) -> (u64, u64, u64, u64, u64, u64) {
    use session::Standing;
    let state = session::journal::Journal::read(journal).unwrap();
    let mut c = (0, 0, 0, 0, 0, state.seq);
    for s in state.roster_order() {
        c.0 += 1;
        match state.standing(s) {
            Standing::Photographed => c.1 += 1,
            Standing::Failed => c.2 += 1,
            Standing::Absent => c.3 += 1,
            Standing::Waiting | Standing::Processing => c.4 += 1,
            _ => {}
        }
    }
    c
}

fn office_city(db: &str) -> office::wire::City {
    let out = rollcall()
        .args(["office", "status", "--json", "--db", db])
        .output()
        .unwrap();
    serde_json::from_str(&ok(&out)).unwrap()
}

/// Waits until the office says of every (kit data folder, school) what its journal says.
fn office_matches(db: &str, kits: &[(&Day, &str, &Daemon)]) -> office::wire::City {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let city = office_city(db);
        let all = kits.iter().all(|(day, school, _)| {
            let (students, photographed, retake, absent, to_come, lines) = journal_counts(
                &day.data()
                    .join("sessions")
                    .join(school)
                    .join("journal.jsonl"),
            );
            city.schools.iter().any(|r| {
                r.school == *school
                    && r.lines == lines
                    && (
                        r.counts.students,
                        r.counts.photographed,
                        r.counts.retake,
                        r.counts.absent,
                        r.counts.to_come,
                    ) == (students, photographed, retake, absent, to_come)
            })
        });
        if all {
            return city;
        }
        assert!(
            Instant::now() < deadline,
            "the office does not match the journals within 60 s: {:#?}\nlogs:\n{}",
            city.schools,
            kits.iter()
                .map(|(_, _, d)| d.log())
                .collect::<Vec<_>>()
                .join("\n----\n")
        );
        std::thread::sleep(Duration::from_millis(200));
    }
}

#[test]
fn two_kits_report_to_one_office_through_an_outage() {
    let Some(iolibs) = common::vcamera_iolibs() else {
        return;
    };
    let Some(pg) = testkit::Postgres::start() else {
        return;
    };
    let db = pg.url();
    // Beyond loopback the office needs TLS: refused before anything starts.
    let out = rollcall()
        .args(["office", "serve", "--listen", "0.0.0.0:0", "--db", &db])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--tls-cert"));
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let token = |name: &str, team: &str| -> String {
        let out = rollcall()
            .args([
                "office", "token", "add", name, "--team", team, "--json", "--db", &db,
            ])
            .output()
            .unwrap();
        let v: Value = serde_json::from_str(&ok(&out)).unwrap();
        v["token"].as_str().unwrap().to_string()
    };
    // The office over TLS with a self-signed certificate, given to the kits as [office] ca.
    let certs = tempfile::tempdir().unwrap();
    ok(&rollcall()
        .args(["office", "cert", "--host", "localhost", "--out"])
        .arg(certs.path())
        .output()
        .unwrap());
    let ca = certs.path().join("office.pem").display().to_string();
    let office_section = |token: &str| {
        format!(
            "[office]\nurl = \"https://localhost:{port}\"\ntoken = \"{token}\"\nca = {ca:?}\ninterval_s = 1\n"
        )
    };

    // Kit A: team 一组, the virtual camera, this test's school. Kit B: team 二组, a watched
    // folder, another school; 莫家俊 is on both rosters (registered twice).
    const SCHOOL_B: &str = "梧州市端到端小学";
    let mut a = Day::for_school(
        SCHOOL,
        Some(iolibs),
        "camera",
        &office_section(&token("一组-相机", "一组")),
    );
    let roster_a = a.path("roster").join(SCHOOL);
    std::fs::create_dir_all(&roster_a).unwrap();
    write_class(
        &roster_a,
        CLASS1,
        &[
            ("覃思远", &id(101)),
            ("莫家俊", &id(103)),
            ("蒙晓彤", &id(105)),
        ],
    );
    let b_extra = format!(
        "{}upload_packs = true\n",
        office_section(&token("二组-文件夹", "二组"))
    );
    let b = Day::for_school(SCHOOL_B, None, "folder", &b_extra);
    std::fs::create_dir_all(b.path("source")).unwrap();
    let b_config = std::fs::read_to_string(&b.config).unwrap().replace(
        "source = \"folder\"\n",
        &format!(
            "source = \"folder\"\nfolder = {:?}\n",
            b.path("source").display().to_string()
        ),
    );
    std::fs::write(&b.config, b_config).unwrap();
    let roster_b = b.path("roster").join(SCHOOL_B);
    std::fs::create_dir_all(&roster_b).unwrap();
    write_class(
        &roster_b,
        "初一(3)班",
        &[
            ("黄小雨", &id(201)),
            ("莫家俊", &id(103)),
            ("韦一鸣", &id(203)),
        ],
    );
    let mut b_shots = 0u64;
    let mut deliver_b = |image: &Path| {
        b_shots += 1;
        let bytes = tether::demo::unique_shot(&std::fs::read(image).unwrap(), 1000 + b_shots);
        let tmp = b.path(&format!("source/.{b_shots}.tmp"));
        std::fs::write(&tmp, bytes).unwrap();
        std::fs::rename(&tmp, b.path(&format!("source/IMG_{b_shots:04}.JPG"))).unwrap();
        b_shots
    };

    let checked = rollcall()
        .args(["config", "check"])
        .arg(&a.config)
        .output()
        .unwrap();
    let checked = String::from_utf8_lossy(&checked.stdout).to_string();
    assert!(
        checked.contains(&format!("✓ office: 向办公室 https://localhost:{port} 报送")),
        "{checked}"
    );

    // The office is down: both kits photograph as on any day.
    let kit_a = a.daemon("a.log", &[]);
    kit_a.camera("connected");
    let kit_b = b.daemon("b.log", &[]);
    a.press(&frame("IMG_1007.JPG"));
    kit_a.verdict(1);
    a.press(&frame("IMG_1007.JPG"));
    assert_eq!(kit_a.verdict(2)["verdict"], "pass");
    kit_b.verdict(deliver_b(&frame("IMG_1007.JPG")));
    kit_b.verdict(deliver_b(&frame("IMG_1007.JPG")));
    let deadline = Instant::now() + Duration::from_secs(30);
    while !kit_a.log().contains("office: sync failed") {
        assert!(
            Instant::now() < deadline,
            "no failed sync in the log:\n{}",
            kit_a.log()
        );
        std::thread::sleep(Duration::from_millis(100));
    }

    // The console's header says so (never synced, the data is here).
    kit_a.wait("the console's office line: not reached", |api| {
        let o = api.get("/api/office");
        o["error"].is_object() && o["synced_at"].is_null()
    });

    // The office comes up: everything reaches it, and the consoles say so.
    let office = OfficeProcess::start(&db, port, certs.path(), &a.path("office1.log"));
    office_matches(&db, &[(&a, SCHOOL, &kit_a), (&b, SCHOOL_B, &kit_b)]);
    kit_a.wait("the console's office line: synced", |api| {
        let o = api.get("/api/office");
        o["error"].is_null() && o["synced_at"].is_string()
    });
    let office_log = office.stop();

    // Down again: an absent student on A, the last student on B.
    kit_a.api().command(json!({"command": "skip"}));
    kit_b.verdict(deliver_b(&frame("IMG_1007.JPG")));

    // Back: the office catches up and says exactly what the journals say.
    let office = OfficeProcess::start(&db, port, certs.path(), &a.path("office2.log"));
    let city = office_matches(&db, &[(&a, SCHOOL, &kit_a), (&b, SCHOOL_B, &kit_b)]);
    let row_a = city.schools.iter().find(|r| r.school == SCHOOL).unwrap();
    assert_eq!(
        (
            row_a.kit.as_str(),
            row_a.team.as_str(),
            row_a.counts.photographed,
            row_a.counts.absent
        ),
        ("一组-相机", "一组", 2, 1)
    );
    let row_b = city.schools.iter().find(|r| r.school == SCHOOL_B).unwrap();
    assert_eq!(
        (row_b.team.as_str(), row_b.counts.photographed),
        ("二组", 3)
    );
    assert_eq!(
        city.teams
            .iter()
            .map(|t| t.team.as_str())
            .collect::<Vec<_>>(),
        ["一组", "二组"]
    );
    // 莫家俊, on both rosters: one city-wide duplicate, in both schools, ID masked.
    assert_eq!(city.duplicates.len(), 1, "{:#?}", city.duplicates);
    let places: BTreeSet<&str> = city.duplicates[0]
        .places
        .iter()
        .map(|p| p.school.as_str())
        .collect();
    assert_eq!(places, BTreeSet::from([SCHOOL, SCHOOL_B]));
    assert!(!city.duplicates[0].id.contains(&id(103)));
    assert!(city.problems.is_empty(), "{:#?}", city.problems);
    // The same in words.
    let text = ok(&rollcall()
        .args(["office", "status", "--db", &db])
        .output()
        .unwrap());
    assert!(
        text.contains("一组：已拍 2 / 3 人") && text.contains("跨校重复"),
        "{text}"
    );
    // The kits' status snapshots arrived.
    assert!(
        city.teams
            .iter()
            .flat_map(|t| &t.kits)
            .all(|k| k.status.is_some() && k.last_sync.is_some())
    );

    // The kits stop; the office has everything (a sync by hand has nothing left to send).
    let kit_logs = [kit_a.terminate(), kit_b.terminate()].join("\n");
    // A sync by hand (the daemon has done it all): nothing left to send.
    let out = rollcall()
        .args(["sync", "--json", "--config"])
        .arg(&a.config)
        .output()
        .unwrap();
    let synced: Value = serde_json::from_str(&ok(&out)).unwrap();
    assert_eq!(
        (synced["kit"].as_str(), synced["lines"].as_u64()),
        (Some("一组-相机"), Some(0))
    );

    // B packs its school (partial: its three photos show one face) and reports it by hand:
    // the ledger entry and the zip itself (upload_packs), checked against its SHA-256.
    ok(&rollcall()
        .arg("pack")
        .arg(b.data())
        .args(["--school", SCHOOL_B, "--allow-incomplete"])
        .output()
        .unwrap());
    let out = rollcall()
        .args(["sync", "--json", "--config"])
        .arg(&b.config)
        .output()
        .unwrap();
    let synced: Value = serde_json::from_str(&ok(&out)).unwrap();
    assert_eq!(
        (synced["submissions"].as_u64(), synced["packs"].as_u64()),
        (Some(1), Some(1)),
        "{synced}"
    );
    let city = office_city(&db);
    let row_b = city.schools.iter().find(|r| r.school == SCHOOL_B).unwrap();
    assert_eq!(row_b.submitted, Some(chrono::Local::now().date_naive()));
    assert!(!row_b.submitted_complete);

    // A line the office cannot follow (as from a kit newer than the office): B's sync fails
    // naming the school, the rest goes on, and the coordinator sees why on B's row.
    let journal_b = b
        .data()
        .join("sessions")
        .join(SCHOOL_B)
        .join("journal.jsonl");
    let last: Value = serde_json::from_str(
        std::fs::read_to_string(&journal_b)
            .unwrap()
            .lines()
            .last()
            .unwrap(),
    )
    .unwrap();
    let newer = json!({"v": 99, "seq": last["seq"].as_u64().unwrap() + 1, "at": last["at"],
                       "event": "class_chosen", "class": "初一(3)班"});
    let mut f = std::fs::OpenOptions::new()
        .append(true)
        .open(&journal_b)
        .unwrap();
    std::io::Write::write_all(&mut f, format!("{newer}\n").as_bytes()).unwrap();
    let out = rollcall()
        .args(["sync", "--config"])
        .arg(&b.config)
        .output()
        .unwrap();
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.code() == Some(2) && said.contains("办公室不接受") && said.contains(SCHOOL_B),
        "{said}"
    );
    let city = office_city(&db);
    let kit_b_row = city
        .teams
        .iter()
        .flat_map(|t| &t.kits)
        .find(|k| k.kit == "二组-文件夹")
        .unwrap();
    let refused = &kit_b_row.status.as_ref().unwrap().refused;
    assert_eq!(refused.len(), 1);
    assert_eq!(refused[0].school, SCHOOL_B);

    // A's data folder "restored from an old copy" (its journal shorter than the office's): the
    // sync says so instead of sending nothing in silence.
    let journal_a = a.data().join("sessions").join(SCHOOL).join("journal.jsonl");
    let text = std::fs::read_to_string(&journal_a).unwrap();
    let old: String = text.lines().take(3).map(|l| format!("{l}\n")).collect();
    std::fs::write(&journal_a, old).unwrap();
    let out = rollcall()
        .args(["sync", "--config"])
        .arg(&a.config)
        .output()
        .unwrap();
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.code() == Some(2) && said.contains("不一致"),
        "{said}"
    );
    std::fs::write(&journal_a, text).unwrap();

    let office_log = office_log + &office.stop();
    assert!(
        office_log.contains("office: lines"),
        "the office logs what it takes:\n{office_log}"
    );
    let logs = [office_log, kit_logs].join("\n");
    for n in [101, 103, 105, 201, 203] {
        assert!(!logs.contains(&id(n)), "an ID number in a log");
    }
    // No face descriptor left the kits: the office's copies of the processed lines have none
    // (the kits' journals do).
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let (processed, with_face): (i64, i64) = rt.block_on(async {
        let db = office::Db::connect(&db, 1).unwrap();
        let c = db.pool.get().await.unwrap();
        let row = c
            .query_one(
                "SELECT count(*) FILTER (WHERE event = 'processed'),
                        count(*) FILTER (WHERE line LIKE '%\"face\"%') FROM journal",
                &[],
            )
            .await
            .unwrap();
        (row.get(0), row.get(1))
    });
    assert_eq!((processed, with_face), (5, 0));
    let journal_a =
        std::fs::read_to_string(a.data().join("sessions").join(SCHOOL).join("journal.jsonl"))
            .unwrap();
    assert!(
        journal_a.contains("\"face\""),
        "the kit keeps its descriptors"
    );
}
