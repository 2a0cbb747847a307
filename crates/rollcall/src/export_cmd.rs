//! `rollcall verify`, `rollcall pack`, `rollcall submit plan`, `rollcall print`: what leaves the
//! kit. The work is [`kit::export`]'s; this renders it.

use std::fmt::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result, bail};
use chrono::NaiveDate;
use clap::{Args, Subcommand, ValueEnum};
use export::pack::Names;
use kit::export::{PackOptions, Printable};

use crate::{lang, say};

#[derive(Debug, Args)]
pub struct VerifyArgs {
    /// The data folder.
    #[arg(value_name = "DATA")]
    data: PathBuf,

    /// The school (default: every school with a session).
    #[arg(long)]
    school: Option<String>,

    /// Photo standard the files must meet.
    #[arg(long, value_name = "NAME|FILE", default_value = pipeline::spec::DEFAULT_PROFILE)]
    profile: String,

    #[arg(long)]
    json: bool,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum NamesArg {
    Utf8,
    Gbk,
}

#[derive(Debug, Args)]
pub struct PackArgs {
    #[arg(value_name = "DATA")]
    data: PathBuf,

    /// The school to pack.
    #[arg(
        long,
        conflicts_with = "complete",
        required_unless_present = "complete"
    )]
    school: Option<String>,

    /// Pack every school whose make-up list is empty.
    #[arg(long)]
    complete: bool,

    /// Where the zips go (default: `<DATA>/submissions/`).
    #[arg(long, value_name = "DIR")]
    out: Option<PathBuf>,

    /// File names in the zip: utf8 (default), or gbk for old Windows unzip tools.
    #[arg(long, value_enum, default_value_t = NamesArg::Utf8)]
    names: NamesArg,

    /// Pack even when verify finds defects (the daily submissions of the first days): the
    /// defects are listed.
    #[arg(long)]
    allow_incomplete: bool,

    #[arg(long, value_name = "NAME|FILE", default_value = pipeline::spec::DEFAULT_PROFILE)]
    profile: String,

    #[arg(long)]
    json: bool,
}

#[derive(Debug, Subcommand)]
pub enum SubmitCommand {
    /// What is due by the city's schedule, and which submitted schools changed since (报送计划).
    ///
    /// First three working days of the campaign: each next working day, the data collected the
    /// working day before. Afterwards, every Monday: the schools completed the week before.
    Plan(PlanArgs),
}

#[derive(Debug, Args)]
pub struct PlanArgs {
    #[arg(value_name = "DATA")]
    data: PathBuf,

    /// The day to plan for (default today).
    #[arg(long, value_name = "YYYY-MM-DD")]
    date: Option<NaiveDate>,

    #[arg(long)]
    json: bool,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum PrintableArg {
    /// Class lists in shooting order with check boxes.
    ClassList,
    /// The make-up list.
    MakeUp,
    /// 信息采集表 for students whose data is in doubt.
    Forms,
}

#[derive(Debug, Args)]
pub struct PrintArgs {
    #[arg(value_name = "DATA")]
    data: PathBuf,

    #[arg(value_enum)]
    what: PrintableArg,

    #[arg(long)]
    school: Option<String>,

    /// The HTML file to write (open it in a browser and print).
    #[arg(long, value_name = "FILE.html")]
    out: PathBuf,
}

fn defects_text(school: &str, defects: &[export::verify::Defect]) -> String {
    let mut text = String::new();
    if defects.is_empty() {
        text.push_str(&say(
            format!("{school}：检查通过\n"),
            format!("{school}: clean\n"),
        ));
    } else {
        let n = defects.len();
        text.push_str(&say(
            format!("{school}：{n} 个问题\n"),
            format!("{school}: {n} defects\n"),
        ));
        for d in defects {
            let _ = writeln!(
                text,
                "  [{}] {}",
                d.code.as_str(),
                roster::id::mask_all(d.message.get(lang()))
            );
        }
    }
    text
}

pub fn verify(a: VerifyArgs) -> Result<ExitCode> {
    let profile = kit::load_profile(&a.profile)?;
    let report = kit::export::verify(&a.data, a.school.as_deref(), &profile)?;
    if a.json {
        crate::emit(&(serde_json::to_string_pretty(&report)? + "\n"))?;
    } else {
        for school in &report {
            crate::emit(&defects_text(&school.school, &school.defects))?;
        }
    }
    Ok(if report.iter().all(|s| s.clean) {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

pub fn pack(a: PackArgs) -> Result<ExitCode> {
    let profile = kit::load_profile(&a.profile)?;
    let options = PackOptions {
        out: a.out.clone().unwrap_or_else(|| a.data.join("submissions")),
        school: a.school.clone(),
        complete_only: a.complete,
        allow_incomplete: a.allow_incomplete,
        names: match a.names {
            NamesArg::Utf8 => Names::Utf8,
            NamesArg::Gbk => Names::Gbk,
        },
    };
    let results = kit::export::pack(&a.data, &options, &profile)?;
    let mut code = ExitCode::SUCCESS;
    for packed in &results {
        if !packed.defects.is_empty() {
            // What is missing, also when packing partial data on purpose.
            eprint!("{}", defects_text(&packed.school, &packed.defects));
        }
        let (Some(zip), Some(sha256)) = (&packed.zip, &packed.sha256) else {
            let school = &packed.school;
            eprintln!(
                "rollcall: {}",
                say(
                    format!(
                        "{school} 未打包：请先解决上述问题，或用 --allow-incomplete 打包部分数据"
                    ),
                    format!(
                        "{school} not packed: fix the defects above, or pack partial data with --allow-incomplete"
                    ),
                )
            );
            code = ExitCode::from(1);
            continue;
        };
        if !a.json {
            let partial = if packed.complete {
                String::new()
            } else {
                say("（部分数据）", " (partial)")
            };
            let (school, zip, files) = (&packed.school, zip.display(), packed.files);
            let sum = sha256.get(..16).unwrap_or(sha256);
            crate::emit(&say(
                format!("{school} → {zip}{partial}：{files} 个文件，sha256 {sum}\n"),
                format!("{school} → {zip}{partial}: {files} files, sha256 {sum}\n"),
            ))?;
        }
    }
    if a.json {
        let written: Vec<_> = results.iter().filter(|p| p.zip.is_some()).collect();
        crate::emit(&(serde_json::to_string_pretty(&written)? + "\n"))?;
    }
    Ok(code)
}

pub fn submit(cmd: SubmitCommand) -> Result<ExitCode> {
    let SubmitCommand::Plan(a) = cmd;
    let today = a.date.unwrap_or_else(|| chrono::Local::now().date_naive());
    let plan = kit::export::plan(&a.data, today)?;
    if a.json {
        crate::emit(&(serde_json::to_string_pretty(&plan)? + "\n"))?;
        return Ok(ExitCode::SUCCESS);
    }
    let mut text = say(
        format!("报送计划（{today}）\n"),
        format!("submission plan ({today})\n"),
    );
    if plan.items.is_empty() {
        text.push_str(&say("近期没有需要报送的数据。\n", "nothing is due soon.\n"));
    }
    for item in &plan.items {
        let covers = item.covers;
        let what = match item.kind {
            export::plan::Kind::Daily => say(
                format!("{covers} 采集的数据"),
                format!("the data collected on {covers}"),
            ),
            export::plan::Kind::Weekly => say(
                format!("{covers} 起一周内完成采集的学校"),
                format!("the schools completed in the week from {covers}"),
            ),
        };
        let when = if item.due < today {
            say("已逾期", "overdue")
        } else if item.due == today {
            say("今天", "today")
        } else {
            say("将到期", "due")
        };
        let due = item.due;
        text.push_str(&say(
            format!("{due} {when}：{what}\n"),
            format!("{due} {when}: {what}\n"),
        ));
        for (school, done) in &item.schools {
            let mark = if *done {
                say("✓ 已打包", "✓ packed")
            } else {
                say("✗ 待打包", "✗ to pack")
            };
            let _ = writeln!(text, "  {mark} {school}");
        }
    }
    for school in &plan.resubmit {
        text.push_str(&say(
            format!("需重新报送：{school}（报送后有改动）\n"),
            format!("submit again: {school} (changed since it was submitted)\n"),
        ));
    }
    crate::emit(&text)?;
    Ok(ExitCode::SUCCESS)
}

pub fn print(a: PrintArgs) -> Result<ExitCode> {
    let schools = kit::export::schools(&a.data, a.school.as_deref())?;
    if schools.len() > 1 {
        let names: Vec<&str> = schools.iter().map(|s| s.name.as_str()).collect();
        bail!(say(
            format!("有多个学校（{}），请用 --school 指定", names.join("、")),
            format!(
                "several schools ({}): name one with --school",
                names.join(", ")
            ),
        ));
    }
    let what = match a.what {
        PrintableArg::ClassList => Printable::ClassList,
        PrintableArg::MakeUp => Printable::MakeUp,
        PrintableArg::Forms => Printable::Forms,
    };
    let html: String = schools
        .iter()
        .map(|school| kit::export::printable(school, what))
        .collect();
    durable::write_atomic(&a.out, html.as_bytes())
        .with_context(|| format!("cannot write {}", a.out.display()))?;
    let out = a.out.display();
    crate::emit(&say(
        format!("已写入 {out}（用浏览器打开并打印）\n"),
        format!("written {out} (open it in a browser and print)\n"),
    ))?;
    Ok(ExitCode::SUCCESS)
}
