//! Hosting the console beside a running session: its address file (`<DATA>/console.json`), its
//! token (`<DATA>/console.token`, owner-only), and the server task on the caller's tokio runtime.
//! The console stops when its [`Running`] is stopped or dropped: its event streams end at once.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use console::api::ConsoleInfo;
use console::{Console, Snapshot};
use session::runner::Remote;
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;

use crate::{Error, Result};

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
    let t = console::random_token().map_err(no_token)?;
    durable::write_atomic(&path, t.as_bytes()).map_err(|e| Error::write(&path, e))?;
    Ok(t)
}

fn no_token(e: std::io::Error) -> Error {
    Error::io(
        bilingual::Text::new("无法生成令牌", "cannot make a token"),
        e,
    )
}

/// Makes `token` the console's token (the configuration's `[console] token`).
pub fn set_token(data: &Path, token: &str) -> Result<()> {
    let path = data.join(TOKEN_FILE);
    if std::fs::read_to_string(&path).is_ok_and(|t| t.trim() == token) {
        return Ok(());
    }
    durable::write_atomic(&path, token.as_bytes()).map_err(|e| Error::write(&path, e))
}

/// What a console needs besides the session.
#[derive(Debug, Clone)]
pub struct Settings {
    pub listen: SocketAddr,
    /// The spool folder (the console's shutter button talks to its control socket).
    pub spool: Option<PathBuf>,
    pub sounds: bool,
    /// Host names a browser may use besides IP addresses and localhost.
    pub hosts: Vec<String>,
}

/// A running console.
#[derive(Debug)]
pub struct Running {
    /// The address with its token when it needs one.
    pub url: String,
    info: PathBuf,
    /// Where the session publishes each new snapshot.
    pub publish: watch::Sender<Arc<Snapshot>>,
    stop: CancellationToken,
    task: Option<tokio::task::JoinHandle<()>>,
}

impl Running {
    /// The address without its token (for logs: the journal is readable by more people than
    /// the console).
    pub fn address(&self) -> &str {
        self.url.split('?').next().unwrap_or_default()
    }

    /// Stops the console (event streams end at once) and waits for its task.
    pub async fn stop(mut self) {
        self.stop.cancel();
        if let Some(task) = self.task.take()
            && task.await.is_err()
        {
            tracing::error!("the console's task failed");
        }
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        self.stop.cancel();
        let _ = std::fs::remove_file(&self.info);
    }
}

/// Starts the console on the current tokio runtime. `stop` ends it (and its event streams);
/// pass a child of the process's shutdown token.
pub fn start(
    data: &Path,
    settings: Settings,
    remote: Remote,
    first: Snapshot,
    stop: CancellationToken,
) -> Result<Running> {
    let addr = settings.listen;
    let token = if addr.ip().is_loopback() {
        None
    } else {
        Some(token(data)?)
    };
    let cannot_listen = |e| {
        Error::io(
            bilingual::Text::new(
                format!("控制台无法监听 {addr}（端口被占用？）"),
                format!("the console cannot listen on {addr} (port in use?)"),
            ),
            e,
        )
    };
    let listener = std::net::TcpListener::bind(addr).map_err(cannot_listen)?;
    listener.set_nonblocking(true).map_err(cannot_listen)?;
    let local = listener.local_addr().map_err(cannot_listen)?;
    let listener = tokio::net::TcpListener::from_std(listener).map_err(cannot_listen)?;
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
    })
    .map_err(|e| Error::invalid(bilingual::Text::new("console.json", "console.json"), e))?;
    let info_path = data.join(INFO);
    durable::write_atomic(&info_path, &info).map_err(|e| Error::write(&info_path, e))?;
    let (publish, snapshot) = watch::channel(Arc::new(first));
    let console = Arc::new(Console {
        remote,
        snapshot,
        layout: session::Layout::new(data),
        token,
        csrf: console::random_token().map_err(no_token)?,
        spool: settings.spool,
        loader: Some(console::Loader(Box::new(load_roster))),
        sounds: settings.sounds,
        bound: local,
        hosts: settings.hosts,
        shutdown: stop.clone(),
    });
    let task = tokio::spawn(async move {
        if let Err(e) = console::serve(listener, console).await {
            tracing::error!(error = %e, "console stopped");
        }
    });
    Ok(Running {
        url,
        info: info_path,
        publish,
        stop,
        task: Some(task),
    })
}

/// The console's "reload roster": the session's roster files read and checked again.
fn load_roster(sources: &[String]) -> Result<roster::Roster, bilingual::Text> {
    let paths: Vec<PathBuf> = sources.iter().map(PathBuf::from).collect();
    crate::inputs::load(&paths, chrono::Local::now().date_naive(), false).map_err(|e| {
        bilingual::Text::new(
            format!("名册文件无法读取（{e}）：请用 rollcall session reload 指定名册的位置"),
            format!("the roster files cannot be read ({e}): give their place with rollcall session reload"),
        )
    })
}

/// The running console's address, from `<DATA>/console.json`.
pub fn read_info(data: &Path) -> Result<ConsoleInfo> {
    let path = data.join(INFO);
    let text = std::fs::read_to_string(&path).map_err(|e| {
        Error::io(
            bilingual::Text::new(
                format!(
                    "控制台没有运行（找不到 {}）：先运行 rollcall daemon 或 rollcall session run --console",
                    path.display()
                ),
                format!(
                    "the console is not running (no {}): start rollcall daemon or rollcall session run --console",
                    path.display()
                ),
            ),
            e,
        )
    })?;
    serde_json::from_str(&text).map_err(|e| {
        Error::invalid(
            bilingual::Text::new(
                format!("{} 已损坏", path.display()),
                format!("{} is damaged", path.display()),
            ),
            e,
        )
    })
}
