//! The call history's months (V6): `calls` and `call_events` are
//! partitioned by month; the service creates months ahead and drops the
//! months past the retention, at start and every hour
//! ([`spawn_maintainer`]). Dropping a month is dropping its tables: no row
//! by row delete, no bloat.

use std::time::Duration;

use crate::Pool;
use crate::error::StoreResult;

/// Months created ahead of the current one.
pub const MONTHS_AHEAD: i32 = 3;

/// What one pass did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Maintained {
    /// Partitions created (of both tables).
    pub created: i32,
    /// Partitions dropped (of both tables).
    pub dropped: i32,
}

/// Creates the months from the current one to `ahead` months ahead and
/// drops the months that ended more than `retention` ago, in one
/// transaction (one replica at a time: the function takes an advisory lock).
pub async fn maintain(pool: &Pool, ahead: i32, retention: Duration) -> StoreResult<Maintained> {
    let client = pool.get().await?;
    let seconds = retention.as_secs_f64();
    let row = client
        .query_one(
            "SELECT created, dropped FROM switchboard_call_partitions($1, make_interval(secs => $2))",
            &[&ahead, &seconds],
        )
        .await?;
    Ok(Maintained {
        created: row.get(0),
        dropped: row.get(1),
    })
}

/// Runs [`maintain`] now and every hour (every minute while the database
/// does not answer) until aborted.
pub fn spawn_maintainer(pool: Pool, retention: Duration) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        loop {
            let wait = match maintain(&pool, MONTHS_AHEAD, retention).await {
                Ok(done) => {
                    if done != Maintained::default() {
                        tracing::info!(
                            created = done.created,
                            dropped = done.dropped,
                            "call history partitions maintained"
                        );
                    }
                    Duration::from_secs(3600)
                }
                Err(e) => {
                    tracing::debug!(error = %e, "call history partitions: not now");
                    Duration::from_secs(60)
                }
            };
            tokio::time::sleep(wait).await;
        }
    })
}
