//! Rough split of the decision cost: lookup + local time, resolve, render.
//! `cargo run --release -p switchboard-core --example profile_decision`

#[path = "../benches/support/fleet.rs"]
mod fleet;

use std::hint::black_box;
use std::time::Instant;

use chrono::{DateTime, Duration, TimeZone, Utc};
use switchboard_core::resolve::{Explain, VoiceCall, resolve_voice};
use switchboard_core::snapshot::Snapshot;
use switchboard_core::twiml::{RenderContext, render};

fn main() {
    // Built on another thread, as the store's loader does: its garbage stays
    // in that thread's malloc arena, away from the request path.
    let snapshot = std::thread::spawn(|| {
        Snapshot::build(
            fleet::fleet(
                std::env::var("CLINICS")
                    .ok()
                    .and_then(|c| c.parse().ok())
                    .unwrap_or(1_000),
                100,
            ),
            1,
        )
    })
    .join()
    .expect("build thread");
    let base = DateTime::parse_from_rfc3339("2026-11-23T00:00:00Z")
        .expect("instant")
        .with_timezone(&Utc);
    let calls: Vec<(String, DateTime<Utc>)> = (0..4096u64)
        .map(|i| {
            let n = (i * 7919)
                % (100
                    * std::env::var("CLINICS")
                        .ok()
                        .and_then(|c| c.parse::<u64>().ok())
                        .unwrap_or(1_000));
            (
                fleet::e164(n),
                base + Duration::minutes(((i * 9973) % (7 * 1440)) as i64),
            )
        })
        .collect();
    let ctx = RenderContext {
        public_base_url: "https://switchboard.example.com",
    };
    let rounds = 1_000_000usize;
    // Wall time, and this thread's CPU time (from /proc, in clock ticks):
    // on a shared machine the CPU time is the steadier figure.
    let time = |name: &str, f: &mut dyn FnMut(usize)| {
        let cpu_before = thread_cpu_ticks();
        let started = Instant::now();
        for i in 0..rounds {
            f(i);
        }
        let wall = started.elapsed().as_nanos() as f64 / rounds as f64;
        let cpu = (thread_cpu_ticks() - cpu_before) as f64 * 10_000_000.0 / rounds as f64;
        println!("{name:<28} {wall:>8.0} ns wall {cpu:>8.0} ns cpu");
    };
    if std::env::var("ONLY_RESOLVE").is_ok() {
        for _ in 0..10 {
            time("resolve", &mut |i| {
                let (to, at) = &calls[i % calls.len()];
                black_box(resolve_voice(
                    &snapshot,
                    &VoiceCall {
                        to,
                        from: "+14155559999",
                        call_sid: "CA1",
                    },
                    *at,
                    Explain::Quiet,
                ));
            });
        }
        return;
    }
    time("lookup", &mut |i| {
        black_box(snapshot.number_by_e164(&calls[i % calls.len()].0));
    });
    time("lookup + tz", &mut |i| {
        let (to, at) = &calls[i % calls.len()];
        let n = snapshot.number_by_e164(to).expect("number");
        black_box(n.timezone().from_utc_datetime(&at.naive_utc()));
    });
    time("lookup + tz + rfc3339", &mut |i| {
        let (to, at) = &calls[i % calls.len()];
        let n = snapshot.number_by_e164(to).expect("number");
        black_box(n.timezone().from_utc_datetime(&at.naive_utc()).to_rfc3339());
    });
    let decisions: Vec<_> = calls
        .iter()
        .map(|(to, at)| {
            resolve_voice(
                &snapshot,
                &VoiceCall {
                    to,
                    from: "+14155559999",
                    call_sid: "CA1",
                },
                *at,
                Explain::Quiet,
            )
        })
        .collect();
    time("resolve", &mut |i| {
        let (to, at) = &calls[i % calls.len()];
        black_box(resolve_voice(
            &snapshot,
            &VoiceCall {
                to,
                from: "+14155559999",
                call_sid: "CA1",
            },
            *at,
            Explain::Quiet,
        ));
    });
    time("render", &mut |i| {
        black_box(render(&decisions[i % decisions.len()], &ctx));
    });
}

/// User + system time of this thread in clock ticks (10 ms).
fn thread_cpu_ticks() -> u64 {
    let stat = std::fs::read_to_string("/proc/thread-self/stat").unwrap_or_default();
    let after_name = stat.rsplit_once(')').map_or("", |(_, rest)| rest);
    let fields: Vec<&str> = after_name.split_whitespace().collect();
    let field = |i: usize| {
        fields
            .get(i)
            .and_then(|f| f.parse::<u64>().ok())
            .unwrap_or(0)
    };
    // utime and stime are fields 14 and 15 of stat, 12 and 13 after the name.
    field(11) + field(12)
}
