//! API keys of a clinic: create (shown once), list, revoke. Admin role.

use actix_web::{HttpResponse, web};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use switchboard_store::admin::audit::json;
use switchboard_store::admin::keys as repo;
use uuid::Uuid;

use super::{Items, record};
use crate::AdminState;
use crate::auth::{Access, Admin};
use crate::error::ApiResult;
use crate::extract::{Body, path_id};
use crate::keys::{Role, create_api_key};
use crate::validation::Problems;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/v1/clinics/{c}/api-keys", web::get().to(list))
        .route("/v1/clinics/{c}/api-keys", web::post().to(create))
        .route("/v1/clinics/{c}/api-keys/{id}", web::delete().to(revoke));
}

/// `POST …/api-keys` body.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ApiKeyIn {
    pub name: String,
    pub role: Role,
}

/// A key as listed (never the key itself).
#[derive(Debug, Serialize)]
pub struct ApiKeyOut {
    pub id: Uuid,
    pub name: String,
    pub role: String,
    pub key_prefix: String,
    pub created_at: DateTime<Utc>,
}

impl From<repo::ApiKeyRow> for ApiKeyOut {
    fn from(k: repo::ApiKeyRow) -> Self {
        ApiKeyOut {
            id: k.id,
            name: k.name,
            role: k.role,
            key_prefix: k.key_prefix,
            created_at: k.created_at,
        }
    }
}

/// A new key: the only time `key` is shown.
#[derive(Debug, Serialize)]
pub struct CreatedKeyOut {
    #[serde(flatten)]
    pub stored: ApiKeyOut,
    pub key: String,
}

async fn list(access: Access<Admin>, state: web::Data<AdminState>) -> ApiResult<HttpResponse> {
    let client = state.pool.get().await?;
    let items: Vec<ApiKeyOut> = repo::list(&client, access.clinic_id)
        .await?
        .into_iter()
        .map(ApiKeyOut::from)
        .collect();
    Ok(HttpResponse::Ok().json(Items { items }))
}

async fn create(
    access: Access<Admin>,
    state: web::Data<AdminState>,
    body: Body,
) -> ApiResult<HttpResponse> {
    let input: ApiKeyIn = body.json()?;
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
    Ok(HttpResponse::Created().json(CreatedKeyOut { stored: out, key }))
}

async fn revoke(
    access: Access<Admin>,
    state: web::Data<AdminState>,
    path: web::Path<(String, String)>,
) -> ApiResult<HttpResponse> {
    let id = path_id(&path.1)?;
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
    Ok(HttpResponse::NoContent().finish())
}
