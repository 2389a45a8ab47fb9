//! Numbers: the rows behind the Phone Numbers page and every change to them.
//!
//! The caller holds the transaction; functions that apply a state rule
//! expect the clinic to be locked with [`super::lock_clinic`] first.

use chrono::{DateTime, Utc};
use deadpool_postgres::GenericClient;
use serde::Serialize;
use switchboard_core::model::{Forwarding, Lifecycle, RoutingDoc, RoutingOverride};
use switchboard_core::snapshot::ClinicConfig;

use crate::snapshot::Documents;
use switchboard_core::validate::NumberLink;
use tokio_postgres::types::Json;
use uuid::Uuid;

use crate::error::{Refusal, StoreError, StoreResult};

/// A number's row without its routing document (whose `timezone` is the
/// number's, shown here).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NumberRow {
    pub id: Uuid,
    pub clinic_id: Uuid,
    pub e164: String,
    pub friendly_name: Option<String>,
    pub lifecycle: Lifecycle,
    pub is_primary: bool,
    pub timezone: Option<String>,
    pub location_id: Option<Uuid>,
    pub forwarding: Option<Forwarding>,
    pub twilio_sid: Option<String>,
    pub version: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub released_at: Option<DateTime<Utc>>,
}

const COLUMNS: &str = "id, clinic_id, e164, friendly_name, lifecycle, is_primary, routing->>'timezone', \
                       location_id, forward_to_e164, forward_to_number_id, twilio_sid, version, \
                       created_at, updated_at, released_at";

fn from_row(r: &tokio_postgres::Row) -> StoreResult<NumberRow> {
    from_row_at(r, 0)
}

/// A number of [`COLUMNS`] starting at column `at` of the row.
fn from_row_at(r: &tokio_postgres::Row, at: usize) -> StoreResult<NumberRow> {
    let forward_e164: Option<String> = r.try_get(at + 8)?;
    let forward_number: Option<Uuid> = r.try_get(at + 9)?;
    let forwarding = match (forward_e164, forward_number) {
        (Some(to), _) => Some(Forwarding::External { to }),
        (None, Some(n)) => Some(Forwarding::Number {
            number_id: n.to_string(),
        }),
        (None, None) => None,
    };
    Ok(NumberRow {
        id: r.try_get(at)?,
        clinic_id: r.try_get(at + 1)?,
        e164: r.try_get(at + 2)?,
        friendly_name: r.try_get(at + 3)?,
        lifecycle: crate::snapshot::lifecycle(r.try_get(at + 4)?)?,
        is_primary: r.try_get(at + 5)?,
        timezone: r.try_get(at + 6)?,
        location_id: r.try_get(at + 7)?,
        forwarding,
        twilio_sid: r.try_get(at + 10)?,
        version: r.try_get(at + 11)?,
        created_at: r.try_get(at + 12)?,
        updated_at: r.try_get(at + 13)?,
        released_at: r.try_get(at + 14)?,
    })
}

/// A clinic whole as the routers compile it, released numbers included,
/// and each number's row: what the cards of the Phone Numbers page are
/// made of, four statements in one round trip. `NotFound` when the clinic
/// does not exist.
pub async fn clinic_with_rows(
    client: &impl GenericClient,
    clinic_id: Uuid,
) -> StoreResult<(ClinicConfig, Vec<NumberRow>)> {
    clinic_rows(client, clinic_id, Documents::All).await
}

/// [`clinic_with_rows`] for one number's card: the routing documents are
/// read for that number and the numbers its links lead to only (the
/// others' are empty, and so is their rows' timezone), which is all its
/// card is made of.
pub async fn clinic_with_rows_for(
    client: &impl GenericClient,
    clinic_id: Uuid,
    number_id: Uuid,
) -> StoreResult<(ClinicConfig, Vec<NumberRow>)> {
    clinic_rows(client, clinic_id, Documents::ChainOf(number_id)).await
}

async fn clinic_rows(
    client: &impl GenericClient,
    clinic_id: Uuid,
    documents: Documents,
) -> StoreResult<(ClinicConfig, Vec<NumberRow>)> {
    // The timezone from the documents read, not parsed again by PostgreSQL
    // for every number (one with an empty document has none).
    let columns = COLUMNS.replace("routing->>'timezone'", "NULL::text");
    let (clinic, rows) = crate::snapshot::read_clinic_rows(
        client,
        clinic_id,
        crate::snapshot::Released::Included,
        &format!(", {columns}"),
        documents,
    )
    .await?;
    let mut numbers = Vec::with_capacity(rows.len());
    for (row, config) in rows.iter().zip(&clinic.numbers) {
        // After the loader's ten columns.
        let mut number = from_row_at(row, 10)?;
        number.timezone = config.routing.timezone.clone();
        numbers.push(number);
    }
    Ok((clinic, numbers))
}

/// The clinic's numbers, oldest first; released ones only when asked.
pub async fn list(
    client: &impl GenericClient,
    clinic_id: Uuid,
    include_released: bool,
) -> StoreResult<Vec<NumberRow>> {
    client
        .query(
            &format!(
                "SELECT {COLUMNS} FROM numbers WHERE clinic_id = $1 \
                 AND ($2 OR lifecycle <> 'released') ORDER BY created_at, id"
            ),
            &[&clinic_id, &include_released],
        )
        .await?
        .iter()
        .map(from_row)
        .collect()
}

/// One number of the clinic.
pub async fn get(client: &impl GenericClient, clinic_id: Uuid, id: Uuid) -> StoreResult<NumberRow> {
    match client
        .query_opt(
            &format!("SELECT {COLUMNS} FROM numbers WHERE clinic_id = $1 AND id = $2"),
            &[&clinic_id, &id],
        )
        .await?
    {
        Some(row) => from_row(&row),
        None => Err(StoreError::NotFound),
    }
}

/// One number of the clinic, its row locked until the transaction ends.
pub async fn get_for_update(
    tx: &impl GenericClient,
    clinic_id: Uuid,
    id: Uuid,
) -> StoreResult<NumberRow> {
    match tx
        .query_opt(
            &format!("SELECT {COLUMNS} FROM numbers WHERE clinic_id = $1 AND id = $2 FOR UPDATE"),
            &[&clinic_id, &id],
        )
        .await?
    {
        Some(row) => from_row(&row),
        None => Err(StoreError::NotFound),
    }
}

/// The card fields a PATCH changes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NumberDetails {
    pub friendly_name: Option<String>,
    pub location_id: Option<Uuid>,
    pub timezone: Option<String>,
}

/// Replaces a number's details. The timezone is the routing document's:
/// changing it rewrites the document and bumps the version like a routing
/// PUT.
pub async fn update_details(
    tx: &impl GenericClient,
    clinic_id: Uuid,
    id: Uuid,
    d: &NumberDetails,
) -> StoreResult<NumberRow> {
    let row = tx
        .query_opt(
            "UPDATE numbers SET friendly_name = $3, location_id = $4, updated_at = now() \
             WHERE clinic_id = $1 AND id = $2 RETURNING routing::text",
            &[&clinic_id, &id, &d.friendly_name, &d.location_id],
        )
        .await?
        .ok_or(StoreError::NotFound)?;
    let mut doc = crate::routing::parse(id, row.try_get(0)?)?;
    if doc.timezone != d.timezone {
        doc.timezone = d.timezone.clone();
        crate::routing::write(tx, clinic_id, id, &doc).await?;
    }
    get(tx, clinic_id, id).await
}

/// A number locked for a routing save: what the save checks, and the
/// document it replaces as stored (for the audit log; unparsed, so that a
/// document that does not parse can still be replaced).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LockedRouting {
    pub lifecycle: Lifecycle,
    pub version: i64,
    pub routing: serde_json::Value,
}

/// Locks a number of the clinic for a routing save (until the transaction
/// ends) and reads its document: one prepared statement.
pub async fn lock_routing(
    tx: &impl GenericClient,
    clinic_id: Uuid,
    id: Uuid,
) -> StoreResult<LockedRouting> {
    let statement = tx
        .prepare_cached(
            "SELECT lifecycle, version, routing FROM numbers \
             WHERE id = $1 AND clinic_id = $2 FOR UPDATE",
        )
        .await?;
    let row = tx
        .query_opt(&statement, &[&id, &clinic_id])
        .await?
        .ok_or(StoreError::NotFound)?;
    Ok(LockedRouting {
        lifecycle: crate::snapshot::lifecycle(row.try_get(0)?)?,
        version: row.try_get(1)?,
        routing: row.try_get(2)?,
    })
}

/// Saves a whole routing document over a number locked with
/// [`lock_routing`] when it is still at `expected` (`stale_version`
/// otherwise, the `If-Match` check). Returns the saved document (every id
/// filled in) and the new version.
pub async fn save_locked(
    tx: &impl GenericClient,
    clinic_id: Uuid,
    id: Uuid,
    locked: &LockedRouting,
    expected: Option<i64>,
    doc: &RoutingDoc,
) -> StoreResult<(RoutingDoc, i64)> {
    if locked.lifecycle == Lifecycle::Released {
        return Err(Refusal::NumberReleased.into());
    }
    if expected.is_some_and(|v| v != locked.version) {
        return Err(Refusal::StaleVersion.into());
    }
    let stored = crate::routing::canonical(doc)?;
    let version = crate::routing::write(tx, clinic_id, id, &stored).await?;
    Ok((stored, version))
}

/// Saves a whole routing document when the number is still at `expected`
/// (`stale_version` otherwise), in the caller's transaction: [`lock_routing`]
/// then [`save_locked`].
pub async fn save_routing(
    tx: &impl GenericClient,
    clinic_id: Uuid,
    id: Uuid,
    expected: Option<i64>,
    doc: &RoutingDoc,
) -> StoreResult<(RoutingDoc, i64)> {
    let locked = lock_routing(tx, clinic_id, id).await?;
    save_locked(tx, clinic_id, id, &locked, expected, doc).await
}

/// Sets (or, with `None`, clears) the override of a live number; returns
/// the one it replaces as stored.
pub async fn set_override(
    tx: &impl GenericClient,
    clinic_id: Uuid,
    id: Uuid,
    hold: Option<&RoutingOverride>,
) -> StoreResult<Option<serde_json::Value>> {
    let row = tx
        .query_opt(
            "SELECT lifecycle, routing_override FROM numbers \
             WHERE id = $1 AND clinic_id = $2 FOR UPDATE",
            &[&id, &clinic_id],
        )
        .await?
        .ok_or(StoreError::NotFound)?;
    match crate::snapshot::lifecycle(row.try_get(0)?)? {
        Lifecycle::Released => return Err(Refusal::NumberReleased.into()),
        Lifecycle::Pending => return Err(Refusal::NumberPending.into()),
        Lifecycle::Active | Lifecycle::Paused => {}
    }
    let before: Option<serde_json::Value> = row.try_get(1)?;
    tx.execute(
        "UPDATE numbers SET routing_override = $2, updated_at = now() WHERE id = $1",
        &[&id, &hold.map(Json)],
    )
    .await?;
    Ok(before)
}

/// The live numbers of a location, oldest first.
pub async fn of_location(
    tx: &impl GenericClient,
    clinic_id: Uuid,
    location_id: Uuid,
) -> StoreResult<Vec<Uuid>> {
    Ok(tx
        .query(
            "SELECT id FROM numbers WHERE clinic_id = $1 AND location_id = $2 \
             AND lifecycle IN ('active', 'paused') ORDER BY created_at, id",
            &[&clinic_id, &location_id],
        )
        .await?
        .iter()
        .map(|r| r.get(0))
        .collect())
}

/// Sets the lifecycle of a live number between `active` and `paused`.
pub async fn set_enabled(
    tx: &impl GenericClient,
    clinic_id: Uuid,
    id: Uuid,
    enabled: bool,
) -> StoreResult<(NumberRow, NumberRow)> {
    let before = get_for_update(tx, clinic_id, id).await?;
    match before.lifecycle {
        Lifecycle::Released => return Err(Refusal::NumberReleased.into()),
        Lifecycle::Pending => return Err(Refusal::NumberPending.into()),
        Lifecycle::Active | Lifecycle::Paused => {}
    }
    let to = if enabled {
        Lifecycle::Active
    } else {
        Lifecycle::Paused
    };
    if before.lifecycle == to {
        return Ok((before.clone(), before));
    }
    tx.execute(
        "UPDATE numbers SET lifecycle = $2, updated_at = now() WHERE id = $1",
        &[&id, &to.as_str()],
    )
    .await?;
    let after = get(tx, clinic_id, id).await?;
    Ok((before, after))
}

/// Makes a number the clinic's primary, clearing the old one. Expects the
/// clinic locked; returns the id of the previous primary.
pub async fn make_primary(
    tx: &impl GenericClient,
    clinic_id: Uuid,
    id: Uuid,
) -> StoreResult<Option<Uuid>> {
    let number = get_for_update(tx, clinic_id, id).await?;
    if number.lifecycle == Lifecycle::Released {
        return Err(Refusal::NumberReleased.into());
    }
    let previous: Option<Uuid> = tx
        .query_opt(
            "UPDATE numbers SET is_primary = false, updated_at = now() \
             WHERE clinic_id = $1 AND is_primary AND id <> $2 RETURNING id",
            &[&clinic_id, &id],
        )
        .await?
        .map(|r| r.get(0));
    if !number.is_primary {
        tx.execute(
            "UPDATE numbers SET is_primary = true, updated_at = now() WHERE id = $1",
            &[&id],
        )
        .await?;
    }
    Ok(previous)
}

/// Every number of the clinic as forwarding checks see it.
pub async fn links(client: &impl GenericClient, clinic_id: Uuid) -> StoreResult<Vec<NumberLink>> {
    Ok(list(client, clinic_id, true)
        .await?
        .into_iter()
        .map(|n| NumberLink {
            id: n.id.to_string(),
            e164: n.e164,
            lifecycle: n.lifecycle,
            forwarding: n.forwarding,
        })
        .collect())
}

/// Writes a number's forwarding (already checked), `None` to stop it.
pub async fn write_forwarding(
    tx: &impl GenericClient,
    clinic_id: Uuid,
    id: Uuid,
    forwarding: Option<&Forwarding>,
) -> StoreResult<()> {
    let (to, link) = match forwarding {
        Some(Forwarding::External { to }) => (Some(to.clone()), None),
        Some(Forwarding::Number { number_id }) => (
            None,
            Some(
                Uuid::parse_str(number_id)
                    .map_err(|_| StoreError::invalid("number_id", "not a number of this clinic"))?,
            ),
        ),
        None => (None, None),
    };
    let updated = tx
        .execute(
            "UPDATE numbers SET forward_to_e164 = $3, forward_to_number_id = $4, updated_at = now() \
             WHERE clinic_id = $1 AND id = $2",
            &[&clinic_id, &id, &to, &link],
        )
        .await?;
    if updated == 0 {
        return Err(StoreError::NotFound);
    }
    Ok(())
}

/// The release rule (`docs/routing.md`, "What the admin API refuses") the
/// number breaks now, if any (the clinic locked).
pub async fn release_blocker(
    tx: &impl GenericClient,
    clinic_id: Uuid,
    number: &NumberRow,
) -> StoreResult<Option<Refusal>> {
    if number.lifecycle == Lifecycle::Released {
        return Ok(Some(Refusal::NumberReleased));
    }
    let row = tx
        .query_one(
            "SELECT \
               EXISTS (SELECT 1 FROM routing_assistants WHERE number_id = $2), \
               EXISTS (SELECT 1 FROM numbers WHERE clinic_id = $1 AND forward_to_number_id = $2 \
                       AND lifecycle <> 'released'), \
               EXISTS (SELECT 1 FROM numbers WHERE clinic_id = $1 AND id <> $2 AND lifecycle <> 'released')",
            &[&clinic_id, &number.id],
        )
        .await?;
    let (assistant_bound, linked_from, others) = (
        row.get::<_, bool>(0),
        row.get::<_, bool>(1),
        row.get::<_, bool>(2),
    );
    Ok(if assistant_bound {
        Some(Refusal::ReleaseAssistantBound)
    } else if linked_from {
        Some(Refusal::ReleaseLinkedFrom)
    } else if number.is_primary && others {
        Some(Refusal::ReleasePrimary)
    } else {
        None
    })
}

/// Marks a number released (after Twilio let it go): it keeps its row for
/// history, loses primary and forwarding.
pub async fn mark_released(
    tx: &impl GenericClient,
    clinic_id: Uuid,
    id: Uuid,
) -> StoreResult<NumberRow> {
    tx.execute(
        "UPDATE numbers SET lifecycle = 'released', released_at = now(), is_primary = false, \
         forward_to_e164 = NULL, forward_to_number_id = NULL, updated_at = now() \
         WHERE clinic_id = $1 AND id = $2",
        &[&clinic_id, &id],
    )
    .await?;
    get(tx, clinic_id, id).await
}

/// A number being bought: inserted `pending` before Twilio is asked, so
/// that two purchases of one number cannot both go ahead
/// (`numbers_e164_live`).
pub async fn insert_pending(
    tx: &impl GenericClient,
    clinic_id: Uuid,
    e164: &str,
    details: &NumberDetails,
) -> StoreResult<NumberRow> {
    let routing = RoutingDoc {
        timezone: details.timezone.clone(),
        ..RoutingDoc::default()
    };
    let row = tx
        .query_one(
            &format!(
                "INSERT INTO numbers (clinic_id, e164, friendly_name, location_id, routing, lifecycle) \
                 VALUES ($1, $2, $3, $4, $5, 'pending') RETURNING {COLUMNS}"
            ),
            &[
                &clinic_id,
                &e164,
                &details.friendly_name,
                &details.location_id,
                &Json(&routing),
            ],
        )
        .await?;
    from_row(&row)
}

/// Twilio confirmed the purchase: the number becomes `active` with its sid,
/// and the clinic's primary when it has none (expects the clinic locked).
pub async fn activate(
    tx: &impl GenericClient,
    clinic_id: Uuid,
    id: Uuid,
    twilio_sid: &str,
) -> StoreResult<NumberRow> {
    let has_primary: bool = tx
        .query_one(
            "SELECT EXISTS (SELECT 1 FROM numbers WHERE clinic_id = $1 AND is_primary)",
            &[&clinic_id],
        )
        .await?
        .get(0);
    tx.execute(
        "UPDATE numbers SET lifecycle = 'active', twilio_sid = $3, is_primary = $4, updated_at = now() \
         WHERE clinic_id = $1 AND id = $2",
        &[&clinic_id, &id, &twilio_sid, &!has_primary],
    )
    .await?;
    get(tx, clinic_id, id).await
}

/// Removes a pending number whose purchase failed at Twilio.
pub async fn delete_pending(tx: &impl GenericClient, clinic_id: Uuid, id: Uuid) -> StoreResult<()> {
    tx.execute(
        "DELETE FROM numbers WHERE clinic_id = $1 AND id = $2 AND lifecycle = 'pending'",
        &[&clinic_id, &id],
    )
    .await?;
    Ok(())
}
