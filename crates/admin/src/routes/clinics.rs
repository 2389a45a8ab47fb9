//! `POST /v1/clinics` (super key), `GET`/`PATCH /v1/clinics/{c}`.

use actix_web::{HttpResponse, web};

use crate::AdminState;
use crate::auth::{Access, Editor, Principal, SuperAccess, SuperKey, Viewer};
use crate::error::ApiResult;
use crate::extract::Body;
pub use crate::ops::clinics::{ClinicIn, ClinicPatch};

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/v1/clinics", web::post().to(create))
        .route("/v1/clinics/{c}", web::get().to(get))
        .route("/v1/clinics/{c}", web::patch().to(patch));
}

async fn create(_: SuperKey, state: web::Data<AdminState>, body: Body) -> ApiResult<HttpResponse> {
    let input: ClinicIn = body.json()?;
    let access = SuperAccess::authorize(Principal::Super)?;
    let clinic = crate::ops::clinics::create(&access, &state, &input).await?;
    Ok(HttpResponse::Created().json(clinic))
}

async fn get(access: Access<Viewer>, state: web::Data<AdminState>) -> ApiResult<HttpResponse> {
    Ok(HttpResponse::Ok().json(crate::ops::clinics::get(&access, &state).await?))
}

async fn patch(
    access: Access<Editor>,
    state: web::Data<AdminState>,
    body: Body,
) -> ApiResult<HttpResponse> {
    let patch: ClinicPatch = body.json()?;
    Ok(HttpResponse::Ok().json(crate::ops::clinics::update(&access, &state, patch).await?))
}
