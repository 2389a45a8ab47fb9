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
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<anyhow::Result<()>>>,
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
    let app = Application::build(settings)
        .await
        .expect("the application starts");
    let webhook_base = format!("http://127.0.0.1:{}", app.webhook_port());
    let admin_base = format!("http://127.0.0.1:{}", app.admin_port());
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let task = tokio::spawn(app.run_until(async {
        let _ = rx.await;
    }));
    TestApp {
        webhook_base,
        admin_base,
        http: reqwest::Client::new(),
        db,
        shutdown: Some(tx),
        task: Some(task),
    }
}

impl TestApp {
    /// Stops the service gracefully and waits for it.
    pub async fn stop(mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }
}
