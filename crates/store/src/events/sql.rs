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
/// it costs index probes and no row version. One row per call and kind
/// in each merge: the last voice event, the latest status, the last
/// recording. Ids that no longer exist (a clinic deleted meanwhile) become
/// NULL rather than failing the batch on a foreign key.
///
/// Both tables are partitioned by month (V6), so no index makes a call SID
/// unique: an event is a repeat when one with its key lies within a day of
/// it (a retry comes within minutes, a replayed line has the same instant),
/// and a call's row is the one with its SID started within two days of the
/// event (no call lasts that long). The merge holds an advisory lock, so two
/// writers (replicas) never both insert one call.
const MERGE: &str = "
SELECT pg_advisory_xact_lock(5373253);

WITH fresh AS (
SELECT DISTINCT ON (call_sid, kind, event_key) *,
       'epoch'::timestamptz + at_us * interval '1 microsecond' AS at
FROM call_events_in u
WHERE NOT EXISTS (
    SELECT 1 FROM call_events e
    WHERE e.call_sid = u.call_sid AND e.kind = u.kind AND e.event_key = u.event_key
      AND e.at > 'epoch'::timestamptz + u.at_us * interval '1 microsecond' - interval '1 day'
      AND e.at < 'epoch'::timestamptz + u.at_us * interval '1 microsecond' + interval '1 day')
ORDER BY call_sid, kind, event_key, at_us),
recorded AS (
INSERT INTO call_events (call_sid, kind, event_key, at, payload)
SELECT call_sid, kind, event_key, at,
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
FROM fresh
RETURNING call_sid, kind, event_key, at)
DELETE FROM call_events_in u WHERE NOT EXISTS (
    SELECT 1 FROM recorded r
    WHERE r.call_sid = u.call_sid AND r.kind = u.kind AND r.event_key = u.event_key
      AND r.at = 'epoch'::timestamptz + u.at_us * interval '1 microsecond');

WITH v AS (
SELECT DISTINCT ON (u.call_sid) u.call_sid,
       (SELECT c.id FROM clinics c WHERE c.id = u.clinic_id) AS clinic_id,
       (SELECT n.id FROM numbers n WHERE n.id = u.number_id) AS number_id,
       (SELECT l.id FROM locations l WHERE l.id = u.location_id) AS location_id,
       u.from_number, u.to_number, 'epoch'::timestamptz + u.at_us * interval '1 microsecond' AS at,
       u.outcome_kind, u.outcome_id, u.outcome_name, u.caller_name
FROM call_events_in u WHERE u.kind = 'voice'
ORDER BY u.call_sid, u.at_us DESC),
updated AS (
UPDATE calls c SET
    clinic_id = COALESCE(v.clinic_id, c.clinic_id),
    number_id = COALESCE(v.number_id, c.number_id),
    location_id = COALESCE(v.location_id, c.location_id),
    from_number = v.from_number,
    to_number = v.to_number,
    started_at = LEAST(c.started_at, v.at),
    outcome_kind = v.outcome_kind,
    outcome_id = v.outcome_id,
    outcome_name = v.outcome_name,
    caller_name = COALESCE(v.caller_name, c.caller_name),
    updated_at = now()
FROM v
WHERE c.call_sid = v.call_sid
  AND c.started_at > v.at - interval '2 days' AND c.started_at < v.at + interval '2 days'
RETURNING c.call_sid)
INSERT INTO calls (call_sid, clinic_id, number_id, location_id, from_number, to_number,
                   started_at, outcome_kind, outcome_id, outcome_name, caller_name)
SELECT call_sid, clinic_id, number_id, location_id, from_number, to_number,
       at, outcome_kind, outcome_id, outcome_name, caller_name
FROM v WHERE NOT EXISTS (SELECT 1 FROM updated WHERE updated.call_sid = v.call_sid);

-- Callbacks may arrive out of order: only a newer SequenceNumber lands.
WITH s AS (
SELECT DISTINCT ON (call_sid) call_sid, from_number, to_number,
       'epoch'::timestamptz + at_us * interval '1 microsecond' AS at, status, sequence, duration_seconds
FROM call_events_in WHERE kind = 'status'
ORDER BY call_sid, sequence DESC NULLS LAST, at_us DESC),
updated AS (
UPDATE calls c SET
    status = s.status,
    status_sequence = s.sequence,
    duration_seconds = COALESCE(s.duration_seconds, c.duration_seconds),
    updated_at = now()
FROM s
WHERE c.call_sid = s.call_sid
  AND c.started_at > s.at - interval '2 days' AND c.started_at < s.at + interval '2 days'
  AND (c.status_sequence IS NULL OR c.status_sequence <= s.sequence))
INSERT INTO calls (call_sid, from_number, to_number, started_at, status, status_sequence, duration_seconds)
SELECT call_sid, from_number, to_number, at, status, sequence, duration_seconds
FROM s WHERE NOT EXISTS (
    SELECT 1 FROM calls c WHERE c.call_sid = s.call_sid
      AND c.started_at > s.at - interval '2 days' AND c.started_at < s.at + interval '2 days');

-- The call row normally exists; if the voice event is still on its way
-- (journal order), a placeholder row is completed when it lands.
WITH r AS (
SELECT DISTINCT ON (call_sid) call_sid, 'epoch'::timestamptz + at_us * interval '1 microsecond' AS at,
       recording_url, recording_sid, duration_seconds
FROM call_events_in WHERE kind = 'recording'
ORDER BY call_sid, at_us DESC),
updated AS (
UPDATE calls c SET
    recording_url = r.recording_url,
    recording_sid = r.recording_sid,
    recording_duration = COALESCE(r.duration_seconds, c.recording_duration),
    updated_at = now()
FROM r
WHERE c.call_sid = r.call_sid
  AND c.started_at > r.at - interval '2 days' AND c.started_at < r.at + interval '2 days'
RETURNING c.call_sid)
INSERT INTO calls (call_sid, from_number, to_number, started_at, recording_url, recording_sid, recording_duration)
SELECT call_sid, '', '', at, recording_url, recording_sid, duration_seconds
FROM r WHERE NOT EXISTS (SELECT 1 FROM updated WHERE updated.call_sid = r.call_sid);

-- A transcript: a completed one is kept over a later failure.
WITH t AS (
SELECT DISTINCT ON (call_sid) call_sid, 'epoch'::timestamptz + at_us * interval '1 microsecond' AS at,
       NULLIF(transcript, '') AS transcript, status
FROM call_events_in WHERE kind = 'transcription'
ORDER BY call_sid, (status = 'completed') DESC, at_us DESC),
updated AS (
UPDATE calls c SET
    transcript = t.transcript,
    transcript_status = t.status,
    updated_at = now()
FROM t
WHERE c.call_sid = t.call_sid
  AND c.started_at > t.at - interval '2 days' AND c.started_at < t.at + interval '2 days'
  AND c.transcript_status IS DISTINCT FROM 'completed'
RETURNING c.call_sid)
INSERT INTO calls (call_sid, from_number, to_number, started_at, transcript, transcript_status)
SELECT call_sid, '', '', at, transcript, status
FROM t WHERE NOT EXISTS (
    SELECT 1 FROM calls c WHERE c.call_sid = t.call_sid
      AND c.started_at > t.at - interval '2 days' AND c.started_at < t.at + interval '2 days')";

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
