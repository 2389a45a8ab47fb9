//! Simulate and coverage of a number as saved ([`crate::ops::previews`]).

use actix_web::{HttpResponse, get, post, web};
use chrono::NaiveDate;
use serde::Deserialize;
use switchboard_core::coverage::CoverageResponse;
use switchboard_core::simulate::{SimulateRequest, SimulateResponse};
use utoipa::IntoParams;
use utoipa_actix_web::service_config::ServiceConfig;

use crate::AdminState;
use crate::auth::{Access, Viewer};
use crate::error::ApiResult;
use crate::extract::{Body, PathId};
use crate::openapi::ItemPath;
use crate::openapi::errors::*;
use crate::ops::previews as ops;

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(simulate_call).service(coverage_of);
}

/// What a call or text would get at an instant
///
/// Role: viewer. Runs the webhook's own routing on the clinic as the
/// database holds it: `twiml` is what the webhook would answer. A released
/// number is 409.
#[utoipa::path(
    operation_id = "simulate",
    tag = "previews",
    params(ItemPath),
    request_body(
        content = SimulateRequest,
        example = json!({"at": "2026-11-26T18:00:00Z", "channel": "voice", "from": "+14155559876", "outcomes": ["no-answer"]})
    ),
    responses(
        (status = 200, description = "The answer, who takes it and why", body = SimulateResponse),
        BadRequest, Unauthorized, NotFound, Conflict, PayloadTooLarge, Invalid, Unavailable,
    ),
)]
#[post("/clinics/{c}/numbers/{id}/simulate")]
async fn simulate_call(
    access: Access<Viewer>,
    state: web::Data<AdminState>,
    id: PathId,
    body: Body,
) -> ApiResult<HttpResponse> {
    let id = id.parse()?;
    let request: SimulateRequest = body.json()?;
    let response = ops::simulate(&access, &state, id, &request, None).await?;
    Ok(HttpResponse::Ok().json(response))
}

/// `GET …/coverage` query.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct CoverageQuery {
    /// The first local day, `YYYY-MM-DD`; today on the number's clock
    /// (the number its links end at) when left out.
    #[serde(default)]
    #[param(value_type = Option<String>, format = Date)]
    pub start: Option<NaiveDate>,
    /// How many days, 1 to 62 (default 7).
    #[serde(default = "default_days")]
    #[param(required = false, minimum = 1, maximum = 62)]
    pub days: u32,
}

fn default_days() -> u32 {
    7
}

/// Who answers when
///
/// Role: viewer. Cuts the local days `[start, start + days)` of the number
/// its links end at into maximal segments with one answer each. A released
/// number is 409; `days` out of 1–62 is 422.
#[utoipa::path(
    operation_id = "coverage",
    tag = "previews",
    params(ItemPath, CoverageQuery),
    responses(
        (status = 200, description = "Segments and warnings", body = CoverageResponse),
        BadRequest, Unauthorized, NotFound, Conflict, Invalid, Unavailable,
    ),
)]
#[get("/clinics/{c}/numbers/{id}/coverage")]
async fn coverage_of(
    access: Access<Viewer>,
    state: web::Data<AdminState>,
    id: PathId,
    query: web::Query<CoverageQuery>,
) -> ApiResult<HttpResponse> {
    let id = id.parse()?;
    let response = ops::coverage_from(&access, &state, id, query.start, query.days, None).await?;
    Ok(HttpResponse::Ok().json(response))
}
