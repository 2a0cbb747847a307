//! Taking a kit's lines: validate, then keep, then count — in one transaction.
//!
//! The office replays a school's whole journal (the lines it has, then the new ones) with the
//! kit's own state machine (`session::State::apply`), so it refuses a line the kit's journal
//! would refuse, and what the dashboard shows is what the journal says by construction — no
//! second reading of the events. Then it keeps the new lines verbatim, rewrites the school's
//! students and counts, and recomputes the city-wide duplicates of the school's ID numbers.
//!
//! The row of (kit, school) is locked for the transaction, so two instances taking the same
//! kit's lines at once queue; the duplicate step takes an advisory lock so two schools sharing
//! a student, synced at the same moment by two kits, still find each other.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use session::status::Days;
use session::{Event, Line, Standing, State};

use crate::db::{DUPLICATES_LOCK, Db, Error};
use crate::tokens::Principal;
use crate::wire::{Accepted, Counts, KitStatus, Lines, MAX_LINES, Refusal};

fn invalid(zh: impl Into<String>, en: impl Into<String>) -> Error {
    Error::Refused(Refusal::Invalid {
        zh: zh.into(),
        en: en.into(),
    })
}

/// The journal's name for a standing (`waiting`, `photographed`, …): serde's, the one spelling.
pub fn standing_name(standing: Standing) -> String {
    serde_json::to_value(standing)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default()
}

/// Takes one school's next lines from `kit`.
pub async fn lines(db: &Db, kit: &Principal, batch: Lines) -> Result<Accepted, Error> {
    if batch.lines.len() > MAX_LINES {
        return Err(invalid(
            format!("一次最多 {MAX_LINES} 行"),
            format!("at most {MAX_LINES} lines a request"),
        ));
    }
    if batch
        .lines
        .iter()
        .any(|l| matches!(&l.event, Event::Processed { face: Some(_), .. }))
    {
        return Err(invalid(
            "人脸特征不离开采集设备：请发送去除人脸特征的行",
            "face descriptors stay on the kit: send redacted lines",
        ));
    }
    let mut client = db.pool.get().await?;
    let tx = client.transaction().await?;
    tx.execute(
        "INSERT INTO schools (kit, school) VALUES ($1, $2) ON CONFLICT DO NOTHING",
        &[&kit.id, &batch.school],
    )
    .await?;
    let through: i64 = tx
        .query_one(
            "SELECT through FROM schools WHERE kit = $1 AND school = $2 FOR UPDATE",
            &[&kit.id, &batch.school],
        )
        .await?
        .get(0);
    let through = u64::try_from(through).unwrap_or(0);
    let new: Vec<&Line> = batch.lines.iter().filter(|l| l.seq > through).collect();
    if new.is_empty() {
        return Ok(Accepted { through });
    }
    let contiguous = new
        .iter()
        .enumerate()
        .all(|(i, l)| l.seq == through + 1 + i as u64);
    if !contiguous {
        return Err(Error::Refused(Refusal::Gap {
            school: batch.school,
            through,
        }));
    }

    // Replay what the office has, then the new lines: each must be accepted.
    let mut state = State::default();
    let mut days = Days::default();
    let stored = tx
        .query(
            "SELECT line FROM journal WHERE kit = $1 AND school = $2 ORDER BY seq",
            &[&kit.id, &batch.school],
        )
        .await?;
    for row in &stored {
        let line: Line = serde_json::from_str(row.get(0)).map_err(|e| {
            invalid(
                format!("办公室保存的日志无法读取：{e}"),
                format!("a stored line cannot be read: {e}"),
            )
        })?;
        apply(&mut state, &mut days, &line)?;
    }
    // What the office shows of each student before the new lines, to write only the changes.
    let before: Vec<StudentRow> = (0..state.students.len())
        .map(|s| StudentRow::of(&state, s))
        .collect();
    let mut seqs = Vec::with_capacity(new.len());
    let mut ats: Vec<Option<DateTime<Utc>>> = Vec::with_capacity(new.len());
    let mut events = Vec::with_capacity(new.len());
    let mut texts = Vec::with_capacity(new.len());
    for line in &new {
        apply(&mut state, &mut days, line)?;
        seqs.push(i64::try_from(line.seq).unwrap_or(i64::MAX));
        ats.push(
            DateTime::parse_from_rfc3339(&line.at)
                .ok()
                .map(|t| t.with_timezone(&Utc)),
        );
        events.push(session::state::event_name(&line.event));
        texts.push(serde_json::to_string(line).map_err(|e| invalid(e.to_string(), e.to_string()))?);
    }
    if state.school != batch.school {
        return Err(invalid(
            format!("日志属于学校「{}」，不是「{}」", state.school, batch.school),
            format!(
                "the journal is {:?}'s, not {:?}'s",
                state.school, batch.school
            ),
        ));
    }
    tx.execute(
        "INSERT INTO journal (kit, school, seq, at, event, line)
         SELECT $1, $2, * FROM unnest($3::bigint[], $4::timestamptz[], $5::text[], $6::text[])",
        &[&kit.id, &batch.school, &seqs, &ats, &events, &texts],
    )
    .await?;

    // The students whose row changed, as the replayed journal says.
    let mut keys = Vec::new();
    let mut classes = Vec::new();
    let mut rows = Vec::new();
    let mut names = Vec::new();
    let mut ids: Vec<Option<String>> = Vec::new();
    let mut masked = Vec::new();
    let mut standings = Vec::new();
    // ID numbers whose city-wide duplicates may have changed: old and new of every changed row.
    let mut touched: Vec<String> = Vec::new();
    for s in 0..state.students.len() {
        let row = StudentRow::of(&state, s);
        let old = before.get(s);
        if old == Some(&row) {
            continue;
        }
        let removed = |r: &StudentRow| r.standing == Standing::Removed;
        if old.is_none_or(|o| o.id_number != row.id_number || removed(o) != removed(&row)) {
            touched.extend(old.and_then(|o| o.id_number.clone()));
            touched.extend(row.id_number.clone());
        }
        let rec = &state.students[s].rec;
        keys.push(rec.key.clone());
        classes.push(row.class);
        rows.push(i32::try_from(row.row).unwrap_or(i32::MAX));
        names.push(row.name);
        ids.push(row.id_number);
        masked.push(roster::id::mask(&row.id_text));
        standings.push(standing_name(row.standing));
    }
    tx.execute(
        "INSERT INTO students (kit, school, key, class, row, name, id_number, id_masked, standing)
         SELECT $1, $2, * FROM unnest($3::text[], $4::text[], $5::int[], $6::text[], $7::text[],
                                      $8::text[], $9::text[])
         ON CONFLICT (kit, school, key) DO UPDATE SET
             class = excluded.class, row = excluded.row, name = excluded.name,
             id_number = excluded.id_number, id_masked = excluded.id_masked,
             standing = excluded.standing
         WHERE (students.class, students.row, students.name, students.id_number,
                students.standing)
               IS DISTINCT FROM (excluded.class, excluded.row, excluded.name,
                                 excluded.id_number, excluded.standing)",
        &[
            &kit.id,
            &batch.school,
            &keys,
            &classes,
            &rows,
            &names,
            &ids,
            &masked,
            &standings,
        ],
    )
    .await?;
    let last: i64 = seqs.last().copied().unwrap_or_default();
    let last_at = ats.iter().rev().flatten().next().copied();
    let shooting: Vec<chrono::NaiveDate> = days.shooting.iter().copied().collect();
    let frames = i32::try_from(state.frames.len()).unwrap_or(i32::MAX);
    let status = session::status::status(&state);
    let c = Counts::of(&status);
    let count = |n: u64| i32::try_from(n).unwrap_or(i32::MAX);
    tx.execute(
        "UPDATE schools SET through = $3, students = $4, photographed = $5, retake = $6,
             absent = $7, to_come = $8, no_photo = $9, frames = $10, shooting_days = $11,
             completed_on = $12, last_line_at = coalesce($13, last_line_at), synced_at = now()
         WHERE kit = $1 AND school = $2",
        &[
            &kit.id,
            &batch.school,
            &last,
            &count(c.students),
            &count(c.photographed),
            &count(c.retake),
            &count(c.absent),
            &count(c.to_come),
            &count(c.no_photo),
            &frames,
            &shooting,
            &days.completed_on(&status),
            &last_at,
        ],
    )
    .await?;

    // City-wide duplicates of the ID numbers that changed here (new, gone, or a student taken
    // off or back onto the roster).
    touched.sort_unstable();
    touched.dedup();
    if !touched.is_empty() {
        duplicates(&tx, &touched).await?;
    }
    tx.execute(
        "UPDATE kits SET last_sync = now() WHERE id = $1",
        &[&kit.id],
    )
    .await?;
    tx.commit().await?;
    Ok(Accepted {
        through: new.last().map_or(through, |l| l.seq),
    })
}

/// Recomputes the duplicates of `touched` (under the advisory lock: see the module's doc).
async fn duplicates(
    tx: &deadpool_postgres::Transaction<'_>,
    touched: &[String],
) -> Result<(), Error> {
    tx.execute("SELECT pg_advisory_xact_lock($1)", &[&DUPLICATES_LOCK])
        .await?;
    tx.execute(
        "DELETE FROM duplicates WHERE id_number = ANY($1)",
        &[&touched],
    )
    .await?;
    tx.execute(
        "INSERT INTO duplicates (id_number, kit, school)
         SELECT DISTINCT id_number, kit, school FROM students
         WHERE id_number = ANY($1) AND standing <> 'removed' AND id_number IN (
             SELECT id_number FROM students
             WHERE id_number = ANY($1) AND standing <> 'removed'
             GROUP BY id_number HAVING count(DISTINCT school) > 1)",
        &[&touched],
    )
    .await?;
    Ok(())
}

/// A student as the office keeps them (the `students` table's columns).
#[derive(Debug, Clone, PartialEq, Eq)]
struct StudentRow {
    class: String,
    row: u32,
    name: String,
    id_number: Option<String>,
    id_text: String,
    standing: Standing,
}

impl StudentRow {
    fn of(state: &State, s: usize) -> StudentRow {
        let rec = &state.students[s].rec;
        StudentRow {
            class: rec.class.clone(),
            row: rec.row,
            name: rec.name.clone(),
            id_number: rec.id_number.clone(),
            id_text: rec.id_text.clone(),
            standing: state.standing(s),
        }
    }
}

fn apply(state: &mut State, days: &mut Days, line: &Line) -> Result<(), Error> {
    state.apply(line).map_err(|refusal| {
        let text = refusal.text();
        invalid(
            format!("第 {} 行不被日志接受：{}", line.seq, text.zh),
            format!("line {} is refused by the journal: {}", line.seq, text.en),
        )
    })?;
    days.add(line);
    Ok(())
}

/// Takes the kit's submission ledger; returns how many entries were new.
pub async fn submissions(
    db: &Db,
    kit: &Principal,
    entries: &[export::plan::Submission],
) -> Result<Accepted, Error> {
    let client = db.pool.get().await?;
    let mut new = 0;
    for e in entries {
        let files = i32::try_from(e.files).unwrap_or(i32::MAX);
        new += client
            .execute(
                "INSERT INTO submissions (kit, school, date, zip, sha256, content_hash, files, complete)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT DO NOTHING",
                &[
                    &kit.id,
                    &e.school,
                    &e.date,
                    &e.zip,
                    &e.sha256,
                    &e.content_hash,
                    &files,
                    &e.complete,
                ],
            )
            .await?;
    }
    client
        .execute(
            "UPDATE kits SET last_sync = now() WHERE id = $1",
            &[&kit.id],
        )
        .await?;
    Ok(Accepted { through: new })
}

/// Keeps the kit's status snapshot.
pub async fn status(db: &Db, kit: &Principal, status: &KitStatus) -> Result<Accepted, Error> {
    let client = db.pool.get().await?;
    let text = serde_json::to_string(status).map_err(|e| invalid(e.to_string(), e.to_string()))?;
    client
        .execute(
            "UPDATE kits SET status = $2::text::jsonb, last_sync = now() WHERE id = $1",
            &[&kit.id, &text],
        )
        .await?;
    Ok(Accepted { through: 1 })
}

/// Keeps an uploaded pack, after checking its SHA-256 and that the kit's ledger names it.
pub async fn pack(db: &Db, kit: &Principal, sha256: &str, bytes: &[u8]) -> Result<Accepted, Error> {
    use sha2::{Digest, Sha256};
    let actual = format!("{:x}", Sha256::digest(bytes));
    if !actual.eq_ignore_ascii_case(sha256) {
        return Err(invalid(
            "上传的压缩包与其校验值不符（传输中损坏）：请重新同步",
            "the uploaded pack does not match its SHA-256 (damaged on the way): sync again",
        ));
    }
    let client = db.pool.get().await?;
    let known = client
        .query_opt(
            "SELECT 1 FROM submissions WHERE kit = $1 AND sha256 = $2",
            &[&kit.id, &actual],
        )
        .await?;
    if known.is_none() {
        return Err(invalid(
            "这个压缩包不在本设备的报送记录中：先同步报送记录",
            "this pack is not in the kit's submission ledger: sync the ledger first",
        ));
    }
    client
        .execute(
            "INSERT INTO packs (sha256, kit, bytes) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
            &[&actual, &kit.id, &bytes],
        )
        .await?;
    Ok(Accepted { through: 1 })
}

/// What the office holds of `kit`.
pub async fn cursor(db: &Db, kit: &Principal) -> Result<crate::wire::Cursor, Error> {
    let client = db.pool.get().await?;
    let mut schools = BTreeMap::new();
    let mut last = BTreeMap::new();
    for r in client
        .query(
            "SELECT s.school, s.through, j.line FROM schools s
             LEFT JOIN journal j ON j.kit = s.kit AND j.school = s.school AND j.seq = s.through
             WHERE s.kit = $1",
            &[&kit.id],
        )
        .await?
    {
        let school: String = r.get(0);
        let line: Option<&str> = r.get(2);
        if let Some(line) = line {
            last.insert(school.clone(), crate::wire::fingerprint_text(line));
        }
        schools.insert(school, u64::try_from(r.get::<_, i64>(1)).unwrap_or(0));
    }
    let submissions = client
        .query("SELECT sha256 FROM submissions WHERE kit = $1", &[&kit.id])
        .await?
        .iter()
        .map(|r| r.get(0))
        .collect();
    let packs = client
        .query("SELECT sha256 FROM packs WHERE kit = $1", &[&kit.id])
        .await?
        .iter()
        .map(|r| r.get(0))
        .collect();
    Ok(crate::wire::Cursor {
        kit: kit.name.clone(),
        schools,
        last,
        submissions,
        packs,
    })
}
