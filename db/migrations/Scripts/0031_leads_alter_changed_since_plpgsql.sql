-- leads.changed_since runs in every statement that serves a page from a remembered total or position. As a SQL
-- function it cannot be inlined (its body has subqueries), and a SQL function that is not inlined is parsed and
-- planned again in every statement that calls it: 0.11–0.19 ms per call at 1M leads, more than the page lookup it
-- guards. In PL/pgSQL its two queries are planned once per connection and kept: 0.03–0.04 ms. Same definition.
CREATE OR REPLACE FUNCTION leads.changed_since(ws uuid, snap pg_snapshot) RETURNS boolean LANGUAGE plpgsql STABLE AS $$
BEGIN
    RETURN pg_snapshot_xmin(snap) < (SELECT h.horizon FROM leads.workspace_changes_horizon h)
        OR EXISTS (SELECT 1 FROM leads.workspace_changes c
                   WHERE c.workspace_id = ws AND c.xid >= pg_snapshot_xmin(snap) AND NOT pg_visible_in_snapshot(c.xid, snap));
END $$;
