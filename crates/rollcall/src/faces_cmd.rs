//! `rollcall faces`: compare two pictures' faces, and list a session's students whose photos
//! show the same face. The descriptors themselves are never printed.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::{Args, Subcommand};
use pipeline::identity::{Embedding, SAME_PERSON};
use serde::Serialize;

use crate::say;

#[derive(Debug, Subcommand)]
pub enum FacesCommand {
    /// Are two pictures (camera frames or finished photos) the same person? (人脸比对)
    ///
    /// Prints the similarity of the two faces (cosine, −1 to 1), the threshold and the answer.
    /// Exit status: 0 either way, 2 when a file cannot be read or shows no usable face.
    ///
    /// Example: rollcall faces compare IMG_0001.JPG IMG_0002.JPG --json
    Compare(CompareArgs),

    /// Every pair of students of a class whose chosen photos show the same face, confirmed
    /// pairs (twins) listed apart (同脸检查). `rollcall verify` refuses the unconfirmed ones.
    ///
    /// Exit status: 0 when no pair is left unconfirmed, 1 otherwise.
    ///
    /// Example: rollcall faces check ~/rollcall --school 梧州市示例小学
    Check(CheckArgs),
}

#[derive(Debug, Args)]
pub struct CompareArgs {
    #[arg(value_name = "A")]
    a: PathBuf,
    #[arg(value_name = "B")]
    b: PathBuf,
    /// Print JSON instead of text.
    #[arg(long)]
    json: bool,
}

#[derive(Debug, Args)]
pub struct CheckArgs {
    /// The data folder.
    #[arg(value_name = "DATA")]
    data: PathBuf,
    /// One school (default: every school in the data folder).
    #[arg(long)]
    school: Option<String>,
    /// Print JSON instead of text.
    #[arg(long)]
    json: bool,
}

pub fn run(cmd: FacesCommand) -> Result<ExitCode> {
    match cmd {
        FacesCommand::Compare(a) => compare(a),
        FacesCommand::Check(a) => check(a),
    }
}

#[derive(Serialize)]
struct Comparison {
    similarity: f32,
    threshold: f32,
    same_person: bool,
}

fn face_of(path: &PathBuf) -> Result<Option<Embedding>> {
    let bytes = std::fs::read(path).with_context(|| {
        say(
            format!("无法读取 {}", path.display()),
            format!("cannot read {}", path.display()),
        )
    })?;
    match pipeline::identity::embed_bytes(&bytes) {
        Ok(face) => Ok(face),
        Err(e) => {
            eprintln!(
                "rollcall: {}: {}",
                path.display(),
                say(e.zh(), e.to_string())
            );
            Ok(None)
        }
    }
}

fn compare(args: CompareArgs) -> Result<ExitCode> {
    let mut faces = Vec::new();
    for path in [&args.a, &args.b] {
        match face_of(path)? {
            Some(f) => faces.push(f),
            None => {
                eprintln!(
                    "rollcall: {}",
                    say(
                        format!("{}：没有找到可用的人脸", path.display()),
                        format!("{}: no usable face", path.display())
                    )
                );
                return Ok(ExitCode::from(2));
            }
        }
    }
    let similarity = faces[0].similarity(&faces[1]);
    let c = Comparison {
        similarity,
        threshold: SAME_PERSON,
        same_person: similarity >= SAME_PERSON,
    };
    let text = if args.json {
        serde_json::to_string_pretty(&c)? + "\n"
    } else {
        say(
            format!(
                "相似度 {:.3}（阈值 {:.3}）：{}\n",
                c.similarity,
                c.threshold,
                if c.same_person {
                    "是同一个人"
                } else {
                    "不是同一个人"
                }
            ),
            format!(
                "similarity {:.3} (threshold {:.3}): {}\n",
                c.similarity,
                c.threshold,
                if c.same_person {
                    "the same person"
                } else {
                    "different people"
                }
            ),
        )
    };
    crate::emit(&text)?;
    Ok(ExitCode::SUCCESS)
}

#[derive(Serialize)]
struct SchoolFaces {
    school: String,
    /// Frames processed before rollcall computed descriptors (not compared).
    without_descriptor: usize,
    pairs: Vec<session::FacePair>,
    confirmed: Vec<session::FacePair>,
}

fn check(args: CheckArgs) -> Result<ExitCode> {
    let layout = session::Layout::new(&args.data);
    let schools = match &args.school {
        Some(s) => vec![s.clone()],
        None => layout
            .schools()
            .with_context(|| say("无法列出学校", "cannot list the schools"))?,
    };
    if schools.is_empty() {
        let data = args.data.display();
        anyhow::bail!(say(
            format!("{data} 里没有拍摄会话（rollcall session start 开始一个）"),
            format!("no session in {data} (rollcall session start begins one)")
        ));
    }
    let mut out = Vec::new();
    for school in schools {
        let state =
            session::journal::Journal::read(&layout.journal(&school)).with_context(|| {
                say(
                    format!("无法读取 {school} 的日志"),
                    format!("cannot read the journal of {school}"),
                )
            })?;
        let (confirmed, pairs) = state.same_faces().into_iter().partition(|p| p.confirmed);
        out.push(SchoolFaces {
            school,
            without_descriptor: state
                .frames
                .iter()
                .filter(|f| f.face.is_none() && f.outcome.as_ref().is_some_and(|o| o.photo))
                .count(),
            pairs,
            confirmed,
        });
    }
    let open = out.iter().map(|s| s.pairs.len()).sum::<usize>();
    let text = if args.json {
        serde_json::to_string_pretty(&out)? + "\n"
    } else {
        let mut t = String::new();
        for s in &out {
            t.push_str(&say(
                format!(
                    "{}：{} 对像是同一个人，{} 对已确认是两个人\n",
                    s.school,
                    s.pairs.len(),
                    s.confirmed.len()
                ),
                format!(
                    "{}: {} pairs look like one person, {} confirmed as two people\n",
                    s.school,
                    s.pairs.len(),
                    s.confirmed.len()
                ),
            ));
            for (p, done) in s
                .pairs
                .iter()
                .map(|p| (p, false))
                .chain(s.confirmed.iter().map(|p| (p, true)))
            {
                let (c, sim) = (&p.a.class, p.similarity);
                let (ar, an, af) = (p.a.row, &p.a.name, p.a_frame);
                let (br, bn, bf) = (p.b.row, &p.b.name, p.b_frame);
                t.push_str(&say(
                    format!(
                        "  {c} 第{ar}行 {an}（第 {af} 张） ↔ 第{br}行 {bn}（第 {bf} 张）  相似度 {sim:.3}{}\n",
                        if done { "  已确认是两个人" } else { "" }
                    ),
                    format!(
                        "  {c} row {ar} {an} (frame {af}) ↔ row {br} {bn} (frame {bf})  similarity {sim:.3}{}\n",
                        if done { "  confirmed: two people" } else { "" }
                    ),
                ));
            }
            if s.without_descriptor > 0 {
                t.push_str(&say(
                    format!("  （{} 张照片是旧版本处理的，没有人脸特征，未比对）\n", s.without_descriptor),
                    format!("  ({} photos were processed by an older version and have no descriptor: not compared)\n", s.without_descriptor),
                ));
            }
        }
        t
    };
    crate::emit(&text)?;
    Ok(if open == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}
