-- A set of leads fixed at one moment (spec §12: a bulk action's matched set): the IDs matching a filter when the
-- selection was made, numbered 1..n in ID order, so a job can walk them in chunks (seq > last done) and resume after a
-- crash at the first chunk not committed. Leads deleted later simply no longer resolve; leads created later are not
-- in it. Owned by the Leads module (LeadSelections); the selection ID is the caller's (a bulk action's ID).
CREATE TABLE leads.selections (
    selection_id uuid    NOT NULL,
    seq          integer NOT NULL,
    lead_id      uuid    NOT NULL,
    PRIMARY KEY (selection_id, seq)
);
