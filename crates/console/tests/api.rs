//! The console's API on a real session (journal, files, the runner thread): every command, and
//! every refusal — unknown students, impossible commands, no or a wrong token, a cross-origin
//! POST, a missing CSRF token — and images served by frame number only.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use console::{Console, Snapshot};
use serde_json::{Value, json};
use session::event::{Event, Outcome, OutcomeVerdict};
use tokio::sync::watch;
use tower::ServiceExt;

const SCHOOL: &str = "梧州市示例中学";

struct World {
    _dir: tempfile::TempDir,
    router: axum::Router,
    stop: Arc<AtomicBool>,
    runner: Option<std::thread::JoinHandle<()>>,
    csrf: String,
}

impl Drop for World {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(r) = self.runner.take() {
            let _ = r.join();
        }
    }
}

/// The 17 digits and their check digit, computed independently of the roster crate.
use testkit::with_check_digit as id;

/// The roster as the school sends it back: 学生丙 renamed 学生戊, one row added.
fn names_after_reload() -> Vec<(String, String)> {
    let mut rows = rows();
    rows[2].0 = "学生戊".into();
    rows.push(("学生己".into(), id("45040320120301009")));
    rows
}

fn rows() -> Vec<(String, String)> {
    ["学生甲", "学生乙", "学生丙", "学生丁"]
        .iter()
        .enumerate()
        .map(|(i, n)| (n.to_string(), id(&format!("4504032012030100{i}"))))
        .collect()
}

fn roster_of(rows: &[(String, String)]) -> roster::Roster {
    let mut csv = String::from("学校,班级,姓名,身份证号码,核对前身份证号码\n");
    for (i, (n, id_number)) in rows.iter().enumerate() {
        // The 核对前 ID keeps every row's key across the reload.
        csv.push_str(&format!(
            "{SCHOOL},初一(1)班,{n},{id_number},{}\n",
            id(&format!("4504032012030200{i}"))
        ));
    }
    roster::load(
        &[roster::Source {
            path: "名册.csv".into(),
            folder: None,
            bytes: csv.into_bytes(),
        }],
        &roster::Options {
            as_of: chrono::NaiveDate::from_ymd_opt(2026, 9, 1).unwrap(),
            kindergarten_photos: false,
        },
    )
}

/// A class of four, two frames already in: frame 1 passed (学生甲), frame 2 failed with a photo
/// (学生乙, still next).
fn world(token: Option<&str>) -> World {
    world_with(token, true)
}

/// [`world`]; with `live` false the console's copy of the state is never brought up to date,
/// as when the session's thread has recorded a line the console has not yet been told of.
fn world_with(token: Option<&str>, live: bool) -> World {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let roster = roster_of(&rows());
    let mut engine = session::Engine::create(&data, &roster, None, vec![], "-").unwrap();
    let spool = dir.path().join("spool");
    std::fs::create_dir_all(&spool).unwrap();
    for (frame, pass) in [(1u64, true), (2, false)] {
        let file = spool.join(format!("{frame}.jpg"));
        std::fs::write(&file, format!("frame {frame}")).unwrap();
        engine.ingest(&file).unwrap();
        let photo = engine.layout().photo(SCHOOL, frame);
        session::layout::write_atomic(&photo, format!("photo {frame}").as_bytes()).unwrap();
        engine
            .commit(Event::Processed {
                face: None,
                frame,
                outcome: Outcome {
                    verdict: if pass {
                        OutcomeVerdict::Pass
                    } else {
                        OutcomeVerdict::Fail
                    },
                    reasons: if pass {
                        vec![]
                    } else {
                        vec!["背景不是白色".into()]
                    },
                    photo: true,
                    quality: Some(70),
                    failed: vec![],
                },
            })
            .unwrap();
    }
    let (remote, inbox) = session::runner::remote();
    let (publish, snapshot) = watch::channel(Arc::new(Snapshot::of(&engine, 4)));
    let stop = Arc::new(AtomicBool::new(false));
    let runner = {
        let stop = Arc::clone(&stop);
        std::thread::spawn(move || {
            let options = session::runner::RunOptions {
                jobs: 1,
                ..Default::default()
            };
            session::runner::run_with(&mut engine, &spool, &options, &stop, inbox, &mut |e, _| {
                if live {
                    publish.send_replace(Arc::new(Snapshot::of(e, 4)));
                }
            })
            .unwrap();
        })
    };
    let csrf = "test-csrf".to_string();
    let console = Arc::new(Console {
        remote,
        snapshot,
        layout: session::Layout::new(&data),
        token: token.map(String::from),
        csrf: csrf.clone(),
        spool: None,
        loader: Some(console::Loader(Box::new(move |_sources: &[String]| {
            Ok(roster_of(&names_after_reload()))
        }))),
        sounds: false,
        bound: "127.0.0.1:8750".parse().unwrap(),
        hosts: vec!["kit.school.lan".into()],
        shutdown: tokio_util::sync::CancellationToken::new(),
    });
    World {
        _dir: dir,
        router: console::router(console),
        stop,
        runner: Some(runner),
        csrf,
    }
}

/// Sends a request as a browser on this machine would (with `Host: 127.0.0.1:8750` unless the
/// test sets another).
async fn send(w: &World, mut req: Request<Body>) -> (StatusCode, axum::http::HeaderMap, Vec<u8>) {
    req.headers_mut()
        .entry(header::HOST)
        .or_insert(header::HeaderValue::from_static("127.0.0.1:8750"));
    let response = w.router.clone().oneshot(req).await.unwrap();
    let status = response.status();
    let headers = response.headers().clone();
    let body = axum::body::to_bytes(response.into_body(), usize::MAX)
        .await
        .unwrap();
    (status, headers, body.to_vec())
}

async fn post(w: &World, body: Value) -> (StatusCode, Value) {
    let req = Request::post("/api/command")
        .header(header::CONTENT_TYPE, "application/json")
        .header(header::HOST, "127.0.0.1:8750")
        .header(header::ORIGIN, "http://127.0.0.1:8750")
        .header("x-rollcall-csrf", &w.csrf)
        .body(Body::from(body.to_string()))
        .unwrap();
    let (status, _, bytes) = send(w, req).await;
    (
        status,
        serde_json::from_slice(&bytes).unwrap_or(Value::Null),
    )
}

async fn view(w: &World) -> Value {
    let (status, headers, bytes) =
        send(w, Request::get("/api/state").body(Body::empty()).unwrap()).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(headers.get("x-rollcall-csrf").unwrap(), w.csrf.as_str());
    serde_json::from_slice(&bytes).unwrap()
}

/// Posts a command and waits until the published view reflects it.
async fn run(w: &World, body: Value) -> Value {
    let before = view(w).await["seq"].as_u64().unwrap();
    let (status, answer) = post(w, body.clone()).await;
    assert_eq!(status, StatusCode::OK, "{body} → {answer}");
    for _ in 0..200 {
        let v = view(w).await;
        if v["seq"].as_u64().unwrap() > before {
            return v;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    panic!("the view did not change after {body}");
}

fn next(v: &Value) -> &str {
    v["next"]["name"].as_str().unwrap_or("")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_command_through_the_api() {
    let w = world(None);
    let v = view(&w).await;
    assert_eq!(next(&v), "学生乙", "frame 2 failed: a retake is due");
    assert_eq!(v["last"]["verdict"], "fail");

    let v = run(&w, json!({"command": "accept", "reason": "轻微色差，可用"})).await;
    assert_eq!(next(&v), "学生丙");
    assert_eq!(v["last"]["accepted"], true);
    let v = run(&w, json!({"command": "undo"})).await;
    assert_eq!(next(&v), "学生乙");
    let v = run(&w, json!({"command": "skip"})).await;
    assert_eq!(next(&v), "学生丙");
    let (status, _, bytes) = send(
        &w,
        Request::get("/api/make-up").body(Body::empty()).unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let list: console::api::MakeUpList = serde_json::from_slice(&bytes).unwrap();
    assert_eq!(list.make_up[0].name, "学生乙");
    assert_eq!(v["make_up_rev"], list.rev);
    assert_eq!(v["make_up_count"], list.make_up.len());
    let v = run(&w, json!({"command": "jump", "student": "学生丁"})).await;
    assert_eq!(next(&v), "学生丁");
    let v = run(&w, json!({"command": "choose", "frame": 1})).await;
    assert_eq!(v["can_undo"], "take_chosen");
    let v = run(&w, json!({"command": "retake", "student": "学生甲"})).await;
    assert_eq!(
        next(&v),
        "学生甲",
        "the rejected photo's student is up again"
    );
    let v = run(&w, json!({"command": "shift", "n": 1})).await;
    assert_eq!(
        v["last"]["student"], "学生丙",
        "frame 2 moved one student on"
    );
    let v = run(
        &w,
        json!({"command": "assign", "frame": 2, "student": "学生乙"}),
    )
    .await;
    assert_eq!(v["last"]["student"], "学生乙");
    let v = run(&w, json!({"command": "no_photo", "student": "学生丁"})).await;
    let d = v["students"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["name"] == "学生丁")
        .unwrap();
    assert_eq!(d["standing"], "no_photo_needed");
    let v = run(
        &w,
        json!({"command": "add", "name": "插班生", "class": "初一(2)班"}),
    )
    .await;
    assert_eq!(next(&v), "插班生");
    assert_eq!(v["class"], "初一(2)班");
    let v = run(&w, json!({"command": "class", "class": "初一(1)班"})).await;
    assert_eq!(v["class"], "初一(1)班");

    // Reload: the renamed student keeps their place, the new row joins the class.
    let (status, answer) = post(&w, json!({"command": "reload"})).await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    assert_eq!(answer["diff"]["corrected"][0]["name"], "学生戊");
    assert_eq!(answer["diff"]["added"].as_array().unwrap().len(), 1);
    let mut names = Vec::new();
    for _ in 0..200 {
        let v = view(&w).await;
        names = v["students"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s["name"].as_str().unwrap().to_string())
            .collect::<Vec<_>>();
        if names.contains(&"学生己".to_string()) {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    assert_eq!(names, ["学生甲", "学生乙", "学生戊", "学生丁", "学生己"]);

    // Search by name and by ID.
    let (status, _, bytes) = send(
        &w,
        Request::get("/api/search?q=%E4%B8%81")
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let found: Value = serde_json::from_slice(&bytes).unwrap();
    assert_eq!(found[0]["name"], "学生丁");
    assert!(
        !found[0]["id"].as_str().unwrap().contains("20120301"),
        "masked"
    );
}

/// A skip pressed just after a pass was once resolved against the console's copy of the state,
/// a moment behind the session's: it skipped the student who had just been photographed. The
/// session resolves every command against its own state now.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn commands_are_resolved_against_the_sessions_state_not_the_consoles_copy() {
    let w = world_with(None, false);
    // Keys are the IDs before correction (核对前身份证号码).
    let key = |n: usize| id(&format!("4504032012030200{n}"));
    let (status, first) = post(&w, json!({"command": "skip"})).await;
    assert_eq!(status, StatusCode::OK, "{first}");
    assert_eq!(first["line"]["student"], key(1), "学生乙 was next");
    // The console still shows 学生乙 as next; the session has moved on to 学生丙.
    assert_eq!(next(&view(&w).await), "学生乙");
    let (status, second) = post(&w, json!({"command": "skip"})).await;
    assert_eq!(status, StatusCode::OK, "{second}");
    assert_eq!(
        second["line"]["student"],
        key(2),
        "the second skip is 学生丙's"
    );
    let (status, undo) = post(&w, json!({"command": "undo"})).await;
    assert_eq!(status, StatusCode::OK, "{undo}");
    assert_eq!(undo["line"]["target"], second["line"]["seq"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refusals_change_nothing() {
    let w = world(None);
    let before = view(&w).await;
    let cases = [
        json!({"command": "jump", "student": "王五"}),
        json!({"command": "jump", "student": "学生"}),
        json!({"command": "accept", "frame": 1, "reason": "x"}),
        json!({"command": "accept", "reason": "  "}),
        json!({"command": "choose", "frame": 2}),
        json!({"command": "shift", "n": 9, "back": true}),
        json!({"command": "class", "class": "不存在"}),
        json!({"command": "add", "name": "某某", "class": "初一(1)班", "id": "123"}),
    ];
    for body in cases {
        let (status, answer) = post(&w, body.clone()).await;
        assert_eq!(status, StatusCode::CONFLICT, "{body} → {answer}");
        assert!(
            answer["error"]["zh"]
                .as_str()
                .is_some_and(|s| !s.is_empty()),
            "{answer}"
        );
    }
    let (_, answer) = post(&w, json!({"command": "jump", "student": "学生"})).await;
    assert!(
        answer["error"]["zh"]
            .as_str()
            .unwrap()
            .contains("班级:行号"),
        "{answer}"
    );
    assert_eq!(view(&w).await, before);

    // Cross-origin, and without the CSRF token.
    let evil = Request::post("/api/command")
        .header(header::CONTENT_TYPE, "application/json")
        .header(header::HOST, "127.0.0.1:8750")
        .header(header::ORIGIN, "http://evil.example")
        .header("x-rollcall-csrf", &w.csrf)
        .body(Body::from(json!({"command": "skip"}).to_string()))
        .unwrap();
    assert_eq!(send(&w, evil).await.0, StatusCode::FORBIDDEN);
    let no_csrf = Request::post("/api/command")
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(json!({"command": "skip"}).to_string()))
        .unwrap();
    assert_eq!(send(&w, no_csrf).await.0, StatusCode::FORBIDDEN);
    assert_eq!(view(&w).await, before);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn images_by_frame_number_only() {
    let w = world(None);
    let (status, headers, bytes) = send(
        &w,
        Request::get("/api/photo/1").body(Body::empty()).unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(headers.get(header::CONTENT_TYPE).unwrap(), "image/jpeg");
    assert_eq!(bytes, b"photo 1");
    let (status, _, bytes) = send(
        &w,
        Request::get("/api/original/2").body(Body::empty()).unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(bytes, b"frame 2");
    for path in [
        "/api/photo/99",
        "/api/photo/..%2F..%2Fjournal",
        "/api/original/abc",
    ] {
        let (status, _, _) = send(&w, Request::get(path).body(Body::empty()).unwrap()).await;
        assert!(
            status == StatusCode::NOT_FOUND || status == StatusCode::BAD_REQUEST,
            "{path}: {status}"
        );
    }
    // The page carries the CSRF token and the sounds setting; the event stream starts with
    // the view.
    let (status, _, page) = send(&w, Request::get("/").body(Body::empty()).unwrap()).await;
    assert_eq!(status, StatusCode::OK);
    let page = String::from_utf8(page).unwrap();
    assert!(page.contains("content=\"test-csrf\""));
    assert!(page.contains("<meta name=\"sounds\" content=\"off\">"));
    let response = w
        .router
        .clone()
        .oneshot(
            Request::get("/api/events")
                .header(header::HOST, "localhost:8750")
                .body(Body::empty())
                .unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(
        response.headers().get(header::CONTENT_TYPE).unwrap(),
        "text/event-stream"
    );
    use futures_util::StreamExt;
    let mut body = response.into_body().into_data_stream();
    let first = body.next().await.unwrap().unwrap();
    let text = String::from_utf8(first.to_vec()).unwrap();
    assert!(text.starts_with("event: view\ndata: {"), "{text}");
    assert!(text.contains("学生乙"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn beyond_loopback_every_request_needs_the_token() {
    let w = world(Some("s3cret"));
    let get = |uri: &str, cookie: Option<&str>| {
        let mut b = Request::get(uri);
        if let Some(c) = cookie {
            b = b.header(header::COOKIE, c);
        }
        b.body(Body::empty()).unwrap()
    };
    assert_eq!(
        send(&w, get("/api/state", None)).await.0,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        send(&w, get("/api/state", Some("rollcall_token=wrong")))
            .await
            .0,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        send(&w, get("/?token=wrong", None)).await.0,
        StatusCode::UNAUTHORIZED
    );
    // The link with the token sets the cookie and drops the token from the address.
    let (status, headers, _) = send(&w, get("/?token=s3cret", None)).await;
    assert!(status.is_redirection(), "{status}");
    assert_eq!(headers.get(header::LOCATION).unwrap(), "/");
    let cookie = headers.get(header::SET_COOKIE).unwrap().to_str().unwrap();
    assert!(cookie.starts_with("rollcall_token=s3cret") && cookie.contains("HttpOnly"));
    assert_eq!(
        send(&w, get("/api/state", Some("rollcall_token=s3cret")))
            .await
            .0,
        StatusCode::OK
    );
    // A POST with the CSRF token but no session token is refused.
    let req = Request::post("/api/command")
        .header(header::CONTENT_TYPE, "application/json")
        .header("x-rollcall-csrf", &w.csrf)
        .body(Body::from(json!({"command": "skip"}).to_string()))
        .unwrap();
    assert_eq!(send(&w, req).await.0, StatusCode::UNAUTHORIZED);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_console_is_hard_to_abuse() {
    let w = world(Some("s3cret0123456789"));
    let cookie = "rollcall_token=s3cret0123456789";
    // DNS rebinding: a foreign name resolving to this machine is refused, GET and POST alike;
    // IP addresses, localhost and configured names are fine.
    for host in [
        "attacker.example",
        "attacker.example:8750",
        "127.0.0.1.evil.example",
    ] {
        let req = Request::get("/api/state")
            .header(header::HOST, host)
            .header(header::COOKIE, cookie)
            .body(Body::empty())
            .unwrap();
        assert_eq!(
            send(&w, req).await.0,
            StatusCode::MISDIRECTED_REQUEST,
            "{host}"
        );
    }
    let req = Request::post("/api/command")
        .header(header::HOST, "attacker.example:8750")
        .header(header::ORIGIN, "http://attacker.example:8750")
        .header(header::COOKIE, cookie)
        .header("x-rollcall-csrf", &w.csrf)
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(json!({"command": "skip"}).to_string()))
        .unwrap();
    assert_eq!(send(&w, req).await.0, StatusCode::MISDIRECTED_REQUEST);
    for host in [
        "127.0.0.1:8750",
        "localhost:8750",
        "[::1]:8750",
        "KIT.school.lan:8750",
    ] {
        let req = Request::get("/api/state")
            .header(header::HOST, host)
            .header(header::COOKIE, cookie)
            .body(Body::empty())
            .unwrap();
        assert_eq!(send(&w, req).await.0, StatusCode::OK, "{host}");
    }
    // The token: in a bearer header too; never in the query of a POST.
    let req = Request::get("/api/state")
        .header(header::AUTHORIZATION, "Bearer s3cret0123456789")
        .body(Body::empty())
        .unwrap();
    assert_eq!(send(&w, req).await.0, StatusCode::OK);
    let before = view_with(&w, cookie).await;
    let req = Request::post("/api/command?token=s3cret0123456789")
        .header(header::CONTENT_TYPE, "application/json")
        .header("x-rollcall-csrf", &w.csrf)
        .body(Body::from(json!({"command": "skip"}).to_string()))
        .unwrap();
    assert_eq!(send(&w, req).await.0, StatusCode::UNAUTHORIZED);
    assert_eq!(view_with(&w, cookie).await, before, "nothing happened");
    // No open redirect.
    let req = Request::get("//evil.example/x?token=s3cret0123456789")
        .body(Body::empty())
        .unwrap();
    let (status, headers, _) = send(&w, req).await;
    assert!(status.is_redirection());
    assert_eq!(headers.get(header::LOCATION).unwrap(), "/evil.example/x");
    // Security headers everywhere; photos private.
    for path in [
        "/",
        "/api/state",
        "/api/photo/1",
        "/app.js",
        "/nothing-here",
    ] {
        let req = Request::get(path)
            .header(header::COOKIE, cookie)
            .body(Body::empty())
            .unwrap();
        let (_, headers, _) = send(&w, req).await;
        let csp = headers
            .get(header::CONTENT_SECURITY_POLICY)
            .unwrap()
            .to_str()
            .unwrap();
        assert!(
            csp.contains("script-src 'self'") && csp.contains("frame-ancestors 'none'"),
            "{path}"
        );
        assert_eq!(
            headers.get(header::X_FRAME_OPTIONS).unwrap(),
            "DENY",
            "{path}"
        );
        assert_eq!(
            headers.get(header::X_CONTENT_TYPE_OPTIONS).unwrap(),
            "nosniff",
            "{path}"
        );
    }
    let req = Request::get("/api/photo/1")
        .header(header::COOKIE, cookie)
        .body(Body::empty())
        .unwrap();
    let (_, headers, _) = send(&w, req).await;
    let cache = headers
        .get(header::CACHE_CONTROL)
        .unwrap()
        .to_str()
        .unwrap();
    assert!(cache.starts_with("private"), "{cache}");
    // Error bodies do not echo the request.
    let marker = "<script>alert(1)</script>";
    for (method, path, body) in [
        (
            "POST",
            "/api/command",
            format!("{{\"command\": \"{marker}\"}}"),
        ),
        ("POST", "/api/command", marker.to_string()),
        ("GET", &format!("/api/photo/{marker}"), String::new()),
        ("GET", &format!("/{marker}"), String::new()),
        ("GET", &format!("/api/search?x={marker}"), String::new()),
    ] {
        let req = Request::builder()
            .method(method)
            .uri(
                path.replace('<', "%3C")
                    .replace('>', "%3E")
                    .replace(' ', "%20"),
            )
            .header(header::COOKIE, cookie)
            .header(header::CONTENT_TYPE, "application/json")
            .header("x-rollcall-csrf", &w.csrf)
            .body(Body::from(body))
            .unwrap();
        let (status, _, bytes) = send(&w, req).await;
        assert!(status.is_client_error(), "{method} {path}: {status}");
        let text = String::from_utf8_lossy(&bytes);
        assert!(
            !text.contains("script") && !text.contains("alert"),
            "{method} {path}: {text}"
        );
    }
}

async fn view_with(w: &World, cookie: &str) -> Value {
    let req = Request::get("/api/state")
        .header(header::COOKIE, cookie)
        .body(Body::empty())
        .unwrap();
    let (status, _, bytes) = send(w, req).await;
    assert_eq!(status, StatusCode::OK);
    serde_json::from_slice(&bytes).unwrap()
}

#[test]
fn host_names_that_may_reach_the_console() {
    use console::host_allowed;
    let loopback: std::net::SocketAddr = "127.0.0.1:8750".parse().unwrap();
    let lan: std::net::SocketAddr = "192.168.1.5:8750".parse().unwrap();
    let any: std::net::SocketAddr = "0.0.0.0:8750".parse().unwrap();
    let names = vec!["kit.lan".to_string()];
    assert!(host_allowed("127.0.0.1:8750", loopback, &[]));
    assert!(host_allowed("localhost", loopback, &[]));
    assert!(host_allowed("[::1]:8750", loopback, &[]));
    assert!(!host_allowed("192.168.1.5:8750", loopback, &[]));
    assert!(host_allowed("192.168.1.5:8750", lan, &[]));
    assert!(host_allowed("10.1.2.3:8750", any, &[]));
    assert!(host_allowed("kit.lan:8750", any, &names));
    assert!(host_allowed("kit.lan.", any, &names));
    assert!(!host_allowed("attacker.example", any, &names));
    assert!(!host_allowed("localhost.attacker.example", loopback, &[]));
    assert!(!host_allowed("", loopback, &[]));
}
