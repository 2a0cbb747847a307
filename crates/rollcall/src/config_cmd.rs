//! `rollcall config check` and `rollcall config example`: the daemon's configuration file
//! (read and checked by [`kit::config`]).

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Result;
use clap::Subcommand;
use kit::config::{DEFAULT_PATH, EXAMPLE, Finding, check, load};

use crate::{lang, say};

#[derive(Debug, Subcommand)]
pub enum ConfigCommand {
    /// Check a configuration file: syntax, unknown keys (with the line), and that the data
    /// folder, rosters, profile, camera source and console address can be used (检查配置).
    Check {
        /// The file; default /etc/rollcall/rollcall.toml.
        #[arg(value_name = "FILE", default_value = DEFAULT_PATH)]
        file: PathBuf,
        #[arg(long)]
        json: bool,
    },
    /// Print an example configuration with every key explained (示例配置).
    Example,
}

pub fn run(cmd: ConfigCommand) -> Result<ExitCode> {
    match cmd {
        ConfigCommand::Example => {
            crate::emit(EXAMPLE)?;
            Ok(ExitCode::SUCCESS)
        }
        ConfigCommand::Check { file, json } => {
            let findings = match load(&file) {
                Ok(config) => check(&config),
                Err(e) => vec![Finding {
                    ok: false,
                    what: "file".into(),
                    message: e.text(),
                }],
            };
            let ok = findings.iter().all(|f| f.ok);
            if json {
                // One language in the document, as everywhere else in `--json`.
                let findings: Vec<_> = findings
                    .iter()
                    .map(|f| {
                        serde_json::json!({
                            "ok": f.ok,
                            "what": f.what,
                            "message": f.message.get(lang()),
                        })
                    })
                    .collect();
                let value = serde_json::json!({ "file": file, "ok": ok, "findings": findings });
                crate::emit(&format!("{}\n", serde_json::to_string_pretty(&value)?))?;
            } else {
                let mut text = String::new();
                for f in &findings {
                    let mark = if f.ok { "✓" } else { "✗" };
                    text.push_str(&format!("{mark} {}: {}\n", f.what, f.message.get(lang())));
                }
                text.push_str(&if ok {
                    say("配置可用\n", "the configuration is usable\n")
                } else {
                    say(
                        "配置有误，请修改后再检查\n",
                        "fix the lines marked ✗ and check again\n",
                    )
                });
                crate::emit(&text)?;
            }
            Ok(if ok {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(1)
            })
        }
    }
}
