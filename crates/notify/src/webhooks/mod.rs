//! Outgoing webhooks (V10): every `serve` process runs one [`Deliverer`],
//! which, about once a second, leases the deliveries that are due, POSTs
//! each to its endpoint signed as Standard Webhooks says, and records the
//! try: delivered, retried later on the schedule, or failed once the retry
//! window is over. An endpoint failing for `disable_after` in a row is
//! disabled (the console tells the clinic's admins). Once an hour it
//! removes from the log the messages written longer ago than `keep` of
//! which no delivery is pending.
//!
//! For one endpoint, a message of a call waits while an earlier message of
//! that call is pending, so a receiver hears of a call in order. Leases
//! expire: a process that dies mid-send leaves nothing lost.

mod send;
mod sign;
mod worker;

use std::time::Duration;

pub use sign::signature;
use switchboard_store::Pool;

use crate::ConfigProblem;

/// The `[webhooks]` settings the worker needs.
#[derive(Debug, Clone)]
pub struct WebhookConfig {
    /// One try: connecting, sending and the answer's head.
    pub timeout: Duration,
    /// The wait after each failed try (the last one repeats).
    pub retry_schedule: Vec<Duration>,
    /// How long a message is retried, from its first try (or redelivery).
    pub give_up_after: Duration,
    /// An endpoint failing this long in a row is disabled.
    pub disable_after: Duration,
    /// How long a leased delivery is left to its sender.
    pub lease: Duration,
    pub poll_interval: Duration,
    /// How long the log keeps a message (from when it was written) once
    /// none of its deliveries is pending.
    pub keep: Duration,
    /// Deliveries to loopback, private and link-local addresses (tests, demo).
    pub allow_private: bool,
}

/// Checks the settings without starting anything.
pub fn check(config: &WebhookConfig) -> Result<(), ConfigProblem> {
    if config.retry_schedule.is_empty() {
        return Err(ConfigProblem {
            key: "webhooks.retry_schedule_seconds",
            problem: "must list at least one delay".into(),
        });
    }
    if config.lease <= config.timeout {
        return Err(ConfigProblem {
            key: "webhooks.lease_seconds",
            problem: "must be longer than webhooks.timeout_seconds".into(),
        });
    }
    send::client(config).map(|_| ())
}

/// The running worker.
pub struct Deliverer {
    stop: tokio::sync::oneshot::Sender<()>,
    task: tokio::task::JoinHandle<()>,
}

impl Deliverer {
    /// Checks the settings and starts the worker on the current runtime.
    pub fn start(pool: Pool, config: WebhookConfig) -> Result<Deliverer, ConfigProblem> {
        check(&config)?;
        let client = send::client(&config)?;
        let (stop, stopped) = tokio::sync::oneshot::channel();
        let task = tokio::spawn(worker::run(pool, config, client, stopped));
        Ok(Deliverer { stop, task })
    }

    /// Stops after the round in progress (tries in flight finish).
    pub async fn shutdown(self) {
        let _ = self.stop.send(());
        let _ = self.task.await;
    }
}
