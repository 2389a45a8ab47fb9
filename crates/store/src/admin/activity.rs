//! The call log, newest first, with keyset pagination.

use chrono::{DateTime, Utc};
use deadpool_postgres::GenericClient;
use serde::Serialize;
use uuid::Uuid;

use crate::error::StoreResult;

/// One call as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CallRow {
    pub call_sid: String,
    pub number_id: Option<Uuid>,
    pub location_id: Option<Uuid>,
    pub from: String,
    pub to: String,
    pub started_at: DateTime<Utc>,
    pub outcome_kind: Option<String>,
    pub outcome_id: Option<String>,
    pub outcome_name: Option<String>,
    pub status: Option<String>,
    pub duration_seconds: Option<i32>,
    pub recording_url: Option<String>,
    pub recording_duration: Option<i32>,
    /// Twilio's `CallerName`, when caller-ID lookup gave one.
    pub caller_name: Option<String>,
    /// The voicemail's transcript, once Twilio sent it.
    pub transcript: Option<String>,
}

/// Which calls to list.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CallFilter {
    pub location_id: Option<Uuid>,
    pub number_id: Option<Uuid>,
    /// Started at or after.
    pub since: Option<DateTime<Utc>>,
    /// Started before.
    pub until: Option<DateTime<Utc>>,
    /// Strictly after this `(started_at, call_sid)` in newest-first order.
    pub after: Option<(DateTime<Utc>, String)>,
}

/// The clinic's calls, newest first, at most `limit`.
pub async fn list_calls(
    client: &impl GenericClient,
    clinic_id: Uuid,
    f: &CallFilter,
    limit: i64,
) -> StoreResult<Vec<CallRow>> {
    let (after_at, after_sid) = match &f.after {
        Some((at, sid)) => (Some(*at), Some(sid.as_str())),
        None => (None, None),
    };
    let rows = client
        .query(
            "SELECT call_sid, number_id, location_id, from_number, to_number, started_at, \
                    outcome_kind, outcome_id, outcome_name, status, duration_seconds, \
                    recording_url, recording_duration, caller_name, transcript \
             FROM calls WHERE clinic_id = $1 \
               AND ($2::uuid IS NULL OR location_id = $2) \
               AND ($3::uuid IS NULL OR number_id = $3) \
               AND ($4::timestamptz IS NULL OR started_at >= $4) \
               AND ($5::timestamptz IS NULL OR started_at < $5) \
               AND ($6::timestamptz IS NULL OR (started_at, call_sid) < ($6, $7::text)) \
             ORDER BY started_at DESC, call_sid DESC LIMIT $8",
            &[
                &clinic_id,
                &f.location_id,
                &f.number_id,
                &f.since,
                &f.until,
                &after_at,
                &after_sid,
                &limit,
            ],
        )
        .await?;
    Ok(rows
        .iter()
        .map(|r| CallRow {
            call_sid: r.get(0),
            number_id: r.get(1),
            location_id: r.get(2),
            from: r.get(3),
            to: r.get(4),
            started_at: r.get(5),
            outcome_kind: r.get(6),
            outcome_id: r.get(7),
            outcome_name: r.get(8),
            status: r.get(9),
            duration_seconds: r.get(10),
            recording_url: r.get(11),
            recording_duration: r.get(12),
            caller_name: r.get(13),
            transcript: r.get(14),
        })
        .collect())
}

/// The recording of one of the clinic's calls; `NotFound` when the clinic
/// has no such call, `None` when it left no voicemail.
pub async fn recording_url(
    client: &impl GenericClient,
    clinic_id: Uuid,
    call_sid: &str,
) -> StoreResult<Option<String>> {
    let row = client
        .query_opt(
            "SELECT recording_url FROM calls WHERE clinic_id = $1 AND call_sid = $2",
            &[&clinic_id, &call_sid],
        )
        .await?
        .ok_or(crate::StoreError::NotFound)?;
    Ok(row.get(0))
}
