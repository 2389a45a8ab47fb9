//! The rounds: lease what is due, try each (all at once, each bounded by
//! the timeout), settle each try in a transaction of its own. No
//! transaction is held open while a receiver is talked to.

use std::time::Duration;

use chrono::{DateTime, Utc};
use rand::Rng;
use switchboard_store::admin::Actor;
use switchboard_store::{Pool, StoreResult};
use uuid::Uuid;

use super::WebhookConfig;
use super::send::{self, Outcome, Signed};
use super::sign::signature;

/// Deliveries leased per round trip.
const BATCH: i64 = 50;

/// Leases the deliveries that are due, of enabled endpoints, each only when
/// no earlier delivery of its call to its endpoint is pending.
const LEASE_DUE: &str = "
UPDATE webhook_deliveries d SET attempts = d.attempts + 1,
       next_attempt_at = now() + make_interval(secs => $1)
FROM webhook_endpoints e, webhook_messages m
WHERE d.id IN (
    SELECT d.id FROM webhook_deliveries d JOIN webhook_endpoints e ON e.id = d.endpoint_id
    WHERE d.state = 'pending' AND d.next_attempt_at <= now() AND e.enabled
      AND (d.call_sid IS NULL OR NOT EXISTS (
          SELECT 1 FROM webhook_deliveries p
          WHERE p.endpoint_id = d.endpoint_id AND p.call_sid = d.call_sid
            AND p.state = 'pending' AND p.id < d.id))
    ORDER BY d.next_attempt_at, d.id
    LIMIT $2
    FOR UPDATE OF d SKIP LOCKED)
  AND e.id = d.endpoint_id AND m.id = d.message_id
RETURNING d.id, d.message_id, d.attempts, d.retry_from, e.id, e.clinic_id, e.url, e.secret,
          m.type, m.created_at, m.data,
          CASE WHEN e.previous_secret_until > now() THEN e.previous_secret END";

struct Leased {
    id: i64,
    message_id: String,
    attempts: i32,
    retry_from: DateTime<Utc>,
    endpoint_id: Uuid,
    clinic_id: Uuid,
    url: String,
    secret: String,
    /// The secret before the last rotation, while it still signs.
    previous_secret: Option<String>,
    body: Vec<u8>,
}

pub async fn run(
    pool: Pool,
    config: WebhookConfig,
    client: reqwest::Client,
    stop: tokio::sync::oneshot::Receiver<()>,
) {
    // Unix seconds of the last pruning (0: not yet, so at the first round).
    let pruned = std::sync::atomic::AtomicI64::new(0);
    crate::rounds::every("webhook deliveries", config.poll_interval, stop, || async {
        // Drain: a full batch means more may be due at once.
        while deliver_due(&pool, &config, &client).await? == BATCH as usize {}
        let now = Utc::now().timestamp();
        if now - pruned.load(std::sync::atomic::Ordering::Relaxed) >= PRUNE_EVERY_SECONDS {
            prune(&pool, &config).await?;
            pruned.store(now, std::sync::atomic::Ordering::Relaxed);
        }
        Ok(())
    })
    .await;
}

/// How often the log is pruned.
const PRUNE_EVERY_SECONDS: i64 = 3600;

/// Removes the messages older than `keep` none of whose deliveries is
/// pending, with their deliveries and tries, a batch at a time.
async fn prune(pool: &Pool, config: &WebhookConfig) -> StoreResult<()> {
    let db = pool.get().await?;
    loop {
        let removed = db
            .execute(
                "DELETE FROM webhook_messages WHERE id IN ( \
                   SELECT m.id FROM webhook_messages m \
                   WHERE m.created_at < now() - make_interval(secs => $1) \
                     AND NOT EXISTS (SELECT 1 FROM webhook_deliveries d \
                                     WHERE d.message_id = m.id AND d.state = 'pending') \
                   ORDER BY m.created_at LIMIT 1000)",
                &[&config.keep.as_secs_f64()],
            )
            .await?;
        if removed > 0 {
            tracing::info!(removed, "webhook log pruned");
        }
        if removed < 1000 {
            return Ok(());
        }
    }
}

/// Tries what is due; how many deliveries were leased.
async fn deliver_due(
    pool: &Pool,
    config: &WebhookConfig,
    client: &reqwest::Client,
) -> StoreResult<usize> {
    let rows = {
        let db = pool.get().await?;
        db.query(LEASE_DUE, &[&config.lease.as_secs_f64(), &BATCH])
            .await?
    };
    let mut leased = Vec::with_capacity(rows.len());
    for row in &rows {
        let kind: String = row.try_get(8)?;
        let created_at: DateTime<Utc> = row.try_get(9)?;
        let data: serde_json::Value = row.try_get(10)?;
        let body = serde_json::json!({
            "type": kind,
            "timestamp": created_at.to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
            "data": data,
        });
        leased.push(Leased {
            id: row.try_get(0)?,
            message_id: row.try_get(1)?,
            attempts: row.try_get(2)?,
            retry_from: row.try_get(3)?,
            endpoint_id: row.try_get(4)?,
            clinic_id: row.try_get(5)?,
            url: row.try_get(6)?,
            secret: row.try_get(7)?,
            previous_secret: row.try_get(11)?,
            body: body.to_string().into_bytes(),
        });
    }
    let tries = leased.iter().map(|d| attempt(client, config, d));
    let outcomes = futures_util::future::join_all(tries).await;
    for (delivery, outcome) in leased.iter().zip(outcomes) {
        settle(pool, config, delivery, &outcome).await?;
    }
    Ok(leased.len())
}

async fn attempt(client: &reqwest::Client, config: &WebhookConfig, d: &Leased) -> Outcome {
    let timestamp = Utc::now().timestamp();
    let secrets = std::iter::once(d.secret.as_str()).chain(d.previous_secret.as_deref());
    let Some(signature) = signature(secrets, &d.message_id, timestamp, &d.body) else {
        return Outcome {
            status: None,
            latency: Duration::ZERO,
            excerpt: None,
            error: Some("the endpoint's secret is not whsec_ and base64".into()),
        };
    };
    let signed = Signed {
        id: &d.message_id,
        timestamp,
        signature,
    };
    send::post(client, config, &d.url, &signed, d.body.clone()).await
}

/// When a failed delivery is tried next: the schedule's delay for the
/// tries made (the last repeats), with a fifth of jitter, never past the
/// retry window's end; `None` once the window is over.
pub fn next_try(
    config: &WebhookConfig,
    attempts: i32,
    retry_from: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Option<DateTime<Utc>> {
    let window_end = retry_from + chrono::TimeDelta::from_std(config.give_up_after).ok()?;
    if now >= window_end {
        return None;
    }
    let index = usize::try_from(attempts.max(1) - 1).unwrap_or(0);
    let base = config
        .retry_schedule
        .get(index)
        .or(config.retry_schedule.last())
        .copied()
        .unwrap_or(Duration::from_secs(5));
    let delay = base.mul_f64(rand::rng().random_range(0.8..=1.2));
    let at = now + chrono::TimeDelta::from_std(delay).ok()?;
    Some(at.min(window_end))
}

const ATTEMPT: &str = "INSERT INTO webhook_attempts \
     (delivery_id, status_code, latency_ms, response_excerpt, error) VALUES ($1, $2, $3, $4, $5)";

/// Records the try and what follows from it, in one transaction.
async fn settle(
    pool: &Pool,
    config: &WebhookConfig,
    d: &Leased,
    outcome: &Outcome,
) -> StoreResult<()> {
    let mut db = pool.get().await?;
    let tx = db.transaction().await?;
    let latency = i32::try_from(outcome.latency.as_millis()).unwrap_or(i32::MAX);
    let status = outcome.status.map(i32::from);
    tx.execute(
        ATTEMPT,
        &[&d.id, &status, &latency, &outcome.excerpt, &outcome.error],
    )
    .await?;
    if outcome.delivered() {
        tx.execute(
            "UPDATE webhook_deliveries SET state = 'delivered', delivered_at = now() WHERE id = $1",
            &[&d.id],
        )
        .await?;
        tx.execute(
            "UPDATE webhook_endpoints SET failing_since = NULL WHERE id = $1 AND failing_since IS NOT NULL",
            &[&d.endpoint_id],
        )
        .await?;
        tracing::info!(message = %d.message_id, endpoint = %d.endpoint_id, attempts = d.attempts, "webhook delivered");
    } else {
        let why = outcome
            .error
            .clone()
            .or(outcome.status.map(|s| format!("answered {s}")))
            .unwrap_or_default();
        match next_try(config, d.attempts, d.retry_from, Utc::now()) {
            Some(at) => {
                tx.execute(
                    "UPDATE webhook_deliveries SET next_attempt_at = $2 WHERE id = $1",
                    &[&d.id, &at],
                )
                .await?;
                tracing::warn!(message = %d.message_id, endpoint = %d.endpoint_id, attempts = d.attempts, %why, "webhook not delivered; will retry");
            }
            None => {
                tx.execute(
                    "UPDATE webhook_deliveries SET state = 'failed' WHERE id = $1",
                    &[&d.id],
                )
                .await?;
                tracing::error!(message = %d.message_id, endpoint = %d.endpoint_id, attempts = d.attempts, %why, "webhook given up");
            }
        }
        disable_when_failing_too_long(&tx, config, d).await?;
    }
    tx.commit().await?;
    Ok(())
}

/// Notes the failure on the endpoint; one failing since `disable_after`
/// is disabled, with its audit row.
async fn disable_when_failing_too_long(
    tx: &deadpool_postgres::Transaction<'_>,
    config: &WebhookConfig,
    d: &Leased,
) -> StoreResult<()> {
    let disabled = tx
        .query_opt(
            "UPDATE webhook_endpoints SET failing_since = COALESCE(failing_since, now()), \
               enabled = CASE WHEN failing_since <= now() - make_interval(secs => $2) \
                              THEN false ELSE enabled END, \
               disabled_reason = CASE WHEN failing_since <= now() - make_interval(secs => $2) \
                              THEN 'failing' ELSE disabled_reason END, \
               disabled_at = CASE WHEN failing_since <= now() - make_interval(secs => $2) \
                              THEN now() ELSE disabled_at END \
             WHERE id = $1 AND enabled \
             RETURNING NOT enabled, failing_since",
            &[&d.endpoint_id, &config.disable_after.as_secs_f64()],
        )
        .await?;
    let Some(row) = disabled else {
        return Ok(());
    };
    if !row.try_get::<_, bool>(0)? {
        return Ok(());
    }
    let since: DateTime<Utc> = row.try_get(1)?;
    switchboard_store::admin::audit::append(
        tx,
        &Actor {
            key_id: None,
            person_id: None,
            name: "webhook deliveries".to_owned(),
        },
        switchboard_store::admin::audit::Change {
            clinic_id: Some(d.clinic_id),
            action: "webhook.disable",
            target_type: "webhook_endpoint",
            target_id: d.endpoint_id.to_string(),
            before: Some(serde_json::json!({"enabled": true, "failing_since": since})),
            after: Some(serde_json::json!({"enabled": false, "disabled_reason": "failing"})),
        },
    )
    .await?;
    tracing::error!(endpoint = %d.endpoint_id, %since, "webhook endpoint disabled: failing for too long");
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config() -> WebhookConfig {
        WebhookConfig {
            timeout: Duration::from_secs(15),
            retry_schedule: [5, 300, 1800, 7200, 18000, 36000, 36000]
                .map(Duration::from_secs)
                .to_vec(),
            give_up_after: Duration::from_secs(86_400),
            disable_after: Duration::from_secs(86_400),
            lease: Duration::from_secs(60),
            poll_interval: Duration::from_secs(1),
            keep: Duration::from_secs(30 * 86_400),
            allow_private: false,
        }
    }

    #[test]
    fn retries_follow_the_schedule_with_jitter_and_stop_at_the_window() {
        let config = config();
        let start = Utc::now();
        let within = |at: DateTime<Utc>, now: DateTime<Utc>, secs: f64| {
            let s = (at - now).as_seconds_f64();
            s >= secs * 0.8 - 1e-3 && s <= secs * 1.2 + 1e-3
        };
        let first = next_try(&config, 1, start, start).expect("a retry");
        assert!(within(first, start, 5.0));
        let second = next_try(&config, 2, start, start).expect("a retry");
        assert!(within(second, start, 300.0));
        let later = start + chrono::TimeDelta::hours(23);
        // 10 hours would pass the day: the last try is at its end.
        let last = next_try(&config, 7, start, later).expect("a last retry");
        assert_eq!(last, start + chrono::TimeDelta::hours(24));
        assert_eq!(
            next_try(&config, 8, start, start + chrono::TimeDelta::hours(24)),
            None
        );
    }
}
