//! Assistants of a clinic, and the numbers they are bound to.

use chrono::{DateTime, Utc};
use deadpool_postgres::GenericClient;
use serde::Serialize;
use switchboard_core::model::{Action, AssistantKind, VoiceTarget, VoiceTargetType};
use uuid::Uuid;

use crate::error::{Refusal, StoreError, StoreResult};

/// An assistant as a row of `assistants` reads.
pub fn assistant_kind_from_row(
    kind: &str,
    target_type: Option<&str>,
    target_url: Option<String>,
    target_parameters: Option<serde_json::Value>,
    sms_url: Option<String>,
) -> StoreResult<AssistantKind> {
    Ok(match kind {
        "texting" => AssistantKind::Texting {
            sms_url: sms_url.unwrap_or_default(),
        },
        _ => AssistantKind::Voice {
            target: VoiceTarget {
                kind: match target_type {
                    Some("sip") => VoiceTargetType::Sip,
                    Some("redirect") => VoiceTargetType::Redirect,
                    _ => VoiceTargetType::Stream,
                },
                url: target_url.unwrap_or_default(),
                parameters: target_parameters
                    .map(|v| {
                        serde_json::from_value(v)
                            .map_err(|e| StoreError::corrupt("assistants.target_parameters", e))
                    })
                    .transpose()?,
            },
        },
    })
}

/// The columns of `assistants` for an assistant kind:
/// (kind, target_type, target_url, target_parameters, sms_url).
pub fn assistant_kind_columns(
    kind: &AssistantKind,
) -> (
    &'static str,
    Option<&'static str>,
    Option<&str>,
    Option<serde_json::Value>,
    Option<&str>,
) {
    match kind {
        AssistantKind::Texting { sms_url } => ("texting", None, None, None, Some(sms_url.as_str())),
        AssistantKind::Voice { target } => (
            "voice",
            Some(match target.kind {
                VoiceTargetType::Stream => "stream",
                VoiceTargetType::Sip => "sip",
                VoiceTargetType::Redirect => "redirect",
            }),
            Some(target.url.as_str()),
            target
                .parameters
                .as_ref()
                .and_then(|p| serde_json::to_value(p).ok()),
            None,
        ),
    }
}

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
    let statement = client
        .prepare_cached(&format!(
            "SELECT {COLUMNS} FROM assistants WHERE clinic_id = $1 ORDER BY created_at, id"
        ))
        .await?;
    client
        .query(&statement, &[&clinic_id])
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

/// Whether anything refers to the assistant: a number's routing (bound or
/// in an action: V5's `routing_assistants`), or the clinic's
/// texting-assistant setting.
pub async fn in_use(client: &impl GenericClient, id: Uuid) -> StoreResult<bool> {
    Ok(client
        .query_one(
            "SELECT EXISTS (SELECT 1 FROM routing_assistants WHERE assistant_id = $1) \
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
        return Err(Refusal::AssistantInUse.into());
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
        return Err(Refusal::AssistantInUse.into());
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
            "SELECT n.id, n.e164, n.lifecycle, n.routing::text FROM numbers n \
             JOIN routing_assistants r ON r.number_id = n.id AND r.assistant_id = $2 \
             WHERE n.clinic_id = $1 AND n.live ORDER BY n.created_at, n.id",
            &[&clinic_id, &id],
        )
        .await?;
    let id = id.to_string();
    let mut uses = Vec::with_capacity(rows.len());
    for r in rows {
        let number_id: Uuid = r.try_get(0)?;
        let doc = crate::routing::parse(number_id, r.try_get(3)?)?;
        let binding = doc.assistants.iter().find(|b| b.assistant_id == id);
        uses.push(AssistantUse {
            number_id,
            e164: r.try_get(1)?,
            lifecycle: r.try_get(2)?,
            bound: binding.is_some(),
            always_on: binding.is_some_and(|b| b.schedule.is_none()),
            in_actions: doc
                .actions()
                .any(|a| matches!(a, Action::Assistant { assistant_id } if *assistant_id == id)),
        });
    }
    Ok(uses)
}
