-- Switchboard schema, version 8: a clinic's blocked callers.
--
-- An entry is an exact E.164 number, a prefix, or "callers without a
-- number" (kind 'anonymous', no value). The routers load the list with the
-- clinic (crates/store/src/snapshot.rs) and follow its changes through V5's
-- row trigger, like every other configuration table: a saved entry reaches
-- every router without a restart.
--
-- Who added an entry is kept as the audit log names actors (a key or a
-- person, and the name at the time), without foreign keys: revoking the key
-- or removing the person keeps the entry and its author's name.
CREATE TABLE blocked_callers (
    id                   uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    clinic_id            uuid NOT NULL REFERENCES clinics (id) ON DELETE CASCADE,
    kind                 text NOT NULL CHECK (kind IN ('number', 'prefix', 'anonymous')),
    value                text CHECK ((kind = 'anonymous') = (value IS NULL)
                                     AND (value IS NULL OR value ~ '^\+[1-9][0-9]{0,14}$')),
    note                 text CHECK (length(note) <= 500),
    created_by_key_id    uuid,
    created_by_person_id uuid,
    created_by_name      text NOT NULL,
    created_at           timestamptz NOT NULL DEFAULT now()
);
-- One entry per kind and value in a clinic (one 'anonymous' at most).
CREATE UNIQUE INDEX blocked_callers_once ON blocked_callers (clinic_id, kind, (coalesce(value, '')));

CREATE TRIGGER blocked_callers_changed AFTER INSERT OR UPDATE OR DELETE ON blocked_callers
    FOR EACH ROW EXECUTE FUNCTION config_row_changed();
CREATE TRIGGER blocked_callers_truncated AFTER TRUNCATE ON blocked_callers
    FOR EACH STATEMENT EXECUTE FUNCTION config_truncated();

-- A blocked call's record names its entry (outcome_kind 'blocked',
-- outcome_id the entry's id): the counts per entry read this index only.
CREATE INDEX calls_blocked ON calls (clinic_id, outcome_id, started_at)
    WHERE outcome_kind = 'blocked';
