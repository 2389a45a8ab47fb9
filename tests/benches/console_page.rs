//! The Phone Numbers page with 200 numbers, timed on the real server:
//! `cargo bench -p switchboard-tests --bench console_page`.
//!
//! A clinic of `CONSOLE_NUMBERS` (200) numbers, each with two assistants and
//! a ring group, on a fresh test database; a signed-in admin fetches the page
//! `CONSOLE_REQUESTS` (1 000) times, one request at a time, after a warm-up.
//! `GET /healthz` on the same listener, timed the same way in the same run,
//! is the baseline: the page's own cost is the difference. Prints p50, p99
//! and max of both and the page's size; the goal (p99 ≤ 10 ms on the
//! server) is printed, not enforced.

use std::time::{Duration, Instant};

use serde_json::json;
use switchboard_tests::console::{Session, spawn_console};

fn setting(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

async fn time(session: &mut Session, path: &str, n: usize) -> (Vec<Duration>, usize) {
    let mut times = Vec::with_capacity(n);
    let mut size = 0;
    for _ in 0..n {
        let start = Instant::now();
        let page = session.get(path).await;
        times.push(start.elapsed());
        assert_eq!(page.status, 200, "{path}: {}", page.body);
        size = page.body.len();
    }
    times.sort();
    (times, size)
}

fn ms(d: Duration) -> String {
    format!("{:.2} ms", d.as_secs_f64() * 1000.0)
}

fn main() {
    let numbers = setting("CONSOLE_NUMBERS", 200);
    let requests = setting("CONSOLE_REQUESTS", 1000);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("a runtime");
    runtime.block_on(async {
        let app = spawn_console().await;
        // The fixture's three numbers, and the rest bought (the fake Twilio
        // sells NPA-555-0100 to 0199 in each area code) and routed alike.
        let for_sale = ["415", "628", "650", "707"]
            .iter()
            .flat_map(|npa| (100..200).map(move |line| format!("+1{npa}555{line:04}")))
            .skip(3);
        for (i, e164) in (3..numbers).zip(for_sale) {
            let id = app.api.buy(&app.clinic, &e164).await;
            app.api
                .put_routing(
                    &app.clinic,
                    &id,
                    json!({
                        "assistants": [
                            {"assistant_id": app.lunch_ai, "schedule": [{"days": ["mon","tue","wed","thu","fri"], "start": "12:00", "end": "13:00"}]},
                            {"assistant_id": app.night_ai}
                        ],
                        "ring_groups": [{"name": format!("Desk {i}"), "strategy": "sequential", "ring_seconds": 20,
                            "members": [{"target": "+14155557001"}, {"target": "+14155557002"}],
                            "schedule": [{"days": ["mon","tue","wed","thu","fri"], "start": "08:00", "end": "18:00"}]}]
                    }),
                )
                .await
                .expect(200);
        }
        let mut session = app
            .http_session(&switchboard_tests::console::email("admin"))
            .await;
        let page = app.page("numbers");
        time(&mut session, &page, requests / 10).await;
        time(&mut session, "/healthz", requests / 10).await;
        let (base, _) = time(&mut session, "/healthz", requests).await;
        let (times, size) = time(&mut session, &page, requests).await;
        let cards = session.get(&page).await.body.matches("class=\"card\"").count();
        println!("Phone Numbers page, {cards} cards, {size} bytes of HTML, {requests} requests one at a time");
        for (name, t) in [("GET /healthz (baseline)", &base), ("GET …/numbers", &times)] {
            println!(
                "  {name:<24} p50 {}  p99 {}  max {}",
                ms(percentile(t, 0.5)),
                ms(percentile(t, 0.99)),
                ms(*t.last().expect("times"))
            );
        }
        let own = percentile(&times, 0.99).saturating_sub(percentile(&base, 0.5));
        println!(
            "  the page's own p99 (page p99 - baseline p50): {}; goal <= 10 ms: {}",
            ms(own),
            if own <= Duration::from_millis(10) { "met" } else { "NOT met" }
        );
        app.api.stop().await;
    });
}
