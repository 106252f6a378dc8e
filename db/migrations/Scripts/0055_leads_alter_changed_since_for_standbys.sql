-- The list cache (src/Modules/Leads/Data/ListCache.cs) remembers a total or a deep-page position with the snapshot it
-- was computed in, and trusts it while leads.changed_since(workspace, snapshot) is false. Two things made that unsafe
-- when list reads go to a standby (ConnectionStrings:LeadsRead):
--
-- 1. On a standby, pg_current_snapshot() lists no in-progress transaction: a snapshot taken during recovery keeps
--    them all in its subtransaction array, which pg_current_snapshot() does not read. It answers e.g. 725:727: while
--    transaction 725 is still running on the primary, i.e. it claims 725 as already seen. Once 725 commits,
--    changed_since finds it "visible in the snapshot" and the remembered total, missing 725's leads, was trusted
--    for good. leads.list_snapshot() is the snapshot to remember instead: on a standby (xmin < xmax with no xip,
--    which a primary's snapshot never is) only what is certain — every transaction below xmin — so the remembered
--    result is never taken for newer than it is.
-- 2. A node that reads more than one server (several standbys, a standby and the primary it falls back to, a
--    failover) can check a snapshot from a server that is ahead against one that lags: nothing there is newer than
--    the snapshot, yet the snapshot counts transactions that server has not replayed. leads.snapshot_behind(snap)
--    says so, and changed_since now answers true for it.

-- What a snapshot can vouch for: itself on a primary; on a standby, all transactions below its xmin and none after.
CREATE FUNCTION leads.vouched_snapshot(s pg_snapshot) RETURNS pg_snapshot LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE WHEN pg_snapshot_xmin(s) < pg_snapshot_xmax(s) AND NOT EXISTS (SELECT FROM pg_snapshot_xip(s))
                THEN (pg_snapshot_xmin(s)::text || ':' || pg_snapshot_xmin(s)::text || ':')::pg_snapshot
                ELSE s END
$$;

-- The calling statement's snapshot as leads.vouched_snapshot has it (STABLE: the caller's snapshot).
CREATE FUNCTION leads.list_snapshot() RETURNS pg_snapshot LANGUAGE sql STABLE AS $$
    SELECT leads.vouched_snapshot(pg_current_snapshot())
$$;

-- Whether the calling statement may not see a transaction that `snap` counts as done: this server lags the one
-- `snap` was taken on. A transaction done in `snap` is below its xmax; the statement sees every one below its own
-- xmax except those in its own xip.
CREATE FUNCTION leads.snapshot_behind(snap pg_snapshot) RETURNS boolean LANGUAGE plpgsql STABLE AS $$
DECLARE
    cur pg_snapshot := leads.list_snapshot();
BEGIN
    RETURN pg_snapshot_xmax(snap) > pg_snapshot_xmax(cur)
        OR EXISTS (SELECT 1 FROM pg_snapshot_xip(cur) x WHERE x < pg_snapshot_xmax(snap) AND pg_visible_in_snapshot(x, snap));
END $$;

CREATE OR REPLACE FUNCTION leads.changed_since(ws uuid, snap pg_snapshot) RETURNS boolean LANGUAGE plpgsql STABLE AS $$
BEGIN
    RETURN pg_snapshot_xmin(snap) < (SELECT h.horizon FROM leads.workspace_changes_horizon h)
        OR leads.snapshot_behind(snap)
        OR EXISTS (SELECT 1 FROM leads.workspace_changes c
                   WHERE c.workspace_id = ws AND c.xid >= pg_snapshot_xmin(snap) AND NOT pg_visible_in_snapshot(c.xid, snap));
END $$;
