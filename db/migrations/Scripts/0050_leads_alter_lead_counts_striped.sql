-- Striped counters. Until now leads.lead_counts held one row per (workspace, status, assignee, source, duplicate), so
-- every new, unassigned, source-less lead of a workspace upserted the same row and held its lock until commit
-- (fsync included): concurrent intake into one workspace ran one transaction at a time (measured: 8–11 of 12 active
-- backends in Lock:transactionid on that row, 169–303 leads/s against a 4,068/s bare-INSERT floor; docs/benchmarks.md).
--
-- Each key now has up to one row per slot, and a transaction writes only the slot it holds: it takes the lowest free
-- slot of the workspace with a transaction-scoped try-lock (pg_try_advisory_xact_lock(hash of the workspace, slot)),
-- which never waits, and keeps it for every later statement (a transaction-local setting remembers it). No two running
-- transactions write the same counter row, so counter rows are never waited on and cannot deadlock. Readers sum the
-- slots of a key, which they did already (`sum(n)`): a counter row is still written in the transaction of the lead rows
-- it counts, so every snapshot sees an exact total. Slots are taken from 0 upwards, so a key has at most as many rows as
-- transactions ever wrote it at once; compaction folds the upper slots back into slot 0 (below).
ALTER TABLE leads.lead_counts ADD COLUMN slot smallint NOT NULL DEFAULT 0;
ALTER TABLE leads.lead_counts DROP CONSTRAINT lead_counts_pkey;
ALTER TABLE leads.lead_counts ADD CONSTRAINT lead_counts_pkey PRIMARY KEY (workspace_id, status, assigned_to, source_id, is_duplicate, slot);

-- The two-integer advisory lock space (hash, slot) is used for nothing else (every other advisory lock here is a
-- single bigint). 1,024 slots exceed any number of concurrent transactions (max_connections); should all be held,
-- the transaction waits for its backend's own slot rather than fail.
CREATE FUNCTION leads.lead_count_slot(ws uuid) RETURNS smallint LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    held text := current_setting('leads.lead_count_slot', true);
    k    integer;
BEGIN
    IF held LIKE ws::text || ':%' THEN
        RETURN substr(held, 38)::smallint;
    END IF;
    k := hashtext('lead_counts:' || ws::text);
    FOR s IN 0..1023 LOOP
        IF pg_try_advisory_xact_lock(k, s) THEN
            PERFORM set_config('leads.lead_count_slot', ws::text || ':' || s, true);
            RETURN s;
        END IF;
    END LOOP;
    PERFORM pg_advisory_xact_lock(k, pg_backend_pid() % 1024);
    RETURN pg_backend_pid() % 1024;
END $$;

CREATE OR REPLACE FUNCTION leads.apply_lead_count_deltas() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    -- Net deltas only: an update that changes no counted dimension touches no counter row (and takes no slot).
    IF TG_OP = 'INSERT' THEN
        INSERT INTO leads.lead_counts AS c (workspace_id, status, assigned_to, source_id, is_duplicate, slot, n)
        SELECT d.workspace_id, d.status, d.assigned_to, d.source_id, d.is_duplicate, leads.lead_count_slot(d.workspace_id), d.n
        FROM (SELECT workspace_id, status, coalesce(assigned_to, '00000000-0000-0000-0000-000000000000') AS assigned_to,
                     coalesce(source_id, '00000000-0000-0000-0000-000000000000') AS source_id, duplicate_of IS NOT NULL AS is_duplicate,
                     count(*) AS n
              FROM new_rows GROUP BY 1, 2, 3, 4, 5 ORDER BY 1, 2, 3, 4, 5) d
        ON CONFLICT (workspace_id, status, assigned_to, source_id, is_duplicate, slot) DO UPDATE SET n = c.n + EXCLUDED.n;
    ELSIF TG_OP = 'DELETE' THEN
        INSERT INTO leads.lead_counts AS c (workspace_id, status, assigned_to, source_id, is_duplicate, slot, n)
        SELECT d.workspace_id, d.status, d.assigned_to, d.source_id, d.is_duplicate, leads.lead_count_slot(d.workspace_id), -d.n
        FROM (SELECT workspace_id, status, coalesce(assigned_to, '00000000-0000-0000-0000-000000000000') AS assigned_to,
                     coalesce(source_id, '00000000-0000-0000-0000-000000000000') AS source_id, duplicate_of IS NOT NULL AS is_duplicate,
                     count(*) AS n
              FROM old_rows GROUP BY 1, 2, 3, 4, 5 ORDER BY 1, 2, 3, 4, 5) d
        ON CONFLICT (workspace_id, status, assigned_to, source_id, is_duplicate, slot) DO UPDATE SET n = c.n + EXCLUDED.n;
    ELSE
        INSERT INTO leads.lead_counts AS c (workspace_id, status, assigned_to, source_id, is_duplicate, slot, n)
        SELECT d.workspace_id, d.status, d.assigned_to, d.source_id, d.is_duplicate, leads.lead_count_slot(d.workspace_id), d.n
        FROM (SELECT workspace_id, status, assigned_to, source_id, is_duplicate, sum(d) AS n
              FROM (
                  SELECT workspace_id, status, coalesce(assigned_to, '00000000-0000-0000-0000-000000000000') AS assigned_to,
                         coalesce(source_id, '00000000-0000-0000-0000-000000000000') AS source_id, duplicate_of IS NOT NULL AS is_duplicate, 1 AS d
                  FROM new_rows
                  UNION ALL
                  SELECT workspace_id, status, coalesce(assigned_to, '00000000-0000-0000-0000-000000000000'),
                         coalesce(source_id, '00000000-0000-0000-0000-000000000000'), duplicate_of IS NOT NULL, -1
                  FROM old_rows
              ) x
              GROUP BY 1, 2, 3, 4, 5 HAVING sum(d) <> 0 ORDER BY 1, 2, 3, 4, 5) d
        ON CONFLICT (workspace_id, status, assigned_to, source_id, is_duplicate, slot) DO UPDATE SET n = c.n + EXCLUDED.n;
    END IF;
    RETURN NULL;
END $$;

-- Folds the upper slots of every workspace into slot 0, one (workspace, slot) at a time and only where both slots are
-- free right now (a writer holding one is skipped, never waited for: the next compaction folds it). Deleting the slot's
-- rows and adding them to slot 0 is one statement, so every snapshot sees the same sums. Returns the rows folded.
CREATE FUNCTION leads.fold_lead_counts() RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE
    r     record;
    k     integer;
    moved bigint := 0;
    m     bigint;
BEGIN
    FOR r IN SELECT DISTINCT workspace_id, slot FROM leads.lead_counts WHERE slot > 0 ORDER BY 1, 2 LOOP
        k := hashtext('lead_counts:' || r.workspace_id::text);
        CONTINUE WHEN NOT pg_try_advisory_xact_lock(k, 0) OR NOT pg_try_advisory_xact_lock(k, r.slot);
        WITH gone AS (
            DELETE FROM leads.lead_counts WHERE workspace_id = r.workspace_id AND slot = r.slot
            RETURNING status, assigned_to, source_id, is_duplicate, n
        ), folded AS (
            INSERT INTO leads.lead_counts AS c (workspace_id, status, assigned_to, source_id, is_duplicate, slot, n)
            SELECT r.workspace_id, status, assigned_to, source_id, is_duplicate, 0, n FROM gone
            ORDER BY 1, 2, 3, 4, 5
            ON CONFLICT (workspace_id, status, assigned_to, source_id, is_duplicate, slot) DO UPDATE SET n = c.n + EXCLUDED.n
            RETURNING 1
        )
        SELECT count(*) INTO m FROM folded;
        moved := moved + m;
    END LOOP;
    RETURN moved;
END $$;

-- Compaction (every node calls it each period; one gets through) now also folds the counters.
CREATE OR REPLACE FUNCTION leads.compact_workspace_changes(period interval) RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE
    cut xid8;
    n   bigint;
BEGIN
    UPDATE leads.workspace_changes_horizon
    SET horizon = pending, pending = pg_snapshot_xmin(pg_current_snapshot()), compacted_at = now()
    WHERE compacted_at <= now() - period
    RETURNING horizon INTO cut;
    IF cut IS NULL THEN RETURN NULL; END IF;
    DELETE FROM leads.workspace_changes WHERE xid < cut;
    GET DIAGNOSTICS n = ROW_COUNT;
    DELETE FROM leads.lead_changes WHERE xid < cut;
    PERFORM leads.fold_lead_counts();
    RETURN n;
END $$;
