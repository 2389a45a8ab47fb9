//! The operations of the admin side, once for every face: the JSON API
//! ([`crate::routes`]), the console and the command line call these. Each
//! takes an [`Access`](crate::auth::Access) of the role it needs (so its
//! authorisation is in its signature), validates its input, writes in one
//! transaction with its audit row, and answers with what it changed.

pub mod activity;
pub mod assistants;
pub mod blocked;
pub mod clinics;
pub mod keys;
pub mod locations;
pub mod numbers;
pub mod people;
pub mod previews;
pub mod provisioning;
pub mod voicemail;
pub mod webhooks;

use deadpool_postgres::GenericClient;
use switchboard_store::admin::{Actor, audit};

use crate::error::ApiResult;

/// Appends the audit row of a write in its transaction. A change to a
/// number also writes its `number.changed` webhook message there, so every
/// face that changes a number announces it, once, with the change.
pub async fn record(
    tx: &impl GenericClient,
    actor: &Actor,
    clinic_id: uuid::Uuid,
    action: &str,
    target: (&str, String),
    before: Option<serde_json::Value>,
    after: Option<serde_json::Value>,
) -> ApiResult<()> {
    let number = match (target.0, action.strip_prefix("number.")) {
        ("number", Some(change)) => target.1.parse::<uuid::Uuid>().ok().map(|id| (id, change)),
        _ => None,
    };
    audit::append(
        tx,
        actor,
        audit::Change {
            clinic_id: Some(clinic_id),
            action,
            target_type: target.0,
            target_id: target.1,
            before,
            after,
        },
    )
    .await?;
    if let Some((number_id, change)) = number {
        switchboard_store::admin::webhooks::number_changed(tx, clinic_id, number_id, change)
            .await?;
    }
    Ok(())
}
