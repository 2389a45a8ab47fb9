//! The audit log: who changed what, when, with the state before and after.

use chrono::{DateTime, Utc};
use deadpool_postgres::GenericClient;
use serde::Serialize;
use uuid::Uuid;

use super::Actor;
use crate::error::StoreResult;

/// One change to record.
#[derive(Debug, Clone)]
pub struct Change<'a> {
    pub clinic_id: Option<Uuid>,
    /// e.g. `number.routing.update`.
    pub action: &'a str,
    pub target_type: &'a str,
    pub target_id: String,
    pub before: Option<serde_json::Value>,
    pub after: Option<serde_json::Value>,
}

/// JSON of anything serialisable, for `before`/`after`.
pub fn json<T: Serialize>(value: &T) -> Option<serde_json::Value> {
    serde_json::to_value(value).ok()
}

/// Appends one audit row in the caller's transaction.
pub async fn append(tx: &impl GenericClient, actor: &Actor, change: Change<'_>) -> StoreResult<()> {
    let statement = tx
        .prepare_cached(
            "INSERT INTO audit_log (clinic_id, actor_key_id, actor_person_id, actor_name, action, \
             target_type, target_id, before, after) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        )
        .await?;
    tx.execute(
        &statement,
        &[
            &change.clinic_id,
            &actor.key_id,
            &actor.person_id,
            &actor.name,
            &change.action,
            &change.target_type,
            &change.target_id,
            &change.before,
            &change.after,
        ],
    )
    .await?;
    Ok(())
}

/// An audit entry as read back.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AuditEntry {
    pub id: i64,
    pub at: DateTime<Utc>,
    pub actor_key_id: Option<Uuid>,
    pub actor_person_id: Option<Uuid>,
    pub actor_name: String,
    pub action: String,
    pub target_type: String,
    pub target_id: Option<String>,
    pub before: Option<serde_json::Value>,
    pub after: Option<serde_json::Value>,
}

/// The clinic's audit entries, newest first, older than `before_id` when given.
pub async fn list(
    client: &impl GenericClient,
    clinic_id: Uuid,
    before_id: Option<i64>,
    limit: i64,
) -> StoreResult<Vec<AuditEntry>> {
    let rows = client
        .query(
            "SELECT id, at, actor_key_id, actor_person_id, actor_name, action, target_type, target_id, before, after \
             FROM audit_log WHERE clinic_id = $1 AND ($2::bigint IS NULL OR id < $2) \
             ORDER BY id DESC LIMIT $3",
            &[&clinic_id, &before_id, &limit],
        )
        .await?;
    Ok(rows
        .iter()
        .map(|r| AuditEntry {
            id: r.get(0),
            at: r.get(1),
            actor_key_id: r.get(2),
            actor_person_id: r.get(3),
            actor_name: r.get(4),
            action: r.get(5),
            target_type: r.get(6),
            target_id: r.get(7),
            before: r.get(8),
            after: r.get(9),
        })
        .collect())
}
