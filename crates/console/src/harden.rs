//! The hardening the console and the office share: the connection loop (a cap on
//! connections, a deadline for headers and for a TLS handshake, graceful shutdown), the `Host`
//! allow-list against DNS rebinding, token comparison in constant time, and the security
//! headers (a strict Content-Security-Policy) on every answer.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::{Query, Request};
use axum::http::{HeaderMap, HeaderValue, header};
use axum::middleware::Next;
use axum::response::Response;
use serde::Deserialize;
use tokio_util::sync::CancellationToken;

/// Connections served at once; more are closed at once (a page holds one or two).
pub const MAX_CONNECTIONS: usize = 128;
/// Time a connection has to finish its TLS handshake, and then to send a request's headers.
pub const HEADER_TIMEOUT: Duration = Duration::from_secs(10);
/// How long a stop waits for requests in progress before closing their connections.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(2);

/// Scripts and styles from the server itself only; nothing may frame it.
const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; \
                   connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

/// Serves `app` until `shutdown` is cancelled: at most [`MAX_CONNECTIONS`]
/// connections, each with [`HEADER_TIMEOUT`] to send its headers. On shutdown the event streams
/// end and requests in progress get [`SHUTDOWN_GRACE`] to finish.
pub async fn serve<S, F, Fut>(
    listener: tokio::net::TcpListener,
    app: Router,
    shutdown: CancellationToken,
    handshake: F,
) -> std::io::Result<()>
where
    F: Fn(tokio::net::TcpStream) -> Fut + Clone + Send + 'static,
    Fut: Future<Output = std::io::Result<S>> + Send + 'static,
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    use hyper_util::rt::{TokioIo, TokioTimer};
    let slots = Arc::new(tokio::sync::Semaphore::new(MAX_CONNECTIONS));
    let graceful = hyper_util::server::graceful::GracefulShutdown::new();
    loop {
        let (stream, _) = tokio::select! {
            _ = shutdown.cancelled() => break,
            accepted = listener.accept() => match accepted {
                Ok(a) => a,
                Err(e) => {
                    // Out of file descriptors or the like: wait a moment, never spin.
                    tracing::warn!(error = %e, "cannot accept a connection");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            },
        };
        let Ok(slot) = Arc::clone(&slots).try_acquire_owned() else {
            // Full: close at once rather than hold a descriptor for an idle stranger.
            drop(stream);
            continue;
        };
        let service = hyper_util::service::TowerToHyperService::new(app.clone());
        let mut builder = hyper::server::conn::http1::Builder::new();
        builder
            .timer(TokioTimer::new())
            .header_read_timeout(HEADER_TIMEOUT)
            .keep_alive(true);
        let handshake = handshake.clone();
        let watcher = graceful.watcher();
        tokio::spawn(async move {
            // The handshake (TLS) in the connection's own task, bounded like the headers.
            if let Ok(Ok(stream)) = tokio::time::timeout(HEADER_TIMEOUT, handshake(stream)).await {
                let connection =
                    watcher.watch(builder.serve_connection(TokioIo::new(stream), service));
                let _ = connection.await;
            }
            drop(slot);
        });
    }
    drop(listener);
    let _ = tokio::time::timeout(SHUTDOWN_GRACE, graceful.shutdown()).await;
    Ok(())
}

/// A random token (hex), from the kernel's generator: 16 bytes (the console's).
pub fn random_token() -> std::io::Result<String> {
    random_hex(16)
}

/// `n` random bytes from the kernel's generator, in hex (the console's tokens, the office's).
pub fn random_hex(n: usize) -> std::io::Result<String> {
    let mut bytes = vec![0u8; n];
    getrandom::fill(&mut bytes).map_err(|e| std::io::Error::other(e.to_string()))?;
    Ok(bytes.iter().map(|b| format!("{b:02x}")).collect())
}

/// Every answer: the security headers, and no caching unless the handler said otherwise.
pub async fn secure_headers(request: Request, next: Next) -> Response {
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CSP),
    );
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    headers
        .entry(header::CACHE_CONTROL)
        .or_insert(HeaderValue::from_static("no-store"));
    response
}

/// True for a `Host` header that may reach the console: an IP address (the bound one, or any
/// when bound to all addresses; loopback always), a localhost name, or a configured name. A
/// name a foreign site controls (DNS rebinding) is none of these.
pub fn host_allowed(host: &str, bound: SocketAddr, names: &[String]) -> bool {
    let name = match host.rsplit_once(':') {
        // `[::1]:8750`, `127.0.0.1:8750`, `name:8750`; a bare IPv6 address has more colons.
        Some((h, port)) if port.chars().all(|c| c.is_ascii_digit()) && !h.ends_with(':') => h,
        _ => host,
    };
    let name = name.trim_start_matches('[').trim_end_matches(']');
    if let Ok(ip) = name.parse::<IpAddr>() {
        return ip.is_loopback() || bound.ip().is_unspecified() || ip == bound.ip();
    }
    let name = name.trim_end_matches('.').to_ascii_lowercase();
    name == "localhost"
        || name.ends_with(".localhost")
        || names.iter().any(|n| n.eq_ignore_ascii_case(&name))
}

pub fn same_token(given: Option<&str>, token: &str) -> bool {
    use subtle::ConstantTimeEq;
    given.is_some_and(|g| bool::from(g.as_bytes().ct_eq(token.as_bytes())))
}

pub fn bearer(headers: &HeaderMap) -> Option<&str> {
    headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim)
}

/// The value of cookie `name`, if the request sends it.
pub fn cookie_value(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.to_string())
}

/// The `token` query parameter, if any.
pub fn query_token(uri: &axum::http::Uri) -> Option<String> {
    #[derive(Deserialize)]
    struct TokenQuery {
        token: Option<String>,
    }
    Query::<TokenQuery>::try_from_uri(uri)
        .ok()
        .and_then(|q| q.0.token)
}
