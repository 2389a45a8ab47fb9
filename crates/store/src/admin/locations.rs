//! Locations: the physical offices of a clinic.

use chrono::{DateTime, Utc};
use deadpool_postgres::GenericClient;
use serde::Serialize;
use uuid::Uuid;

use crate::error::{Refusal, StoreError, StoreResult};

/// A location as the API shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[schema(as = Location)]
pub struct LocationRow {
    pub id: Uuid,
    pub name: String,
    pub timezone: String,
    pub address: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// A location's fields.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LocationFields {
    pub name: String,
    pub timezone: String,
    pub address: Option<String>,
}

impl From<&LocationRow> for LocationFields {
    fn from(l: &LocationRow) -> Self {
        LocationFields {
            name: l.name.clone(),
            timezone: l.timezone.clone(),
            address: l.address.clone(),
        }
    }
}

const COLUMNS: &str = "id, name, timezone, address, created_at, updated_at";

fn from_row(r: &tokio_postgres::Row) -> LocationRow {
    LocationRow {
        id: r.get(0),
        name: r.get(1),
        timezone: r.get(2),
        address: r.get(3),
        created_at: r.get(4),
        updated_at: r.get(5),
    }
}

/// The clinic's locations, oldest first.
pub async fn list(client: &impl GenericClient, clinic_id: Uuid) -> StoreResult<Vec<LocationRow>> {
    let rows = client
        .query(
            &format!(
                "SELECT {COLUMNS} FROM locations WHERE clinic_id = $1 ORDER BY created_at, id"
            ),
            &[&clinic_id],
        )
        .await?;
    Ok(rows.iter().map(from_row).collect())
}

/// One location of the clinic.
pub async fn get(
    client: &impl GenericClient,
    clinic_id: Uuid,
    id: Uuid,
) -> StoreResult<LocationRow> {
    client
        .query_opt(
            &format!("SELECT {COLUMNS} FROM locations WHERE clinic_id = $1 AND id = $2"),
            &[&clinic_id, &id],
        )
        .await?
        .as_ref()
        .map(from_row)
        .ok_or(StoreError::NotFound)
}

/// Creates a location.
pub async fn create(
    tx: &impl GenericClient,
    clinic_id: Uuid,
    f: &LocationFields,
) -> StoreResult<LocationRow> {
    let row = tx
        .query_one(
            &format!(
                "INSERT INTO locations (clinic_id, name, timezone, address) VALUES ($1, $2, $3, $4) \
                 RETURNING {COLUMNS}"
            ),
            &[&clinic_id, &f.name, &f.timezone, &f.address],
        )
        .await?;
    Ok(from_row(&row))
}

/// Replaces a location's fields.
pub async fn update(
    tx: &impl GenericClient,
    clinic_id: Uuid,
    id: Uuid,
    f: &LocationFields,
) -> StoreResult<LocationRow> {
    tx.query_opt(
        &format!(
            "UPDATE locations SET name = $3, timezone = $4, address = $5, updated_at = now() \
             WHERE clinic_id = $1 AND id = $2 RETURNING {COLUMNS}"
        ),
        &[&clinic_id, &id, &f.name, &f.timezone, &f.address],
    )
    .await?
    .as_ref()
    .map(from_row)
    .ok_or(StoreError::NotFound)
}

/// Deletes a location; refused (`location_in_use`) while a live number is there.
pub async fn delete(
    tx: &impl GenericClient,
    clinic_id: Uuid,
    id: Uuid,
) -> StoreResult<LocationRow> {
    let location = get(tx, clinic_id, id).await?;
    let in_use: bool = tx
        .query_one(
            "SELECT EXISTS (SELECT 1 FROM numbers WHERE location_id = $1 AND lifecycle <> 'released')",
            &[&id],
        )
        .await?
        .get(0);
    if in_use {
        return Err(Refusal::LocationInUse.into());
    }
    // Released numbers keep their history without the location.
    tx.execute(
        "UPDATE numbers SET location_id = NULL WHERE location_id = $1",
        &[&id],
    )
    .await?;
    tx.execute(
        "DELETE FROM locations WHERE clinic_id = $1 AND id = $2",
        &[&clinic_id, &id],
    )
    .await?;
    Ok(location)
}
