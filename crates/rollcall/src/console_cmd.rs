//! The console's wiring: starting it beside a running session (`rollcall session run
//! --console ADDR`), `rollcall console url`, and `rollcall ctl`, the command line on the
//! console's API.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::{Context, Result, bail};
use clap::{Args, Subcommand};
use console::api::{ConsoleInfo, Done, Failure, MakeUpList, Recorded};
use console::{Console, Snapshot, View};
use session::Command;
use session::runner::Remote;
use tokio::sync::watch;

/// Where a running console can be reached, written to `<DATA>/console.json` at start.
const INFO: &str = "console.json";
const TOKEN_FILE: &str = "console.token";

/// The token for a console listening beyond loopback: made on first start, kept owner-only in
/// the data folder.
fn token(data: &Path) -> Result<String> {
    let path = data.join(TOKEN_FILE);
    if let Ok(t) = std::fs::read_to_string(&path) {
        let t = t.trim().to_string();
        if !t.is_empty() {
            return Ok(t);
        }
    }
    let t = console::random_token().context("cannot make a token")?;
    session::layout::write_atomic(&path, t.as_bytes())
        .with_context(|| format!("cannot write {}", path.display()))?;
    Ok(t)
}

/// Makes `token` the console's token (the configuration's `[console] token`).
pub fn set_token(data: &Path, token: &str) -> Result<()> {
    let path = data.join(TOKEN_FILE);
    if std::fs::read_to_string(&path).is_ok_and(|t| t.trim() == token) {
        return Ok(());
    }
    session::layout::write_atomic(&path, token.as_bytes())
        .with_context(|| format!("cannot write {}", path.display()))
}

/// A running console; stops when dropped (its event streams end at once).
pub struct Running {
    pub url: String,
    info: PathBuf,
    pub publish: watch::Sender<Arc<Snapshot>>,
    stop: tokio_util::sync::CancellationToken,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Running {
    /// A token that stops the console (its event streams end at once) when cancelled.
    pub fn stopper(&self) -> tokio_util::sync::CancellationToken {
        self.stop.clone()
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        self.stop.cancel();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
        let _ = std::fs::remove_file(&self.info);
    }
}

/// Starts the console on its own thread (a small tokio runtime).
pub fn start(
    data: &Path,
    addr: SocketAddr,
    remote: Remote,
    first: Snapshot,
    spool: Option<PathBuf>,
    sounds: bool,
    hosts: Vec<String>,
) -> Result<Running> {
    let token = if addr.ip().is_loopback() {
        None
    } else {
        Some(token(data)?)
    };
    let listener = std::net::TcpListener::bind(addr).with_context(|| {
        format!("控制台无法监听 {addr}（端口被占用？）/ cannot listen on {addr}")
    })?;
    listener.set_nonblocking(true)?;
    let local = listener.local_addr()?;
    let host = if addr.ip().is_unspecified() {
        "127.0.0.1".to_string()
    } else {
        local.ip().to_string()
    };
    let base = format!("http://{host}:{}/", local.port());
    let url = match &token {
        Some(t) => format!("{base}?token={t}"),
        None => base.clone(),
    };
    let info = serde_json::to_vec(&ConsoleInfo {
        url: url.clone(),
        base: base.clone(),
        token: token.clone(),
    })?;
    session::layout::write_atomic(&data.join(INFO), &info)?;
    let (publish, snapshot) = watch::channel(Arc::new(first));
    let stop = tokio_util::sync::CancellationToken::new();
    let console = Arc::new(Console {
        remote,
        snapshot,
        layout: session::Layout::new(data),
        token,
        csrf: console::random_token()?,
        spool,
        loader: Some(console::Loader(Box::new(load_roster))),
        sounds,
        bound: local,
        hosts,
        shutdown: stop.clone(),
    });
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()?;
    let thread = std::thread::spawn(move || {
        runtime.block_on(async move {
            let listener = match tokio::net::TcpListener::from_std(listener) {
                Ok(l) => l,
                Err(e) => {
                    tracing::error!(error = %e, "console listener");
                    return;
                }
            };
            if let Err(e) = console::serve(listener, console).await {
                tracing::error!(error = %e, "console stopped");
            }
        });
    });
    Ok(Running {
        url,
        info: data.join(INFO),
        publish,
        stop,
        thread: Some(thread),
    })
}

/// The console's "reload roster": the session's roster files read and checked again.
fn load_roster(sources: &[String]) -> Result<roster::Roster, String> {
    let paths: Vec<PathBuf> = sources.iter().map(PathBuf::from).collect();
    crate::inputs::load(&paths, chrono::Local::now().date_naive(), false).map_err(|e| {
        format!("名册文件无法读取（{e}）：请用 rollcall session reload 指定名册的位置")
    })
}

#[derive(Debug, Subcommand)]
pub enum ConsoleCommand {
    /// The address of the running console, with the token when it needs one (控制台地址).
    Url {
        #[arg(value_name = "DATA")]
        data: PathBuf,
    },
}

pub fn run(cmd: ConsoleCommand) -> Result<ExitCode> {
    let ConsoleCommand::Url { data } = cmd;
    let info = read_info(&data)?;
    crate::emit(&format!("{}\n", info.url))?;
    Ok(ExitCode::SUCCESS)
}

pub fn read_info(data: &Path) -> Result<ConsoleInfo> {
    let path = data.join(INFO);
    let text = std::fs::read_to_string(&path).with_context(|| {
        format!(
            "控制台没有运行（找不到 {}）：先运行 rollcall session run --console / the console is not running",
            path.display()
        )
    })?;
    serde_json::from_str(&text).with_context(|| format!("{} is damaged", path.display()))
}

#[derive(Debug, Args)]
pub struct CtlArgs {
    /// The data folder of the running session.
    #[arg(value_name = "DATA")]
    data: PathBuf,

    #[command(subcommand)]
    command: Ctl,
}

/// Operator commands sent to a running session through its console.
#[derive(Debug, Subcommand)]
enum Ctl {
    /// The console's view of the session, as JSON.
    State,
    /// The student whose turn it is (or STUDENT) is absent.
    Skip { student: Option<String> },
    /// Photograph the student of the last frame (or STUDENT) again.
    Retake { student: Option<String> },
    /// Use the last frame (or FRAME) although it failed a check.
    Accept {
        #[arg(long)]
        reason: String,
        frame: Option<u64>,
    },
    /// Undo the last action.
    Undo,
    /// Move the last N frames one student forward (or back).
    Shift {
        n: usize,
        #[arg(long)]
        back: bool,
    },
    /// Make STUDENT (ID, name, class:row) the next one.
    Jump { student: String },
    /// Add a walk-in student.
    Add {
        #[arg(long)]
        name: String,
        #[arg(long)]
        class: String,
        #[arg(long)]
        id: Option<String>,
    },
    /// Prefer FRAME for its student.
    Choose { frame: u64 },
    /// Photograph CLASS.
    Class { class: String },
    /// STUDENT needs no photo (or, with --needed, needs one).
    NoPhoto {
        student: String,
        #[arg(long)]
        needed: bool,
    },
    /// Give FRAME to STUDENT (`none`: to nobody).
    Assign { frame: u64, student: String },
    /// Press the shutter of the tethered camera.
    Trigger,
    /// Read the roster files again (the school fixed them).
    Reload,
}

/// A client of a running console's API (what `rollcall ctl` and the demo use).
#[derive(Debug)]
pub struct Client {
    agent: ureq::Agent,
    base: String,
    cookie: Option<String>,
    csrf: String,
}

impl Client {
    /// Finds the console of the session in `data` (`console.json`) and asks for its CSRF token.
    pub fn connect(data: &Path) -> Result<Client> {
        let info = read_info(data)?;
        let base = info.base.trim_end_matches('/').to_string();
        let cookie = info.token.map(|t| format!("rollcall_token={t}"));
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(std::time::Duration::from_secs(30)))
            .build()
            .into();
        let mut client = Client {
            agent,
            base,
            cookie,
            csrf: String::new(),
        };
        let response = client.get("/api/state")?;
        client.csrf = response
            .headers()
            .get("x-rollcall-csrf")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_string();
        Ok(client)
    }

    fn get(&self, path: &str) -> Result<ureq::http::Response<ureq::Body>> {
        let mut req = self.agent.get(format!("{}{path}", self.base));
        if let Some(c) = &self.cookie {
            req = req.header("cookie", c);
        }
        req.call()
            .context("控制台没有响应 / the console does not answer")
    }

    /// The console's view (`/api/state`).
    pub fn state(&self) -> Result<View> {
        self.get_json("/api/state")
    }

    /// The school's make-up list (`/api/make-up`).
    pub fn make_up(&self) -> Result<MakeUpList> {
        self.get_json("/api/make-up")
    }

    /// The camera's status (`/api/camera`).
    pub fn camera(&self) -> Result<tether::Status> {
        self.get_json("/api/camera")
    }

    fn get_json<T: serde::de::DeserializeOwned>(&self, path: &str) -> Result<T> {
        self.get(path)?
            .body_mut()
            .read_json()
            .with_context(|| format!("the console's answer to {path} is not understood"))
    }

    /// An operator command (`/api/command`); the answer holds the journal line.
    pub fn command(&self, command: &Command) -> Result<Recorded> {
        self.post("/api/command", command)
    }

    /// Presses the shutter of the tethered camera (`/api/trigger`).
    pub fn trigger(&self) -> Result<Done> {
        self.post("/api/trigger", &())
    }

    /// A POST; an error carries the console's message in Chinese and English.
    fn post<T: serde::de::DeserializeOwned>(
        &self,
        path: &str,
        body: &impl serde::Serialize,
    ) -> Result<T> {
        let mut req = self
            .agent
            .post(format!("{}{path}", self.base))
            .header("x-rollcall-csrf", &self.csrf);
        if let Some(c) = &self.cookie {
            req = req.header("cookie", c);
        }
        let mut response = req
            .send_json(body)
            .context("控制台没有响应 / the console does not answer")?;
        let status = response.status();
        if status.is_success() {
            return response
                .body_mut()
                .read_json()
                .with_context(|| format!("the console's answer to {path} is not understood"));
        }
        match response.body_mut().read_json::<Failure>() {
            Ok(Failure { error }) => {
                bail!("{}\n  ({}; HTTP {status})", error.text.zh, error.text.en)
            }
            Err(_) => bail!("控制台拒绝了请求 / the console refused the request (HTTP {status})"),
        }
    }
}

/// The body of a command for the console's `/api/command`.
pub fn ctl(a: CtlArgs) -> Result<ExitCode> {
    let client = Client::connect(&a.data)?;
    let command = match a.command {
        Ctl::State => {
            let view = client.state()?;
            crate::emit(&roster::id::mask_all(
                &(serde_json::to_string_pretty(&view)? + "\n"),
            ))?;
            return Ok(ExitCode::SUCCESS);
        }
        Ctl::Trigger => {
            let answer = client.trigger()?;
            crate::emit(&(serde_json::to_string_pretty(&answer)? + "\n"))?;
            return Ok(ExitCode::SUCCESS);
        }
        Ctl::Skip { student } => Command::Skip { student },
        Ctl::Retake { student } => Command::Retake { student },
        Ctl::Accept { reason, frame } => Command::Accept { frame, reason },
        Ctl::Undo => Command::Undo,
        Ctl::Shift { n, back } => Command::Shift { n, back },
        Ctl::Jump { student } => Command::Jump { student },
        Ctl::Add { name, class, id } => Command::Add { name, class, id },
        Ctl::Choose { frame } => Command::Choose { frame },
        Ctl::Class { class } => Command::Class { class },
        Ctl::NoPhoto { student, needed } => Command::NoPhoto { student, needed },
        Ctl::Reload => Command::Reload,
        Ctl::Assign { frame, student } => Command::Assign {
            frame,
            student: Some(student),
        },
    };
    let answer = client.command(&command)?;
    // The recorded line names students by key, which is often the full ID: stdout ends up in
    // logs and terminals, so it is masked like every log line.
    crate::emit(&roster::id::mask_all(
        &(serde_json::to_string_pretty(&answer)? + "\n"),
    ))?;
    Ok(ExitCode::SUCCESS)
}
