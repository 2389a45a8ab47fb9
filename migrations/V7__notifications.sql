-- Voicemail by email: who receives it, the transcript and caller name on the
-- call, and two work queues the `serve` processes drain.
--
-- Nothing here is on the webhook's path: the recording lands on `calls`
-- through the call-event writer's batch, and a row trigger there queues the
-- notice in the same transaction. The workers claim rows with
-- FOR UPDATE SKIP LOCKED, so any number of replicas can run them.

ALTER TABLE clinics ADD COLUMN transcribe_voicemail boolean NOT NULL DEFAULT false;

ALTER TABLE calls
    ADD COLUMN caller_name       text,
    ADD COLUMN transcript        text,
    ADD COLUMN transcript_status text;

-- The addresses told of each new voicemail: of a number, or of a location
-- (for every number there).
CREATE TABLE voicemail_recipients (
    id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    clinic_id   uuid NOT NULL REFERENCES clinics (id) ON DELETE CASCADE,
    number_id   uuid,
    location_id uuid,
    email       text NOT NULL CHECK (length(email) BETWEEN 3 AND 254),
    created_at  timestamptz NOT NULL DEFAULT now(),
    FOREIGN KEY (clinic_id, number_id) REFERENCES numbers (clinic_id, id) ON DELETE CASCADE,
    FOREIGN KEY (clinic_id, location_id) REFERENCES locations (clinic_id, id) ON DELETE CASCADE,
    CONSTRAINT voicemail_recipients_one_owner CHECK ((number_id IS NULL) <> (location_id IS NULL))
);
CREATE UNIQUE INDEX voicemail_recipients_number ON voicemail_recipients (number_id, lower(email))
    WHERE number_id IS NOT NULL;
CREATE UNIQUE INDEX voicemail_recipients_location ON voicemail_recipients (location_id, lower(email))
    WHERE location_id IS NOT NULL;

-- One row per voicemail still to announce. The worker waits for the
-- transcript (when the clinic asks for one) up to its configured time, then
-- writes the emails and marks the notice composed. No foreign key: calls
-- are partitioned by month (V6), keyed by (call_sid, started_at).
CREATE TABLE voicemail_notices (
    call_sid    text PRIMARY KEY,
    recorded_at timestamptz NOT NULL DEFAULT now(),
    composed_at timestamptz
);
CREATE INDEX voicemail_notices_pending ON voicemail_notices (recorded_at) WHERE composed_at IS NULL;

-- Every email, queued until sent (or kept as the outbox when no SMTP server
-- is configured). One per voicemail and address: composing twice adds nothing.
CREATE TABLE emails (
    id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    clinic_id       uuid REFERENCES clinics (id) ON DELETE CASCADE,
    call_sid        text,
    to_address      text NOT NULL,
    subject         text NOT NULL,
    body_text       text NOT NULL,
    body_html       text NOT NULL,
    state           text NOT NULL DEFAULT 'queued' CHECK (state IN ('queued', 'sent', 'outbox', 'failed')),
    attempts        integer NOT NULL DEFAULT 0,
    next_attempt_at timestamptz NOT NULL DEFAULT now(),
    last_error      text,
    created_at      timestamptz NOT NULL DEFAULT now(),
    sent_at         timestamptz,
    UNIQUE (call_sid, to_address)
);
CREATE INDEX emails_due ON emails (next_attempt_at) WHERE state = 'queued';
CREATE INDEX emails_clinic ON emails (clinic_id, created_at DESC, id DESC);

-- A recording that reaches a call for the first time queues its notice.
-- Row triggers fire only for the rows whose recording changed: status and
-- voice events never pay for this.
CREATE FUNCTION voicemail_recorded() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO voicemail_notices (call_sid) VALUES (NEW.call_sid) ON CONFLICT DO NOTHING;
    RETURN NULL;
END;
$$;

CREATE TRIGGER calls_voicemail_inserted AFTER INSERT ON calls
    FOR EACH ROW WHEN (NEW.recording_url IS NOT NULL)
    EXECUTE FUNCTION voicemail_recorded();
CREATE TRIGGER calls_voicemail_updated AFTER UPDATE OF recording_url ON calls
    FOR EACH ROW WHEN (NEW.recording_url IS NOT NULL AND OLD.recording_url IS NULL)
    EXECUTE FUNCTION voicemail_recorded();
