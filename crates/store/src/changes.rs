//! Which clinics changed since a router last read: V2's `config_changes`.
//!
//! Every configuration write records, per transaction and clinic, a row
//! keyed by the transaction id. A router keeps a [`Position`]: the xmin of
//! the database snapshot it last read with. Every transaction below it had
//! finished by then, so its rows were seen; rows at or above it may be new
//! and are read again next time (a clinic reloaded twice costs little; one
//! missed would stay stale). See migrations/V2__clinic_changes.sql.

use std::time::Duration;

use deadpool_postgres::GenericClient;
use uuid::Uuid;

use crate::error::StoreResult;

/// How long change rows are kept. A router away for longer (or one whose
/// position is older) reloads everything instead.
pub const RETENTION: Duration = Duration::from_secs(3_600);

/// Where a router is in the stream of changes: a transaction id (xid8) as
/// PostgreSQL prints it. Compared in SQL only.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Position(String);

/// What changed since a [`Position`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Changes {
    /// These clinics (inserted, updated or deleted), read at `version`;
    /// continue from `next`.
    Clinics {
        version: i64,
        clinic_ids: Vec<Uuid>,
        next: Position,
    },
    /// Rows the reader needs were pruned, or a table was truncated: only a
    /// full reload is right.
    Everything,
}

/// The position to continue from after a full load that starts after this
/// call: every transaction below it has finished, so the load will see it.
pub async fn position_now(client: &impl GenericClient) -> StoreResult<Position> {
    let row = client
        .query_one("SELECT pg_snapshot_xmin(pg_current_snapshot())::text", &[])
        .await?;
    Ok(Position(row.get(0)))
}

/// The clinics changed at or after `since`, with the configuration version
/// and the next position, read in one REPEATABLE READ transaction.
pub async fn changes_since(
    client: &mut deadpool_postgres::Client,
    since: &Position,
) -> StoreResult<Changes> {
    let tx = crate::snapshot::consistent_read(client).await?;
    // The position first: the rows and the version are read in its
    // snapshot. One statement, prepared: it runs after every change.
    let statement = tx
        .prepare_cached(
            "SELECT pg_snapshot_xmin(pg_current_snapshot())::text, \
             (SELECT CASE WHEN is_called THEN last_value ELSE 0 END FROM config_version), \
             (SELECT pruned_xid >= $1::text::xid8 FROM config_changes_horizon), \
             ARRAY(SELECT DISTINCT clinic_id FROM config_changes WHERE xid >= $1::text::xid8)",
        )
        .await?;
    let row = tx.query_one(&statement, &[&since.0]).await?;
    tx.commit().await?;
    let next = Position(row.try_get(0)?);
    let version: i64 = row.try_get(1)?;
    if row.try_get::<_, bool>(2)? {
        return Ok(Changes::Everything);
    }
    let rows: Vec<Option<Uuid>> = row.try_get(3)?;
    let mut clinic_ids = Vec::with_capacity(rows.len());
    for row in rows {
        match row {
            Some(id) => clinic_ids.push(id),
            None => return Ok(Changes::Everything),
        }
    }
    Ok(Changes::Clinics {
        version,
        clinic_ids,
        next,
    })
}

/// Deletes change rows older than `retention` and raises the horizon over
/// them, in one statement. Any router may run it; it is idempotent.
pub async fn prune(client: &impl GenericClient, retention: Duration) -> StoreResult<u64> {
    let seconds = retention.as_secs_f64();
    let row = client
        .query_one(
            "WITH pruned AS ( \
                 DELETE FROM config_changes \
                 WHERE at < now() - make_interval(secs => $1) RETURNING xid), \
             raised AS ( \
                 UPDATE config_changes_horizon \
                 SET pruned_xid = greatest(pruned_xid, (SELECT max(xid) FROM pruned)) \
                 WHERE EXISTS (SELECT 1 FROM pruned)) \
             SELECT count(*) FROM pruned",
            &[&seconds],
        )
        .await?;
    Ok(u64::try_from(row.get::<_, i64>(0)).unwrap_or(0))
}
