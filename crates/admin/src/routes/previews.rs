//! Simulate and coverage of a number as saved ([`crate::ops::previews`]).

use actix_web::{HttpResponse, web};
use chrono::NaiveDate;
use serde::Deserialize;
use switchboard_core::simulate::SimulateRequest;

use crate::AdminState;
use crate::auth::{Access, Viewer};
use crate::error::ApiResult;
use crate::extract::{Body, path_id};
use crate::ops::previews as ops;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route(
        "/v1/clinics/{c}/numbers/{id}/simulate",
        web::post().to(simulate_call),
    )
    .route(
        "/v1/clinics/{c}/numbers/{id}/coverage",
        web::get().to(coverage_of),
    );
}

async fn simulate_call(
    access: Access<Viewer>,
    state: web::Data<AdminState>,
    path: web::Path<(String, String)>,
    body: Body,
) -> ApiResult<HttpResponse> {
    let id = path_id(&path.1)?;
    let request: SimulateRequest = body.json()?;
    let response = ops::simulate(&access, &state, id, &request, None).await?;
    Ok(HttpResponse::Ok().json(response))
}

/// `GET …/coverage` query.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CoverageQuery {
    /// The first local day, `YYYY-MM-DD`.
    pub start: NaiveDate,
    /// How many days, 1 to 62 (default 7).
    #[serde(default = "default_days")]
    pub days: u32,
}

fn default_days() -> u32 {
    7
}

async fn coverage_of(
    access: Access<Viewer>,
    state: web::Data<AdminState>,
    path: web::Path<(String, String)>,
    query: web::Query<CoverageQuery>,
) -> ApiResult<HttpResponse> {
    let id = path_id(&path.1)?;
    let response = ops::coverage(&access, &state, id, query.start, query.days, None).await?;
    Ok(HttpResponse::Ok().json(response))
}
