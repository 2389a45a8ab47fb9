//! Blocked callers: `GET, POST …/blocked-callers`, `GET, DELETE
//! …/blocked-callers/{id}` ([`crate::ops::blocked`]).

use actix_web::{HttpResponse, delete, get, post, web};
use switchboard_store::admin::blocked::BlockedCallerRow;
use utoipa_actix_web::service_config::ServiceConfig;

use super::Items;
use crate::AdminState;
use crate::auth::{Access, Editor, Viewer};
use crate::error::ApiResult;
use crate::extract::{Body, PathId};
use crate::openapi::errors::*;
use crate::openapi::{ClinicPath, ItemPath};
use crate::ops::blocked as ops;
pub use crate::ops::blocked::BlockedCallerIn;

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(list)
        .service(create)
        .service(get)
        .service(delete);
}

/// The clinic's blocked callers
///
/// Role: viewer. Newest first, each with the calls it blocked
/// (`blocked_calls`, `last_blocked_at`).
#[utoipa::path(
    operation_id = "list_blocked_callers",
    tag = "blocked-callers",
    params(ClinicPath),
    responses(
        (status = 200, description = "Every entry", body = Items<BlockedCallerRow>),
        Unauthorized, NotFound, Unavailable,
    ),
)]
#[get("/clinics/{c}/blocked-callers")]
async fn list(access: Access<Viewer>, state: web::Data<AdminState>) -> ApiResult<HttpResponse> {
    let items = ops::list(&access, &state).await?;
    Ok(HttpResponse::Ok().json(Items { items }))
}

/// Block a caller
///
/// Role: editor. A number (`kind` `number`, `value` E.164), a prefix
/// (`prefix`, `value` + and 1 to 14 digits) or callers without a number
/// (`anonymous`, no `value`). The same entry twice is 409
/// `blocked_caller_exists`.
#[utoipa::path(
    operation_id = "create_blocked_caller",
    tag = "blocked-callers",
    params(ClinicPath),
    request_body(
        content = BlockedCallerIn,
        example = json!({"kind": "prefix", "value": "+1900", "note": "Premium-rate lines"})
    ),
    responses(
        (status = 201, description = "The entry", body = BlockedCallerRow,
            links(
                ("GetBlockedCaller" = (operation_id = "get_blocked_caller",
                    parameters(("c" = "$request.path.c"), ("id" = "$response.body#/id")))),
                ("DeleteBlockedCaller" = (operation_id = "delete_blocked_caller",
                    parameters(("c" = "$request.path.c"), ("id" = "$response.body#/id")))),
            )),
        BadRequest, Unauthorized, Forbidden, NotFound, Conflict, PayloadTooLarge, Invalid, Unavailable,
    ),
)]
#[post("/clinics/{c}/blocked-callers")]
async fn create(
    access: Access<Editor>,
    state: web::Data<AdminState>,
    body: Body,
) -> ApiResult<HttpResponse> {
    let input: BlockedCallerIn = body.json()?;
    Ok(HttpResponse::Created().json(ops::create(&access, &state, input).await?))
}

/// A blocked caller
///
/// Role: viewer.
#[utoipa::path(
    operation_id = "get_blocked_caller",
    tag = "blocked-callers",
    params(ItemPath),
    responses(
        (status = 200, description = "The entry", body = BlockedCallerRow),
        Unauthorized, NotFound, Unavailable,
    ),
)]
#[get("/clinics/{c}/blocked-callers/{id}")]
async fn get(
    access: Access<Viewer>,
    state: web::Data<AdminState>,
    id: PathId,
) -> ApiResult<HttpResponse> {
    let id = id.parse()?;
    Ok(HttpResponse::Ok().json(ops::get(&access, &state, id).await?))
}

/// Unblock a caller
///
/// Role: editor. The calls the entry blocked keep naming it.
#[utoipa::path(
    operation_id = "delete_blocked_caller",
    tag = "blocked-callers",
    params(ItemPath),
    responses(
        (status = 204, description = "Removed"),
        Unauthorized, Forbidden, NotFound, Unavailable,
    ),
)]
#[delete("/clinics/{c}/blocked-callers/{id}")]
async fn delete(
    access: Access<Editor>,
    state: web::Data<AdminState>,
    id: PathId,
) -> ApiResult<HttpResponse> {
    let id = id.parse()?;
    ops::delete(&access, &state, id).await?;
    Ok(HttpResponse::NoContent().finish())
}
