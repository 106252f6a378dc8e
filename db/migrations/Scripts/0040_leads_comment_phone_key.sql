-- Spec §8: a phone never refuses a lead any more, and phone_e164 holds the E.164 form of a *possible* number (or
-- NULL). Rows stored before this release hold only numbers that were valid in their workspace's region, and
-- LeadRules.NormalizePhone gives every such number exactly the key it had (it prefers the region's valid reading
-- over the 00/011 prefixes), so no stored key changes and no row needs rewriting.
COMMENT ON COLUMN leads.leads.phone IS 'As sent (trimmed); never refused for its format (spec §8).';
COMMENT ON COLUMN leads.leads.phone_e164 IS 'Phone match key: E.164 of a possible number (+, 00, 011 honoured, else the workspace region), NULL otherwise.';
