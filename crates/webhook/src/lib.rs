//! switchboard-webhook: the listener Twilio posts to (`docs/twilio.md`).
//!
//! The hot path never touches the database: a webhook is verified
//! ([`signature`]), resolved against the in-memory snapshot
//! ([`snapshot`]), rendered, and answered once the call event it produces
//! is in the journal, never waiting on the database
//! ([`switchboard_store::events`]). The snapshot is kept current by the
//! store's follower ([`switchboard_store::listen`]) and persisted to the
//! data folder, so a cold start without the database still routes.
//!
//! - [`Webhook::start`] loads the persisted snapshot, starts the follower
//!   and the event writer;
//! - [`Webhook::server`] binds the actix-web listener;
//! - [`Webhook::shutdown`] (after the listener stopped) stops following and
//!   flushes every event.
//!
//! Rules decided here (also in `docs/twilio.md`, "Parameters read" and
//! "Answers and statuses"):
//! - a webhook without `To` or `CallSid` (`MessageSid` for SMS) is not
//!   Twilio's: 400; a `To` that matches no number is routed (rejected), not
//!   refused;
//! - an unknown `DialCallStatus` moves the call on, as `failed` would;
//! - without any snapshot, voice, continue and SMS webhooks answer 503 (the
//!   number's fallback URL takes over); status and recording callbacks need
//!   no routing and are still taken and recorded;
//! - both the `<Record action>` and its status callback post to
//!   `/twilio/voice/recording`; either stores the voicemail, idempotently.
#![forbid(unsafe_code)]

pub mod devtool;
pub mod error;
pub mod handlers;
pub mod metrics;
pub mod params;
pub mod signature;
pub mod snapshot;

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use actix_web::dev::{Server, Service as _};
use actix_web::{App, HttpServer, web};
use switchboard_store::events::{EventSink, EventWriter, EventWriterOptions, SyncPolicy};
use switchboard_store::listen::{Follower, FollowerOptions};
use switchboard_store::snapshot::{SnapshotHeader, SnapshotSink};
use switchboard_store::{PgConfig, Pool};

pub use error::WebhookError;
pub use metrics::{Endpoint, Gauges, Metrics};
pub use signature::{Keys, TwilioRequest};
pub use snapshot::SnapshotCell;

/// What the webhook needs from the configuration.
#[derive(Clone)]
pub struct WebhookConfig {
    /// The URL Twilio reaches the service at (signatures, action URLs).
    pub public_base_url: String,
    /// Largest body accepted; larger answers 413.
    pub body_limit_bytes: usize,
    /// `false` only for local trials: every webhook is then accepted.
    pub validate_signatures: bool,
    /// The default auth token (the main account's, or the demo one).
    pub auth_token: String,
    /// `(AccountSid, auth token)` of each subaccount.
    pub subaccounts: Vec<(String, String)>,
    /// Where the snapshot copy and the event journal live.
    pub data_dir: PathBuf,
    /// Worker threads of the listener; 0 = one per core.
    pub workers: usize,
    /// The follower's version check, the safety net under NOTIFY.
    pub snapshot_check_interval: Duration,
    /// When the call-event journal is synced to disk.
    pub event_sync: SyncPolicy,
}

impl std::fmt::Debug for WebhookConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Tokens are secrets: never printed.
        f.debug_struct("WebhookConfig")
            .field("public_base_url", &self.public_base_url)
            .field("body_limit_bytes", &self.body_limit_bytes)
            .field("validate_signatures", &self.validate_signatures)
            .field("auth_token", &"<redacted>")
            .field(
                "subaccounts",
                &self
                    .subaccounts
                    .iter()
                    .map(|(sid, _)| sid)
                    .collect::<Vec<_>>(),
            )
            .field("data_dir", &self.data_dir)
            .field("workers", &self.workers)
            .field("snapshot_check_interval", &self.snapshot_check_interval)
            .field("event_sync", &self.event_sync)
            .finish()
    }
}

/// Everything a handler reads, shared by every worker.
#[derive(Debug)]
pub struct State {
    pub snapshot: SnapshotCell,
    pub keys: Keys,
    /// `public_base_url` without a trailing slash.
    pub public_base: Box<str>,
    pub validate_signatures: bool,
    pub events: EventSink,
    pub metrics: Metrics,
    follower_connected: Arc<AtomicBool>,
}

impl State {
    /// The `/metrics` text.
    pub fn render_metrics(&self) -> String {
        let snapshot = self.snapshot.current();
        let stats = self.events.stats();
        let mut text = self.metrics.render(&Gauges {
            snapshot_version: snapshot.as_ref().map(|s| s.version()),
            snapshot_age_seconds: self.snapshot.age_seconds(),
            snapshot_numbers: snapshot.as_ref().map_or(0, |s| s.number_count()),
            snapshot_reloads: self.snapshot.reloads(),
            follower_connected: self.follower_connected.load(Ordering::Relaxed),
            events_buffered: self.events.buffered(),
            events_written: stats.written.load(Ordering::Relaxed),
            events_spilled: stats.spilled.load(Ordering::Relaxed),
            events_journal_pending: stats.journal_pending.load(Ordering::Relaxed),
            event_write_failures: stats.write_failures.load(Ordering::Relaxed),
            signatures_validated: self.validate_signatures,
        });
        stats.render_journal(&mut text);
        text
    }
}

/// A load from the database streaming into the cell of `state`.
struct Install {
    state: web::Data<State>,
    load: snapshot::StreamedLoad,
}

impl SnapshotSink for Install {
    fn clinic(&mut self, clinic: switchboard_core::snapshot::ClinicConfig) {
        self.load.add(clinic);
    }

    fn finish(self: Box<Self>) {
        let Install { state, load } = *self;
        state.snapshot.commit(load);
    }
}

/// The webhook service: its state, the follower and the event writer.
pub struct Webhook {
    state: web::Data<State>,
    config: WebhookConfig,
    follower: Option<Follower>,
    writer: Option<EventWriter>,
}

impl Webhook {
    /// Loads the persisted snapshot (if any), starts the event writer and
    /// the follower. Must run inside a Tokio runtime. The database may be
    /// down: the follower and the writer retry in the background.
    pub fn start(config: WebhookConfig, pool: Pool, pg: PgConfig) -> std::io::Result<Webhook> {
        if !config.validate_signatures {
            tracing::warn!(
                "!!! webhook.validate_signatures = false: X-Twilio-Signature is NOT checked; \
                 anyone can post webhooks. Local trials only. !!!"
            );
        }
        let snapshot = SnapshotCell::new(Some(&config.data_dir));
        snapshot.load_persisted();
        let mut events = EventWriterOptions::new(config.data_dir.join("journal"));
        events.sync = config.event_sync;
        let (events, writer) = EventWriter::start(pool.clone(), events)?;
        let state = web::Data::new(State {
            snapshot,
            keys: Keys::new(&config.auth_token, &config.subaccounts),
            public_base: Box::from(config.public_base_url.trim_end_matches('/')),
            validate_signatures: config.validate_signatures,
            events,
            metrics: Metrics::default(),
            follower_connected: Arc::new(AtomicBool::new(false)),
        });
        let installer = state.clone();
        let follower = Follower::spawn(
            pg,
            pool,
            FollowerOptions {
                check_interval: config.snapshot_check_interval,
                retry_interval: Duration::from_secs(1),
            },
            Arc::new(move |header: SnapshotHeader| {
                let load = installer
                    .snapshot
                    .begin(header.version, header.clinics, header.numbers);
                Box::new(Install {
                    state: installer.clone(),
                    load,
                }) as Box<dyn SnapshotSink>
            }),
            {
                let state = state.clone();
                Arc::new(move |changes| state.snapshot.apply(changes))
            },
            state.follower_connected.clone(),
        );
        Ok(Webhook {
            state,
            config,
            follower: Some(follower),
            writer: Some(writer),
        })
    }

    /// Waits until a snapshot is loaded (from the database or the persisted
    /// copy), at most `limit`; true when one is. Startup uses this so that the
    /// service does not announce itself ready and then answer 503.
    pub async fn wait_for_snapshot(&self, limit: Duration) -> bool {
        let deadline = tokio::time::Instant::now() + limit;
        while self.state.snapshot.current().is_none() {
            if tokio::time::Instant::now() >= deadline {
                return false;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        true
    }

    /// The shared state (tests and tools read the snapshot and metrics).
    pub fn state(&self) -> Arc<State> {
        self.state.clone().into_inner()
    }

    /// Starts the listener on `listener`. Signals are left to the caller,
    /// which stops the server gracefully and then calls [`Webhook::shutdown`].
    pub fn server(&self, listener: std::net::TcpListener) -> std::io::Result<Server> {
        let state = self.state.clone();
        let limit = self.config.body_limit_bytes;
        let mut server = HttpServer::new(move || {
            let timed = state.clone();
            App::new()
                .app_data(state.clone())
                .app_data(web::PayloadConfig::new(limit))
                .wrap_fn(move |req, srv| {
                    let endpoint = Endpoint::of_path(req.path());
                    let started = Instant::now();
                    let metrics = timed.clone();
                    let response = srv.call(req);
                    async move {
                        let response = response.await?;
                        if let Some(endpoint) = endpoint {
                            metrics
                                .metrics
                                .observe(endpoint, response.status(), started.elapsed());
                        }
                        Ok(response)
                    }
                })
                .configure(handlers::configure)
        })
        // Twilio waits 15 s at most; a slow client must not hold a worker.
        .client_request_timeout(Duration::from_secs(5))
        .shutdown_timeout(30)
        .disable_signals();
        if self.config.workers > 0 {
            server = server.workers(self.config.workers);
        }
        Ok(server.listen(listener)?.run())
    }

    /// Stops following the database and flushes every call event (to the
    /// database, else to the journal). Call after the listener stopped.
    pub async fn shutdown(mut self) {
        if let Some(follower) = self.follower.take() {
            follower.stop().await;
        }
        // A cold start must find the last changes in the copy on disk.
        let state = self.state.clone();
        let _ = tokio::task::spawn_blocking(move || state.snapshot.flush()).await;
        if let Some(writer) = self.writer.take() {
            writer.shutdown().await;
        }
        tracing::info!("webhook stopped; call events flushed");
    }
}
