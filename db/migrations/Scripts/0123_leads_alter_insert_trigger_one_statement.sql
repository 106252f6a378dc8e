-- leads.after_leads_insert (0100) as one statement for every size: its two branches differed only in the change log's
-- rows — one per lead for a statement of up to 1,000 leads, one per workspace (no lead_id: readers recount) above —
-- and repeated the counters', workspace log's and change feed's CTEs word for word. Now both change-log forms are one
-- INSERT whose halves are gated by the row count (a one-time filter: the half not taken is never run), so a change to
-- any of those writes is made once. The rows written are exactly those of 0100.
CREATE OR REPLACE FUNCTION leads.after_leads_insert() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    n bigint;
BEGIN
    SELECT count(*) INTO n FROM (SELECT 1 FROM new_rows LIMIT 1001) x;
    IF n = 0 THEN RETURN NULL; END IF;
    WITH counted AS (
        -- leads.apply_lead_count_deltas, INSERT: net deltas per counter key into this transaction's slot.
        INSERT INTO leads.lead_counts AS c (workspace_id, status, assigned_to, source_id, is_duplicate, slot, n)
        SELECT d.workspace_id, d.status, d.assigned_to, d.source_id, d.is_duplicate, leads.lead_count_slot(d.workspace_id), d.n
        FROM (SELECT workspace_id, status, coalesce(assigned_to, '00000000-0000-0000-0000-000000000000') AS assigned_to,
                     coalesce(source_id, '00000000-0000-0000-0000-000000000000') AS source_id, duplicate_of IS NOT NULL AS is_duplicate,
                     count(*) AS n
              FROM new_rows GROUP BY 1, 2, 3, 4, 5 ORDER BY 1, 2, 3, 4, 5) d
        ON CONFLICT (workspace_id, status, assigned_to, source_id, is_duplicate, slot) DO UPDATE SET n = c.n + EXCLUDED.n
    ), workspaces_logged AS (
        -- leads.log_workspace_change, INSERT: the transaction per workspace, and each lead — or, above 1,000 leads (an
        -- import chunk), one row per workspace instead (0032).
        INSERT INTO leads.workspace_changes (workspace_id, xid)
        SELECT DISTINCT workspace_id, pg_current_xact_id() FROM new_rows
        ON CONFLICT DO NOTHING
    ), leads_logged AS (
        INSERT INTO leads.lead_changes (workspace_id, xid, lead_id, existed)
        SELECT workspace_id, pg_current_xact_id(), id, false FROM new_rows WHERE n <= 1000
        UNION ALL
        SELECT DISTINCT workspace_id, pg_current_xact_id(), NULL::uuid, false FROM new_rows WHERE n > 1000
    )
    -- webhooks.feed_leads_created: lead.created, except for a merged lead restored by an unmerge (0091).
    INSERT INTO webhooks.feed_events (workspace_id, id, type, lead_id, data, occurred_at)
    SELECT nr.workspace_id, nr.id, 'lead.created', nr.id,
           jsonb_build_object('channel', nr.channel, 'sourceId', nr.source_id, 'importId', nr.import_id, 'score', nr.created_score,
                              'status', nr.status),
           nr.created_at
    FROM new_rows nr
    WHERE NOT EXISTS (SELECT 1 FROM leads.merged_leads m WHERE m.id = nr.id);
    RETURN NULL;
END $$;
