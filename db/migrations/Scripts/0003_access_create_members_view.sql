-- Published read model for other modules (lead assignment, actor names). Only Access writes access.*.
CREATE VIEW access.v_members AS
SELECT id, workspace_id, name, email, role, deleted_at IS NOT NULL AS deleted
FROM access.members;

CREATE VIEW access.v_workspaces AS
SELECT id, name, default_region
FROM access.workspaces;
