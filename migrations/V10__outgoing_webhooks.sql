-- Outgoing webhooks: a clinic's endpoints, the messages (an outbox) and
-- their deliveries with every attempt, drained by the `serve` processes.
--
-- A message is written in the transaction of its fact: a call's from the
-- call-event writer's batch (row triggers on `calls`, as V7 queues voicemail
-- notices), a number's from the admin operation that changes it. Each
-- message gets one delivery per enabled endpoint of the clinic that wants
-- its type; the workers claim deliveries with FOR UPDATE SKIP LOCKED.

CREATE TABLE webhook_endpoints (
    id                uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    clinic_id         uuid NOT NULL REFERENCES clinics (id) ON DELETE CASCADE,
    url               text NOT NULL CHECK (length(url) BETWEEN 8 AND 2048),
    description       text NOT NULL DEFAULT '' CHECK (length(description) <= 500),
    events            text[] NOT NULL CHECK (
        cardinality(events) >= 1
        AND events <@ ARRAY['call.completed', 'voicemail.received', 'transcript.ready', 'number.changed']),
    -- Standard Webhooks: whsec_ and the base64 of the key's bytes.
    secret            text NOT NULL CHECK (secret LIKE 'whsec\_%'),
    -- After a rotation the old secret signs beside the new one until
    -- `previous_secret_until`, so a receiver can switch without a gap.
    previous_secret       text CHECK (previous_secret LIKE 'whsec\_%'),
    previous_secret_until timestamptz,
    enabled           boolean NOT NULL DEFAULT true,
    disabled_reason   text CHECK (disabled_reason IN ('manual', 'failing')),
    disabled_at       timestamptz,
    -- The first failed attempt since the last delivered one.
    failing_since     timestamptz,
    created_at        timestamptz NOT NULL DEFAULT now(),
    updated_at        timestamptz NOT NULL DEFAULT now(),
    UNIQUE (clinic_id, id),
    CONSTRAINT webhook_endpoints_previous_secret CHECK (
        (previous_secret IS NULL) = (previous_secret_until IS NULL)),
    CONSTRAINT webhook_endpoints_disabled CHECK (
        enabled = (disabled_reason IS NULL) AND enabled = (disabled_at IS NULL))
);
CREATE INDEX webhook_endpoints_clinic ON webhook_endpoints (clinic_id, created_at);

-- What happened, once: `id` is the `webhook-id` a receiver dedupes on. A
-- call's fact of one type is written once (a replayed batch adds nothing).
-- No foreign key to calls: they are partitioned by month (V6).
CREATE TABLE webhook_messages (
    id         text PRIMARY KEY,
    clinic_id  uuid NOT NULL REFERENCES clinics (id) ON DELETE CASCADE,
    type       text NOT NULL,
    call_sid   text,
    data       jsonb NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX webhook_messages_once ON webhook_messages (clinic_id, type, call_sid)
    WHERE call_sid IS NOT NULL;
-- The log's pruning takes the oldest first (`webhooks.keep_days`).
CREATE INDEX webhook_messages_created ON webhook_messages (created_at);

-- A message to one endpoint. `id` orders a call's messages: for one
-- endpoint, a delivery waits while an earlier one of its call is pending.
-- `retry_from` starts the retry window (creation, or a manual redelivery).
CREATE TABLE webhook_deliveries (
    id              bigserial PRIMARY KEY,
    endpoint_id     uuid NOT NULL REFERENCES webhook_endpoints (id) ON DELETE CASCADE,
    message_id      text NOT NULL REFERENCES webhook_messages (id) ON DELETE CASCADE,
    call_sid        text,
    state           text NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'delivered', 'failed')),
    attempts        integer NOT NULL DEFAULT 0,
    next_attempt_at timestamptz NOT NULL DEFAULT now(),
    retry_from      timestamptz NOT NULL DEFAULT now(),
    created_at      timestamptz NOT NULL DEFAULT now(),
    delivered_at    timestamptz,
    UNIQUE (endpoint_id, message_id)
);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (next_attempt_at) WHERE state = 'pending';
CREATE INDEX webhook_deliveries_call ON webhook_deliveries (endpoint_id, call_sid, id)
    WHERE state = 'pending' AND call_sid IS NOT NULL;
CREATE INDEX webhook_deliveries_log ON webhook_deliveries (endpoint_id, id DESC);
CREATE INDEX webhook_deliveries_message ON webhook_deliveries (message_id);

-- Every try: what the receiver answered (an excerpt), or why nothing came.
CREATE TABLE webhook_attempts (
    id               bigserial PRIMARY KEY,
    delivery_id      bigint NOT NULL REFERENCES webhook_deliveries (id) ON DELETE CASCADE,
    at               timestamptz NOT NULL DEFAULT now(),
    status_code      integer,
    latency_ms       integer NOT NULL,
    response_excerpt text CHECK (octet_length(response_excerpt) <= 1024),
    error            text
);
CREATE INDEX webhook_attempts_delivery ON webhook_attempts (delivery_id, id DESC);

-- Writes a message and a delivery per enabled endpoint of the clinic that
-- wants its type; nothing when none does, or when the call's fact of this
-- type was written already. The message's id, or NULL.
CREATE FUNCTION webhook_enqueue(p_clinic uuid, p_type text, p_call_sid text, p_data jsonb)
RETURNS text LANGUAGE plpgsql AS $$
DECLARE
    msg text;
BEGIN
    IF NOT EXISTS (SELECT 1 FROM webhook_endpoints
                   WHERE clinic_id = p_clinic AND enabled AND p_type = ANY (events)) THEN
        RETURN NULL;
    END IF;
    INSERT INTO webhook_messages (id, clinic_id, type, call_sid, data)
    VALUES ('msg_' || replace(gen_random_uuid()::text, '-', ''), p_clinic, p_type, p_call_sid, p_data)
    ON CONFLICT DO NOTHING
    RETURNING id INTO msg;
    IF msg IS NULL THEN
        RETURN NULL;
    END IF;
    INSERT INTO webhook_deliveries (endpoint_id, message_id, call_sid)
    SELECT id, msg, p_call_sid FROM webhook_endpoints
    WHERE clinic_id = p_clinic AND enabled AND p_type = ANY (events)
    ORDER BY created_at, id;
    RETURN msg;
END;
$$;

-- A call's facts, each once it is known with its clinic (a placeholder row
-- of an early status or recording learns its clinic from the voice event):
-- its end (a final status), its voicemail, its transcript.
CREATE FUNCTION webhook_call_facts() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    final constant text[] := ARRAY['completed', 'busy', 'no-answer', 'failed', 'canceled'];
    was_known boolean := TG_OP = 'UPDATE' AND OLD.clinic_id IS NOT NULL;
BEGIN
    IF NEW.recording_url IS NOT NULL AND NOT (was_known AND OLD.recording_url IS NOT NULL) THEN
        PERFORM webhook_enqueue(NEW.clinic_id, 'voicemail.received', NEW.call_sid, jsonb_build_object(
            'call_sid', NEW.call_sid, 'number_id', NEW.number_id, 'location_id', NEW.location_id,
            'from', NEW.from_number, 'caller_name', NEW.caller_name, 'to', NEW.to_number,
            'started_at', NEW.started_at, 'recording_url', NEW.recording_url,
            'recording_duration_seconds', NEW.recording_duration));
    END IF;
    IF NEW.transcript_status = 'completed'
       AND NOT (was_known AND OLD.transcript_status IS NOT DISTINCT FROM 'completed') THEN
        PERFORM webhook_enqueue(NEW.clinic_id, 'transcript.ready', NEW.call_sid, jsonb_build_object(
            'call_sid', NEW.call_sid, 'number_id', NEW.number_id, 'from', NEW.from_number,
            'to', NEW.to_number, 'recording_url', NEW.recording_url, 'transcript', NEW.transcript));
    END IF;
    IF NEW.status = ANY (final) AND NOT (was_known AND COALESCE(OLD.status = ANY (final), false)) THEN
        PERFORM webhook_enqueue(NEW.clinic_id, 'call.completed', NEW.call_sid, jsonb_build_object(
            'call_sid', NEW.call_sid, 'number_id', NEW.number_id, 'location_id', NEW.location_id,
            'from', NEW.from_number, 'to', NEW.to_number, 'started_at', NEW.started_at,
            'status', NEW.status, 'duration_seconds', NEW.duration_seconds,
            'outcome', jsonb_build_object('kind', NEW.outcome_kind, 'id', NEW.outcome_id,
                                          'name', NEW.outcome_name)));
    END IF;
    RETURN NULL;
END;
$$;

-- Only rows that may carry a new fact pay for the function.
CREATE TRIGGER calls_webhooks_inserted AFTER INSERT ON calls
    FOR EACH ROW WHEN (NEW.clinic_id IS NOT NULL AND (NEW.recording_url IS NOT NULL
        OR NEW.transcript_status = 'completed'
        OR NEW.status IN ('completed', 'busy', 'no-answer', 'failed', 'canceled')))
    EXECUTE FUNCTION webhook_call_facts();
CREATE TRIGGER calls_webhooks_updated
    AFTER UPDATE OF clinic_id, status, recording_url, transcript_status ON calls
    FOR EACH ROW WHEN (NEW.clinic_id IS NOT NULL AND (
        OLD.clinic_id IS NULL
        OR (NEW.recording_url IS NOT NULL AND OLD.recording_url IS NULL)
        OR (NEW.transcript_status = 'completed' AND OLD.transcript_status IS DISTINCT FROM 'completed')
        OR (NEW.status IS DISTINCT FROM OLD.status
            AND NEW.status IN ('completed', 'busy', 'no-answer', 'failed', 'canceled'))))
    EXECUTE FUNCTION webhook_call_facts();
