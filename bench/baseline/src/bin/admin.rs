//! `switchboard-bench-admin`: concurrent admins saving routing documents
//! through the admin API (`docs/benchmarks.md`, "Admin writes": PUT routing
//! p99 ≤ 50 ms at 20 concurrent admins). Run by `bench/admin-writes`.
//!
//! Each admin owns one number of its own clinic of the synthetic set the
//! seeder loaded (`synthetic_clinics(--numbers)`, the same documents), reads
//! its card once for the `ETag`, then saves its routing document again and
//! again for the run's length, each time with one closure renamed (so every
//! save changes something) and `If-Match` set to the version the previous
//! answer gave. A save's latency runs from sending the request to the whole
//! answer; only saves sent after the warm-up count. Every answer but 200 is
//! counted and the first one reported.
#![forbid(unsafe_code)]

use std::process::ExitCode;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use clap::Parser;
use switchboard_bench_baseline::stats::summarise;
use switchboard_bench_baseline::synthetic::synthetic_clinics;
use switchboard_core::model::{Lifecycle, RoutingDoc};

#[derive(Parser)]
#[command(
    name = "switchboard-bench-admin",
    about = "Concurrent routing saves through the admin API."
)]
struct Cli {
    /// The admin API's base URL, e.g. http://127.0.0.1:8081.
    #[arg(long)]
    admin: String,
    /// A key that may edit every clinic (the configured super key).
    #[arg(long)]
    key: String,
    /// How many synthetic numbers the seeder loaded (`--numbers`).
    #[arg(long)]
    numbers: usize,
    /// Concurrent admins, each on a clinic of its own.
    #[arg(long, default_value_t = 20)]
    admins: usize,
    /// Seconds measured.
    #[arg(long, default_value_t = 30)]
    duration: u64,
    /// Seconds of saves before measuring.
    #[arg(long, default_value_t = 3)]
    warmup: u64,
}

/// One admin's number and the document it saves.
struct Target {
    clinic_id: String,
    number_id: String,
    routing: RoutingDoc,
}

/// What one admin saw.
#[derive(Default)]
struct Tally {
    latencies: Vec<Duration>,
    saves: usize,
    refused: usize,
    first_refusal: Option<String>,
}

fn main() -> ExitCode {
    switchboard_bench_baseline::tool::run("switchboard-bench-admin", run(Cli::parse()))
}

/// The first routed, active number of each of `admins` clinics.
fn targets(numbers: usize, admins: usize) -> anyhow::Result<Vec<Target>> {
    let targets: Vec<Target> = synthetic_clinics(numbers)
        .into_iter()
        .filter_map(|clinic| {
            let number = clinic
                .numbers
                .iter()
                .find(|n| n.lifecycle == Lifecycle::Active && !n.routing.closures.is_empty())?;
            Some(Target {
                clinic_id: clinic.id.clone(),
                number_id: number.id.clone(),
                routing: number.routing.clone(),
            })
        })
        .take(admins)
        .collect();
    if targets.len() < admins {
        bail!(
            "{numbers} synthetic numbers hold {} routed clinics, fewer than {admins} admins",
            targets.len()
        );
    }
    Ok(targets)
}

async fn run(cli: Cli) -> anyhow::Result<bool> {
    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(cli.admins)
        .timeout(Duration::from_secs(30))
        .build()?;
    let start = Instant::now();
    let measure_from = start + Duration::from_secs(cli.warmup);
    let end = measure_from + Duration::from_secs(cli.duration);
    let mut admins = Vec::new();
    for target in targets(cli.numbers, cli.admins)? {
        let (http, base, key) = (http.clone(), cli.admin.clone(), cli.key.clone());
        admins.push(tokio::spawn(async move {
            admin(&http, &base, &key, target, measure_from, end).await
        }));
    }
    let mut all = Tally::default();
    for admin in admins {
        let tally = admin.await??;
        all.latencies.extend(tally.latencies);
        all.saves += tally.saves;
        all.refused += tally.refused;
        all.first_refusal = all.first_refusal.or(tally.first_refusal);
    }
    let seconds = cli.duration as f64;
    let summary = summarise(&mut all.latencies).context("no save was measured")?;
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    println!(
        "{} admins: {} saves measured in {seconds:.0} s ({:.0}/s), p50 {:.1} ms, p99 {:.1} ms, \
         p99.9 {:.1} ms, max {:.1} ms; {} refused",
        cli.admins,
        summary.samples,
        summary.samples as f64 / seconds,
        ms(summary.p50),
        ms(summary.p99),
        ms(summary.p999),
        ms(summary.max),
        all.refused,
    );
    if let Some(refusal) = &all.first_refusal {
        println!("first refusal: {refusal}");
    }
    println!(
        "RESULT admins={} saves={} refused={} p50_us={} p99_us={} p999_us={} max_us={}",
        cli.admins,
        summary.samples,
        all.refused,
        summary.p50.as_micros(),
        summary.p99.as_micros(),
        summary.p999.as_micros(),
        summary.max.as_micros(),
    );
    Ok(all.refused == 0)
}

/// One admin: saves its number's routing until `end`.
async fn admin(
    http: &reqwest::Client,
    base: &str,
    key: &str,
    mut target: Target,
    measure_from: Instant,
    end: Instant,
) -> anyhow::Result<Tally> {
    let card = format!(
        "{base}/v1/clinics/{}/numbers/{}",
        target.clinic_id, target.number_id
    );
    let answer = http.get(&card).bearer_auth(key).send().await?;
    if !answer.status().is_success() {
        bail!("GET {card}: {}", answer.status());
    }
    let mut etag = etag_of(&answer)?;
    let routing_url = format!("{card}/routing");
    let original = target.routing.closures[0].name.clone();
    let mut tally = Tally::default();
    let mut round = 0usize;
    while Instant::now() < end {
        round += 1;
        target.routing.closures[0].name = format!("{original} {}", round % 2);
        let sent = Instant::now();
        let answer = http
            .put(&routing_url)
            .bearer_auth(key)
            .header("If-Match", &etag)
            .json(&target.routing)
            .send()
            .await?;
        let status = answer.status();
        let next = etag_of(&answer);
        let body = answer.bytes().await?;
        let took = sent.elapsed();
        tally.saves += 1;
        if sent >= measure_from {
            tally.latencies.push(took);
        }
        if status.is_success() {
            etag = next?;
        } else {
            tally.refused += 1;
            tally
                .first_refusal
                .get_or_insert_with(|| format!("{status}: {}", String::from_utf8_lossy(&body)));
            // Read the version again and go on.
            let answer = http.get(&card).bearer_auth(key).send().await?;
            etag = etag_of(&answer)?;
        }
    }
    Ok(tally)
}

fn etag_of(answer: &reqwest::Response) -> anyhow::Result<String> {
    Ok(answer
        .headers()
        .get("ETag")
        .context("an answer without an ETag")?
        .to_str()?
        .to_owned())
}
