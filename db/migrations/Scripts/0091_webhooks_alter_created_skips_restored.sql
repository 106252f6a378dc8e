-- An unmerge restores the merged lead's row under its own ID (Duplicates' unmerge, spec §10). That is not a new lead:
-- the restore is announced by the lead.unmerged events, and a second lead.created would reuse the lead's event ID
-- (a lead.created event's ID is its lead's). The restore inserts the row while the lead's merge tombstone
-- (leads.merged_leads) still exists and deletes the tombstone after, so the trigger can tell a restore from a new lead.
CREATE OR REPLACE FUNCTION webhooks.feed_leads_created() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO webhooks.feed_events (workspace_id, id, type, lead_id, data, occurred_at)
    SELECT n.workspace_id, n.id, 'lead.created', n.id,
           jsonb_build_object('channel', n.channel, 'sourceId', n.source_id, 'importId', n.import_id, 'score', n.created_score,
                              'status', n.status),
           n.created_at
    FROM new_rows n
    WHERE NOT EXISTS (SELECT 1 FROM leads.merged_leads m WHERE m.id = n.id);
    RETURN NULL;
END $$;
