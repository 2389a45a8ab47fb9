//! Simulate and coverage: the clinic is compiled from the database with the
//! core's `Snapshot::build`, and the core's `simulate`/`coverage` (the
//! functions the webhook's routing runs) answer, rendered with the webhook's
//! public base URL, so a preview equals a real call at that instant.

use actix_web::{HttpResponse, web};
use chrono::NaiveDate;
use serde::Deserialize;
use switchboard_core::coverage::coverage;
use switchboard_core::error::PreviewError;
use switchboard_core::model::Lifecycle;
use switchboard_core::simulate::{SimulateRequest, simulate};
use switchboard_core::{RenderContext, Snapshot};
use switchboard_store::admin::numbers as repo;
use switchboard_store::snapshot::load_clinic_input;
use uuid::Uuid;

use crate::AdminState;
use crate::auth::{Access, Viewer};
use crate::error::{ApiError, ApiResult};
use crate::extract::{Body, path_id};

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

/// The clinic compiled as the routers compile it; 409 for a released
/// number (it no longer routes).
async fn compiled(state: &AdminState, clinic_id: Uuid, id: Uuid) -> ApiResult<Snapshot> {
    let mut client = state.pool.get().await?;
    let number = repo::get(&client, clinic_id, id).await?;
    if number.lifecycle == Lifecycle::Released {
        return Err(switchboard_store::StoreError::Refused(
            switchboard_store::error::Refusal::NumberReleased,
        )
        .into());
    }
    let (input, version) = load_clinic_input(&mut client, clinic_id).await?;
    Ok(Snapshot::build(input, version))
}

fn preview_error(e: PreviewError) -> ApiError {
    match e {
        PreviewError::NumberNotFound(_) => ApiError::NotFound,
        PreviewError::Invalid(field) => ApiError::Invalid(vec![field]),
    }
}

async fn simulate_call(
    access: Access<Viewer>,
    state: web::Data<AdminState>,
    path: web::Path<(String, String)>,
    body: Body,
) -> ApiResult<HttpResponse> {
    let id = path_id(&path.1)?;
    let request: SimulateRequest = body.json()?;
    let snapshot = compiled(&state, access.clinic_id, id).await?;
    let ctx = RenderContext {
        public_base_url: &state.public_base_url,
    };
    let response = simulate(&snapshot, &id.to_string(), &request, &ctx).map_err(preview_error)?;
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
    let snapshot = compiled(&state, access.clinic_id, id).await?;
    let response =
        coverage(&snapshot, &id.to_string(), query.start, query.days).map_err(preview_error)?;
    Ok(HttpResponse::Ok().json(response))
}
