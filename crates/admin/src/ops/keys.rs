//! API keys of a clinic, once for every face: create (shown once), list, revoke.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use switchboard_core::schema::Name;
use switchboard_store::admin::audit::json;
use switchboard_store::admin::keys as repo;
use utoipa::ToSchema;
use uuid::Uuid;

use super::record;
use crate::AdminState;
use crate::auth::{Access, Admin};
use crate::error::ApiResult;
use crate::keys::{Role, create_api_key};
use crate::validation::Problems;

/// `POST …/api-keys` body.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ApiKeyIn {
    #[schema(value_type = Name)]
    pub name: String,
    pub role: Role,
}

/// A key as listed (never the key itself).
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = ApiKey)]
pub struct ApiKeyOut {
    pub id: Uuid,
    pub name: String,
    #[schema(value_type = Role)]
    pub role: String,
    /// Its first 11 characters, to recognise it.
    pub key_prefix: String,
    pub created_at: DateTime<Utc>,
    /// When a request last authenticated with it, up to a few seconds
    /// behind; `null`: never used.
    pub last_used_at: Option<DateTime<Utc>>,
}

impl From<repo::ApiKeyRow> for ApiKeyOut {
    fn from(k: repo::ApiKeyRow) -> Self {
        ApiKeyOut {
            id: k.id,
            name: k.name,
            role: k.role,
            key_prefix: k.key_prefix,
            created_at: k.created_at,
            last_used_at: k.last_used_at,
        }
    }
}

/// A new key: the only time `key` is shown.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = CreatedApiKey)]
pub struct CreatedKeyOut {
    #[serde(flatten)]
    pub stored: ApiKeyOut,
    /// The key itself, shown this once.
    pub key: String,
}

/// The clinic's live keys.
pub async fn list(access: &Access<Admin>, state: &AdminState) -> ApiResult<Vec<ApiKeyOut>> {
    let client = state.pool.get().await?;
    Ok(repo::list(&client, access.clinic_id)
        .await?
        .into_iter()
        .map(ApiKeyOut::from)
        .collect())
}

/// Makes a key: the only time its secret is shown.
pub async fn create(
    access: &Access<Admin>,
    state: &AdminState,
    input: ApiKeyIn,
) -> ApiResult<CreatedKeyOut> {
    let mut problems = Problems::new();
    problems.name("name", &input.name);
    problems.finish()?;
    let mut client = state.pool.get().await?;
    let tx = client.transaction().await?;
    let (row, key) = create_api_key(
        &tx,
        &state.key_pepper,
        access.clinic_id,
        input.name.trim(),
        input.role,
    )
    .await?;
    let out = ApiKeyOut::from(row);
    record(
        &tx,
        &access.actor(),
        access.clinic_id,
        "api_key.create",
        ("api_key", out.id.to_string()),
        None,
        json(&out),
    )
    .await?;
    tx.commit().await?;
    Ok(CreatedKeyOut { stored: out, key })
}

/// Revokes a key: it opens nothing from now on.
pub async fn revoke(access: &Access<Admin>, state: &AdminState, id: Uuid) -> ApiResult<()> {
    let mut client = state.pool.get().await?;
    let tx = client.transaction().await?;
    let row = ApiKeyOut::from(repo::revoke(&tx, access.clinic_id, id).await?);
    record(
        &tx,
        &access.actor(),
        access.clinic_id,
        "api_key.revoke",
        ("api_key", id.to_string()),
        json(&row),
        None,
    )
    .await?;
    tx.commit().await?;
    Ok(())
}
