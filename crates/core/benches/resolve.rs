//! Decision cost and snapshot build time (`docs/benchmarks.md`, "Goals" and
//! "Decision cost"): resolve + render with 100 000 numbers loaded, and
//! building the snapshot of 100 000 numbers with 3 ring groups and 5
//! closures each.
//!
//! `cargo bench -p switchboard-core --bench resolve`; the medians are in
//! `target/criterion/*/new/estimates.json`. The decision cost is timed twice:
//! by the wall clock and by the bench thread's CPU time (`…_cpu_time`),
//! which a shared machine's waits for a core do not inflate. Peak memory:
//! the `snapshot_memory` example.

#[path = "support/cpu_time.rs"]
mod cpu_time;
#[path = "support/fleet.rs"]
mod fleet;

use std::hint::black_box;

use chrono::{DateTime, Duration, Utc};
use criterion::measurement::Measurement;
use criterion::{BatchSize, Criterion, criterion_group, criterion_main};
use switchboard_core::resolve::{Explain, VoiceCall, resolve_voice};
use switchboard_core::snapshot::Snapshot;
use switchboard_core::twiml::{RenderContext, render};

const NUMBERS: u64 = 100_000;

fn calls() -> Vec<(String, DateTime<Utc>)> {
    // A spread of numbers and instants over a week: desk hours, lunch,
    // nights, weekends, closures.
    let base = DateTime::parse_from_rfc3339("2026-11-23T00:00:00Z")
        .expect("instant")
        .with_timezone(&Utc);
    (0..4096u64)
        .map(|i| {
            let n = (i * 7919) % NUMBERS;
            let at = base + Duration::minutes(((i * 9973) % (7 * 1440)) as i64);
            (fleet::e164(n), at)
        })
        .collect()
}

fn decision_cost(c: &mut Criterion) {
    resolve_and_render(c, "resolve_and_render_100k_numbers");
}

/// The same calls, timed in this thread's CPU time (a shared machine's
/// waits for a core left out).
fn decision_cost_cpu(c: &mut Criterion<cpu_time::ThreadCpuTime>) {
    resolve_and_render(c, "resolve_and_render_100k_numbers_cpu_time");
}

fn resolve_and_render<M: Measurement + 'static>(c: &mut Criterion<M>, name: &str) {
    // Built on another thread, as the store's loader does, so that its
    // garbage stays in that thread's allocator arena.
    let snapshot = std::thread::spawn(|| Snapshot::build(fleet::fleet(1_000, 100), 1))
        .join()
        .expect("build thread");
    assert_eq!(snapshot.number_count(), NUMBERS as usize);
    assert!(
        snapshot.warnings().is_empty(),
        "{:?}",
        &snapshot.warnings()[..1]
    );
    let calls = calls();
    let ctx = RenderContext {
        public_base_url: "https://switchboard.example.com",
    };
    let mut i = 0usize;
    c.bench_function(name, |b| {
        b.iter(|| {
            let (to, at) = &calls[i % calls.len()];
            i += 1;
            let call = VoiceCall {
                to,
                from: "+14155559999",
                call_sid: "CA0123456789abcdef0123456789abcdef",
            };
            let decision = resolve_voice(black_box(&snapshot), &call, *at, Explain::Quiet);
            black_box(render(&decision, &ctx))
        })
    });
}

fn snapshot_build(c: &mut Criterion) {
    let mut group = c.benchmark_group("snapshot");
    group.sample_size(10);
    let input = fleet::fleet(1_000, 100);
    group.bench_function("build_100k_numbers_3_ring_groups_5_closures", |b| {
        b.iter_batched(
            || input.clone(),
            |input| black_box(Snapshot::build(input, 1)),
            BatchSize::PerIteration,
        )
    });
    group.finish();
}

criterion_group!(benches, decision_cost, snapshot_build);
criterion_group! {
    name = cpu;
    config = Criterion::default().with_measurement(cpu_time::ThreadCpuTime);
    targets = decision_cost_cpu
}
criterion_main!(benches, cpu);
