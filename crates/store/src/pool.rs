//! The connection pool and migrations.

use std::time::Duration;

use deadpool_postgres::{Manager, ManagerConfig, Pool, RecyclingMethod, Runtime};
use tokio_postgres::NoTls;

use crate::error::{StoreError, StoreResult};

mod embedded_migrations {
    refinery::embed_migrations!("../../migrations");
}

/// How to reach PostgreSQL.
#[derive(Clone, Debug)]
pub struct DbConfig {
    /// A libpq-style URL or key=value string.
    pub url: String,
    pub pool_size: usize,
    pub connect_timeout: Duration,
}

/// Builds a pool. Connections are made lazily, so this succeeds while the
/// database is down; callers find out on first use.
pub fn connect_pool(cfg: &DbConfig) -> StoreResult<Pool> {
    let mut pg: tokio_postgres::Config = cfg.url.parse().map_err(|e: tokio_postgres::Error| {
        StoreError::Unavailable(format!("bad database URL: {e}"))
    })?;
    pg.connect_timeout(cfg.connect_timeout);
    if pg.get_application_name().is_none() {
        pg.application_name("switchboard");
    }
    let mgr = Manager::from_config(
        pg,
        NoTls,
        ManagerConfig {
            recycling_method: RecyclingMethod::Fast,
        },
    );
    Pool::builder(mgr)
        .max_size(cfg.pool_size.max(1))
        .runtime(Runtime::Tokio1)
        .wait_timeout(Some(cfg.connect_timeout))
        .create_timeout(Some(cfg.connect_timeout))
        .recycle_timeout(Some(cfg.connect_timeout))
        .build()
        .map_err(|e| StoreError::Unavailable(e.to_string()))
}

/// Applies every pending migration, forward only. Safe to run from several
/// processes at once: refinery takes the migrations in one transaction
/// guarded by an advisory lock of ours.
pub async fn migrate(pool: &Pool) -> StoreResult<usize> {
    run_migrations(pool, refinery::Target::Latest).await
}

/// Applies the pending migrations up to `version` included: for tests of a
/// migration on a database filled through the schema before it.
pub async fn migrate_to(pool: &Pool, version: i32) -> StoreResult<usize> {
    run_migrations(pool, refinery::Target::Version(version)).await
}

async fn run_migrations(pool: &Pool, target: refinery::Target) -> StoreResult<usize> {
    let mut client = pool.get().await?;
    // Two processes starting at once must not race on the history table.
    client
        .execute("SELECT pg_advisory_lock(7100141)", &[])
        .await?;
    let report = embedded_migrations::migrations::runner()
        .set_grouped(true)
        .set_target(target)
        .run_async(&mut **client)
        .await;
    client
        .execute("SELECT pg_advisory_unlock(7100141)", &[])
        .await?;
    let report = report.map_err(|e| StoreError::Migration(e.to_string()))?;
    Ok(report.applied_migrations().len())
}

/// Names and checksums of the migrations embedded in this build, in order:
/// changes whenever a migration is added or edited.
pub fn embedded_migrations_fingerprint() -> Vec<(String, u64)> {
    embedded_migrations::migrations::runner()
        .get_migrations()
        .iter()
        .map(|m| (m.to_string(), m.checksum()))
        .collect()
}
