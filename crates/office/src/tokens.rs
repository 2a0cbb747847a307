//! Who may talk to the office: one token per kit (it sends) and per coordinator (they read).
//! A token is 32 random bytes shown once when it is made; the database keeps its SHA-256
//! only. A token of 256 random bits needs no slow password hash: nobody can guess one, and a
//! stolen table of hashes gives no token back. Revoking is immediate (every request looks the
//! token up).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::db::{Db, Error};
use crate::wire::Refusal;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// A field kit: sends its journals.
    Kit,
    /// A coordinator: reads the city.
    Coordinator,
}

impl Role {
    /// From the database's `role` column (checked there to be one of the two).
    fn parse(s: &str) -> Role {
        if s == "kit" {
            Role::Kit
        } else {
            Role::Coordinator
        }
    }

    fn as_str(self) -> &'static str {
        match self {
            Role::Kit => "kit",
            Role::Coordinator => "coordinator",
        }
    }
}

/// The holder of a valid token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    pub id: i32,
    pub name: String,
    pub team: String,
    pub role: Role,
}

/// One token holder as `rollcall office token list` shows it (never the token).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Holder {
    pub name: String,
    pub team: String,
    pub role: Role,
    pub created_at: DateTime<Utc>,
    pub revoked_at: Option<DateTime<Utc>>,
    pub last_sync: Option<DateTime<Utc>>,
}

fn digest(token: &str) -> Vec<u8> {
    Sha256::digest(token.as_bytes()).to_vec()
}

/// A new token: 32 bytes from the kernel's generator, hex.
fn new_token() -> Result<String, Error> {
    console::harden::random_hex(32).map_err(|e| Error::Random(e.to_string()))
}

/// Makes a token for `name` (a kit or a coordinator). Refused when the name exists (revoke it
/// and choose another name, or `rotate`).
pub async fn add(db: &Db, name: &str, team: &str, role: Role) -> Result<String, Error> {
    if name.trim().is_empty() {
        return Err(Error::Refused(Refusal::Invalid {
            zh: "名称不能为空".into(),
            en: "the name is empty".into(),
        }));
    }
    let token = new_token()?;
    let client = db.pool.get().await?;
    let n = client
        .execute(
            "INSERT INTO kits (name, team, role, token_sha256) VALUES ($1, $2, $3, $4)
             ON CONFLICT (name) DO NOTHING",
            &[&name, &team, &role.as_str(), &digest(&token)],
        )
        .await?;
    if n == 0 {
        return Err(Error::Refused(Refusal::Invalid {
            zh: format!("已有名为「{name}」的令牌：换一个名称，或用 rotate 换新令牌"),
            en: format!("a token named {name:?} exists: choose another name, or rotate it"),
        }));
    }
    Ok(token)
}

/// A new token for an existing name (the old one stops working; a revoked name is restored).
/// Returns it with the holder's role.
pub async fn rotate(db: &Db, name: &str) -> Result<(String, Role), Error> {
    let token = new_token()?;
    let client = db.pool.get().await?;
    let row = client
        .query_opt(
            "UPDATE kits SET token_sha256 = $2, revoked_at = NULL WHERE name = $1 RETURNING role",
            &[&name, &digest(&token)],
        )
        .await?;
    match row {
        Some(r) => Ok((token, Role::parse(r.get(0)))),
        None => Err(unknown(name)),
    }
}

/// Revokes `name`'s token: its next request is refused. What it sent stays.
pub async fn revoke(db: &Db, name: &str) -> Result<(), Error> {
    let client = db.pool.get().await?;
    let n = client
        .execute(
            "UPDATE kits SET revoked_at = coalesce(revoked_at, now()) WHERE name = $1",
            &[&name],
        )
        .await?;
    if n == 0 {
        return Err(unknown(name));
    }
    Ok(())
}

fn unknown(name: &str) -> Error {
    Error::Refused(Refusal::Invalid {
        zh: format!("没有名为「{name}」的令牌（rollcall office token list 列出全部）"),
        en: format!("no token named {name:?} (rollcall office token list shows them)"),
    })
}

pub async fn list(db: &Db) -> Result<Vec<Holder>, Error> {
    let client = db.pool.get().await?;
    let rows = client
        .query(
            "SELECT name, team, role, created_at, revoked_at, last_sync FROM kits ORDER BY team, name",
            &[],
        )
        .await?;
    Ok(rows
        .iter()
        .map(|r| Holder {
            name: r.get(0),
            team: r.get(1),
            role: Role::parse(r.get(2)),
            created_at: r.get(3),
            revoked_at: r.get(4),
            last_sync: r.get(5),
        })
        .collect())
}

/// The holder of `token`, if it is valid and not revoked.
pub async fn authenticate(db: &Db, token: &str) -> Result<Option<Principal>, Error> {
    let client = db.pool.get().await?;
    let row = client
        .query_opt(
            "SELECT id, name, team, role FROM kits WHERE token_sha256 = $1 AND revoked_at IS NULL",
            &[&digest(token)],
        )
        .await?;
    Ok(row.map(|r| Principal {
        id: r.get(0),
        name: r.get(1),
        team: r.get(2),
        role: Role::parse(r.get(3)),
    }))
}
