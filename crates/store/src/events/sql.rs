//! The statements of a batch: `COPY` into a staging table of the writer's
//! session, then one set-based merge into `call_events` and `calls`.

use std::pin::pin;

use deadpool_postgres::Pool;
use futures_util::SinkExt;

use super::encode::CallEvent;
use crate::error::StoreResult;

/// The staging table of one writer session: every column of an encoded
/// line, emptied at each commit.
const STAGING: &str = "SET LOCAL client_min_messages = warning;
CREATE TEMP TABLE IF NOT EXISTS call_events_in (
    call_sid text NOT NULL, kind text NOT NULL, event_key text NOT NULL, at_us bigint NOT NULL,
    clinic_id uuid, number_id uuid, location_id uuid, from_number text, to_number text,
    outcome_kind text, outcome_id text, outcome_name text, step integer, dial_status text,
    status text, sequence integer, duration_seconds integer, recording_sid text, recording_url text,
    caller_name text, transcript text
) ON COMMIT DELETE ROWS";

/// From the staging table into `call_events` and `calls`, in one round trip.
/// Only events recorded for the first time reach `calls`: a repeat (Twilio
/// retrying a webhook, a journal line replayed after its batch was written)
/// was applied with its first copy, in the transaction that recorded it, so
/// it costs one index probe and no row version. One row per call and kind
/// in each upsert (an upsert may not touch a row twice): the last voice
/// event, the latest status, the last recording. Ids that no longer exist
/// (a clinic deleted meanwhile) become NULL rather than failing the batch
/// on a foreign key.
const MERGE: &str = "
WITH recorded AS (
INSERT INTO call_events (call_sid, kind, event_key, at, payload)
SELECT call_sid, kind, event_key, 'epoch'::timestamptz + at_us * interval '1 microsecond',
       CASE kind
         WHEN 'voice' THEN jsonb_build_object('kind', kind, 'clinic_id', clinic_id, 'number_id', number_id,
              'location_id', location_id, 'from', from_number, 'to', to_number, 'outcome_kind', outcome_kind,
              'outcome_id', outcome_id, 'outcome_name', outcome_name, 'caller_name', caller_name)
         WHEN 'sms' THEN jsonb_build_object('kind', kind, 'clinic_id', clinic_id, 'number_id', number_id,
              'from', from_number, 'to', to_number, 'outcome_kind', outcome_kind)
         WHEN 'continue' THEN jsonb_build_object('kind', kind, 'step', step, 'dial_status', dial_status,
              'outcome_kind', outcome_kind)
         WHEN 'status' THEN jsonb_build_object('kind', kind, 'status', status, 'sequence', sequence,
              'duration_seconds', duration_seconds, 'from', from_number, 'to', to_number)
         WHEN 'transcription' THEN jsonb_build_object('kind', kind, 'transcription_sid', event_key,
              'recording_sid', recording_sid, 'status', status, 'text', transcript)
         ELSE jsonb_build_object('kind', kind, 'recording_sid', recording_sid, 'recording_url', recording_url,
              'duration_seconds', duration_seconds)
       END
FROM call_events_in
ON CONFLICT DO NOTHING
RETURNING call_sid, kind, event_key)
DELETE FROM call_events_in u WHERE NOT EXISTS (
    SELECT 1 FROM recorded r
    WHERE r.call_sid = u.call_sid AND r.kind = u.kind AND r.event_key = u.event_key);

INSERT INTO calls (call_sid, clinic_id, number_id, location_id, from_number, to_number,
                   started_at, outcome_kind, outcome_id, outcome_name, caller_name)
SELECT DISTINCT ON (u.call_sid) u.call_sid,
       (SELECT c.id FROM clinics c WHERE c.id = u.clinic_id),
       (SELECT n.id FROM numbers n WHERE n.id = u.number_id),
       (SELECT l.id FROM locations l WHERE l.id = u.location_id),
       u.from_number, u.to_number, 'epoch'::timestamptz + u.at_us * interval '1 microsecond',
       u.outcome_kind, u.outcome_id, u.outcome_name, u.caller_name
FROM call_events_in u WHERE u.kind = 'voice'
ORDER BY u.call_sid, u.at_us DESC
ON CONFLICT (call_sid) DO UPDATE SET
    clinic_id = COALESCE(EXCLUDED.clinic_id, calls.clinic_id),
    number_id = COALESCE(EXCLUDED.number_id, calls.number_id),
    location_id = COALESCE(EXCLUDED.location_id, calls.location_id),
    from_number = EXCLUDED.from_number,
    to_number = EXCLUDED.to_number,
    started_at = LEAST(calls.started_at, EXCLUDED.started_at),
    outcome_kind = EXCLUDED.outcome_kind,
    outcome_id = EXCLUDED.outcome_id,
    outcome_name = EXCLUDED.outcome_name,
    caller_name = COALESCE(EXCLUDED.caller_name, calls.caller_name),
    updated_at = now();

-- Callbacks may arrive out of order: only a newer SequenceNumber lands.
INSERT INTO calls (call_sid, from_number, to_number, started_at, status, status_sequence, duration_seconds)
SELECT DISTINCT ON (call_sid) call_sid, from_number, to_number,
       'epoch'::timestamptz + at_us * interval '1 microsecond', status, sequence, duration_seconds
FROM call_events_in WHERE kind = 'status'
ORDER BY call_sid, sequence DESC NULLS LAST, at_us DESC
ON CONFLICT (call_sid) DO UPDATE SET
    status = EXCLUDED.status,
    status_sequence = EXCLUDED.status_sequence,
    duration_seconds = COALESCE(EXCLUDED.duration_seconds, calls.duration_seconds),
    updated_at = now()
WHERE calls.status_sequence IS NULL OR calls.status_sequence <= EXCLUDED.status_sequence;

-- The call row normally exists; if the voice event is still on its way
-- (journal order), a placeholder row is completed when it lands.
INSERT INTO calls (call_sid, from_number, to_number, started_at, recording_url, recording_sid, recording_duration)
SELECT DISTINCT ON (call_sid) call_sid, '', '', 'epoch'::timestamptz + at_us * interval '1 microsecond',
       recording_url, recording_sid, duration_seconds
FROM call_events_in WHERE kind = 'recording'
ORDER BY call_sid, at_us DESC
ON CONFLICT (call_sid) DO UPDATE SET
    recording_url = EXCLUDED.recording_url,
    recording_sid = EXCLUDED.recording_sid,
    recording_duration = COALESCE(EXCLUDED.recording_duration, calls.recording_duration),
    updated_at = now();

-- A transcript: a completed one is kept over a later failure.
INSERT INTO calls (call_sid, from_number, to_number, started_at, transcript, transcript_status)
SELECT DISTINCT ON (call_sid) call_sid, '', '', 'epoch'::timestamptz + at_us * interval '1 microsecond',
       NULLIF(transcript, ''), status
FROM call_events_in WHERE kind = 'transcription'
ORDER BY call_sid, (status = 'completed') DESC, at_us DESC
ON CONFLICT (call_sid) DO UPDATE SET
    transcript = EXCLUDED.transcript,
    transcript_status = EXCLUDED.transcript_status,
    updated_at = now()
WHERE calls.transcript_status IS DISTINCT FROM 'completed'";

/// Writes encoded lines in one transaction: copied into the staging table,
/// then merged. Idempotent, so replaying lines is harmless.
pub async fn write_lines(pool: &Pool, lines: &[u8]) -> StoreResult<()> {
    if lines.is_empty() {
        return Ok(());
    }
    let mut client = pool.get().await?;
    let tx = client.transaction().await?;
    tx.batch_execute(STAGING).await?;
    let copy = tx.prepare_cached("COPY call_events_in FROM STDIN").await?;
    let mut sink = pin!(tx.copy_in(&copy).await?);
    sink.send(bytes::Bytes::copy_from_slice(lines)).await?;
    sink.as_mut().finish().await?;
    tx.batch_execute(MERGE).await?;
    tx.commit().await?;
    Ok(())
}

/// Writes events in one transaction (see [`write_lines`]).
pub async fn write_batch(pool: &Pool, batch: &[CallEvent<'_>]) -> StoreResult<()> {
    let mut lines = Vec::with_capacity(256 * batch.len());
    for event in batch {
        event.encode(&mut lines);
    }
    write_lines(pool, &lines).await
}
