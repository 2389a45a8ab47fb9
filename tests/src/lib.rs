//! End-to-end test support: `spawn_app()` starts the real server on port 0
//! against a fresh database (and, as features land, a fake Twilio on port 0)
//! and returns typed helpers.
//!
//! Feature helpers live in modules of their own (`webhook`, `admin`) so
//! each can grow without touching the others.
#![forbid(unsafe_code)]

pub mod admin;
pub mod browser;
pub mod console;
pub mod contract;
pub mod receiver;
pub mod smtp;
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

/// A folder of its own for a test (a service's data folder, an embedded
/// PostgreSQL's), under `<temp>/switchboard-test-data/<pid>/`, that an
/// unprivileged PostgreSQL (the embedded server drops root) can traverse.
/// It outlives its test (a test may start the service on it again); the
/// next test process removes the folders of processes that are gone, so
/// runs never pile them up in the temp dir.
pub fn test_data_dir(label: &str) -> std::path::PathBuf {
    static MINE: std::sync::OnceLock<std::path::PathBuf> = std::sync::OnceLock::new();
    let mine = MINE.get_or_init(|| {
        let root = std::env::temp_dir().join("switchboard-test-data");
        std::fs::create_dir_all(&root).expect("the test folders' root");
        // Shared like the temp dir itself (another user's run may own it).
        use std::os::unix::fs::PermissionsExt;
        let _ = std::fs::set_permissions(&root, std::fs::Permissions::from_mode(0o1777));
        // Only where /proc tells which processes are alive.
        if std::path::Path::new("/proc/self").exists() {
            for entry in std::fs::read_dir(&root).into_iter().flatten().flatten() {
                let name = entry.file_name();
                let gone = name
                    .to_str()
                    .and_then(|n| n.parse::<u32>().ok())
                    .is_some_and(|pid| !std::path::Path::new(&format!("/proc/{pid}")).exists());
                if gone {
                    let _ = std::fs::remove_dir_all(entry.path());
                }
            }
        }
        let mine = root.join(std::process::id().to_string());
        open_dir(&mine);
        mine
    });
    let dir = tempfile::Builder::new()
        .prefix(&format!("{label}-"))
        .tempdir_in(mine)
        .expect("a test folder")
        .keep();
    open_dir(&dir);
    dir
}

/// Creates `dir` (and its parents) open to every user for traversal.
fn open_dir(dir: &std::path::Path) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::create_dir_all(dir).expect("a test folder");
    std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o755))
        .expect("the test folder opens up");
}

/// Settings for a test: port 0 everywhere, the given database, no demo.
pub fn test_settings(db: &TestDb, extra: &str) -> Settings {
    let data_dir = test_data_dir("data");
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
        // Idle connections are dropped before the server's keep-alive (5 s)
        // ends them, so a request never goes out on a closing connection.
        http: reqwest::Client::builder()
            .pool_idle_timeout(std::time::Duration::from_secs(2))
            .build()
            .expect("an HTTP client"),
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
