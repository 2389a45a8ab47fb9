//! What a webhook's call event costs on the request side: `record` and
//! (since events are journalled before the answer) the wait for its group's
//! `write`, in rounds of `concurrency` webhooks on one thread, as one
//! actix-web worker serves them. Meant for callgrind's instruction counts
//! (user space only: the system calls themselves are not counted):
//!
//! ```sh
//! cargo build --release -p switchboard-store --example event_cost
//! valgrind --tool=callgrind target/release/examples/event_cost 0 32
//! valgrind --tool=callgrind target/release/examples/event_cost 20000 32
//! ```
//!
//! (the difference of the two totals over 20 000 is the cost per event).
//! No database is reached: the writer lingers past the run, so the
//! database side (off the request path) is left out.

use std::time::{Duration, Instant};

use chrono::Utc;
use switchboard_store::events::{CallEvent, EventDetail, EventWriter, EventWriterOptions};
use switchboard_store::{DbConfig, connect_pool};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let events: usize = args.next().map_or(Ok(20_000), |a| a.parse())?;
    let concurrency: usize = args.next().map_or(Ok(32), |a| a.parse())?;
    let dir = std::env::temp_dir().join(format!("switchboard-event-cost-{}", std::process::id()));
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async {
        let pool = connect_pool(&DbConfig {
            url: "host=127.0.0.1 port=1 user=nobody dbname=nothing".into(),
            pool_size: 1,
            connect_timeout: Duration::from_secs(1),
        })?;
        let mut opts = EventWriterOptions::new(&dir);
        opts.linger = Duration::from_secs(3600);
        opts.retry_interval = Duration::from_secs(3600);
        let (sink, _writer) = EventWriter::start(pool, opts)?;
        let sids: Vec<String> = (0..events).map(|n| format!("CA{n:032x}")).collect();
        let at = Utc::now();
        let started = Instant::now();
        for round in sids.chunks(concurrency.max(1)) {
            futures_util::future::join_all(round.iter().map(|sid| {
                sink.record(CallEvent {
                    call_sid: sid.as_str().into(),
                    at,
                    detail: EventDetail::Voice {
                        clinic_id: Some("00000000-0000-4000-8000-00000000c001".into()),
                        number_id: Some("00000000-0000-4000-8000-000000000101".into()),
                        location_id: None,
                        from: "+14155559999".into(),
                        to: "+14155550100".into(),
                        outcome_kind: "ring_group".into(),
                        outcome_id: Some("00000000-0000-4000-8000-000000000301".into()),
                        outcome_name: Some("Front desk".into()),
                        caller_name: None,
                    },
                })
            }))
            .await;
        }
        let elapsed = started.elapsed();
        let stats = sink.stats();
        let load = |n: &std::sync::atomic::AtomicU64| n.load(std::sync::atomic::Ordering::Relaxed);
        println!(
            "{events} events in {:.1} ms ({:.0} ns each), {} group writes",
            elapsed.as_secs_f64() * 1e3,
            elapsed.as_nanos() as f64 / events.max(1) as f64,
            load(&stats.journal_writes),
        );
        Ok::<(), Box<dyn std::error::Error>>(())
    })?;
    let _ = std::fs::remove_dir_all(&dir);
    // The writer would try the database at its shutdown: not part of this.
    std::process::exit(0)
}
