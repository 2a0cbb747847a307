#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! The console in a real browser: Debian's chromium driven through chromedriver (WebDriver,
//! with fantoccini), against `rollcall session run --console` as a real process. The page shows
//! the next name; a frame dropped into the spool shows its photo and verdict; a keyboard skip
//! moves the name on and undo brings it back; after the server is killed and restarted the page
//! reconnects by itself. A screenshot is kept in `target/console-screenshot.png`, and the time
//! from a command to the change on screen is printed (docs/benchmarks.md), not asserted.
//!
//! Also the office's coordinator page: a kit's session synced to `rollcall office serve` over a
//! real PostgreSQL; the coordinator's link opens the city, a school's make-up list, English.

mod common;

use common::*;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::actions::{InputSource, KeyAction, KeyActions};
use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::json;

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn wait_for_port(port: u16) {
    let start = Instant::now();
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "nothing listens on {port}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn serve(data: &Path, spool: &Path, port: u16) -> Child {
    let (data, spool) = (data.to_str().unwrap(), spool.to_str().unwrap());
    let console = format!("127.0.0.1:{port}");
    listening(
        &[
            "session",
            "run",
            data,
            "--spool",
            spool,
            "--console",
            &console,
        ],
        port,
    )
}

/// `rollcall <args>` as a process, once something listens on `port`.
fn listening(args: &[&str], port: u16) -> Child {
    let child = Command::new(env!("CARGO_BIN_EXE_rollcall"))
        .env_remove("RUST_LOG")
        .args(args)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    wait_for_port(port);
    child
}

fn find_binary(names: &[&str]) -> PathBuf {
    for n in names {
        for dir in ["/usr/bin", "/usr/lib/chromium", "/usr/local/bin"] {
            let p = Path::new(dir).join(n);
            if p.exists() {
                return p;
            }
        }
    }
    panic!("{names:?} not found: ./scripts/setup installs chromium and chromium-driver");
}

async fn text(client: &Client, id: &str) -> String {
    match client.find(Locator::Id(id)).await {
        Ok(e) => e.text().await.unwrap_or_default(),
        Err(_) => String::new(),
    }
}

/// Waits until element `id` shows `want`; returns how long it took.
async fn wait_text(client: &Client, id: &str, want: &str) -> Duration {
    let start = Instant::now();
    loop {
        let now = text(client, id).await;
        if now.contains(want) {
            return start.elapsed();
        }
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "#{id} shows {now:?}, not {want:?}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Waits until element `id` no longer shows `gone`.
async fn wait_gone(client: &Client, id: &str, gone: &str) {
    let start = Instant::now();
    while text(client, id).await.contains(gone) {
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "#{id} still shows {gone:?}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

async fn click(client: &Client, id: &str) {
    client
        .find(Locator::Id(id))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
}

async fn press(client: &Client, key: char) {
    let keys = KeyActions::new("keyboard".into())
        .then(KeyAction::Down { value: key })
        .then(KeyAction::Up { value: key });
    client.perform_actions(keys).await.unwrap();
}

fn drop_frame(spool: &Path, name: &str) {
    let source = repo()
        .join("crates/pipeline/tests/data/pd/frames")
        .join(name);
    let part = spool.join(format!(".{name}.part"));
    std::fs::copy(source, &part).unwrap();
    std::fs::rename(&part, spool.join(name)).unwrap();
}

/// A session of the demo school in `data`.
fn start_demo_session(data: &Path) {
    let roster = repo().join("demo/rosters/梧州市示例中学");
    let out = run(&[
        "session",
        "start",
        data.to_str().unwrap(),
        roster.to_str().unwrap(),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Headless chromium through chromedriver: the WebDriver client and the driver's process.
async fn browser() -> (Client, Child) {
    let chromium = find_binary(&["chromium", "chromium-browser"]);
    let chromedriver = find_binary(&["chromedriver"]);
    let driver_port = free_port();
    let driver = Command::new(&chromedriver)
        .arg(format!("--port={driver_port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    wait_for_port(driver_port);
    let caps = json!({
        "goog:chromeOptions": {
            "binary": chromium,
            "args": ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                     "--window-size=1366,768", "--lang=zh-CN"],
        }
    });
    let serde_json::Value::Object(caps) = caps else {
        unreachable!()
    };
    let client = ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
        .capabilities(caps)
        .connect(&format!("http://127.0.0.1:{driver_port}"))
        .await
        .expect("chromedriver session");
    (client, driver)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_console_follows_the_session_in_a_real_browser() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let spool = tmp.path().join("spool");
    std::fs::create_dir_all(&spool).unwrap();
    start_demo_session(&data);

    let port = free_port();
    let mut server = serve(&data, &spool, port);
    let (client, mut driver) = browser().await;
    let base = format!("http://127.0.0.1:{port}/");
    client.goto(&base).await.unwrap();

    // The next name, large.
    wait_text(&client, "next-name", "覃思远").await;
    wait_text(&client, "then", "韦雨欣").await;
    // A kit that reports to an office shows its last sync in the header (what the daemon's
    // sync writes; the office itself is tested in the next test and in tests/daemon.rs).
    let sync = console::api::OfficeSync {
        url: "https://office.example:8743".into(),
        tried_at: chrono::Utc::now().to_rfc3339(),
        synced_at: Some(chrono::Utc::now().to_rfc3339()),
        error: None,
    };
    std::fs::write(
        data.join(console::api::OFFICE_SYNC_FILE),
        serde_json::to_vec(&sync).unwrap(),
    )
    .unwrap();
    wait_text(&client, "office", "办公室：已同步（刚刚）").await;

    // A frame dropped into the spool: its photo and verdict appear, the name moves on.
    drop_frame(&spool, "IMG_1007.JPG");
    let shown = wait_text(&client, "last-verdict", "合格").await;
    println!(
        "frame dropped → verdict on screen: {} ms",
        shown.as_millis()
    );
    wait_text(&client, "next-name", "韦雨欣").await;
    // The photo element: its address and, once loaded, its width.
    let script = "const i = document.getElementById('last-photo'); return [i.getAttribute('src'), i.naturalWidth];";
    let deadline = Instant::now() + Duration::from_secs(10);
    let loaded = loop {
        let loaded = client.execute(script, vec![]).await.unwrap();
        if loaded[1].as_u64().unwrap_or(0) > 0 || Instant::now() >= deadline {
            break loaded;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert_eq!(loaded[0], "/api/photo/1");
    assert_eq!(loaded[1], 358, "the 358×441 photo is shown");

    // A failing frame shows its reason.
    drop_frame(&spool, "IMG_1028.JPG");
    wait_text(&client, "last-verdict", "不合格").await;
    wait_text(&client, "last-reasons", "背景").await;
    wait_text(&client, "next-name", "韦雨欣").await;
    // ... and the photo with what failed marked on it (the backdrop sample), not the bare photo.
    let deadline = Instant::now() + Duration::from_secs(10);
    let shown = loop {
        let shown = client.execute(script, vec![]).await.unwrap();
        if (shown[0] == "/api/preview/2" && shown[1].as_u64().unwrap_or(0) > 0)
            || Instant::now() >= deadline
        {
            break shown;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert_eq!(shown[0], "/api/preview/2");
    assert_eq!(shown[1], 358, "the failed photo, marked, is shown");

    // Keyboard: S skips, U undoes; the skipped student is on the make-up list (which the page
    // asks for when its revision changes) and leaves it with the undo.
    press(&client, 's').await;
    wait_text(&client, "next-name", "莫家俊").await;
    wait_text(&client, "makeup", "韦雨欣 缺席").await;
    press(&client, 'u').await;
    wait_text(&client, "next-name", "韦雨欣").await;
    wait_gone(&client, "makeup", "缺席").await;

    // Time from a command (through the API, by `rollcall ctl`) to the change on screen.
    let mut times = Vec::new();
    let d = data.to_str().unwrap();
    for _ in 0..5 {
        let t = Instant::now();
        assert!(run(&["ctl", d, "skip"]).status.success());
        wait_text(&client, "next-name", "莫家俊").await;
        times.push(t.elapsed());
        let t = Instant::now();
        assert!(run(&["ctl", d, "undo"]).status.success());
        wait_text(&client, "next-name", "韦雨欣").await;
        times.push(t.elapsed());
    }
    times.sort();
    println!(
        "command → change on screen: median {} ms, max {} ms (includes starting `rollcall ctl`)",
        times[times.len() / 2].as_millis(),
        times[times.len() - 1].as_millis()
    );

    // The server goes away and comes back: the page reconnects by itself.
    server.kill().unwrap();
    server.wait().unwrap();
    wait_text(&client, "conn", "重连").await;
    let mut server = serve(&data, &spool, port);
    wait_text(&client, "conn", "已连接").await;
    assert!(run(&["ctl", d, "skip"]).status.success());
    wait_text(&client, "next-name", "莫家俊").await;
    // And its commands still work (a new server has a new CSRF token).
    press(&client, 'u').await;
    wait_text(&client, "next-name", "韦雨欣").await;

    // English on request, Chinese again after.
    click(&client, "lang").await;
    wait_text(&client, "next-label", "Next").await;
    wait_text(&client, "then", "Then:").await;
    click(&client, "lang").await;
    wait_text(&client, "next-label", "下一位").await;

    // 切莫张冠李戴: the first student photographed again, filed as the next one. The banner shows
    // both photos and the sentence at once; D says they are two people, undo brings the warning
    // back, F gives the frame to the student it shows.
    drop_frame(&spool, "IMG_1021.JPG");
    wait_text(&client, "faces-text", "像是 覃思远").await;
    let both = "return ['faces-this', 'faces-other'].map(id => { const i = document.getElementById(id); return [i.getAttribute('src'), i.naturalWidth]; });";
    let deadline = Instant::now() + Duration::from_secs(10);
    let shown = loop {
        let shown = client.execute(both, vec![]).await.unwrap();
        if shown[1][1].as_u64().unwrap_or(0) > 0 && shown[0][1].as_u64().unwrap_or(0) > 0
            || Instant::now() >= deadline
        {
            break shown;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert_eq!(shown[0][0], "/api/photo/3", "{shown:?}");
    assert_eq!(shown[1][0], "/api/photo/1", "{shown:?}");
    assert_eq!(shown[0][1], 358, "both photos are shown: {shown:?}");
    assert_eq!(shown[1][1], 358, "both photos are shown: {shown:?}");
    let faces_shot = client.screenshot().await.unwrap();
    press(&client, 'd').await;
    wait_gone(&client, "faces-text", "像是 覃思远").await;
    press(&client, 'u').await;
    wait_text(&client, "faces-text", "像是 覃思远").await;
    press(&client, 'f').await;
    wait_gone(&client, "faces-text", "像是 覃思远").await;
    let journal = std::fs::read_to_string(
        data.join("sessions")
            .join("梧州市示例中学")
            .join("journal.jsonl"),
    )
    .unwrap_or_default();
    assert!(
        journal.contains("\"different_people\""),
        "the answer is journaled"
    );

    let shot = client.screenshot().await.unwrap();
    let target = repo().join("target");
    std::fs::create_dir_all(&target).unwrap();
    std::fs::write(target.join("console-screenshot.png"), shot).unwrap();
    std::fs::write(target.join("console-faces-screenshot.png"), faces_shot).unwrap();

    client.close().await.unwrap();
    let _ = server.kill();
    let _ = server.wait();
    let _ = driver.kill();
    let _ = driver.wait();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_office_page_shows_the_city_in_a_real_browser() {
    let Some(pg) = testkit::Postgres::start() else {
        return;
    };
    let db = pg.url();
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    start_demo_session(&data);
    let token = |args: &[&str]| -> String {
        let mut all = vec!["office", "token", "add", "--json", "--db", &db];
        all.extend_from_slice(args);
        let out = run(&all);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        v["token"].as_str().unwrap().to_string()
    };
    let kit = token(&["一组-笔记本1", "--team", "一组"]);
    let coordinator = token(&["王协调", "--coordinator"]);

    let port = free_port();
    let listen = format!("127.0.0.1:{port}");
    let mut office = listening(&["office", "serve", "--db", &db, "--listen", &listen], port);
    let config = tmp.path().join("rollcall.toml");
    std::fs::write(
        &config,
        format!(
            "data = {:?}\n[office]\nurl = \"http://127.0.0.1:{port}\"\ntoken = \"{kit}\"\n",
            data.display().to_string()
        ),
    )
    .unwrap();
    let out = run(&["sync", "--config", config.to_str().unwrap()]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    let (client, mut driver) = browser().await;
    // The coordinator's link: the page, and the token gone from the address bar.
    client
        .goto(&format!("http://127.0.0.1:{port}/?token={coordinator}"))
        .await
        .unwrap();
    wait_text(&client, "schools", "梧州市示例中学").await;
    assert_eq!(
        client.current_url().await.unwrap().as_str(),
        format!("http://127.0.0.1:{port}/")
    );
    wait_text(&client, "kits", "一组-笔记本1").await;
    wait_text(&client, "conn", "已连接").await;
    // The school's make-up list (nobody photographed yet: everyone).
    client
        .find(Locator::Css("#schools button.link"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    wait_text(&client, "makeup-title", "补拍名单").await;
    wait_text(&client, "makeup", "覃思远").await;
    let shot = client.screenshot().await.unwrap();
    std::fs::write(repo().join("target/office-screenshot.png"), shot).unwrap();
    // English on request.
    click(&client, "lang").await;
    wait_text(&client, "schools", "Photographed").await;
    wait_text(&client, "makeup-title", "make-up list").await;

    client.close().await.unwrap();
    let _ = office.kill();
    let _ = office.wait();
    let _ = driver.kill();
    let _ = driver.wait();
}
