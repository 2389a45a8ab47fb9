//! The snapshot input of one clinic, for simulate and coverage: the same
//! shape the routers load, narrowed to the clinic (links never leave it),
//! so a preview compiles exactly what a real call meets.

use deadpool_postgres::GenericClient;
use switchboard_core::model::Lifecycle;
use switchboard_core::snapshot::{
    AssistantConfig, ClinicConfig, LocationConfig, NumberConfig, SnapshotInput,
};
use uuid::Uuid;

use crate::config::{assistant_kind_from_row, load_routings};
use crate::error::{StoreError, StoreResult};

/// One clinic as [`crate::config::load_snapshot_input`] would load it, read
/// in one REPEATABLE READ transaction, with the configuration version.
pub async fn load_clinic_input(
    client: &mut deadpool_postgres::Client,
    clinic_id: Uuid,
) -> StoreResult<(SnapshotInput, i64)> {
    let tx = client
        .build_transaction()
        .isolation_level(tokio_postgres::IsolationLevel::RepeatableRead)
        .read_only(true)
        .start()
        .await?;
    let version = crate::config::current_version(&tx).await?;
    let row = tx
        .query_opt(
            "SELECT id, name, default_timezone, voice, language, sms_auto_reply, \
             texting_assistant_id, twilio_account_sid FROM clinics WHERE id = $1",
            &[&clinic_id],
        )
        .await?
        .ok_or(StoreError::NotFound)?;
    let mut clinic = ClinicConfig {
        id: clinic_id.to_string(),
        name: row.get(1),
        default_timezone: row.get(2),
        voice: row.get(3),
        language: row.get(4),
        sms_auto_reply: row.get(5),
        texting_assistant_id: row.get::<_, Option<Uuid>>(6).map(|u| u.to_string()),
        twilio_account_sid: row.get(7),
        locations: Vec::new(),
        assistants: Vec::new(),
        numbers: Vec::new(),
    };
    for row in tx
        .query(
            "SELECT id, name, timezone FROM locations WHERE clinic_id = $1 ORDER BY created_at, id",
            &[&clinic_id],
        )
        .await?
    {
        clinic.locations.push(LocationConfig {
            id: row.get::<_, Uuid>(0).to_string(),
            name: row.get(1),
            timezone: row.get(2),
        });
    }
    for row in tx
        .query(
            "SELECT id, name, kind, target_type, target_url, target_parameters, sms_url \
             FROM assistants WHERE clinic_id = $1 ORDER BY created_at, id",
            &[&clinic_id],
        )
        .await?
    {
        clinic.assistants.push(AssistantConfig {
            id: row.get::<_, Uuid>(0).to_string(),
            name: row.get(1),
            kind: assistant_kind_from_row(
                row.get(2),
                row.get(3),
                row.get(4),
                row.get(5),
                row.get(6),
            )?,
        });
    }
    let numbers = super::numbers::list(&tx, clinic_id, false).await?;
    let ids: Vec<Uuid> = numbers.iter().map(|n| n.id).collect();
    let mut routings = load_routings(&tx, &ids).await?;
    for n in numbers {
        debug_assert!(n.lifecycle != Lifecycle::Released);
        clinic.numbers.push(NumberConfig {
            id: n.id.to_string(),
            e164: n.e164,
            lifecycle: n.lifecycle,
            is_primary: n.is_primary,
            timezone: n.timezone,
            location_id: n.location_id.map(|u| u.to_string()),
            forwarding: n.forwarding,
            routing: routings.remove(&n.id).unwrap_or_default(),
        });
    }
    tx.commit().await?;
    Ok((
        SnapshotInput {
            clinics: vec![clinic],
        },
        version,
    ))
}

/// The configuration version now, for callers holding any client.
pub async fn version(client: &impl GenericClient) -> StoreResult<i64> {
    crate::config::current_version(client).await
}
