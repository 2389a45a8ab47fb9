//! Locations, once for every face.

use serde::Deserialize;
use switchboard_core::schema::{Name, Timezone};
use switchboard_store::admin::audit::json;
use switchboard_store::admin::locations::{self as repo, LocationFields, LocationRow};
use utoipa::ToSchema;
use uuid::Uuid;

use super::record;
use crate::AdminState;
use crate::auth::{Access, Editor, Viewer};
use crate::error::ApiResult;
use crate::validation::{Problems, nullable, schemas};

/// `POST …/locations` body.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LocationIn {
    #[schema(value_type = Name)]
    pub name: String,
    #[schema(value_type = Timezone)]
    pub timezone: String,
    #[serde(default)]
    #[schema(schema_with = schemas::address)]
    pub address: Option<String>,
}

/// `PATCH …/locations/{id}` body: absent fields are kept.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LocationPatch {
    /// `null` is the same as leaving it out.
    #[serde(default)]
    #[schema(value_type = Option<Name>)]
    pub name: Option<String>,
    /// `null` is the same as leaving it out.
    #[serde(default)]
    #[schema(value_type = Option<Timezone>)]
    pub timezone: Option<String>,
    /// `null` clears it.
    #[serde(default, deserialize_with = "nullable")]
    #[schema(schema_with = schemas::address)]
    pub address: Option<Option<String>>,
}

/// Checks the fields; the name as sent (before trimming) when it is new.
fn check(f: &LocationFields, sent_name: Option<&str>) -> ApiResult<()> {
    let mut problems = Problems::new();
    problems.name("name", sent_name.unwrap_or(&f.name));
    problems.timezone("timezone", &f.timezone);
    if let Some(address) = &f.address {
        problems.text("address", address, 1000);
    }
    problems.finish()
}

/// The clinic's locations.
pub async fn list(access: &Access<Viewer>, state: &AdminState) -> ApiResult<Vec<LocationRow>> {
    let client = state.pool.get().await?;
    Ok(repo::list(&client, access.clinic_id).await?)
}

/// Makes a location.
pub async fn create(
    access: &Access<Editor>,
    state: &AdminState,
    input: LocationIn,
) -> ApiResult<LocationRow> {
    let fields = LocationFields {
        name: input.name.trim().to_owned(),
        timezone: input.timezone,
        address: input.address,
    };
    check(&fields, Some(&input.name))?;
    let mut client = state.pool.get().await?;
    let tx = client.transaction().await?;
    let location = repo::create(&tx, access.clinic_id, &fields).await?;
    record(
        &tx,
        &access.actor(),
        access.clinic_id,
        "location.create",
        ("location", location.id.to_string()),
        None,
        json(&location),
    )
    .await?;
    tx.commit().await?;
    Ok(location)
}

/// One location.
pub async fn get(access: &Access<Viewer>, state: &AdminState, id: Uuid) -> ApiResult<LocationRow> {
    let client = state.pool.get().await?;
    Ok(repo::get(&client, access.clinic_id, id).await?)
}

/// Changes a location; what a patch leaves out is kept.
pub async fn update(
    access: &Access<Editor>,
    state: &AdminState,
    id: Uuid,
    patch: LocationPatch,
) -> ApiResult<LocationRow> {
    let mut client = state.pool.get().await?;
    let tx = client.transaction().await?;
    let before = repo::get(&tx, access.clinic_id, id).await?;
    let mut fields = LocationFields::from(&before);
    if let Some(name) = &patch.name {
        fields.name = name.trim().to_owned();
    }
    if let Some(tz) = patch.timezone {
        fields.timezone = tz;
    }
    if let Some(address) = patch.address {
        fields.address = address;
    }
    check(&fields, patch.name.as_deref())?;
    let after = repo::update(&tx, access.clinic_id, id, &fields).await?;
    record(
        &tx,
        &access.actor(),
        access.clinic_id,
        "location.update",
        ("location", id.to_string()),
        json(&before),
        json(&after),
    )
    .await?;
    tx.commit().await?;
    Ok(after)
}

/// Deletes a location; refused (`location_in_use`) while a number is there.
pub async fn delete(access: &Access<Editor>, state: &AdminState, id: Uuid) -> ApiResult<()> {
    let mut client = state.pool.get().await?;
    let tx = client.transaction().await?;
    let before = repo::delete(&tx, access.clinic_id, id).await?;
    record(
        &tx,
        &access.actor(),
        access.clinic_id,
        "location.delete",
        ("location", id.to_string()),
        json(&before),
        None,
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Puts exactly `number_ids` (live numbers of the clinic) at the location:
/// the listed ones move there, the others there leave it; one transaction.
pub async fn set_numbers(
    access: &Access<Editor>,
    state: &AdminState,
    id: Uuid,
    number_ids: &[String],
) -> ApiResult<Vec<Uuid>> {
    use switchboard_core::model::Lifecycle;
    use switchboard_store::admin::numbers::{self as numbers, NumberDetails};
    let mut client = state.pool.get().await?;
    let tx = client.transaction().await?;
    repo::get(&tx, access.clinic_id, id).await?;
    let live: Vec<_> = numbers::list(&tx, access.clinic_id, false)
        .await?
        .into_iter()
        .filter(|n| n.lifecycle != Lifecycle::Released)
        .collect();
    let mut problems = Problems::new();
    let mut wanted = Vec::new();
    for (i, raw) in number_ids.iter().enumerate() {
        match Uuid::parse_str(raw)
            .ok()
            .filter(|u| live.iter().any(|n| n.id == *u))
        {
            Some(u) if !wanted.contains(&u) => wanted.push(u),
            Some(_) => {}
            None => problems.push(
                format!("number_ids[{i}]"),
                format!("{raw} is not a live number of this clinic"),
            ),
        }
    }
    problems.finish()?;
    let before: Vec<Uuid> = live
        .iter()
        .filter(|n| n.location_id == Some(id))
        .map(|n| n.id)
        .collect();
    for n in &live {
        let location = if wanted.contains(&n.id) {
            Some(id)
        } else if n.location_id == Some(id) {
            None
        } else {
            continue;
        };
        if location == n.location_id {
            continue;
        }
        let details = NumberDetails {
            friendly_name: n.friendly_name.clone(),
            location_id: location,
            timezone: n.timezone.clone(),
        };
        numbers::update_details(&tx, access.clinic_id, n.id, &details).await?;
    }
    record(
        &tx,
        &access.actor(),
        access.clinic_id,
        "location.numbers.update",
        ("location", id.to_string()),
        json(&before),
        json(&wanted),
    )
    .await?;
    tx.commit().await?;
    Ok(wanted)
}
