//! `Application::build` binds both listeners (port 0 in tests), exposes their
//! ports, and runs until stopped. `main` is a few lines around it.

use std::net::TcpListener;
use std::time::Duration;

use anyhow::Context;
use switchboard_store::embedded::{EmbeddedOptions, EmbeddedPostgres, ensure_database};
use switchboard_store::{DbConfig, Pool};

use crate::config::Settings;

/// A running service: both listeners bound, the database ready.
pub struct Application {
    webhook_port: u16,
    admin_port: u16,
    webhook: actix_web::dev::Server,
    admin: actix_web::dev::Server,
    database: Database,
    /// The webhook's snapshot follower and event writer (stopped after the listener).
    webhook_service: switchboard_webhook::Webhook,
    /// Retries migrations in the background when the database was down at start.
    migrator: Option<tokio::task::JoinHandle<()>>,
    /// Composes and sends voicemail emails from their queues.
    notifier: switchboard_notify::Notifier,
    /// Delivers outgoing webhooks from their queue.
    deliverer: switchboard_notify::webhooks::Deliverer,
    /// The file with the demo person's sign-in, when the demo is loaded.
    demo_login: Option<std::path::PathBuf>,
    /// API key uses and the task writing them (a last write at shutdown).
    key_usage: (
        std::sync::Arc<switchboard_admin::usage::KeyUsage>,
        tokio::task::JoinHandle<()>,
    ),
    /// Finishes purchases and releases left unfinished (stopped at shutdown).
    reconciler: tokio::task::JoinHandle<()>,
    /// Creates the call history's months ahead, drops the expired ones.
    partitions: tokio::task::JoinHandle<()>,
}

/// Where the data lives: a configured server, or our own embedded one.
pub struct Database {
    pub pool: Pool,
    pub url: String,
    embedded: Option<EmbeddedPostgres>,
}

impl Database {
    /// Connects to the configured database, or starts the embedded one.
    pub async fn open(settings: &Settings) -> anyhow::Result<Database> {
        let (url, embedded) = match settings.database_url() {
            Some(url) => (url.to_string(), None),
            None => {
                let e = &settings.database.embedded;
                let mut opts = EmbeddedOptions::new(&e.data_dir);
                opts.bin_dir = (!e.bin_dir.is_empty()).then(|| e.bin_dir.clone().into());
                opts.port = (e.port != 0).then_some(e.port);
                let pg = tokio::task::spawn_blocking(move || EmbeddedPostgres::start(&opts))
                    .await
                    .context("starting the embedded PostgreSQL")??;
                ensure_database(&pg, "switchboard")
                    .await
                    .context("creating the embedded database")?;
                (pg.url("switchboard"), Some(pg))
            }
        };
        let pool = switchboard_store::connect_pool(&DbConfig {
            url: url.clone(),
            pool_size: settings.database.pool_size,
            connect_timeout: std::time::Duration::from_secs(
                settings.database.connect_timeout_seconds,
            ),
        })?;
        Ok(Database {
            pool,
            url,
            embedded,
        })
    }

    /// Stops the embedded server, if this process runs one.
    pub async fn close(self) {
        self.pool.close();
        if let Some(pg) = self.embedded {
            match tokio::task::spawn_blocking(move || pg.stop()).await {
                Ok(Ok(())) => {}
                Ok(Err(e)) => tracing::error!(error = %e, "stopping the embedded PostgreSQL"),
                Err(e) => tracing::error!(error = %e, "stopping the embedded PostgreSQL"),
            }
        }
    }
}

impl Application {
    /// Opens the database, migrates, loads the demo when empty, binds both listeners.
    pub async fn build(settings: Settings) -> anyhow::Result<Application> {
        let database = Database::open(&settings).await?;
        let startup = async {
            // The webhook must come up without the database (it serves from
            // its persisted snapshot): migrations then run once it answers.
            let mut migrator = None;
            let mut database_up = true;
            if settings.database.migrate_on_start {
                match switchboard_store::migrate(&database.pool).await {
                    Ok(applied) => tracing::info!(applied, "migrations up to date"),
                    Err(switchboard_store::StoreError::Unavailable(e)) => {
                        tracing::warn!(error = %e, "the database is unavailable at start; migrations will run when it answers");
                        database_up = false;
                        migrator = Some(tokio::spawn(migrate_when_up(database.pool.clone())));
                    }
                    Err(e) => return Err(e).context("applying migrations"),
                }
            }
            let mut demo_login = None;
            if settings.demo.load_when_empty && database_up {
                let pepper = crate::admin_wiring::key_pepper(&settings)?;
                crate::demo::load_if_empty(&database.pool, &pepper, &settings.data_dir)
                    .await
                    .context("loading the demo clinic")?;
                demo_login = crate::demo::ensure_demo_login(&database.pool, &settings.data_dir)
                    .await
                    .context("making the demo sign-in")?;
            }
            let partitions = switchboard_store::partitions::spawn_maintainer(
                database.pool.clone(),
                Duration::from_secs(settings.database.call_retention_days * 86_400),
            );
            let webhook_listener = TcpListener::bind(settings.webhook.listen)
                .with_context(|| format!("binding webhook.listen {}", settings.webhook.listen))?;
            let admin_listener = TcpListener::bind(settings.admin.listen)
                .with_context(|| format!("binding admin.listen {}", settings.admin.listen))?;
            let webhook_port = webhook_listener.local_addr()?.port();
            let admin_port = admin_listener.local_addr()?.port();
            let webhook_service = switchboard_webhook::Webhook::start(
                webhook_config(&settings),
                database.pool.clone(),
                follower_pg_config(&settings, &database.url)?,
            )
            .context("starting the webhook service")?;
            if database_up {
                // Announce "serving" only once calls can be routed.
                let limit = Duration::from_secs(settings.database.connect_timeout_seconds);
                if !webhook_service.wait_for_snapshot(limit).await {
                    tracing::warn!(
                        "no routing snapshot yet: voice webhooks answer 503 until one loads"
                    );
                }
            }
            let webhook = webhook_service.server(webhook_listener)?;
            let notifier =
                switchboard_notify::Notifier::start(database.pool.clone(), settings.email_config())
                    .context("starting the voicemail email worker")?;
            let deliverer = switchboard_notify::webhooks::Deliverer::start(
                database.pool.clone(),
                settings.webhook_delivery_config(),
            )
            .context("starting the webhook delivery worker")?;
            let admin_state = crate::admin_wiring::admin_state(&settings, database.pool.clone())?;
            let key_usage = admin_state.key_usage.clone();
            let reconcile = Duration::from_secs(settings.twilio.reconcile_after_seconds);
            let reconciler = switchboard_admin::ops::provisioning::spawn_reconciler(
                admin_state.clone(),
                reconcile,
                reconcile,
            );
            let key_usage_flusher = key_usage.spawn_flusher(
                database.pool.clone(),
                switchboard_admin::usage::FLUSH_INTERVAL,
            );
            let console = switchboard_console::configure(settings.console_state());
            // Metrics are for operators: the admin listener, never the public webhook port.
            let metrics = switchboard_webhook::handlers::metrics_route(webhook_service.state());
            let admin = switchboard_admin::server(admin_listener, admin_state, move |cfg| {
                metrics(cfg);
                console(cfg);
            })?;
            anyhow::Ok((
                demo_login,
                webhook_port,
                admin_port,
                webhook,
                admin,
                webhook_service,
                migrator,
                (key_usage, key_usage_flusher),
                reconciler,
                partitions,
                notifier,
                deliverer,
            ))
        };
        match startup.await {
            Ok((
                demo_login,
                webhook_port,
                admin_port,
                webhook,
                admin,
                webhook_service,
                migrator,
                key_usage,
                reconciler,
                partitions,
                notifier,
                deliverer,
            )) => Ok(Application {
                demo_login,
                webhook_port,
                admin_port,
                webhook,
                admin,
                database,
                webhook_service,
                migrator,
                key_usage,
                reconciler,
                partitions,
                notifier,
                deliverer,
            }),
            Err(e) => {
                database.close().await;
                Err(e)
            }
        }
    }

    pub fn webhook_port(&self) -> u16 {
        self.webhook_port
    }

    pub fn admin_port(&self) -> u16 {
        self.admin_port
    }

    /// The file with the demo person's sign-in, when the demo is loaded.
    pub fn demo_login(&self) -> Option<&std::path::Path> {
        self.demo_login.as_deref()
    }

    /// The database connection string (for tools and tests).
    pub fn database_url(&self) -> &str {
        &self.database.url
    }

    /// Serves until `shutdown` resolves, then stops gracefully: both
    /// listeners finish the requests they accepted, then the database closes.
    pub async fn run_until(
        self,
        shutdown: impl std::future::Future<Output = ()>,
    ) -> anyhow::Result<()> {
        let webhook_handle = self.webhook.handle();
        let admin_handle = self.admin.handle();
        let webhook = tokio::spawn(self.webhook);
        let admin = tokio::spawn(self.admin);
        shutdown.await;
        tracing::info!("shutting down: finishing accepted requests");
        tokio::join!(webhook_handle.stop(true), admin_handle.stop(true));
        let _ = tokio::join!(webhook, admin);
        // Every accepted webhook is answered: now write their events.
        self.webhook_service.shutdown().await;
        tokio::join!(self.notifier.shutdown(), self.deliverer.shutdown());
        if let Some(migrator) = self.migrator {
            migrator.abort();
        }
        self.reconciler.abort();
        self.partitions.abort();
        let (key_usage, flusher) = self.key_usage;
        flusher.abort();
        key_usage.flush(&self.database.pool).await;
        self.database.close().await;
        Ok(())
    }
}

/// The webhook's part of the settings. In fake/demo mode webhooks are
/// signed with the demo token, as the fake Twilio and `switchboard call` do.
fn webhook_config(settings: &Settings) -> switchboard_webhook::WebhookConfig {
    use secrecy::ExposeSecret;
    let auth_token = if settings.uses_fake_twilio() {
        crate::config::DEMO_AUTH_TOKEN.to_owned()
    } else {
        settings.twilio.auth_token.expose_secret().to_owned()
    };
    switchboard_webhook::WebhookConfig {
        public_base_url: settings.public_base().to_owned(),
        body_limit_bytes: settings.webhook.body_limit_bytes,
        validate_signatures: settings.webhook.validate_signatures,
        auth_token,
        subaccounts: settings
            .twilio
            .subaccounts
            .iter()
            .map(|(sid, token)| (sid.clone(), token.expose_secret().to_owned()))
            .collect(),
        data_dir: settings.data_dir.clone(),
        workers: settings.webhook.workers,
        snapshot_check_interval: std::time::Duration::from_secs(
            settings.database.snapshot_check_seconds,
        ),
        event_sync: settings.event_sync(),
    }
}

/// The connection settings of the snapshot follower's LISTEN connection.
fn follower_pg_config(
    settings: &Settings,
    url: &str,
) -> anyhow::Result<switchboard_store::PgConfig> {
    let mut pg: switchboard_store::PgConfig = url
        .parse()
        .context("database.url: not a valid PostgreSQL connection URL")?;
    pg.connect_timeout(std::time::Duration::from_secs(
        settings.database.connect_timeout_seconds,
    ));
    if pg.get_application_name().is_none() {
        pg.application_name("switchboard-follower");
    }
    Ok(pg)
}

/// Applies migrations as soon as the database answers.
async fn migrate_when_up(pool: Pool) {
    loop {
        tokio::time::sleep(std::time::Duration::from_secs(1)).await;
        match switchboard_store::migrate(&pool).await {
            Ok(applied) => {
                tracing::info!(applied, "the database answers again; migrations up to date");
                return;
            }
            Err(switchboard_store::StoreError::Unavailable(_)) => {}
            Err(e) => {
                tracing::error!(error = %e, "applying migrations failed");
                return;
            }
        }
    }
}

/// Resolves on SIGINT (Ctrl-C) or SIGTERM. The handlers are installed when
/// this is called, not when the future is first polled, so a signal sent
/// right after is never the default (killing) one.
pub fn shutdown_signal() -> impl std::future::Future<Output = ()> {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let interrupt = signal(SignalKind::interrupt());
        let terminate = signal(SignalKind::terminate());
        async move {
            match (interrupt, terminate) {
                (Ok(mut interrupt), Ok(mut terminate)) => {
                    tokio::select! {
                        _ = interrupt.recv() => {}
                        _ = terminate.recv() => {}
                    }
                }
                (interrupt, terminate) => {
                    let e = interrupt.err().or(terminate.err());
                    tracing::error!(error = ?e, "cannot listen for SIGINT or SIGTERM");
                    let _ = tokio::signal::ctrl_c().await;
                }
            }
        }
    }
    #[cfg(not(unix))]
    async {
        let _ = tokio::signal::ctrl_c().await;
    }
}

/// Sets up logging from the settings.
pub fn init_logging(settings: &Settings) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .or_else(|_| tracing_subscriber::EnvFilter::try_new(&settings.log.level))
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt().with_env_filter(filter);
    let _ = match settings.log.format {
        crate::config::LogFormat::Json => builder.json().try_init(),
        crate::config::LogFormat::Text => builder.try_init(),
    };
}
