-- One statement trigger for INSERT on leads.leads instead of three (issue #18). A single-lead intake spent a quarter of
-- PostgreSQL's CPU in its AFTER INSERT triggers (perf, docs/benchmarks.md "Where a lead's milliseconds go"): three
-- PL/pgSQL calls — counters (0004/0050), change log (0030/0032), change feed's lead.created (0090/0091) — running five
-- SPI statements, each with its own plan-cache check, snapshot, executor start and end. This trigger does the same
-- writes in one PL/pgSQL call and, for every statement of up to 1,000 leads, one SPI statement (data-modifying CTEs);
-- the rows written are exactly those of the three triggers it replaces. UPDATE and DELETE keep their triggers.
CREATE FUNCTION leads.after_leads_insert() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    n bigint;
BEGIN
    SELECT count(*) INTO n FROM (SELECT 1 FROM new_rows LIMIT 1001) x;
    IF n = 0 THEN RETURN NULL; END IF;
    IF n <= 1000 THEN
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
            -- leads.log_workspace_change, INSERT: the transaction per workspace, and each lead.
            INSERT INTO leads.workspace_changes (workspace_id, xid)
            SELECT DISTINCT workspace_id, pg_current_xact_id() FROM new_rows
            ON CONFLICT DO NOTHING
        ), leads_logged AS (
            INSERT INTO leads.lead_changes (workspace_id, xid, lead_id, existed)
            SELECT workspace_id, pg_current_xact_id(), id, false FROM new_rows
        )
        -- webhooks.feed_leads_created: lead.created, except for a merged lead restored by an unmerge (0091).
        INSERT INTO webhooks.feed_events (workspace_id, id, type, lead_id, data, occurred_at)
        SELECT nr.workspace_id, nr.id, 'lead.created', nr.id,
               jsonb_build_object('channel', nr.channel, 'sourceId', nr.source_id, 'importId', nr.import_id, 'score', nr.created_score,
                                  'status', nr.status),
               nr.created_at
        FROM new_rows nr
        WHERE NOT EXISTS (SELECT 1 FROM leads.merged_leads m WHERE m.id = nr.id);
    ELSE
        -- An import chunk: the same, with one change-log row per workspace instead of one per lead (0032).
        WITH counted AS (
            INSERT INTO leads.lead_counts AS c (workspace_id, status, assigned_to, source_id, is_duplicate, slot, n)
            SELECT d.workspace_id, d.status, d.assigned_to, d.source_id, d.is_duplicate, leads.lead_count_slot(d.workspace_id), d.n
            FROM (SELECT workspace_id, status, coalesce(assigned_to, '00000000-0000-0000-0000-000000000000') AS assigned_to,
                         coalesce(source_id, '00000000-0000-0000-0000-000000000000') AS source_id, duplicate_of IS NOT NULL AS is_duplicate,
                         count(*) AS n
                  FROM new_rows GROUP BY 1, 2, 3, 4, 5 ORDER BY 1, 2, 3, 4, 5) d
            ON CONFLICT (workspace_id, status, assigned_to, source_id, is_duplicate, slot) DO UPDATE SET n = c.n + EXCLUDED.n
        ), workspaces_logged AS (
            INSERT INTO leads.workspace_changes (workspace_id, xid)
            SELECT DISTINCT workspace_id, pg_current_xact_id() FROM new_rows
            ON CONFLICT DO NOTHING
        ), leads_logged AS (
            INSERT INTO leads.lead_changes (workspace_id, xid)
            SELECT DISTINCT workspace_id, pg_current_xact_id() FROM new_rows
        )
        INSERT INTO webhooks.feed_events (workspace_id, id, type, lead_id, data, occurred_at)
        SELECT nr.workspace_id, nr.id, 'lead.created', nr.id,
               jsonb_build_object('channel', nr.channel, 'sourceId', nr.source_id, 'importId', nr.import_id, 'score', nr.created_score,
                                  'status', nr.status),
               nr.created_at
        FROM new_rows nr
        WHERE NOT EXISTS (SELECT 1 FROM leads.merged_leads m WHERE m.id = nr.id);
    END IF;
    RETURN NULL;
END $$;

DROP TRIGGER leads_count_insert ON leads.leads;
DROP TRIGGER leads_change_log_insert ON leads.leads;
DROP TRIGGER leads_feed_created ON leads.leads;
-- Only the INSERT trigger called it.
DROP FUNCTION webhooks.feed_leads_created();

CREATE TRIGGER leads_after_insert AFTER INSERT ON leads.leads
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION leads.after_leads_insert();
