//! Writes a synthetic school roster: `cargo run -p roster --example make_roster -- OUT.xlsx
//! [ROWS] [SCHOOL] [PROBLEM_EVERY]`. Used by `scripts/bench-vs-openpyxl` and to make the demo
//! roster (`demo/rosters/`).

#[path = "../benches/support/synth.rs"]
mod synth;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let out = args
        .next()
        .ok_or("usage: make_roster OUT.xlsx [ROWS] [SCHOOL] [PROBLEM_EVERY]")?;
    let rows: usize = args.next().as_deref().unwrap_or("10000").parse()?;
    let school = args.next().unwrap_or_else(|| "梧州市示例小学".to_string());
    let every: usize = args.next().as_deref().unwrap_or("97").parse()?;
    std::fs::write(
        &out,
        synth::school_xlsx(&school, rows, 20261128, Some(every))?,
    )?;
    Ok(())
}
