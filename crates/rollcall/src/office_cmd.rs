//! `rollcall office …` (the coordinator's service and its tokens) and `rollcall sync` (a kit
//! reporting to it): arguments and rendering; the work is in the `office` crate and
//! `kit::sync`.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::{Context, Result, bail};
use clap::{Args, Subcommand};
use office::tokens::Role;
use office::wire::City;

use crate::{emit, runtime, say};

#[derive(Debug, Subcommand)]
pub enum OfficeCommand {
    /// Run the office service (办公室服务): kits sync to it, coordinators open its page.
    ///
    /// Applies the database migrations, then serves until SIGTERM or Ctrl-C. Keeps no state of
    /// its own: several instances may share one database behind a load balancer. Beyond
    /// loopback it needs a certificate (`--tls-cert/--tls-key`; `rollcall office cert` makes a
    /// self-signed one).
    ///
    /// Example: rollcall office serve --db postgres://rollcall@localhost/office --listen 0.0.0.0:8743 --tls-cert office.pem --tls-key office.key --host-name office.example
    Serve(ServeArgs),

    /// Apply the database migrations and exit (serve does it too).
    Migrate(DbArgs),

    /// Tokens of kits and coordinators (令牌): add, rotate, revoke, list.
    #[command(subcommand)]
    Token(TokenCommand),

    /// The city's progress (全市进度): what the coordinator's page shows.
    ///
    /// Example: rollcall office status --db postgres://rollcall@localhost/office --json
    Status(StatusArgs),

    /// Make a self-signed certificate for the office (for an office without a certificate
    /// authority): `office.pem` (give it to every kit as `[office] ca`) and `office.key`.
    ///
    /// Example: rollcall office cert --host office.example --host 192.168.1.10 --out /etc/rollcall
    Cert(CertArgs),
}

#[derive(Debug, Args)]
pub struct DbArgs {
    /// The PostgreSQL database: `postgres://user@host/db` or `host=/run/postgresql dbname=office`.
    #[arg(long, env = "ROLLCALL_OFFICE_DB")]
    db: String,
}

#[derive(Debug, Args)]
pub struct ServeArgs {
    #[command(flatten)]
    db: DbArgs,
    /// Address to listen on.
    #[arg(long, env = "ROLLCALL_OFFICE_LISTEN", default_value = "127.0.0.1:8743")]
    listen: SocketAddr,
    /// Certificate chain (PEM). Required beyond loopback.
    #[arg(long, requires = "tls_key")]
    tls_cert: Option<PathBuf>,
    /// Private key (PEM).
    #[arg(long, requires = "tls_cert")]
    tls_key: Option<PathBuf>,
    /// A host name kits and browsers use to reach the office (repeatable, or comma-separated in
    /// ROLLCALL_OFFICE_HOSTS); others are refused. IP addresses and localhost always pass.
    #[arg(
        long = "host-name",
        env = "ROLLCALL_OFFICE_HOSTS",
        value_delimiter = ','
    )]
    host_names: Vec<String>,
    /// Database connections per instance.
    #[arg(long, default_value_t = 8)]
    pool: usize,
}

#[derive(Debug, Subcommand)]
pub enum TokenCommand {
    /// A new token for a kit (it syncs) or a coordinator (reads the city). Shown once.
    ///
    /// Example: rollcall office token add 一组-笔记本1 --team 一组
    Add(TokenAddArgs),
    /// A new token for an existing name; the old one stops working at once.
    Rotate(TokenRotateArgs),
    /// Revoke a token: its next request is refused. What the kit sent stays.
    Revoke(TokenNameArgs),
    /// Every name, its team and role, when it last synced (never the tokens).
    List(TokenListArgs),
}

#[derive(Debug, Args)]
pub struct TokenAddArgs {
    #[command(flatten)]
    db: DbArgs,
    /// The kit's (or coordinator's) name, e.g. 一组-笔记本1.
    name: String,
    /// The team (工作小组) the kit belongs to.
    #[arg(long, default_value = "")]
    team: String,
    /// A coordinator's token (reads the city's page) instead of a kit's.
    #[arg(long)]
    coordinator: bool,
    /// The office's address, to print the coordinator's link or the kit's [office] section.
    #[arg(long)]
    url: Option<String>,
    #[arg(long)]
    json: bool,
}

#[derive(Debug, Args)]
pub struct TokenNameArgs {
    #[command(flatten)]
    db: DbArgs,
    name: String,
    #[arg(long)]
    json: bool,
}

#[derive(Debug, Args)]
pub struct TokenRotateArgs {
    #[command(flatten)]
    db: DbArgs,
    name: String,
    /// The office's address, to print the new link or [office] section.
    #[arg(long)]
    url: Option<String>,
    #[arg(long)]
    json: bool,
}

#[derive(Debug, Args)]
pub struct TokenListArgs {
    #[command(flatten)]
    db: DbArgs,
    #[arg(long)]
    json: bool,
}

#[derive(Debug, Args)]
pub struct StatusArgs {
    #[command(flatten)]
    db: DbArgs,
    #[arg(long)]
    json: bool,
}

#[derive(Debug, Args)]
pub struct CertArgs {
    /// Names and addresses the certificate is for (repeatable).
    #[arg(long = "host", required = true)]
    hosts: Vec<String>,
    /// Folder for office.pem and office.key.
    #[arg(long)]
    out: PathBuf,
}

#[derive(Debug, Args)]
pub struct SyncArgs {
    /// The data folder; default: the configuration's `data`.
    data: Option<PathBuf>,
    /// The configuration file with the [office] section.
    #[arg(long, env = "ROLLCALL_CONFIG", default_value = kit::config::DEFAULT_PATH)]
    config: PathBuf,
    #[arg(long)]
    json: bool,
}

pub fn run(cmd: OfficeCommand) -> Result<ExitCode> {
    match cmd {
        OfficeCommand::Serve(a) => serve(a),
        OfficeCommand::Migrate(a) => {
            let rt = runtime()?;
            let applied = rt.block_on(async {
                let db = office::Db::connect(&a.db, 2)?;
                db.migrate().await
            })?;
            emit(&format!(
                "{}\n",
                say(
                    format!("数据库已是最新（本次应用 {} 个迁移）", applied.len()),
                    format!(
                        "database up to date ({} migrations applied now)",
                        applied.len()
                    )
                )
            ))?;
            Ok(ExitCode::SUCCESS)
        }
        OfficeCommand::Token(t) => token(t),
        OfficeCommand::Status(a) => status(a),
        OfficeCommand::Cert(a) => cert(a),
    }
}

fn serve(a: ServeArgs) -> Result<ExitCode> {
    if !a.listen.ip().is_loopback() && a.tls_cert.is_none() {
        bail!(say(
            format!(
                "在 {} 上监听必须使用 TLS：请加 --tls-cert 和 --tls-key（rollcall office cert 可生成自签名证书）",
                a.listen
            ),
            format!(
                "listening on {} needs TLS: add --tls-cert and --tls-key (rollcall office cert makes a self-signed pair)",
                a.listen
            )
        ));
    }
    let tls = match (&a.tls_cert, &a.tls_key) {
        (Some(c), Some(k)) => Some(office::http::tls_config(c, k).context("TLS")?),
        _ => None,
    };
    let rt = runtime()?;
    rt.block_on(async move {
        let db = office::Db::connect(&a.db.db, a.pool)?;
        let applied = db.migrate().await.context(say(
            "无法准备办公室数据库",
            "cannot prepare the office database",
        ))?;
        let listener = tokio::net::TcpListener::bind(a.listen)
            .await
            .with_context(|| format!("listen on {}", a.listen))?;
        let bound = listener.local_addr()?;
        let scheme = if tls.is_some() { "https" } else { "http" };
        tracing::info!(%bound, migrations = applied.len(), "office: serving");
        emit(&format!(
            "{} {scheme}://{bound}/\n",
            say("办公室服务已启动：", "office serving at")
        ))?;
        let shutdown = tokio_util::sync::CancellationToken::new();
        let stop = shutdown.clone();
        tokio::spawn(async move {
            let mut term =
                match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                    Ok(t) => t,
                    Err(_) => return,
                };
            tokio::select! {
                _ = term.recv() => {}
                _ = tokio::signal::ctrl_c() => {}
            }
            stop.cancel();
        });
        let state = Arc::new(office::http::Office {
            db,
            bound,
            hosts: a
                .host_names
                .into_iter()
                .map(|h| h.trim().to_string())
                .filter(|h| !h.is_empty())
                .collect(),
            tls: tls.is_some(),
        });
        office::http::serve(listener, state, tls, shutdown).await?;
        anyhow::Ok(())
    })?;
    Ok(ExitCode::SUCCESS)
}

fn token(cmd: TokenCommand) -> Result<ExitCode> {
    let rt = runtime()?;
    match cmd {
        TokenCommand::Add(a) => {
            let role = if a.coordinator {
                Role::Coordinator
            } else {
                Role::Kit
            };
            let token = rt.block_on(async {
                let db = office::Db::connect(&a.db.db, 1)?;
                db.migrate().await?;
                office::tokens::add(&db, &a.name, &a.team, role).await
            })?;
            show_token(&a.name, role, &token, a.url.as_deref(), a.json)
        }
        TokenCommand::Rotate(a) => {
            let (token, role) = rt.block_on(async {
                let db = office::Db::connect(&a.db.db, 1)?;
                office::tokens::rotate(&db, &a.name).await
            })?;
            show_token(&a.name, role, &token, a.url.as_deref(), a.json)
        }
        TokenCommand::Revoke(a) => {
            rt.block_on(async {
                let db = office::Db::connect(&a.db.db, 1)?;
                office::tokens::revoke(&db, &a.name).await
            })?;
            if a.json {
                emit(&format!("{}\n", serde_json::json!({"revoked": a.name})))?;
            } else {
                emit(&format!(
                    "{}\n",
                    say(
                        format!("已吊销「{}」的令牌", a.name),
                        format!("{}'s token is revoked", a.name)
                    )
                ))?;
            }
            Ok(ExitCode::SUCCESS)
        }
        TokenCommand::List(a) => {
            let holders = rt.block_on(async {
                let db = office::Db::connect(&a.db.db, 1)?;
                office::tokens::list(&db).await
            })?;
            if a.json {
                emit(&format!("{}\n", serde_json::to_string_pretty(&holders)?))?;
            } else {
                for h in holders {
                    let state = match (h.revoked_at, h.last_sync) {
                        (Some(_), _) => say("已吊销", "revoked"),
                        (None, Some(t)) => say(format!("最后同步 {t}"), format!("last sync {t}")),
                        (None, None) => say("尚未同步", "never synced"),
                    };
                    let role = match h.role {
                        Role::Kit => say("设备", "kit"),
                        Role::Coordinator => say("协调员", "coordinator"),
                    };
                    emit(&format!("{}\t{}\t{role}\t{state}\n", h.team, h.name))?;
                }
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}

fn show_token(
    name: &str,
    role: Role,
    token: &str,
    url: Option<&str>,
    json: bool,
) -> Result<ExitCode> {
    if json {
        emit(&format!(
            "{}\n",
            serde_json::json!({"name": name, "role": role, "token": token})
        ))?;
        return Ok(ExitCode::SUCCESS);
    }
    let url = url.unwrap_or("https://OFFICE:8743");
    match role {
        Role::Kit => emit(&format!(
            "{}\n\n[office]\nurl = \"{url}\"\ntoken = \"{token}\"\n",
            say(
                format!(
                    "「{name}」的令牌（只显示这一次）。把下面几行加到该设备的 /etc/rollcall/rollcall.toml："
                ),
                format!(
                    "{name}'s token (shown this once). Add these lines to the kit's /etc/rollcall/rollcall.toml:"
                )
            )
        ))?,
        Role::Coordinator => emit(&format!(
            "{}\n{url}/?token={token}\n",
            say(
                format!("协调员「{name}」的链接（只显示这一次，打开一次后浏览器会记住）："),
                format!(
                    "coordinator {name}'s link (shown this once; the browser remembers it once opened):"
                )
            )
        ))?,
    }
    Ok(ExitCode::SUCCESS)
}

fn status(a: StatusArgs) -> Result<ExitCode> {
    let rt = runtime()?;
    let city = rt.block_on(async {
        let db = office::Db::connect(&a.db.db, 2)?;
        office::query::city(&db, chrono::Local::now().date_naive()).await
    })?;
    if a.json {
        emit(&format!("{}\n", serde_json::to_string_pretty(&city)?))?;
    } else {
        emit(&render(&city))?;
    }
    Ok(ExitCode::SUCCESS)
}

/// The city in a few lines per team and school.
fn render(city: &City) -> String {
    let mut out = String::new();
    for team in &city.teams {
        let (zh, en) = if team.team.is_empty() {
            ("（未分组）", "(no team)")
        } else {
            (team.team.as_str(), team.team.as_str())
        };
        out += &counts_line(zh, en, &team.counts);
        for k in &team.kits {
            let when = k.last_sync.map_or_else(
                || say("从未同步", "never synced"),
                |t| t.format("%Y-%m-%d %H:%M").to_string(),
            );
            out += &format!("  {} ({when})\n", k.kit);
        }
    }
    for s in &city.schools {
        out += &counts_line(
            &format!("{}（{}）", s.school, s.kit),
            &format!("{} ({})", s.school, s.kit),
            &s.counts,
        );
    }
    for d in &city.duplicates {
        let places: Vec<String> = d
            .places
            .iter()
            .map(|p| format!("{} {} {}", p.school, p.class, p.name))
            .collect();
        out += &say(
            format!("跨校重复 {}：{}\n", d.id, places.join("；")),
            format!(
                "same ID in several schools {}: {}\n",
                d.id,
                places.join("; ")
            ),
        );
    }
    for d in &city.due {
        let open: Vec<&str> = d
            .schools
            .iter()
            .filter(|s| !s.submitted)
            .map(|s| s.school.as_str())
            .collect();
        if !open.is_empty() {
            out += &say(
                format!("{} 应报送：{}\n", d.due, open.join("、")),
                format!("due {}: {}\n", d.due, open.join(", ")),
            );
        }
    }
    if city.duplicates_total > city.duplicates.len() as u64 {
        out += &say(
            format!(
                "跨校重复共 {} 个（以上为前 {} 个）\n",
                city.duplicates_total,
                city.duplicates.len()
            ),
            format!(
                "{} IDs on several rosters in all (the first {} above)\n",
                city.duplicates_total,
                city.duplicates.len()
            ),
        );
    }
    if city.problems_total > 0 {
        out += &say(
            format!("名册中未解决的问题：{} 行\n", city.problems_total),
            format!("roster problems still open: {} rows\n", city.problems_total),
        );
    }
    out
}

/// "<label>：已拍 … 人，需重拍 …" in the operator's language.
fn counts_line(zh: &str, en: &str, c: &office::wire::Counts) -> String {
    say(
        format!(
            "{zh}：已拍 {} / {} 人，需重拍 {}，缺席 {}，待拍 {}\n",
            c.photographed, c.students, c.retake, c.absent, c.to_come
        ),
        format!(
            "{en}: {} of {} photographed, {} retake, {} absent, {} to come\n",
            c.photographed, c.students, c.retake, c.absent, c.to_come
        ),
    )
}

fn cert(a: CertArgs) -> Result<ExitCode> {
    let (pem, key) = office::http::self_signed(&a.hosts).context("certificate")?;
    std::fs::create_dir_all(&a.out).with_context(|| a.out.display().to_string())?;
    let cert_path = a.out.join("office.pem");
    let key_path = a.out.join("office.key");
    durable::write_atomic(&cert_path, pem.as_bytes())
        .with_context(|| cert_path.display().to_string())?;
    durable::write_atomic(&key_path, key.as_bytes())
        .with_context(|| key_path.display().to_string())?;
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&key_path, std::fs::Permissions::from_mode(0o600))
            .with_context(|| key_path.display().to_string())?;
    }
    emit(&format!(
        "{}\n  {}\n  {}\n",
        say(
            "已生成自签名证书（office.pem 交给每台设备，配置为 [office] ca）：",
            "self-signed certificate made (give office.pem to every kit as [office] ca):"
        ),
        cert_path.display(),
        key_path.display()
    ))?;
    Ok(ExitCode::SUCCESS)
}

pub fn sync(a: SyncArgs) -> Result<ExitCode> {
    let config = kit::config::load(&a.config)?;
    let data = a.data.unwrap_or(config.data.clone());
    let Some(office) = kit::sync::Office::from_config(&config.office)? else {
        bail!(say(
            format!(
                "{} 中没有 [office] url：这台设备不向办公室报送",
                a.config.display()
            ),
            format!(
                "no [office] url in {}: this kit reports to no office",
                a.config.display()
            )
        ));
    };
    let synced = office.sync_and_record(&data, config.school.as_deref())?;
    if a.json {
        emit(&format!("{}\n", serde_json::to_string_pretty(&synced)?))?;
    } else {
        emit(&format!(
            "{}\n",
            say(
                format!(
                    "已同步到办公室（{}）：{} 行日志，{} 条报送记录，{} 个压缩包",
                    synced.kit, synced.lines, synced.submissions, synced.packs
                ),
                format!(
                    "synced to the office as {}: {} journal lines, {} submissions, {} packs",
                    synced.kit, synced.lines, synced.submissions, synced.packs
                )
            )
        ))?;
    }
    Ok(ExitCode::SUCCESS)
}
