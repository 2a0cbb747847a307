//! Each stage of the pipeline and the whole frame (`cargo bench -p pipeline`), on a 24 MP
//! frame of the development fixtures when `../shared/fixtures` is beside the checkout, else on
//! a shipped 6 MP public-domain frame. Compare `decode` with `whole`: the target is
//! whole ≤ 1.4 × decode.
#![allow(clippy::expect_used)] // A benchmark with bad set-up data should stop loudly.

use criterion::{Criterion, criterion_group, criterion_main};
use pipeline::{Profile, crop, decode, detect, encode, measure};

fn frame_bytes() -> (String, Vec<u8>) {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let dev = root.join("../../../shared/fixtures/frames/IMG_7014.JPG");
    let path = if dev.exists() {
        dev
    } else {
        root.join("tests/data/pd/frames/IMG_1014.JPG")
    };
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    (name, std::fs::read(&path).expect("benchmark frame"))
}

fn stages(c: &mut Criterion) {
    let (name, bytes) = frame_bytes();
    let profile = Profile::standard();
    detect::warm_up().expect("models");
    let d = decode::decode(&bytes).expect("decode");
    let frame = &d.frame;
    let faces = detect::faces(frame).expect("faces");
    let mesh = detect::mesh(frame, &faces[0]).expect("mesh");
    let m = measure::measure(frame, &mesh);
    let placement = crop::solve(&m, frame, &profile).expect("crop");
    let img = crop::render(frame, &m, &placement, &profile);

    let mut g = c.benchmark_group(format!("pipeline/{name}"));
    g.sample_size(10);
    g.bench_function("decode", |b| {
        b.iter(|| decode::decode(&bytes).expect("decode"))
    });
    g.bench_function("detect_faces", |b| {
        b.iter(|| detect::faces(frame).expect("faces"))
    });
    g.bench_function("mesh_iris_measure", |b| {
        b.iter(|| {
            let mesh = detect::mesh(frame, &faces[0]).expect("mesh");
            measure::measure(frame, &mesh)
        })
    });
    g.bench_function("identity", |b| {
        b.iter(|| pipeline::identity::embed(frame, &m).expect("descriptor"))
    });
    g.bench_function("crop_render", |b| {
        b.iter(|| crop::render(frame, &m, &placement, &profile))
    });
    g.bench_function("checks", |b| {
        b.iter(|| pipeline::checks::run(&img, &m, &placement, &profile))
    });
    g.bench_function("encode", |b| {
        b.iter(|| encode::encode(&img, &profile).expect("encode"))
    });
    g.bench_function("whole", |b| {
        b.iter(|| pipeline::process(&bytes, &profile).expect("process"))
    });
    g.finish();
}

/// The slowest inputs: a frame with no face (the detector's second pass over up to 8×8 squares
/// runs only then) and a strip of pixels (refused before the detector). Their times are the
/// per-frame budget's worst case (docs/benchmarks.md).
fn worst_cases(c: &mut Criterion) {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let wall = std::fs::read(root.join("tests/data/pd/frames/IMG_1056.JPG")).expect("wall");
    let strip = std::fs::read(root.join("tests/data/corpora/jpeg-decoder/grayscale_large.jpg"))
        .expect("strip");
    let profile = Profile::standard();
    detect::warm_up().expect("models");
    let mut g = c.benchmark_group("pipeline/worst");
    g.sample_size(10);
    g.bench_function("empty_wall_second_pass", |b| {
        b.iter(|| pipeline::process(&wall, &profile).expect("process"))
    });
    g.bench_function("strip_1000x1_refused", |b| {
        b.iter(|| pipeline::process(&strip, &profile).is_err())
    });
    g.finish();
}

criterion_group!(benches, stages, worst_cases);
criterion_main!(benches);
