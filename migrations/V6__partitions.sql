-- A release is committed here first and then carried out at Twilio, without
-- the clinic locked while Twilio answers: this marks the numbers Twilio has
-- not confirmed yet, for the reconciler to finish if the process dies or
-- Twilio's answer is lost.
ALTER TABLE numbers ADD COLUMN twilio_release_pending boolean NOT NULL DEFAULT false;
CREATE INDEX numbers_unfinished ON numbers (updated_at)
    WHERE lifecycle = 'pending' OR twilio_release_pending;

-- Call history by month: `calls` on started_at, `call_events` on at. The
-- service creates months ahead and drops the months past its retention
-- (switchboard_call_partitions, called at start and hourly); a default
-- partition takes what falls outside them (a clock far off), so a write
-- never fails for want of a month. A call SID is no longer unique by an
-- index (a partitioned table's unique keys must hold the partition key):
-- the writer merges under an advisory lock and looks rows up by SID near
-- their instant (crates/store/src/events.rs).

-- Creates the month partitions of `tbl` (on column `col`) from month
-- `first` to `last` (inclusive, UTC), moving into each the rows the default
-- partition holds for it.
CREATE FUNCTION switchboard_month_partitions(tbl text, col text, first date, last date)
RETURNS integer LANGUAGE plpgsql AS $$
DECLARE
    m date := date_trunc('month', first)::date;
    lo timestamptz;
    hi timestamptz;
    part text;
    made integer := 0;
BEGIN
    WHILE m <= last LOOP
        part := format('%s_%s', tbl, to_char(m, 'YYYYMM'));
        IF to_regclass(part) IS NULL THEN
            lo := m::timestamp AT TIME ZONE 'UTC';
            hi := (m + interval '1 month')::timestamp AT TIME ZONE 'UTC';
            EXECUTE format('CREATE TEMP TABLE switchboard_moved ON COMMIT DROP AS '
                           'SELECT * FROM %I WHERE %I >= %L AND %I < %L',
                           tbl || '_default', col, lo, col, hi);
            EXECUTE format('DELETE FROM %I WHERE %I >= %L AND %I < %L',
                           tbl || '_default', col, lo, col, hi);
            EXECUTE format('CREATE TABLE %I PARTITION OF %I FOR VALUES FROM (%L) TO (%L)',
                           part, tbl, lo, hi);
            EXECUTE format('INSERT INTO %I SELECT * FROM switchboard_moved', tbl);
            DROP TABLE switchboard_moved;
            made := made + 1;
        END IF;
        m := (m + interval '1 month')::date;
    END LOOP;
    RETURN made;
END;
$$;

-- The service's job: months from the current one to `ahead` months ahead
-- exist; months that ended more than `retention` ago are dropped (a
-- partition's rows all at once), and so are such rows of the default
-- partition. One replica at a time (advisory lock). Returns (created, dropped).
CREATE FUNCTION switchboard_call_partitions(ahead integer, retention interval,
                                            OUT created integer, OUT dropped integer)
LANGUAGE plpgsql AS $$
DECLARE
    this_month date := date_trunc('month', now() AT TIME ZONE 'UTC')::date;
    cutoff timestamptz := now() - retention;
    t record;
    p record;
BEGIN
    created := 0;
    dropped := 0;
    PERFORM pg_advisory_xact_lock(5373252);
    FOR t IN SELECT * FROM (VALUES ('calls', 'started_at'), ('call_events', 'at')) AS v(tbl, col) LOOP
        created := created + switchboard_month_partitions(
            t.tbl, t.col, this_month, (this_month + make_interval(months => ahead))::date);
        FOR p IN
            SELECT c.relname::text AS part,
                   to_date(right(c.relname::text, 6), 'YYYYMM') AS month
            FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
            WHERE i.inhparent = t.tbl::regclass
              AND c.relname::text ~ ('^' || t.tbl || '_[0-9]{6}$')
        LOOP
            IF ((p.month + interval '1 month')::timestamp AT TIME ZONE 'UTC') <= cutoff THEN
                EXECUTE format('DROP TABLE %I', p.part);
                dropped := dropped + 1;
            END IF;
        END LOOP;
        EXECUTE format('DELETE FROM %I WHERE %I < %L', t.tbl || '_default', t.col,
                       date_trunc('month', cutoff AT TIME ZONE 'UTC')::timestamp AT TIME ZONE 'UTC');
    END LOOP;
END;
$$;

ALTER TABLE calls RENAME TO calls_unpartitioned;
ALTER TABLE call_events RENAME TO call_events_unpartitioned;
ALTER INDEX calls_pkey RENAME TO calls_unpartitioned_pkey;
ALTER INDEX call_events_pkey RENAME TO call_events_unpartitioned_pkey;
ALTER INDEX calls_clinic_started RENAME TO calls_unpartitioned_clinic_started;
ALTER INDEX calls_number_started RENAME TO calls_unpartitioned_number_started;
ALTER INDEX calls_location_started RENAME TO calls_unpartitioned_location_started;

CREATE TABLE calls (
    call_sid           text NOT NULL,
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
    updated_at         timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (call_sid, started_at)
) PARTITION BY RANGE (started_at);
CREATE INDEX calls_clinic_started ON calls (clinic_id, started_at DESC, call_sid DESC);
CREATE INDEX calls_number_started ON calls (number_id, started_at DESC, call_sid DESC);
CREATE INDEX calls_location_started ON calls (location_id, started_at DESC, call_sid DESC);
CREATE TABLE calls_default PARTITION OF calls DEFAULT;

-- Every webhook event once: a Twilio retry carries the same (call SID,
-- kind, key) and is dropped by the writer, which looks for it near its
-- instant; a journal line replayed has the same instant too.
CREATE TABLE call_events (
    call_sid    text NOT NULL,
    kind        text NOT NULL,
    event_key   text NOT NULL DEFAULT '',
    at          timestamptz NOT NULL,
    payload     jsonb NOT NULL,
    recorded_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (call_sid, kind, event_key, at)
) PARTITION BY RANGE (at);
CREATE TABLE call_events_default PARTITION OF call_events DEFAULT;

-- Months for what is already stored, and three ahead.
SELECT switchboard_month_partitions('calls', 'started_at',
    (LEAST(COALESCE((SELECT min(started_at) FROM calls_unpartitioned), now()), now()) AT TIME ZONE 'UTC')::date,
    ((now() + interval '3 months') AT TIME ZONE 'UTC')::date);
SELECT switchboard_month_partitions('call_events', 'at',
    (LEAST(COALESCE((SELECT min(at) FROM call_events_unpartitioned), now()), now()) AT TIME ZONE 'UTC')::date,
    ((now() + interval '3 months') AT TIME ZONE 'UTC')::date);
INSERT INTO calls SELECT * FROM calls_unpartitioned;
INSERT INTO call_events SELECT * FROM call_events_unpartitioned;
DROP TABLE calls_unpartitioned;
DROP TABLE call_events_unpartitioned;
