//! What each stage of a voice webhook costs, one stage at a time, on the
//! bodies Twilio posts (`fixtures/requests/voice-inbound.form`, each for
//! another of 10 000 numbers) against a snapshot of the size `bench/run`
//! routes: parse, signature, lookup, resolve, render, event (figures in
//! `docs/benchmarks.md`, "Stages of a voice webhook"). Reading the body and
//! writing the answer are actix-web's, the same for the floor of
//! `bench/run`: its ratio tells what they cost.
//!
//! `cargo bench -p switchboard-webhook --bench stages` prints each stage's
//! median CPU time per request (this thread's, so a shared machine's waits
//! for a core are left out). Each stage is a function of its own that is
//! never inlined, so that callgrind counts its instructions exactly:
//!
//! ```text
//! STAGES_ROUNDS=1 valgrind --tool=callgrind --callgrind-out-file=stages.out \
//!   target/release/deps/stages-<hash> --bench
//! callgrind_annotate --inclusive=yes stages.out | grep stage_
//! ```
//!
//! (divide by the request count it prints).

#[path = "../../core/benches/support/fleet.rs"]
mod fleet;

use std::borrow::Cow;
use std::hint::black_box;

use chrono::{DateTime, Duration, Utc};
use switchboard_core::resolve::{Decision, Explain, OutcomeKind, VoiceCall, resolve_voice};
use switchboard_core::snapshot::{NumberEntry, Snapshot};
use switchboard_core::twiml::{RenderContext, render};
use switchboard_store::events::{CallEvent, EventDetail};
use switchboard_twilio::{SigningKey, sign_form};
use switchboard_webhook::params::Params;

const URL: &str = "https://switchboard.example.com/twilio/voice";
const BASE: &str = "https://switchboard.example.com";
const TOKEN: &[u8] = b"0123456789abcdef0123456789abcdef";
const CLINICS: u64 = 1_000;
const PER_CLINIC: u64 = 10;
const REQUESTS: usize = 4096;

/// One request: its body, signature, the number called and when.
struct Request {
    body: Vec<u8>,
    signature: String,
    at: DateTime<Utc>,
}

fn requests() -> Vec<Request> {
    let template = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../fixtures/requests/voice-inbound.form"
    ))
    .expect("the recorded voice webhook");
    let base = DateTime::parse_from_rfc3339("2026-11-23T00:00:00Z")
        .expect("instant")
        .with_timezone(&Utc);
    (0..REQUESTS as u64)
        .map(|i| {
            let n = (i * 7919) % (CLINICS * PER_CLINIC);
            let to = fleet::e164(n).replace('+', "%2B");
            let body = template
                .trim_end()
                .replace("%2B14155550100", &to)
                .replace("CA5f0e7c1b2a3d4e5f60718293a4b5c6d7", &format!("CA{i:032x}"));
            let pairs: Vec<(String, String)> =
                serde_urlencoded::from_str(&body).expect("a form body");
            Request {
                signature: sign_form(URL, &pairs, TOKEN),
                body: body.into_bytes(),
                at: base + Duration::minutes(((i * 9973) % (7 * 1440)) as i64),
            }
        })
        .collect()
}

#[inline(never)]
fn stage_parse(body: &[u8]) -> Params {
    Params::from_form(body).expect("a form never fails")
}

#[inline(never)]
fn stage_signature(key: &SigningKey, params: &Params, signature: &str) -> bool {
    key.validate_laid_out(URL, params.pairs(), params.laid_out(), signature)
}

#[inline(never)]
fn stage_lookup<'s>(snapshot: &'s Snapshot, params: &Params) -> Option<&'s NumberEntry> {
    snapshot.number_by_e164(params.get("To")?)
}

#[inline(never)]
fn stage_resolve<'s>(
    snapshot: &'s Snapshot,
    call: &VoiceCall<'s>,
    at: DateTime<Utc>,
) -> Decision<'s> {
    resolve_voice(snapshot, call, at, Explain::Quiet)
}

#[inline(never)]
fn stage_render(decision: &Decision<'_>) -> String {
    render(
        decision,
        &RenderContext {
            public_base_url: BASE,
        },
    )
}

#[inline(never)]
fn stage_event(
    out: &mut Vec<u8>,
    snapshot: &Snapshot,
    number: Option<&NumberEntry>,
    call: &VoiceCall<'_>,
    decision: &Decision<'_>,
    at: DateTime<Utc>,
) {
    let outcome = &decision.outcome;
    CallEvent {
        call_sid: call.call_sid.into(),
        at,
        detail: EventDetail::Voice {
            clinic_id: number.map(|n| snapshot.clinic_of(n).id().into()),
            number_id: number.map(|n| n.id().into()),
            location_id: number.and_then(|n| n.location_id().map(Cow::Borrowed)),
            from: call.from.into(),
            to: call.to.into(),
            outcome_kind: outcome.kind.as_str().into(),
            outcome_id: outcome.id.as_deref().map(Cow::Borrowed),
            outcome_name: outcome.name.as_deref().map(Cow::Borrowed),
            caller_name: None,
        },
    }
    .encode(out);
}

/// Median over `rounds` of the CPU nanoseconds per request of `stage`.
fn median_ns(rounds: usize, mut stage: impl FnMut(usize)) -> f64 {
    let mut per_request: Vec<f64> = (0..rounds)
        .map(|_| {
            let started = cpu_time::ThreadTime::now();
            for i in 0..REQUESTS {
                stage(i);
            }
            started.elapsed().as_nanos() as f64 / REQUESTS as f64
        })
        .collect();
    per_request.sort_by(f64::total_cmp);
    per_request[per_request.len() / 2]
}

fn main() {
    // `cargo bench` passes `--bench`; any other argument is a filter cargo
    // would hand to a harness, which this one does not take.
    let rounds: usize = std::env::var("STAGES_ROUNDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(200);
    let snapshot = std::thread::spawn(|| Snapshot::build(fleet::fleet(CLINICS, PER_CLINIC), 1))
        .join()
        .expect("build thread");
    let requests = requests();
    let key = SigningKey::new(TOKEN);
    let parsed: Vec<Params> = requests.iter().map(|r| stage_parse(&r.body)).collect();
    let calls: Vec<VoiceCall<'_>> = parsed
        .iter()
        .map(|p| VoiceCall {
            to: p.get("To").expect("To"),
            from: p.get("From").expect("From"),
            call_sid: p.get("CallSid").expect("CallSid"),
        })
        .collect();
    let decisions: Vec<Decision<'_>> = calls
        .iter()
        .zip(&requests)
        .map(|(call, r)| stage_resolve(&snapshot, call, r.at))
        .collect();
    assert!(
        parsed
            .iter()
            .zip(&requests)
            .all(|(p, r)| stage_signature(&key, p, &r.signature)),
        "every request verifies"
    );
    assert!(
        decisions
            .iter()
            .all(|d| d.outcome.kind != OutcomeKind::Error && d.outcome.kind != OutcomeKind::Reject),
        "every request is routed"
    );
    let mut line = Vec::with_capacity(512);
    let stages: [(&str, f64); 6] = [
        (
            "parse",
            median_ns(rounds, |i| {
                black_box(stage_parse(black_box(&requests[i].body)));
            }),
        ),
        (
            "signature",
            median_ns(rounds, |i| {
                black_box(stage_signature(&key, &parsed[i], &requests[i].signature));
            }),
        ),
        (
            "lookup",
            median_ns(rounds, |i| {
                black_box(stage_lookup(&snapshot, &parsed[i]));
            }),
        ),
        (
            "resolve",
            median_ns(rounds, |i| {
                black_box(stage_resolve(&snapshot, &calls[i], requests[i].at));
            }),
        ),
        (
            "render",
            median_ns(rounds, |i| {
                black_box(stage_render(&decisions[i]));
            }),
        ),
        (
            "event",
            median_ns(rounds, |i| {
                line.clear();
                let number = snapshot.number_by_e164(calls[i].to);
                stage_event(
                    &mut line,
                    &snapshot,
                    number,
                    &calls[i],
                    &decisions[i],
                    requests[i].at,
                );
                black_box(&line);
            }),
        ),
    ];
    println!(
        "stages of a voice webhook: {REQUESTS} requests over {} numbers, median of {rounds} rounds, CPU time",
        snapshot.number_count()
    );
    println!("| stage | ns per request |");
    println!("| --- | --- |");
    let mut total = 0.0;
    for (name, ns) in stages {
        total += ns;
        println!("| {name} | {ns:.0} |");
    }
    println!("| all six | {total:.0} |");
}
