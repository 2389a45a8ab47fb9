//! Numbers: the Phone Numbers page, a number's card with its routing, and
//! every change to a number (PATCH, routing PUT with `If-Match`,
//! enable/disable, primary, forwarding, release). The operations are
//! [`crate::ops::numbers`]; these handlers read the request and answer JSON.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use serde::Deserialize;
use switchboard_core::model::{Forwarding, RoutingDoc};

use crate::AdminState;
use crate::auth::{Access, Admin, Editor, Viewer};
use crate::error::{ApiError, ApiResult};
use crate::extract::{Body, etag, if_match, path_id};
use crate::ops::numbers as ops;
pub use crate::ops::numbers::{
    ClinicView, ForwardingOut, NamedRefOut, NumberCardOut, NumberDetailOut, NumberPatch,
    NumbersPageOut, check_location, clinic_context, display, load_detail,
};

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/v1/clinics/{c}/numbers", web::get().to(page))
        .route("/v1/clinics/{c}/numbers/{id}", web::get().to(detail))
        .route("/v1/clinics/{c}/numbers/{id}", web::patch().to(patch))
        .route(
            "/v1/clinics/{c}/numbers/{id}/routing",
            web::put().to(put_routing),
        )
        .route(
            "/v1/clinics/{c}/numbers/{id}/enable",
            web::post().to(enable),
        )
        .route(
            "/v1/clinics/{c}/numbers/{id}/disable",
            web::post().to(disable),
        )
        .route(
            "/v1/clinics/{c}/numbers/{id}/primary",
            web::post().to(primary),
        )
        .route(
            "/v1/clinics/{c}/numbers/{id}/forwarding",
            web::put().to(put_forwarding),
        )
        .route(
            "/v1/clinics/{c}/numbers/{id}/forwarding",
            web::delete().to(delete_forwarding),
        )
        .route(
            "/v1/clinics/{c}/numbers/{id}/release",
            web::post().to(release),
        );
}

/// `GET …/numbers` query.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PageQuery {
    #[serde(default)]
    pub q: Option<String>,
    /// `released` to include released numbers.
    #[serde(default)]
    pub include: Option<String>,
}

async fn page(
    access: Access<Viewer>,
    state: web::Data<AdminState>,
    query: web::Query<PageQuery>,
) -> ApiResult<HttpResponse> {
    let include_released = match query.include.as_deref() {
        None | Some("") => false,
        Some("released") => true,
        Some(other) => {
            return Err(ApiError::bad_request(format!(
                "include: unknown value {other:?} (only \"released\")"
            )));
        }
    };
    let page = ops::page(
        &access,
        &state,
        query.q.as_deref().unwrap_or(""),
        include_released,
    )
    .await?;
    Ok(HttpResponse::Ok().json(page))
}

fn detail_response(detail: &NumberDetailOut) -> HttpResponse {
    detail_response_with(StatusCode::OK, detail)
}

/// A number's detail with its version as `ETag`.
pub(crate) fn detail_response_with(status: StatusCode, detail: &NumberDetailOut) -> HttpResponse {
    HttpResponse::build(status)
        .insert_header(("ETag", etag(detail.version)))
        .json(detail)
}

async fn detail(
    access: Access<Viewer>,
    state: web::Data<AdminState>,
    path: web::Path<(String, String)>,
) -> ApiResult<HttpResponse> {
    let id = path_id(&path.1)?;
    Ok(detail_response(&ops::detail(&access, &state, id).await?))
}

async fn patch(
    access: Access<Editor>,
    state: web::Data<AdminState>,
    path: web::Path<(String, String)>,
    body: Body,
) -> ApiResult<HttpResponse> {
    let id = path_id(&path.1)?;
    let patch: NumberPatch = body.json()?;
    Ok(detail_response(
        &ops::update(&access, &state, id, patch).await?,
    ))
}

async fn put_routing(
    access: Access<Editor>,
    state: web::Data<AdminState>,
    path: web::Path<(String, String)>,
    req: HttpRequest,
    body: Body,
) -> ApiResult<HttpResponse> {
    let id = path_id(&path.1)?;
    let expected = if_match(&req)?;
    let doc: RoutingDoc = body.json()?;
    Ok(detail_response(
        &ops::save_routing(&access, &state, id, expected, doc).await?,
    ))
}

async fn enable(
    access: Access<Editor>,
    state: web::Data<AdminState>,
    path: web::Path<(String, String)>,
) -> ApiResult<HttpResponse> {
    let id = path_id(&path.1)?;
    Ok(detail_response(
        &ops::set_enabled(&access, &state, id, true).await?,
    ))
}

async fn disable(
    access: Access<Editor>,
    state: web::Data<AdminState>,
    path: web::Path<(String, String)>,
) -> ApiResult<HttpResponse> {
    let id = path_id(&path.1)?;
    Ok(detail_response(
        &ops::set_enabled(&access, &state, id, false).await?,
    ))
}

async fn primary(
    access: Access<Editor>,
    state: web::Data<AdminState>,
    path: web::Path<(String, String)>,
) -> ApiResult<HttpResponse> {
    let id = path_id(&path.1)?;
    Ok(detail_response(
        &ops::make_primary(&access, &state, id).await?,
    ))
}

async fn put_forwarding(
    access: Access<Editor>,
    state: web::Data<AdminState>,
    path: web::Path<(String, String)>,
    body: Body,
) -> ApiResult<HttpResponse> {
    let id = path_id(&path.1)?;
    let new: Forwarding = body.json()?;
    Ok(detail_response(
        &ops::set_forwarding(&access, &state, id, new).await?,
    ))
}

async fn delete_forwarding(
    access: Access<Editor>,
    state: web::Data<AdminState>,
    path: web::Path<(String, String)>,
) -> ApiResult<HttpResponse> {
    let id = path_id(&path.1)?;
    Ok(detail_response(
        &ops::stop_forwarding(&access, &state, id).await?,
    ))
}

async fn release(
    access: Access<Admin>,
    state: web::Data<AdminState>,
    path: web::Path<(String, String)>,
) -> ApiResult<HttpResponse> {
    let id = path_id(&path.1)?;
    Ok(detail_response(&ops::release(&access, &state, id).await?))
}
