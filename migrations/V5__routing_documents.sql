-- Switchboard schema, version 5: a number's routing document is one value.
--
-- Until now a routing was kept three times: rows across number_assistants,
-- ring_groups and closures (plus numbers.timezone, off_hours and
-- off_hours_assistant_id), V3's copy of the lists, and V3's triggers that
-- forgot the copy. From here `numbers.routing` holds the whole document as
-- the store writes it (validated, ids assigned), timezone included: that is
-- the number's one timezone. `routing_assistants` is derived from it by the
-- trigger on numbers, for any writer, so that a foreign key still refuses to
-- delete an assistant some routing names. A link to a released number is
-- refused by a key too: `forward_to_number_id` points at (clinic, id, live),
-- so releasing a number another live number links to fails.
--
-- One row trigger per configuration table replaces V1's and V2's statement
-- triggers: it records the clinic in config_changes and, the first time a
-- transaction touches that clinic, bumps the version and notifies.
--
-- Forward only, and not usable by the previous binary: its loader reads the
-- tables dropped here (docs/operations.md, "Upgrades and migrations").

-- Old triggers first, so that converting the rows records and notifies nothing.
DO $$
DECLARE t text;
BEGIN
    FOREACH t IN ARRAY ARRAY['clinics', 'locations', 'assistants', 'numbers',
                             'number_assistants', 'ring_groups', 'closures']
    LOOP
        EXECUTE format('DROP TRIGGER %I ON %I', t || '_changed', t);
        EXECUTE format('DROP TRIGGER %I ON %I', t || '_record_inserts', t);
        EXECUTE format('DROP TRIGGER %I ON %I', t || '_record_updates', t);
        EXECUTE format('DROP TRIGGER %I ON %I', t || '_record_deletes', t);
        EXECUTE format('DROP TRIGGER %I ON %I', t || '_record_truncates', t);
    END LOOP;
    FOREACH t IN ARRAY ARRAY['number_assistants', 'ring_groups', 'closures']
    LOOP
        EXECUTE format('DROP TRIGGER %I ON %I', t || '_forget_lists_inserts', t);
        EXECUTE format('DROP TRIGGER %I ON %I', t || '_forget_lists_updates', t);
        EXECUTE format('DROP TRIGGER %I ON %I', t || '_forget_lists_deletes', t);
        EXECUTE format('DROP TRIGGER %I ON %I', t || '_forget_lists_truncates', t);
    END LOOP;
END;
$$;
DROP FUNCTION config_changed();
DROP FUNCTION config_record_changes();
DROP FUNCTION routing_lists_forget();

-- `json`, not `jsonb`: the text is kept as written, so a load reads it
-- without PostgreSQL rebuilding it (jsonb would be printed anew every time).
ALTER TABLE numbers ADD COLUMN routing json NOT NULL DEFAULT '{}';
-- lz4 where the server has it (PostgreSQL built with it, as the usual
-- packages and managed services are): a load decompresses every document,
-- and pglz's decompression was most of PostgreSQL's part of a load. The
-- audit's copies of documents are written with every save.
DO $$
BEGIN
    ALTER TABLE numbers ALTER COLUMN routing SET COMPRESSION lz4;
    ALTER TABLE audit_log ALTER COLUMN before SET COMPRESSION lz4,
                          ALTER COLUMN after SET COMPRESSION lz4;
EXCEPTION WHEN feature_not_supported THEN
    NULL;
END;
$$;

-- The document of every number from its rows, in list order. The routers
-- read the rows, not V3's copy, so the rows are what is converted.
UPDATE numbers n SET routing = jsonb_build_object(
    'timezone', n.timezone,
    'assistants', COALESCE((
        SELECT jsonb_agg(jsonb_build_object('assistant_id', a.assistant_id, 'schedule', a.schedule)
                         ORDER BY a.position)
        FROM number_assistants a WHERE a.number_id = n.id), '[]'::jsonb),
    'ring_groups', COALESCE((
        SELECT jsonb_agg(jsonb_build_object('id', g.id, 'name', g.name, 'strategy', g.strategy,
                                            'ring_seconds', g.ring_seconds, 'members', g.members,
                                            'schedule', g.schedule, 'on_no_answer', g.on_no_answer)
                         ORDER BY g.position)
        FROM ring_groups g WHERE g.number_id = n.id), '[]'::jsonb),
    'off_hours', n.off_hours,
    'closures', COALESCE((
        SELECT jsonb_agg(jsonb_build_object('id', c.id, 'name', c.name)
                         || c.rule
                         || CASE WHEN c.action IS NULL THEN '{}'::jsonb
                                 ELSE jsonb_build_object('action', c.action) END
                         ORDER BY c.position)
        FROM closures c WHERE c.number_id = n.id), '[]'::jsonb)
)::json;

-- Every assistant a number's routing names (bound, or in an action).
CREATE TABLE routing_assistants (
    number_id    uuid NOT NULL,
    clinic_id    uuid NOT NULL,
    assistant_id uuid NOT NULL,
    PRIMARY KEY (number_id, assistant_id),
    FOREIGN KEY (clinic_id, number_id) REFERENCES numbers (clinic_id, id) ON DELETE CASCADE,
    -- Checked at commit: deleting a clinic deletes its assistants before
    -- the cascade from its numbers reaches these rows.
    CONSTRAINT routing_assistants_assistant
        FOREIGN KEY (clinic_id, assistant_id) REFERENCES assistants (clinic_id, id)
        DEFERRABLE INITIALLY DEFERRED
);
CREATE INDEX routing_assistants_assistant ON routing_assistants (assistant_id);

-- The assistant ids a document names, repeats included: its bindings and
-- its actions' (off_hours, each on_no_answer, each closure's action), by
-- their paths (a search of the whole document, `$.**`, cost a save four
-- times as much). A value that is not a uuid fails the write.
CREATE FUNCTION routing_assistant_ids(doc jsonb) RETURNS SETOF uuid
LANGUAGE sql IMMUTABLE AS $$
    SELECT (v #>> '{}')::uuid FROM (
        SELECT jsonb_path_query(doc, 'lax $.assistants[*].assistant_id') AS v
        UNION ALL SELECT jsonb_path_query(doc, 'lax $.off_hours.assistant_id')
        UNION ALL SELECT jsonb_path_query(doc, 'lax $.ring_groups[*].on_no_answer.assistant_id')
        UNION ALL SELECT jsonb_path_query(doc, 'lax $.closures[*].action.assistant_id')
    ) AS named
$$;

-- OFFSET 0: each document parsed once, not once per path.
INSERT INTO routing_assistants (number_id, clinic_id, assistant_id)
SELECT DISTINCT n.id, n.clinic_id, a
FROM (SELECT id, clinic_id, routing::jsonb AS doc FROM numbers OFFSET 0) AS n,
     routing_assistant_ids(n.doc) AS a;

DROP TABLE number_assistants, ring_groups, closures;
ALTER TABLE numbers
    DROP COLUMN timezone,
    DROP COLUMN off_hours,
    DROP COLUMN off_hours_assistant_id,
    DROP COLUMN routing_lists;

-- A link points at a live number of the clinic. `links_live` is true while
-- the number is live and links, NULL otherwise (a NULL key is not checked),
-- and must meet the target's `live`: releasing a target that live numbers
-- link to, or linking to a released number, breaks the key.
ALTER TABLE numbers
    ADD COLUMN live boolean GENERATED ALWAYS AS (lifecycle <> 'released') STORED,
    ADD COLUMN links_live boolean GENERATED ALWAYS AS (
        CASE WHEN forward_to_number_id IS NOT NULL AND lifecycle <> 'released' THEN true END) STORED,
    ADD CONSTRAINT numbers_live_key UNIQUE (clinic_id, id, live);
ALTER TABLE numbers
    ADD CONSTRAINT numbers_link_live
        FOREIGN KEY (clinic_id, forward_to_number_id, links_live) REFERENCES numbers (clinic_id, id, live);

-- Records the clinic a configuration row belongs to; the first time in a
-- transaction, also takes a version and notifies the routers (on commit).
CREATE FUNCTION config_record(clinic uuid) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO config_changes (clinic_id) VALUES (clinic) ON CONFLICT DO NOTHING;
    IF FOUND THEN
        PERFORM pg_notify('switchboard_config', nextval('config_version')::text);
    END IF;
END;
$$;

CREATE FUNCTION config_row_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        IF TG_TABLE_NAME = 'clinics' THEN
            PERFORM config_record(OLD.id);
        ELSE
            PERFORM config_record(OLD.clinic_id);
        END IF;
    ELSIF TG_TABLE_NAME = 'clinics' THEN
        PERFORM config_record(NEW.id);
    ELSE
        PERFORM config_record(NEW.clinic_id);
    END IF;
    RETURN NULL;
END;
$$;

-- numbers' own: the change, and the routing's assistants when the document
-- changed (a deleted number's go with it, by cascade).
CREATE FUNCTION numbers_row_changed() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    doc jsonb;
    ids uuid[];
BEGIN
    IF TG_OP = 'DELETE' THEN
        PERFORM config_record(OLD.clinic_id);
        RETURN NULL;
    END IF;
    PERFORM config_record(NEW.clinic_id);
    IF TG_OP = 'UPDATE' AND NEW.routing::text IS NOT DISTINCT FROM OLD.routing::text THEN
        RETURN NULL;
    END IF;
    doc := NEW.routing::jsonb;
    ids := ARRAY(SELECT DISTINCT a FROM routing_assistant_ids(doc) AS a);
    -- Only what changed: a save mostly names the assistants it named before.
    IF TG_OP = 'UPDATE' THEN
        DELETE FROM routing_assistants WHERE number_id = NEW.id AND assistant_id <> ALL (ids);
    END IF;
    INSERT INTO routing_assistants (number_id, clinic_id, assistant_id)
    SELECT NEW.id, NEW.clinic_id, a FROM unnest(ids) AS a
    ON CONFLICT DO NOTHING;
    RETURN NULL;
END;
$$;

-- TRUNCATE has no rows to name: every clinic (a NULL clinic_id).
CREATE FUNCTION config_truncated() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM config_record(NULL);
    RETURN NULL;
END;
$$;

CREATE TRIGGER numbers_changed AFTER INSERT OR UPDATE OR DELETE ON numbers
    FOR EACH ROW EXECUTE FUNCTION numbers_row_changed();
DO $$
DECLARE t text;
BEGIN
    FOREACH t IN ARRAY ARRAY['clinics', 'locations', 'assistants']
    LOOP
        EXECUTE format('CREATE TRIGGER %I AFTER INSERT OR UPDATE OR DELETE ON %I
                        FOR EACH ROW EXECUTE FUNCTION config_row_changed()',
                       t || '_changed', t);
    END LOOP;
    FOREACH t IN ARRAY ARRAY['clinics', 'locations', 'assistants', 'numbers']
    LOOP
        EXECUTE format('CREATE TRIGGER %I AFTER TRUNCATE ON %I
                        FOR EACH STATEMENT EXECUTE FUNCTION config_truncated()',
                       t || '_truncated', t);
    END LOOP;
END;
$$;
