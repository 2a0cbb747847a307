//! The office against a real PostgreSQL server (a throw-away cluster per test) and real HTTP
//! (in the library's test binary: one binary less to link):
//! migrations, ingest (idempotent, gaps, lines the journal refuses, face descriptors), the city
//! view (counts, make-up lists, duplicates across schools, roster problems, due), tokens
//! (roles, revocation), the hardening (Host, cookie never authorises a change, CSP) and TLS.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

pub(crate) mod support;

use std::net::SocketAddr;
use std::sync::Arc;

use crate::Db;
use crate::tokens::{self, Role};
use crate::wire::{Accepted, City, Cursor, Lines, Refusal, SchoolDetail};
use session::Event;
use testkit::Postgres;
use tokio_util::sync::CancellationToken;

struct Server {
    addr: SocketAddr,
    rt: tokio::runtime::Runtime,
    stop: CancellationToken,
    db: Db,
}

impl Server {
    fn start(pg: &Postgres, tls: Option<Arc<rustls::ServerConfig>>) -> Server {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        let db = Db::connect(&pg.url(), 4).unwrap();
        rt.block_on(db.migrate()).unwrap();
        let listener = rt
            .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
            .unwrap();
        let addr = listener.local_addr().unwrap();
        let stop = CancellationToken::new();
        let state = Arc::new(crate::http::Office {
            db: db.clone(),
            bound: addr,
            hosts: vec!["office.example".into()],
            tls: tls.is_some(),
        });
        rt.spawn(crate::http::serve(listener, state, tls, stop.clone()));
        Server { addr, rt, stop, db }
    }

    fn token(&self, name: &str, team: &str, role: Role) -> String {
        self.rt
            .block_on(tokens::add(&self.db, name, team, role))
            .unwrap()
    }

    fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop.cancel();
    }
}

fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .max_redirects(0)
        .build()
        .new_agent()
}

/// POSTs `body` with `token`; the status and the body.
fn post<B: serde::Serialize>(s: &Server, path: &str, token: &str, body: &B) -> (u16, String) {
    let mut r = agent()
        .post(s.url(path))
        .header("authorization", format!("Bearer {token}"))
        .send_json(body)
        .unwrap();
    (r.status().as_u16(), r.body_mut().read_to_string().unwrap())
}

fn get(s: &Server, path: &str, token: &str) -> (u16, String) {
    let mut r = agent()
        .get(s.url(path))
        .header("authorization", format!("Bearer {token}"))
        .call()
        .unwrap();
    (r.status().as_u16(), r.body_mut().read_to_string().unwrap())
}

fn lines(s: &Server, token: &str, school: &str, lines: &[session::Line]) -> (u16, String) {
    post(
        s,
        "/api/kit/lines",
        token,
        &Lines {
            school: school.into(),
            lines: lines.to_vec(),
        },
    )
}

fn through(answer: (u16, String)) -> u64 {
    assert_eq!(answer.0, 200, "{}", answer.1);
    serde_json::from_str::<Accepted>(&answer.1).unwrap().through
}

fn refusal(answer: (u16, String), code: u16) -> Refusal {
    assert_eq!(answer.0, code, "{}", answer.1);
    serde_json::from_str(&answer.1).unwrap()
}

fn city(s: &Server, token: &str) -> City {
    let (code, body) = get(s, "/api/city", token);
    assert_eq!(code, 200, "{body}");
    serde_json::from_str(&body).unwrap()
}

#[test]
fn kits_report_and_the_city_adds_up() {
    let Some(pg) = Postgres::start() else { return };
    let s = Server::start(&pg, None);
    // Migrations again (another instance starting): nothing left to apply.
    assert!(s.rt.block_on(s.db.migrate()).unwrap().is_empty());
    let a = s.token("一组-笔记本1", "一组", Role::Kit);
    let b = s.token("二组-笔记本1", "二组", Role::Kit);
    let coordinator = s.token("协调员", "", Role::Coordinator);

    // Kit A: school X, 100 students, 60 photographed, one absent, in two requests.
    let day = "2026-09-01";
    let roster_x = support::roster(1, 100);
    let mut x = support::journal("示例第一小学", &roster_x, 60, day);
    x.push(support::next(
        &x,
        day,
        Event::Skipped {
            student: roster_x[60].key.clone(),
        },
    ));
    assert_eq!(through(lines(&s, &a, "示例第一小学", &x[..50])), 50);
    // Sent again (a sync cut off after the office took it): nothing changes.
    assert_eq!(through(lines(&s, &a, "示例第一小学", &x[..50])), 50);
    // A gap: refused with the office's cursor.
    let gap = refusal(lines(&s, &a, "示例第一小学", &x[60..]), 409);
    assert_eq!(
        gap,
        Refusal::Gap {
            school: "示例第一小学".into(),
            through: 50
        }
    );
    // A line the journal would refuse (a result for a frame that never arrived): nothing kept.
    let mut bad = x[50..55].to_vec();
    bad[4] = support::next(
        &x[..54],
        day,
        Event::Processed {
            frame: 999,
            outcome: session::event::Outcome {
                verdict: session::event::OutcomeVerdict::Pass,
                reasons: vec![],
                photo: true,
                quality: None,
                failed: vec![],
            },
            face: None,
        },
    );
    assert!(matches!(
        refusal(lines(&s, &a, "示例第一小学", &bad), 422),
        Refusal::Invalid { .. }
    ));
    // A line with a face descriptor: refused, the descriptor stays on the kit.
    let face = pipeline::identity::Embedding::from_floats(&[0.5f32; 128]).unwrap();
    let mut with_face = x[50..].to_vec();
    if let Event::Processed { face: f, .. } = &mut with_face[1].event {
        *f = Some(face);
    } else {
        panic!("line 52 is a processed line");
    }
    let r = refusal(lines(&s, &a, "示例第一小学", &with_face), 422);
    assert!(format!("{r:?}").contains("face"), "{r:?}");
    assert_eq!(
        through(lines(&s, &a, "示例第一小学", &x[50..])),
        x.len() as u64
    );

    // Kit B: school Y, 50 students; its student 10 is X's student 5 (registered twice); its
    // student 20's ID is wrong on the roster.
    let mut roster_y = support::roster(1001, 50);
    roster_y[9].id_number = roster_x[4].id_number.clone();
    roster_y[9].id_text = roster_x[4].id_text.clone();
    roster_y[19].id_number = None;
    roster_y[19].id_text = "45040319990101123".into();
    let y = support::journal("示例第二中学", &roster_y, 10, day);
    assert_eq!(through(lines(&s, &b, "示例第二中学", &y)), y.len() as u64);

    // B's ledger: one complete submission of Y.
    let submission = export::plan::Submission {
        school: "示例第二中学".into(),
        date: chrono::NaiveDate::from_ymd_opt(2026, 9, 2).unwrap(),
        zip: "/data/submissions/示例第二中学.zip".into(),
        sha256: "ab".repeat(32),
        content_hash: "cd".repeat(32),
        files: 10,
        complete: false,
    };
    assert_eq!(
        through(post(
            &s,
            "/api/kit/submissions",
            &b,
            &vec![submission.clone()]
        )),
        1
    );
    assert_eq!(
        through(post(&s, "/api/kit/submissions", &b, &vec![submission])),
        0,
        "a ledger entry the office has is not counted twice"
    );
    let cursor: Cursor = serde_json::from_str(&get(&s, "/api/kit/cursor", &b).1).unwrap();
    assert_eq!(cursor.kit, "二组-笔记本1");
    assert_eq!(cursor.schools["示例第二中学"], y.len() as u64);
    assert_eq!(
        cursor.last["示例第二中学"],
        crate::wire::fingerprint(y.last().unwrap()),
        "the office's last line, as the kit can check it"
    );
    assert_eq!(cursor.submissions, vec!["ab".repeat(32)]);

    let c = city(&s, &coordinator);
    assert_eq!(c.teams.len(), 2);
    let xs = c
        .schools
        .iter()
        .find(|r| r.school == "示例第一小学")
        .unwrap();
    assert_eq!(xs.kit, "一组-笔记本1");
    assert_eq!(xs.team, "一组");
    assert_eq!(
        (
            xs.counts.students,
            xs.counts.photographed,
            xs.counts.absent,
            xs.counts.to_come
        ),
        (100, 60, 1, 39)
    );
    assert_eq!(xs.lines, x.len() as u64);
    assert!(xs.synced_at.is_some());
    let ys = c
        .schools
        .iter()
        .find(|r| r.school == "示例第二中学")
        .unwrap();
    assert_eq!(ys.counts.photographed, 10);
    assert_eq!(
        ys.submitted,
        Some(chrono::NaiveDate::from_ymd_opt(2026, 9, 2).unwrap())
    );
    // The student on both rosters: one duplicate, two places.
    assert_eq!(c.duplicates.len(), 1, "{:?}", c.duplicates);
    assert_eq!((c.duplicates_total, c.problems_total), (1, 1));
    let d = &c.duplicates[0];
    assert_eq!(d.places.len(), 2);
    assert!(!d.id.contains(&roster_x[4].id_text), "the ID is masked");
    assert!(d.places.iter().any(|p| p.school == "示例第一小学"));
    assert!(d.places.iter().any(|p| p.school == "示例第二中学"));
    // The roster problem of Y.
    assert_eq!(c.problems.len(), 1);
    assert_eq!(c.problems[0].school, "示例第二中学");
    assert_eq!(c.problems[0].row, 20);
    // The schedule: the first shooting day is due the next working day; Y is submitted.
    assert!(!c.due.is_empty());
    let first = &c.due[0];
    assert_eq!(
        first.covers,
        chrono::NaiveDate::from_ymd_opt(2026, 9, 1).unwrap()
    );
    assert!(
        first
            .schools
            .iter()
            .any(|s| s.school == "示例第二中学" && s.submitted)
    );
    assert!(
        first
            .schools
            .iter()
            .any(|s| s.school == "示例第一小学" && !s.submitted)
    );

    // X's make-up list: 40 students (39 to come, 1 absent), masked IDs.
    let (code, body) = get(
        &s,
        "/api/school?kit=%E4%B8%80%E7%BB%84-%E7%AC%94%E8%AE%B0%E6%9C%AC1&school=%E7%A4%BA%E4%BE%8B%E7%AC%AC%E4%B8%80%E5%B0%8F%E5%AD%A6",
        &coordinator,
    );
    assert_eq!(code, 200, "{body}");
    let detail: SchoolDetail = serde_json::from_str(&body).unwrap();
    assert_eq!(detail.make_up.len(), 40);
    assert_eq!(
        detail
            .make_up
            .iter()
            .filter(|m| m.standing == session::Standing::Absent)
            .count(),
        1
    );
    assert!(!body.contains(&roster_x[70].id_text), "IDs are masked");

    // The student who was absent comes back: the duplicate resolves when Y removes them?
    // (No: a duplicate is about rosters.) The undo of the skip moves them back to "to come".
    let mut more = x.clone();
    more.push(support::next(
        &x,
        day,
        Event::Undone {
            target: x.len() as u64,
        },
    ));
    assert_eq!(
        through(lines(&s, &a, "示例第一小学", &more)),
        more.len() as u64
    );
    let c = city(&s, &coordinator);
    let xs = c
        .schools
        .iter()
        .find(|r| r.school == "示例第一小学")
        .unwrap();
    assert_eq!((xs.counts.absent, xs.counts.to_come), (0, 40));

    // Y's roster is corrected: the student registered twice leaves it. The duplicate goes.
    let mut smaller = roster_y.clone();
    smaller.remove(9);
    let mut reload = y.clone();
    reload.push(support::next(
        &y,
        day,
        Event::RosterLoaded {
            sources: vec!["名册.xlsx".into()],
            students: smaller,
        },
    ));
    assert_eq!(
        through(lines(&s, &b, "示例第二中学", &reload)),
        reload.len() as u64
    );
    let c = city(&s, &coordinator);
    assert_eq!(
        (c.duplicates.len(), c.duplicates_total),
        (0, 0),
        "{:?}",
        c.duplicates
    );
    let ys = c
        .schools
        .iter()
        .find(|r| r.school == "示例第二中学")
        .unwrap();
    assert_eq!(ys.counts.students, 49);

    // Roles and revocation.
    assert_eq!(
        get(&s, "/api/city", &a).0,
        403,
        "a kit cannot read the city"
    );
    assert_eq!(
        lines(&s, &coordinator, "示例第一小学", &x[..1]).0,
        403,
        "a coordinator cannot send lines"
    );
    assert_eq!(get(&s, "/api/kit/cursor", "nonsense").0, 401);
    s.rt.block_on(tokens::revoke(&s.db, "二组-笔记本1"))
        .unwrap();
    assert_eq!(get(&s, "/api/kit/cursor", &b).0, 401, "revoked at once");
    let listed = s.rt.block_on(tokens::list(&s.db)).unwrap();
    assert!(
        listed
            .iter()
            .any(|h| h.name == "二组-笔记本1" && h.revoked_at.is_some())
    );
    // Rotating gives B a new token (and its role back): the old one stays refused.
    let (b2, role) =
        s.rt.block_on(tokens::rotate(&s.db, "二组-笔记本1"))
            .unwrap();
    assert_eq!(role, Role::Kit);
    assert_eq!(get(&s, "/api/kit/cursor", &b).0, 401);
    assert_eq!(get(&s, "/api/kit/cursor", &b2).0, 200);
    // What B sent stays.
    assert!(
        city(&s, &coordinator)
            .schools
            .iter()
            .any(|r| r.school == "示例第二中学")
    );
}

#[test]
fn the_page_and_the_hardening() {
    let Some(pg) = Postgres::start() else { return };
    let s = Server::start(&pg, None);
    let coordinator = s.token("协调员", "", Role::Coordinator);
    let kit = s.token("一组-笔记本1", "一组", Role::Kit);

    // No token: refused. The link with the token: a cookie, and the token leaves the address.
    let r = agent().get(s.url("/")).call().unwrap();
    assert_eq!(r.status().as_u16(), 401);
    let r = agent()
        .get(s.url(&format!("/?token={coordinator}")))
        .call()
        .unwrap();
    assert_eq!(r.status().as_u16(), 303);
    assert_eq!(r.headers()["location"], "/");
    let cookie = r.headers()["set-cookie"].to_str().unwrap().to_string();
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"),
        "{cookie}"
    );
    let pair = cookie.split(';').next().unwrap().to_string();
    let mut r = agent()
        .get(s.url("/"))
        .header("cookie", &pair)
        .call()
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    let csp = r.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_string();
    assert!(
        csp.contains("default-src 'none'") && csp.contains("script-src 'self'"),
        "{csp}"
    );
    let page = r.body_mut().read_to_string().unwrap();
    assert!(page.contains("全市采集进度"));
    // A kit's link opens nothing.
    let r = agent()
        .get(s.url(&format!("/?token={kit}")))
        .call()
        .unwrap();
    assert_eq!(r.status().as_u16(), 401);

    // The cookie reads, but never authorises a change: a foreign page cannot post through it.
    let r = agent()
        .get(s.url("/api/city"))
        .header("cookie", &pair)
        .call()
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    let kit_cookie = format!("rollcall_office={kit}");
    let r = agent()
        .post(s.url("/api/kit/status"))
        .header("cookie", &kit_cookie)
        .send_json(crate::wire::KitStatus::default())
        .unwrap();
    assert_eq!(r.status().as_u16(), 401);

    // Host allow-list: a configured name passes, a foreign one (DNS rebinding) is refused.
    let r = agent()
        .get(s.url("/api/kit/cursor"))
        .header("host", "office.example")
        .header("authorization", format!("Bearer {kit}"))
        .call()
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    let r = agent()
        .get(s.url("/api/kit/cursor"))
        .header("host", "evil.example")
        .header("authorization", format!("Bearer {kit}"))
        .call()
        .unwrap();
    assert_eq!(r.status().as_u16(), 403);

    // A body beyond the limit (32 MB for everything but packs) is refused unread.
    let huge = vec![b' '; 33 * 1024 * 1024];
    let r = agent()
        .post(s.url("/api/kit/status"))
        .header("authorization", format!("Bearer {kit}"))
        .header("content-type", "application/json")
        .send(&huge[..]);
    assert!(
        r.as_ref().map_or(true, |r| r.status().as_u16() == 413),
        "{:?}",
        r.map(|r| r.status())
    );

    // Packs: checked against their SHA-256 and the ledger.
    use sha2::Digest;
    let zip = b"PK\x05\x06 not really a zip, bytes all the same".to_vec();
    let sha = format!("{:x}", sha2::Sha256::digest(&zip));
    let send_pack = |sha: &str| {
        let mut r = agent()
            .post(s.url("/api/kit/pack"))
            .header("authorization", format!("Bearer {kit}"))
            .header(crate::wire::SHA256_HEADER, sha)
            .send(&zip[..])
            .unwrap();
        (r.status().as_u16(), r.body_mut().read_to_string().unwrap())
    };
    assert_eq!(send_pack(&"00".repeat(32)).0, 422, "a damaged upload");
    assert_eq!(send_pack(&sha).0, 422, "not in the ledger yet");
    let entry = export::plan::Submission {
        school: "示例第一小学".into(),
        date: chrono::NaiveDate::from_ymd_opt(2026, 9, 2).unwrap(),
        zip: "x.zip".into(),
        sha256: sha.clone(),
        content_hash: "cd".repeat(32),
        files: 1,
        complete: true,
    };
    assert_eq!(
        through(post(&s, "/api/kit/submissions", &kit, &vec![entry])),
        1
    );
    assert_eq!(send_pack(&sha).0, 200);
    let cursor: Cursor = serde_json::from_str(&get(&s, "/api/kit/cursor", &kit).1).unwrap();
    assert_eq!(cursor.packs, vec![sha]);

    // The database goes away: the office says so (503, the kit retries later) and stays up;
    // once the database is back, so is the office.
    pg.stop();
    let answer = get(&s, "/api/kit/cursor", &kit);
    assert!(matches!(refusal(answer, 503), Refusal::Unavailable { .. }));
    pg.restart();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while get(&s, "/api/kit/cursor", &kit).0 != 200 {
        assert!(
            std::time::Instant::now() < deadline,
            "the office did not come back"
        );
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
}

#[test]
fn tls_with_a_self_signed_certificate() {
    let Some(pg) = Postgres::start() else { return };
    let (pem, key) = crate::http::self_signed(&["localhost".into()]).unwrap();
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("office.pem"), &pem).unwrap();
    std::fs::write(dir.path().join("office.key"), &key).unwrap();
    let tls = crate::http::tls_config(
        &dir.path().join("office.pem"),
        &dir.path().join("office.key"),
    )
    .unwrap();
    let s = Server::start(&pg, Some(tls));
    let kit = s.token("一组-笔记本1", "一组", Role::Kit);
    let url = format!("https://localhost:{}/api/kit/cursor", s.addr.port());

    // Trusting the office's certificate: served.
    let certs: Vec<_> = ureq::tls::parse_pem(pem.as_bytes())
        .filter_map(|i| match i {
            Ok(ureq::tls::PemItem::Certificate(c)) => Some(c),
            _ => None,
        })
        .collect();
    let trusting = ureq::Agent::config_builder()
        .tls_config(
            ureq::tls::TlsConfig::builder()
                .root_certs(ureq::tls::RootCerts::Specific(Arc::new(certs)))
                .build(),
        )
        .http_status_as_error(false)
        .build()
        .new_agent();
    let mut r = trusting
        .get(&url)
        .header("authorization", format!("Bearer {kit}"))
        .call()
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    let cursor: Cursor = r.body_mut().read_json().unwrap();
    assert_eq!(cursor.kit, "一组-笔记本1");
    // Not trusting it (the system's authorities): refused before any token is sent.
    assert!(agent().get(&url).call().is_err());
    // Plain HTTP to the TLS port: no answer.
    assert!(
        agent()
            .get(format!("http://127.0.0.1:{}/api/kit/cursor", s.addr.port()))
            .call()
            .is_err()
    );
}

#[test]
fn two_instances_and_eight_kits_at_once_find_every_duplicate() {
    let Some(pg) = Postgres::start() else { return };
    // Two instances of the service over one database (as behind a load balancer).
    let one = Server::start(&pg, None);
    let two = Server::start(&pg, None);
    let coordinator = one.token("协调员", "", Role::Coordinator);
    const N: u32 = 8;
    let kits: Vec<String> = (0..N)
        .map(|k| one.token(&format!("kit{k}"), "一组", Role::Kit))
        .collect();
    // Three rounds (the race it guards against does not show every time): in each, school k's
    // second student is also school k+1's first (a ring): N shared IDs, each found only when
    // two kits' transactions, on two instances, see each other's rows.
    for round in 0..3u32 {
        let journals: Vec<(String, Vec<session::Line>)> = (0..N)
            .map(|k| {
                let first = (round * N + k) * 100 + 1;
                let mut roster = support::roster(first, 50);
                let next = round * N + (k + 1) % N;
                roster[1].id_number = Some(support::id(next * 100 + 1));
                roster[1].id_text = roster[1].id_number.clone().unwrap();
                let name = format!("学校{round}-{k}");
                (
                    name.clone(),
                    support::journal(&name, &roster, 20, "2026-09-01"),
                )
            })
            .collect();
        let barrier = std::sync::Barrier::new(N as usize);
        std::thread::scope(|scope| {
            for k in 0..N as usize {
                let server = if k % 2 == 0 { &one } else { &two };
                let (token, (name, lines), barrier) = (&kits[k], &journals[k], &barrier);
                scope.spawn(move || {
                    barrier.wait();
                    assert_eq!(
                        through(self::lines(server, token, name, lines)),
                        lines.len() as u64
                    );
                });
            }
        });
        let c = city(&two, &coordinator);
        assert_eq!(c.schools.len(), ((round + 1) * N) as usize);
        assert_eq!(
            c.duplicates_total,
            u64::from((round + 1) * N),
            "{:#?}",
            c.duplicates
        );
        assert!(c.duplicates.iter().all(|d| d.places.len() == 2));
    }
}
