//! Synthetic journals for the office's tests and its benchmark: schools whose students are
//! photographed in roster order, as a kit's journal would say it.
#![allow(dead_code)]

use session::event::{Outcome, OutcomeVerdict};
use session::{Event, Line, StudentRecord};

/// The ID number of student `n` of the city (valid check digit; distinct for every n up to
/// several million: a thousand a birthday from 2010-01-01 on).
pub fn id(n: u32) -> String {
    let born = chrono::NaiveDate::from_ymd_opt(2010, 1, 1).unwrap_or_default()
        + chrono::Days::new(u64::from(n / 1000));
    testkit::with_check_digit(&format!("450481{}{:03}", born.format("%Y%m%d"), n % 1000))
}

/// A school's roster: `students` students in classes of 40, numbered from `first` city-wide.
pub fn roster(first: u32, students: u32) -> Vec<StudentRecord> {
    (0..students)
        .map(|i| {
            let n = first + i;
            StudentRecord {
                key: format!("k{n}"),
                class: format!("{}班", i / 40 + 1),
                row: i % 40 + 1,
                id_number: Some(id(n)),
                id_text: id(n),
                name: testkit::name(n),
                photo_required: true,
                walk_in: false,
            }
        })
        .collect()
}

fn line(seq: u64, day: &str, event: Event) -> Line {
    Line {
        v: session::event::VERSION,
        seq,
        at: format!("{day}T08:{:02}:{:02}Z", (seq / 60) % 60, seq % 60),
        event,
    }
}

/// A school's journal: opened, the roster, then `photographed` of its students photographed
/// (a frame arrives and passes) on `day` (YYYY-MM-DD). Two lines a photo.
pub fn journal(
    school: &str,
    roster: &[StudentRecord],
    photographed: usize,
    day: &str,
) -> Vec<Line> {
    let mut lines = vec![
        line(
            1,
            day,
            Event::Opened {
                school: school.to_string(),
                separator: "-".into(),
            },
        ),
        line(
            2,
            day,
            Event::RosterLoaded {
                sources: vec!["名册.xlsx".into()],
                students: roster.to_vec(),
            },
        ),
    ];
    for (i, s) in roster.iter().take(photographed).enumerate() {
        let frame = i as u64 + 1;
        let seq = lines.len() as u64 + 1;
        lines.push(line(
            seq,
            day,
            Event::FrameArrived {
                frame,
                hash: format!("{school}-{frame:08}"),
                ext: "jpg".into(),
                size: 6_000_000,
                source: format!("IMG_{frame:04}.JPG"),
                student: Some(s.key.clone()),
            },
        ));
        lines.push(line(
            seq + 1,
            day,
            Event::Processed {
                frame,
                outcome: Outcome {
                    verdict: OutcomeVerdict::Pass,
                    reasons: Vec::new(),
                    photo: true,
                    quality: Some(90),
                    failed: Vec::new(),
                },
                face: None,
            },
        ));
    }
    lines
}

/// The next line of a journal: `event` after `lines`.
pub fn next(lines: &[Line], day: &str, event: Event) -> Line {
    line(lines.len() as u64 + 1, day, event)
}
