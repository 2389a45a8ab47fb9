//! Simulate and coverage, on the number as saved or on a draft of its
//! routing: the clinic is compiled from the database with the core's
//! `Snapshot::build` (a draft in place of the number's saved routing), and
//! the core's `simulate`/`coverage` answer, rendered with the webhook's
//! public base URL, so a preview equals a real call at that instant.

use chrono::{NaiveDate, Utc};
use switchboard_core::coverage::{
    CoverageResponse, coverage as core_coverage, first_instant_of, local_today, opening_after,
    wall_clock,
};
use switchboard_core::error::PreviewError;
use switchboard_core::model::{Lifecycle, RoutingDoc};
use switchboard_core::simulate::{SimulateRequest, SimulateResponse, simulate as core_simulate};
use switchboard_core::{RenderContext, Snapshot};
use switchboard_store::StoreError;
use switchboard_store::admin::numbers as repo;
use switchboard_store::error::Refusal;
use switchboard_store::snapshot::load_clinic_input;
use uuid::Uuid;

use crate::AdminState;
use crate::auth::{Access, Viewer};
use crate::error::{ApiError, ApiResult};

/// A number's routing as someone is editing it, not yet saved.
#[derive(Debug, Clone)]
pub struct Draft {
    pub routing: RoutingDoc,
    pub location_id: Option<Uuid>,
}

/// The clinic compiled as the routers compile it, with `draft` in place of
/// the number's saved routing; 409 for a released number (it no longer
/// routes).
async fn compiled(
    access: &Access<Viewer>,
    state: &AdminState,
    id: Uuid,
    draft: Option<&Draft>,
) -> ApiResult<Snapshot> {
    let mut client = state.pool.get().await?;
    let number = repo::get(&client, access.clinic_id, id).await?;
    if number.lifecycle == Lifecycle::Released {
        return Err(StoreError::Refused(Refusal::NumberReleased).into());
    }
    let (mut input, version) = load_clinic_input(&mut client, access.clinic_id).await?;
    if let Some(draft) = draft {
        let key = id.to_string();
        for clinic in &mut input.clinics {
            for n in clinic.numbers.iter_mut().filter(|n| n.id == key) {
                n.routing = draft.routing.clone();
                n.location_id = draft.location_id.map(|l| l.to_string());
            }
        }
    }
    Ok(Snapshot::build(input, version))
}

fn preview_error(e: PreviewError) -> ApiError {
    match e {
        PreviewError::NumberNotFound(_) => ApiError::NotFound,
        PreviewError::Invalid(field) => ApiError::Invalid(vec![field]),
    }
}

/// What a call or text would get.
pub async fn simulate(
    access: &Access<Viewer>,
    state: &AdminState,
    id: Uuid,
    request: &SimulateRequest,
    draft: Option<&Draft>,
) -> ApiResult<SimulateResponse> {
    let snapshot = compiled(access, state, id, draft).await?;
    let ctx = RenderContext {
        public_base_url: &state.public_base_url,
    };
    core_simulate(&snapshot, &id.to_string(), request, &ctx).map_err(preview_error)
}

/// Who answers when over `days` local days from `start`.
pub async fn coverage(
    access: &Access<Viewer>,
    state: &AdminState,
    id: Uuid,
    start: NaiveDate,
    days: u32,
    draft: Option<&Draft>,
) -> ApiResult<CoverageResponse> {
    coverage_from(access, state, id, Some(start), days, draft).await
}

/// [`coverage`] from `start`, or from today on the number's clock (the
/// number its links end at) when `start` is `None`.
pub async fn coverage_from(
    access: &Access<Viewer>,
    state: &AdminState,
    id: Uuid,
    start: Option<NaiveDate>,
    days: u32,
    draft: Option<&Draft>,
) -> ApiResult<CoverageResponse> {
    let snapshot = compiled(access, state, id, draft).await?;
    let key = id.to_string();
    let start = match start {
        Some(start) => start,
        None => local_today(&snapshot, &key, Utc::now()).map_err(preview_error)?,
    };
    core_coverage(&snapshot, &key, start, days).map_err(preview_error)
}

/// When a number's schedules next open, for "closed until…": after now,
/// and from tomorrow on its wall clock (the number its links end at).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Openings {
    pub timezone: chrono_tz::Tz,
    pub next: Option<chrono::DateTime<Utc>>,
    pub tomorrow: Option<chrono::DateTime<Utc>>,
}

/// The number's [`Openings`] at `now`.
pub async fn openings(
    access: &Access<Viewer>,
    state: &AdminState,
    id: Uuid,
    now: chrono::DateTime<Utc>,
) -> ApiResult<Openings> {
    let snapshot = compiled(access, state, id, None).await?;
    let key = id.to_string();
    let today = local_today(&snapshot, &key, now).map_err(preview_error)?;
    let timezone = wall_clock(&snapshot, &key).map_err(preview_error)?;
    let next = opening_after(&snapshot, &key, now).map_err(preview_error)?;
    let tomorrow = match today.succ_opt().and_then(|d| first_instant_of(timezone, d)) {
        Some(midnight) => opening_after(&snapshot, &key, midnight - chrono::Duration::minutes(1))
            .map_err(preview_error)?,
        None => None,
    };
    Ok(Openings {
        timezone,
        next,
        tomorrow,
    })
}

/// Everything the routing page shows of a number at once, from one
/// compilation: the coverage of a span, who answers off hours (and whether
/// `off_hours` says so), and optionally a simulated call.
pub struct Preview {
    pub coverage: CoverageResponse,
    pub off_hours: (switchboard_core::resolve::Handler<'static>, bool),
    pub simulation: Option<SimulateResponse>,
}

/// The routing page's preview.
pub async fn preview(
    access: &Access<Viewer>,
    state: &AdminState,
    id: Uuid,
    (start, days): (NaiveDate, u32),
    simulate: Option<&SimulateRequest>,
    draft: Option<&Draft>,
) -> ApiResult<Preview> {
    let snapshot = compiled(access, state, id, draft).await?;
    let key = id.to_string();
    let ctx = RenderContext {
        public_base_url: &state.public_base_url,
    };
    Ok(Preview {
        coverage: core_coverage(&snapshot, &key, start, days).map_err(preview_error)?,
        off_hours: switchboard_core::coverage::off_hours_of(&snapshot, &key)
            .map_err(preview_error)?,
        simulation: simulate
            .map(|r| core_simulate(&snapshot, &key, r, &ctx))
            .transpose()
            .map_err(preview_error)?,
    })
}
