//! `POST /v1/clinics` (super key), `GET`/`PATCH /v1/clinics/{c}`.

use actix_web::{HttpResponse, get, patch, post, web};
use switchboard_store::admin::clinics::ClinicRow;
use utoipa_actix_web::service_config::ServiceConfig;

use crate::AdminState;
use crate::auth::{Access, Editor, Principal, SuperAccess, SuperKey, Viewer};
use crate::error::ApiResult;
use crate::extract::Body;
use crate::openapi::ClinicPath;
use crate::openapi::errors::*;
pub use crate::ops::clinics::{ClinicIn, ClinicPatch};

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(create).service(get).service(patch);
}

/// Create a clinic
///
/// The super key only; a clinic key is 403.
#[utoipa::path(
    operation_id = "create_clinic",
    tag = "clinics",
    request_body(
        content = ClinicIn,
        example = json!({"name": "Harbor Dental", "default_timezone": "America/New_York"})
    ),
    responses(
        (status = 201, description = "The clinic", body = ClinicRow),
        BadRequest, Unauthorized, Forbidden, PayloadTooLarge, Invalid, Unavailable,
    ),
)]
#[post("/clinics")]
async fn create(_: SuperKey, state: web::Data<AdminState>, body: Body) -> ApiResult<HttpResponse> {
    let input: ClinicIn = body.json()?;
    let access = SuperAccess::authorize(Principal::Super)?;
    let clinic = crate::ops::clinics::create(&access, &state, &input).await?;
    Ok(HttpResponse::Created().json(clinic))
}

/// A clinic and its settings
///
/// Role: viewer.
#[utoipa::path(
    operation_id = "get_clinic",
    tag = "clinics",
    params(ClinicPath),
    responses(
        (status = 200, description = "The clinic", body = ClinicRow),
        Unauthorized, NotFound, Unavailable,
    ),
)]
#[get("/clinics/{c}")]
async fn get(access: Access<Viewer>, state: web::Data<AdminState>) -> ApiResult<HttpResponse> {
    Ok(HttpResponse::Ok().json(crate::ops::clinics::get(&access, &state).await?))
}

/// Change a clinic's settings
///
/// Role: editor. Absent fields are kept.
#[utoipa::path(
    operation_id = "patch_clinic",
    tag = "clinics",
    params(ClinicPath),
    request_body(
        content = ClinicPatch,
        example = json!({"sms_auto_reply": "Thanks! We reply within the hour.", "voice": null})
    ),
    responses(
        (status = 200, description = "The clinic as it is now", body = ClinicRow),
        BadRequest, Unauthorized, Forbidden, NotFound, PayloadTooLarge, Invalid, Unavailable,
    ),
)]
#[patch("/clinics/{c}")]
async fn patch(
    access: Access<Editor>,
    state: web::Data<AdminState>,
    body: Body,
) -> ApiResult<HttpResponse> {
    let patch: ClinicPatch = body.json()?;
    Ok(HttpResponse::Ok().json(crate::ops::clinics::update(&access, &state, patch).await?))
}
