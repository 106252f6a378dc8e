-- The `tag` list filter reads tags.lead_tags, so attaching or detaching a tag changes list results as much as a status
-- change does: the list cache's remembered positions for `tag=` (deep pages) were used after a tag write because
-- nothing reached leads.workspace_changes. Each statement that inserts, moves or deletes lead↔tag links (attach,
-- detach, a merge moving tags, a tag deleted with its links, a lead's links cascading away) now logs its workspace
-- and transaction like a lead write. Nothing goes to leads.lead_changes: the totals it adjusts are those of searches
-- and dates, which a tag never moves, and `tag=` totals are always counted.
CREATE FUNCTION leads.log_tag_link_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        INSERT INTO leads.workspace_changes (workspace_id, xid)
        SELECT DISTINCT workspace_id, pg_current_xact_id() FROM new_rows
        ON CONFLICT DO NOTHING;
    END IF;
    IF TG_OP IN ('DELETE', 'UPDATE') THEN
        INSERT INTO leads.workspace_changes (workspace_id, xid)
        SELECT DISTINCT workspace_id, pg_current_xact_id() FROM old_rows
        ON CONFLICT DO NOTHING;
    END IF;
    RETURN NULL;
END $$;

CREATE TRIGGER lead_tags_change_log_insert AFTER INSERT ON tags.lead_tags
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION leads.log_tag_link_change();
CREATE TRIGGER lead_tags_change_log_update AFTER UPDATE ON tags.lead_tags
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION leads.log_tag_link_change();
CREATE TRIGGER lead_tags_change_log_delete AFTER DELETE ON tags.lead_tags
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION leads.log_tag_link_change();
