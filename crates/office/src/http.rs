//! The office service: the kits' API, the coordinator's page and its JSON, over TLS whenever
//! it listens beyond loopback.
//!
//! Security, in the order a request meets it (the console's hardening, `console::harden`):
//! the connection cap and deadlines (TLS handshake included); the `Host` allow-list; a token
//! on every request but the page's static files — kits send theirs as `Authorization: Bearer`,
//! a coordinator opens the `?token=` link once and then holds an HttpOnly, SameSite=Strict,
//! Secure cookie. **Only a bearer token may POST**: a cookie never authorises a change, so a
//! foreign page cannot make the browser send one (no CSRF by construction; the page itself only
//! reads). Every answer carries the strict CSP. Logs name kits and schools, never a student or
//! an ID number.

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;

use axum::Json;
use axum::Router;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, Extension, Query, Request, State as AxumState};
use axum::http::{HeaderMap, HeaderValue, StatusCode, Uri, header};
use axum::middleware::{self, Next};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use console::harden;
use serde::Deserialize;
use tokio_util::sync::CancellationToken;

use crate::db::{Db, Error};
use crate::tokens::{self, Principal, Role};
use crate::wire::{KitStatus, Lines, Refusal, SHA256_HEADER};
use crate::{ingest, query};

const PAGE: &str = include_str!("../static/index.html");
const SCRIPT: &str = include_str!("../static/office.js");
/// The console's look, then the office's few additions (joined at compile time).
const STYLE: &str = concat!(
    include_str!("../../console/static/app.css"),
    include_str!("../static/office.css"),
);
const TOKEN_COOKIE: &str = "rollcall_office";
/// A request body: 2,000 lines are ~1 MB (a roster line of a big school a few hundred KB).
const MAX_BODY: usize = 32 * 1024 * 1024;
/// An uploaded pack: a school of 3,000 photos at ~40 KB.
const MAX_PACK: usize = 512 * 1024 * 1024;

/// Everything the handlers need.
#[derive(Debug)]
pub struct Office {
    pub db: Db,
    /// Where the office listens (its address is an allowed `Host`).
    pub bound: SocketAddr,
    /// Host names that may reach the office (the name in its certificate, the load balancer's).
    pub hosts: Vec<String>,
    /// Served over TLS: the cookie is `Secure`.
    pub tls: bool,
}

type Shared = Arc<Office>;

pub fn router(office: Shared) -> Router {
    // The kits' routes: the token is checked before a body is read, so a stranger cannot make
    // the office buffer anything.
    let kits = Router::new()
        .route("/api/kit/cursor", get(cursor))
        .route("/api/kit/lines", post(lines))
        .route("/api/kit/submissions", post(submissions))
        .route("/api/kit/status", post(status))
        .route(
            "/api/kit/pack",
            post(pack).layer(DefaultBodyLimit::max(MAX_PACK)),
        )
        .layer(middleware::from_fn_with_state(office.clone(), kit_only));
    let coordinators = Router::new()
        .route("/api/city", get(city))
        .route("/api/school", get(school))
        .layer(middleware::from_fn_with_state(
            office.clone(),
            coordinator_only,
        ));
    Router::new()
        .route("/", get(page))
        .route("/office.js", get(script))
        .route("/app.css", get(style))
        .merge(coordinators)
        .merge(kits)
        .fallback(not_found)
        .layer(DefaultBodyLimit::max(MAX_BODY))
        .layer(middleware::from_fn_with_state(office.clone(), hosts))
        .layer(middleware::from_fn(harden::secure_headers))
        .with_state(office)
}

/// An answer for a refusal, with its status code.
fn refused(refusal: Refusal) -> Response {
    let code = match &refusal {
        Refusal::Gap { .. } => StatusCode::CONFLICT,
        Refusal::Invalid { .. } => StatusCode::UNPROCESSABLE_ENTITY,
        Refusal::Unauthorized { .. } => StatusCode::UNAUTHORIZED,
        Refusal::Forbidden { .. } => StatusCode::FORBIDDEN,
        Refusal::Unavailable { .. } => StatusCode::SERVICE_UNAVAILABLE,
    };
    (code, Json(refusal)).into_response()
}

fn failed(error: Error) -> Response {
    if !matches!(error, Error::Refused(_)) {
        tracing::warn!(%error, "office: database");
    }
    refused(error.refusal())
}

async fn not_found() -> Response {
    (StatusCode::NOT_FOUND, "没有这个页面 / not found").into_response()
}

async fn hosts(AxumState(office): AxumState<Shared>, request: Request, next: Next) -> Response {
    let host = request
        .headers()
        .get(header::HOST)
        .and_then(|h| h.to_str().ok());
    if !host.is_some_and(|h| harden::host_allowed(h, office.bound, &office.hosts)) {
        return refused(Refusal::Forbidden {
            zh: "不允许用这个地址访问办公室服务（在 --host-name 中添加这个名称）".into(),
            en: "this host name may not reach the office (add it with --host-name)".into(),
        });
    }
    next.run(request).await
}

/// The holder of the request's token: bearer always, the cookie only when `cookie` (reads).
async fn principal(
    office: &Office,
    headers: &HeaderMap,
    cookie: bool,
    role: Role,
) -> Result<Principal, Response> {
    let token = harden::bearer(headers).map(str::to_string).or_else(|| {
        cookie
            .then(|| harden::cookie_value(headers, TOKEN_COOKIE))
            .flatten()
    });
    let Some(token) = token else {
        return Err(refused(Refusal::Unauthorized {
            zh: "需要令牌：请用 rollcall office token add 给出的链接打开".into(),
            en: "a token is required: open the link `rollcall office token add` printed".into(),
        }));
    };
    match tokens::authenticate(&office.db, &token).await {
        Ok(Some(p)) if p.role == role => Ok(p),
        Ok(Some(_)) => Err(refused(Refusal::Forbidden {
            zh: "这个令牌不能做这件事（采集设备的令牌只能同步，协调员的令牌只能查看）".into(),
            en: "this token may not do this (kit tokens sync, coordinator tokens read)".into(),
        })),
        Ok(None) => Err(refused(Refusal::Unauthorized {
            zh: "令牌无效或已被吊销".into(),
            en: "the token is unknown or revoked".into(),
        })),
        Err(e) => Err(failed(e)),
    }
}

/// Lets through only a holder of `role`, handed to the handler: a kit by its bearer token; a
/// coordinator by that or the page's cookie (coordinators only read).
async fn admit(office: &Office, mut request: Request, next: Next, role: Role) -> Response {
    let cookie = role == Role::Coordinator;
    match principal(office, request.headers(), cookie, role).await {
        Ok(holder) => {
            request.extensions_mut().insert(holder);
            next.run(request).await
        }
        Err(r) => r,
    }
}

/// The kits' routes.
async fn kit_only(AxumState(office): AxumState<Shared>, request: Request, next: Next) -> Response {
    admit(&office, request, next, Role::Kit).await
}

/// The coordinator's JSON.
async fn coordinator_only(
    AxumState(office): AxumState<Shared>,
    request: Request,
    next: Next,
) -> Response {
    admit(&office, request, next, Role::Coordinator).await
}

/// The page. Opened with `?token=`: the token is checked, kept in a cookie, and dropped from
/// the address bar.
async fn page(AxumState(office): AxumState<Shared>, uri: Uri, headers: HeaderMap) -> Response {
    if let Some(token) = harden::query_token(&uri) {
        return match tokens::authenticate(&office.db, &token).await {
            Ok(Some(p)) if p.role == Role::Coordinator => {
                let secure = if office.tls { "; Secure" } else { "" };
                let cookie =
                    format!("{TOKEN_COOKIE}={token}; Path=/; HttpOnly; SameSite=Strict{secure}");
                let mut response = Redirect::to("/").into_response();
                if let Ok(v) = HeaderValue::from_str(&cookie) {
                    response.headers_mut().insert(header::SET_COOKIE, v);
                }
                response
            }
            Ok(_) => refused(Refusal::Unauthorized {
                zh: "链接中的令牌无效、已被吊销，或不是协调员令牌".into(),
                en: "the link's token is unknown, revoked, or not a coordinator's".into(),
            }),
            Err(e) => failed(e),
        };
    }
    if let Err(r) = principal(&office, &headers, true, Role::Coordinator).await {
        return r;
    }
    Html(PAGE).into_response()
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

async fn city(AxumState(office): AxumState<Shared>) -> Response {
    match query::city(&office.db, chrono::Local::now().date_naive()).await {
        Ok(c) => Json(c).into_response(),
        Err(e) => failed(e),
    }
}

#[derive(Deserialize)]
struct SchoolQuery {
    kit: String,
    school: String,
}

async fn school(AxumState(office): AxumState<Shared>, Query(q): Query<SchoolQuery>) -> Response {
    match query::school(&office.db, &q.kit, &q.school).await {
        Ok(Some(d)) => Json(d).into_response(),
        Ok(None) => not_found().await,
        Err(e) => failed(e),
    }
}

async fn cursor(
    AxumState(office): AxumState<Shared>,
    Extension(kit): Extension<Principal>,
) -> Response {
    match ingest::cursor(&office.db, &kit).await {
        Ok(c) => Json(c).into_response(),
        Err(e) => failed(e),
    }
}

async fn lines(
    AxumState(office): AxumState<Shared>,
    Extension(kit): Extension<Principal>,
    Json(batch): Json<Lines>,
) -> Response {
    let n = batch.lines.len();
    let school = batch.school.clone();
    match ingest::lines(&office.db, &kit, batch).await {
        Ok(a) => {
            tracing::info!(kit = %kit.name, %school, lines = n, through = a.through, "office: lines");
            Json(a).into_response()
        }
        Err(e) => {
            tracing::info!(kit = %kit.name, %school, lines = n, refusal = %e.refusal(), "office: lines refused");
            failed(e)
        }
    }
}

async fn submissions(
    AxumState(office): AxumState<Shared>,
    Extension(kit): Extension<Principal>,
    Json(entries): Json<Vec<export::plan::Submission>>,
) -> Response {
    match ingest::submissions(&office.db, &kit, &entries).await {
        Ok(a) => Json(a).into_response(),
        Err(e) => failed(e),
    }
}

async fn status(
    AxumState(office): AxumState<Shared>,
    Extension(kit): Extension<Principal>,
    Json(s): Json<KitStatus>,
) -> Response {
    match ingest::status(&office.db, &kit, &s).await {
        Ok(a) => Json(a).into_response(),
        Err(e) => failed(e),
    }
}

async fn pack(
    AxumState(office): AxumState<Shared>,
    Extension(kit): Extension<Principal>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let Some(sha) = headers.get(SHA256_HEADER).and_then(|v| v.to_str().ok()) else {
        return refused(Refusal::Invalid {
            zh: format!("缺少 {SHA256_HEADER}"),
            en: format!("missing {SHA256_HEADER}"),
        });
    };
    match ingest::pack(&office.db, &kit, sha, &body).await {
        Ok(a) => {
            tracing::info!(kit = %kit.name, bytes = body.len(), "office: pack");
            Json(a).into_response()
        }
        Err(e) => failed(e),
    }
}

/// TLS from a PEM certificate chain and key.
pub fn tls_config(cert: &Path, key: &Path) -> std::io::Result<Arc<rustls::ServerConfig>> {
    use rustls_pki_types::pem::PemObject;
    use rustls_pki_types::{CertificateDer, PrivateKeyDer};
    let bad = |what: &Path, e: rustls_pki_types::pem::Error| {
        std::io::Error::other(format!("{}: {e}", what.display()))
    };
    let chain = CertificateDer::pem_file_iter(cert)
        .map_err(|e| bad(cert, e))?
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| bad(cert, e))?;
    let key_der = PrivateKeyDer::from_pem_file(key).map_err(|e| bad(key, e))?;
    let config = rustls::ServerConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .map_err(std::io::Error::other)?
    .with_no_client_auth()
    .with_single_cert(chain, key_der)
    .map_err(std::io::Error::other)?;
    Ok(Arc::new(config))
}

/// A self-signed certificate for `names` (PEM certificate, PEM key): a small office without a
/// certificate authority gives the certificate to its kits (`[office] ca`).
pub fn self_signed(names: &[String]) -> Result<(String, String), rcgen::Error> {
    let key = rcgen::generate_simple_self_signed(names.to_vec())?;
    Ok((key.cert.pem(), key.signing_key.serialize_pem()))
}

/// Serves the office until `shutdown`: over TLS when `tls` is given.
pub async fn serve(
    listener: tokio::net::TcpListener,
    office: Shared,
    tls: Option<Arc<rustls::ServerConfig>>,
    shutdown: CancellationToken,
) -> std::io::Result<()> {
    let app = router(office);
    match tls {
        Some(config) => {
            let acceptor = tokio_rustls::TlsAcceptor::from(config);
            harden::serve(listener, app, shutdown, move |stream| {
                let acceptor = acceptor.clone();
                async move { acceptor.accept(stream).await }
            })
            .await
        }
        None => harden::serve(listener, app, shutdown, |stream| async move { Ok(stream) }).await,
    }
}
