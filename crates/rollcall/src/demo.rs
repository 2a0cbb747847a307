//! `rollcall demo`: a photo day in a minute, without a camera. Writes the bundled public-domain
//! roster and a configuration into a fresh data folder, starts `rollcall daemon` on it as a
//! child process with a demo camera — libgphoto2's virtual camera when it has been built
//! (`scripts/build-vcamera`), otherwise the built-in demo camera — and plays the photographer
//! and the operator through the console's API: passes, failures with their reasons, a retake,
//! an absent student skipped; then prints the make-up list and leaves the console running.
//!
//! Also [`frames`]: the bundled frames, which the daemon's `source = "demo"` camera shoots.

use std::path::{Path, PathBuf};
use std::process::{Child, ExitCode};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use clap::{Args, ValueEnum};

use kit::client::Client;

use crate::{lang, say};
use kit::demo::{FRAMES, ROSTER};

/// After which shot (1-based) the operator marks the next student absent.
const SKIP_AFTER: usize = 4;

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum DemoCamera {
    /// The virtual camera when it has been built, otherwise the built-in one.
    Auto,
    /// libgphoto2's virtual camera (scripts/build-vcamera).
    Virtual,
    /// The built-in demo camera.
    Builtin,
}

#[derive(Debug, Args)]
pub struct DemoArgs {
    /// The demo's data folder, recreated on every run (default: ~/rollcall-demo).
    #[arg(long, value_name = "DIR")]
    data: Option<PathBuf>,

    /// The console's address (port 0: any free port).
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:8750")]
    console: std::net::SocketAddr,

    /// Seconds between shots.
    #[arg(long, value_name = "SECS", default_value_t = 2.0)]
    pace: f64,

    #[arg(long, value_enum, default_value_t = DemoCamera::Auto)]
    camera: DemoCamera,

    /// Stop the daemon when the demo is done, instead of leaving the console running.
    #[arg(long)]
    exit: bool,

    /// Open the console in the desktop's browser (the default on a desktop, unless --exit).
    #[arg(long)]
    open: bool,

    /// Do not open a browser.
    #[arg(long, conflicts_with = "open")]
    no_open: bool,
}

/// Marks a folder the demo made (and may recreate).
const MARKER: &str = ".rollcall-demo";

/// libgphoto2's virtual camera port driver, built by scripts/build-vcamera.
fn virtual_camera() -> Option<PathBuf> {
    if let Some(dir) = std::env::var_os("ROLLCALL_VCAMERA_IOLIBS") {
        let dir = PathBuf::from(dir);
        return dir.join("vusb.so").exists().then_some(dir);
    }
    // target/<profile>/rollcall → target/vcamera/iolibs
    let exe = std::env::current_exe().ok()?;
    let dir = exe.parent()?.parent()?.join("vcamera/iolibs");
    dir.join("vusb.so").exists().then_some(dir)
}

fn prepare(data: &Path) -> Result<()> {
    if data.exists() {
        if !data.join(MARKER).exists() {
            bail!(say(
                format!("{} 已存在且不是演示目录，请换一个 --data", data.display()),
                format!(
                    "{} exists and is not a demo folder: give another --data",
                    data.display()
                ),
            ));
        }
        std::fs::remove_dir_all(data)
            .with_context(|| format!("cannot remove the old demo {}", data.display()))?;
    }
    session::layout::create_private_dir(data)?;
    std::fs::write(data.join(MARKER), b"made by rollcall demo\n")?;
    let roster = data.join("名册").join(ROSTER.0);
    if let Some(parent) = roster.parent() {
        std::fs::create_dir_all(parent)?;
    }
    std::fs::write(&roster, ROSTER.1)?;
    Ok(())
}

/// The photographer: presses the shutter of whichever camera the daemon has.
enum Photographer {
    Builtin,
    Virtual { dir: PathBuf, presses: usize },
}

impl Photographer {
    fn press(&mut self, client: &Client, shot: usize) -> Result<()> {
        match self {
            Photographer::Builtin => {
                client.trigger()?;
            }
            Photographer::Virtual { dir, presses } => {
                // The virtual camera "takes" the image a press file names.
                let (name, bytes) = FRAMES[shot % FRAMES.len()];
                *presses += 1;
                let image = dir.join(format!("images/{:04}-{name}", *presses));
                let shot_number = u64::try_from(*presses).unwrap_or(u64::MAX);
                std::fs::write(&image, tether::demo::unique_shot(bytes, shot_number))?;
                let tmp = dir.join(format!("presses/.{presses}.tmp"));
                std::fs::write(&tmp, format!("{}\n", image.display()))?;
                std::fs::rename(&tmp, dir.join(format!("presses/{:08}", *presses)))?;
            }
        }
        Ok(())
    }
}

pub fn run(a: DemoArgs) -> Result<ExitCode> {
    let data = match a.data {
        Some(d) => std::path::absolute(d)?,
        None => {
            let home = std::env::var_os("HOME").context("HOME is not set: give --data")?;
            PathBuf::from(home).join("rollcall-demo")
        }
    };
    prepare(&data)?;
    let vcamera = match a.camera {
        DemoCamera::Builtin => None,
        DemoCamera::Auto => virtual_camera(),
        DemoCamera::Virtual => Some(virtual_camera().context(say(
            "虚拟相机尚未构建：请运行 scripts/build-vcamera",
            "the virtual camera is not built: run scripts/build-vcamera",
        ))?),
    };
    // The usual port may be taken (another rollcall): any free one will do for a demo.
    let mut listen = a.console;
    if std::net::TcpListener::bind(listen).is_err() {
        println!(
            "{}",
            say(
                format!("{listen} 已被占用，改用任一空闲端口"),
                format!("{listen} is in use: any free port"),
            )
        );
        listen.set_port(0);
    }
    let roster_dir = data.join("名册/梧州市示例中学");
    // Written by serde from the daemon's own Config type: paths with quotes or backslashes
    // come out as TOML, not as Rust's Debug escaping.
    let config = kit::config::Config {
        data: data.clone(),
        roster: vec![roster_dir],
        school: None,
        profile: pipeline::spec::DEFAULT_PROFILE.into(),
        shot_limit: 4,
        jobs: None,
        kindergarten_photos: false,
        low_space_mb: session::engine::LOW_SPACE_BYTES / 1_000_000,
        camera: kit::config::CameraSection {
            source: if vcamera.is_some() {
                kit::config::SourceName::Camera
            } else {
                kit::config::SourceName::Demo
            },
            demo_pace: 0.0,
            ..Default::default()
        },
        console: kit::config::ConsoleSection {
            listen,
            sounds: true,
            ..Default::default()
        },
        office: kit::config::OfficeSection::default(),
    };
    let config = toml::to_string(&config).context("cannot write the demo's configuration")?;
    let config_path = data.join("rollcall.toml");
    std::fs::write(&config_path, config)?;

    let log_path = data.join("daemon.log");
    let log = std::fs::File::create(&log_path)?;
    let mut command = std::process::Command::new(std::env::current_exe()?);
    command
        .args(["daemon", "--config"])
        .arg(&config_path)
        .stdout(std::process::Stdio::null())
        .stderr(log);
    let mut photographer = Photographer::Builtin;
    if let Some(iolibs) = &vcamera {
        let dir = data.join("camera");
        for d in ["card/DCIM/100NIKON", "presses", "images", "home"] {
            std::fs::create_dir_all(dir.join(d))?;
        }
        command
            .env("IOLIBS", iolibs)
            .env("VCAMERADIR", dir.join("card"))
            .env("VCAMERA_PRESSES", dir.join("presses"))
            .env("VCAMERA_UNPLUG", dir.join("unplugged"))
            .env("HOME", dir.join("home"));
        photographer = Photographer::Virtual { dir, presses: 0 };
    }
    let camera = if vcamera.is_some() {
        say("libgphoto2 虚拟相机", "libgphoto2's virtual camera")
    } else {
        say("内置演示相机", "the built-in demo camera")
    };
    println!(
        "== {} {}（{camera}）",
        say("rollcall 演示：", "rollcall demo:"),
        data.display()
    );
    let child = command.spawn().context("cannot start rollcall daemon")?;
    let mut daemon = Daemon { child };
    let client = wait_for_console(&data, &mut daemon, &log_path)?;
    let url = kit::console::read_info(&data)?.url;
    println!("{}: {url}", say("控制台", "console"));
    let desktop =
        std::env::var_os("DISPLAY").is_some() || std::env::var_os("WAYLAND_DISPLAY").is_some();
    if a.open || (desktop && !a.exit && !a.no_open) {
        // The browser is a convenience: without one the printed address is enough.
        match std::process::Command::new("xdg-open")
            .arg(&url)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
        {
            Ok(_) => println!("{}", say("正在浏览器中打开", "opening it in the browser")),
            Err(e) => println!(
                "{}",
                say(
                    format!("无法打开浏览器（{e}），请手动打开上面的地址"),
                    format!("cannot open a browser ({e}): open the address by hand"),
                )
            ),
        }
    }
    wait_for_camera(&client)?;

    let stop = Arc::new(AtomicBool::new(false));
    for signal in [signal_hook::consts::SIGINT, signal_hook::consts::SIGTERM] {
        signal_hook::flag::register(signal, Arc::clone(&stop))?;
    }
    let pace = Duration::from_secs_f64(a.pace.clamp(0.0, 60.0));
    for shot in 0..FRAMES.len() {
        if stop.load(Ordering::Relaxed) {
            break;
        }
        if shot == SKIP_AFTER {
            let view = client.state()?;
            let name = view.next.map(|p| p.name).unwrap_or_default();
            client.command(&session::Command::Skip { student: None })?;
            println!(
                "{}",
                say(
                    format!("跳过：{name} 缺席"),
                    format!("skip: {name} is absent"),
                )
            );
        }
        let before = u64::try_from(client.state()?.frames).unwrap_or(u64::MAX);
        photographer.press(&client, shot)?;
        let last = wait_for_verdict(&client, before + 1, &mut daemon)?;
        let who = last
            .student
            .clone()
            .unwrap_or_else(|| say("（未分配）", "(unassigned)"));
        let n = before + 1;
        let reasons: Vec<String> = last
            .reasons
            .iter()
            .map(|r| bilingual::Text::from_both(r).get(lang()).to_string())
            .collect();
        match last.verdict {
            console::api::Verdict::Pass => println!(
                "{}",
                say(
                    format!("第 {n} 张 → {who}：合格"),
                    format!("frame {n} → {who}: pass")
                )
            ),
            _ => println!(
                "{}",
                say(
                    format!("第 {n} 张 → {who}：不合格 — {}", reasons.join("；")),
                    format!("frame {n} → {who}: fail — {}", reasons.join("; ")),
                )
            ),
        }
        std::thread::sleep(pace);
    }

    let make_up = client.make_up()?.make_up;
    let n = make_up.len();
    println!(
        "{}",
        say(
            format!("补拍名单（{n} 人）："),
            format!("make-up list ({n}):")
        )
    );
    for m in &make_up {
        let (class, row, name, id) = (&m.class, m.row, &m.name, &m.id);
        let why = m.standing.text();
        println!(
            "{}",
            say(
                format!("  {class} 第{row}行 {name} {id}  {}", why.zh),
                format!("  {class} row {row} {name} {id}  {}", why.en),
            )
        );
    }
    // The demo's frames show two people for many students: the face guard says so, as it
    // would on a real day when one child is photographed twice.
    let faces = client.state()?.faces;
    if !faces.is_empty() {
        println!(
            "{}",
            say(
                format!(
                    "人脸提示（{} 条；演示照片只有两个人，所以很多学生“长得一样”）：",
                    faces.len()
                ),
                format!(
                    "face warnings ({}; the demo's frames show only two people):",
                    faces.len()
                ),
            )
        );
        for w in faces.iter().take(3) {
            println!("  ⚠ {}", w.message.get(lang()));
        }
        println!(
            "{}",
            say(
                "  控制台上方的黄色提示条：F 改正，D 不是同一人（rollcall session status 也会列出）",
                "  the yellow banner in the console: F repairs, D says two people (rollcall session status lists them too)",
            )
        );
    }
    println!(
        "{}: {}",
        say("照片", "photos"),
        data.join("output").join("梧州市示例中学").display()
    );
    if !a.exit {
        println!(
            "{}",
            say(
                format!("控制台仍在运行：在浏览器中打开 {url}；按 Ctrl-C 结束。"),
                format!("The console keeps running at {url}; Ctrl-C ends the demo."),
            )
        );
        while !stop.load(Ordering::Relaxed) && daemon.running() {
            std::thread::sleep(Duration::from_millis(200));
        }
    }
    daemon.stop()?;
    println!("{}: {}", say("日志", "log"), log_path.display());
    Ok(ExitCode::SUCCESS)
}

/// The daemon child: stopped with SIGTERM (it releases the camera and finishes its frames).
struct Daemon {
    child: Child,
}

impl Daemon {
    fn running(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }

    fn stop(&mut self) -> Result<()> {
        if self.running() {
            let pid = nix::unistd::Pid::from_raw(i32::try_from(self.child.id()).unwrap_or(0));
            let _ = nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGTERM);
        }
        let status = self.child.wait()?;
        if !status.success() {
            bail!("rollcall daemon ended with {status}");
        }
        Ok(())
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        if self.running() {
            let _ = self.stop();
        }
    }
}

fn wait_for_console(data: &Path, daemon: &mut Daemon, log: &Path) -> Result<Client> {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if !daemon.running() {
            let text = std::fs::read_to_string(log).unwrap_or_default();
            bail!("rollcall daemon stopped:\n{text}");
        }
        if data.join("console.json").exists()
            && let Ok(client) = Client::connect(data)
        {
            return Ok(client);
        }
        if Instant::now() > deadline {
            bail!(
                "the console did not start within a minute; see {}",
                log.display()
            );
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Waits until the camera is connected (the virtual one is detected within a second or two).
fn wait_for_camera(client: &Client) -> Result<()> {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let camera = client.camera();
        if let Ok(tether::Status::Connected { .. }) = camera {
            return Ok(());
        }
        if Instant::now() > deadline {
            bail!("the demo camera did not connect: {camera:?}");
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn wait_for_verdict(
    client: &Client,
    frames: u64,
    daemon: &mut Daemon,
) -> Result<console::api::Last> {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let view = client.state()?;
        if u64::try_from(view.frames).unwrap_or(u64::MAX) >= frames
            && let Some(last) = view.last
            && last.verdict != console::api::Verdict::Processing
        {
            return Ok(last);
        }
        if !daemon.running() {
            bail!("rollcall daemon stopped");
        }
        if Instant::now() > deadline {
            bail!("no verdict for frame {frames} within a minute");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}
