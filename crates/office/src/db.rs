//! The database: a connection pool over PostgreSQL and the versioned migrations, applied at
//! start under an advisory lock (several instances may start at once).
//!
//! Migrations are a list of SQL files compiled in (`migrations/NNNN_*.sql`) and a table of the
//! versions applied. A migration crate (refinery, sqlx) would add a second database driver or
//! a macro layer for what is twenty lines here; the lock is the part that matters.

use std::str::FromStr;

use deadpool_postgres::{Manager, ManagerConfig, Pool, RecyclingMethod};
use tokio_postgres::NoTls;

/// The migrations, in order. Never edit one that has shipped: add the next.
const MIGRATIONS: &[(i32, &str, &str)] =
    &[(1, "init", include_str!("../migrations/0001_init.sql"))];

/// Any advisory-lock key of ours (`rollcall` in ASCII, truncated): held while migrating.
const MIGRATION_LOCK: i64 = 0x726f_6c6c_6361;
/// Held while a school's duplicates are recomputed, so two kits' concurrent syncs of two
/// schools sharing a student both see each other's rows.
pub(crate) const DUPLICATES_LOCK: i64 = MIGRATION_LOCK + 1;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("the database address is not valid: {0}")]
    Url(String),
    #[error("cannot reach the database: {0}")]
    Pool(#[from] deadpool_postgres::PoolError),
    #[error("database error: {0}")]
    Db(#[from] tokio_postgres::Error),
    #[error("{0}")]
    Refused(crate::wire::Refusal),
    #[error("no random numbers from the kernel: {0}")]
    Random(String),
}

impl Error {
    /// The refusal a client gets for this error.
    pub fn refusal(&self) -> crate::wire::Refusal {
        use crate::wire::Refusal;
        match self {
            Error::Refused(r) => r.clone(),
            other => Refusal::Unavailable {
                zh: format!("办公室数据库暂时不可用：{other}"),
                en: other.to_string(),
            },
        }
    }
}

/// The office's database.
#[derive(Clone, Debug)]
pub struct Db {
    pub pool: Pool,
}

impl Db {
    /// A pool over `url` (`postgres://user@host/db`, or `host=/run/postgresql dbname=office`).
    /// Connects lazily; [`Db::migrate`] is the first use.
    pub fn connect(url: &str, size: usize) -> Result<Db, Error> {
        let config =
            tokio_postgres::Config::from_str(url).map_err(|e| Error::Url(e.to_string()))?;
        let manager = Manager::from_config(
            config,
            NoTls,
            ManagerConfig {
                recycling_method: RecyclingMethod::Fast,
            },
        );
        let pool = Pool::builder(manager)
            .max_size(size)
            .build()
            .map_err(|e| Error::Url(e.to_string()))?;
        Ok(Db { pool })
    }

    /// Applies the migrations this build knows and the database lacks. Returns the versions
    /// applied now.
    pub async fn migrate(&self) -> Result<Vec<i32>, Error> {
        let mut client = self.pool.get().await?;
        let tx = client.transaction().await?;
        tx.execute("SELECT pg_advisory_xact_lock($1)", &[&MIGRATION_LOCK])
            .await?;
        tx.batch_execute(
            "CREATE TABLE IF NOT EXISTS office_migrations (
                 version integer PRIMARY KEY,
                 name text NOT NULL,
                 applied_at timestamptz NOT NULL DEFAULT now())",
        )
        .await?;
        let done: Vec<i32> = tx
            .query("SELECT version FROM office_migrations", &[])
            .await?
            .iter()
            .map(|r| r.get(0))
            .collect();
        let mut applied = Vec::new();
        for (version, name, sql) in MIGRATIONS {
            if done.contains(version) {
                continue;
            }
            tx.batch_execute(sql).await?;
            tx.execute(
                "INSERT INTO office_migrations (version, name) VALUES ($1, $2)",
                &[version, name],
            )
            .await?;
            applied.push(*version);
        }
        tx.commit().await?;
        Ok(applied)
    }
}
