//! When to submit what, by the city's schedule (seed notice, 十一): during the first three
//! working days of the campaign, each next working day the data collected the working day
//! before; after that, every Monday the schools completed in the week before. And which
//! submitted schools changed since (a correction or a make-up photo): they must go again.
//!
//! Working days are Monday to Friday; public holidays are not known to rollcall. "The first
//! three days" are the first three days on which photos were taken. A school completed during
//! the daily phase goes with the first Monday after it.

use std::collections::BTreeSet;

use chrono::{Datelike, Duration, NaiveDate, Weekday};
use serde::Serialize;

/// What rollcall knows of one school.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Progress {
    pub school: String,
    /// Days on which frames of this school arrived.
    pub shooting_days: BTreeSet<NaiveDate>,
    /// The day the last student who needed a photo got one; `None` while any is missing.
    pub completed_on: Option<NaiveDate>,
    /// Content hash of what a pack would hold now.
    pub content_hash: Option<String>,
}

/// A ledger entry: a zip that was made for submission.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct Submission {
    pub school: String,
    pub date: NaiveDate,
    pub zip: String,
    pub sha256: String,
    pub content_hash: String,
    pub files: usize,
    /// Packed with `--allow-incomplete` (a daily submission of partial data).
    pub complete: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    /// First three working days: yesterday's data, complete or not.
    Daily,
    /// Every Monday afterwards: schools completed the week before.
    Weekly,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Item {
    pub due: NaiveDate,
    pub kind: Kind,
    /// The collection day (daily) or the Monday starting the week (weekly) it covers.
    pub covers: NaiveDate,
    /// (school, already submitted).
    pub schools: Vec<(String, bool)>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Plan {
    pub today: NaiveDate,
    /// Items due today or earlier with a school not yet submitted, and those due in the next
    /// seven days.
    pub items: Vec<Item>,
    /// Schools submitted complete whose content changed since.
    pub resubmit: Vec<String>,
}

pub fn is_working_day(d: NaiveDate) -> bool {
    !matches!(d.weekday(), Weekday::Sat | Weekday::Sun)
}

pub fn next_working_day(d: NaiveDate) -> NaiveDate {
    let mut n = d + Duration::days(1);
    while !is_working_day(n) {
        n += Duration::days(1);
    }
    n
}

/// The plan as of `today`.
pub fn plan(today: NaiveDate, schools: &[Progress], ledger: &[Submission]) -> Plan {
    let mut items = Vec::new();
    // The first three days on which anything was photographed (a Saturday counts when the
    // team worked): each is due the next working day.
    let all_days: BTreeSet<NaiveDate> = schools
        .iter()
        .flat_map(|s| s.shooting_days.iter().copied())
        .collect();
    let first_days: Vec<NaiveDate> = all_days.iter().copied().take(3).collect();
    for &day in &first_days {
        let names: Vec<(String, bool)> = schools
            .iter()
            .filter(|s| s.shooting_days.contains(&day))
            .map(|s| {
                let done = ledger.iter().any(|l| l.school == s.school && l.date >= day);
                (s.school.clone(), done)
            })
            .collect();
        items.push(Item {
            due: next_working_day(day),
            kind: Kind::Daily,
            covers: day,
            schools: names,
        });
    }
    // Then every Monday after the daily phase, up to a week ahead of today: the schools
    // completed in the seven days before it.
    if let Some(&third) = first_days.get(2) {
        let daily_end = next_working_day(third);
        let mut monday = daily_end + Duration::days(1);
        while monday.weekday() != Weekday::Mon {
            monday += Duration::days(1);
        }
        let mut from = NaiveDate::MIN; // the first Monday also takes the daily phase's schools
        while monday <= today + Duration::days(7) {
            let week = monday - Duration::days(7);
            let names: Vec<(String, bool)> = schools
                .iter()
                .filter(|s| s.completed_on.is_some_and(|d| d >= from && d < monday))
                .map(|s| {
                    let done = ledger.iter().any(|l| {
                        l.school == s.school
                            && l.complete
                            && s.completed_on.is_some_and(|c| l.date >= c)
                    });
                    (s.school.clone(), done)
                })
                .collect();
            if !names.is_empty() {
                items.push(Item {
                    due: monday,
                    kind: Kind::Weekly,
                    covers: week,
                    schools: names,
                });
            }
            from = monday;
            monday += Duration::days(7);
        }
    }
    items.retain(|i| {
        let pending = i.schools.iter().any(|(_, done)| !done);
        (i.due <= today && pending) || (i.due > today && i.due <= today + Duration::days(7))
    });
    let resubmit = schools
        .iter()
        .filter(|s| {
            let last = ledger
                .iter()
                .filter(|l| l.school == s.school && l.complete)
                .max_by_key(|l| l.date);
            match (last, &s.content_hash) {
                (Some(l), Some(now)) => l.content_hash != *now,
                _ => false,
            }
        })
        .map(|s| s.school.clone())
        .collect();
    Plan {
        today,
        items,
        resubmit,
    }
}
