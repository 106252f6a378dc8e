-- Issue #12 item 4: matchedOn now lives only in duplicates.group_members (migration 0120). leads.leads keeps
-- duplicate_of as the list's denormalised flag; the published group view went with the column it exposed
-- (its one reader, the Duplicates module, now reads its own table).
DROP VIEW leads.v_lead_groups;
ALTER TABLE leads.leads DROP COLUMN duplicate_matched_on;
