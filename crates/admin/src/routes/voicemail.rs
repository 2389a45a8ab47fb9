//! Voicemail by email: `GET, PATCH …/voicemail`, `GET, PUT
//! …/numbers/{id}/voicemail-recipients` and `…/locations/{id}/voicemail-recipients`,
//! `GET …/emails` ([`crate::ops::voicemail`]).

use actix_web::{HttpResponse, get, patch, put, web};
use serde::Deserialize;
use switchboard_store::admin::voicemail::{EmailRow, Owner};
use utoipa::IntoParams;
use utoipa_actix_web::service_config::ServiceConfig;

use super::activity::{DEFAULT_LIMIT, MAX_LIMIT, Page};
use crate::AdminState;
use crate::auth::{Access, Editor, Viewer};
use crate::error::{ApiError, ApiResult};
use crate::extract::{Body, PathId};
use crate::openapi::errors::*;
use crate::openapi::{ClinicPath, ItemPath};
use crate::ops::voicemail as ops;
pub use crate::ops::voicemail::{RecipientsIo, VoicemailSettingsOut, VoicemailSettingsPatch};

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(settings)
        .service(patch_settings)
        .service(number_recipients)
        .service(put_number_recipients)
        .service(location_recipients)
        .service(put_location_recipients)
        .service(emails);
}

/// The clinic's voicemail settings
///
/// Role: viewer.
#[utoipa::path(
    operation_id = "get_voicemail_settings",
    tag = "voicemail",
    params(ClinicPath),
    responses(
        (status = 200, description = "The settings", body = VoicemailSettingsOut),
        Unauthorized, NotFound, Unavailable,
    ),
)]
#[get("/clinics/{c}/voicemail")]
async fn settings(access: Access<Viewer>, state: web::Data<AdminState>) -> ApiResult<HttpResponse> {
    Ok(HttpResponse::Ok().json(ops::settings(&access, &state).await?))
}

/// Change the clinic's voicemail settings
///
/// Role: editor. Absent fields are kept.
#[utoipa::path(
    operation_id = "patch_voicemail_settings",
    tag = "voicemail",
    params(ClinicPath),
    request_body(content = VoicemailSettingsPatch, example = json!({"transcribe": true})),
    responses(
        (status = 200, description = "The settings as they are now", body = VoicemailSettingsOut),
        BadRequest, Unauthorized, Forbidden, NotFound, PayloadTooLarge, Invalid, Unavailable,
    ),
)]
#[patch("/clinics/{c}/voicemail")]
async fn patch_settings(
    access: Access<Editor>,
    state: web::Data<AdminState>,
    body: Body,
) -> ApiResult<HttpResponse> {
    let patch: VoicemailSettingsPatch = body.json()?;
    Ok(HttpResponse::Ok().json(ops::update_settings(&access, &state, patch).await?))
}

/// Who is told of a number's voicemail
///
/// Role: viewer. The addresses of the number's own list; those of its
/// location are told too.
#[utoipa::path(
    operation_id = "get_number_voicemail_recipients",
    tag = "voicemail",
    params(ItemPath),
    responses(
        (status = 200, description = "The number's list", body = RecipientsIo),
        Unauthorized, NotFound, Unavailable,
    ),
)]
#[get("/clinics/{c}/numbers/{id}/voicemail-recipients")]
async fn number_recipients(
    access: Access<Viewer>,
    state: web::Data<AdminState>,
    id: PathId,
) -> ApiResult<HttpResponse> {
    let owner = Owner::Number(id.parse()?);
    Ok(HttpResponse::Ok().json(ops::recipients(&access, &state, owner).await?))
}

/// Replace who is told of a number's voicemail
///
/// Role: editor.
#[utoipa::path(
    operation_id = "put_number_voicemail_recipients",
    tag = "voicemail",
    params(ItemPath),
    request_body(content = RecipientsIo, example = json!({"emails": ["frontdesk@clinic.example"]})),
    responses(
        (status = 200, description = "The number's list as it is now", body = RecipientsIo),
        BadRequest, Unauthorized, Forbidden, NotFound, PayloadTooLarge, Invalid, Unavailable,
    ),
)]
#[put("/clinics/{c}/numbers/{id}/voicemail-recipients")]
async fn put_number_recipients(
    access: Access<Editor>,
    state: web::Data<AdminState>,
    id: PathId,
    body: Body,
) -> ApiResult<HttpResponse> {
    let owner = Owner::Number(id.parse()?);
    let input: RecipientsIo = body.json()?;
    Ok(HttpResponse::Ok().json(ops::set_recipients(&access, &state, owner, input).await?))
}

/// Who is told of the voicemail of every number at a location
///
/// Role: viewer.
#[utoipa::path(
    operation_id = "get_location_voicemail_recipients",
    tag = "voicemail",
    params(ItemPath),
    responses(
        (status = 200, description = "The location's list", body = RecipientsIo),
        Unauthorized, NotFound, Unavailable,
    ),
)]
#[get("/clinics/{c}/locations/{id}/voicemail-recipients")]
async fn location_recipients(
    access: Access<Viewer>,
    state: web::Data<AdminState>,
    id: PathId,
) -> ApiResult<HttpResponse> {
    let owner = Owner::Location(id.parse()?);
    Ok(HttpResponse::Ok().json(ops::recipients(&access, &state, owner).await?))
}

/// Replace who is told of the voicemail of every number at a location
///
/// Role: editor.
#[utoipa::path(
    operation_id = "put_location_voicemail_recipients",
    tag = "voicemail",
    params(ItemPath),
    request_body(content = RecipientsIo, example = json!({"emails": ["office@clinic.example"]})),
    responses(
        (status = 200, description = "The location's list as it is now", body = RecipientsIo),
        BadRequest, Unauthorized, Forbidden, NotFound, PayloadTooLarge, Invalid, Unavailable,
    ),
)]
#[put("/clinics/{c}/locations/{id}/voicemail-recipients")]
async fn put_location_recipients(
    access: Access<Editor>,
    state: web::Data<AdminState>,
    id: PathId,
    body: Body,
) -> ApiResult<HttpResponse> {
    let owner = Owner::Location(id.parse()?);
    let input: RecipientsIo = body.json()?;
    Ok(HttpResponse::Ok().json(ops::set_recipients(&access, &state, owner, input).await?))
}

/// `GET …/emails` query.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct EmailsQuery {
    /// A `next_cursor` this API gave out (anything else is 400).
    #[serde(default)]
    pub cursor: Option<String>,
    /// 1 to 200 (default 50); anything else is 400.
    #[serde(default)]
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<i64>,
}

/// The voicemail emails written
///
/// Role: viewer. Newest first, paged: sent, waiting for a retry, given up,
/// or kept in the outbox when no SMTP server is configured.
#[utoipa::path(
    operation_id = "list_emails",
    tag = "voicemail",
    params(ClinicPath, EmailsQuery),
    responses(
        (status = 200, description = "A page of emails", body = Page<EmailRow>),
        BadRequest, Unauthorized, NotFound, Unavailable,
    ),
)]
#[get("/clinics/{c}/emails")]
async fn emails(
    access: Access<Viewer>,
    state: web::Data<AdminState>,
    query: web::Query<EmailsQuery>,
) -> ApiResult<HttpResponse> {
    let limit = match query.limit {
        None => DEFAULT_LIMIT,
        Some(l) if (1..=MAX_LIMIT).contains(&l) => l,
        Some(_) => {
            return Err(ApiError::bad_request(format!(
                "limit must be 1 to {MAX_LIMIT}"
            )));
        }
    };
    let (items, next_cursor) = ops::emails(&access, &state, query.cursor.as_deref(), limit).await?;
    Ok(HttpResponse::Ok().json(Page { items, next_cursor }))
}
