-- Spec §10 "not a duplicate": pairs of leads a user declared different people. Owned and written only by the
-- Duplicates module; detection reads it so a dismissed pair is never flagged again. One row per unordered pair
-- (lead_a < lead_b). No foreign key to leads.leads (another module's table, and a merge retires rows): deleting a
-- lead forgets its pairs in the delete's transaction (Duplicates' deletion participant).
CREATE TABLE duplicates.dismissed_pairs (
    lead_a       uuid        NOT NULL,
    lead_b       uuid        NOT NULL,
    workspace_id uuid        NOT NULL,
    dismissed_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (lead_a, lead_b),
    CONSTRAINT dismissed_pairs_ordered CHECK (lead_a < lead_b)
);

-- Lookups come from either side: "the partners of these leads".
CREATE INDEX dismissed_pairs_lead_b ON duplicates.dismissed_pairs (lead_b, lead_a);
