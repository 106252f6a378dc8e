-- Spec §10 duplicate suggestions (the Duplicates module reads them; the Leads module owns the table and publishes the
-- view). Three narrow probes, each a partial B-tree on an expression, chosen so one lead's suggestions cost three
-- index range scans of a handful of rows at 1M leads; pg_trgm then scores only those candidates (company similarity).
-- A GIN trigram index over names was rejected: a fuzzy probe touches thousands of rows for common trigrams, and GIN
-- maintenance would slow the 1M import far more than three B-trees (docs/benchmarks.md has the import figures).

-- Same full name (case-insensitive), both parts present: a first name alone never suggests anyone.
CREATE INDEX leads_suggest_name_idx ON leads.leads (workspace_id, lower(last_name), lower(first_name))
    WHERE first_name IS NOT NULL AND last_name IS NOT NULL;

-- The email's local part (before any +tag) at any domain.
CREATE INDEX leads_suggest_email_local_idx ON leads.leads (workspace_id, split_part(split_part(email_norm, '@', 1), '+', 1))
    WHERE email_norm IS NOT NULL;

-- The last ten digits of the phone as typed: the same number written for another region (or not parseable at all).
CREATE INDEX leads_suggest_phone_tail_idx ON leads.leads (workspace_id, right(phone_digits, 10))
    WHERE length(phone_digits) >= 7;

-- What the Duplicates module may read to suggest: the match fields of every lead.
CREATE VIEW leads.v_lead_match_fields AS
SELECT id, workspace_id, first_name, last_name, company, email_norm, phone_e164, phone_digits, duplicate_of, created_at
FROM leads.leads;
