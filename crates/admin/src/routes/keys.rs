//! API keys of a clinic: create (shown once), list, revoke. Admin role.

use actix_web::{HttpResponse, delete, get, post, web};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use switchboard_core::schema::Name;
use switchboard_store::admin::audit::json;
use switchboard_store::admin::keys as repo;
use utoipa::ToSchema;
use utoipa_actix_web::service_config::ServiceConfig;
use uuid::Uuid;

use super::{Items, record};
use crate::AdminState;
use crate::auth::{Access, Admin};
use crate::error::ApiResult;
use crate::extract::{Body, PathId};
use crate::keys::{Role, create_api_key};
use crate::openapi::errors::*;
use crate::openapi::{ClinicPath, ItemPath};
use crate::validation::Problems;

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(list).service(create).service(revoke);
}

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
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = CreatedApiKey)]
pub struct CreatedKeyOut {
    #[serde(flatten)]
    pub stored: ApiKeyOut,
    /// The key itself, shown this once.
    pub key: String,
}

/// The clinic's live API keys
///
/// Role: admin.
#[utoipa::path(
    operation_id = "list_api_keys",
    tag = "api-keys",
    params(ClinicPath),
    responses(
        (status = 200, description = "The live keys", body = Items<ApiKeyOut>),
        Unauthorized, Forbidden, NotFound, Unavailable,
    ),
)]
#[get("/clinics/{c}/api-keys")]
async fn list(access: Access<Admin>, state: web::Data<AdminState>) -> ApiResult<HttpResponse> {
    let client = state.pool.get().await?;
    let items: Vec<ApiKeyOut> = repo::list(&client, access.clinic_id)
        .await?
        .into_iter()
        .map(ApiKeyOut::from)
        .collect();
    Ok(HttpResponse::Ok().json(Items { items }))
}

/// Create an API key
///
/// Role: admin. The answer is the only time the key is shown.
#[utoipa::path(
    operation_id = "create_api_key",
    tag = "api-keys",
    params(ClinicPath),
    request_body(
        content = ApiKeyIn,
        example = json!({"name": "Front office tablet", "role": "viewer"})
    ),
    responses(
        (status = 201, description = "The key, shown this once", body = CreatedKeyOut,
            links(("RevokeApiKey" = (operation_id = "revoke_api_key",
                parameters(("c" = "$request.path.c"), ("id" = "$response.body#/id")))))),
        BadRequest, Unauthorized, Forbidden, NotFound, PayloadTooLarge, Invalid, Unavailable,
    ),
)]
#[post("/clinics/{c}/api-keys")]
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

/// Revoke an API key
///
/// Role: admin. The key stops working at once.
#[utoipa::path(
    operation_id = "revoke_api_key",
    tag = "api-keys",
    params(ItemPath),
    responses(
        (status = 204, description = "Revoked"),
        Unauthorized, Forbidden, NotFound, Unavailable,
    ),
)]
#[delete("/clinics/{c}/api-keys/{id}")]
async fn revoke(
    access: Access<Admin>,
    state: web::Data<AdminState>,
    id: PathId,
) -> ApiResult<HttpResponse> {
    let id = id.parse()?;
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
