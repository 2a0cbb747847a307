//! `rollcall roster …`: checking rosters and reporting what the school must fix.

use std::fmt::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result};
use chrono::NaiveDate;
use clap::{Args, Subcommand};
use roster::{Lang, Problem, Roster, Severity};
use serde_json::json;

#[derive(Debug, Subcommand)]
pub enum RosterCommand {
    /// Check rosters: find the header, read every student, report problems (检查名册).
    ///
    /// Give files or folders; folders are searched for .xlsx .xlsm .xls .ods .csv. Files of one
    /// class each may sit in a folder named after the school. Problems are listed with file,
    /// sheet, row and column, a code and what to do. Exit status: 0 no errors (warnings
    /// allowed), 1 errors found, 2 an input could not be read.
    ///
    /// Example: rollcall roster check 名册/ --problems 问题名单.xlsx
    Check(CheckArgs),
}

#[derive(Debug, Args)]
pub struct CheckArgs {
    /// Roster files or folders.
    #[arg(required = true, value_name = "FILE|DIR")]
    paths: Vec<PathBuf>,

    /// Print one JSON document instead of the report.
    #[arg(long)]
    json: bool,

    /// Write the rows with problems to this .xlsx for the school to fix (问题名单).
    #[arg(long, value_name = "OUT.xlsx")]
    problems: Option<PathBuf>,

    /// Roster date (YYYY-MM-DD) for birth-date and age checks; default today.
    #[arg(long, value_name = "DATE")]
    as_of: Option<NaiveDate>,

    /// Kindergarten children need photos too (by default they need none).
    #[arg(long)]
    kindergarten_photos: bool,
}

pub fn run(cmd: RosterCommand, lang: Lang) -> Result<ExitCode> {
    match cmd {
        RosterCommand::Check(args) => check(args, lang),
    }
}

fn check(args: CheckArgs, lang: Lang) -> Result<ExitCode> {
    let found = kit::inputs::find(&args.paths)?;
    let sources = kit::inputs::read(&found)?;
    let options = roster::Options {
        as_of: args
            .as_of
            .unwrap_or_else(|| chrono::Local::now().date_naive()),
        kindergarten_photos: args.kindergarten_photos,
    };
    tracing::info!(files = sources.len(), as_of = %options.as_of, "checking rosters");
    let roster = roster::load(&sources, &options);

    if let Some(out) = &args.problems {
        match roster::sheet::problems_workbook(&roster, lang)
            .context("writing the problems sheet")?
        {
            Some(bytes) => {
                std::fs::write(out, bytes)
                    .with_context(|| format!("cannot write {}", out.display()))?;
                if !args.json {
                    eprintln!(
                        "{}",
                        say(
                            lang,
                            &format!("问题名单已写入 {}", out.display()),
                            &format!("Problems sheet written to {}", out.display())
                        )
                    );
                }
            }
            None if !args.json => eprintln!(
                "{}",
                say(
                    lang,
                    "没有需要修改的行，未生成问题名单。",
                    "No rows to fix; no problems sheet written."
                )
            ),
            None => {}
        }
    }

    if args.json {
        let mut text = serde_json::to_string_pretty(&to_json(&roster, &options, lang))?;
        text.push('\n');
        crate::emit(&text)?;
    } else {
        crate::emit(&report(&roster, lang))?;
    }
    let code = if roster.unreadable_files().next().is_some() {
        ExitCode::from(2)
    } else if roster.error_count() > 0 {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    };
    // The process ends next: freeing a big roster string by string only costs time.
    std::mem::forget(roster);
    Ok(code)
}

fn say<'a>(lang: Lang, zh: &'a str, en: &'a str) -> &'a str {
    lang.pick(zh, en)
}

fn severity_word(s: Severity, lang: Lang) -> &'static str {
    match (s, lang) {
        (Severity::Error, Lang::Zh) => "错误",
        (Severity::Warning, Lang::Zh) => "警告",
        (Severity::Info, Lang::Zh) => "提示",
        (Severity::Error, Lang::En) => "error",
        (Severity::Warning, Lang::En) => "warning",
        (Severity::Info, Lang::En) => "info",
    }
}

fn problem_json(p: &Problem, lang: Lang) -> serde_json::Value {
    let l = &p.location;
    json!({
        "file": l.file,
        "sheet": l.sheet,
        "row": l.row,
        "column": l.column,
        "header": l.header,
        "code": p.code.as_str(),
        "severity": p.severity(),
        "fixable": p.code.is_fixable(),
        "value": p.value,
        "fixed": p.fixed,
        "message": p.message.get(lang),
        "suggestion": p.suggestion.as_ref().map(|s| s.get(lang)),
    })
}

fn to_json(roster: &Roster, options: &roster::Options, lang: Lang) -> serde_json::Value {
    let schools: Vec<_> = roster
        .schools
        .iter()
        .map(|school| {
            let c = roster.counts(school);
            json!({
                "name": school.name,
                "kind": school.kind,
                "classes": school.classes.iter().map(|class| json!({
                    "name": class.name,
                    "students": class.students.len(),
                    "photos_required": class.photos_required(),
                    "photos_ready": class.photos_ready(),
                })).collect::<Vec<_>>(),
                "students": c.students,
                "photos_required": c.photos_required,
                "photos_ready": c.photos_ready,
                "error_rows": c.errors,
                "warning_rows": c.warnings,
                "corrections": c.corrections,
                "additions": c.additions,
            })
        })
        .collect();
    json!({
        "as_of": options.as_of.to_string(),
        "schools": schools,
        "problems": roster.problems.iter().map(|p| problem_json(p, lang)).collect::<Vec<_>>(),
    })
}

/// The human report: per school a summary, then the problems in file and row order.
pub fn report(roster: &Roster, lang: Lang) -> String {
    let mut out = String::new();
    for school in &roster.schools {
        let c = roster.counts(school);
        let kind = match lang {
            Lang::Zh => school.kind.zh(),
            Lang::En => school.kind.en(),
        };
        let _ = match lang {
            Lang::Zh => writeln!(
                out,
                "{}（{kind}）：{} 个班，{} 名学生，需拍照 {} 人（可命名 {} 人），错误 {} 行，警告 {} 行，更正 {} 行，新增 {} 人",
                school.name,
                c.classes,
                c.students,
                c.photos_required,
                c.photos_ready,
                c.errors,
                c.warnings,
                c.corrections,
                c.additions
            ),
            Lang::En => writeln!(
                out,
                "{} ({kind}): {} classes, {} students, {} photos required ({} ready to name), {} rows with errors, {} with warnings, {} corrections, {} additions",
                school.name,
                c.classes,
                c.students,
                c.photos_required,
                c.photos_ready,
                c.errors,
                c.warnings,
                c.corrections,
                c.additions
            ),
        };
        let classes: Vec<String> = school
            .classes
            .iter()
            .map(|class| match lang {
                Lang::Zh => format!("{} {} 人", class.name, class.students.len()),
                Lang::En => format!("{} {}", class.name, class.students.len()),
            })
            .collect();
        for line in classes.chunks(6) {
            let _ = writeln!(out, "  {}", line.join(" · "));
        }
    }
    if roster.problems.is_empty() {
        let _ = writeln!(
            out,
            "\n{}",
            say(lang, "没有发现问题。", "No problems found.")
        );
        return out;
    }
    let count = |s| roster.problems.iter().filter(|p| p.severity() == s).count();
    let _ = match lang {
        Lang::Zh => writeln!(
            out,
            "\n问题：错误 {} 条，警告 {} 条，提示 {} 条",
            count(Severity::Error),
            count(Severity::Warning),
            count(Severity::Info)
        ),
        Lang::En => writeln!(
            out,
            "\nProblems: {} errors, {} warnings, {} notes",
            count(Severity::Error),
            count(Severity::Warning),
            count(Severity::Info)
        ),
    };
    for p in &roster.problems {
        let l = &p.location;
        let mut place = l.file.clone();
        if let Some(sheet) = &l.sheet {
            place.push_str(" › ");
            place.push_str(sheet);
        }
        if let Some(row) = l.row {
            place.push_str(&match lang {
                Lang::Zh => format!(" › 第 {row} 行"),
                Lang::En => format!(" › row {row}"),
            });
        }
        if let Some(col) = &l.column {
            let header = l.header.as_deref().unwrap_or("");
            place.push_str(&match lang {
                Lang::Zh => format!(" › {col} 列「{header}」"),
                Lang::En => format!(" › column {col} \"{header}\""),
            });
        }
        let _ = writeln!(
            out,
            "{}  {place}  [{}]",
            severity_word(p.severity(), lang),
            p.code.as_str()
        );
        let _ = writeln!(out, "      {}", p.message.get(lang));
        if let Some(v) = &p.value {
            let _ = match &p.fixed {
                Some(f) => writeln!(out, "      {}「{v}」→「{f}」", say(lang, "值", "value")),
                None => writeln!(out, "      {}「{v}」", say(lang, "值", "value")),
            };
        }
        if let Some(s) = &p.suggestion {
            let _ = writeln!(
                out,
                "      {}{}",
                say(lang, "建议：", "What to do: "),
                s.get(lang)
            );
        }
    }
    out
}
