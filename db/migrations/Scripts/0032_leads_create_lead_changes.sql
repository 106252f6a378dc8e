-- Which leads each transaction changed, with the listed columns as they were before (migration 0030 logs only
-- which transactions changed a workspace). With it a node adjusts a remembered search or date total by what changed
-- since its snapshot instead of counting every match again: for each lead changed since, +1 if it matches now and
-- −1 if it matched then. A workspace taking a steady stream of writes would otherwise recount its searches on
-- every write (50–350 ms each at 1M leads).
--
-- One row per lead per statement that inserts it, deletes it, or changes a column a filter, the search or the
-- order reads. `existed` is false for an insert (nothing matched then); otherwise the columns are the row before the
-- statement. The first row of a lead after a snapshot holds the row as that snapshot saw it: changes to one row are
-- serialised by its row lock, and `seq` is taken after it. A statement that changes more than 1,000 leads (a bulk
-- import chunk, a member's leads unassigned) logs one row per workspace with no lead_id instead: readers recount.
CREATE TABLE leads.lead_changes (
    workspace_id uuid        NOT NULL,
    xid          xid8        NOT NULL,
    seq          bigint      GENERATED ALWAYS AS IDENTITY,
    lead_id      uuid,
    existed      boolean     NOT NULL DEFAULT false,
    search_text  text,
    phone_digits text,
    status       text,
    source_id    uuid,
    assigned_to  uuid,
    duplicate_of uuid,
    created_at   timestamptz,
    PRIMARY KEY (workspace_id, xid, seq)
);

CREATE OR REPLACE FUNCTION leads.log_workspace_change() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    n bigint;
BEGIN
    IF TG_OP = 'INSERT' THEN
        SELECT count(*) INTO n FROM (SELECT 1 FROM new_rows LIMIT 1001) x;
        IF n = 0 THEN RETURN NULL; END IF;
        INSERT INTO leads.workspace_changes (workspace_id, xid)
        SELECT DISTINCT workspace_id, pg_current_xact_id() FROM new_rows
        ON CONFLICT DO NOTHING;
        IF n > 1000 THEN
            INSERT INTO leads.lead_changes (workspace_id, xid) SELECT DISTINCT workspace_id, pg_current_xact_id() FROM new_rows;
        ELSE
            INSERT INTO leads.lead_changes (workspace_id, xid, lead_id, existed)
            SELECT workspace_id, pg_current_xact_id(), id, false FROM new_rows;
        END IF;
    ELSIF TG_OP = 'DELETE' THEN
        SELECT count(*) INTO n FROM (SELECT 1 FROM old_rows LIMIT 1001) x;
        IF n = 0 THEN RETURN NULL; END IF;
        INSERT INTO leads.workspace_changes (workspace_id, xid)
        SELECT DISTINCT workspace_id, pg_current_xact_id() FROM old_rows
        ON CONFLICT DO NOTHING;
        IF n > 1000 THEN
            INSERT INTO leads.lead_changes (workspace_id, xid) SELECT DISTINCT workspace_id, pg_current_xact_id() FROM old_rows;
        ELSE
            INSERT INTO leads.lead_changes (workspace_id, xid, lead_id, existed, search_text, phone_digits, status, source_id,
                                            assigned_to, duplicate_of, created_at)
            SELECT workspace_id, pg_current_xact_id(), id, true, search_text, phone_digits, status, source_id,
                   assigned_to, duplicate_of, created_at
            FROM old_rows;
        END IF;
    ELSE
        -- Only what a filter, the search or the order reads; notes, score, metadata and timestamps change nothing listed.
        SELECT count(*) INTO n FROM (
            SELECT 1 FROM new_rows nw JOIN old_rows o ON o.id = nw.id
            WHERE (nw.workspace_id, nw.search_text, nw.phone_digits, nw.status, nw.source_id, nw.assigned_to, nw.duplicate_of, nw.created_at)
                  IS DISTINCT FROM
                  (o.workspace_id, o.search_text, o.phone_digits, o.status, o.source_id, o.assigned_to, o.duplicate_of, o.created_at)
            LIMIT 1001) x;
        IF n = 0 THEN RETURN NULL; END IF;
        INSERT INTO leads.workspace_changes (workspace_id, xid)
        SELECT DISTINCT nw.workspace_id, pg_current_xact_id()
        FROM new_rows nw JOIN old_rows o ON o.id = nw.id
        WHERE (nw.workspace_id, nw.search_text, nw.phone_digits, nw.status, nw.source_id, nw.assigned_to, nw.duplicate_of, nw.created_at)
              IS DISTINCT FROM
              (o.workspace_id, o.search_text, o.phone_digits, o.status, o.source_id, o.assigned_to, o.duplicate_of, o.created_at)
        ON CONFLICT DO NOTHING;
        IF n > 1000 THEN
            INSERT INTO leads.lead_changes (workspace_id, xid) SELECT DISTINCT workspace_id, pg_current_xact_id() FROM old_rows;
        ELSE
            INSERT INTO leads.lead_changes (workspace_id, xid, lead_id, existed, search_text, phone_digits, status, source_id,
                                            assigned_to, duplicate_of, created_at)
            SELECT o.workspace_id, pg_current_xact_id(), o.id, true, o.search_text, o.phone_digits, o.status, o.source_id,
                   o.assigned_to, o.duplicate_of, o.created_at
            FROM new_rows nw JOIN old_rows o ON o.id = nw.id
            WHERE (nw.workspace_id, nw.search_text, nw.phone_digits, nw.status, nw.source_id, nw.assigned_to, nw.duplicate_of, nw.created_at)
                  IS DISTINCT FROM
                  (o.workspace_id, o.search_text, o.phone_digits, o.status, o.source_id, o.assigned_to, o.duplicate_of, o.created_at);
        END IF;
    END IF;
    RETURN NULL;
END $$;

-- Compaction trims this log with the other, below the same horizon.
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
    RETURN n;
END $$;
