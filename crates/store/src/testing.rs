//! Test databases: one PostgreSQL cluster per test run, a template database
//! migrated once, and a fresh `CREATE DATABASE … TEMPLATE` for every test.
//!
//! Test binaries are separate processes (and nextest runs every test in a
//! process of its own), so the cluster is shared through a folder and a file
//! lock: the first process starts it, the others adopt it. It is left
//! running for the next run. The template's name carries a hash of the
//! migrations, so a changed migration gets a fresh template. Databases of
//! test processes that died without dropping them are removed at start.
//!
//! Set `SWITCHBOARD_TEST_DATABASE_URL` to use an existing server instead
//! (its user must be allowed to create databases).

use std::collections::hash_map::DefaultHasher;
use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU32, Ordering};

use deadpool_postgres::Pool;
use tokio_postgres::NoTls;

use crate::embedded::{EmbeddedOptions, EmbeddedPostgres, quote_ident};
use crate::pool::{DbConfig, connect_pool, embedded_migrations_fingerprint, migrate};

const TEST_DB_PREFIX: &str = "sbtest_";
const TEMPLATE_PREFIX: &str = "sbtemplate_";

/// Where the shared test cluster lives.
pub fn cluster_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("SWITCHBOARD_TEST_PG_DIR") {
        return PathBuf::from(dir);
    }
    std::env::temp_dir().join("switchboard-test-pg")
}

struct Cluster {
    /// Connection string to the maintenance database, without dbname.
    base: String,
    /// Kept so the cluster is not forgotten; it is deliberately left running.
    _embedded: Option<EmbeddedPostgres>,
}

fn cluster() -> &'static Cluster {
    static CLUSTER: OnceLock<Cluster> = OnceLock::new();
    CLUSTER.get_or_init(|| {
        if let Ok(url) = std::env::var("SWITCHBOARD_TEST_DATABASE_URL") {
            let base = strip_dbname(&url);
            return Cluster {
                base,
                _embedded: None,
            };
        }
        let dir = cluster_dir();
        std::fs::create_dir_all(dir.parent().unwrap_or(Path::new("/")))
            .expect("the test cluster's parent folder can be created");
        // One process at a time initialises or starts the cluster.
        let lock_path = dir.with_extension("lock");
        let lock =
            std::fs::File::create(&lock_path).expect("the test cluster lock file can be created");
        lock.lock().expect("the test cluster lock can be taken");
        let mut opts = EmbeddedOptions::new(&dir);
        opts.fast_unsafe = true;
        opts.max_connections = 400;
        let pg = EmbeddedPostgres::start(&opts).unwrap_or_else(|e| panic!("test PostgreSQL: {e}"));
        drop(lock);
        let base = format!(
            "host=127.0.0.1 port={} user={}",
            pg.port(),
            crate::embedded::SUPERUSER
        );
        Cluster {
            base,
            _embedded: Some(pg),
        }
    })
}

fn strip_dbname(url: &str) -> String {
    // key=value form only; URLs are converted by tokio-postgres' parser.
    let cfg: tokio_postgres::Config = url.parse().expect("SWITCHBOARD_TEST_DATABASE_URL parses");
    let mut parts = Vec::new();
    for host in cfg.get_hosts() {
        if let tokio_postgres::config::Host::Tcp(h) = host {
            parts.push(format!("host={h}"));
        }
    }
    if let Some(port) = cfg.get_ports().first() {
        parts.push(format!("port={port}"));
    }
    if let Some(user) = cfg.get_user() {
        parts.push(format!("user={user}"));
    }
    if let Some(pw) = cfg.get_password() {
        parts.push(format!("password={}", String::from_utf8_lossy(pw)));
    }
    parts.join(" ")
}

fn template_name() -> String {
    let mut h = DefaultHasher::new();
    embedded_migrations_fingerprint().hash(&mut h);
    format!("{TEMPLATE_PREFIX}{:016x}", h.finish())
}

async fn admin_client() -> tokio_postgres::Client {
    let url = format!("{} dbname=postgres", cluster().base);
    let (client, conn) = tokio_postgres::connect(&url, NoTls)
        .await
        .expect("the test cluster accepts connections");
    tokio::spawn(conn);
    client
}

/// Makes sure the template exists (once per process) and drops databases
/// left behind by test processes that are gone.
async fn prepare_template() -> String {
    static READY: tokio::sync::OnceCell<String> = tokio::sync::OnceCell::const_new();
    READY
        .get_or_init(|| async {
            let name = template_name();
            let client = admin_client().await;
            // Serialise template creation across processes.
            client
                .execute("SELECT pg_advisory_lock(7100142)", &[])
                .await
                .expect("advisory lock");
            let exists = client
                .query_opt("SELECT 1 FROM pg_database WHERE datname = $1", &[&name])
                .await
                .expect("query pg_database")
                .is_some();
            if !exists {
                let building = format!("{name}_building");
                let _ = client
                    .execute(
                        &format!(
                            "DROP DATABASE IF EXISTS {} WITH (FORCE)",
                            quote_ident(&building)
                        ),
                        &[],
                    )
                    .await;
                client
                    .execute(&format!("CREATE DATABASE {}", quote_ident(&building)), &[])
                    .await
                    .expect("create the template database");
                {
                    let pool = test_pool(&building, 1);
                    migrate(&pool)
                        .await
                        .expect("migrations apply to the template");
                    pool.close();
                }
                client
                    .execute(
                        &format!(
                            "ALTER DATABASE {} RENAME TO {}",
                            quote_ident(&building),
                            quote_ident(&name)
                        ),
                        &[],
                    )
                    .await
                    .expect("rename the template");
            }
            drop_stale_databases(&client, &name).await;
            client
                .execute("SELECT pg_advisory_unlock(7100142)", &[])
                .await
                .expect("advisory unlock");
            name
        })
        .await
        .clone()
}

/// Templates of other migration sets kept besides the current one: runs
/// from other checkouts (another branch's migrations) may share the cluster
/// at the same time, and dropping their template fails all their tests.
const OTHER_TEMPLATES_KEPT: usize = 8;

/// Drops test databases whose process is gone, and outdated templates
/// (all but the newest few of other migration sets).
async fn drop_stale_databases(client: &tokio_postgres::Client, current_template: &str) {
    let rows = client
        .query(
            "SELECT datname FROM pg_database WHERE datname LIKE 'sbtest\\_%' OR datname LIKE 'sbtemplate\\_%' \
             ORDER BY oid DESC",
            &[],
        )
        .await
        .expect("list databases");
    let mut other_templates = 0;
    for row in rows {
        let name: String = row.get(0);
        let stale = if let Some(rest) = name.strip_prefix(TEST_DB_PREFIX) {
            let pid = rest.split('_').next().unwrap_or("");
            !Path::new(&format!("/proc/{pid}")).exists()
        } else if name == current_template || name.ends_with("_building") {
            false
        } else {
            // Newest first (OIDs grow): keep the most recent few.
            other_templates += 1;
            other_templates > OTHER_TEMPLATES_KEPT
        };
        if stale {
            let _ = client
                .execute(
                    &format!(
                        "DROP DATABASE IF EXISTS {} WITH (FORCE)",
                        quote_ident(&name)
                    ),
                    &[],
                )
                .await;
        }
    }
}

fn test_pool(dbname: &str, size: usize) -> Pool {
    connect_pool(&DbConfig {
        url: format!("{} dbname={dbname}", cluster().base),
        pool_size: size,
        connect_timeout: std::time::Duration::from_secs(10),
    })
    .expect("test pool")
}

/// A fresh, migrated database of its own, dropped when this is dropped.
pub struct TestDb {
    pub name: String,
    /// A tokio-postgres connection string to this database.
    pub url: String,
    pub pool: Pool,
}

impl TestDb {
    /// Creates a database from the migrated template.
    pub async fn new() -> TestDb {
        static COUNTER: AtomicU32 = AtomicU32::new(0);
        let template = prepare_template().await;
        let name = format!(
            "{TEST_DB_PREFIX}{}_{}",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::Relaxed)
        );
        let client = admin_client().await;
        client
            .execute(
                &format!(
                    "CREATE DATABASE {} TEMPLATE {}",
                    quote_ident(&name),
                    quote_ident(&template)
                ),
                &[],
            )
            .await
            .expect("create a test database from the template");
        let url = format!("{} dbname={name}", cluster().base);
        let pool = test_pool(&name, 8);
        TestDb { name, url, pool }
    }

    /// An empty database, no migration applied: for tests of a migration
    /// on data written through the schema before it.
    pub async fn unmigrated() -> TestDb {
        static COUNTER: AtomicU32 = AtomicU32::new(0);
        // Also drops what dead test processes left behind.
        prepare_template().await;
        let name = format!(
            "{TEST_DB_PREFIX}{}_bare{}",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::Relaxed)
        );
        admin_client()
            .await
            .execute(
                &format!("CREATE DATABASE {} TEMPLATE template0", quote_ident(&name)),
                &[],
            )
            .await
            .expect("create an empty test database");
        let url = format!("{} dbname={name}", cluster().base);
        let pool = test_pool(&name, 8);
        TestDb { name, url, pool }
    }

    /// The connection string of the cluster's maintenance database.
    pub fn cluster_url() -> String {
        format!("{} dbname=postgres", cluster().base)
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        self.pool.close();
        let name = self.name.clone();
        let url = format!("{} dbname=postgres", cluster().base);
        // Drop runs inside the test's runtime: do the async work on a thread of its own.
        let _ = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build();
            if let Ok(rt) = rt {
                rt.block_on(async move {
                    if let Ok((client, conn)) = tokio_postgres::connect(&url, NoTls).await {
                        tokio::spawn(conn);
                        let _ = client
                            .execute(
                                &format!(
                                    "DROP DATABASE IF EXISTS {} WITH (FORCE)",
                                    quote_ident(&name)
                                ),
                                &[],
                            )
                            .await;
                    }
                });
            }
        })
        .join();
    }
}
