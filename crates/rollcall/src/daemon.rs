//! `rollcall daemon`: the field kit's one process, run by [`kit::supervisor`] on one tokio
//! runtime, reporting to systemd, until SIGTERM/SIGINT.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Result;
use clap::Args;
use kit::config;
use kit::supervisor::{self, Systemd};
use tokio_util::sync::CancellationToken;

#[derive(Debug, Args)]
pub struct DaemonArgs {
    /// The configuration file (see `rollcall config example`).
    #[arg(long, value_name = "FILE", env = "ROLLCALL_CONFIG", default_value = config::DEFAULT_PATH)]
    config: PathBuf,
}

pub fn run(args: DaemonArgs) -> Result<ExitCode> {
    let config = config::load(&args.config)?;
    let runtime = crate::runtime()?;
    let result = runtime.block_on(async {
        let shutdown = CancellationToken::new();
        supervisor::cancel_on_signals(shutdown.clone())?;
        supervisor::run(&config, &Systemd, shutdown).await
    });
    // An office sync still waiting on the network must not hold the exit (the next start
    // resumes it); everything of the photo day has been joined by now.
    runtime.shutdown_timeout(std::time::Duration::from_secs(1));
    result?;
    Ok(ExitCode::SUCCESS)
}
