//! One module per resource of api.md, each with `configure`.

pub mod activity;
pub mod assistants;
pub mod clinics;
pub mod keys;
pub mod locations;
pub mod numbers;
pub mod previews;
pub mod provisioning;

use actix_web::web;
use deadpool_postgres::Transaction;
use switchboard_store::admin::{Actor, audit};

use crate::error::ApiResult;

/// Registers every resource.
pub fn configure(cfg: &mut web::ServiceConfig) {
    clinics::configure(cfg);
    keys::configure(cfg);
    locations::configure(cfg);
    assistants::configure(cfg);
    numbers::configure(cfg);
    previews::configure(cfg);
    provisioning::configure(cfg);
    activity::configure(cfg);
}

/// Appends the audit row of a write in its transaction.
pub(crate) async fn record(
    tx: &Transaction<'_>,
    actor: &Actor,
    clinic_id: uuid::Uuid,
    action: &str,
    target: (&str, String),
    before: Option<serde_json::Value>,
    after: Option<serde_json::Value>,
) -> ApiResult<()> {
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
    Ok(())
}

/// `{"items": [...]}`, the shape of unpaginated lists.
#[derive(serde::Serialize)]
pub(crate) struct Items<T> {
    pub items: Vec<T>,
}
