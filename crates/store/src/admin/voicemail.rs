//! Voicemail by email: who is told of a number's voicemail, whether the
//! clinic transcribes it, and the emails written (V7).

use chrono::{DateTime, Utc};
use deadpool_postgres::GenericClient;
use serde::Serialize;
use uuid::Uuid;

use crate::error::{StoreError, StoreResult};

/// Whose recipient list: a number's, or a location's (all its numbers).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Owner {
    Number(Uuid),
    Location(Uuid),
}

impl Owner {
    fn ids(self) -> (Option<Uuid>, Option<Uuid>) {
        match self {
            Owner::Number(id) => (Some(id), None),
            Owner::Location(id) => (None, Some(id)),
        }
    }
}

/// Whether the number or location is the clinic's (else [`StoreError::NotFound`]).
async fn check_owner(
    client: &impl GenericClient,
    clinic_id: Uuid,
    owner: Owner,
) -> StoreResult<()> {
    let sql = match owner {
        Owner::Number(_) => {
            "SELECT EXISTS (SELECT 1 FROM numbers WHERE clinic_id = $1 AND id = $2)"
        }
        Owner::Location(_) => {
            "SELECT EXISTS (SELECT 1 FROM locations WHERE clinic_id = $1 AND id = $2)"
        }
    };
    let (Owner::Number(id) | Owner::Location(id)) = owner;
    let found: bool = client.query_one(sql, &[&clinic_id, &id]).await?.get(0);
    if found {
        Ok(())
    } else {
        Err(StoreError::NotFound)
    }
}

/// The addresses told of `owner`'s voicemail, in the order they were given.
pub async fn recipients(
    client: &impl GenericClient,
    clinic_id: Uuid,
    owner: Owner,
) -> StoreResult<Vec<String>> {
    check_owner(client, clinic_id, owner).await?;
    let (number_id, location_id) = owner.ids();
    let rows = client
        .query(
            "SELECT email FROM voicemail_recipients WHERE clinic_id = $1 \
             AND number_id IS NOT DISTINCT FROM $2 AND location_id IS NOT DISTINCT FROM $3 \
             ORDER BY created_at, id",
            &[&clinic_id, &number_id, &location_id],
        )
        .await?;
    Ok(rows.iter().map(|r| r.get(0)).collect())
}

/// Replaces `owner`'s list with `emails` (already checked, each once), in
/// the caller's transaction.
pub async fn replace_recipients(
    tx: &impl GenericClient,
    clinic_id: Uuid,
    owner: Owner,
    emails: &[String],
) -> StoreResult<()> {
    check_owner(tx, clinic_id, owner).await?;
    let (number_id, location_id) = owner.ids();
    tx.execute(
        "DELETE FROM voicemail_recipients WHERE clinic_id = $1 \
         AND number_id IS NOT DISTINCT FROM $2 AND location_id IS NOT DISTINCT FROM $3",
        &[&clinic_id, &number_id, &location_id],
    )
    .await?;
    // One statement; each address a microsecond after the one before keeps
    // the order given.
    tx.execute(
        "INSERT INTO voicemail_recipients (clinic_id, number_id, location_id, email, created_at) \
         SELECT $1, $2, $3, e, now() + n * interval '1 microsecond' \
         FROM unnest($4::text[]) WITH ORDINALITY AS t(e, n)",
        &[&clinic_id, &number_id, &location_id, &emails],
    )
    .await?;
    Ok(())
}

/// Whether the clinic asks Twilio to transcribe its voicemail.
pub async fn transcribes(client: &impl GenericClient, clinic_id: Uuid) -> StoreResult<bool> {
    client
        .query_opt(
            "SELECT transcribe_voicemail FROM clinics WHERE id = $1",
            &[&clinic_id],
        )
        .await?
        .map(|r| r.get(0))
        .ok_or(StoreError::NotFound)
}

/// Turns transcription on or off; the routers pick it up on commit.
pub async fn set_transcribes(
    tx: &impl GenericClient,
    clinic_id: Uuid,
    on: bool,
) -> StoreResult<()> {
    let changed = tx
        .execute(
            "UPDATE clinics SET transcribe_voicemail = $2, updated_at = now() WHERE id = $1",
            &[&clinic_id, &on],
        )
        .await?;
    if changed == 0 {
        return Err(StoreError::NotFound);
    }
    Ok(())
}

/// An email as written: queued, sent, kept in the outbox, or given up.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[schema(as = Email)]
pub struct EmailRow {
    pub id: Uuid,
    /// The call whose voicemail it announces.
    pub call_sid: Option<String>,
    pub to: String,
    pub subject: String,
    /// `queued` (waiting for its next try), `sent`, `outbox` (no SMTP
    /// server is configured: kept here, never sent) or `failed`.
    pub state: String,
    pub attempts: i32,
    /// Why the last try failed.
    pub last_error: Option<String>,
    pub created_at: DateTime<Utc>,
    pub sent_at: Option<DateTime<Utc>>,
    /// The plain-text part.
    pub text: String,
    /// The HTML part.
    pub html: String,
}

/// The clinic's emails, newest first, after the `(created_at, id)` of
/// `after`.
pub async fn list_emails(
    client: &impl GenericClient,
    clinic_id: Uuid,
    after: Option<(DateTime<Utc>, Uuid)>,
    limit: i64,
) -> StoreResult<Vec<EmailRow>> {
    let (at, id) = after.unzip();
    let rows = client
        .query(
            "SELECT id, call_sid, to_address, subject, state, attempts, last_error, created_at, \
             sent_at, body_text, body_html FROM emails WHERE clinic_id = $1 \
             AND ($2::timestamptz IS NULL OR (created_at, id) < ($2, $3)) \
             ORDER BY created_at DESC, id DESC LIMIT $4",
            &[&clinic_id, &at, &id, &limit],
        )
        .await?;
    Ok(rows
        .iter()
        .map(|r| EmailRow {
            id: r.get(0),
            call_sid: r.get(1),
            to: r.get(2),
            subject: r.get(3),
            state: r.get(4),
            attempts: r.get(5),
            last_error: r.get(6),
            created_at: r.get(7),
            sent_at: r.get(8),
            text: r.get(9),
            html: r.get(10),
        })
        .collect())
}

/// A number or a location with the addresses told of its voicemail.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OwnerList {
    pub id: Uuid,
    /// The number's E.164, or the location's name.
    pub name: String,
    /// The number's friendly name, or the location's timezone.
    pub note: Option<String>,
    pub emails: Vec<String>,
}

/// Every live number and every location of the clinic, with their lists:
/// one read for the console's page.
pub async fn overview(
    client: &impl GenericClient,
    clinic_id: Uuid,
) -> StoreResult<(Vec<OwnerList>, Vec<OwnerList>)> {
    let lists = |sql: &'static str| async move {
        let rows = client.query(sql, &[&clinic_id]).await?;
        StoreResult::Ok(
            rows.iter()
                .map(|r| OwnerList {
                    id: r.get(0),
                    name: r.get(1),
                    note: r.get(2),
                    emails: r.get(3),
                })
                .collect::<Vec<_>>(),
        )
    };
    let numbers = lists(
        "SELECT n.id, n.e164, n.friendly_name, \
         COALESCE(array_agg(v.email ORDER BY v.created_at, v.id) FILTER (WHERE v.id IS NOT NULL), '{}') \
         FROM numbers n LEFT JOIN voicemail_recipients v ON v.number_id = n.id \
         WHERE n.clinic_id = $1 AND n.lifecycle <> 'released' \
         GROUP BY n.id ORDER BY n.is_primary DESC, n.e164",
    )
    .await?;
    let locations = lists(
        "SELECT l.id, l.name, l.timezone, \
         COALESCE(array_agg(v.email ORDER BY v.created_at, v.id) FILTER (WHERE v.id IS NOT NULL), '{}') \
         FROM locations l LEFT JOIN voicemail_recipients v ON v.location_id = l.id \
         WHERE l.clinic_id = $1 GROUP BY l.id ORDER BY l.name, l.id",
    )
    .await?;
    Ok((numbers, locations))
}
