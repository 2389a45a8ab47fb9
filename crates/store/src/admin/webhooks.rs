//! Outgoing webhooks (V10): a clinic's endpoints, the messages written for
//! them and the delivery log. The worker's claims live in switchboard-notify.

use chrono::{DateTime, Utc};
use deadpool_postgres::GenericClient;
use serde::Serialize;
use uuid::Uuid;

use crate::error::{StoreError, StoreResult};

/// An endpoint as the API shows it (its secret has a call of its own).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[schema(as = WebhookEndpoint)]
pub struct EndpointRow {
    pub id: Uuid,
    /// Where deliveries are POSTed.
    pub url: String,
    pub description: String,
    /// The event types it receives.
    pub events: Vec<String>,
    pub enabled: bool,
    /// `manual` (someone disabled it) or `failing` (a day of failed
    /// deliveries); `null` while enabled.
    pub disabled_reason: Option<String>,
    pub disabled_at: Option<DateTime<Utc>>,
    /// The first failed attempt since the last delivered one.
    pub failing_since: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// A new endpoint, checked.
#[derive(Debug, Clone)]
pub struct NewEndpoint {
    pub url: String,
    pub description: String,
    pub events: Vec<String>,
    pub secret: String,
}

const ENDPOINT: &str = "SELECT id, url, description, events, enabled, disabled_reason, \
     disabled_at, failing_since, created_at, updated_at FROM webhook_endpoints";

fn endpoint(r: &tokio_postgres::Row) -> StoreResult<EndpointRow> {
    Ok(EndpointRow {
        id: r.try_get(0)?,
        url: r.try_get(1)?,
        description: r.try_get(2)?,
        events: r.try_get(3)?,
        enabled: r.try_get(4)?,
        disabled_reason: r.try_get(5)?,
        disabled_at: r.try_get(6)?,
        failing_since: r.try_get(7)?,
        created_at: r.try_get(8)?,
        updated_at: r.try_get(9)?,
    })
}

/// The clinic's endpoints, oldest first.
pub async fn list(client: &impl GenericClient, clinic_id: Uuid) -> StoreResult<Vec<EndpointRow>> {
    let rows = client
        .query(
            &format!("{ENDPOINT} WHERE clinic_id = $1 ORDER BY created_at, id"),
            &[&clinic_id],
        )
        .await?;
    rows.iter().map(endpoint).collect()
}

/// How many endpoints the clinic has.
pub async fn count(client: &impl GenericClient, clinic_id: Uuid) -> StoreResult<i64> {
    Ok(client
        .query_one(
            "SELECT count(*) FROM webhook_endpoints WHERE clinic_id = $1",
            &[&clinic_id],
        )
        .await?
        .try_get(0)?)
}

/// One endpoint of the clinic; `lock` takes it for update.
pub async fn get(
    client: &impl GenericClient,
    clinic_id: Uuid,
    id: Uuid,
    lock: bool,
) -> StoreResult<EndpointRow> {
    let lock = if lock { " FOR UPDATE" } else { "" };
    let row = client
        .query_opt(
            &format!("{ENDPOINT} WHERE clinic_id = $1 AND id = $2{lock}"),
            &[&clinic_id, &id],
        )
        .await?
        .ok_or(StoreError::NotFound)?;
    endpoint(&row)
}

/// The endpoint's signing secret.
pub async fn secret(client: &impl GenericClient, clinic_id: Uuid, id: Uuid) -> StoreResult<String> {
    Ok(client
        .query_opt(
            "SELECT secret FROM webhook_endpoints WHERE clinic_id = $1 AND id = $2",
            &[&clinic_id, &id],
        )
        .await?
        .ok_or(StoreError::NotFound)?
        .try_get(0)?)
}

pub async fn create(
    tx: &impl GenericClient,
    clinic_id: Uuid,
    new: &NewEndpoint,
) -> StoreResult<EndpointRow> {
    let row = tx
        .query_one(
            "INSERT INTO webhook_endpoints (clinic_id, url, description, events, secret) \
             VALUES ($1, $2, $3, $4, $5) RETURNING id, url, description, events, enabled, \
             disabled_reason, disabled_at, failing_since, created_at, updated_at",
            &[
                &clinic_id,
                &new.url,
                &new.description,
                &new.events,
                &new.secret,
            ],
        )
        .await?;
    endpoint(&row)
}

/// Writes the endpoint's URL, description and events.
pub async fn update(tx: &impl GenericClient, row: &EndpointRow) -> StoreResult<EndpointRow> {
    let row = tx
        .query_one(
            "UPDATE webhook_endpoints SET url = $2, description = $3, events = $4, \
             updated_at = now() WHERE id = $1 RETURNING id, url, description, events, enabled, \
             disabled_reason, disabled_at, failing_since, created_at, updated_at",
            &[&row.id, &row.url, &row.description, &row.events],
        )
        .await?;
    endpoint(&row)
}

pub async fn set_secret(tx: &impl GenericClient, id: Uuid, secret: &str) -> StoreResult<()> {
    tx.execute(
        "UPDATE webhook_endpoints SET previous_secret = secret,
                previous_secret_until = now() + interval '24 hours',
                secret = $2, updated_at = now()
         WHERE id = $1",
        &[&id, &secret],
    )
    .await?;
    Ok(())
}

/// Enables (its pending deliveries are due at once, with a fresh retry
/// window; its failures forgotten)
/// or disables it by hand.
pub async fn set_enabled(
    tx: &impl GenericClient,
    clinic_id: Uuid,
    id: Uuid,
    enabled: bool,
) -> StoreResult<EndpointRow> {
    if enabled {
        tx.execute(
            "UPDATE webhook_endpoints SET enabled = true, disabled_reason = NULL, \
             disabled_at = NULL, failing_since = NULL, updated_at = now() WHERE id = $1",
            &[&id],
        )
        .await?;
        tx.execute(
            "UPDATE webhook_deliveries SET next_attempt_at = now(), retry_from = now() \
             WHERE endpoint_id = $1 AND state = 'pending'",
            &[&id],
        )
        .await?;
    } else {
        tx.execute(
            "UPDATE webhook_endpoints SET enabled = false, disabled_reason = 'manual', \
             disabled_at = now(), updated_at = now() WHERE id = $1",
            &[&id],
        )
        .await?;
    }
    get(tx, clinic_id, id, false).await
}

pub async fn delete(tx: &impl GenericClient, id: Uuid) -> StoreResult<()> {
    tx.execute("DELETE FROM webhook_endpoints WHERE id = $1", &[&id])
        .await?;
    Ok(())
}

/// The `number.changed` message of a change to a number, in the change's
/// transaction: the number as it is now and the change's name.
pub async fn number_changed(
    tx: &impl GenericClient,
    clinic_id: Uuid,
    number_id: Uuid,
    change: &str,
) -> StoreResult<()> {
    tx.execute(
        "SELECT webhook_enqueue($1, 'number.changed', NULL, jsonb_build_object( \
           'number_id', n.id, 'e164', n.e164, 'change', $3::text, 'friendly_name', n.friendly_name, \
           'lifecycle', n.lifecycle, 'primary', n.is_primary, 'location_id', n.location_id, \
           'timezone', n.routing->>'timezone')) \
         FROM numbers n WHERE n.clinic_id = $1 AND n.id = $2",
        &[&clinic_id, &number_id, &change],
    )
    .await?;
    Ok(())
}

/// A `webhook.test` message for one endpoint only; its id.
pub async fn test_message(
    tx: &impl GenericClient,
    clinic_id: Uuid,
    endpoint_id: Uuid,
) -> StoreResult<String> {
    let id: String = tx
        .query_one(
            "INSERT INTO webhook_messages (id, clinic_id, type, data) \
             VALUES ('msg_' || replace(gen_random_uuid()::text, '-', ''), $1, 'webhook.test', \
                     jsonb_build_object('endpoint_id', $2::uuid, \
                                        'message', 'A test event sent from Switchboard')) \
             RETURNING id",
            &[&clinic_id, &endpoint_id],
        )
        .await?
        .try_get(0)?;
    tx.execute(
        "INSERT INTO webhook_deliveries (endpoint_id, message_id) VALUES ($1, $2)",
        &[&endpoint_id, &id],
    )
    .await?;
    Ok(id)
}

/// Makes a message due again for the endpoint, with a fresh retry window.
pub async fn redeliver(
    tx: &impl GenericClient,
    endpoint_id: Uuid,
    message_id: &str,
) -> StoreResult<()> {
    let n = tx
        .execute(
            "UPDATE webhook_deliveries SET state = 'pending', next_attempt_at = now(), \
             retry_from = now(), delivered_at = NULL \
             WHERE endpoint_id = $1 AND message_id = $2",
            &[&endpoint_id, &message_id],
        )
        .await?;
    if n == 0 {
        return Err(StoreError::NotFound);
    }
    Ok(())
}

/// One try of a delivery.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize, utoipa::ToSchema)]
#[schema(as = WebhookAttempt)]
pub struct AttemptRow {
    pub at: DateTime<Utc>,
    /// The receiver's HTTP status; `null` when none came (timeout, refused).
    pub status_code: Option<i32>,
    pub latency_ms: i32,
    /// The start of the receiver's answer, at most 1 KiB.
    pub response_excerpt: Option<String>,
    /// Why the try failed when no status says it (timeout, connection, address refused).
    pub error: Option<String>,
}

/// A message to an endpoint, with its latest tries.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[schema(as = WebhookDelivery)]
pub struct DeliveryRow {
    /// The message's id: the `webhook-id` header, the same on every try.
    pub message_id: String,
    #[serde(rename = "type")]
    pub kind: String,
    pub call_sid: Option<String>,
    /// `pending` (waiting for its next try), `delivered` or `failed` (given up).
    pub state: String,
    pub attempts: i32,
    /// When it is tried next, while pending.
    pub next_attempt_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub delivered_at: Option<DateTime<Utc>>,
    /// The latest tries, newest first (at most 20).
    pub tries: Vec<AttemptRow>,
    /// Where the page ends (the cursor of the next page starts after it).
    #[serde(skip)]
    pub position: i64,
}

/// A page of the endpoint's deliveries, newest first, after `before` (a
/// position of an earlier page).
pub async fn deliveries(
    client: &impl GenericClient,
    endpoint_id: Uuid,
    before: Option<i64>,
    limit: i64,
) -> StoreResult<Vec<DeliveryRow>> {
    let rows = client
        .query(
            "SELECT d.id, d.message_id, m.type, d.call_sid, d.state, d.attempts, \
                    CASE WHEN d.state = 'pending' THEN d.next_attempt_at END, d.created_at, \
                    d.delivered_at, \
                    COALESCE((SELECT jsonb_agg(jsonb_build_object('at', a.at, \
                        'status_code', a.status_code, 'latency_ms', a.latency_ms, \
                        'response_excerpt', a.response_excerpt, 'error', a.error) \
                        ORDER BY a.id DESC) \
                      FROM (SELECT * FROM webhook_attempts WHERE delivery_id = d.id \
                            ORDER BY id DESC LIMIT 20) a), '[]') \
             FROM webhook_deliveries d JOIN webhook_messages m ON m.id = d.message_id \
             WHERE d.endpoint_id = $1 AND ($2::bigint IS NULL OR d.id < $2) \
             ORDER BY d.id DESC LIMIT $3",
            &[&endpoint_id, &before, &limit],
        )
        .await?;
    rows.iter()
        .map(|r| {
            let tries: serde_json::Value = r.try_get(9)?;
            Ok(DeliveryRow {
                position: r.try_get(0)?,
                message_id: r.try_get(1)?,
                kind: r.try_get(2)?,
                call_sid: r.try_get(3)?,
                state: r.try_get(4)?,
                attempts: r.try_get(5)?,
                next_attempt_at: r.try_get(6)?,
                created_at: r.try_get(7)?,
                delivered_at: r.try_get(8)?,
                tries: serde_json::from_value(tries)
                    .map_err(|e| StoreError::corrupt("webhook_attempts", e))?,
            })
        })
        .collect()
}

/// The clinic's endpoints disabled for failing, for the console's notice.
pub async fn failing(
    client: &impl GenericClient,
    clinic_id: Uuid,
) -> StoreResult<Vec<EndpointRow>> {
    let rows = client
        .query(
            &format!(
                "{ENDPOINT} WHERE clinic_id = $1 AND disabled_reason = 'failing' \
                 ORDER BY disabled_at DESC"
            ),
            &[&clinic_id],
        )
        .await?;
    rows.iter().map(endpoint).collect()
}
