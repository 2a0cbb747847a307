//! The city view: what the coordinator's page and `rollcall office status` show. Every query
//! reads the tables ingest keeps (counts per school, duplicates, open roster problems) — none
//! scans the journal or all students.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{NaiveDate, Utc};
use session::Standing;

use crate::db::{Db, Error};
use crate::wire::{
    City, Counts, Due, DueSchool, Duplicate, KitRow, KitStatus, MakeUp, Place, Problem,
    SchoolDetail, SchoolRow, Team,
};

/// The most duplicates and roster problems listed (`City` says how many there are).
pub const MAX_LISTED: i64 = 1_000;

fn standing(name: &str) -> Standing {
    serde_json::from_value(serde_json::Value::String(name.to_string())).unwrap_or(Standing::Waiting)
}

fn count(v: i32) -> u64 {
    u64::try_from(v).unwrap_or(0)
}

/// The whole city as of now (`today` decides what is due).
pub async fn city(db: &Db, today: NaiveDate) -> Result<City, Error> {
    let client = db.pool.get().await?;
    let kit_rows = client
        .query(
            "SELECT id, name, team, last_sync, status::text, revoked_at IS NOT NULL
             FROM kits WHERE role = 'kit' ORDER BY team, name",
            &[],
        )
        .await?;
    let school_rows = client
        .query(
            "SELECT s.kit, s.school, s.students, s.photographed, s.retake, s.absent, s.to_come,
                    s.no_photo, s.through, s.frames, s.last_line_at, s.synced_at, s.completed_on,
                    s.shooting_days, sub.date, coalesce(sub.complete, false)
             FROM schools s
             LEFT JOIN LATERAL (
                 SELECT date, complete FROM submissions
                 WHERE kit = s.kit AND school = s.school
                 ORDER BY date DESC, complete DESC LIMIT 1) sub ON true
             ORDER BY s.school, s.kit",
            &[],
        )
        .await?;
    let mut kits: BTreeMap<i32, (String, String, KitRow)> = BTreeMap::new();
    for r in &kit_rows {
        let status: Option<String> = r.get(4);
        let row = KitRow {
            kit: r.get(1),
            last_sync: r.get(3),
            status: status.and_then(|s| serde_json::from_str::<KitStatus>(&s).ok()),
            schools: 0,
            counts: Counts::default(),
            revoked: r.get(5),
        };
        kits.insert(r.get(0), (r.get(1), r.get(2), row));
    }
    let mut schools = Vec::new();
    let mut progress = Vec::new();
    for r in &school_rows {
        let kit: i32 = r.get(0);
        let counts = Counts {
            students: count(r.get(2)),
            photographed: count(r.get(3)),
            retake: count(r.get(4)),
            absent: count(r.get(5)),
            to_come: count(r.get(6)),
            no_photo: count(r.get(7)),
        };
        let (kit_name, team) = match kits.get_mut(&kit) {
            Some((name, team, row)) => {
                row.schools += 1;
                row.counts.add(&counts);
                (name.clone(), team.clone())
            }
            None => continue,
        };
        let school: String = r.get(1);
        let completed_on: Option<NaiveDate> = r.get(12);
        let days: Vec<NaiveDate> = r.get(13);
        progress.push(export::plan::Progress {
            school: school.clone(),
            shooting_days: days.into_iter().collect::<BTreeSet<_>>(),
            completed_on,
            content_hash: None,
        });
        schools.push(SchoolRow {
            school,
            kit: kit_name,
            team,
            counts,
            lines: u64::try_from(r.get::<_, i64>(8)).unwrap_or(0),
            frames: count(r.get(9)),
            last_line_at: r.get(10),
            synced_at: r.get(11),
            completed_on,
            submitted: r.get(14),
            submitted_complete: r.get(15),
        });
    }
    let mut teams: BTreeMap<String, Team> = BTreeMap::new();
    for (_, (_, team, row)) in kits {
        let t = teams.entry(team.clone()).or_insert_with(|| Team {
            team,
            kits: Vec::new(),
            counts: Counts::default(),
        });
        t.counts.add(&row.counts);
        t.kits.push(row);
    }

    let duplicates = duplicates(&client).await?;
    let totals = client
        .query_one(
            "SELECT (SELECT count(DISTINCT id_number) FROM duplicates),
                    (SELECT count(*) FROM students
                     WHERE id_number IS NULL AND standing NOT IN ('removed', 'no_photo_needed'))",
            &[],
        )
        .await?;
    let total = |i: usize| u64::try_from(totals.get::<_, i64>(i)).unwrap_or(0);
    let problems = client
        .query(
            "SELECT st.school, k.name, st.class, st.row, st.name, st.id_masked
             FROM students st JOIN kits k ON k.id = st.kit
             WHERE st.id_number IS NULL AND st.standing NOT IN ('removed', 'no_photo_needed')
             ORDER BY st.school, st.class, st.row LIMIT $1",
            &[&MAX_LISTED],
        )
        .await?
        .iter()
        .map(|r| Problem {
            school: r.get(0),
            kit: r.get(1),
            class: r.get(2),
            row: u32::try_from(r.get::<_, i32>(3)).unwrap_or(0),
            name: r.get(4),
            id: r.get(5),
        })
        .collect();

    let ledger: Vec<export::plan::Submission> = client
        .query(
            "SELECT school, date, zip, sha256, content_hash, files, complete FROM submissions",
            &[],
        )
        .await?
        .iter()
        .map(|r| export::plan::Submission {
            school: r.get(0),
            date: r.get(1),
            zip: r.get(2),
            sha256: r.get(3),
            content_hash: r.get(4),
            files: usize::try_from(r.get::<_, i32>(5)).unwrap_or(0),
            complete: r.get(6),
        })
        .collect();
    let plan = export::plan::plan(today, &progress, &ledger);
    let due = plan
        .items
        .into_iter()
        .map(|i| Due {
            due: i.due,
            kind: match i.kind {
                export::plan::Kind::Daily => "daily".into(),
                export::plan::Kind::Weekly => "weekly".into(),
            },
            covers: i.covers,
            schools: i
                .schools
                .into_iter()
                .map(|(school, submitted)| DueSchool { school, submitted })
                .collect(),
        })
        .collect();
    Ok(City {
        at: Utc::now(),
        teams: teams.into_values().collect(),
        schools,
        duplicates,
        duplicates_total: total(0),
        problems,
        problems_total: total(1),
        due,
    })
}

async fn duplicates(client: &deadpool_postgres::Client) -> Result<Vec<Duplicate>, Error> {
    let rows = client
        .query(
            "SELECT d.id_number, st.id_masked, st.school, k.name, st.class, st.name, st.standing
             FROM (SELECT DISTINCT id_number FROM duplicates ORDER BY id_number LIMIT $1) listed
             JOIN duplicates d ON d.id_number = listed.id_number
             JOIN kits k ON k.id = d.kit
             -- One index lookup per place (a join would let the planner scan every student).
             CROSS JOIN LATERAL (
                 SELECT id_masked, school, class, name, standing FROM students
                 WHERE id_number = d.id_number AND kit = d.kit AND school = d.school
                 LIMIT 1) st
             ORDER BY d.id_number, st.school, k.name",
            &[&MAX_LISTED],
        )
        .await?;
    let mut out: Vec<(String, Duplicate)> = Vec::new();
    for r in &rows {
        let id: String = r.get(0);
        let place = Place {
            school: r.get(2),
            kit: r.get(3),
            class: r.get(4),
            name: r.get(5),
            standing: standing(r.get(6)),
        };
        match out.last_mut() {
            Some((last, d)) if *last == id => d.places.push(place),
            _ => out.push((
                id,
                Duplicate {
                    id: r.get(1),
                    places: vec![place],
                },
            )),
        }
    }
    Ok(out.into_iter().map(|(_, d)| d).collect())
}

/// One school's make-up list (补拍名单): everyone still to photograph, retake or absent.
pub async fn school(db: &Db, kit: &str, school: &str) -> Result<Option<SchoolDetail>, Error> {
    let client = db.pool.get().await?;
    let Some(kit_row) = client
        .query_opt("SELECT id FROM kits WHERE name = $1", &[&kit])
        .await?
    else {
        return Ok(None);
    };
    let kit_id: i32 = kit_row.get(0);
    let rows = client
        .query(
            "SELECT class, row, name, id_masked, standing FROM students
             WHERE kit = $1 AND school = $2
               AND standing IN ('waiting', 'failed', 'absent', 'processing')
             ORDER BY class, row",
            &[&kit_id, &school],
        )
        .await?;
    Ok(Some(SchoolDetail {
        school: school.to_string(),
        kit: kit.to_string(),
        make_up: rows
            .iter()
            .map(|r| MakeUp {
                class: r.get(0),
                row: u32::try_from(r.get::<_, i32>(1)).unwrap_or(0),
                name: r.get(2),
                id: r.get(3),
                standing: standing(r.get(4)),
            })
            .collect(),
    }))
}
