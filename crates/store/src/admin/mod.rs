//! Repositories of the admin API: one module per resource.
//!
//! Every write runs in the caller's transaction and appends its audit row in
//! that same transaction ([`audit::append`]), so a change and its record
//! commit together; the V5 triggers notify the routers on commit. Rules that
//! depend on the current state (release, primary, forwarding) lock the
//! clinic row first (`FOR NO KEY UPDATE`, which foreign-key checks do not
//! wait on), so concurrent writers of one clinic take turns instead of
//! racing. A rule that refuses a change answers
//! [`StoreError::Refused`](crate::StoreError::Refused) with the
//! [`Refusal`](crate::error::Refusal) that names it; the admin maps each to
//! its error code.

pub mod activity;
pub mod assistants;
pub mod audit;
pub mod blocked;
pub mod clinics;
pub mod keys;
pub mod locations;
pub mod numbers;
pub mod people;
pub mod voicemail;
pub mod webhooks;

use deadpool_postgres::GenericClient;
use uuid::Uuid;

use crate::error::{StoreError, StoreResult};

/// Who makes a change, as the audit log records it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Actor {
    /// The API key used; `None` for the configured super key and for people.
    pub key_id: Option<Uuid>,
    /// The person signed in to the console; `None` for keys.
    pub person_id: Option<Uuid>,
    /// The key's name (or "super key"), or the person's.
    pub name: String,
}

/// Locks the clinic row so that state rules of one clinic are checked and
/// applied one writer at a time. `NotFound` when the clinic does not exist.
pub async fn lock_clinic(tx: &impl GenericClient, clinic_id: Uuid) -> StoreResult<()> {
    tx.query_opt(
        "SELECT 1 FROM clinics WHERE id = $1 FOR NO KEY UPDATE",
        &[&clinic_id],
    )
    .await?
    .ok_or(StoreError::NotFound)?;
    Ok(())
}
