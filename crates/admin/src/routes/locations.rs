//! Locations: `GET, POST …/locations`, `GET, PATCH, DELETE …/locations/{id}`
//! ([`crate::ops::locations`]).

use actix_web::{HttpResponse, delete, get, patch, post, put, web};
use switchboard_core::model::RoutingOverride;
use switchboard_store::admin::locations::LocationRow;
use utoipa_actix_web::service_config::ServiceConfig;

use super::Items;
use crate::AdminState;
use crate::auth::{Access, Editor, Viewer};
use crate::error::ApiResult;
use crate::extract::{Body, PathId};
use crate::openapi::errors::*;
use crate::openapi::{ClinicPath, ItemPath};
use crate::ops::locations as ops;
pub use crate::ops::locations::{LocationIn, LocationPatch};
use crate::ops::numbers::{NumberCardOut, clear_location_override, set_location_override};

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(list)
        .service(create)
        .service(get)
        .service(patch)
        .service(delete)
        .service(put_override)
        .service(delete_override);
}

/// The clinic's locations
///
/// Role: viewer.
#[utoipa::path(
    operation_id = "list_locations",
    tag = "locations",
    params(ClinicPath),
    responses(
        (status = 200, description = "Every location", body = Items<LocationRow>),
        Unauthorized, NotFound, Unavailable,
    ),
)]
#[get("/clinics/{c}/locations")]
async fn list(access: Access<Viewer>, state: web::Data<AdminState>) -> ApiResult<HttpResponse> {
    let items = ops::list(&access, &state).await?;
    Ok(HttpResponse::Ok().json(Items { items }))
}

/// Create a location
///
/// Role: editor.
#[utoipa::path(
    operation_id = "create_location",
    tag = "locations",
    params(ClinicPath),
    request_body(
        content = LocationIn,
        example = json!({"name": "Mission office", "timezone": "America/Los_Angeles", "address": "1 Main St"})
    ),
    responses(
        (status = 201, description = "The location", body = LocationRow,
            links(
                ("GetLocation" = (operation_id = "get_location",
                    parameters(("c" = "$request.path.c"), ("id" = "$response.body#/id")))),
                ("PatchLocation" = (operation_id = "patch_location",
                    parameters(("c" = "$request.path.c"), ("id" = "$response.body#/id")))),
                ("DeleteLocation" = (operation_id = "delete_location",
                    parameters(("c" = "$request.path.c"), ("id" = "$response.body#/id")))),
            )),
        BadRequest, Unauthorized, Forbidden, NotFound, PayloadTooLarge, Invalid, Unavailable,
    ),
)]
#[post("/clinics/{c}/locations")]
async fn create(
    access: Access<Editor>,
    state: web::Data<AdminState>,
    body: Body,
) -> ApiResult<HttpResponse> {
    let input: LocationIn = body.json()?;
    Ok(HttpResponse::Created().json(ops::create(&access, &state, input).await?))
}

/// A location
///
/// Role: viewer.
#[utoipa::path(
    operation_id = "get_location",
    tag = "locations",
    params(ItemPath),
    responses(
        (status = 200, description = "The location", body = LocationRow),
        Unauthorized, NotFound, Unavailable,
    ),
)]
#[get("/clinics/{c}/locations/{id}")]
async fn get(
    access: Access<Viewer>,
    state: web::Data<AdminState>,
    id: PathId,
) -> ApiResult<HttpResponse> {
    let id = id.parse()?;
    Ok(HttpResponse::Ok().json(ops::get(&access, &state, id).await?))
}

/// Change a location
///
/// Role: editor. Absent fields are kept.
#[utoipa::path(
    operation_id = "patch_location",
    tag = "locations",
    params(ItemPath),
    request_body(content = LocationPatch, example = json!({"address": null})),
    responses(
        (status = 200, description = "The location as it is now", body = LocationRow),
        BadRequest, Unauthorized, Forbidden, NotFound, PayloadTooLarge, Invalid, Unavailable,
    ),
)]
#[patch("/clinics/{c}/locations/{id}")]
async fn patch(
    access: Access<Editor>,
    state: web::Data<AdminState>,
    id: PathId,
    body: Body,
) -> ApiResult<HttpResponse> {
    let id = id.parse()?;
    let patch: LocationPatch = body.json()?;
    Ok(HttpResponse::Ok().json(ops::update(&access, &state, id, patch).await?))
}

/// Delete a location
///
/// Role: editor. Refused (409 `location_in_use`) while a live number is there.
#[utoipa::path(
    operation_id = "delete_location",
    tag = "locations",
    params(ItemPath),
    responses(
        (status = 204, description = "Deleted"),
        Unauthorized, Forbidden, NotFound, Conflict, Unavailable,
    ),
)]
#[delete("/clinics/{c}/locations/{id}")]
async fn delete(
    access: Access<Editor>,
    state: web::Data<AdminState>,
    id: PathId,
) -> ApiResult<HttpResponse> {
    let id = id.parse()?;
    ops::delete(&access, &state, id).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Close every number of a location until an instant, or hold them open
///
/// Role: editor. The override of `PUT …/numbers/{id}/override` on each
/// live number of the location, in one change; an open one names an
/// assistant (ring groups are each number's own). Answers the numbers'
/// cards.
#[utoipa::path(
    operation_id = "put_location_override",
    tag = "locations",
    params(ItemPath),
    request_body(content = RoutingOverride,
        example = json!({"state": "closed", "until": "2026-12-03T13:00:00Z"})),
    responses(
        (status = 200, description = "The location's numbers", body = Items<NumberCardOut>),
        BadRequest, Unauthorized, Forbidden, NotFound, PayloadTooLarge, Invalid, Unavailable,
    ),
)]
#[put("/clinics/{c}/locations/{id}/override")]
async fn put_override(
    access: Access<Editor>,
    state: web::Data<AdminState>,
    id: PathId,
    body: Body,
) -> ApiResult<HttpResponse> {
    let id = id.parse()?;
    let hold: RoutingOverride = body.json()?;
    let items = set_location_override(&access, &state, id, hold).await?;
    Ok(HttpResponse::Ok().json(Items { items }))
}

/// Reopen every number of a location
///
/// Role: editor. Ends the overrides of its live numbers now.
#[utoipa::path(
    operation_id = "delete_location_override",
    tag = "locations",
    params(ItemPath),
    responses(
        (status = 200, description = "The location's numbers", body = Items<NumberCardOut>),
        Unauthorized, Forbidden, NotFound, Unavailable,
    ),
)]
#[delete("/clinics/{c}/locations/{id}/override")]
async fn delete_override(
    access: Access<Editor>,
    state: web::Data<AdminState>,
    id: PathId,
) -> ApiResult<HttpResponse> {
    let id = id.parse()?;
    let items = clear_location_override(&access, &state, id).await?;
    Ok(HttpResponse::Ok().json(Items { items }))
}
