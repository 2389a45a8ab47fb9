-- Switchboard schema, version 1.
--
-- The database is the one source of truth; routers hold a snapshot of the
-- configuration tables and follow NOTIFY. Rules that must hold under
-- concurrent writers live here as constraints, not only in application code:
-- one non-released row per E.164, at most one primary per clinic, links only
-- within a clinic, assistants in use cannot vanish.
--
-- Ids are uuids, shown to clients as opaque strings.

-- Every configuration write bumps this sequence and notifies the routers
-- (see config_changed() below). A sequence takes no row lock, so concurrent
-- admin writes never queue behind one another for it.
CREATE SEQUENCE config_version;

CREATE TABLE clinics (
    id                   uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    name                 text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    default_timezone     text NOT NULL,
    texting_assistant_id uuid,
    sms_auto_reply       text CHECK (length(sms_auto_reply) <= 1600),
    voice                text,
    language             text,
    -- The Twilio (sub)account whose numbers this clinic owns; its webhooks are
    -- signed with that account's token (tokens live in configuration, not here).
    twilio_account_sid   text,
    created_at           timestamptz NOT NULL DEFAULT now(),
    updated_at           timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE api_keys (
    id           uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    clinic_id    uuid NOT NULL REFERENCES clinics (id) ON DELETE CASCADE,
    name         text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    role         text NOT NULL CHECK (role IN ('viewer', 'editor', 'admin')),
    -- Keyed hash of a high-entropy key: fast to check on every request, useless
    -- without the server's pepper. The key itself is shown once and never stored.
    key_hash     bytea NOT NULL UNIQUE,
    key_prefix   text NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    last_used_at timestamptz,
    revoked_at   timestamptz
);
CREATE INDEX api_keys_clinic ON api_keys (clinic_id);

CREATE TABLE locations (
    id         uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    clinic_id  uuid NOT NULL REFERENCES clinics (id) ON DELETE CASCADE,
    name       text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    timezone   text NOT NULL,
    address    text,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    UNIQUE (clinic_id, id)
);

CREATE TABLE assistants (
    id                uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    clinic_id         uuid NOT NULL REFERENCES clinics (id) ON DELETE CASCADE,
    name              text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    kind              text NOT NULL CHECK (kind IN ('voice', 'texting')),
    -- voice: how the assistant is reached
    target_type       text CHECK (target_type IN ('stream', 'sip', 'redirect')),
    target_url        text,
    target_parameters jsonb,
    -- texting: where SMS are redirected
    sms_url           text,
    created_at        timestamptz NOT NULL DEFAULT now(),
    updated_at        timestamptz NOT NULL DEFAULT now(),
    UNIQUE (clinic_id, id),
    CONSTRAINT assistant_kind_fields CHECK (
        (kind = 'voice' AND target_type IS NOT NULL AND target_url IS NOT NULL AND sms_url IS NULL)
        OR (kind = 'texting' AND sms_url IS NOT NULL AND target_type IS NULL AND target_url IS NULL)
    )
);

ALTER TABLE clinics
    ADD CONSTRAINT clinics_texting_assistant
    FOREIGN KEY (id, texting_assistant_id) REFERENCES assistants (clinic_id, id);

CREATE TABLE numbers (
    id                   uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    clinic_id            uuid NOT NULL REFERENCES clinics (id) ON DELETE CASCADE,
    e164                 text NOT NULL CHECK (e164 ~ '^\+[1-9][0-9]{1,14}$'),
    friendly_name        text,
    lifecycle            text NOT NULL DEFAULT 'pending'
                         CHECK (lifecycle IN ('pending', 'active', 'paused', 'released')),
    is_primary           boolean NOT NULL DEFAULT false,
    timezone             text,
    location_id          uuid,
    forward_to_e164      text CHECK (forward_to_e164 ~ '^\+[1-9][0-9]{1,14}$'),
    forward_to_number_id uuid,
    twilio_sid           text,
    -- routing document scalars; the lists live in the tables below
    off_hours            jsonb,
    off_hours_assistant_id uuid,
    -- optimistic concurrency for the routing document (ETag / If-Match)
    version              bigint NOT NULL DEFAULT 1,
    created_at           timestamptz NOT NULL DEFAULT now(),
    updated_at           timestamptz NOT NULL DEFAULT now(),
    released_at          timestamptz,
    UNIQUE (clinic_id, id),
    FOREIGN KEY (clinic_id, location_id) REFERENCES locations (clinic_id, id),
    -- a link stays inside its clinic: the composite key makes that structural
    FOREIGN KEY (clinic_id, forward_to_number_id) REFERENCES numbers (clinic_id, id),
    FOREIGN KEY (clinic_id, off_hours_assistant_id) REFERENCES assistants (clinic_id, id),
    CONSTRAINT numbers_forward_one_kind CHECK (forward_to_e164 IS NULL OR forward_to_number_id IS NULL),
    CONSTRAINT numbers_no_self_link CHECK (forward_to_number_id IS DISTINCT FROM id),
    CONSTRAINT numbers_primary_not_released CHECK (NOT (is_primary AND lifecycle = 'released')),
    CONSTRAINT numbers_released_at CHECK ((lifecycle = 'released') = (released_at IS NOT NULL))
);
-- one live row per phone number; released rows stay for history
CREATE UNIQUE INDEX numbers_e164_live ON numbers (e164) WHERE lifecycle <> 'released';
-- at most one primary per clinic, also under concurrent writers
CREATE UNIQUE INDEX numbers_one_primary ON numbers (clinic_id) WHERE is_primary;
CREATE INDEX numbers_clinic ON numbers (clinic_id);
CREATE INDEX numbers_forward_to_number ON numbers (forward_to_number_id) WHERE forward_to_number_id IS NOT NULL;

-- Voice assistants bound to a number; a NULL schedule is "always-on".
CREATE TABLE number_assistants (
    number_id    uuid NOT NULL,
    clinic_id    uuid NOT NULL,
    assistant_id uuid NOT NULL,
    position     integer NOT NULL,
    schedule     jsonb,
    PRIMARY KEY (number_id, assistant_id),
    UNIQUE (number_id, position),
    FOREIGN KEY (clinic_id, number_id) REFERENCES numbers (clinic_id, id) ON DELETE CASCADE,
    FOREIGN KEY (clinic_id, assistant_id) REFERENCES assistants (clinic_id, id)
);
CREATE INDEX number_assistants_assistant ON number_assistants (assistant_id);

CREATE TABLE ring_groups (
    id                        uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    number_id                 uuid NOT NULL,
    clinic_id                 uuid NOT NULL,
    position                  integer NOT NULL,
    name                      text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    strategy                  text NOT NULL CHECK (strategy IN ('simultaneous', 'sequential')),
    ring_seconds              integer NOT NULL DEFAULT 20 CHECK (ring_seconds BETWEEN 5 AND 120),
    members                   jsonb NOT NULL CHECK (jsonb_typeof(members) = 'array'
                                                    AND jsonb_array_length(members) BETWEEN 1 AND 10),
    schedule                  jsonb,
    on_no_answer              jsonb,
    -- set when on_no_answer names an assistant, so the assistant cannot vanish
    on_no_answer_assistant_id uuid,
    UNIQUE (number_id, position),
    FOREIGN KEY (clinic_id, number_id) REFERENCES numbers (clinic_id, id) ON DELETE CASCADE,
    FOREIGN KEY (clinic_id, on_no_answer_assistant_id) REFERENCES assistants (clinic_id, id)
);
CREATE INDEX ring_groups_number ON ring_groups (number_id);
CREATE INDEX ring_groups_assistant ON ring_groups (on_no_answer_assistant_id) WHERE on_no_answer_assistant_id IS NOT NULL;

CREATE TABLE closures (
    id                  uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    number_id           uuid NOT NULL,
    clinic_id           uuid NOT NULL,
    position            integer NOT NULL,
    name                text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    repeat              text NOT NULL CHECK (repeat IN ('none', 'weekly', 'monthly', 'yearly')),
    -- the closure as the routing document holds it (dates, days, nth, times, from/until)
    rule                jsonb NOT NULL,
    action              jsonb,
    action_assistant_id uuid,
    UNIQUE (number_id, position),
    FOREIGN KEY (clinic_id, number_id) REFERENCES numbers (clinic_id, id) ON DELETE CASCADE,
    FOREIGN KEY (clinic_id, action_assistant_id) REFERENCES assistants (clinic_id, id)
);
CREATE INDEX closures_number ON closures (number_id);
CREATE INDEX closures_assistant ON closures (action_assistant_id) WHERE action_assistant_id IS NOT NULL;

-- One row per call, completed by later webhooks (status, recording).
CREATE TABLE calls (
    call_sid           text PRIMARY KEY,
    clinic_id          uuid REFERENCES clinics (id) ON DELETE CASCADE,
    number_id          uuid REFERENCES numbers (id) ON DELETE SET NULL,
    -- the number's location when the call came in, not now
    location_id        uuid REFERENCES locations (id) ON DELETE SET NULL,
    from_number        text NOT NULL,
    to_number          text NOT NULL,
    started_at         timestamptz NOT NULL,
    outcome_kind       text,
    outcome_id         text,
    outcome_name       text,
    status             text,
    status_sequence    integer,
    duration_seconds   integer,
    recording_url      text,
    recording_sid      text,
    recording_duration integer,
    updated_at         timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX calls_clinic_started ON calls (clinic_id, started_at DESC, call_sid DESC);
CREATE INDEX calls_number_started ON calls (number_id, started_at DESC, call_sid DESC);
CREATE INDEX calls_location_started ON calls (location_id, started_at DESC, call_sid DESC);

-- Every webhook event once: Twilio retries carry the same (call SID, kind, key)
-- and are dropped by the primary key.
CREATE TABLE call_events (
    call_sid    text NOT NULL,
    kind        text NOT NULL,
    event_key   text NOT NULL DEFAULT '',
    at          timestamptz NOT NULL,
    payload     jsonb NOT NULL,
    recorded_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (call_sid, kind, event_key)
);

CREATE TABLE audit_log (
    id           bigserial PRIMARY KEY,
    clinic_id    uuid REFERENCES clinics (id) ON DELETE CASCADE,
    at           timestamptz NOT NULL DEFAULT now(),
    actor_key_id uuid,
    actor_name   text NOT NULL,
    action       text NOT NULL,
    target_type  text NOT NULL,
    target_id    text,
    before       jsonb,
    after        jsonb
);
CREATE INDEX audit_log_clinic ON audit_log (clinic_id, id DESC);

-- Routers reload on this notification. NOTIFY is transactional: it is sent
-- on commit only, so a router never sees half a change.
CREATE FUNCTION config_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('switchboard_config', nextval('config_version')::text);
    RETURN NULL;
END;
$$;

DO $$
DECLARE t text;
BEGIN
    FOREACH t IN ARRAY ARRAY['clinics', 'locations', 'assistants', 'numbers',
                             'number_assistants', 'ring_groups', 'closures']
    LOOP
        EXECUTE format('CREATE TRIGGER %I AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON %I
                        FOR EACH STATEMENT EXECUTE FUNCTION config_changed()',
                       t || '_changed', t);
    END LOOP;
END;
$$;
