//! `rollcall console url` and `rollcall ctl`, the command line on a running console's API
//! (the console is hosted by [`kit::console`]; the client is [`kit::client::Client`]).

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Result;
use clap::{Args, Subcommand};
use kit::client::Client;
use session::Command;

#[derive(Debug, Subcommand)]
pub enum ConsoleCommand {
    /// The address of the running console, with the token when it needs one (控制台地址).
    Url {
        #[arg(value_name = "DATA")]
        data: PathBuf,
    },
}

pub fn run(cmd: ConsoleCommand) -> Result<ExitCode> {
    let ConsoleCommand::Url { data } = cmd;
    let info = kit::console::read_info(&data)?;
    crate::emit(&format!("{}\n", info.url))?;
    Ok(ExitCode::SUCCESS)
}

#[derive(Debug, Args)]
pub struct CtlArgs {
    /// The data folder of the running session.
    #[arg(value_name = "DATA")]
    data: PathBuf,

    #[command(subcommand)]
    command: Ctl,
}

/// Operator commands sent to a running session through its console.
#[derive(Debug, Subcommand)]
enum Ctl {
    /// The console's view of the session, as JSON.
    State,
    /// The student whose turn it is (or STUDENT) is absent.
    Skip { student: Option<String> },
    /// Photograph the student of the last frame (or STUDENT) again.
    Retake { student: Option<String> },
    /// Use the last frame (or FRAME) although it failed a check.
    Accept {
        #[arg(long)]
        reason: String,
        frame: Option<u64>,
    },
    /// Undo the last action.
    Undo,
    /// Move the last N frames one student forward (or back).
    Shift {
        n: usize,
        #[arg(long)]
        back: bool,
    },
    /// Make STUDENT (ID, name, class:row) the next one.
    Jump { student: String },
    /// Add a walk-in student.
    Add {
        #[arg(long)]
        name: String,
        #[arg(long)]
        class: String,
        #[arg(long)]
        id: Option<String>,
    },
    /// Prefer FRAME for its student.
    Choose { frame: u64 },
    /// Photograph CLASS.
    Class { class: String },
    /// STUDENT needs no photo (or, with --needed, needs one).
    NoPhoto {
        student: String,
        #[arg(long)]
        needed: bool,
    },
    /// Give FRAME to STUDENT (`none`: to nobody).
    Assign { frame: u64, student: String },
    /// Press the shutter of the tethered camera.
    Trigger,
    /// Read the roster files again (the school fixed them).
    Reload,
}

/// The body of a command for the console's `/api/command`.
pub fn ctl(a: CtlArgs) -> Result<ExitCode> {
    let client = Client::connect(&a.data)?;
    let command = match a.command {
        Ctl::State => {
            let view = client.state()?;
            crate::emit(&roster::id::mask_all(
                &(serde_json::to_string_pretty(&view)? + "\n"),
            ))?;
            return Ok(ExitCode::SUCCESS);
        }
        Ctl::Trigger => {
            let answer = client.trigger()?;
            crate::emit(&(serde_json::to_string_pretty(&answer)? + "\n"))?;
            return Ok(ExitCode::SUCCESS);
        }
        Ctl::Skip { student } => Command::Skip { student },
        Ctl::Retake { student } => Command::Retake { student },
        Ctl::Accept { reason, frame } => Command::Accept { frame, reason },
        Ctl::Undo => Command::Undo,
        Ctl::Shift { n, back } => Command::Shift { n, back },
        Ctl::Jump { student } => Command::Jump { student },
        Ctl::Add { name, class, id } => Command::Add { name, class, id },
        Ctl::Choose { frame } => Command::Choose { frame },
        Ctl::Class { class } => Command::Class { class },
        Ctl::NoPhoto { student, needed } => Command::NoPhoto { student, needed },
        Ctl::Reload => Command::Reload,
        Ctl::Assign { frame, student } => Command::Assign {
            frame,
            student: Some(student),
        },
    };
    let answer = client.command(&command)?;
    // The recorded line names students by key, which is often the full ID: stdout ends up in
    // logs and terminals, so it is masked like every log line.
    crate::emit(&roster::id::mask_all(
        &(serde_json::to_string_pretty(&answer)? + "\n"),
    ))?;
    Ok(ExitCode::SUCCESS)
}
