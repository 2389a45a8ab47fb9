//! End-to-end test support: `spawn_app()` starts the real server on port 0
//! against a fresh database (and, as features land, a fake Twilio on port 0)
//! and returns typed helpers.
//!
//! Feature helpers live in modules of their own (`webhook`, `admin`) so
//! each can grow without touching the others.
#![forbid(unsafe_code)]

pub mod admin;
pub mod openapi_check;
pub mod webhook;

use switchboard_server::{Application, Settings};
use switchboard_store::testing::TestDb;

/// A running service on its own database.
pub struct TestApp {
    pub webhook_base: String,
    pub admin_base: String,
    pub http: reqwest::Client,
    pub db: TestDb,
    service: ServiceTask,
}

/// The application running in the test's runtime until asked to stop.
pub struct ServiceTask {
    pub webhook_port: u16,
    pub admin_port: u16,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<anyhow::Result<()>>>,
}

impl ServiceTask {
    /// Builds the application on `settings` and runs it until stopped.
    pub async fn start(settings: Settings) -> ServiceTask {
        let app = Application::build(settings)
            .await
            .expect("the application starts");
        let (webhook_port, admin_port) = (app.webhook_port(), app.admin_port());
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let task = tokio::spawn(app.run_until(async {
            let _ = rx.await;
        }));
        ServiceTask {
            webhook_port,
            admin_port,
            shutdown: Some(tx),
            task: Some(task),
        }
    }

    /// Asks for a graceful stop (as SIGTERM does) without waiting.
    pub fn begin_stop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }

    /// Stops gracefully and waits; what the service's run returned.
    pub async fn stop(mut self) -> anyhow::Result<()> {
        self.begin_stop();
        match self.task.take() {
            Some(task) => task.await?,
            None => Ok(()),
        }
    }
}

/// Settings for a test: port 0 everywhere, the given database, no demo.
pub fn test_settings(db: &TestDb, extra: &str) -> Settings {
    let data_dir = tempfile::tempdir().expect("temp dir").keep();
    let toml = format!(
        r#"
        public_base_url = "http://127.0.0.1:1"
        data_dir = {data_dir:?}
        [webhook]
        listen = "127.0.0.1:0"
        workers = 1
        [admin]
        listen = "127.0.0.1:0"
        [database]
        url = {url:?}
        pool_size = 4
        [demo]
        load_when_empty = false
        [log]
        level = "warn"
        {extra}
        "#,
        url = db.url,
    );
    Settings::with_overrides(&toml).expect("test settings are valid")
}

/// Starts the service on a fresh database with the default test settings.
pub async fn spawn_app() -> TestApp {
    spawn_app_with("").await
}

/// Starts the service with `extra` TOML appended to the test settings.
pub async fn spawn_app_with(extra: &str) -> TestApp {
    let db = TestDb::new().await;
    let settings = test_settings(&db, extra);
    spawn_app_on(db, settings).await
}

/// Starts the service with explicit settings on `db`.
pub async fn spawn_app_on(db: TestDb, settings: Settings) -> TestApp {
    let service = ServiceTask::start(settings).await;
    TestApp {
        webhook_base: format!("http://127.0.0.1:{}", service.webhook_port),
        admin_base: format!("http://127.0.0.1:{}", service.admin_port),
        http: reqwest::Client::new(),
        db,
        service,
    }
}

impl TestApp {
    /// Stops the service gracefully and waits for it.
    pub async fn stop(self) {
        let _ = self.service.stop().await;
    }
}
