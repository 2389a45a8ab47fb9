-- Switchboard schema, version 2: which clinics each configuration write touched.
--
-- V1's statement triggers only say "something changed" (NOTIFY), so every
-- router reloaded every clinic. Here the same tables also record, per
-- writing transaction, the clinics whose rows it inserted, updated or
-- deleted, so that a router reloads only those.
--
-- Rows are keyed by the writing transaction's id (xid8), not by the
-- configuration version: a version is taken before its transaction commits,
-- so a reader that has seen version N may still meet a later commit of a
-- version below N. A reader instead keeps the xmin of the snapshot it read
-- with (every transaction below it had finished, so was seen) and next time
-- reads the rows at or above it. Reading a row twice only reloads a clinic
-- twice.
--
-- Old rows are pruned (by the routers, see crates/store/src/changes.rs); the
-- highest pruned transaction id is kept in config_changes_horizon, so that a
-- reader whose position is at or below it knows it may have missed rows and
-- reloads everything.
CREATE TABLE config_changes (
    xid       xid8 NOT NULL DEFAULT pg_current_xact_id(),
    -- NULL: every clinic (a TRUNCATE)
    clinic_id uuid,
    at        timestamptz NOT NULL DEFAULT now()
);
-- One row per transaction and clinic, however many statements it ran.
CREATE UNIQUE INDEX config_changes_once ON config_changes (xid, clinic_id) NULLS NOT DISTINCT;
CREATE INDEX config_changes_at ON config_changes (at);

CREATE TABLE config_changes_horizon (
    only_row   boolean PRIMARY KEY DEFAULT true CHECK (only_row),
    pruned_xid xid8 NOT NULL
);
INSERT INTO config_changes_horizon (pruned_xid) VALUES ('0');

-- Records the clinics of the statement's rows. Statement-level with
-- transition tables: one insert per statement, not one per row.
CREATE FUNCTION config_record_changes() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'TRUNCATE' THEN
        INSERT INTO config_changes (clinic_id) VALUES (NULL) ON CONFLICT DO NOTHING;
        RETURN NULL;
    END IF;
    -- clinics names itself by id, every other table by clinic_id.
    IF TG_TABLE_NAME = 'clinics' THEN
        IF TG_OP IN ('INSERT', 'UPDATE') THEN
            INSERT INTO config_changes (clinic_id)
                SELECT DISTINCT id FROM new_rows ON CONFLICT DO NOTHING;
        END IF;
        IF TG_OP IN ('UPDATE', 'DELETE') THEN
            INSERT INTO config_changes (clinic_id)
                SELECT DISTINCT id FROM old_rows ON CONFLICT DO NOTHING;
        END IF;
    ELSE
        IF TG_OP IN ('INSERT', 'UPDATE') THEN
            INSERT INTO config_changes (clinic_id)
                SELECT DISTINCT clinic_id FROM new_rows ON CONFLICT DO NOTHING;
        END IF;
        IF TG_OP IN ('UPDATE', 'DELETE') THEN
            INSERT INTO config_changes (clinic_id)
                SELECT DISTINCT clinic_id FROM old_rows ON CONFLICT DO NOTHING;
        END IF;
    END IF;
    RETURN NULL;
END;
$$;

-- The same tables as V1's notify triggers (which stay: they wake the routers).
DO $$
DECLARE t text;
BEGIN
    FOREACH t IN ARRAY ARRAY['clinics', 'locations', 'assistants', 'numbers',
                             'number_assistants', 'ring_groups', 'closures']
    LOOP
        EXECUTE format('CREATE TRIGGER %I AFTER INSERT ON %I REFERENCING NEW TABLE AS new_rows
                        FOR EACH STATEMENT EXECUTE FUNCTION config_record_changes()',
                       t || '_record_inserts', t);
        EXECUTE format('CREATE TRIGGER %I AFTER UPDATE ON %I REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
                        FOR EACH STATEMENT EXECUTE FUNCTION config_record_changes()',
                       t || '_record_updates', t);
        EXECUTE format('CREATE TRIGGER %I AFTER DELETE ON %I REFERENCING OLD TABLE AS old_rows
                        FOR EACH STATEMENT EXECUTE FUNCTION config_record_changes()',
                       t || '_record_deletes', t);
        EXECUTE format('CREATE TRIGGER %I AFTER TRUNCATE ON %I
                        FOR EACH STATEMENT EXECUTE FUNCTION config_record_changes()',
                       t || '_record_truncates', t);
    END LOOP;
END;
$$;
