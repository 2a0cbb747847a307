//! The supervisor in-process: the demo camera, the demo roster, the console on a free port and
//! a service manager that records what it is told. Nothing is mocked but systemd.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::{Arc, Mutex};
use std::time::Duration;

use kit::config::{CameraSection, Config, ConsoleSection, SourceName};
use kit::supervisor::{Report, ServiceManager};
use tokio_util::sync::CancellationToken;

#[derive(Default)]
struct Recorder {
    reports: Mutex<Vec<Report>>,
    changed: tokio::sync::Notify,
}

impl ServiceManager for Recorder {
    fn report(&self, report: &Report) {
        if let Ok(mut r) = self.reports.lock() {
            r.push(report.clone());
        }
        self.changed.notify_waiters();
    }

    fn watchdog(&self) -> Option<Duration> {
        Some(Duration::from_millis(300))
    }
}

impl Recorder {
    fn seen(&self, want: impl Fn(&Report) -> bool) -> bool {
        self.reports.lock().unwrap().iter().any(want)
    }

    /// Waits until a report matches; the test's own timeout bounds it.
    async fn until(&self, want: impl Fn(&Report) -> bool) {
        loop {
            let changed = self.changed.notified();
            if self.seen(&want) {
                return;
            }
            changed.await;
        }
    }
}

fn config(dir: &std::path::Path) -> Config {
    let rosters = dir.join("rosters");
    let file = rosters.join(kit::demo::ROSTER.0);
    std::fs::create_dir_all(file.parent().unwrap()).unwrap();
    std::fs::write(&file, kit::demo::ROSTER.1).unwrap();
    let text = format!("data = {:?}\nroster = [{:?}]\n", dir.join("data"), rosters);
    let mut config = kit::config::parse(&text).unwrap();
    config.camera = CameraSection {
        source: SourceName::Demo,
        demo_pace: 0.05,
        ..CameraSection::default()
    };
    config.console = ConsoleSection {
        listen: "127.0.0.1:0".parse().unwrap(),
        ..ConsoleSection::default()
    };
    config.jobs = Some(1);
    config
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_supervisor_reports_ready_progress_and_stopping_and_files_frames() {
    let dir = tempfile::tempdir().unwrap();
    let config: Config = config(dir.path());
    let recorder = Arc::new(Recorder::default());
    let shutdown = CancellationToken::new();
    let run = {
        let recorder = Arc::clone(&recorder);
        let shutdown = shutdown.clone();
        let config = config.clone();
        tokio::spawn(
            async move { kit::supervisor::run(&config, recorder.as_ref(), shutdown).await },
        )
    };
    let progressed = |r: &Report| matches!(r, Report::Status(s) if s.contains(tether::demo::MODEL) && !s.contains("已拍 0/"));
    tokio::time::timeout(Duration::from_secs(120), recorder.until(progressed))
        .await
        .unwrap_or_else(|_| panic!("no progress: {:?}", recorder.reports.lock().unwrap()));
    assert!(recorder.seen(|r| *r == Report::Ready));
    assert!(
        recorder.seen(|r| *r == Report::Watchdog),
        "the session's heartbeat is pinged"
    );
    // The console was hosted on the same runtime and said where.
    let info = kit::console::read_info(&config.data).unwrap();
    assert!(info.base.starts_with("http://127.0.0.1:"), "{}", info.base);

    shutdown.cancel();
    let result = tokio::time::timeout(Duration::from_secs(60), run)
        .await
        .expect("the supervisor stops after cancellation")
        .unwrap();
    result.unwrap();
    let reports = recorder.reports.lock().unwrap().clone();
    assert_eq!(reports.last(), Some(&Report::Stopping), "{reports:?}");
    assert_eq!(reports.iter().filter(|r| **r == Report::Ready).count(), 1);
    // Stopped means gone: no address file, no control socket.
    assert!(!config.data.join("console.json").exists());
    assert!(!tether::control::socket(&config.data.join("spool")).exists());
    // What was photographed is in the journal and in the output folder.
    let (engine, _) = session::Engine::open(&config.data, None).unwrap();
    let photographed = session::status::status(engine.state())
        .classes
        .iter()
        .map(|c| c.photographed)
        .sum::<usize>();
    assert!(photographed >= 1, "{photographed}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_folder_source_without_a_folder_is_refused_before_anything_starts() {
    let dir = tempfile::tempdir().unwrap();
    let mut config = config(dir.path());
    config.camera.source = SourceName::Folder;
    let recorder = Recorder::default();
    let e = kit::supervisor::run(&config, &recorder, CancellationToken::new())
        .await
        .unwrap_err();
    assert!(e.to_string().contains("folder"), "{e}");
    assert!(!recorder.seen(|r| *r == Report::Ready));
}
