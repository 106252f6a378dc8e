-- A merge no longer rewrites event rows (issue #4: merging two leads with 1,000 events each in ≤ 50 ms; moving
-- them was 1,000 non-HOT row updates). An event stays keyed by the lead it was written for; a lead's timeline is
-- its own events plus those of the leads merged into it (leads.merged_leads, kept flat by every merge).
--
-- The foreign key's ON DELETE CASCADE would take a merged-away lead's events with its row, so it goes.
-- Referential integrity is kept explicitly instead:
--   * writing: the trigger below accepts events only for live leads and takes the same FOR KEY SHARE lock on
--     them the foreign key took, so an event cannot slip in beside a concurrent delete or merge of its lead;
--   * moving: lead_id never changes (nothing in the service moves events any more);
--   * deleting: deleting a lead (Leads DeleteLead) deletes its events and those of the leads merged into it,
--     then their tombstones, in the same transaction. Leads are hard-deleted nowhere else but by a merge,
--     whose tombstone keeps the duplicate's events reachable.
ALTER TABLE leads.events DROP CONSTRAINT events_lead_id_fkey;

-- Statement-level, so a set-based insert (bulk import, member removal) checks and locks its leads in one query.
CREATE FUNCTION leads.check_event_leads_live() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    wanted bigint;
    live   bigint;
BEGIN
    SELECT count(DISTINCT lead_id) INTO wanted FROM new_rows;
    IF wanted = 0 THEN RETURN NULL; END IF;
    -- In id order, the order a merge locks its two leads in.
    SELECT count(*) INTO live FROM (
        SELECT 1 FROM leads.leads l WHERE l.id IN (SELECT lead_id FROM new_rows) ORDER BY l.id FOR KEY SHARE OF l
    ) k;
    IF live <> wanted THEN
        RAISE EXCEPTION 'leads.events: % of % leads are not live leads', wanted - live, wanted
            USING ERRCODE = 'foreign_key_violation', TABLE = 'events', SCHEMA = 'leads';
    END IF;
    RETURN NULL;
END $$;

CREATE TRIGGER events_lead_live AFTER INSERT ON leads.events
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION leads.check_event_leads_live();

CREATE FUNCTION leads.refuse_event_move() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'leads.events: an event stays with the lead it was written for (merges read it through leads.merged_leads)'
        USING ERRCODE = 'foreign_key_violation', TABLE = 'events', SCHEMA = 'leads';
END $$;

CREATE TRIGGER events_lead_fixed BEFORE UPDATE OF lead_id ON leads.events
    FOR EACH ROW WHEN (OLD.lead_id IS DISTINCT FROM NEW.lead_id) EXECUTE FUNCTION leads.refuse_event_move();
