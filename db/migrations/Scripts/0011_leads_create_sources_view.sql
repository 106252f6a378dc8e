-- Published read model of sources for other modules (CSV import checks that its sourceId is a live source).
CREATE VIEW leads.v_sources AS
SELECT id, workspace_id, name, deleted_at IS NOT NULL AS deleted
FROM leads.sources;
