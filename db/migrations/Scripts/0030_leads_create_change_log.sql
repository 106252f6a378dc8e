-- Which transactions changed which workspace's list results, so that a node can keep an exact search total (and
-- the positions of deep pages) between requests and know, in the same statement that reads a page, whether any
-- transaction has since committed a change to that workspace's leads.
--
-- Every statement that inserts or deletes leads, or updates a column a list filter or the order reads, adds one row
-- (workspace, its own transaction ID) — at most one per transaction and workspace. Each transaction writes its own
-- row, so concurrent writers never wait on each other here (unlike a per-workspace version counter, whose row lock
-- would serialise every write of a workspace). A reader remembers the snapshot its count was taken in; the count is
-- still exact as long as no row in this log is visible now that was not visible in that snapshot.
CREATE TABLE leads.workspace_changes (
    workspace_id uuid        NOT NULL,
    xid          xid8        NOT NULL,
    logged_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (workspace_id, xid)
);

-- Compaction (leads.compact_workspace_changes) deletes rows below `horizon`; a snapshot older than the horizon can
-- no longer be checked and counts as changed. `pending` is the horizon of the next compaction: the oldest running
-- transaction at the time of the previous one, so every snapshot taken since stays checkable for one more period.
CREATE TABLE leads.workspace_changes_horizon (
    singleton    boolean     PRIMARY KEY DEFAULT true CHECK (singleton),
    horizon      xid8        NOT NULL,
    pending      xid8        NOT NULL,
    compacted_at timestamptz NOT NULL DEFAULT now()
);
INSERT INTO leads.workspace_changes_horizon (horizon, pending)
VALUES ('0'::xid8, pg_snapshot_xmin(pg_current_snapshot()));

CREATE FUNCTION leads.log_workspace_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO leads.workspace_changes (workspace_id, xid)
        SELECT DISTINCT workspace_id, pg_current_xact_id() FROM new_rows
        ON CONFLICT DO NOTHING;
    ELSIF TG_OP = 'DELETE' THEN
        INSERT INTO leads.workspace_changes (workspace_id, xid)
        SELECT DISTINCT workspace_id, pg_current_xact_id() FROM old_rows
        ON CONFLICT DO NOTHING;
    ELSE
        -- Only what a filter, the search or the order reads; notes, score, metadata and timestamps change nothing listed.
        INSERT INTO leads.workspace_changes (workspace_id, xid)
        SELECT DISTINCT n.workspace_id, pg_current_xact_id()
        FROM new_rows n JOIN old_rows o ON o.id = n.id
        WHERE (n.workspace_id, n.search_text, n.phone_digits, n.status, n.source_id, n.assigned_to, n.duplicate_of, n.created_at)
              IS DISTINCT FROM
              (o.workspace_id, o.search_text, o.phone_digits, o.status, o.source_id, o.assigned_to, o.duplicate_of, o.created_at)
        ON CONFLICT DO NOTHING;
    END IF;
    RETURN NULL;
END $$;

CREATE TRIGGER leads_change_log_insert AFTER INSERT ON leads.leads
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION leads.log_workspace_change();
CREATE TRIGGER leads_change_log_update AFTER UPDATE ON leads.leads
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION leads.log_workspace_change();
CREATE TRIGGER leads_change_log_delete AFTER DELETE ON leads.leads
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION leads.log_workspace_change();

-- Whether the workspace's leads changed since `snap` was taken: a logged transaction that is visible now (the row
-- is only visible once its transaction committed) but was not visible in `snap`. Rows below the snapshot's xmin
-- were all committed (or aborted) before it, so only those at or above it are looked at.
CREATE FUNCTION leads.changed_since(ws uuid, snap pg_snapshot) RETURNS boolean LANGUAGE sql STABLE AS $$
    SELECT pg_snapshot_xmin(snap) < (SELECT h.horizon FROM leads.workspace_changes_horizon h)
        OR EXISTS (SELECT 1 FROM leads.workspace_changes c
                   WHERE c.workspace_id = ws AND c.xid >= pg_snapshot_xmin(snap) AND NOT pg_visible_in_snapshot(c.xid, snap))
$$;

-- Deletes what no checkable snapshot needs any more, at most once per `period`; returns the rows deleted
-- (NULL when another node compacted within the period).
CREATE FUNCTION leads.compact_workspace_changes(period interval) RETURNS bigint LANGUAGE plpgsql AS $$
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
    RETURN n;
END $$;
