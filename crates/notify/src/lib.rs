//! switchboard-notify: voicemail by email and outgoing webhooks
//! ([`webhooks`]), off the webhook's path.
//!
//! A recording that reaches a call row queues a notice (a trigger of V7,
//! in the call-event writer's transaction). Every `serve` process runs one
//! [`Notifier`], which, about once a second:
//!
//! 1. **composes**: claims the notices that are due (the transcript is in,
//!    or failed, or the clinic does not transcribe, or the wait is over),
//!    writes one email per recipient of the number and of its location, and
//!    marks the notice composed, in one transaction;
//! 2. **sends**: leases the queued emails that are due, hands each to the
//!    SMTP server, and records the outcome: sent, retried later with
//!    exponential backoff, or failed (refused for good, or a day of tries).
//!
//! Rows are claimed with `FOR UPDATE SKIP LOCKED`, so replicas share the
//! work; a lease that is never settled (the process died mid-send) expires
//! and the email is tried again: at least once, never lost. With no SMTP
//! server configured, emails are kept as the outbox the console shows.
#![forbid(unsafe_code)]

pub mod compose;
mod rounds;
mod smtp;
pub mod webhooks;
mod worker;

use std::time::Duration;

pub use smtp::{Security, SmtpConfig};
use switchboard_store::Pool;

/// The `[email]` settings the worker needs.
#[derive(Debug, Clone)]
pub struct EmailConfig {
    /// `None`: nothing leaves, each email goes to the outbox.
    pub smtp: Option<SmtpConfig>,
    /// The `From` mailbox, e.g. `Switchboard <voicemail@clinic.example>`.
    pub from: String,
    /// The console's URL, for the link to the voicemail.
    pub console_url: String,
    /// How long an email waits for its transcript.
    pub transcript_wait: Duration,
    /// The first retry's delay; each next one doubles, up to an hour.
    pub retry_initial: Duration,
    /// How often the queues are looked at.
    pub poll_interval: Duration,
}

/// Why the worker cannot start: a setting that names its key.
#[derive(Debug, thiserror::Error)]
#[error("{key}: {problem}")]
pub struct ConfigProblem {
    pub key: &'static str,
    pub problem: String,
}

/// The running worker.
pub struct Notifier {
    stop: tokio::sync::oneshot::Sender<()>,
    task: tokio::task::JoinHandle<()>,
}

impl Notifier {
    /// Checks the settings and starts the worker on the current runtime.
    pub fn start(pool: Pool, config: EmailConfig) -> Result<Notifier, ConfigProblem> {
        let mailer = smtp::Mailer::new(&config)?;
        let (stop, stopped) = tokio::sync::oneshot::channel();
        let task = tokio::spawn(worker::run(pool, config, mailer, stopped));
        Ok(Notifier { stop, task })
    }

    /// Stops after the round in progress (a send in flight finishes).
    pub async fn shutdown(self) {
        let _ = self.stop.send(());
        let _ = self.task.await;
    }
}

/// Checks the `[email]` settings without starting anything.
pub fn check(config: &EmailConfig) -> Result<(), ConfigProblem> {
    smtp::Mailer::new(config).map(|_| ())
}
