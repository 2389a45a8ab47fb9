-- Switchboard schema, version 3: each number's routing lists also kept as
-- the text the routers read.
--
-- A full load of the routers read every number's bindings, ring groups and
-- closures as rows (nine a number in the benchmark's shape) and PostgreSQL
-- spent most of the load producing them: 2.2 s of its CPU for 100 000
-- numbers, the critical path of quality.md's "load ≤ 2 s" (0.95 s reading
-- one copy a number instead; docs/benchmarks.md). The rows stay the
-- truth (their foreign keys guard every assistant a routing names, the admin
-- API reads them); `numbers.routing_lists` is a copy of the three lists as
-- the routing document's JSON, written by the store's save_routing in the
-- same transaction as the rows, and read by the loader instead of the rows.
--
-- A copy must never be stale: any other write to the rows (psql, a cascade,
-- a future code path) forgets it, and the loader reads the rows of a number
-- whose copy is NULL. Rows written before this version start NULL too.
ALTER TABLE numbers ADD COLUMN routing_lists json;

-- Statement-level with transition tables: one UPDATE a statement. The
-- EXISTS keeps a statement that forgets nothing (every insert of
-- save_routing after its first delete) from updating numbers, so from
-- firing numbers' own triggers (a NOTIFY each). The lookups of `numbers`
-- are planned at each call (EXECUTE): plpgsql would otherwise keep, for
-- the session, a plan made while `numbers` was small (a sequential scan),
-- and a bulk load in one transaction became quadratic (the seeder: 20 000
-- numbers in 145 s, 10 000 in 29 s).
CREATE FUNCTION routing_lists_forget() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    touched uuid[];
    remembered boolean;
BEGIN
    IF TG_OP = 'TRUNCATE' THEN
        UPDATE numbers SET routing_lists = NULL WHERE routing_lists IS NOT NULL;
        RETURN NULL;
    ELSIF TG_OP = 'INSERT' THEN
        SELECT array_agg(DISTINCT number_id) INTO touched FROM new_rows;
    ELSIF TG_OP = 'DELETE' THEN
        SELECT array_agg(DISTINCT number_id) INTO touched FROM old_rows;
    ELSE
        SELECT array_agg(DISTINCT number_id) INTO touched
        FROM (SELECT number_id FROM old_rows UNION ALL SELECT number_id FROM new_rows) AS t;
    END IF;
    EXECUTE 'SELECT EXISTS (SELECT 1 FROM numbers WHERE routing_lists IS NOT NULL AND id = ANY ($1))'
        INTO remembered USING touched;
    IF remembered THEN
        EXECUTE 'UPDATE numbers SET routing_lists = NULL WHERE routing_lists IS NOT NULL AND id = ANY ($1)'
            USING touched;
    END IF;
    RETURN NULL;
END;
$$;

DO $$
DECLARE t text;
BEGIN
    FOREACH t IN ARRAY ARRAY['number_assistants', 'ring_groups', 'closures']
    LOOP
        EXECUTE format('CREATE TRIGGER %I AFTER INSERT ON %I REFERENCING NEW TABLE AS new_rows
                        FOR EACH STATEMENT EXECUTE FUNCTION routing_lists_forget()',
                       t || '_forget_lists_inserts', t);
        EXECUTE format('CREATE TRIGGER %I AFTER UPDATE ON %I REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
                        FOR EACH STATEMENT EXECUTE FUNCTION routing_lists_forget()',
                       t || '_forget_lists_updates', t);
        EXECUTE format('CREATE TRIGGER %I AFTER DELETE ON %I REFERENCING OLD TABLE AS old_rows
                        FOR EACH STATEMENT EXECUTE FUNCTION routing_lists_forget()',
                       t || '_forget_lists_deletes', t);
        EXECUTE format('CREATE TRIGGER %I AFTER TRUNCATE ON %I
                        FOR EACH STATEMENT EXECUTE FUNCTION routing_lists_forget()',
                       t || '_forget_lists_truncates', t);
    END LOOP;
END;
$$;
