//! `switchboard-bench-load`: the benchmark's own load generator.
//!
//! - `probe`: sends every request of a request file once, in order, on one
//!   connection, and writes each answer (status and TwiML with continuation
//!   instants blanked) one a line: the expectations of a later `rate --expect`.
//! - `rate`: open loop at a constant rate (wrk2's model): request k is due at
//!   `start + k / rate` whatever happened before, goes to an idle connection
//!   (or waits for one), and its latency counts from when it was due, so a
//!   stalled server cannot hide its stall (no coordinated omission). With
//!   `--rate 0` it is closed loop instead (each connection sends as soon as
//!   it has its answer). With `--expect`, every answer is checked.
//!
//! Pin it with `taskset`: one thread for the connections and, in `rate`
//! mode, a pacer thread that sleeps until each request is due (tokio's
//! timer is only millisecond-precise). Run it under a real-time policy
//! (`chrt -f`, as bench/run does) when other work shares its core: it then
//! preempts that work the moment it has something to do.
#![forbid(unsafe_code)]

use std::collections::VecDeque;
use std::io::Write;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use clap::{Parser, Subcommand};
use switchboard_bench_baseline::answers::without_instants;
use switchboard_bench_baseline::http1::{SignedForm, parse_response_head};
use switchboard_bench_baseline::stats::{LatencySummary, summarise};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::Notify;

/// How long one answer may take before the connection is dropped and the
/// request counted as an error: bounds every run.
const ANSWER_TIMEOUT: Duration = Duration::from_secs(5);

#[derive(Parser)]
#[command(
    name = "switchboard-bench-load",
    about = "Probe and open-loop load for signed webhooks."
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(clap::Args)]
struct Target {
    /// Server address (loopback).
    #[arg(long)]
    target: SocketAddr,
    /// Request path.
    #[arg(long, default_value = "/twilio/voice")]
    path: String,
    /// File of `signature<TAB>form body` lines.
    #[arg(long)]
    requests: PathBuf,
}

#[derive(Subcommand)]
enum Command {
    /// Send each request once and write the answers as expectations.
    Probe {
        #[command(flatten)]
        target: Target,
        /// Where to write `status<TAB>"TwiML"` lines.
        #[arg(long)]
        out: PathBuf,
    },
    /// Constant-rate open-loop load (or closed loop with --rate 0).
    Rate {
        #[command(flatten)]
        target: Target,
        /// Requests per second; 0 for closed loop.
        #[arg(long)]
        rate: u64,
        /// Seconds measured.
        #[arg(long)]
        duration: u64,
        /// Seconds of load before measuring.
        #[arg(long, default_value_t = 0)]
        warmup: u64,
        /// Keep-alive connections.
        #[arg(long, default_value_t = 64)]
        connections: usize,
        /// Answers written by `probe`: every answer must match its line.
        #[arg(long)]
        expect: Option<PathBuf>,
        /// A name for the result line.
        #[arg(long, default_value = "run")]
        label: String,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    switchboard_bench_baseline::tool::run("switchboard-bench-load", async {
        match cli.command {
            Command::Probe { target, out } => probe(&target, &out).await,
            Command::Rate {
                target,
                rate,
                duration,
                warmup,
                connections,
                expect,
                label,
            } => {
                let plan = Plan {
                    rate,
                    warmup: Duration::from_secs(warmup),
                    duration: Duration::from_secs(duration),
                    connections: connections.max(1),
                };
                run_rate(&target, plan, expect.as_deref(), &label).await
            }
        }
    })
}

fn load_requests(target: &Target) -> anyhow::Result<Vec<Vec<u8>>> {
    let text = std::fs::read_to_string(&target.requests)
        .with_context(|| format!("reading {}", target.requests.display()))?;
    let host = target.target.to_string();
    let requests: Vec<Vec<u8>> = text
        .lines()
        .filter(|l| !l.is_empty())
        .enumerate()
        .map(|(i, line)| {
            SignedForm::parse_line(line)
                .map(|form| form.to_request(&host, &target.path))
                .with_context(|| format!("request file line {}: not signature<TAB>body", i + 1))
        })
        .collect::<anyhow::Result<_>>()?;
    if requests.is_empty() {
        bail!("{} holds no request", target.requests.display());
    }
    Ok(requests)
}

/// One answer as read off the wire.
struct Answer {
    status: u16,
    body: Vec<u8>,
}

/// A keep-alive connection with its read buffer.
struct Connection {
    stream: TcpStream,
    buf: Vec<u8>,
}

impl Connection {
    async fn open(addr: SocketAddr) -> std::io::Result<Connection> {
        let stream = TcpStream::connect(addr).await?;
        stream.set_nodelay(true)?;
        Ok(Connection {
            stream,
            buf: Vec::with_capacity(8192),
        })
    }

    /// Sends one request and reads its answer; `Err` leaves the connection unusable.
    async fn exchange(&mut self, request: &[u8]) -> anyhow::Result<(Answer, bool)> {
        self.stream.write_all(request).await?;
        self.buf.clear();
        loop {
            if let Some(head) = parse_response_head(&self.buf)? {
                let end = head.head_len + head.content_length;
                while self.buf.len() < end {
                    self.read_more().await?;
                }
                let body = self.buf[head.head_len..end].to_vec();
                return Ok((
                    Answer {
                        status: head.status,
                        body,
                    },
                    head.closes,
                ));
            }
            self.read_more().await?;
        }
    }

    async fn read_more(&mut self) -> anyhow::Result<()> {
        let mut chunk = [0u8; 8192];
        let n = self.stream.read(&mut chunk).await?;
        if n == 0 {
            bail!("the server closed the connection");
        }
        self.buf.extend_from_slice(&chunk[..n]);
        Ok(())
    }
}

async fn probe(target: &Target, out: &Path) -> anyhow::Result<bool> {
    let requests = load_requests(target)?;
    let mut connection = Connection::open(target.target).await?;
    let mut lines = std::io::BufWriter::new(std::fs::File::create(out)?);
    let mut verbs: std::collections::BTreeMap<String, usize> = Default::default();
    let mut all_ok = true;
    for request in &requests {
        let (answer, closes) = tokio::time::timeout(ANSWER_TIMEOUT, connection.exchange(request))
            .await
            .context("no answer in time")??;
        let body = String::from_utf8_lossy(&answer.body);
        all_ok &= answer.status == 200 && body.starts_with("<?xml");
        *verbs
            .entry(format!("{} {}", answer.status, first_verb(&body)))
            .or_default() += 1;
        writeln!(
            lines,
            "{}\t{}",
            answer.status,
            serde_json::to_string(&without_instants(&body))?
        )?;
        if closes {
            connection = Connection::open(target.target).await?;
        }
    }
    lines.flush()?;
    let mix: Vec<String> = verbs.iter().map(|(v, n)| format!("{v}: {n}")).collect();
    println!(
        "probed {} requests; answers: {}",
        requests.len(),
        mix.join(", ")
    );
    Ok(all_ok)
}

/// The first element inside `<Response>`, e.g. `<Dial`, for the answer mix.
fn first_verb(twiml: &str) -> &str {
    let Some(at) = twiml.find("<Response>") else {
        return if twiml.contains("<Response/>") {
            "<Response/>"
        } else {
            "(not TwiML)"
        };
    };
    let rest = &twiml[at + "<Response>".len()..];
    let end = rest.find([' ', '>', '/']).unwrap_or(rest.len());
    if end == 0 { "(empty)" } else { &rest[..end] }
}

fn load_expectations(path: &Path) -> anyhow::Result<Vec<(u16, String)>> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    text.lines()
        .enumerate()
        .map(|(i, line)| {
            let (status, body) = line
                .split_once('\t')
                .with_context(|| format!("{} line {}", path.display(), i + 1))?;
            Ok((status.parse()?, serde_json::from_str(body)?))
        })
        .collect()
}

#[derive(Clone, Copy)]
struct Plan {
    rate: u64,
    warmup: Duration,
    duration: Duration,
    connections: usize,
}

/// A request due at `due`.
struct Job {
    index: usize,
    due: Instant,
}

/// What the pacer and the connections share (one thread: the locks never wait).
struct Shared {
    queue: Mutex<VecDeque<Job>>,
    wake: Notify,
    finished: AtomicBool,
    next_closed_loop: AtomicUsize,
}

#[derive(Default)]
struct Tally {
    latencies: Vec<Duration>,
    answered: usize,
    ok: usize,
    non_200: usize,
    mismatched: usize,
    errors: usize,
    first_problem: Option<String>,
}

impl Tally {
    fn merge(&mut self, other: Tally) {
        self.latencies.extend(other.latencies);
        self.answered += other.answered;
        self.ok += other.ok;
        self.non_200 += other.non_200;
        self.mismatched += other.mismatched;
        self.errors += other.errors;
        self.first_problem = self.first_problem.take().or(other.first_problem);
    }

    fn problem(&mut self, what: impl FnOnce() -> String) {
        if self.first_problem.is_none() {
            self.first_problem = Some(what());
        }
    }
}

async fn run_rate(
    target: &Target,
    plan: Plan,
    expect: Option<&Path>,
    label: &str,
) -> anyhow::Result<bool> {
    let requests = Arc::new(load_requests(target)?);
    let expectations = match expect {
        Some(path) => {
            let e = load_expectations(path)?;
            if e.len() != requests.len() {
                bail!(
                    "{} has {} answers for {} requests",
                    path.display(),
                    e.len(),
                    requests.len()
                );
            }
            Some(Arc::new(e))
        }
        None => None,
    };
    let shared = Arc::new(Shared {
        queue: Mutex::new(VecDeque::new()),
        wake: Notify::new(),
        finished: AtomicBool::new(false),
        next_closed_loop: AtomicUsize::new(0),
    });
    // Connect everyone before the clock starts.
    let mut connections = Vec::with_capacity(plan.connections);
    for _ in 0..plan.connections {
        connections.push(
            Connection::open(target.target)
                .await
                .context("connecting to the server")?,
        );
    }
    let start = Instant::now() + Duration::from_millis(20);
    let measure_from = start + plan.warmup;
    let end = measure_from + plan.duration;
    let mut workers = Vec::with_capacity(plan.connections);
    for connection in connections {
        workers.push(tokio::spawn(connection_loop(
            connection,
            target.target,
            Arc::clone(&requests),
            expectations.clone(),
            Arc::clone(&shared),
            plan.rate == 0,
            measure_from,
            end,
        )));
    }
    let mut lags = if plan.rate > 0 {
        spawn_pacer(Arc::clone(&shared), plan.rate, start, end)
            .await
            .context("the pacer thread failed")?
    } else {
        Vec::new()
    };
    shared.finished.store(true, Ordering::SeqCst);
    shared.wake.notify_waiters();
    let mut tally = Tally::default();
    let drain_deadline = end + ANSWER_TIMEOUT + Duration::from_secs(5);
    for worker in workers {
        let remaining = drain_deadline.saturating_duration_since(Instant::now());
        match tokio::time::timeout(remaining, worker).await {
            Ok(Ok(t)) => tally.merge(t),
            Ok(Err(e)) => bail!("a connection task failed: {e}"),
            Err(_) => bail!("connections still busy {ANSWER_TIMEOUT:?} after the run"),
        }
    }
    let unsent = shared.queue.lock().map(|q| q.len()).unwrap_or_default();
    let lag = summarise(&mut lags);
    report(label, plan, &mut tally, unsent, expectations.is_some(), lag);
    Ok(tally.errors == 0
        && tally.non_200 == 0
        && tally.mismatched == 0
        && unsent == 0
        && tally.answered > 0)
}

/// Puts request k on the queue at `start + k / rate`, from a thread of its
/// own that sleeps until the next one is due: the generator never spins, so
/// it leaves its core to others while it waits (under a real-time policy,
/// as bench/run starts it, without timer slack, and it takes the core back
/// the instant a request is due; a spinning real-time thread would be
/// throttled instead). Returns how late each request was queued: the
/// generator's own lag (a descheduled load generator shows here, not as the
/// server's latency alone).
fn spawn_pacer(
    shared: Arc<Shared>,
    rate: u64,
    start: Instant,
    end: Instant,
) -> tokio::sync::oneshot::Receiver<Vec<Duration>> {
    let (done, lags_out) = tokio::sync::oneshot::channel();
    std::thread::spawn(move || {
        let mut lags = Vec::new();
        let interval_nanos = 1_000_000_000f64 / rate as f64;
        // k / rate in nanoseconds; exact enough for any run shorter than years.
        let due_of = |k: u64| start + Duration::from_nanos((k as f64 * interval_nanos) as u64);
        let mut k: u64 = 0;
        loop {
            let due = due_of(k);
            if due >= end {
                break;
            }
            let now = Instant::now();
            if now < due {
                std::thread::sleep(due - now);
                continue;
            }
            // Everything due by now, each with its own lag.
            let mut queued = 0;
            if let Ok(mut queue) = shared.queue.lock() {
                while due_of(k) <= now && due_of(k) < end {
                    let due = due_of(k);
                    lags.push(now - due);
                    queue.push_back(Job {
                        index: usize::try_from(k).unwrap_or(usize::MAX),
                        due,
                    });
                    k += 1;
                    queued += 1;
                }
            }
            for _ in 0..queued {
                shared.wake.notify_one();
            }
        }
        let _ = done.send(lags);
    });
    lags_out
}

#[allow(clippy::too_many_arguments)]
async fn connection_loop(
    connection: Connection,
    addr: SocketAddr,
    requests: Arc<Vec<Vec<u8>>>,
    expectations: Option<Arc<Vec<(u16, String)>>>,
    shared: Arc<Shared>,
    closed_loop: bool,
    measure_from: Instant,
    end: Instant,
) -> Tally {
    let mut tally = Tally::default();
    let mut connection = Some(connection);
    loop {
        let job = if closed_loop {
            let now = Instant::now();
            if now >= end {
                break;
            }
            Job {
                index: shared.next_closed_loop.fetch_add(1, Ordering::Relaxed),
                due: now,
            }
        } else {
            match next_job(&shared).await {
                Some(job) => job,
                None => break,
            }
        };
        let conn = match connection.as_mut() {
            Some(c) => c,
            None => match Connection::open(addr).await {
                Ok(c) => connection.insert(c),
                Err(e) => {
                    tally.errors += 1;
                    tally.problem(|| format!("reconnecting: {e}"));
                    continue;
                }
            },
        };
        let slot = job.index % requests.len();
        let result = tokio::time::timeout(ANSWER_TIMEOUT, conn.exchange(&requests[slot])).await;
        let measured = job.due >= measure_from;
        match result {
            Ok(Ok((answer, closes))) => {
                if measured {
                    tally.latencies.push(job.due.elapsed());
                    tally.answered += 1;
                    check(&mut tally, &answer, expectations.as_deref(), slot);
                }
                if closes {
                    connection = None;
                }
            }
            Ok(Err(e)) => {
                tally.errors += 1;
                tally.problem(|| format!("request {slot}: {e:#}"));
                connection = None;
            }
            Err(_) => {
                tally.errors += 1;
                tally.problem(|| format!("request {slot}: no answer in {ANSWER_TIMEOUT:?}"));
                connection = None;
            }
        }
    }
    tally
}

async fn next_job(shared: &Shared) -> Option<Job> {
    loop {
        if let Some(job) = shared.queue.lock().ok()?.pop_front() {
            return Some(job);
        }
        if shared.finished.load(Ordering::SeqCst) {
            return None;
        }
        shared.wake.notified().await;
    }
}

fn check(
    tally: &mut Tally,
    answer: &Answer,
    expectations: Option<&Vec<(u16, String)>>,
    slot: usize,
) {
    if answer.status != 200 {
        tally.non_200 += 1;
        tally.problem(|| format!("request {slot}: status {}", answer.status));
        return;
    }
    let Some(expectations) = expectations else {
        tally.ok += 1;
        return;
    };
    let (status, expected) = &expectations[slot];
    let body = String::from_utf8_lossy(&answer.body);
    if *status == 200 && without_instants(&body) == *expected {
        tally.ok += 1;
    } else {
        tally.mismatched += 1;
        tally.problem(|| format!("request {slot}: expected {expected}, got {body}"));
    }
}

fn report(
    label: &str,
    plan: Plan,
    tally: &mut Tally,
    unsent: usize,
    checked: bool,
    lag: Option<LatencySummary>,
) {
    let seconds = plan.duration.as_secs_f64();
    let throughput = tally.answered as f64 / seconds;
    let summary = summarise(&mut tally.latencies);
    let us = |d: Option<Duration>| d.map(|d| d.as_micros()).unwrap_or_default();
    let (p50, p99, p999, max) = (
        us(summary.map(|s| s.p50)),
        us(summary.map(|s| s.p99)),
        us(summary.map(|s| s.p999)),
        us(summary.map(|s| s.max)),
    );
    println!(
        "{label}: {} answered in {seconds:.0} s ({throughput:.0}/s at {} {}), \
         p50 {:.3} ms, p99 {:.3} ms, p99.9 {:.3} ms, max {:.3} ms; \
         {} ok{}, {} non-200, {} errors, {} never sent",
        tally.answered,
        if plan.rate == 0 {
            "closed loop".to_owned()
        } else {
            format!("{}/s open loop", plan.rate)
        },
        format_args!("over {} connections", plan.connections),
        p50 as f64 / 1000.0,
        p99 as f64 / 1000.0,
        p999 as f64 / 1000.0,
        max as f64 / 1000.0,
        tally.ok,
        if checked { " (answers checked)" } else { "" },
        tally.non_200,
        tally.errors,
        unsent,
    );
    let (lag_p99, lag_max) = (us(lag.map(|s| s.p99)), us(lag.map(|s| s.max)));
    if plan.rate > 0 {
        println!(
            "{label}: the generator queued requests late by p99 {:.3} ms, max {:.3} ms",
            lag_p99 as f64 / 1000.0,
            lag_max as f64 / 1000.0
        );
    }
    if let Some(problem) = &tally.first_problem {
        println!("{label}: first problem: {problem}");
    }
    println!(
        "RESULT label={label} answered={} ok={} non200={} mismatched={} errors={} unsent={unsent} \
         rps={throughput:.0} p50_us={p50} p99_us={p99} p999_us={p999} max_us={max} \
         lag_p99_us={lag_p99} lag_max_us={lag_max}",
        tally.answered, tally.ok, tally.non_200, tally.mismatched, tally.errors,
    );
}
