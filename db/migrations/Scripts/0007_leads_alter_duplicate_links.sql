-- A duplicate always points at a live lead: deleting or merging away a primary must first promote or
-- re-point its duplicates (the Duplicates module does, in the same transaction). The FK also takes a
-- KEY SHARE lock on the primary when a duplicate is flagged, which orders intake against deletes.
ALTER TABLE leads.leads
    ADD CONSTRAINT leads_duplicate_of_fkey FOREIGN KEY (duplicate_of) REFERENCES leads.leads (id);

-- Merging concatenates notes and never drops them, so a survivor's notes may outgrow the 10,000
-- characters one API write accepts. The API keeps enforcing 10,000 per write; storage allows the sum.
ALTER TABLE leads.leads DROP CONSTRAINT leads_notes_check;
ALTER TABLE leads.leads ADD CONSTRAINT leads_notes_check CHECK (char_length(notes) <= 1000000);

-- Published read model of group links for the Duplicates module.
CREATE VIEW leads.v_lead_groups AS
SELECT id, workspace_id, duplicate_of, duplicate_matched_on, created_at
FROM leads.leads;
