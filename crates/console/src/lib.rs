//! The operator console: an embedded page and a JSON API over a running session (axum), with
//! live updates by server-sent events.
//!
//! The session runs on its own thread ([`session::runner`]); the console sees it through a
//! [`Snapshot`] published after every change (a `watch` channel) and changes it only through
//! the session's [`Remote`].
//!
//! Security, in the order a request meets it:
//! - [`serve`] caps the number of connections and gives each 10 s to send its headers, so idle
//!   half-requests cannot take the console (or the process's file descriptors) away;
//! - the `Host` header must be an IP address, a localhost name or a configured name (a page of
//!   another site that resolves its own name to this machine — DNS rebinding — is refused);
//! - bound beyond loopback, every request needs the token: a `?token=` link once (GET only,
//!   then an HttpOnly cookie), the cookie, or `Authorization: Bearer`; compared in constant time;
//! - every POST carries the per-process CSRF token in a header and, when the browser sends one,
//!   a same-origin `Origin`;
//! - every answer has a Content-Security-Policy (scripts and styles only from the console
//!   itself), `X-Frame-Options: DENY` and `nosniff`; error bodies never echo the request.
//!
//! Images are served by frame number, never by a path from the request, and never through a
//! symlink. On shutdown ([`Console::shutdown`]) the event streams end, so a stop is prompt
//! whatever number of pages are open.

pub mod api;
pub mod harden;
pub mod view;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::{Path, Query, Request, State as AxumState};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::sse::{Event as SseEvent, KeepAlive, Sse};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use serde::Deserialize;
use session::Command;
use session::event::Event;
use session::runner::{Rejected, Remote, Request as SessionRequest};
use session::{Engine, Layout, State};
use tether::control;
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;

pub use api::View;
use harden::{bearer, cookie_value, query_token, same_token, secure_headers};
pub use harden::{host_allowed, random_token};

/// The session as last published.
#[derive(Debug, Clone)]
pub struct Snapshot {
    pub state: State,
    pub view: View,
    /// The school's make-up list (`/api/make-up`), built once per change.
    pub make_up: api::MakeUpList,
}

impl Snapshot {
    /// The session as the engine has it now, with the data disk's health.
    pub fn of(engine: &Engine, shot_limit: usize) -> Snapshot {
        let make_up = view::make_up(engine.state());
        Snapshot {
            view: view::build(engine.state(), engine.health(), shot_limit, &make_up),
            state: engine.state().clone(),
            make_up,
        }
    }
}

/// Reads the roster files again (the console's "reload roster"): given the session's sources,
/// the freshly checked roster or a message for the operator. File I/O lives with the caller.
pub struct Loader(pub Box<LoadFn>);

/// Roster sources in, the checked roster or an operator message out.
pub type LoadFn = dyn Fn(&[String]) -> Result<roster::Roster, bilingual::Text> + Send + Sync;

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
    /// Where the console listens (its address is an allowed `Host`).
    pub bound: SocketAddr,
    /// Host names besides IP addresses and localhost that may reach the console (the names a
    /// tablet uses for this laptop).
    pub hosts: Vec<String>,
    /// Cancelled when the process stops: event streams end and [`serve`] returns.
    pub shutdown: CancellationToken,
}

type Shared = Arc<Console>;

const PAGE: &str = include_str!("../static/index.html");
const SCRIPT: &str = include_str!("../static/app.js");
const STYLE: &str = include_str!("../static/app.css");
const TOKEN_COOKIE: &str = "rollcall_token";

/// The console's routes.
pub fn router(console: Shared) -> Router {
    Router::new()
        .route("/", get(page))
        .route("/app.js", get(script))
        .route("/app.css", get(style))
        .route("/api/state", get(state))
        .route("/api/events", get(events))
        .route("/api/command", post(command))
        .route("/api/trigger", post(trigger))
        .route("/api/camera", get(camera))
        .route("/api/office", get(office))
        .route("/api/make-up", get(make_up))
        .route("/api/search", get(search))
        .route("/api/photo/{frame}", get(photo))
        .route("/api/preview/{frame}", get(preview))
        .route("/api/original/{frame}", get(original))
        .fallback(not_found)
        .layer(middleware::from_fn_with_state(console.clone(), guard))
        .layer(middleware::from_fn(secure_headers))
        .with_state(console)
}

/// Serves until the console's shutdown token is cancelled ([`harden::serve`] over plain TCP).
pub async fn serve(listener: tokio::net::TcpListener, console: Shared) -> std::io::Result<()> {
    let shutdown = console.shutdown.clone();
    harden::serve(listener, router(console), shutdown, |stream| async move {
        Ok(stream)
    })
    .await
}

fn error(status: StatusCode, zh: &str, en: &str) -> Response {
    (
        status,
        axum::Json(api::Failure {
            error: Rejected {
                text: bilingual::Text::new(zh, en),
                refused: false,
            },
        }),
    )
        .into_response()
}

async fn not_found() -> Response {
    error(StatusCode::NOT_FOUND, "没有这个页面", "not found")
}

/// Host, token (when listening beyond loopback) and CSRF checks, before any handler.
async fn guard(AxumState(console): AxumState<Shared>, request: Request, next: Next) -> Response {
    let headers = request.headers();
    let host = headers.get(header::HOST).and_then(|h| h.to_str().ok());
    if !host.is_some_and(|h| host_allowed(h, console.bound, &console.hosts)) {
        return error(
            StatusCode::MISDIRECTED_REQUEST,
            "不允许用这个地址访问控制台（请用 rollcall console url 显示的地址；局域网名称请在配置 [console] hosts 中添加）",
            "this host name may not reach the console (use the address `rollcall console url` shows; add LAN names to [console] hosts)",
        );
    }
    let post = request.method() == axum::http::Method::POST;
    if let Some(token) = &console.token {
        let from_query = !post && same_token(query_token(request.uri()).as_deref(), token);
        let from_cookie = same_token(cookie_value(headers, TOKEN_COOKIE).as_deref(), token);
        let from_header = same_token(bearer(headers), token);
        if !from_query && !from_cookie && !from_header {
            return error(
                StatusCode::UNAUTHORIZED,
                "需要访问令牌：请用 rollcall console url 显示的链接打开",
                "a token is required: open the link `rollcall console url` shows",
            );
        }
        if from_query {
            // Remember the token in a cookie and drop it from the address bar. The target is
            // always a path on this console (`//other.site/` would leave it).
            let path = format!("/{}", request.uri().path().trim_start_matches(['/', '\\']));
            let mut response = Redirect::to(&path).into_response();
            let cookie = format!("{TOKEN_COOKIE}={token}; Path=/; HttpOnly; SameSite=Strict");
            if let Ok(value) = HeaderValue::from_str(&cookie) {
                response.headers_mut().insert(header::SET_COOKIE, value);
            }
            return response;
        }
    }
    if post {
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
        if !same_token(csrf, &console.csrf) {
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

async fn script() -> Response {
    (
        [(header::CONTENT_TYPE, "text/javascript; charset=utf-8")],
        SCRIPT,
    )
        .into_response()
}

async fn style() -> Response {
    ([(header::CONTENT_TYPE, "text/css; charset=utf-8")], STYLE).into_response()
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
    use futures_util::StreamExt;
    let rx = console.snapshot.clone();
    let stopped = console.shutdown.clone().cancelled_owned();
    let stream = futures_util::stream::unfold((rx, true), |(mut rx, first)| async move {
        if !first && rx.changed().await.is_err() {
            return None;
        }
        let snapshot = rx.borrow_and_update().clone();
        let data = serde_json::to_string(&snapshot.view).unwrap_or_else(|_| "{}".into());
        let event = SseEvent::default().event("view").data(data);
        Some((Ok::<_, std::convert::Infallible>(event), (rx, false)))
    })
    // The stream ends when the process stops: an open page never holds a stop up.
    .take_until(stopped);
    Sse::new(stream).keep_alive(KeepAlive::default())
}

fn refused(zh: String, en: String) -> Rejected {
    Rejected {
        text: bilingual::Text::new(zh, en),
        refused: true,
    }
}

/// A request body that is not a command: a fixed answer that does not repeat the input.
fn bad_request() -> Response {
    error(
        StatusCode::BAD_REQUEST,
        "请求格式不对（页面可能已过期，请刷新）",
        "malformed request (reload the page)",
    )
}

async fn command(
    AxumState(console): AxumState<Shared>,
    body: Result<axum::Json<Command>, axum::extract::rejection::JsonRejection>,
) -> Response {
    let Ok(axum::Json(body)) = body else {
        return bad_request();
    };
    if matches!(body, Command::Reload) {
        let state = console.snapshot.borrow().state.clone();
        return reload(console, state).await;
    }
    // Resolved by the session itself against its current state, not against this console's
    // copy (which may be a moment behind): "skip" is the student whose turn it is then.
    let request = SessionRequest::Command(body);
    let remote = console.remote.clone();
    let result = tokio::task::spawn_blocking(move || remote.command(request)).await;
    match result {
        Ok(Ok(line)) => axum::Json(api::Recorded {
            ok: true,
            line,
            diff: None,
        })
        .into_response(),
        Ok(Err(r)) => {
            let status = if r.refused {
                StatusCode::CONFLICT
            } else {
                StatusCode::SERVICE_UNAVAILABLE
            };
            (status, axum::Json(api::Failure { error: r })).into_response()
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
        let roster = (loader.0)(&sources).map_err(|text| refused(text.zh, text.en))?;
        let line = console
            .remote
            .command(SessionRequest::Reload(Box::new(roster), sources))?;
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
        Ok(Ok((diff, line))) => axum::Json(api::Recorded {
            ok: true,
            line,
            diff,
        })
        .into_response(),
        Ok(Err(r)) => (StatusCode::CONFLICT, axum::Json(api::Failure { error: r })).into_response(),
        Err(_) => error(
            StatusCode::INTERNAL_SERVER_ERROR,
            "内部错误",
            "internal error",
        ),
    }
}

/// The school's make-up list (the view carries only its size and revision).
/// The kit's last report to the office, as the sync wrote it; 404 without an office.
async fn office(AxumState(console): AxumState<Shared>) -> Response {
    let path = console.layout.data.join(api::OFFICE_SYNC_FILE);
    match tokio::fs::read(&path)
        .await
        .ok()
        .and_then(|b| serde_json::from_slice::<api::OfficeSync>(&b).ok())
    {
        Some(sync) => axum::Json(sync).into_response(),
        None => error(
            StatusCode::NOT_FOUND,
            "不向办公室报送",
            "reports to no office",
        ),
    }
}

async fn make_up(AxumState(console): AxumState<Shared>) -> Response {
    let snapshot = console.snapshot.borrow().clone();
    axum::Json(&snapshot.make_up).into_response()
}

#[derive(Debug, Deserialize)]
struct SearchQuery {
    q: String,
}

async fn search(
    AxumState(console): AxumState<Shared>,
    q: Result<Query<SearchQuery>, axum::extract::rejection::QueryRejection>,
) -> Response {
    let Ok(Query(q)) = q else {
        return bad_request();
    };
    let snapshot = console.snapshot.borrow().clone();
    let state = &snapshot.state;
    let found: Vec<api::Found> = state
        .search(&q.q)
        .into_iter()
        .take(20)
        .map(|s| {
            let r = &state.students[s].rec;
            api::Found {
                key: r.key.clone(),
                name: r.name.clone(),
                class: r.class.clone(),
                row: r.row,
                id: roster::id::mask(&r.id_text),
                standing: state.standing(s).zh().to_string(),
            }
        })
        .collect();
    axum::Json(found).into_response()
}

fn jpeg(bytes: Vec<u8>) -> Response {
    (
        [
            (header::CONTENT_TYPE, "image/jpeg"),
            // Minors' faces: never in a shared cache, and checked again on every view.
            (header::CACHE_CONTROL, "private, no-cache"),
        ],
        bytes,
    )
        .into_response()
}

fn no_frame() -> Response {
    error(StatusCode::NOT_FOUND, "没有这张照片", "no such frame")
}

/// Reads a file the console serves: a regular file, never through a symlink.
async fn read_served(path: PathBuf) -> std::io::Result<Vec<u8>> {
    tokio::task::spawn_blocking(move || durable::read_regular(&path))
        .await
        .map_err(std::io::Error::other)?
}

/// A picture the session keeps per frame of the current school, as JPEG.
async fn cached(
    console: &Shared,
    frame: Result<Path<u64>, axum::extract::rejection::PathRejection>,
    path: fn(&Layout, &str, u64) -> PathBuf,
) -> Response {
    let Ok(Path(frame)) = frame else {
        return no_frame();
    };
    let school = console.snapshot.borrow().state.school.clone();
    match read_served(path(&console.layout, &school, frame)).await {
        Ok(bytes) => jpeg(bytes),
        Err(_) => error(StatusCode::NOT_FOUND, "没有这张照片", "no such photo"),
    }
}

async fn photo(
    AxumState(console): AxumState<Shared>,
    frame: Result<Path<u64>, axum::extract::rejection::PathRejection>,
) -> Response {
    cached(&console, frame, Layout::photo).await
}

/// A failed frame's picture: the photo with what failed marked, or the frame with the faces
/// found (`session::Layout::preview`).
async fn preview(
    AxumState(console): AxumState<Shared>,
    frame: Result<Path<u64>, axum::extract::rejection::PathRejection>,
) -> Response {
    cached(&console, frame, Layout::preview).await
}

async fn original(
    AxumState(console): AxumState<Shared>,
    frame: Result<Path<u64>, axum::extract::rejection::PathRejection>,
) -> Response {
    let Ok(Path(frame)) = frame else {
        return no_frame();
    };
    let path = {
        let snapshot = console.snapshot.borrow();
        console.layout.original(&snapshot.state, frame)
    };
    let Some(path) = path else {
        return error(StatusCode::NOT_FOUND, "没有这张照片", "no such frame");
    };
    let jpeg_file = path.extension().is_some_and(|e| e == "jpg" || e == "jpeg");
    match read_served(path).await {
        Ok(bytes) if jpeg_file => jpeg(bytes),
        Ok(bytes) => (
            [
                (header::CONTENT_TYPE, "application/octet-stream"),
                (header::CACHE_CONTROL, "private, no-cache"),
            ],
            bytes,
        )
            .into_response(),
        Err(_) => error(
            StatusCode::NOT_FOUND,
            "原始照片不在预期位置",
            "original not found",
        ),
    }
}

/// Asks the running tether (through its control socket in the spool folder).
async fn tether(console: &Console, request: control::Request) -> Option<control::Reply> {
    let spool = console.spool.as_ref()?;
    match control::ask(spool, request, Duration::from_secs(3)).await {
        Ok(reply) => Some(reply),
        Err(e) => {
            tracing::debug!(error = %e, "no answer from the tether");
            None
        }
    }
}

async fn trigger(AxumState(console): AxumState<Shared>) -> Response {
    match tether(&console, control::Request::Trigger).await {
        Some(control::Reply::Ok) => axum::Json(api::Done { ok: true }).into_response(),
        Some(control::Reply::Error { .. }) => error(
            StatusCode::SERVICE_UNAVAILABLE,
            "相机正忙或正在停止，请稍后再按快门",
            "the camera is busy or stopping: press again in a moment",
        ),
        _ => error(
            StatusCode::SERVICE_UNAVAILABLE,
            "没有连接相机：请运行 rollcall tether（或用相机快门拍摄）",
            "no tethered camera: run `rollcall tether` (or use the camera's shutter)",
        ),
    }
}

/// The camera's status ([`tether::Status`], by serde: the same JSON the socket carries).
async fn camera(AxumState(console): AxumState<Shared>) -> Response {
    let status = match tether(&console, control::Request::Status).await {
        Some(control::Reply::Status { status }) => status,
        _ => tether::Status::None {
            message: "未连接相机（没有运行 rollcall tether）；照片可从备用文件夹导入".into(),
        },
    };
    axum::Json(status).into_response()
}
