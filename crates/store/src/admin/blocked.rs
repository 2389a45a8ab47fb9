//! Blocked callers: a clinic's list of numbers, prefixes and "callers
//! without a number" whose calls are rejected (`docs/routing.md`, "Blocked
//! callers"), with how many calls each entry blocked.

use chrono::{DateTime, Utc};
use deadpool_postgres::GenericClient;
use serde::Serialize;
use switchboard_core::blocked::BlockKind;
use uuid::Uuid;

use super::Actor;
use crate::error::{StoreError, StoreResult};

/// Who added an entry, as the audit log names actors.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[schema(as = BlockedCallerAuthor)]
pub struct Author {
    /// The API key used; `null` for the super key and for people.
    pub key_id: Option<Uuid>,
    /// The person signed in to the console; `null` for keys.
    pub person_id: Option<Uuid>,
    /// The key's or the person's name when the entry was added.
    pub name: String,
}

/// An entry as the API shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[schema(as = BlockedCaller)]
pub struct BlockedCallerRow {
    pub id: Uuid,
    pub kind: BlockKind,
    /// The number or prefix; `null` for `anonymous`.
    pub value: Option<String>,
    pub note: Option<String>,
    pub created_by: Author,
    pub created_at: DateTime<Utc>,
    /// Calls this entry rejected.
    pub blocked_calls: i64,
    /// When it last rejected one.
    pub last_blocked_at: Option<DateTime<Utc>>,
}

/// A new entry, checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewBlockedCaller {
    pub kind: BlockKind,
    pub value: Option<String>,
    pub note: Option<String>,
}

/// The entry's columns and its counts, from the calls that name it (a
/// blocked call's outcome id is the entry's id; see V8's `calls_blocked`).
const SELECT: &str = "SELECT b.id, b.kind, b.value, b.note, b.created_by_key_id, \
     b.created_by_person_id, b.created_by_name, b.created_at, c.n, c.last \
     FROM blocked_callers b CROSS JOIN LATERAL ( \
       SELECT count(*) AS n, max(started_at) AS last FROM calls \
       WHERE calls.clinic_id = b.clinic_id AND calls.outcome_kind = 'blocked' \
         AND calls.outcome_id = b.id::text) c";

fn from_row(r: &tokio_postgres::Row) -> StoreResult<BlockedCallerRow> {
    let kind: &str = r.try_get(1)?;
    Ok(BlockedCallerRow {
        id: r.try_get(0)?,
        kind: kind
            .parse()
            .map_err(|e| StoreError::corrupt("blocked_callers.kind", e))?,
        value: r.try_get(2)?,
        note: r.try_get(3)?,
        created_by: Author {
            key_id: r.try_get(4)?,
            person_id: r.try_get(5)?,
            name: r.try_get(6)?,
        },
        created_at: r.try_get(7)?,
        blocked_calls: r.try_get(8)?,
        last_blocked_at: r.try_get(9)?,
    })
}

/// The clinic's entries, newest first.
pub async fn list(
    client: &impl GenericClient,
    clinic_id: Uuid,
) -> StoreResult<Vec<BlockedCallerRow>> {
    let rows = client
        .query(
            &format!("{SELECT} WHERE b.clinic_id = $1 ORDER BY b.created_at DESC, b.id"),
            &[&clinic_id],
        )
        .await?;
    rows.iter().map(from_row).collect()
}

/// One entry of the clinic.
pub async fn get(
    client: &impl GenericClient,
    clinic_id: Uuid,
    id: Uuid,
) -> StoreResult<BlockedCallerRow> {
    let row = client
        .query_opt(
            &format!("{SELECT} WHERE b.clinic_id = $1 AND b.id = $2"),
            &[&clinic_id, &id],
        )
        .await?
        .ok_or(StoreError::NotFound)?;
    from_row(&row)
}

/// Adds an entry; one of the same kind and value is refused
/// (`blocked_caller_exists`, by the unique index `blocked_callers_once`).
pub async fn create(
    tx: &impl GenericClient,
    clinic_id: Uuid,
    actor: &Actor,
    new: &NewBlockedCaller,
) -> StoreResult<BlockedCallerRow> {
    let id: Uuid = tx
        .query_one(
            "INSERT INTO blocked_callers (clinic_id, kind, value, note, created_by_key_id, \
             created_by_person_id, created_by_name) VALUES ($1, $2, $3, $4, $5, $6, $7) \
             RETURNING id",
            &[
                &clinic_id,
                &new.kind.as_str(),
                &new.value,
                &new.note,
                &actor.key_id,
                &actor.person_id,
                &actor.name,
            ],
        )
        .await?
        .try_get(0)?;
    get(tx, clinic_id, id).await
}

/// Removes an entry; the entry as it was.
pub async fn delete(
    tx: &impl GenericClient,
    clinic_id: Uuid,
    id: Uuid,
) -> StoreResult<BlockedCallerRow> {
    let before = get(tx, clinic_id, id).await?;
    tx.execute(
        "DELETE FROM blocked_callers WHERE clinic_id = $1 AND id = $2",
        &[&clinic_id, &id],
    )
    .await?;
    Ok(before)
}
