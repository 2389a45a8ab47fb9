//! API keys of a clinic: create (shown once), list, revoke. Admin role
//! ([`crate::ops::keys`]).

use actix_web::{HttpResponse, delete, get, post, web};
use utoipa_actix_web::service_config::ServiceConfig;

use super::Items;
use crate::AdminState;
use crate::auth::{Access, Admin};
use crate::error::ApiResult;
use crate::extract::{Body, PathId};
use crate::openapi::errors::*;
use crate::openapi::{ClinicPath, ItemPath};
use crate::ops::keys as ops;
pub use crate::ops::keys::{ApiKeyIn, ApiKeyOut, CreatedKeyOut};

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(list).service(create).service(revoke);
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
    let items = ops::list(&access, &state).await?;
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
    Ok(HttpResponse::Created().json(ops::create(&access, &state, input).await?))
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
    ops::revoke(&access, &state, id).await?;
    Ok(HttpResponse::NoContent().finish())
}
