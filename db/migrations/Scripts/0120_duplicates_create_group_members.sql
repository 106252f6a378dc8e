-- Issue #12 item 4: duplicate groups move to this module's schema. duplicates.group_members is the truth — one row per
-- lead that is flagged a duplicate (a primary has none; groups are one level deep), written only by the Duplicates
-- module's SQL. leads.leads.duplicate_of stays as a denormalised copy of primary_id, written in the same transaction
-- through a Leads intent (LeadDuplicateFlags), because the list's isDuplicate and duplicates=only|exclude, the
-- counters (lead_counts is keyed by it), the change log and the partial sort index all key on it at 1M leads.
--
-- Foreign keys (no cascade): a membership row is of a live lead and points at a live lead. Leads are hard-deleted
-- only through the deletion participants and merge, where this module removes or re-points the rows first; a path
-- that forgot would fail instead of leaving a dangling row.
CREATE TABLE duplicates.group_members (
    lead_id      uuid   PRIMARY KEY REFERENCES leads.leads (id),
    workspace_id uuid   NOT NULL,
    primary_id   uuid   NOT NULL REFERENCES leads.leads (id),
    -- The match keys the lead shares with its primary (email, phone), as detection or a re-point computed them.
    matched_on   text[] NOT NULL DEFAULT '{}',
    CONSTRAINT group_members_not_self CHECK (lead_id <> primary_id)
);

-- "The duplicates of this primary" (merge, delete promotion, the group listing) and the FK check when a lead is deleted.
CREATE INDEX group_members_primary ON duplicates.group_members (primary_id, lead_id);

-- Carry over today's groups: one set-based statement (about 2% of a 1M workspace are duplicates).
INSERT INTO duplicates.group_members (lead_id, workspace_id, primary_id, matched_on)
SELECT id, workspace_id, duplicate_of, coalesce(duplicate_matched_on, '{}')
FROM leads.leads
WHERE duplicate_of IS NOT NULL;

-- The absorbed lead's group membership at merge time (its leads.leads row no longer carries matched_on), for unmerge.
ALTER TABLE duplicates.merges
    ADD COLUMN absorbed_primary_id uuid,
    ADD COLUMN absorbed_matched_on text[];

UPDATE duplicates.merges
SET absorbed_primary_id = (absorbed ->> 'duplicate_of')::uuid,
    absorbed_matched_on = CASE WHEN jsonb_typeof(absorbed -> 'duplicate_matched_on') = 'array'
                               THEN ARRAY(SELECT jsonb_array_elements_text(absorbed -> 'duplicate_matched_on')) END
WHERE absorbed ->> 'duplicate_of' IS NOT NULL;

-- Published read model of the groups for other modules (the lead detail's duplicateOf {id, matchedOn}).
CREATE VIEW duplicates.v_group_members AS
SELECT lead_id, workspace_id, primary_id, matched_on
FROM duplicates.group_members;
