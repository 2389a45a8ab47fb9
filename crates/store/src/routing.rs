//! A number's routing document: `numbers.routing`, one value a number.
//!
//! The document is stored as the store writes it: validated by the core
//! (the caller's business), ring-group and closure ids assigned, defaults
//! written out. The trigger of V5 derives `routing_assistants` from it on
//! every write, so a foreign key refuses to delete an assistant a routing
//! names, whoever wrote the document.

use std::collections::HashMap;

use deadpool_postgres::GenericClient;
use serde::Deserialize;
use switchboard_core::FieldError;
use switchboard_core::model::{DEFAULT_RING_SECONDS, RoutingDoc, RoutingOverride};
use tokio_postgres::types::Json;
use uuid::Uuid;

use crate::error::{StoreError, StoreResult};

/// The document as it is stored: every ring group and closure with an id
/// (kept when given, made when absent) and its ring seconds. A given id
/// that is not a UUID is refused with its path.
pub fn canonical(doc: &RoutingDoc) -> StoreResult<RoutingDoc> {
    let problems = id_problems(doc);
    if !problems.is_empty() {
        return Err(StoreError::Invalid(problems));
    }
    let mut saved = doc.clone();
    for group in &mut saved.ring_groups {
        group.id.get_or_insert_with(|| Uuid::new_v4().to_string());
        group.ring_seconds.get_or_insert(DEFAULT_RING_SECONDS);
    }
    for closure in &mut saved.closures {
        closure.id.get_or_insert_with(|| Uuid::new_v4().to_string());
    }
    Ok(saved)
}

/// Ring-group and closure ids are the store's keys: hyphenated UUIDs when
/// given (a missing one is made on save). One problem per id that is not.
pub fn id_problems(doc: &RoutingDoc) -> Vec<FieldError> {
    let groups = doc
        .ring_groups
        .iter()
        .enumerate()
        .map(|(i, g)| (format!("ring_groups[{i}].id"), &g.id));
    let closures = doc
        .closures
        .iter()
        .enumerate()
        .map(|(i, c)| (format!("closures[{i}].id"), &c.id));
    groups
        .chain(closures)
        .filter_map(|(field, id)| {
            let given = id.as_deref()?;
            // Hyphenated is the only form of 36 characters.
            (given.len() != 36 || Uuid::parse_str(given).is_err())
                .then(|| FieldError::new(field, format!("{given:?} is not a UUID")))
        })
        .collect()
}

/// Writes a stored document (see [`canonical`]) over the number's and bumps
/// its version, in the caller's transaction; returns the new version.
pub(crate) async fn write(
    tx: &impl GenericClient,
    clinic_id: Uuid,
    number_id: Uuid,
    stored: &RoutingDoc,
) -> StoreResult<i64> {
    let statement = tx
        .prepare_cached(
            "UPDATE numbers SET routing = $3, version = version + 1, updated_at = now() \
             WHERE id = $1 AND clinic_id = $2 RETURNING version",
        )
        .await?;
    tx.query_opt(&statement, &[&number_id, &clinic_id, &Json(stored)])
        .await?
        .map(|row| row.get(0))
        .ok_or(StoreError::NotFound)
}

/// Replaces the routing of `number_id` with `doc` (already validated by the
/// core) inside the caller's transaction, and bumps the number's version.
/// Returns the document as stored (see [`canonical`]).
pub async fn save_routing(
    tx: &impl GenericClient,
    clinic_id: Uuid,
    number_id: Uuid,
    doc: &RoutingDoc,
) -> StoreResult<RoutingDoc> {
    let stored = canonical(doc)?;
    write(tx, clinic_id, number_id, &stored).await?;
    Ok(stored)
}

/// Reads a stored document; one that does not parse is the database's
/// problem, named with its number.
pub(crate) fn parse(number_id: Uuid, text: &str) -> StoreResult<RoutingDoc> {
    serde_json::from_str(text)
        .map_err(|e| StoreError::corrupt(format!("routing of number {number_id}"), e))
}

/// A routing document as [`crate::admin::numbers::lock_routing`] read it.
pub fn parse_stored(number_id: Uuid, value: &serde_json::Value) -> StoreResult<RoutingDoc> {
    RoutingDoc::deserialize(value)
        .map_err(|e| StoreError::corrupt(format!("routing of number {number_id}"), e))
}

/// A stored override.
pub(crate) fn parse_override(number_id: Uuid, text: &str) -> StoreResult<RoutingOverride> {
    serde_json::from_str(text)
        .map_err(|e| StoreError::corrupt(format!("override of number {number_id}"), e))
}

/// The routing documents of the given numbers.
pub async fn load_routings(
    client: &impl GenericClient,
    number_ids: &[Uuid],
) -> StoreResult<HashMap<Uuid, RoutingDoc>> {
    let statement = client
        .prepare_cached("SELECT id, routing::text FROM numbers WHERE id = ANY($1)")
        .await?;
    let mut docs = HashMap::with_capacity(number_ids.len());
    for row in client.query(&statement, &[&number_ids]).await? {
        let id: Uuid = row.try_get(0)?;
        docs.insert(id, parse(id, row.try_get(1)?)?);
    }
    Ok(docs)
}

/// The routing document of one number.
pub async fn load_routing(client: &impl GenericClient, number_id: Uuid) -> StoreResult<RoutingDoc> {
    load_routings(client, &[number_id])
        .await?
        .remove(&number_id)
        .ok_or(StoreError::NotFound)
}

#[cfg(test)]
mod tests {
    use super::*;
    use switchboard_core::model::{Closure, ClosureRule, RingGroup, Strategy};

    fn group(id: Option<&str>) -> RingGroup {
        RingGroup {
            id: id.map(str::to_owned),
            name: "Front desk".into(),
            strategy: Strategy::Simultaneous,
            ring_seconds: None,
            members: Vec::new(),
            schedule: None,
            on_no_answer: None,
            confirm: false,
            confirm_prompt: None,
        }
    }

    #[test]
    fn the_stored_form_has_every_id_and_ring_seconds() {
        let kept = Uuid::new_v4().to_string();
        let doc = RoutingDoc {
            ring_groups: vec![group(Some(&kept)), group(None)],
            closures: vec![Closure {
                id: None,
                name: "Sundays".into(),
                action: None,
                start_time: None,
                end_time: None,
                from: None,
                until: None,
                rule: ClosureRule::Weekly { days: Vec::new() },
            }],
            ..RoutingDoc::default()
        };
        let stored = canonical(&doc).expect("canonical");
        assert_eq!(stored.ring_groups[0].id.as_deref(), Some(kept.as_str()));
        assert!(stored.ring_groups[1].id.is_some());
        assert!(stored.closures[0].id.is_some());
        assert!(
            stored
                .ring_groups
                .iter()
                .all(|g| g.ring_seconds == Some(DEFAULT_RING_SECONDS))
        );
        assert_eq!(canonical(&stored).expect("again"), stored, "idempotent");
    }

    #[test]
    fn a_given_id_that_is_not_a_uuid_is_refused() {
        let doc = RoutingDoc {
            ring_groups: vec![group(Some("front"))],
            ..RoutingDoc::default()
        };
        assert!(matches!(
            canonical(&doc),
            Err(StoreError::Invalid(fields)) if fields[0].field == "ring_groups[0].id"
        ));
    }
}
