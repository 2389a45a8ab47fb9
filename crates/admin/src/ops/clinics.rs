//! Clinics: made by a super principal only.

use serde::Deserialize;
use switchboard_store::admin::audit::json;
use switchboard_store::admin::clinics::{self, ClinicRow};

use super::record;
use crate::AdminState;
use crate::auth::SuperAccess;
use crate::error::ApiResult;
use crate::validation::Problems;

/// A new clinic (`POST /v1/clinics`).
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ClinicIn {
    #[schema(value_type = switchboard_core::schema::Name)]
    pub name: String,
    #[schema(value_type = switchboard_core::schema::Timezone)]
    pub default_timezone: String,
}

/// Makes a clinic.
pub async fn create(
    access: &SuperAccess,
    state: &AdminState,
    input: &ClinicIn,
) -> ApiResult<ClinicRow> {
    let mut problems = Problems::new();
    problems.name("name", &input.name);
    problems.timezone("default_timezone", &input.default_timezone);
    problems.finish()?;
    let mut client = state.pool.get().await?;
    let tx = client.transaction().await?;
    let clinic = clinics::create(&tx, input.name.trim(), &input.default_timezone).await?;
    record(
        &tx,
        &access.principal.actor(),
        clinic.id,
        "clinic.create",
        ("clinic", clinic.id.to_string()),
        None,
        json(&clinic),
    )
    .await?;
    tx.commit().await?;
    Ok(clinic)
}
