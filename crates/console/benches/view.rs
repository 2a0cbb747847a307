//! What one open console costs per update (`cargo bench -p console`): the size of the view
//! pushed on every change and of the school's make-up list, and the time to build the view, for
//! a 2,000-student school (40 classes of 50) half photographed with 200 absent. The sizes are
//! printed once; the view must stay bounded by the class, not the school.
#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)] // Bad set-up data should stop loudly.

use criterion::{Criterion, criterion_group, criterion_main};
use session::State;
use session::event::{Event, Line, Outcome, OutcomeVerdict, StudentRecord, VERSION};

const CLASSES: u32 = 40;
const CLASS_SIZE: u32 = 50;

use testkit::name;

/// A school half photographed: every other class done (one in ten absent), the class in
/// front of the camera half done.
fn school() -> State {
    let mut state = State::default();
    let push = |state: &mut State, event: Event| {
        let line = Line {
            v: VERSION,
            seq: state.seq + 1,
            at: "2026-11-30T08:00:00.000Z".into(),
            event,
        };
        if let Err(refusal) = state.apply(&line) {
            panic!("line {} refused: {refusal}", line.seq);
        }
    };
    push(
        &mut state,
        Event::Opened {
            school: "梧州市示例小学".into(),
            separator: "-".into(),
        },
    );
    let students = (0..CLASSES * CLASS_SIZE)
        .map(|i| StudentRecord {
            key: testkit::id(i),
            class: format!("{}班", i / CLASS_SIZE + 1),
            row: i % CLASS_SIZE + 2,
            id_number: Some(testkit::id(i)),
            id_text: testkit::id(i),
            name: name(i),
            photo_required: true,
            walk_in: false,
        })
        .collect();
    push(
        &mut state,
        Event::RosterLoaded {
            sources: vec!["名册.xlsx".into()],
            students,
        },
    );
    let mut frame = 0u64;
    for class in 0..CLASSES {
        if class % 2 == 1 && class != CLASSES - 1 {
            continue;
        }
        push(
            &mut state,
            Event::ClassChosen {
                class: format!("{}班", class + 1),
            },
        );
        let last = if class == CLASSES - 1 {
            CLASS_SIZE / 2
        } else {
            CLASS_SIZE
        };
        for i in 0..last {
            let student = state.cursor.map(|s| state.students[s].rec.key.clone());
            if i % 10 == 3 {
                push(
                    &mut state,
                    Event::Skipped {
                        student: student.expect("a student is next"),
                    },
                );
                continue;
            }
            frame += 1;
            push(
                &mut state,
                Event::FrameArrived {
                    frame,
                    hash: format!("{:064x}", frame * 7919),
                    ext: "jpg".into(),
                    size: 6_000_000,
                    source: format!("{frame:06}.jpg"),
                    student,
                },
            );
            push(
                &mut state,
                Event::Processed {
                    face: None,
                    frame,
                    outcome: Outcome {
                        verdict: OutcomeVerdict::Pass,
                        reasons: vec![],
                        photo: true,
                        quality: Some(70),
                        failed: vec![],
                    },
                },
            );
        }
    }
    state
}

fn view(c: &mut Criterion) {
    let state = school();
    let health = session::engine::Health::default();
    let make_up = console::view::make_up(&state);
    let view = console::view::build(&state, health.clone(), 4, &make_up);
    let view_bytes = serde_json::to_vec(&view).expect("json").len();
    let make_up_bytes = serde_json::to_vec(&make_up).expect("json").len();
    println!(
        "a school of {} students, {} in the class being photographed: the view {view_bytes} bytes per update, the make-up list ({} students) {make_up_bytes} bytes when it changes",
        CLASSES * CLASS_SIZE,
        CLASS_SIZE,
        make_up.make_up.len()
    );
    assert!(
        view_bytes < 16 * 1024,
        "the view grew with the school: {view_bytes} bytes"
    );
    let mut group = c.benchmark_group("console");
    group.sample_size(20);
    group.bench_function("view_2000_students", |b| {
        b.iter(|| {
            let make_up = console::view::make_up(&state);
            console::view::build(&state, health.clone(), 4, &make_up)
        })
    });
    group.finish();
}

criterion_group!(benches, view);
criterion_main!(benches);
