//! Locations: `GET, POST …/locations`, `GET, PATCH, DELETE …/locations/{id}`.

use actix_web::{HttpResponse, delete, get, patch, post, web};
use serde::Deserialize;
use switchboard_core::schema::{Name, Timezone};
use switchboard_store::admin::audit::json;
use switchboard_store::admin::locations::{self as repo, LocationFields, LocationRow};
use utoipa::ToSchema;
use utoipa_actix_web::service_config::ServiceConfig;

use super::{Items, record};
use crate::AdminState;
use crate::auth::{Access, Editor, Viewer};
use crate::error::ApiResult;
use crate::extract::{Body, PathId};
use crate::openapi::errors::*;
use crate::openapi::{ClinicPath, ItemPath};
use crate::validation::{Problems, nullable, schemas};

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(list)
        .service(create)
        .service(get)
        .service(patch)
        .service(delete);
}

/// `POST …/locations` body.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LocationIn {
    #[schema(value_type = Name)]
    pub name: String,
    #[schema(value_type = Timezone)]
    pub timezone: String,
    #[serde(default)]
    #[schema(schema_with = schemas::address)]
    pub address: Option<String>,
}

/// `PATCH …/locations/{id}` body: absent fields are kept.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LocationPatch {
    /// `null` is the same as leaving it out.
    #[serde(default)]
    #[schema(value_type = Option<Name>)]
    pub name: Option<String>,
    /// `null` is the same as leaving it out.
    #[serde(default)]
    #[schema(value_type = Option<Timezone>)]
    pub timezone: Option<String>,
    /// `null` clears it.
    #[serde(default, deserialize_with = "nullable")]
    #[schema(schema_with = schemas::address)]
    pub address: Option<Option<String>>,
}

/// Checks the fields; the name as sent (before trimming) when it is new.
fn check(f: &LocationFields, sent_name: Option<&str>) -> ApiResult<()> {
    let mut problems = Problems::new();
    problems.name("name", sent_name.unwrap_or(&f.name));
    problems.timezone("timezone", &f.timezone);
    if let Some(address) = &f.address {
        problems.text("address", address, 1000);
    }
    problems.finish()
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
    let client = state.pool.get().await?;
    let items = repo::list(&client, access.clinic_id).await?;
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
    let fields = LocationFields {
        name: input.name.trim().to_owned(),
        timezone: input.timezone,
        address: input.address,
    };
    check(&fields, Some(&input.name))?;
    let mut client = state.pool.get().await?;
    let tx = client.transaction().await?;
    let location = repo::create(&tx, access.clinic_id, &fields).await?;
    record(
        &tx,
        &access.actor(),
        access.clinic_id,
        "location.create",
        ("location", location.id.to_string()),
        None,
        json(&location),
    )
    .await?;
    tx.commit().await?;
    Ok(HttpResponse::Created().json(location))
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
    let client = state.pool.get().await?;
    Ok(HttpResponse::Ok().json(repo::get(&client, access.clinic_id, id).await?))
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
    let mut client = state.pool.get().await?;
    let tx = client.transaction().await?;
    let before = repo::get(&tx, access.clinic_id, id).await?;
    let mut fields = LocationFields::from(&before);
    if let Some(name) = &patch.name {
        fields.name = name.trim().to_owned();
    }
    if let Some(tz) = patch.timezone {
        fields.timezone = tz;
    }
    if let Some(address) = patch.address {
        fields.address = address;
    }
    check(&fields, patch.name.as_deref())?;
    let after = repo::update(&tx, access.clinic_id, id, &fields).await?;
    record(
        &tx,
        &access.actor(),
        access.clinic_id,
        "location.update",
        ("location", id.to_string()),
        json(&before),
        json(&after),
    )
    .await?;
    tx.commit().await?;
    Ok(HttpResponse::Ok().json(after))
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
    let mut client = state.pool.get().await?;
    let tx = client.transaction().await?;
    let before = repo::delete(&tx, access.clinic_id, id).await?;
    record(
        &tx,
        &access.actor(),
        access.clinic_id,
        "location.delete",
        ("location", id.to_string()),
        json(&before),
        None,
    )
    .await?;
    tx.commit().await?;
    Ok(HttpResponse::NoContent().finish())
}
