//! Running a session: the spool watcher feeding frames in, a pool of pipeline workers, and the
//! engine recording both, on plain threads.
//!
//! One thread owns the [`Engine`]; notify's thread and the workers only send it messages. A
//! new frame is taken from the spool only when no assigned frame is still being processed,
//! so every frame sees the cursor its predecessor left (a burst is assigned exactly as if it
//! had been shot slowly) and a restart after a crash assigns the same way.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use notify::event::{AccessKind, AccessMode, CreateKind, EventKind, ModifyKind, RenameMode};
use notify::{RecursiveMode, Watcher};

use crate::command::Command;
use crate::engine::{Engine, EngineError, Ingested, ProblemKind};
use crate::event::{FrameId, Line};
use crate::spool::{Next, SetAsideReason, SpoolWatch};

/// How to run.
#[derive(Debug, Clone)]
pub struct RunOptions {
    pub profile: pipeline::Profile,
    /// Pipeline workers (default: the number of cores).
    pub jobs: usize,
    /// Return once the spool is empty and every frame is processed (tests, batch imports).
    pub until_idle: bool,
    /// The safety-net rescan interval.
    pub rescan: Duration,
    /// How long a file's size must stay unchanged when no completion event was seen.
    pub settle: Duration,
    /// Set to the milliseconds since `heartbeat_origin` on every turn of the loop (at least
    /// every 200 ms): a service watchdog pings only while the session's thread is alive.
    pub heartbeat: Option<Arc<std::sync::atomic::AtomicU64>>,
    /// When stopped, how long to wait for frames already being processed, so their verdicts
    /// are recorded before the exit (no new frame is taken meanwhile).
    pub drain: Duration,
}

/// The instant heartbeats count from.
pub fn heartbeat_origin() -> Instant {
    static ORIGIN: std::sync::OnceLock<Instant> = std::sync::OnceLock::new();
    *ORIGIN.get_or_init(Instant::now)
}

impl Default for RunOptions {
    fn default() -> Self {
        RunOptions {
            profile: pipeline::Profile::standard(),
            jobs: thread::available_parallelism().map_or(2, |n| n.get()),
            until_idle: false,
            rescan: Duration::from_secs(2),
            settle: Duration::from_millis(500),
            heartbeat: None,
            drain: Duration::from_secs(10),
        }
    }
}

/// How long the notice of a set-aside spool file stays on the console.
const SET_ASIDE_SHOWN: Duration = Duration::from_secs(300);

type PipelineResult = Result<pipeline::Report, pipeline::PipelineError>;

/// Says each trouble once, and again only when it changes or a minute has passed: a retry every
/// second must not flood the log.
#[derive(Debug, Default)]
struct Troubles {
    last: Option<(String, Instant)>,
}

impl Troubles {
    fn say(
        &mut self,
        engine: &Engine,
        on_notice: &mut dyn FnMut(&Engine, Notice),
        message: String,
    ) {
        let message = roster::id::mask_all(&message);
        let repeat = self
            .last
            .as_ref()
            .is_some_and(|(m, at)| *m == message && at.elapsed() < Duration::from_secs(60));
        if !repeat {
            self.last = Some((message.clone(), Instant::now()));
            on_notice(engine, Notice::Trouble(message));
        }
    }
}

/// Moves a spool file that is not a frame out of the queue's way and tells the operator.
fn set_aside(
    engine: &mut Engine,
    spool: &mut SpoolWatch,
    path: &Path,
    reason: SetAsideReason,
    on_notice: &mut dyn FnMut(&Engine, Notice),
) {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let moved = spool.set_aside(path);
    let (zh, en) = match &moved {
        Ok(to) => (
            format!(
                "收片文件夹中的 {name} 不是照片（{}），已移到 {}",
                reason.zh(),
                to.display()
            ),
            format!(
                "spool file {name} is not a frame ({}); moved to {}",
                reason.en(),
                to.display()
            ),
        ),
        Err(e) => (
            format!(
                "收片文件夹中的 {name} 不是照片（{}），已跳过（无法移走：{e}）",
                reason.zh()
            ),
            format!(
                "spool file {name} is not a frame ({}); skipped (cannot move it: {e})",
                reason.en()
            ),
        ),
    };
    tracing::warn!(file = %path.display(), reason = reason.en(), "spool file set aside");
    engine.set_problem(ProblemKind::SetAside, zh, en.clone());
    on_notice(engine, Notice::Trouble(en));
}

/// What the runner tells its caller as it goes.
#[derive(Debug, Clone)]
pub enum Notice {
    /// A journal line was recorded.
    Recorded(Line),
    /// A spool file was the same bytes as an earlier frame.
    Duplicate { file: PathBuf, of: FrameId },
    /// A student has more frames than the shot limit.
    ShotLimit { frame: FrameId, student: usize },
    /// Something failed and will be retried, or a file was set aside; the message names the
    /// file.
    Trouble(String),
    /// [`Engine::health`] changed (a problem appeared or cleared).
    Health,
}

#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct RunSummary {
    pub arrived: usize,
    pub duplicates: usize,
    pub processed: usize,
}

/// An operator command for a running session.
#[derive(Debug, Clone, PartialEq)]
pub enum Request {
    /// A command, resolved on the session's thread against the state it is applied to.
    Command(Command),
    /// The roster read again (the team fixed the Excel), with the files it came from.
    Reload(Box<roster::Roster>, Vec<String>),
}

/// Why a command was not recorded: the refusal or failure, in Chinese and English.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Rejected {
    /// `zh` and `en` beside `refused` in the JSON.
    #[serde(flatten)]
    pub text: bilingual::Text,
    /// The command was refused (the state did not allow it), as opposed to an I/O failure.
    pub refused: bool,
}

type Reply = Sender<Result<Line, Rejected>>;

/// Sends commands to a running session (from the console, on any thread).
#[derive(Debug, Clone)]
pub struct Remote {
    tx: Sender<Msg>,
}

impl Remote {
    /// Applies a command on the session's thread and waits for the result.
    pub fn command(&self, request: Request) -> Result<Line, Rejected> {
        let (reply, answer) = mpsc::channel();
        let gone = || Rejected {
            text: bilingual::Text::new("拍摄会话已停止", "the session has stopped"),
            refused: false,
        };
        self.tx
            .send(Msg::Command(request, reply))
            .map_err(|_| gone())?;
        answer.recv().map_err(|_| gone())?
    }
}

/// The receiving end of a [`Remote`], handed to [`run_with`].
#[derive(Debug)]
pub struct Inbox {
    tx: Sender<Msg>,
    rx: Receiver<Msg>,
}

/// A remote and the inbox it sends to.
pub fn remote() -> (Remote, Inbox) {
    let (tx, rx) = mpsc::channel();
    (Remote { tx: tx.clone() }, Inbox { tx, rx })
}

enum Msg {
    Command(Request, Reply),
    Fs(notify::Result<notify::Event>),
    Done(
        FrameId,
        Box<Result<pipeline::Report, pipeline::PipelineError>>,
    ),
    /// The original moved (the frame changed student) before a worker read it.
    Moved(FrameId),
}

/// Runs until `stop` is set (or, with `until_idle`, until nothing is left to do).
pub fn run(
    engine: &mut Engine,
    spool_dir: &Path,
    options: &RunOptions,
    stop: &AtomicBool,
    on_notice: &mut dyn FnMut(&Engine, Notice),
) -> Result<RunSummary, EngineError> {
    let (_, inbox) = remote();
    run_with(engine, spool_dir, options, stop, inbox, on_notice)
}

/// [`run`], also taking operator commands from the [`Remote`] of `inbox`.
pub fn run_with(
    engine: &mut Engine,
    spool_dir: &Path,
    options: &RunOptions,
    stop: &AtomicBool,
    inbox: Inbox,
    on_notice: &mut dyn FnMut(&Engine, Notice),
) -> Result<RunSummary, EngineError> {
    let io = |source| EngineError::Io {
        path: spool_dir.to_path_buf(),
        source,
    };
    crate::layout::create_private_dir(spool_dir).map_err(io)?;
    let Inbox { tx, rx } = inbox;
    let fs_tx = tx.clone();
    let mut watcher = notify::recommended_watcher(move |ev| {
        let _ = fs_tx.send(Msg::Fs(ev));
    })
    .map_err(|e| io(std::io::Error::other(e)))?;
    watcher
        .watch(spool_dir, RecursiveMode::NonRecursive)
        .map_err(|e| io(std::io::Error::other(e)))?;

    let jobs = Workers::start(options.jobs.max(1), options.profile.clone(), tx);
    let mut summary = RunSummary::default();
    let mut in_flight: Vec<FrameId> = Vec::new();
    for (frame, original) in engine.unprocessed() {
        jobs.submit(frame, original);
        in_flight.push(frame);
    }
    // Every path below is the canonical one: events name files by it.
    let mut spool = SpoolWatch::new(spool_dir);
    spool.settle = options.settle;
    let start = Instant::now();
    spool.rescan(start, Duration::ZERO).map_err(io)?;
    let mut last_rescan = start;
    let mut retry_at: Option<Instant> = None;

    let mut stopping: Option<Instant> = None;
    // Verdicts waiting to be recorded (a write failed: retried every second, never dropped,
    // so the frame's student is not left "processing").
    let mut unrecorded: Vec<(FrameId, Box<PipelineResult>)> = Vec::new();
    let mut record_retry_at: Option<Instant> = None;
    let mut troubles = Troubles::default();
    let mut set_aside_at: Option<Instant> = None;
    loop {
        if let Some(beat) = &options.heartbeat {
            let ms = heartbeat_origin().elapsed().as_millis();
            beat.store(u64::try_from(ms).unwrap_or(u64::MAX), Ordering::Relaxed);
        }
        if stop.load(Ordering::Relaxed) {
            // Finish the frames in flight (their verdicts are a few hundred ms away), then go.
            let since = *stopping.get_or_insert_with(Instant::now);
            if in_flight.is_empty() || since.elapsed() >= options.drain {
                break;
            }
        }
        let tick = if spool.is_empty() {
            Duration::from_millis(200)
        } else {
            Duration::from_millis(20)
        };
        let first = match rx.recv_timeout(tick) {
            Ok(m) => Some(m),
            Err(RecvTimeoutError::Timeout) => None,
            Err(RecvTimeoutError::Disconnected) => break,
        };
        let now = Instant::now();
        for msg in first.into_iter().chain(rx.try_iter()) {
            match msg {
                Msg::Command(request, reply) => {
                    let result = command(engine, request);
                    if let Ok(line) = &result {
                        on_notice(engine, Notice::Recorded(line.clone()));
                    }
                    let _ = reply.send(result);
                }
                Msg::Fs(Ok(event)) => {
                    tracing::debug!(?event, "spool event");
                    let complete = matches!(
                        event.kind,
                        EventKind::Access(AccessKind::Close(AccessMode::Write))
                            | EventKind::Modify(ModifyKind::Name(RenameMode::To))
                            | EventKind::Modify(ModifyKind::Name(RenameMode::Both))
                    );
                    let relevant = complete
                        || matches!(
                            event.kind,
                            EventKind::Create(CreateKind::File | CreateKind::Any)
                                | EventKind::Modify(_)
                        );
                    if relevant {
                        for p in &event.paths {
                            spool.note(p, complete, now);
                        }
                    }
                }
                Msg::Fs(Err(e)) => {
                    tracing::warn!(error = %e, "spool watch error; the rescan covers it");
                }
                Msg::Moved(frame) => match engine.original(frame) {
                    Some(path) => jobs.submit(frame, path.to_path_buf()),
                    None => in_flight.retain(|&f| f != frame),
                },
                Msg::Done(frame, result) => unrecorded.push((frame, result)),
            }
        }
        if !unrecorded.is_empty() && record_retry_at.is_none_or(|t| now >= t) {
            record_retry_at = None;
            while let Some((frame, result)) = unrecorded.first() {
                let frame = *frame;
                match engine.record(frame, result) {
                    Ok((line, _)) => {
                        let _recorded = unrecorded.remove(0);
                        in_flight.retain(|&f| f != frame);
                        summary.processed += 1;
                        engine.clear_problem(ProblemKind::Record);
                        on_notice(engine, Notice::Recorded(line));
                    }
                    Err(e) => {
                        engine.set_problem(
                            ProblemKind::Record,
                            format!(
                                "第 {frame} 张照片的检查结果暂时无法记录，正在重试：{}",
                                e.zh()
                            ),
                            format!(
                                "the verdict of frame {frame} cannot be recorded yet; retrying: {e}"
                            ),
                        );
                        troubles.say(
                            engine,
                            on_notice,
                            format!("frame {frame}: {e} / {}", e.zh()),
                        );
                        record_retry_at = Some(now + Duration::from_secs(1));
                        break;
                    }
                }
            }
        }
        if now.duration_since(last_rescan) >= options.rescan {
            last_rescan = now;
            if !engine.retry_filing() {
                on_notice(engine, Notice::Health);
            }
            if set_aside_at.is_some_and(|t| now.duration_since(t) >= SET_ASIDE_SHOWN) {
                set_aside_at = None;
                engine.clear_problem(ProblemKind::SetAside);
                on_notice(engine, Notice::Health);
            }
            if let Err(e) = spool.rescan(now, options.rescan) {
                on_notice(
                    engine,
                    Notice::Trouble(format!("{}: {e}", spool_dir.display())),
                );
            }
        }
        if stopping.is_some() || retry_at.is_some_and(|t| now < t) {
            continue;
        }
        retry_at = None;
        while !engine.state().assignment_pending() {
            let path = match spool.next_ready(now) {
                None => break,
                Some(Next::SetAside(path, reason)) => {
                    set_aside(engine, &mut spool, &path, reason, on_notice);
                    set_aside_at = Some(now);
                    continue;
                }
                Some(Next::Frame(path)) => path,
            };
            tracing::debug!(file = %path.display(), "taking in");
            match engine.ingest(&path) {
                Ok(Ingested::Arrived {
                    frame,
                    student,
                    over_limit,
                    line,
                }) => {
                    spool.done(&path);
                    summary.arrived += 1;
                    on_notice(engine, Notice::Recorded(line));
                    if let Some(original) = engine.original(frame) {
                        jobs.submit(frame, original.to_path_buf());
                        in_flight.push(frame);
                    }
                    if over_limit && let Some(student) = student {
                        on_notice(engine, Notice::ShotLimit { frame, student });
                    }
                }
                Ok(Ingested::Duplicate { of }) => {
                    spool.done(&path);
                    summary.duplicates += 1;
                    on_notice(engine, Notice::Duplicate { file: path, of });
                }
                Ok(Ingested::Gone) => spool.done(&path),
                Err(EngineError::Io { path: p, source })
                    if p == path && !durable::is_disk_full(&source) =>
                {
                    // The file itself cannot be read: it must not hold the queue.
                    tracing::warn!(file = %path.display(), error = %source, "unreadable spool file");
                    set_aside(
                        engine,
                        &mut spool,
                        &path,
                        SetAsideReason::Unreadable,
                        on_notice,
                    );
                    set_aside_at = Some(now);
                }
                Err(e) => {
                    engine.set_problem(
                        ProblemKind::Ingest,
                        format!("新照片暂时无法保存，正在重试（照片仍在收片文件夹中）：{}", e.zh()),
                        format!("a new frame cannot be stored yet; retrying (it stays in the spool): {e}"),
                    );
                    troubles.say(
                        engine,
                        on_notice,
                        format!("{}: {e} / {}", path.display(), e.zh()),
                    );
                    retry_at = Some(now + Duration::from_secs(1));
                    break;
                }
            }
            if engine.has_problem(ProblemKind::Ingest) {
                engine.clear_problem(ProblemKind::Ingest);
                on_notice(engine, Notice::Health);
            }
        }
        if options.until_idle
            && in_flight.is_empty()
            && unrecorded.is_empty()
            && spool.is_empty()
            && retry_at.is_none()
        {
            // One last look, in case an event is still on its way.
            if spool.rescan(Instant::now(), Duration::ZERO).map_err(io)? == 0 {
                break;
            }
        }
    }
    drop(watcher);
    jobs.stop();
    Ok(summary)
}

fn command(engine: &mut Engine, request: Request) -> Result<Line, Rejected> {
    let reject = |e: EngineError| Rejected {
        text: e.text(),
        refused: matches!(e, EngineError::Refused(_)),
    };
    let line = match request {
        Request::Command(command) => engine
            .execute(&command, chrono::Local::now().date_naive())
            .map(|(line, _)| line),
        Request::Reload(roster, sources) => engine.reload(&roster, sources).map(|(_, line)| line),
    };
    line.map_err(reject)
}

/// The pipeline on one frame; a panic in it (a bug, never input's fault) becomes that frame's
/// error instead of taking a worker down, and the session goes on.
fn process_caught(bytes: &[u8], profile: &pipeline::Profile, frame: FrameId) -> PipelineResult {
    caught(frame, || pipeline::process(bytes, profile))
}

/// Runs `work`; a panic becomes [`pipeline::PipelineError::Internal`] for this frame.
fn caught(frame: FrameId, work: impl FnOnce() -> PipelineResult) -> PipelineResult {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(work)).unwrap_or_else(|panic| {
        let what = panic
            .downcast_ref::<&str>()
            .map(|s| (*s).to_string())
            .or_else(|| panic.downcast_ref::<String>().cloned())
            .unwrap_or_default();
        tracing::error!(frame, panic = %what, "the photo pipeline panicked on a frame");
        Err(pipeline::PipelineError::Internal(what))
    })
}

/// The pipeline pool: each worker reads an original and processes it.
struct Workers {
    jobs: Option<Sender<(FrameId, PathBuf)>>,
    handles: Vec<thread::JoinHandle<()>>,
}

impl Workers {
    fn start(n: usize, profile: pipeline::Profile, results: Sender<Msg>) -> Workers {
        let (tx, rx) = mpsc::channel::<(FrameId, PathBuf)>();
        let rx = Arc::new(Mutex::new(rx));
        let profile = Arc::new(profile);
        let handles = (0..n)
            .map(|_| {
                let rx: Arc<Mutex<Receiver<(FrameId, PathBuf)>>> = Arc::clone(&rx);
                let results = results.clone();
                let profile = Arc::clone(&profile);
                thread::spawn(move || {
                    loop {
                        let job = match rx.lock() {
                            Ok(guard) => guard.recv(),
                            Err(_) => return,
                        };
                        let Ok((frame, path)) = job else { return };
                        let result = match durable::read_regular(&path) {
                            Ok(bytes) => process_caught(&bytes, &profile, frame),
                            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                                if results.send(Msg::Moved(frame)).is_err() {
                                    return;
                                }
                                continue;
                            }
                            Err(e) => Err(pipeline::PipelineError::Unreadable(e.to_string())),
                        };
                        if results.send(Msg::Done(frame, Box::new(result))).is_err() {
                            return;
                        }
                    }
                })
            })
            .collect();
        Workers {
            jobs: Some(tx),
            handles,
        }
    }

    fn submit(&self, frame: FrameId, path: PathBuf) {
        if let Some(tx) = &self.jobs {
            let _ = tx.send((frame, path));
        }
    }

    fn stop(mut self) {
        self.jobs = None;
        for h in self.handles.drain(..) {
            let _ = h.join();
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_panic_on_one_frame_is_that_frames_error() {
        let result = super::caught(7, || {
            #[allow(clippy::panic)]
            {
                panic!("index out of bounds")
            }
        });
        match result {
            Err(pipeline::PipelineError::Internal(what)) => {
                assert!(what.contains("out of bounds"), "{what}")
            }
            other => panic!("{other:?}"),
        }
    }
}
