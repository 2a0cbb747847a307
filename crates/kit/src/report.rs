//! The session's progress in sentences: each runner notice as a line for a terminal or the
//! system journal, the next student, and the one-line summary systemd shows (`STATUS=`).
//! In the operator's language ([`Lang`]); IDs never appear (names, classes, rows only).

use bilingual::Lang;
use session::Engine;
use session::State;
use session::event::{Event, OutcomeVerdict};
use session::runner::Notice;

fn say(lang: Lang, zh: String, en: String) -> String {
    lang.pick(zh, en)
}

/// "下一位：…": the student whose turn it is and the one after, or why there is none.
pub fn next_line(state: &State, lang: Lang) -> String {
    match state.cursor {
        Some(s) => {
            let r = &state.students[s].rec;
            let then = state.after_cursor().map(|t| &state.students[t].rec.name);
            say(
                lang,
                format!(
                    "下一位：{}（{} 第 {} 行）{}\n",
                    r.name,
                    r.class,
                    r.row,
                    then.map(|t| format!("，下一位 {t}")).unwrap_or_default()
                ),
                format!(
                    "next: {} ({} row {}){}\n",
                    r.name,
                    r.class,
                    r.row,
                    then.map(|t| format!(", then {t}")).unwrap_or_default()
                ),
            )
        }
        None => match &state.class {
            Some(c) => say(
                lang,
                format!("{c} 已拍完（缺席的学生在补拍名单上）\n"),
                format!("{c} is done (absent students are on the make-up list)\n"),
            ),
            None => say(lang, "请选择班级\n".into(), "choose a class\n".into()),
        },
    }
}

/// A notice as lines of text; empty for the operator's own commands (the caller shows those).
pub fn notice_text(engine: &Engine, notice: &Notice, lang: Lang) -> String {
    let state = engine.state();
    let name = |key: &Option<String>| {
        key.as_deref().and_then(|k| state.find(k)).map_or_else(
            || say(lang, "（未分配）".into(), "(unassigned)".into()),
            |s| state.students[s].rec.name.clone(),
        )
    };
    match notice {
        Notice::Recorded(line) => match &line.event {
            Event::FrameArrived { frame, student, .. } => say(
                lang,
                format!("第 {frame} 张 → {}\n", name(student)),
                format!("frame {frame} → {}\n", name(student)),
            ),
            Event::Processed { frame, outcome, .. } => {
                let verdict = match outcome.verdict {
                    OutcomeVerdict::Pass => say(lang, "合格".into(), "passed".into()),
                    _ => {
                        let reasons: Vec<bilingual::Text> = outcome
                            .reasons
                            .iter()
                            .map(|r| bilingual::Text::from_both(r))
                            .collect();
                        let joined = |lang: Lang, sep: &str| {
                            reasons
                                .iter()
                                .map(|r| r.get(lang))
                                .collect::<Vec<_>>()
                                .join(sep)
                        };
                        say(
                            lang,
                            format!("不合格：{}", joined(Lang::Zh, "；")),
                            format!("failed: {}", joined(Lang::En, "; ")),
                        )
                    }
                };
                // A face that contradicts the list, found with this frame (the daemon's log and
                // `session run` print it; the console shows it as a banner).
                let faces: String = state
                    .face_warnings()
                    .iter()
                    .filter(|w| w.frame == *frame)
                    .map(|w| format!("⚠ {}\n", w.message.get(lang)))
                    .collect();
                say(
                    lang,
                    format!("第 {frame} 张 {verdict}\n"),
                    format!("frame {frame} {verdict}\n"),
                ) + &faces
                    + &next_line(state, lang)
            }
            _ => String::new(),
        },
        Notice::Duplicate { file, of } => say(
            lang,
            format!("{} 与第 {of} 张相同，已忽略\n", file.display()),
            format!("{} is the same as frame {of}: ignored\n", file.display()),
        ),
        Notice::ShotLimit { student, .. } => {
            let name = &state.students[*student].rec.name;
            let limit = engine.settings.shot_limit;
            say(
                lang,
                format!("注意：{name} 已拍 {limit} 张以上，排队顺序是否与名单不符？\n"),
                format!(
                    "note: more than {limit} frames of {name}: is the queue out of roster order?\n"
                ),
            )
        }
        Notice::Trouble(message) => say(
            lang,
            format!("问题：{message}\n"),
            format!("problem: {message}\n"),
        ),
        Notice::Health => engine
            .health()
            .problems
            .iter()
            .map(|p| {
                say(
                    lang,
                    format!("问题：{}\n", p.text.zh),
                    format!("problem: {}\n", p.text.en),
                )
            })
            .collect(),
    }
}

/// "初一(1)班 · 已拍 12/45 · 补拍 3": the class being photographed and the school's counts,
/// with the disk and open problems when they need attention.
pub fn summary(engine: &Engine) -> String {
    let state = engine.state();
    let status = session::status::status(state);
    let students: usize = status
        .classes
        .iter()
        .map(|c| c.students - c.no_photo_needed)
        .sum();
    let done: usize = status.classes.iter().map(|c| c.photographed).sum();
    let class = state.class.as_deref().unwrap_or("未选班级");
    let health = engine.health();
    let disk = match health.free_bytes {
        Some(free) if health.low_space => {
            format!(" · 磁盘空间不足！剩余 {} MB", durable::megabytes(free))
        }
        Some(free) => format!(" · 磁盘剩余 {:.1} GB", free as f64 / 1e9),
        None => String::new(),
    };
    let problems = if health.problems.is_empty() {
        String::new()
    } else {
        format!(" · 问题 {} 个", health.problems.len())
    };
    format!(
        "{class} · 已拍 {done}/{students} · 补拍 {}{disk}{problems}",
        status.make_up.len()
    )
}
