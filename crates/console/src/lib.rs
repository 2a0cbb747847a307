//! The operator console: an embedded page and a JSON API over a running session (axum), with
//! live updates by server-sent events.
//!
//! The session runs on its own thread ([`session::runner`]); the console sees it through a
//! [`Snapshot`] published after every change (a `watch` channel) and changes it only through
//! the session's [`Remote`]. Security: bound to loopback the console is open to the machine's
//! user; bound elsewhere every request needs the token (a `?token=` link once, then a cookie).
//! Every state-changing request is a POST with the per-process CSRF token in a header and, when
//! the browser sends one, a same-origin `Origin`. Images are served by frame number, never by a
//! path from the request.

pub mod view;

use std::path::PathBuf;
use std::sync::Arc;

use axum::Router;
use axum::extract::{Path, Query, Request, State as AxumState};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::sse::{Event as SseEvent, KeepAlive, Sse};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use serde::Deserialize;
use serde_json::json;
use session::event::{Event, Move};
use session::runner::{Rejected, Remote, Request as Command};
use session::{Layout, State};
use tokio::sync::watch;

pub use view::View;

/// The session as last published.
#[derive(Debug, Clone)]
pub struct Snapshot {
    pub state: State,
    pub view: View,
}

impl Snapshot {
    pub fn new(state: &State, shot_limit: usize) -> Snapshot {
        Snapshot {
            view: view::build(state, shot_limit),
            state: state.clone(),
        }
    }
}

/// Reads the roster files again (the console's "reload roster"): given the session's sources,
/// the freshly checked roster or a message for the operator. File I/O lives with the caller.
pub struct Loader(pub Box<LoadFn>);

/// Roster sources in, the checked roster or an operator message out.
pub type LoadFn = dyn Fn(&[String]) -> Result<roster::Roster, String> + Send + Sync;

impl std::fmt::Debug for Loader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Loader")
    }
}

/// Everything the handlers need.
#[derive(Debug)]
pub struct Console {
    pub remote: Remote,
    pub snapshot: watch::Receiver<Arc<Snapshot>>,
    pub layout: Layout,
    /// Required on every request when set (the console listens beyond loopback).
    pub token: Option<String>,
    /// Required on every POST.
    pub csrf: String,
    /// The spool folder, where a running `rollcall tether` has its control socket.
    pub spool: Option<PathBuf>,
    /// Reads the roster files for a reload; `None`: reloading is not offered.
    pub loader: Option<Loader>,
    /// Pass/fail sounds in the page.
    pub sounds: bool,
}

type Shared = Arc<Console>;

const PAGE: &str = include_str!("../static/index.html");
const TOKEN_COOKIE: &str = "rollcall_token";

/// The console's routes.
pub fn router(console: Shared) -> Router {
    Router::new()
        .route("/", get(page))
        .route("/api/state", get(state))
        .route("/api/events", get(events))
        .route("/api/command", post(command))
        .route("/api/trigger", post(trigger))
        .route("/api/camera", get(camera))
        .route("/api/search", get(search))
        .route("/api/photo/{frame}", get(photo))
        .route("/api/original/{frame}", get(original))
        .layer(middleware::from_fn_with_state(console.clone(), guard))
        .with_state(console)
}

/// Serves until `shutdown` completes.
pub async fn serve(
    listener: tokio::net::TcpListener,
    console: Shared,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(listener, router(console))
        .with_graceful_shutdown(shutdown)
        .await
}

/// A random token (hex), from the kernel's generator.
pub fn random_token() -> std::io::Result<String> {
    use std::io::Read;
    let mut bytes = [0u8; 16];
    std::fs::File::open("/dev/urandom")?.read_exact(&mut bytes)?;
    Ok(bytes.iter().map(|b| format!("{b:02x}")).collect())
}

fn error(status: StatusCode, zh: &str, en: &str) -> Response {
    (
        status,
        axum::Json(json!({ "error": { "zh": zh, "en": en } })),
    )
        .into_response()
}

fn cookie_token(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == TOKEN_COOKIE)
        .map(|(_, v)| v.to_string())
}

#[derive(Debug, Deserialize)]
struct TokenQuery {
    token: Option<String>,
}

/// Token (when listening beyond loopback) and CSRF checks, before any handler.
async fn guard(
    AxumState(console): AxumState<Shared>,
    Query(query): Query<TokenQuery>,
    request: Request,
    next: Next,
) -> Response {
    if let Some(token) = &console.token {
        let from_query = query.token.as_deref() == Some(token.as_str());
        let from_cookie = cookie_token(request.headers()).as_deref() == Some(token.as_str());
        if !from_query && !from_cookie {
            return error(
                StatusCode::UNAUTHORIZED,
                "需要访问令牌：请用 rollcall console url 显示的链接打开",
                "a token is required: open the link `rollcall console url` shows",
            );
        }
        if from_query && request.method() == axum::http::Method::GET {
            // Remember the token in a cookie and drop it from the address bar.
            let mut response = Redirect::to(request.uri().path()).into_response();
            let cookie = format!("{TOKEN_COOKIE}={token}; Path=/; HttpOnly; SameSite=Strict");
            if let Ok(value) = HeaderValue::from_str(&cookie) {
                response.headers_mut().insert(header::SET_COOKIE, value);
            }
            return response;
        }
    }
    if request.method() == axum::http::Method::POST {
        let headers = request.headers();
        let host = headers.get(header::HOST).and_then(|h| h.to_str().ok());
        if let Some(origin) = headers.get(header::ORIGIN).and_then(|o| o.to_str().ok()) {
            let same = host.is_some_and(|h| {
                origin == format!("http://{h}") || origin == format!("https://{h}")
            });
            if !same {
                return error(
                    StatusCode::FORBIDDEN,
                    "拒绝来自其他网站的请求",
                    "cross-origin request refused",
                );
            }
        }
        let csrf = headers.get("x-rollcall-csrf").and_then(|v| v.to_str().ok());
        if csrf != Some(console.csrf.as_str()) {
            return error(
                StatusCode::FORBIDDEN,
                "页面已过期，请刷新后重试",
                "missing or wrong CSRF token: reload the page",
            );
        }
    }
    next.run(request).await
}

async fn page(AxumState(console): AxumState<Shared>) -> Html<String> {
    let sounds = if console.sounds { "on" } else { "off" };
    Html(
        PAGE.replace("{{CSRF}}", &console.csrf)
            .replace("{{SOUNDS}}", sounds),
    )
}

async fn state(AxumState(console): AxumState<Shared>) -> Response {
    let snapshot = console.snapshot.borrow().clone();
    let mut response = axum::Json(&snapshot.view).into_response();
    if let Ok(v) = HeaderValue::from_str(&console.csrf) {
        response.headers_mut().insert("x-rollcall-csrf", v);
    }
    response
}

async fn events(AxumState(console): AxumState<Shared>) -> impl IntoResponse {
    let rx = console.snapshot.clone();
    let stream = futures_util::stream::unfold((rx, true), |(mut rx, first)| async move {
        if !first && rx.changed().await.is_err() {
            return None;
        }
        let snapshot = rx.borrow_and_update().clone();
        let data = serde_json::to_string(&snapshot.view).unwrap_or_else(|_| "{}".into());
        let event = SseEvent::default().event("view").data(data);
        Some((Ok::<_, std::convert::Infallible>(event), (rx, false)))
    });
    Sse::new(stream).keep_alive(KeepAlive::default())
}

/// A command as the page and `rollcall ctl` send it.
#[derive(Debug, Deserialize)]
#[serde(tag = "command", rename_all = "snake_case")]
pub enum CommandBody {
    /// Default student: the one whose turn it is.
    Skip {
        student: Option<String>,
    },
    /// Default student: the one of the last frame.
    Retake {
        student: Option<String>,
    },
    /// Default frame: the last one.
    Accept {
        frame: Option<u64>,
        reason: String,
    },
    Undo,
    Shift {
        n: usize,
        #[serde(default)]
        back: bool,
    },
    Jump {
        student: String,
    },
    Add {
        name: String,
        class: String,
        id: Option<String>,
    },
    Choose {
        frame: u64,
    },
    Class {
        class: String,
    },
    NoPhoto {
        student: String,
        #[serde(default)]
        needed: bool,
    },
    Assign {
        frame: u64,
        student: Option<String>,
    },
    /// Read the roster files again (handled by the console with its [`Loader`]).
    Reload,
}

fn refused(zh: String, en: String) -> Rejected {
    Rejected {
        zh,
        en,
        refused: true,
    }
}

fn resolve(state: &State, query: &str) -> Result<String, Rejected> {
    state
        .resolve(query)
        .map(|s| state.students[s].rec.key.clone())
        .map_err(|r| refused(r.zh(), r.to_string()))
}

/// Turns a request body into a session command, resolving names against the state.
pub fn to_command(state: &State, body: CommandBody) -> Result<Command, Rejected> {
    let none = |zh: &str, en: &str| refused(zh.into(), en.into());
    Ok(match body {
        CommandBody::Skip { student } => {
            let key = match student {
                Some(q) => resolve(state, &q)?,
                None => state
                    .cursor
                    .map(|s| state.students[s].rec.key.clone())
                    .ok_or_else(|| none("没有待拍的学生", "no student is next"))?,
            };
            Command::Event(Event::Skipped { student: key })
        }
        CommandBody::Retake { student } => {
            let key = match student {
                Some(q) => resolve(state, &q)?,
                None => state
                    .frames
                    .iter()
                    .rev()
                    .find_map(|f| f.owner)
                    .map(|s| state.students[s].rec.key.clone())
                    .ok_or_else(|| none("还没有照片", "no frame yet"))?,
            };
            Command::Event(Event::Retake { student: key })
        }
        CommandBody::Accept { frame, reason } => {
            let frame = frame
                .or_else(|| state.frames.last().map(|f| f.id))
                .ok_or_else(|| none("还没有照片", "no frame yet"))?;
            if reason.trim().is_empty() {
                return Err(none("请填写强制采用的理由", "give a reason"));
            }
            Command::Event(Event::AcceptedAnyway { frame, reason })
        }
        CommandBody::Undo => Command::Undo,
        CommandBody::Shift { n, back } => Command::Shift { n, forward: !back },
        CommandBody::Jump { student } => Command::Event(Event::Jumped {
            student: resolve(state, &student)?,
        }),
        CommandBody::Add { name, class, id } => {
            let student = state
                .walk_in(
                    &name,
                    &class,
                    id.as_deref(),
                    chrono::Local::now().date_naive(),
                )
                .map_err(|r| refused(r.zh(), r.to_string()))?;
            Command::Event(Event::StudentAdded { student })
        }
        CommandBody::Choose { frame } => Command::Event(Event::TakeChosen { frame }),
        CommandBody::Class { class } => Command::Event(Event::ClassChosen { class }),
        CommandBody::NoPhoto { student, needed } => Command::Event(Event::PhotoNeeded {
            student: resolve(state, &student)?,
            needed,
        }),
        CommandBody::Reload => {
            return Err(none(
                "此处不能重新载入名册",
                "reload is handled by the console itself",
            ));
        }
        CommandBody::Assign { frame, student } => {
            let from = state
                .frame_state(frame)
                .ok_or_else(|| {
                    let r = session::Refusal::UnknownFrame(frame);
                    refused(r.zh(), r.to_string())
                })?
                .owner
                .map(|s| state.students[s].rec.key.clone());
            let to = match student.as_deref() {
                None | Some("") | Some("none") => None,
                Some(q) => Some(resolve(state, q)?),
            };
            Command::Event(Event::Reassigned {
                moves: vec![Move { frame, from, to }],
            })
        }
    })
}

async fn command(
    AxumState(console): AxumState<Shared>,
    axum::Json(body): axum::Json<CommandBody>,
) -> Response {
    let state = console.snapshot.borrow().state.clone();
    if matches!(body, CommandBody::Reload) {
        return reload(console, state).await;
    }
    let request = match to_command(&state, body) {
        Ok(r) => r,
        Err(r) => return (StatusCode::CONFLICT, axum::Json(json!({ "error": r }))).into_response(),
    };
    let remote = console.remote.clone();
    let result = tokio::task::spawn_blocking(move || remote.command(request)).await;
    match result {
        Ok(Ok(line)) => axum::Json(json!({ "ok": true, "line": line })).into_response(),
        Ok(Err(r)) => {
            let status = if r.refused {
                StatusCode::CONFLICT
            } else {
                StatusCode::SERVICE_UNAVAILABLE
            };
            (status, axum::Json(json!({ "error": r }))).into_response()
        }
        Err(_) => error(
            StatusCode::INTERNAL_SERVER_ERROR,
            "内部错误",
            "internal error",
        ),
    }
}

/// Reads the roster files again and applies them; answers with what changed.
async fn reload(console: Shared, state: State) -> Response {
    let sources = state.sources.clone();
    let task = tokio::task::spawn_blocking(move || {
        let loader = console.loader.as_ref().ok_or_else(|| {
            refused(
                "这个控制台不能重新载入名册：请用 rollcall session reload".into(),
                "this console cannot reload the roster".into(),
            )
        })?;
        let roster = (loader.0)(&sources).map_err(|m| refused(m.clone(), m))?;
        let line = console
            .remote
            .command(Command::Reload(Box::new(roster), sources))?;
        // The recorded line holds the school's students as the engine picked them: the diff
        // against the state before it is what changed.
        let diff = match &line.event {
            Event::RosterLoaded { students, .. } => Some(session::reload::diff(&state, students)),
            _ => None,
        };
        Ok::<_, Rejected>((diff, line))
    })
    .await;
    match task {
        Ok(Ok((diff, line))) => {
            axum::Json(json!({ "ok": true, "line": line, "diff": diff })).into_response()
        }
        Ok(Err(r)) => (StatusCode::CONFLICT, axum::Json(json!({ "error": r }))).into_response(),
        Err(_) => error(
            StatusCode::INTERNAL_SERVER_ERROR,
            "内部错误",
            "internal error",
        ),
    }
}

#[derive(Debug, Deserialize)]
struct SearchQuery {
    q: String,
}

async fn search(AxumState(console): AxumState<Shared>, Query(q): Query<SearchQuery>) -> Response {
    let snapshot = console.snapshot.borrow().clone();
    let state = &snapshot.state;
    let found: Vec<_> = state
        .search(&q.q)
        .into_iter()
        .take(20)
        .map(|s| {
            let r = &state.students[s].rec;
            json!({
                "key": r.key, "name": r.name, "class": r.class, "row": r.row,
                "id": roster::id::mask(&r.id_text), "standing": state.standing(s).zh(),
            })
        })
        .collect();
    axum::Json(found).into_response()
}

fn jpeg(bytes: Vec<u8>) -> Response {
    (
        [
            (header::CONTENT_TYPE, "image/jpeg"),
            (header::CACHE_CONTROL, "private, max-age=3600"),
        ],
        bytes,
    )
        .into_response()
}

async fn photo(AxumState(console): AxumState<Shared>, Path(frame): Path<u64>) -> Response {
    let school = console.snapshot.borrow().state.school.clone();
    match tokio::fs::read(console.layout.photo(&school, frame)).await {
        Ok(bytes) => jpeg(bytes),
        Err(_) => error(StatusCode::NOT_FOUND, "没有这张照片", "no such photo"),
    }
}

async fn original(AxumState(console): AxumState<Shared>, Path(frame): Path<u64>) -> Response {
    let path = {
        let snapshot = console.snapshot.borrow();
        console.layout.original(&snapshot.state, frame)
    };
    let Some(path) = path else {
        return error(StatusCode::NOT_FOUND, "没有这张照片", "no such frame");
    };
    match tokio::fs::read(&path).await {
        Ok(bytes) if path.extension().is_some_and(|e| e == "jpg" || e == "jpeg") => jpeg(bytes),
        Ok(bytes) => ([(header::CONTENT_TYPE, "application/octet-stream")], bytes).into_response(),
        Err(_) => error(
            StatusCode::NOT_FOUND,
            "原始照片不在预期位置",
            "original not found",
        ),
    }
}

/// Sends one line to the running tether's control socket and returns its answer.
async fn tether(console: &Console, line: &str) -> Option<String> {
    use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
    let socket = console.spool.as_ref()?.join(".tether.sock");
    let stream = tokio::net::UnixStream::connect(socket).await.ok()?;
    let (read, mut write) = stream.into_split();
    write.write_all(format!("{line}\n").as_bytes()).await.ok()?;
    let mut answer = String::new();
    let mut reader = BufReader::new(read);
    let read_line = reader.read_line(&mut answer);
    tokio::time::timeout(std::time::Duration::from_secs(3), read_line)
        .await
        .ok()?
        .ok()?;
    Some(answer.trim().to_string())
}

async fn trigger(AxumState(console): AxumState<Shared>) -> Response {
    match tether(&console, "trigger").await.as_deref() {
        Some("ok") => axum::Json(json!({ "ok": true })).into_response(),
        _ => error(
            StatusCode::SERVICE_UNAVAILABLE,
            "没有连接相机：请运行 rollcall tether（或用相机快门拍摄）",
            "no tethered camera: run `rollcall tether` (or use the camera's shutter)",
        ),
    }
}

async fn camera(AxumState(console): AxumState<Shared>) -> Response {
    match tether(&console, "status").await {
        Some(text) => match serde_json::from_str::<serde_json::Value>(&text) {
            Ok(v) => axum::Json(v).into_response(),
            Err(_) => axum::Json(json!({ "state": "unknown", "message": text })).into_response(),
        },
        None => axum::Json(json!({
            "state": "none",
            "message": "未连接相机（没有运行 rollcall tether）；照片可从备用文件夹导入",
        }))
        .into_response(),
    }
}
