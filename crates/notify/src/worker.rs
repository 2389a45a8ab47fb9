//! The worker's rounds: compose the notices that are due, send the emails
//! that are due. Each claim is a short transaction; no transaction is held
//! open while an SMTP server is talked to.

use std::time::Duration;

use chrono::{DateTime, Utc};
use rand::Rng;
use switchboard_store::{Pool, StoreResult};
use uuid::Uuid;

use crate::EmailConfig;
use crate::compose::{Email, Transcript, Voicemail, voicemail_email};
use crate::smtp::{Mailer, Sent};

/// Notices composed, emails leased, per round trip.
const BATCH: i64 = 50;
/// How long a leased email is left to its sender before another may try.
const LEASE: Duration = Duration::from_secs(300);
/// The longest wait between two tries.
const RETRY_CAP: Duration = Duration::from_secs(3600);
/// After this long in the queue an email is given up (`failed`).
const GIVE_UP_AFTER: chrono::TimeDelta = chrono::TimeDelta::hours(24);

pub async fn run(
    pool: Pool,
    config: EmailConfig,
    mailer: Mailer,
    stop: tokio::sync::oneshot::Receiver<()>,
) {
    crate::rounds::every("voicemail emails", config.poll_interval, stop, || async {
        compose_due(&pool, &config, &mailer).await?;
        // Drain: a full batch means more may be due at once.
        while send_due(&pool, &config, &mailer).await? == BATCH as usize {}
        Ok(())
    })
    .await;
}

/// The notices whose wait is over, with what their emails say.
const DUE_NOTICES: &str = "
SELECT c.call_sid, c.clinic_id, c.number_id, c.location_id, c.from_number, c.caller_name,
       c.to_number, c.started_at, c.recording_duration, c.transcript, c.transcript_status,
       k.transcribe_voicemail, k.default_timezone,
       COALESCE(n.routing->>'timezone', l.timezone, k.default_timezone), n.friendly_name
FROM voicemail_notices v
JOIN calls c ON c.call_sid = v.call_sid
JOIN clinics k ON k.id = c.clinic_id
LEFT JOIN numbers n ON n.id = c.number_id
LEFT JOIN locations l ON l.id = n.location_id
WHERE v.composed_at IS NULL
  AND (c.transcript_status IS NOT NULL OR NOT k.transcribe_voicemail
       OR v.recorded_at <= now() - make_interval(secs => $1))
ORDER BY v.recorded_at
LIMIT $2
FOR UPDATE OF v SKIP LOCKED";

/// The addresses of the number and of the location the call came in at,
/// each once whatever its case (spelt as the number's list has it).
const RECIPIENTS: &str = "
SELECT DISTINCT ON (lower(email)) email FROM voicemail_recipients
WHERE clinic_id = $1 AND (number_id = $2 OR location_id = $3)
ORDER BY lower(email), number_id IS NULL, created_at";

const QUEUE: &str = "
INSERT INTO emails (clinic_id, call_sid, to_address, subject, body_text, body_html, state)
VALUES ($1, $2, $3, $4, $5, $6, $7)
ON CONFLICT (call_sid, to_address) DO NOTHING";

/// A recording whose call never learnt its clinic (a number no router
/// knew) has nobody to tell: its notice is closed after a day.
const CLOSE_ORPHANS: &str = "
UPDATE voicemail_notices SET composed_at = now()
WHERE composed_at IS NULL AND recorded_at < now() - interval '1 day'";

async fn compose_due(pool: &Pool, config: &EmailConfig, mailer: &Mailer) -> StoreResult<()> {
    let mut client = pool.get().await?;
    client.execute(CLOSE_ORPHANS, &[]).await?;
    let tx = client.transaction().await?;
    let wait = config.transcript_wait.as_secs_f64();
    let rows = tx.query(DUE_NOTICES, &[&wait, &BATCH]).await?;
    if rows.is_empty() {
        return Ok(());
    }
    let state = if mailer.is_outbox() {
        "outbox"
    } else {
        "queued"
    };
    for row in &rows {
        let call_sid: String = row.get(0);
        let clinic_id: Uuid = row.get(1);
        let number_id: Option<Uuid> = row.get(2);
        let location_id: Option<Uuid> = row.get(3);
        let transcribes: bool = row.get(11);
        let transcript = match (
            row.get::<_, Option<String>>(9),
            row.get::<_, Option<&str>>(10),
        ) {
            (Some(text), _) => Transcript::Text(text),
            (None, Some(_)) => Transcript::Failed,
            (None, None) if transcribes => Transcript::NotReady,
            (None, None) => Transcript::NotAsked,
        };
        let zone = |raw: Option<&str>| raw.and_then(|z| z.parse().ok()).unwrap_or(chrono_tz::UTC);
        let voicemail = Voicemail {
            call_sid: call_sid.clone(),
            clinic_id,
            number_id,
            from: row.get(4),
            caller_name: row.get(5),
            to: row.get(6),
            number_name: row.get(14),
            started_at: row.get::<_, DateTime<Utc>>(7),
            timezone: zone(row.get(13)),
            clinic_timezone: zone(row.get(12)),
            duration_seconds: row.get(8),
            transcript,
        };
        let email = voicemail_email(&voicemail, &config.console_url);
        let recipients = tx
            .query(RECIPIENTS, &[&clinic_id, &number_id, &location_id])
            .await?;
        for recipient in &recipients {
            let to: String = recipient.get(0);
            queue(&tx, clinic_id, &call_sid, &to, &email, state).await?;
        }
        tx.execute(
            "UPDATE voicemail_notices SET composed_at = now() WHERE call_sid = $1",
            &[&call_sid],
        )
        .await?;
        tracing::info!(
            call_sid,
            emails = recipients.len(),
            "voicemail email composed"
        );
    }
    tx.commit().await?;
    Ok(())
}

async fn queue(
    tx: &tokio_postgres::Transaction<'_>,
    clinic_id: Uuid,
    call_sid: &str,
    to: &str,
    email: &Email,
    state: &str,
) -> StoreResult<()> {
    tx.execute(
        QUEUE,
        &[
            &clinic_id,
            &call_sid,
            &to,
            &email.subject,
            &email.text,
            &email.html,
            &state,
        ],
    )
    .await?;
    Ok(())
}

/// Leases due emails: their next attempt moves past the lease, so another
/// replica (or this one after a crash) takes them only once it expires.
const LEASE_DUE: &str = "
UPDATE emails e SET attempts = e.attempts + 1, next_attempt_at = now() + make_interval(secs => $1)
WHERE e.id IN (SELECT id FROM emails WHERE state = 'queued' AND next_attempt_at <= now()
               ORDER BY next_attempt_at LIMIT $2 FOR UPDATE SKIP LOCKED)
RETURNING e.id, e.to_address, e.subject, e.body_text, e.body_html, e.attempts, e.created_at";

/// Sends what is due; how many emails were leased.
async fn send_due(pool: &Pool, config: &EmailConfig, mailer: &Mailer) -> StoreResult<usize> {
    if mailer.is_outbox() {
        return Ok(0);
    }
    let leased = {
        let client = pool.get().await?;
        client
            .query(LEASE_DUE, &[&LEASE.as_secs_f64(), &BATCH])
            .await?
    };
    for row in &leased {
        let id: Uuid = row.get(0);
        let to: String = row.get(1);
        let email = Email {
            subject: row.get(2),
            text: row.get(3),
            html: row.get(4),
        };
        let attempts: i32 = row.get(5);
        let created_at: DateTime<Utc> = row.get(6);
        let outcome = mailer.send(&to, &email).await;
        let client = pool.get().await?;
        match outcome {
            Sent::Done => {
                client
                    .execute(
                        "UPDATE emails SET state = 'sent', sent_at = now(), last_error = NULL WHERE id = $1",
                        &[&id],
                    )
                    .await?;
                tracing::info!(%id, attempts, "voicemail email sent");
            }
            Sent::Retry(error) if Utc::now() - created_at < GIVE_UP_AFTER => {
                let delay = backoff(config.retry_initial, attempts);
                client
                    .execute(
                        "UPDATE emails SET next_attempt_at = now() + make_interval(secs => $2), \
                         last_error = $3 WHERE id = $1",
                        &[&id, &delay.as_secs_f64(), &error],
                    )
                    .await?;
                tracing::warn!(%id, attempts, retry_in_seconds = delay.as_secs(), %error, "voicemail email not sent; will retry");
            }
            Sent::Retry(error) | Sent::Refused(error) => {
                client
                    .execute(
                        "UPDATE emails SET state = 'failed', last_error = $2 WHERE id = $1",
                        &[&id, &error],
                    )
                    .await?;
                tracing::error!(%id, attempts, %error, "voicemail email given up");
            }
        }
    }
    Ok(leased.len())
}

/// `initial` doubled for each attempt already made, at most an hour, with
/// a fifth of jitter so that a server coming back is not met by a crowd.
fn backoff(initial: Duration, attempts: i32) -> Duration {
    let doublings = u32::try_from(attempts.saturating_sub(1))
        .unwrap_or(0)
        .min(20);
    let base = initial.saturating_mul(1u32 << doublings).min(RETRY_CAP);
    let jitter = rand::rng().random_range(0.8..=1.2);
    base.mul_f64(jitter)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retries_double_from_the_first_delay_up_to_an_hour() {
        let first = Duration::from_secs(30);
        let within = |d: Duration, secs: f64| {
            let s = d.as_secs_f64();
            s >= secs * 0.8 - 1e-9 && s <= secs * 1.2 + 1e-9
        };
        assert!(within(backoff(first, 1), 30.0));
        assert!(within(backoff(first, 2), 60.0));
        assert!(within(backoff(first, 4), 240.0));
        assert!(within(backoff(first, 12), 3600.0));
        assert!(within(backoff(first, 1000), 3600.0));
    }
}
