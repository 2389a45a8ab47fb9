//! Assistants of a clinic, and the numbers they are bound to.

use chrono::{DateTime, Utc};
use deadpool_postgres::GenericClient;
use serde::Serialize;
use switchboard_core::model::AssistantKind;
use uuid::Uuid;

use super::conflict;
use crate::config::{assistant_kind_columns, assistant_kind_from_row};
use crate::error::{StoreError, StoreResult};

/// An assistant as the API shows it: `{id, name, kind, target | sms_url}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[schema(as = Assistant)]
pub struct AssistantRow {
    pub id: Uuid,
    pub name: String,
    #[serde(flatten)]
    pub kind: AssistantKind,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

const COLUMNS: &str =
    "id, name, kind, target_type, target_url, target_parameters, sms_url, created_at, updated_at";

fn from_row(r: &tokio_postgres::Row) -> StoreResult<AssistantRow> {
    Ok(AssistantRow {
        id: r.get(0),
        name: r.get(1),
        kind: assistant_kind_from_row(r.get(2), r.get(3), r.get(4), r.get(5), r.get(6))?,
        created_at: r.get(7),
        updated_at: r.get(8),
    })
}

/// The clinic's assistants, oldest first.
pub async fn list(client: &impl GenericClient, clinic_id: Uuid) -> StoreResult<Vec<AssistantRow>> {
    client
        .query(
            &format!(
                "SELECT {COLUMNS} FROM assistants WHERE clinic_id = $1 ORDER BY created_at, id"
            ),
            &[&clinic_id],
        )
        .await?
        .iter()
        .map(from_row)
        .collect()
}

/// One assistant of the clinic.
pub async fn get(
    client: &impl GenericClient,
    clinic_id: Uuid,
    id: Uuid,
) -> StoreResult<AssistantRow> {
    match client
        .query_opt(
            &format!("SELECT {COLUMNS} FROM assistants WHERE clinic_id = $1 AND id = $2"),
            &[&clinic_id, &id],
        )
        .await?
    {
        Some(row) => from_row(&row),
        None => Err(StoreError::NotFound),
    }
}

/// Creates an assistant.
pub async fn create(
    tx: &impl GenericClient,
    clinic_id: Uuid,
    name: &str,
    kind: &AssistantKind,
) -> StoreResult<AssistantRow> {
    let (kind, target_type, target_url, params, sms_url) = assistant_kind_columns(kind);
    let row = tx
        .query_one(
            &format!(
                "INSERT INTO assistants (clinic_id, name, kind, target_type, target_url, target_parameters, sms_url) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING {COLUMNS}"
            ),
            &[&clinic_id, &name, &kind, &target_type, &target_url, &params, &sms_url],
        )
        .await?;
    from_row(&row)
}

/// Whether anything refers to the assistant: a number's bindings or
/// actions, or the clinic's texting-assistant setting.
pub async fn in_use(client: &impl GenericClient, id: Uuid) -> StoreResult<bool> {
    Ok(client
        .query_one(
            "SELECT EXISTS (SELECT 1 FROM number_assistants WHERE assistant_id = $1) \
             OR EXISTS (SELECT 1 FROM numbers WHERE off_hours_assistant_id = $1) \
             OR EXISTS (SELECT 1 FROM ring_groups WHERE on_no_answer_assistant_id = $1) \
             OR EXISTS (SELECT 1 FROM closures WHERE action_assistant_id = $1) \
             OR EXISTS (SELECT 1 FROM clinics WHERE texting_assistant_id = $1)",
            &[&id],
        )
        .await?
        .get(0))
}

/// Replaces an assistant's name and kind. A change of kind (voice ⇄
/// texting) is refused (`assistant_in_use`) while anything refers to it.
pub async fn update(
    tx: &impl GenericClient,
    clinic_id: Uuid,
    id: Uuid,
    name: &str,
    kind: &AssistantKind,
) -> StoreResult<AssistantRow> {
    let old = tx
        .query_opt(
            "SELECT kind FROM assistants WHERE clinic_id = $1 AND id = $2 FOR UPDATE",
            &[&clinic_id, &id],
        )
        .await?
        .ok_or(StoreError::NotFound)?;
    let (new_kind, target_type, target_url, params, sms_url) = assistant_kind_columns(kind);
    if old.get::<_, &str>(0) != new_kind && in_use(tx, id).await? {
        return Err(conflict("assistant_in_use"));
    }
    let row = tx
        .query_one(
            &format!(
                "UPDATE assistants SET name = $3, kind = $4, target_type = $5, target_url = $6, \
                 target_parameters = $7, sms_url = $8, updated_at = now() \
                 WHERE clinic_id = $1 AND id = $2 RETURNING {COLUMNS}"
            ),
            &[
                &clinic_id,
                &id,
                &name,
                &new_kind,
                &target_type,
                &target_url,
                &params,
                &sms_url,
            ],
        )
        .await?;
    from_row(&row)
}

/// Deletes an assistant; refused (`assistant_in_use`) while anything refers to it.
pub async fn delete(
    tx: &impl GenericClient,
    clinic_id: Uuid,
    id: Uuid,
) -> StoreResult<AssistantRow> {
    let assistant = get(tx, clinic_id, id).await?;
    if in_use(tx, id).await? {
        return Err(conflict("assistant_in_use"));
    }
    tx.execute(
        "DELETE FROM assistants WHERE clinic_id = $1 AND id = $2",
        &[&clinic_id, &id],
    )
    .await?;
    Ok(assistant)
}

/// A number an assistant serves, and how.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AssistantUse {
    pub number_id: Uuid,
    pub e164: String,
    pub lifecycle: String,
    /// Bound in the number's `assistants` list.
    pub bound: bool,
    /// Bound without a schedule (always-on).
    pub always_on: bool,
    /// Named by an action (off-hours, a closure, a ring group's on_no_answer).
    pub in_actions: bool,
}

/// The live numbers an assistant serves, in number order.
pub async fn numbers_of(
    client: &impl GenericClient,
    clinic_id: Uuid,
    id: Uuid,
) -> StoreResult<Vec<AssistantUse>> {
    let rows = client
        .query(
            "SELECT n.id, n.e164, n.lifecycle, \
                    na.assistant_id IS NOT NULL, \
                    na.assistant_id IS NOT NULL AND na.schedule IS NULL, \
                    n.off_hours_assistant_id = $2 \
                    OR EXISTS (SELECT 1 FROM ring_groups g WHERE g.number_id = n.id AND g.on_no_answer_assistant_id = $2) \
                    OR EXISTS (SELECT 1 FROM closures c WHERE c.number_id = n.id AND c.action_assistant_id = $2) \
             FROM numbers n \
             LEFT JOIN number_assistants na ON na.number_id = n.id AND na.assistant_id = $2 \
             WHERE n.clinic_id = $1 AND n.lifecycle <> 'released' \
             ORDER BY n.created_at, n.id",
            &[&clinic_id, &id],
        )
        .await?;
    Ok(rows
        .iter()
        .map(|r| AssistantUse {
            number_id: r.get(0),
            e164: r.get(1),
            lifecycle: r.get(2),
            bound: r.get(3),
            always_on: r.get(4),
            in_actions: r.get::<_, Option<bool>>(5).unwrap_or(false),
        })
        .filter(|u| u.bound || u.in_actions)
        .collect())
}
