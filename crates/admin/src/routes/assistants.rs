//! Assistants: `GET, POST …/assistants`, `GET, PATCH, DELETE …/{id}`, and
//! `GET, PUT …/{id}/numbers` (the numbers it is bound to, both directions);
//! the operations are [`crate::ops::assistants`].

use actix_web::{HttpResponse, web};

use super::Items;
use crate::AdminState;
use crate::auth::{Access, Editor, Viewer};
use crate::error::ApiResult;
use crate::extract::{Body, path_id};
use crate::ops::assistants as ops;
pub use crate::ops::assistants::{
    AssistantIn, AssistantNumberOut, AssistantNumbersIn, AssistantPatch,
};

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/v1/clinics/{c}/assistants", web::get().to(list))
        .route("/v1/clinics/{c}/assistants", web::post().to(create))
        .route("/v1/clinics/{c}/assistants/{id}", web::get().to(get))
        .route("/v1/clinics/{c}/assistants/{id}", web::patch().to(patch))
        .route("/v1/clinics/{c}/assistants/{id}", web::delete().to(delete))
        .route(
            "/v1/clinics/{c}/assistants/{id}/numbers",
            web::get().to(numbers_of),
        )
        .route(
            "/v1/clinics/{c}/assistants/{id}/numbers",
            web::put().to(put_numbers),
        );
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
    let input: AssistantIn = body.json()?;
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
    let patch: AssistantPatch = body.json()?;
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

async fn numbers_of(
    access: Access<Viewer>,
    state: web::Data<AdminState>,
    path: web::Path<(String, String)>,
) -> ApiResult<HttpResponse> {
    let id = path_id(&path.1)?;
    let items = ops::numbers(&access, &state, id).await?;
    Ok(HttpResponse::Ok().json(Items { items }))
}

async fn put_numbers(
    access: Access<Editor>,
    state: web::Data<AdminState>,
    path: web::Path<(String, String)>,
    body: Body,
) -> ApiResult<HttpResponse> {
    let id = path_id(&path.1)?;
    let input: AssistantNumbersIn = body.json()?;
    let items = ops::set_numbers(&access, &state, id, input).await?;
    Ok(HttpResponse::Ok().json(Items { items }))
}
