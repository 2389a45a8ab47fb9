//! API keys: stored as a keyed hash, looked up by that hash on every request.

use chrono::{DateTime, Utc};
use deadpool_postgres::GenericClient;
use serde::Serialize;
use uuid::Uuid;

use crate::error::StoreResult;

/// A stored key, without its hash.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ApiKeyRow {
    pub id: Uuid,
    pub clinic_id: Uuid,
    pub name: String,
    /// `viewer`, `editor` or `admin`.
    pub role: String,
    /// The first characters of the key, to recognise it in a list.
    pub key_prefix: String,
    pub created_at: DateTime<Utc>,
}

fn from_row(r: &tokio_postgres::Row) -> ApiKeyRow {
    ApiKeyRow {
        id: r.get(0),
        clinic_id: r.get(1),
        name: r.get(2),
        role: r.get(3),
        key_prefix: r.get(4),
        created_at: r.get(5),
    }
}

const COLUMNS: &str = "id, clinic_id, name, role, key_prefix, created_at";

/// Stores a key by its hash.
pub async fn insert(
    tx: &impl GenericClient,
    clinic_id: Uuid,
    name: &str,
    role: &str,
    key_hash: &[u8],
    key_prefix: &str,
) -> StoreResult<ApiKeyRow> {
    let row = tx
        .query_one(
            &format!(
                "INSERT INTO api_keys (clinic_id, name, role, key_hash, key_prefix) \
                 VALUES ($1, $2, $3, $4, $5) RETURNING {COLUMNS}"
            ),
            &[&clinic_id, &name, &role, &key_hash, &key_prefix],
        )
        .await?;
    Ok(from_row(&row))
}

/// The live (not revoked) key with this hash.
pub async fn find_by_hash(
    client: &impl GenericClient,
    key_hash: &[u8],
) -> StoreResult<Option<ApiKeyRow>> {
    let statement = client
        .prepare_cached(&format!(
            "SELECT {COLUMNS} FROM api_keys WHERE key_hash = $1 AND revoked_at IS NULL"
        ))
        .await?;
    let row = client.query_opt(&statement, &[&key_hash]).await?;
    Ok(row.as_ref().map(from_row))
}

/// The clinic's live keys, oldest first.
pub async fn list(client: &impl GenericClient, clinic_id: Uuid) -> StoreResult<Vec<ApiKeyRow>> {
    let rows = client
        .query(
            &format!(
                "SELECT {COLUMNS} FROM api_keys WHERE clinic_id = $1 AND revoked_at IS NULL \
                 ORDER BY created_at, id"
            ),
            &[&clinic_id],
        )
        .await?;
    Ok(rows.iter().map(from_row).collect())
}

/// Revokes a key of the clinic; returns it, `NotFound` when it is not live.
pub async fn revoke(
    tx: &impl GenericClient,
    clinic_id: Uuid,
    key_id: Uuid,
) -> StoreResult<ApiKeyRow> {
    let row = tx
        .query_opt(
            &format!(
                "UPDATE api_keys SET revoked_at = now() WHERE id = $1 AND clinic_id = $2 \
                 AND revoked_at IS NULL RETURNING {COLUMNS}"
            ),
            &[&key_id, &clinic_id],
        )
        .await?;
    row.as_ref()
        .map(from_row)
        .ok_or(crate::StoreError::NotFound)
}
