//! The office at the size of a city, measured through the real paths: kits' data folders synced
//! by `kit::sync` over HTTP to `office::http` over a throw-away PostgreSQL cluster.
//!
//! `cargo bench -p kit --bench office_city` (or `scripts/bench-office`): 300 schools, 500,000
//! students, 50 kits. First every kit sends its schools' rosters (the office knows the city);
//! then a day: each kit photographs 2,500 students (5,000 journal lines) offline and syncs —
//! all 50, four at a time (ingest rate), and one kit alone (a kit's sync after a day offline).
//! Then the coordinator's queries (`/api/city`, a school's make-up list), 20 times each.
//! Under `cargo test` (no `--bench`) the same runs on a city of 6 schools, once, as a check.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[path = "../../office/src/tests/support.rs"]
mod support;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use office::tokens::{self, Role};
use session::Line;

struct Size {
    schools: u32,
    students: u32,
    kits: u32,
    /// Photos a kit takes in the day (two lines each).
    photos: u32,
    runs: usize,
}

const CITY: Size = Size {
    schools: 300,
    students: 500_000,
    kits: 50,
    photos: 2_500,
    runs: 20,
};

const CHECK: Size = Size {
    schools: 6,
    students: 600,
    kits: 2,
    photos: 150,
    runs: 2,
};

/// A kit of the city: its data folder, its office client, its schools and rosters.
struct Kit {
    data: PathBuf,
    office: kit::sync::Office,
    schools: Vec<(String, Vec<session::StudentRecord>)>,
}

fn write_journal(path: &Path, lines: &[Line]) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    let mut f = std::io::BufWriter::new(
        std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .unwrap(),
    );
    for l in lines {
        serde_json::to_writer(&mut f, l).unwrap();
        f.write_all(b"\n").unwrap();
    }
}

fn stats(mut v: Vec<Duration>) -> String {
    v.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    format!(
        "median {:.1} ms, p95 {:.1} ms, max {:.1} ms (n = {})",
        ms(v[v.len() / 2]),
        ms(v[(v.len() * 95 / 100).min(v.len() - 1)]),
        ms(v[v.len() - 1]),
        v.len()
    )
}

fn main() {
    let bench = std::env::args().any(|a| a == "--bench");
    let size = if bench { CITY } else { CHECK };
    let Some(pg) = testkit::Postgres::start() else {
        return;
    };
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let db = office::Db::connect(&pg.url(), 8).unwrap();
    rt.block_on(db.migrate()).unwrap();
    let listener = rt
        .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
        .unwrap();
    let addr = listener.local_addr().unwrap();
    let stop = tokio_util::sync::CancellationToken::new();
    rt.spawn(office::http::serve(
        listener,
        Arc::new(office::http::Office {
            db: db.clone(),
            bound: addr,
            hosts: Vec::new(),
            tls: false,
        }),
        None,
        stop.clone(),
    ));
    let coordinator = rt
        .block_on(tokens::add(&db, "协调员", "", Role::Coordinator))
        .unwrap();

    // The city: kits with their data folders, each school's roster in its journal. One student
    // in 500 is on a second school's roster too; one in 1,000 has a wrong ID.
    let root = tempfile::tempdir().unwrap();
    let per_school = size.students / size.schools;
    let schools_per_kit = size.schools / size.kits;
    let mut kits: Vec<Kit> = Vec::new();
    for k in 0..size.kits {
        let data = root.path().join(format!("kit{k}"));
        let token = rt
            .block_on(tokens::add(
                &db,
                &format!("kit{k}"),
                &format!("第{}组", k / 5 + 1),
                Role::Kit,
            ))
            .unwrap();
        let office = kit::sync::Office::from_config(&kit::config::OfficeSection {
            url: Some(format!("http://{addr}")),
            token: Some(token),
            ..kit::config::OfficeSection::default()
        })
        .unwrap()
        .unwrap();
        let mut schools = Vec::new();
        for j in 0..schools_per_kit {
            let s = k * schools_per_kit + j;
            let name = format!("梧州市第{}学校", s + 1);
            let mut roster = support::roster(s * per_school + 1, per_school);
            for (i, r) in roster.iter_mut().enumerate() {
                if i % 500 == 7 && s > 0 {
                    // Also on the previous school's roster (its next student, left as is).
                    r.id_number = Some(support::id((s - 1) * per_school + 2 + i as u32));
                    r.id_text = r.id_number.clone().unwrap();
                }
                if i % 1000 == 3 {
                    r.id_number = None;
                }
            }
            let lines = support::journal(&name, &roster, 0, "2026-09-01");
            write_journal(&session::Layout::new(&data).journal(&name), &lines);
            schools.push((name, roster));
        }
        kits.push(Kit {
            data,
            office,
            schools,
        });
    }
    let started = Instant::now();
    for k in &kits {
        k.office.sync(&k.data, None).unwrap();
    }
    let roster_time = started.elapsed();
    println!(
        "office city: {} schools, {} students, {} kits; rosters sent in {:.1} s",
        size.schools,
        per_school * size.schools,
        size.kits,
        roster_time.as_secs_f64()
    );

    // The day, offline: each kit photographs its first school whole and the rest of its photos
    // in the second, appended to the journals on disk.
    let mut day_lines = 0u64;
    for k in &kits {
        let mut left = size.photos;
        for (name, roster) in k.schools.iter().take(2) {
            let n = left.min(roster.len() as u32);
            left -= n;
            let all = support::journal(name, roster, n as usize, "2026-09-02");
            let new = &all[2..];
            day_lines += new.len() as u64;
            write_journal(&session::Layout::new(&k.data).journal(name), new);
        }
    }
    // One kit alone first (a kit's sync after a day offline), then the other 49, four at a time.
    let (alone, rest) = kits.split_first().unwrap();
    let t = Instant::now();
    let synced = alone.office.sync(&alone.data, None).unwrap();
    let alone_time = t.elapsed();
    let t = Instant::now();
    let mut lines = synced.lines;
    let mut per_kit = Vec::new();
    for chunk in rest.chunks(4) {
        let results: Vec<(u64, Duration)> = std::thread::scope(|scope| {
            let handles: Vec<_> = chunk
                .iter()
                .map(|k| {
                    scope.spawn(move || {
                        let t = Instant::now();
                        let s = k.office.sync(&k.data, None).unwrap();
                        (s.lines, t.elapsed())
                    })
                })
                .collect();
            handles.into_iter().map(|h| h.join().unwrap()).collect()
        });
        for (n, d) in results {
            lines += n;
            per_kit.push(d);
        }
    }
    let ingest = t.elapsed() + alone_time;
    assert_eq!(lines, day_lines, "every line of the day reached the office");
    println!(
        "office ingest: {} lines of {} kits in {:.2} s = {:.0} lines/s",
        lines,
        size.kits,
        ingest.as_secs_f64(),
        lines as f64 / ingest.as_secs_f64()
    );
    println!(
        "office kit sync after a day offline ({} lines): {:.0} ms alone; {} with 4 kits at once",
        synced.lines,
        alone_time.as_secs_f64() * 1000.0,
        stats(per_kit)
    );

    // The coordinator's queries.
    let agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .new_agent();
    let timed = |path: &str| {
        let mut times = Vec::new();
        let mut bytes = 0;
        for _ in 0..size.runs {
            let t = Instant::now();
            let mut r = agent
                .get(format!("http://{addr}{path}"))
                .header("authorization", format!("Bearer {coordinator}"))
                .call()
                .unwrap();
            let body = r
                .body_mut()
                .with_config()
                .limit(1 << 30)
                .read_to_vec()
                .unwrap();
            times.push(t.elapsed());
            assert_eq!(r.status().as_u16(), 200);
            bytes = body.len();
        }
        (stats(times), bytes)
    };
    let (city, city_bytes) = timed("/api/city");
    println!("office query /api/city ({city_bytes} bytes): {city}");
    let (name, _) = &kits[0].schools[1];
    let path = format!(
        "/api/school?kit=kit0&school={}",
        name.bytes()
            .map(|b| format!("%{b:02X}"))
            .collect::<String>()
    );
    let (school, school_bytes) = timed(&path);
    println!("office query /api/school, a make-up list ({school_bytes} bytes): {school}");
    // The same view without HTTP and JSON: the database's part.
    let day = chrono::NaiveDate::from_ymd_opt(2026, 9, 2).unwrap();
    let mut direct = Vec::new();
    for _ in 0..size.runs {
        let t = Instant::now();
        rt.block_on(office::query::city(&db, day)).unwrap();
        direct.push(t.elapsed());
    }
    println!(
        "office query::city in process (the queries alone): {}",
        stats(direct)
    );
    let c = rt.block_on(office::query::city(&db, day)).unwrap();
    println!(
        "office city view: {} schools, {} duplicates, {} roster problems listed",
        c.schools.len(),
        c.duplicates.len(),
        c.problems.len()
    );
    assert_eq!(c.schools.len() as u32, size.kits * schools_per_kit);
    assert!(!c.duplicates.is_empty());
    stop.cancel();
}
