//! Locations: `GET, POST …/locations`, `GET, PATCH, DELETE …/locations/{id}`
//! ([`crate::ops::locations`]).

use actix_web::{HttpResponse, delete, get, patch, post, web};
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

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(list)
        .service(create)
        .service(get)
        .service(patch)
        .service(delete);
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
