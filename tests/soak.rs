#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! The soak: a photo day of hundreds of frames through `rollcall daemon` as a real process,
//! first from a watched folder, then from libgphoto2's virtual camera, with random SIGKILLs,
//! cable pulls, roster reloads, class changes, absent students and one full disk (the data
//! folder on a real tmpfs, filled and then freed). At the end: every shot is in `originals/`
//! exactly once, the journal opens, `output/` is what `rollcall rebuild` makes, and originals
//! and output equal those of an uninterrupted reference run (`rollcall session run
//! --until-idle`) of the same shots and commands.
//!
//! `ROLLCALL_SOAK_FRAMES` sets the number of frames (300 here; `scripts/soak --long`: 1,000).

mod common;
use common::rollcall;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use sha2::{Digest, Sha256};

const SCHOOL: &str = "梧州市耐久测试小学";
const CLASS_SIZE: usize = 40;

/// A small deterministic generator (xorshift): the same seed, the same photo day.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }
}

/// A Han name for student `n` (distinct for every n of a school).
fn name(n: usize) -> String {
    const FAMILY: [&str; 10] = ["覃", "莫", "蒙", "梁", "陈", "李", "黄", "韦", "周", "吴"];
    const GIVEN: [&str; 10] = ["思", "家", "晓", "子", "宇", "诗", "嘉", "雨", "志", "欣"];
    const LAST: [&str; 10] = ["远", "俊", "彤", "默", "航", "琪", "怡", "萱", "强", "然"];
    format!(
        "{}{}{}",
        FAMILY[n % 10],
        GIVEN[n / 10 % 10],
        LAST[n / 100 % 10]
    )
}

fn class_name(c: usize) -> String {
    format!("三年级{}班", c + 1)
}

/// The roster, one CSV per class in a folder named for the school; `renamed` students carry a
/// corrected name (a reload).
fn write_roster(base: &Path, classes: usize, renamed: &[usize]) {
    let dir = base.join(SCHOOL);
    std::fs::create_dir_all(&dir).unwrap();
    for c in 0..classes {
        let mut text = String::from("序号,姓名,身份证号码,核对前身份证号码,核对前姓名\n");
        for i in 0..CLASS_SIZE {
            let n = c * CLASS_SIZE + i;
            let original = name(n);
            let current = if renamed.contains(&n) {
                format!("{original}改")
            } else {
                original.clone()
            };
            let id = testkit::id(n as u32);
            text.push_str(&format!("{},{current},{id},{id},{original}\n", i + 1));
        }
        std::fs::write(dir.join(format!("{}.csv", class_name(c))), text).unwrap();
    }
}

/// What happened, in order, for the reference run.
#[derive(Debug, Clone)]
enum Step {
    /// These shots (indices into `shots`), delivered in this order.
    Shots(Vec<usize>),
    Class(String),
    Skip,
    /// The roster with these students renamed.
    Reload(Vec<usize>),
}

struct Daemon {
    child: Child,
    client: kit::client::Client,
    log: PathBuf,
}

impl Daemon {
    fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    fn command(&self, command: session::Command) {
        if let Err(e) = self.client.command(&command) {
            panic!("{command:?}: {e}\n{}", self.log());
        }
    }

    fn alive(&mut self) {
        if let Ok(Some(status)) = self.child.try_wait() {
            panic!("the daemon stopped by itself ({status}):\n{}", self.log());
        }
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

struct Soak {
    root: tempfile::TempDir,
    disk: testkit::Tmpfs,
    iolibs: Option<PathBuf>,
    /// The bytes of every shot, in delivery order.
    shots: Vec<Vec<u8>>,
    steps: Vec<Step>,
    renamed: Vec<usize>,
    presses: u32,
    starts: u32,
    kills: u32,
    unplugs: u32,
    reloads: u32,
    disk_full: Duration,
}

impl Soak {
    fn path(&self, p: &str) -> PathBuf {
        self.root.path().join(p)
    }

    fn data(&self) -> PathBuf {
        self.disk.path().join("data")
    }

    fn journal(&self) -> PathBuf {
        self.data()
            .join("sessions")
            .join(SCHOOL)
            .join("journal.jsonl")
    }

    fn write_config(&self, source: &str) {
        let text = format!(
            "data = {:?}\nroster = [{:?}]\njobs = 2\nlow_space_mb = 1\n\n[camera]\nsource = \"{source}\"\nfolder = {:?}\n\n[console]\nlisten = \"127.0.0.1:0\"\n",
            self.data().display().to_string(),
            self.path("roster").join(SCHOOL).display().to_string(),
            self.path("source").display().to_string(),
        );
        std::fs::write(self.path("rollcall.toml"), text).unwrap();
    }

    fn start(&mut self) -> Daemon {
        self.starts += 1;
        let log = self.path(&format!("daemon-{:02}.log", self.starts));
        let _ = std::fs::remove_file(self.data().join("console.json"));
        let mut cmd = rollcall();
        cmd.args(["daemon", "--config"])
            .arg(self.path("rollcall.toml"))
            .env("RUST_LOG", "info")
            .env("HOME", self.path("home"))
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log).unwrap());
        if let Some(iolibs) = &self.iolibs {
            cmd.env("IOLIBS", iolibs)
                .env("VCAMERADIR", self.path("card"))
                .env("VCAMERA_PRESSES", self.path("presses"))
                .env("VCAMERA_UNPLUG", self.path("unplugged"));
        }
        let mut child = cmd.spawn().unwrap();
        let deadline = Instant::now() + Duration::from_secs(60);
        let client = loop {
            if let Ok(client) = kit::client::Client::connect(&self.data()) {
                break client;
            }
            if let Ok(Some(status)) = child.try_wait() {
                panic!(
                    "the daemon stopped ({status}):\n{}",
                    std::fs::read_to_string(&log).unwrap_or_default()
                );
            }
            assert!(Instant::now() < deadline, "no console");
            std::thread::sleep(Duration::from_millis(50));
        };
        Daemon { child, client, log }
    }

    /// Delivers one shot: into the watched folder, or pressed on the virtual camera.
    fn deliver(&mut self, image: &[u8], camera: bool) -> usize {
        let i = self.shots.len();
        let bytes = shot(image, i);
        if camera {
            self.presses += 1;
            let shot = self.path(&format!("images/{:05}.JPG", self.presses));
            std::fs::write(&shot, &bytes).unwrap();
            common::vcamera_press(&self.path("presses"), self.presses, &[&shot]);
        } else {
            let dir = self.path("source");
            std::fs::write(dir.join(format!(".{i:05}.tmp")), &bytes).unwrap();
            std::fs::rename(
                dir.join(format!(".{i:05}.tmp")),
                dir.join(format!("{i:05}.jpg")),
            )
            .unwrap();
        }
        self.shots.push(bytes);
        i
    }

    /// (frames arrived, frames processed) as the journal says.
    fn counts(&self) -> (usize, usize) {
        let text = std::fs::read_to_string(self.journal()).unwrap_or_default();
        (
            text.matches("\"event\":\"frame_arrived\"").count(),
            text.matches("\"event\":\"processed\"").count(),
        )
    }

    /// Waits until every delivered shot is recorded and processed.
    fn settle(&self, daemon: &mut Daemon) {
        let deadline = Instant::now() + Duration::from_secs(300);
        loop {
            let (arrived, processed) = self.counts();
            if arrived == self.shots.len() && processed == arrived {
                return;
            }
            daemon.alive();
            assert!(
                Instant::now() < deadline,
                "stuck at {arrived} arrived, {processed} processed of {} shots:\n{}",
                self.shots.len(),
                daemon.log()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

/// A unique shot of `image`: a JPEG comment naming it, of a length that varies from shot to
/// shot as a camera's file sizes do.
fn shot(image: &[u8], i: usize) -> Vec<u8> {
    let text = format!("soak shot {i} {}", ".".repeat(i % 251));
    let mut out = Vec::with_capacity(image.len() + text.len() + 4);
    out.extend_from_slice(&[0xFF, 0xD8, 0xFF, 0xFE]);
    out.extend_from_slice(&u16::try_from(text.len() + 2).unwrap().to_be_bytes());
    out.extend_from_slice(text.as_bytes());
    out.extend_from_slice(&image[2..]);
    out
}

/// One student's shots: a failure first now and then (a retake follows), then a pass.
fn shots_for_student(rng: &mut Rng, pass: &[Vec<u8>], fail: &[Vec<u8>]) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    if rng.chance(12) {
        out.push(fail[rng.below(fail.len() as u64) as usize].clone());
    }
    out.push(pass[rng.below(pass.len() as u64) as usize].clone());
    out
}

fn sha(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Relative path → bytes of every file below `dir`.
fn files(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    common::tree(dir)
}

#[test]
fn soak_a_photo_day_of_kills_pulls_reloads_and_a_full_disk() {
    let total: usize = std::env::var("ROLLCALL_SOAK_FRAMES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(300);
    // Room for every frame's original, photo and filed copy, and the spool's copies.
    let Some(disk) = testkit::Tmpfs::mount(total as u64 * 1024 + 256 * 1024) else {
        return;
    };
    let iolibs = common::vcamera_iolibs();
    let started = Instant::now();
    let frames = common::frames_dir();
    let read = |f: &str| std::fs::read(frames.join(f)).unwrap();
    let pass = [
        read("IMG_1007.JPG"),
        read("IMG_1014.JPG"),
        read("IMG_1021.JPG"),
    ];
    let fail = [
        read("IMG_1028.JPG"),
        read("IMG_1035.JPG"),
        read("IMG_1042.JPG"),
    ];
    let classes = total.div_ceil(CLASS_SIZE) + 1;
    let mut soak = Soak {
        root: tempfile::Builder::new()
            .disable_cleanup(std::env::var_os("ROLLCALL_SOAK_DEBUG").is_some())
            .tempdir()
            .unwrap(),
        disk,
        iolibs: iolibs.clone(),
        shots: Vec::new(),
        steps: Vec::new(),
        renamed: Vec::new(),
        presses: 0,
        starts: 0,
        kills: 0,
        unplugs: 0,
        reloads: 0,
        disk_full: Duration::ZERO,
    };
    if std::env::var_os("ROLLCALL_SOAK_DEBUG").is_some() {
        eprintln!("soak folder: {}", soak.root.path().display());
    }
    for d in [
        "card/DCIM/100NIKON",
        "presses",
        "images",
        "home",
        "source",
        "ref",
    ] {
        std::fs::create_dir_all(soak.path(d)).unwrap();
    }
    write_roster(&soak.path("roster"), classes, &[]);
    soak.write_config("folder");
    let mut rng = Rng(0x5eed_2026_1130);
    let mut daemon = soak.start();
    let mut class = 0usize;
    let mut in_class = 0usize;
    // The folder source for the first 60 %, the camera after (without the virtual camera off
    // CI: the folder all along).
    let camera_from = if iolibs.is_some() {
        total * 6 / 10
    } else {
        usize::MAX
    };
    let mut camera = false;
    let mut disk_full_done = false;
    let mut pending: Vec<usize> = Vec::new();
    while soak.shots.len() < total {
        if !camera && soak.shots.len() >= camera_from {
            // Switch the source: stop, reconfigure, start; the session goes on.
            soak.settle(&mut daemon);
            soak.steps.push(Step::Shots(std::mem::take(&mut pending)));
            daemon.child.kill().unwrap();
            daemon.child.wait().unwrap();
            soak.write_config("camera");
            daemon = soak.start();
            let deadline = Instant::now() + Duration::from_secs(60);
            while !matches!(daemon.client.camera(), Ok(tether::Status::Connected { .. })) {
                assert!(Instant::now() < deadline, "no camera:\n{}", daemon.log());
                std::thread::sleep(Duration::from_millis(50));
            }
            camera = true;
        }
        // A class is done: the operator takes the next one.
        // (Early enough that a burst of students — the full-disk episode — still fits.)
        if in_class >= CLASS_SIZE - 7 {
            soak.settle(&mut daemon);
            soak.steps.push(Step::Shots(std::mem::take(&mut pending)));
            class += 1;
            in_class = 0;
            let c = class_name(class);
            daemon.command(session::Command::Class {
                class: c.to_string(),
            });
            soak.steps.push(Step::Class(c));
        }
        // Quiet moments for the operator's commands and the full disk: now and then, and each
        // at least once (the full disk a quarter of the way in, from the folder source).
        let n = soak.shots.len();
        let forced = if !disk_full_done && !camera && n >= total / 4 {
            Some(2)
        } else if soak.reloads == 0 && n >= total / 8 {
            Some(1)
        } else {
            None
        };
        if forced.is_some() || rng.chance(4) {
            soak.settle(&mut daemon);
            soak.steps.push(Step::Shots(std::mem::take(&mut pending)));
            match forced.unwrap_or_else(|| rng.below(3)) {
                0 => {
                    daemon.command(session::Command::Skip { student: None });
                    soak.steps.push(Step::Skip);
                    in_class += 1;
                }
                1 if !soak.shots.is_empty() => {
                    // The school corrects the name of someone photographed already.
                    let n = class * CLASS_SIZE + rng.below(in_class.max(1) as u64) as usize;
                    if !soak.renamed.contains(&n) {
                        soak.renamed.push(n);
                    }
                    write_roster(&soak.path("roster"), classes, &soak.renamed);
                    daemon.command(session::Command::Reload);
                    soak.steps.push(Step::Reload(soak.renamed.clone()));
                    soak.reloads += 1;
                }
                2 if !camera && !disk_full_done => {
                    // The disk fills up while frames keep coming; then room is made.
                    let ballast = soak.disk.fill();
                    let full_at = Instant::now();
                    let before = soak.counts();
                    for _ in 0..5 {
                        for image in shots_for_student(&mut rng, &pass, &fail) {
                            pending.push(soak.deliver(&image, camera));
                        }
                        in_class += 1;
                    }
                    std::thread::sleep(Duration::from_secs(3));
                    daemon.alive();
                    let stuck = soak.counts();
                    assert!(
                        stuck.0 < soak.shots.len(),
                        "frames were taken in on a full disk: {before:?} → {stuck:?}"
                    );
                    std::fs::remove_file(ballast).unwrap();
                    soak.settle(&mut daemon);
                    soak.disk_full += full_at.elapsed();
                    disk_full_done = true;
                }
                _ => {}
            }
        }
        // One student's shots; now and then the process is killed or the cable pulled while
        // they are on their way.
        let kill = rng.chance(5) || (soak.kills == 0 && soak.shots.len() >= total / 10);
        let unplug = camera && rng.chance(4);
        if unplug {
            std::fs::write(soak.path("unplugged"), b"").unwrap();
            soak.unplugs += 1;
        }
        for image in shots_for_student(&mut rng, &pass, &fail) {
            pending.push(soak.deliver(&image, camera));
        }
        in_class += 1;
        if unplug {
            std::thread::sleep(Duration::from_millis(300 + rng.below(700)));
            std::fs::remove_file(soak.path("unplugged")).unwrap();
        }
        if kill {
            std::thread::sleep(Duration::from_millis(rng.below(900)));
            daemon.child.kill().unwrap();
            daemon.child.wait().unwrap();
            soak.kills += 1;
            daemon = soak.start();
        } else {
            // A photographer's pace, with an occasional burst.
            std::thread::sleep(Duration::from_millis(if rng.chance(20) { 0 } else { 150 }));
        }
    }
    soak.settle(&mut daemon);
    soak.steps.push(Step::Shots(std::mem::take(&mut pending)));
    // A clean stop at the end, as systemd does it (the SIGKILLs were along the way).
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(daemon.child.id() as i32),
        nix::sys::signal::Signal::SIGTERM,
    )
    .unwrap();
    let status = daemon.child.wait().unwrap();
    assert!(
        status.success(),
        "SIGTERM → exit 0: {status}\n{}",
        daemon.log()
    );
    let soak_time = started.elapsed();

    // Every shot in originals exactly once.
    let data = soak.data();
    let originals = files(&data.join("originals").join(SCHOOL));
    let mut by_hash: BTreeMap<String, usize> = BTreeMap::new();
    for bytes in originals.values() {
        *by_hash.entry(sha(bytes)).or_default() += 1;
    }
    let lost = soak
        .shots
        .iter()
        .filter(|s| !by_hash.contains_key(&sha(s)))
        .count();
    let twice = by_hash.values().filter(|&&n| n > 1).count();
    assert_eq!((lost, twice), (0, 0), "lost, stored twice");
    assert_eq!(
        originals.len(),
        soak.shots.len(),
        "no original besides the shots"
    );

    // The journal opens; output/ is what rebuild makes of it.
    let d = data.to_str().unwrap();
    common::ok(
        &rollcall()
            .args(["session", "status", d, "--json"])
            .output()
            .unwrap(),
    );
    let output = files(&data.join("output").join(SCHOOL));
    common::ok(&rollcall().args(["rebuild", d]).output().unwrap());
    assert!(
        output == files(&data.join("output").join(SCHOOL)),
        "rebuild changed output/"
    );

    // The uninterrupted reference run of the same shots and commands.
    let reference = soak.path("ref/data");
    let ref_roster = soak.path("ref/roster");
    write_roster(&ref_roster, classes, &[]);
    let r = reference.to_str().unwrap();
    common::ok(
        &rollcall()
            .args(["session", "start", r])
            .arg(ref_roster.join(SCHOOL))
            .output()
            .unwrap(),
    );
    let ref_spool = soak.path("ref/spool");
    std::fs::create_dir_all(&ref_spool).unwrap();
    for step in &soak.steps {
        match step {
            Step::Shots(list) if list.is_empty() => {}
            Step::Shots(list) => {
                for &i in list {
                    std::fs::write(ref_spool.join(format!("{i:05}.jpg")), &soak.shots[i]).unwrap();
                    std::thread::sleep(Duration::from_millis(2));
                }
                common::ok(
                    &rollcall()
                        .args([
                            "session",
                            "run",
                            r,
                            "--until-idle",
                            "--jobs",
                            "2",
                            "--spool",
                        ])
                        .arg(&ref_spool)
                        .output()
                        .unwrap(),
                );
            }
            Step::Class(c) => {
                common::ok(
                    &rollcall()
                        .args(["session", "class", r, c])
                        .output()
                        .unwrap(),
                );
            }
            Step::Skip => {
                common::ok(&rollcall().args(["session", "skip", r]).output().unwrap());
            }
            Step::Reload(renamed) => {
                write_roster(&ref_roster, classes, renamed);
                common::ok(&rollcall().args(["session", "reload", r]).output().unwrap());
            }
        }
    }
    let ref_originals = files(&reference.join("originals").join(SCHOOL));
    let ref_output = files(&reference.join("output").join(SCHOOL));
    let misfiled = originals
        .keys()
        .filter(|k| !ref_originals.contains_key(*k))
        .count()
        + output
            .iter()
            .filter(|(k, v)| ref_output.get(*k) != Some(v))
            .count()
        + ref_output
            .keys()
            .filter(|k| !output.contains_key(*k))
            .count();
    eprintln!(
        "soak: {} frames ({} photos filed), {} kills, {} cable pulls, {} roster reloads, a full disk for {:.1} s; lost 0, stored twice 0, misfiled {misfiled}; {:.0} s (reference run {:.0} s)",
        soak.shots.len(),
        output.len(),
        soak.kills,
        soak.unplugs,
        soak.reloads,
        soak.disk_full.as_secs_f64(),
        soak_time.as_secs_f64(),
        (started.elapsed() - soak_time).as_secs_f64(),
    );
    if std::env::var_os("ROLLCALL_SOAK_DEBUG").is_some() {
        let st = rollcall().args(["session", "status", d]).output().unwrap();
        eprintln!("{}", String::from_utf8_lossy(&st.stdout));
        for k in originals.keys().filter(|k| !ref_originals.contains_key(*k)) {
            eprintln!("original only in the soak: {k}");
        }
        for k in ref_originals.keys().filter(|k| !originals.contains_key(*k)) {
            eprintln!("original only in the reference: {k}");
        }
        for (k, v) in &output {
            if ref_output.get(k) != Some(v) {
                eprintln!(
                    "output differs: {k} (in reference: {})",
                    ref_output.contains_key(k)
                );
            }
        }
        let _ = Command::new("cp")
            .args([
                "-a",
                d,
                soak.root.path().join("soak-data").to_str().unwrap(),
            ])
            .status();
    }
    assert_eq!(
        misfiled, 0,
        "originals or output differ from the uninterrupted run"
    );
    assert_eq!(
        originals.keys().collect::<Vec<_>>(),
        ref_originals.keys().collect::<Vec<_>>()
    );
    assert!(soak.kills > 0 && soak.reloads > 0 && soak.disk_full > Duration::ZERO);
    if iolibs.is_some() {
        assert!(soak.unplugs > 0);
    }
}
