//! Locations: `GET, POST …/locations`, `GET, PATCH, DELETE …/locations/{id}`.

use actix_web::{HttpResponse, web};
use serde::Deserialize;
use switchboard_store::admin::audit::json;
use switchboard_store::admin::locations::{self as repo, LocationFields};

use super::{Items, record};
use crate::AdminState;
use crate::auth::{Access, Editor, Viewer};
use crate::error::ApiResult;
use crate::extract::{Body, path_id};
use crate::validation::{Problems, nullable};

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/v1/clinics/{c}/locations", web::get().to(list))
        .route("/v1/clinics/{c}/locations", web::post().to(create))
        .route("/v1/clinics/{c}/locations/{id}", web::get().to(get))
        .route("/v1/clinics/{c}/locations/{id}", web::patch().to(patch))
        .route("/v1/clinics/{c}/locations/{id}", web::delete().to(delete));
}

/// `POST …/locations` body.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LocationIn {
    pub name: String,
    pub timezone: String,
    #[serde(default)]
    pub address: Option<String>,
}

/// `PATCH …/locations/{id}` body.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LocationPatch {
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub timezone: Option<String>,
    #[serde(default, deserialize_with = "nullable")]
    pub address: Option<Option<String>>,
}

fn check(f: &LocationFields) -> ApiResult<()> {
    let mut problems = Problems::new();
    problems.name("name", &f.name);
    problems.timezone("timezone", &f.timezone);
    if let Some(address) = &f.address {
        problems.text("address", address, 1000);
    }
    problems.finish()
}

async fn list(access: Access<Viewer>, state: web::Data<AdminState>) -> ApiResult<HttpResponse> {
    let client = state.pool.get().await?;
    let items = repo::list(&client, access.clinic_id).await?;
    Ok(HttpResponse::Ok().json(Items { items }))
}

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
    check(&fields)?;
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

async fn get(
    access: Access<Viewer>,
    state: web::Data<AdminState>,
    path: web::Path<(String, String)>,
) -> ApiResult<HttpResponse> {
    let id = path_id(&path.1)?;
    let client = state.pool.get().await?;
    Ok(HttpResponse::Ok().json(repo::get(&client, access.clinic_id, id).await?))
}

async fn patch(
    access: Access<Editor>,
    state: web::Data<AdminState>,
    path: web::Path<(String, String)>,
    body: Body,
) -> ApiResult<HttpResponse> {
    let id = path_id(&path.1)?;
    let patch: LocationPatch = body.json()?;
    let mut client = state.pool.get().await?;
    let tx = client.transaction().await?;
    let before = repo::get(&tx, access.clinic_id, id).await?;
    let mut fields = LocationFields::from(&before);
    if let Some(name) = patch.name {
        fields.name = name.trim().to_owned();
    }
    if let Some(tz) = patch.timezone {
        fields.timezone = tz;
    }
    if let Some(address) = patch.address {
        fields.address = address;
    }
    check(&fields)?;
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

async fn delete(
    access: Access<Editor>,
    state: web::Data<AdminState>,
    path: web::Path<(String, String)>,
) -> ApiResult<HttpResponse> {
    let id = path_id(&path.1)?;
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
