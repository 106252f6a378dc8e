-- The list's sort orders (spec §11): one B-tree per key, (workspace_id, key, id), walked forwards or backwards for
-- either direction; ties break by id, so each order is total and keyset cursors resume it with a row comparison
-- `(key, id) < (@key, @id)` that starts at the cursor's place in the index. Names and companies sort
-- case-insensitively with a missing value as '' — the expression here and LeadSort.KeySql must stay identical.
-- updated_at also serves `updatedSince` / `updatedBefore`. (created_at is served by leads_ws_created_idx.)
CREATE INDEX leads_ws_updated_idx ON leads.leads (workspace_id, updated_at, id);
CREATE INDEX leads_ws_score_idx ON leads.leads (workspace_id, score, id);
CREATE INDEX leads_ws_last_name_idx ON leads.leads (workspace_id, lower(coalesce(last_name, '')), id);
CREATE INDEX leads_ws_company_idx ON leads.leads (workspace_id, lower(coalesce(company, '')), id);
