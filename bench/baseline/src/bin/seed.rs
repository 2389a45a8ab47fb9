//! `switchboard-bench-seed`: loads the synthetic clinic set into a running
//! Switchboard database, through the same `insert_clinic` the demo uses, in
//! one transaction (so routers reload once), and writes the numbers' E.164s,
//! one a line, for the request generator.
#![forbid(unsafe_code)]

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use anyhow::Context;
use clap::Parser;
use futures_util::{StreamExt, TryStreamExt};
use switchboard_bench_baseline::synthetic::{Shape, synthetic_clinics_shaped};

/// Clinics inserted at once on the transaction's connection.
const PIPELINED_CLINICS: usize = 32;

#[derive(Parser)]
#[command(
    name = "switchboard-bench-seed",
    about = "Loads the benchmark's synthetic clinics into a Switchboard database."
)]
struct Cli {
    /// tokio-postgres connection string, e.g. "host=127.0.0.1 port=5432 user=switchboard dbname=switchboard".
    #[arg(long)]
    database: String,
    /// How many synthetic numbers (ten per clinic).
    #[arg(long, default_value_t = 10_000)]
    numbers: usize,
    /// Where to write the E.164 of every synthetic number with its lifecycle, tab-separated.
    #[arg(long)]
    numbers_out: PathBuf,
    /// Give every number the full routing document (3 ring groups, 5
    /// closures), as the snapshot figure of `docs/benchmarks.md` asks,
    /// instead of the load benchmark's mix with links and outside forwards.
    #[arg(long)]
    all_routed: bool,
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    match seed(Cli::parse()).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("switchboard-bench-seed: {e:#}");
            ExitCode::FAILURE
        }
    }
}

async fn seed(cli: Cli) -> anyhow::Result<()> {
    let started = Instant::now();
    let shape = if cli.all_routed {
        Shape::Routed
    } else {
        Shape::Mixed
    };
    let clinics = synthetic_clinics_shaped(cli.numbers, shape);
    let pool = switchboard_store::connect_pool(&switchboard_store::DbConfig {
        url: cli.database.clone(),
        pool_size: 1,
        connect_timeout: Duration::from_secs(10),
    })?;
    let mut client = pool.get().await.context("connecting to the database")?;
    let tx = client.transaction().await?;
    // Clinics are independent: pipeline many on the one transaction, so the
    // load costs the server's work rather than round trips.
    let tx_ref = &tx;
    futures_util::stream::iter(&clinics)
        .map(|clinic| async move {
            switchboard_store::snapshot::insert_clinic(tx_ref, clinic)
                .await
                .with_context(|| format!("inserting {}", clinic.name))
        })
        .buffer_unordered(PIPELINED_CLINICS)
        .try_collect::<Vec<()>>()
        .await?;
    tx.commit().await.context("committing the synthetic set")?;
    drop(client);
    pool.close();

    let mut out = std::io::BufWriter::new(
        std::fs::File::create(&cli.numbers_out)
            .with_context(|| format!("creating {}", cli.numbers_out.display()))?,
    );
    for number in clinics.iter().flat_map(|c| &c.numbers) {
        writeln!(out, "{}\t{}", number.e164, number.lifecycle.as_str())?;
    }
    out.flush()?;
    println!(
        "seeded {} clinics, {} numbers in {:.1} s",
        clinics.len(),
        cli.numbers,
        started.elapsed().as_secs_f64()
    );
    Ok(())
}
