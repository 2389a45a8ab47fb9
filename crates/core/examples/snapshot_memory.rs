//! Snapshot build time and peak resident memory for 100 000 numbers with
//! 3 ring groups and 5 closures each (`docs/benchmarks.md`, "Goals").
//!
//! `cargo run --release -p switchboard-core --example snapshot_memory`
//! prints the build time and `VmHWM` (peak RSS of the whole process, input
//! included) from `/proc/self/status`.

#[path = "../benches/support/fleet.rs"]
mod fleet;

use std::time::Instant;

use switchboard_core::snapshot::{Snapshot, SnapshotBuilder};

fn status_kib(key: &str) -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    status
        .lines()
        .find(|line| line.starts_with(key))?
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()
}

fn mib(kib: Option<u64>) -> String {
    kib.map_or_else(
        || "n/a".to_owned(),
        |k| format!("{:.1} MiB", k as f64 / 1024.0),
    )
}

fn main() {
    if std::env::args().any(|a| a == "--streamed") {
        return streamed();
    }
    println!("baseline rss            {}", mib(status_kib("VmRSS:")));
    let started = Instant::now();
    let input = fleet::fleet(1_000, 100);
    println!("input generated in      {:?}", started.elapsed());
    println!("rss with input          {}", mib(status_kib("VmRSS:")));
    let started = Instant::now();
    let snapshot = Snapshot::build(input, 1);
    let built = started.elapsed();
    println!("numbers                 {}", snapshot.number_count());
    println!("warnings                {}", snapshot.warnings().len());
    println!("snapshot built in       {built:?}");
    println!("rss after build         {}", mib(status_kib("VmRSS:")));
    println!("peak rss (VmHWM)        {}", mib(status_kib("VmHWM:")));
    std::hint::black_box(&snapshot);
}

/// As a loader streaming rows would: one clinic's input at a time.
fn streamed() {
    println!("baseline rss            {}", mib(status_kib("VmRSS:")));
    let started = Instant::now();
    let mut builder = SnapshotBuilder::with_capacity(1, 1_000, 100_000);
    let mut generating = std::time::Duration::ZERO;
    for clinic in 0..1_000 {
        let generated = Instant::now();
        let mut input = fleet::fleet_slice(clinic, 1, 100);
        generating += generated.elapsed();
        builder.add_clinic(&input.clinics.remove(0));
    }
    let snapshot = builder.finish();
    let built = started.elapsed() - generating;
    println!("numbers                 {}", snapshot.number_count());
    println!("warnings                {}", snapshot.warnings().len());
    println!("snapshot built in       {built:?} (input generation excluded)");
    println!("rss after build         {}", mib(status_kib("VmRSS:")));
    println!("peak rss (VmHWM)        {}", mib(status_kib("VmHWM:")));
    std::hint::black_box(&snapshot);
}
