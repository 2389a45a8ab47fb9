//! Locations: `GET, POST …/locations`, `GET, PATCH, DELETE …/locations/{id}`
//! ([`crate::ops::locations`]).

use actix_web::{HttpResponse, web};

use super::Items;
use crate::AdminState;
use crate::auth::{Access, Editor, Viewer};
use crate::error::ApiResult;
use crate::extract::{Body, path_id};
use crate::ops::locations as ops;
pub use crate::ops::locations::{LocationIn, LocationPatch};

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/v1/clinics/{c}/locations", web::get().to(list))
        .route("/v1/clinics/{c}/locations", web::post().to(create))
        .route("/v1/clinics/{c}/locations/{id}", web::get().to(get))
        .route("/v1/clinics/{c}/locations/{id}", web::patch().to(patch))
        .route("/v1/clinics/{c}/locations/{id}", web::delete().to(delete));
}

async fn list(access: Access<Viewer>, state: web::Data<AdminState>) -> ApiResult<HttpResponse> {
    let items = ops::list(&access, &state).await?;
    Ok(HttpResponse::Ok().json(Items { items }))
}

async fn create(
    access: Access<Editor>,
    state: web::Data<AdminState>,
    body: Body,
) -> ApiResult<HttpResponse> {
    let input: LocationIn = body.json()?;
    Ok(HttpResponse::Created().json(ops::create(&access, &state, input).await?))
}

async fn get(
    access: Access<Viewer>,
    state: web::Data<AdminState>,
    path: web::Path<(String, String)>,
) -> ApiResult<HttpResponse> {
    let id = path_id(&path.1)?;
    Ok(HttpResponse::Ok().json(ops::get(&access, &state, id).await?))
}

async fn patch(
    access: Access<Editor>,
    state: web::Data<AdminState>,
    path: web::Path<(String, String)>,
    body: Body,
) -> ApiResult<HttpResponse> {
    let id = path_id(&path.1)?;
    let patch: LocationPatch = body.json()?;
    Ok(HttpResponse::Ok().json(ops::update(&access, &state, id, patch).await?))
}

async fn delete(
    access: Access<Editor>,
    state: web::Data<AdminState>,
    path: web::Path<(String, String)>,
) -> ApiResult<HttpResponse> {
    let id = path_id(&path.1)?;
    ops::delete(&access, &state, id).await?;
    Ok(HttpResponse::NoContent().finish())
}
