//! Reporting to the office: `rollcall sync DATA` and the daemon's background sync.
//!
//! One sync asks the office what it has ([`office::wire::Cursor`]), then sends what it lacks:
//! each school's journal lines after the office's last one (redacted: face descriptors stay
//! here; whole lines only, a line being written is left for next time), the submission ledger,
//! optionally the packs, and the kit's status. Every step is idempotent and resumable: a sync
//! cut off anywhere is finished by the next one. Nothing here blocks the photo day: the daemon
//! runs it on a blocking thread beside the session, and a failure is a log line.
//!
//! Photos, originals and face descriptors never leave the kit; packs only when configured.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use bilingual::Text;
use office::wire::{Accepted, Cursor, KitStatus, Lines, MAX_LINES, Refusal, SHA256_HEADER};
use serde::Serialize;
use session::{Layout, Line};

use crate::config::OfficeSection;
use crate::{Error, Result};

/// Lines per request: a day of one school in one or two requests, small enough to retry.
const BATCH: usize = 2_000;
const _: () = assert!(BATCH <= MAX_LINES);

/// What one sync did.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Synced {
    /// The kit's name at the office.
    pub kit: String,
    /// Per school: lines sent now, and the office's last line after.
    pub schools: Vec<SchoolSynced>,
    pub lines: u64,
    pub submissions: u64,
    pub packs: u64,
}

#[derive(Debug, Clone, Serialize)]
pub struct SchoolSynced {
    pub school: String,
    pub sent: u64,
    pub through: u64,
}

/// The office as this kit reaches it.
pub struct Office {
    url: String,
    token: String,
    agent: ureq::Agent,
    upload_packs: bool,
}

impl std::fmt::Debug for Office {
    /// Without the token: a debug print must not leak it.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Office")
            .field("url", &self.url)
            .field("upload_packs", &self.upload_packs)
            .finish_non_exhaustive()
    }
}

fn refused(zh: String, en: String) -> Error {
    Error::Refused(Text::new(zh, en))
}

impl Office {
    /// From the `[office]` section; `None` when no office is configured.
    pub fn from_config(section: &OfficeSection) -> Result<Option<Office>> {
        let Some(url) = &section.url else {
            return Ok(None);
        };
        if !url.starts_with("https://") && !is_loopback_url(url) {
            return Err(refused(
                format!(
                    "办公室地址 {url} 必须以 https:// 开头（令牌不能明文传输；只有本机的办公室可用 http://）"
                ),
                format!(
                    "the office address {url} must start with https:// (the token must not travel in clear; only an office on this machine may use http://)"
                ),
            ));
        }
        let token = match (&section.token, &section.token_file) {
            (Some(t), _) => t.trim().to_string(),
            (None, Some(path)) => std::fs::read_to_string(path)
                .map_err(|e| Error::read(path, e))?
                .trim()
                .to_string(),
            (None, None) => {
                return Err(refused(
                    "配置 [office] 缺少 token 或 token_file（令牌由办公室用 rollcall office token add 生成）".into(),
                    "[office] needs token or token_file (the office makes one with `rollcall office token add`)".into(),
                ));
            }
        };
        let mut tls = ureq::tls::TlsConfig::builder();
        if let Some(ca) = &section.ca {
            let pem = std::fs::read(ca).map_err(|e| Error::read(ca, e))?;
            let certs = ureq::tls::parse_pem(&pem)
                .filter_map(|item| match item {
                    Ok(ureq::tls::PemItem::Certificate(c)) => Some(c),
                    _ => None,
                })
                .collect::<Vec<_>>();
            if certs.is_empty() {
                return Err(Error::invalid(
                    Text::new(
                        format!("办公室证书 {}", ca.display()),
                        format!("office certificate {}", ca.display()),
                    ),
                    "no PEM certificate in it",
                ));
            }
            tls = tls.root_certs(ureq::tls::RootCerts::Specific(Arc::new(certs)));
        }
        let agent = ureq::Agent::config_builder()
            .tls_config(tls.build())
            .timeout_connect(Some(Duration::from_secs(5)))
            .timeout_global(Some(Duration::from_secs(120)))
            .http_status_as_error(false)
            .build()
            .new_agent();
        Ok(Some(Office {
            url: url.trim_end_matches('/').to_string(),
            token,
            agent,
            upload_packs: section.upload_packs,
        }))
    }

    fn unreachable(&self, e: impl std::fmt::Display) -> Error {
        refused(
            format!(
                "无法连接办公室 {}：{e}（数据都保存在本机，连上后再同步即可）",
                self.url
            ),
            format!(
                "cannot reach the office at {}: {e} (everything is kept here; sync again when connected)",
                self.url
            ),
        )
    }

    /// Reads an answer: the body as `T`, or the office's refusal.
    fn answer<T: serde::de::DeserializeOwned>(
        &self,
        response: std::result::Result<ureq::http::Response<ureq::Body>, ureq::Error>,
    ) -> std::result::Result<T, Failure> {
        let mut response = response.map_err(|e| Failure::Error(self.unreachable(e)))?;
        let ok = response.status().is_success();
        let body = response
            .body_mut()
            .with_config()
            .limit(64 * 1024 * 1024)
            .read_to_string()
            .map_err(|e| Failure::Error(self.unreachable(e)))?;
        if ok {
            return serde_json::from_str(&body)
                .map_err(|e| Failure::Error(self.unreachable(format!("unreadable answer: {e}"))));
        }
        match serde_json::from_str::<Refusal>(&body) {
            Ok(r) => Err(Failure::Refused(r)),
            Err(_) => Err(Failure::Error(
                self.unreachable(format!("HTTP {}", response.status())),
            )),
        }
    }

    fn get<T: serde::de::DeserializeOwned>(&self, path: &str) -> std::result::Result<T, Failure> {
        let r = self
            .agent
            .get(format!("{}{path}", self.url))
            .header("authorization", self.bearer())
            .call();
        self.answer(r)
    }

    /// A POST to `path` with this kit's token.
    fn post_to(&self, path: &str) -> ureq::RequestBuilder<ureq::typestate::WithBody> {
        self.agent
            .post(format!("{}{path}", self.url))
            .header("authorization", self.bearer())
    }

    fn bearer(&self) -> String {
        format!("Bearer {}", self.token)
    }

    fn post<B: Serialize, T: serde::de::DeserializeOwned>(
        &self,
        path: &str,
        body: &B,
    ) -> std::result::Result<T, Failure> {
        let r = self.post_to(path).send_json(body);
        self.answer(r)
    }

    /// One sync, and its outcome kept in `<DATA>/office.json` for the console's header (the
    /// last success stays when a try fails). A failure to keep it is logged, never returned.
    pub fn sync_and_record(&self, data: &Path, school_now: Option<&str>) -> Result<Synced> {
        let result = self.sync(data, school_now);
        let path = data.join(console::api::OFFICE_SYNC_FILE);
        let now = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
        let before = std::fs::read(&path)
            .ok()
            .and_then(|b| serde_json::from_slice::<console::api::OfficeSync>(&b).ok());
        let record = console::api::OfficeSync {
            url: self.url.clone(),
            tried_at: now.clone(),
            synced_at: match &result {
                Ok(_) => Some(now),
                Err(_) => before.and_then(|b| b.synced_at),
            },
            error: result.as_ref().err().map(Error::text),
        };
        let written = serde_json::to_vec(&record)
            .map_err(std::io::Error::other)
            .and_then(|bytes| durable::write_atomic(&path, &bytes));
        if let Err(e) = written {
            tracing::warn!(error = %e, file = %path.display(), "office: cannot keep the sync's outcome");
        }
        result
    }

    /// One sync of the data folder.
    pub fn sync(&self, data: &Path, school_now: Option<&str>) -> Result<Synced> {
        let cursor: Cursor = self.get("/api/kit/cursor").map_err(Failure::into_error)?;
        let mut synced = Synced {
            kit: cursor.kit.clone(),
            ..Synced::default()
        };
        let layout = Layout::new(data);
        let mut refused_schools: Vec<(String, Refusal)> = Vec::new();
        for dir in layout
            .schools()
            .map_err(|e| Error::read(&layout.sessions(), e))?
        {
            // Whole lines only: a line being written goes with the next sync.
            let lines = session::journal::Journal::lines(&layout.journal(&dir))?;
            let Some(school) = lines.iter().find_map(|l| match &l.event {
                session::Event::Opened { school, .. } => Some(school.clone()),
                _ => None,
            }) else {
                continue;
            };
            let mut through = cursor.schools.get(&school).copied().unwrap_or(0);
            // The office's last line must be this kit's line of that number: a data folder
            // replaced or restored from an old copy would otherwise be silently behind.
            if through > 0 {
                let own = lines
                    .iter()
                    .find(|l| l.seq == through)
                    .map(office::wire::fingerprint);
                if own.as_ref() != cursor.last.get(&school) {
                    refused_schools.push((
                        school.clone(),
                        Refusal::Invalid {
                            zh: format!(
                                "本机的日志与办公室已有的不一致（办公室有 {through} 行，本机 {} 行）：数据目录是否被替换或恢复了旧的备份？请联系办公室",
                                lines.len()
                            ),
                            en: format!(
                                "this kit's journal is not the one the office has ({through} lines there, {} here): was the data folder replaced or restored from an old copy? Call the office",
                                lines.len()
                            ),
                        },
                    ));
                    continue;
                }
            }
            let mut sent = 0;
            let mut gaps = 0;
            loop {
                let next: Vec<Line> = lines
                    .iter()
                    .filter(|l| l.seq > through)
                    .take(BATCH)
                    .map(Line::redacted)
                    .collect();
                if next.is_empty() {
                    break;
                }
                let n = next.len() as u64;
                let batch = Lines {
                    school: school.clone(),
                    lines: next,
                };
                match self.post::<_, Accepted>("/api/kit/lines", &batch) {
                    Ok(a) => {
                        sent += a.through.saturating_sub(through).min(n);
                        through = a.through;
                    }
                    // The office has less (or more) than the cursor said: go on from its word.
                    Err(Failure::Refused(Refusal::Gap { through: t, .. })) if gaps < 3 => {
                        gaps += 1;
                        through = t;
                    }
                    // The office refuses this school's lines (a data folder replaced, a
                    // newer kit than the office): the others go on, the status says why, and
                    // the sync ends in this error.
                    Err(Failure::Refused(r @ Refusal::Invalid { .. })) => {
                        refused_schools.push((school.clone(), r));
                        break;
                    }
                    Err(f) => {
                        synced.lines += sent;
                        return Err(f.into_error_for(&school));
                    }
                }
            }
            synced.lines += sent;
            synced.schools.push(SchoolSynced {
                school,
                sent,
                through,
            });
        }

        let known: BTreeSet<&str> = cursor.submissions.iter().map(String::as_str).collect();
        let ledger = crate::export::read_ledger(data)?;
        let new: Vec<&export::plan::Submission> = ledger
            .iter()
            .filter(|s| !known.contains(s.sha256.as_str()))
            .collect();
        if !new.is_empty() {
            let a: Accepted = self
                .post("/api/kit/submissions", &new)
                .map_err(Failure::into_error)?;
            synced.submissions = a.through;
        }
        if self.upload_packs {
            let have: BTreeSet<&str> = cursor.packs.iter().map(String::as_str).collect();
            for s in ledger.iter().filter(|s| !have.contains(s.sha256.as_str())) {
                let path = PathBuf::from(&s.zip);
                let bytes = match std::fs::read(&path) {
                    Ok(b) => b,
                    // A zip moved away (handed over on a USB stick): its checksum was sent.
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
                    Err(e) => return Err(Error::read(&path, e)),
                };
                let r = self
                    .post_to("/api/kit/pack")
                    .header(SHA256_HEADER, &s.sha256)
                    .header("content-type", "application/zip")
                    .send(&bytes[..]);
                let _: Accepted = self.answer(r).map_err(Failure::into_error)?;
                synced.packs += 1;
            }
        }
        let status = KitStatus {
            version: env!("CARGO_PKG_VERSION").to_string(),
            at: Some(chrono::Utc::now()),
            school: school_now.map(str::to_string),
            free_bytes: durable::free_space(data).ok(),
            refused: refused_schools
                .iter()
                .map(|(school, r)| office::wire::SchoolRefused {
                    school: school.clone(),
                    refusal: r.clone(),
                })
                .collect(),
        };
        let _: Accepted = self
            .post("/api/kit/status", &status)
            .map_err(Failure::into_error)?;
        match refused_schools.into_iter().next() {
            Some((school, r)) => Err(Failure::Refused(r).into_error_for(&school)),
            None => Ok(synced),
        }
    }
}

/// A request that did not go through.
#[derive(Debug)]
enum Failure {
    Error(Error),
    Refused(Refusal),
}

impl Failure {
    fn into_error(self) -> Error {
        match self {
            Failure::Error(e) => e,
            Failure::Refused(r) => refusal_error(&r),
        }
    }

    fn into_error_for(self, school: &str) -> Error {
        match self {
            Failure::Refused(Refusal::Invalid { zh, en }) => refused(
                format!("办公室不接受「{school}」的日志：{zh}"),
                format!("the office refuses {school:?}'s journal: {en}"),
            ),
            other => other.into_error(),
        }
    }
}

fn refusal_error(r: &Refusal) -> Error {
    match r {
        Refusal::Gap { school, through } => refused(
            format!("办公室的「{school}」日志与本机不一致（只到第 {through} 行）：请再同步一次"),
            format!(
                "the office's journal of {school:?} does not follow this kit's (up to line {through}): sync again"
            ),
        ),
        Refusal::Unauthorized { zh, en } => refused(
            format!("{zh}：请检查配置 [office] 的令牌"),
            format!("{en}: check the token in [office]"),
        ),
        Refusal::Invalid { zh, en }
        | Refusal::Forbidden { zh, en }
        | Refusal::Unavailable { zh, en } => refused(zh.clone(), en.clone()),
    }
}

/// `http://127.0.0.1…`, `http://localhost…`, `http://[::1]…`: the office on this machine.
fn is_loopback_url(url: &str) -> bool {
    let rest = url.strip_prefix("http://").unwrap_or_default();
    let host = rest.split(['/', '?']).next().unwrap_or_default();
    let host = match host.rsplit_once(':') {
        Some((h, p)) if p.chars().all(|c| c.is_ascii_digit()) => h,
        _ => host,
    };
    let host = host.trim_start_matches('[').trim_end_matches(']');
    host == "localhost"
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;

    fn section(url: &str, token: Option<&str>) -> OfficeSection {
        OfficeSection {
            url: Some(url.into()),
            token: token.map(str::to_string),
            ..OfficeSection::default()
        }
    }

    #[test]
    fn the_token_travels_only_over_tls_or_on_this_machine() {
        let t = Some("0123456789abcdef");
        assert!(
            Office::from_config(&section("https://office.example:8743", t))
                .unwrap()
                .is_some()
        );
        assert!(
            Office::from_config(&section("http://127.0.0.1:8743/", t))
                .unwrap()
                .is_some()
        );
        assert!(
            Office::from_config(&section("http://[::1]:8743", t))
                .unwrap()
                .is_some()
        );
        assert!(
            Office::from_config(&section("http://localhost", t))
                .unwrap()
                .is_some()
        );
        let e = Office::from_config(&section("http://office.example:8743", t)).unwrap_err();
        assert!(e.to_string().contains("https://"), "{e}");
        let e = Office::from_config(&section("http://127.0.0.1.evil.example/", t)).unwrap_err();
        assert!(e.to_string().contains("https://"), "{e}");
        let e = Office::from_config(&section("https://office.example", None)).unwrap_err();
        assert!(e.to_string().contains("token"), "{e}");
        assert!(
            Office::from_config(&OfficeSection::default())
                .unwrap()
                .is_none()
        );
    }
}
