#![allow(clippy::expect_used)] // A benchmark with bad set-up data should stop loudly.

//! Import + validation of a 10,000-row roster (`cargo bench -p roster`). The workbook is made
//! in memory by `support/synth.rs`; `scripts/bench-vs-openpyxl` writes the same file to compare
//! against Python's openpyxl.

use chrono::NaiveDate;
use criterion::{Criterion, Throughput, criterion_group, criterion_main};

#[path = "support/synth.rs"]
mod synth;

// The allocator the `rollcall` binary uses, so the numbers match what a user sees.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn import(c: &mut Criterion) {
    let bytes =
        synth::school_xlsx("梧州市示例小学", 10_000, 20261128, Some(97)).expect("synthetic roster");
    let options = roster::Options {
        as_of: NaiveDate::from_ymd_opt(2026, 9, 1).expect("date"),
        kindergarten_photos: false,
    };
    let source = roster::Source {
        path: "roster-10000.xlsx".into(),
        folder: None,
        bytes,
    };
    let sources = [source];
    let mut group = c.benchmark_group("roster");
    group.throughput(Throughput::Elements(10_000));
    group.sample_size(20);
    group.bench_function("load_and_check_10000_rows_xlsx", |b| {
        b.iter(|| {
            let roster = roster::load(&sources, &options);
            assert_eq!(roster.students().count(), 10_000);
            roster
        })
    });
    group.bench_function("read_only_10000_rows_xlsx", |b| {
        b.iter(|| roster::read::read(&sources[0].bytes, "xlsx").map(|w| w.tables.len()))
    });
    group.finish();
    c.bench_function("id_check", |b| {
        b.iter(|| roster::id::check("45048120080327062X", options.as_of, None))
    });
}

criterion_group!(benches, import);
criterion_main!(benches);
