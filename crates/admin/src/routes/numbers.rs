//! Numbers: the Phone Numbers page, a number's card with its routing, and
//! every change to a number (PATCH, routing PUT with `If-Match`,
//! enable/disable, primary, forwarding, release). The operations are
//! [`crate::ops::numbers`]; these handlers read the request and answer JSON.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, delete, get, patch, post, put, web};
use serde::Deserialize;
use switchboard_core::model::{Forwarding, RoutingDoc, RoutingOverride};
use utoipa::IntoParams;
use utoipa_actix_web::service_config::ServiceConfig;

use crate::AdminState;
use crate::auth::{Access, Admin, Editor, Viewer};
use crate::error::{ApiError, ApiResult};
use crate::extract::{Body, PathId, etag, if_match};
use crate::openapi::errors::*;
use crate::openapi::{ClinicPath, ItemPath};
use crate::ops::numbers as ops;
pub use crate::ops::numbers::{
    ClinicView, ForwardingOut, NamedRefOut, NumberCardOut, NumberDetailOut, NumberPatch,
    NumbersPageOut, check_location, clinic_context, display, load_detail,
};

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(page)
        .service(detail)
        .service(patch)
        .service(put_routing)
        .service(enable)
        .service(disable)
        .service(primary)
        .service(put_forwarding)
        .service(delete_forwarding)
        .service(put_override)
        .service(delete_override)
        .service(release);
}

/// `GET …/numbers` query.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct PageQuery {
    /// Digits of the number (text of only digits, `+ - ( ) .` and spaces),
    /// or part of a friendly, assistant or ring group name, any case.
    #[serde(default)]
    pub q: Option<String>,
    /// `released` to include released numbers.
    #[serde(default)]
    #[param(pattern = "^(released)?$")]
    pub include: Option<String>,
}

/// The Phone Numbers page
///
/// Role: viewer. Released numbers are left out unless `include=released`.
#[utoipa::path(
    operation_id = "list_numbers",
    tag = "numbers",
    params(ClinicPath, PageQuery),
    responses(
        (status = 200, description = "The texting assistant and a card per number", body = NumbersPageOut),
        BadRequest, Unauthorized, NotFound, Unavailable,
    ),
)]
#[get("/clinics/{c}/numbers")]
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

fn detail_response(out: &NumberDetailOut) -> HttpResponse {
    detail_response_with(StatusCode::OK, out)
}

/// A number's detail with its version as `ETag`.
pub(crate) fn detail_response_with(status: StatusCode, out: &NumberDetailOut) -> HttpResponse {
    HttpResponse::build(status)
        .insert_header(("ETag", etag(out.version)))
        .json(out)
}

/// A number
///
/// Role: viewer. Its card, routing document and version (also the ETag).
#[utoipa::path(
    operation_id = "get_number",
    tag = "numbers",
    params(ItemPath),
    responses(
        (status = 200, description = "The number", body = NumberDetailOut,
            headers(("ETag" = String, description = "The version, quoted: send it back as If-Match"))),
        Unauthorized, NotFound, Unavailable,
    ),
)]
#[get("/clinics/{c}/numbers/{id}")]
async fn detail(
    access: Access<Viewer>,
    state: web::Data<AdminState>,
    id: PathId,
) -> ApiResult<HttpResponse> {
    let id = id.parse()?;
    Ok(detail_response(&ops::detail(&access, &state, id).await?))
}

/// Change a number's name, location or timezone
///
/// Role: editor. Absent fields are kept. A released number is 409.
#[utoipa::path(
    operation_id = "patch_number",
    tag = "numbers",
    params(ItemPath),
    request_body(content = NumberPatch, example = json!({"friendly_name": "Front desk line", "timezone": null})),
    responses(
        (status = 200, description = "The number as it is now", body = NumberDetailOut,
            headers(("ETag" = String, description = "The new version, quoted"))),
        BadRequest, Unauthorized, Forbidden, NotFound, Conflict, PayloadTooLarge, Invalid, Unavailable,
    ),
)]
#[patch("/clinics/{c}/numbers/{id}")]
async fn patch(
    access: Access<Editor>,
    state: web::Data<AdminState>,
    id: PathId,
    body: Body,
) -> ApiResult<HttpResponse> {
    let id = id.parse()?;
    let patch: NumberPatch = body.json()?;
    Ok(detail_response(
        &ops::update(&access, &state, id, patch).await?,
    ))
}

/// Replace a number's routing document
///
/// Role: editor. The whole document is validated (every problem at once,
/// paths prefixed `routing.`) and replaces the old one. With `If-Match`,
/// only while the number is still at that version.
#[utoipa::path(
    operation_id = "put_routing",
    tag = "numbers",
    params(
        ItemPath,
        ("If-Match" = Option<String>, Header,
            description = "The ETag read (\"7\"), or *: a stale or malformed one is 412, nothing saved"),
    ),
    request_body(
        content = RoutingDoc,
        example = json!({
            "timezone": null,
            "assistants": [],
            "ring_groups": [{"name": "Front desk", "strategy": "sequential", "ring_seconds": 20,
                             "members": [{"target": "+14155550101", "label": "Desk 1"}],
                             "schedule": [{"days": ["mon", "tue", "wed", "thu", "fri"], "start": "08:00", "end": "18:00"}]}],
            "off_hours": {"type": "voicemail", "greeting": "We are closed. Please leave a message."},
            "closures": [{"name": "Thanksgiving", "repeat": "yearly", "month": 11, "nth": 4, "weekday": "thu",
                          "action": {"type": "message", "text": "We are closed for Thanksgiving."}}]
        })
    ),
    responses(
        (status = 200, description = "The number with its new routing and version", body = NumberDetailOut,
            headers(("ETag" = String, description = "The new version, quoted"))),
        BadRequest, Unauthorized, Forbidden, NotFound, Conflict, PreconditionFailed,
        PayloadTooLarge, Invalid, Unavailable,
    ),
)]
#[put("/clinics/{c}/numbers/{id}/routing")]
async fn put_routing(
    access: Access<Editor>,
    state: web::Data<AdminState>,
    id: PathId,
    req: HttpRequest,
    body: Body,
) -> ApiResult<HttpResponse> {
    let id = id.parse()?;
    // The body first, then the document, then the version: a malformed
    // If-Match names no version, so it is stale (412) once the rest is valid.
    let doc: RoutingDoc = body.json()?;
    let expected = if_match(&req).unwrap_or(Some(-1));
    Ok(detail_response(
        &ops::save_routing(&access, &state, id, expected, doc).await?,
    ))
}

/// Enable a number
///
/// Role: editor. Lifecycle `paused` → `active`; harmless when already
/// active. A pending or released number is 409.
#[utoipa::path(
    operation_id = "enable_number",
    tag = "numbers",
    params(ItemPath),
    responses(
        (status = 200, description = "The number", body = NumberDetailOut,
            headers(("ETag" = String, description = "The version, quoted"))),
        Unauthorized, Forbidden, NotFound, Conflict, Unavailable,
    ),
)]
#[post("/clinics/{c}/numbers/{id}/enable")]
async fn enable(
    access: Access<Editor>,
    state: web::Data<AdminState>,
    id: PathId,
) -> ApiResult<HttpResponse> {
    let id = id.parse()?;
    Ok(detail_response(
        &ops::set_enabled(&access, &state, id, true).await?,
    ))
}

/// Disable a number
///
/// Role: editor. Lifecycle `active` → `paused` (calls are rejected, texts
/// ignored); harmless when already paused. A pending or released number is 409.
#[utoipa::path(
    operation_id = "disable_number",
    tag = "numbers",
    params(ItemPath),
    responses(
        (status = 200, description = "The number", body = NumberDetailOut,
            headers(("ETag" = String, description = "The version, quoted"))),
        Unauthorized, Forbidden, NotFound, Conflict, Unavailable,
    ),
)]
#[post("/clinics/{c}/numbers/{id}/disable")]
async fn disable(
    access: Access<Editor>,
    state: web::Data<AdminState>,
    id: PathId,
) -> ApiResult<HttpResponse> {
    let id = id.parse()?;
    Ok(detail_response(
        &ops::set_enabled(&access, &state, id, false).await?,
    ))
}

/// Make a number the clinic's primary
///
/// Role: editor. The old primary loses it in the same transaction.
#[utoipa::path(
    operation_id = "make_primary",
    tag = "numbers",
    params(ItemPath),
    responses(
        (status = 200, description = "The number", body = NumberDetailOut,
            headers(("ETag" = String, description = "The version, quoted"))),
        Unauthorized, Forbidden, NotFound, Conflict, Unavailable,
    ),
)]
#[post("/clinics/{c}/numbers/{id}/primary")]
async fn primary(
    access: Access<Editor>,
    state: web::Data<AdminState>,
    id: PathId,
) -> ApiResult<HttpResponse> {
    let id = id.parse()?;
    Ok(detail_response(
        &ops::make_primary(&access, &state, id).await?,
    ))
}

/// Forward a number, or link it to another
///
/// Role: editor. `{"to"}` forwards calls to an outside number;
/// `{"number_id"}` links to another number of the clinic. A loop or a chain
/// over 8 hops is 409; a target that cannot be forwarded to is 422.
#[utoipa::path(
    operation_id = "put_forwarding",
    tag = "numbers",
    params(ItemPath),
    request_body(content = Forwarding, example = json!({"to": "+14155550199"})),
    responses(
        (status = 200, description = "The number", body = NumberDetailOut,
            headers(("ETag" = String, description = "The version, quoted"))),
        BadRequest, Unauthorized, Forbidden, NotFound, Conflict, PayloadTooLarge, Invalid, Unavailable,
    ),
)]
#[put("/clinics/{c}/numbers/{id}/forwarding")]
async fn put_forwarding(
    access: Access<Editor>,
    state: web::Data<AdminState>,
    id: PathId,
    body: Body,
) -> ApiResult<HttpResponse> {
    let id = id.parse()?;
    let new: Forwarding = body.json()?;
    Ok(detail_response(
        &ops::set_forwarding(&access, &state, id, new).await?,
    ))
}

/// Stop forwarding a number
///
/// Role: editor. Harmless when it does not forward.
#[utoipa::path(
    operation_id = "delete_forwarding",
    tag = "numbers",
    params(ItemPath),
    responses(
        (status = 200, description = "The number", body = NumberDetailOut,
            headers(("ETag" = String, description = "The version, quoted"))),
        Unauthorized, Forbidden, NotFound, Unavailable,
    ),
)]
#[delete("/clinics/{c}/numbers/{id}/forwarding")]
async fn delete_forwarding(
    access: Access<Editor>,
    state: web::Data<AdminState>,
    id: PathId,
) -> ApiResult<HttpResponse> {
    let id = id.parse()?;
    Ok(detail_response(
        &ops::stop_forwarding(&access, &state, id).await?,
    ))
}

/// Close a number until an instant, or hold it open until one
///
/// Role: editor. `{"state": "closed", "until", "action"?}` runs `action`
/// (else the off-hours handler) whatever the schedules say;
/// `{"state": "open", "until", "action"}` has the assistant or ring group
/// of `action` answer. It is resolved before closures and ends by itself
/// at `until` (within 366 days); a new one replaces the old.
#[utoipa::path(
    operation_id = "put_override",
    tag = "numbers",
    params(ItemPath),
    request_body(content = RoutingOverride,
        example = json!({"state": "closed", "until": "2026-12-03T13:00:00Z"})),
    responses(
        (status = 200, description = "The number", body = NumberDetailOut,
            headers(("ETag" = String, description = "The version, quoted"))),
        BadRequest, Unauthorized, Forbidden, NotFound, Conflict, PayloadTooLarge, Invalid, Unavailable,
    ),
)]
#[put("/clinics/{c}/numbers/{id}/override")]
async fn put_override(
    access: Access<Editor>,
    state: web::Data<AdminState>,
    id: PathId,
    body: Body,
) -> ApiResult<HttpResponse> {
    let id = id.parse()?;
    let hold: RoutingOverride = body.json()?;
    Ok(detail_response(
        &ops::set_override(&access, &state, id, hold).await?,
    ))
}

/// Reopen a number
///
/// Role: editor. Ends its override now; harmless without one.
#[utoipa::path(
    operation_id = "delete_override",
    tag = "numbers",
    params(ItemPath),
    responses(
        (status = 200, description = "The number", body = NumberDetailOut,
            headers(("ETag" = String, description = "The version, quoted"))),
        Unauthorized, Forbidden, NotFound, Conflict, Unavailable,
    ),
)]
#[delete("/clinics/{c}/numbers/{id}/override")]
async fn delete_override(
    access: Access<Editor>,
    state: web::Data<AdminState>,
    id: PathId,
) -> ApiResult<HttpResponse> {
    let id = id.parse()?;
    Ok(detail_response(
        &ops::clear_override(&access, &state, id).await?,
    ))
}

/// Release a number
///
/// Role: admin. Gives the number back to Twilio; it stays, `released`, for
/// the call history. Refused (409) while an assistant is bound to it,
/// another number links to it, or it is primary among others. It cannot be
/// undone.
#[utoipa::path(
    operation_id = "release_number",
    tag = "numbers",
    params(ItemPath),
    responses(
        (status = 200, description = "The released number", body = NumberDetailOut,
            headers(("ETag" = String, description = "The version, quoted"))),
        Unauthorized, Forbidden, NotFound, Conflict, Invalid, BadGateway, Unavailable,
    ),
)]
#[post("/clinics/{c}/numbers/{id}/release")]
async fn release(
    access: Access<Admin>,
    state: web::Data<AdminState>,
    id: PathId,
) -> ApiResult<HttpResponse> {
    let id = id.parse()?;
    Ok(detail_response(&ops::release(&access, &state, id).await?))
}
