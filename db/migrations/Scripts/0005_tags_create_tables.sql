CREATE TABLE tags.tags (
    id           uuid        PRIMARY KEY,
    workspace_id uuid        NOT NULL,
    name         text        NOT NULL CHECK (char_length(name) BETWEEN 1 AND 50),
    created_at   timestamptz NOT NULL DEFAULT now()
);
-- Case-insensitive unique name per workspace: the database decides races between "created on first use".
CREATE UNIQUE INDEX tags_workspace_name_key ON tags.tags (workspace_id, lower(name));

CREATE TABLE tags.lead_tags (
    lead_id      uuid        NOT NULL REFERENCES leads.leads (id) ON DELETE CASCADE,
    tag_id       uuid        NOT NULL REFERENCES tags.tags (id) ON DELETE CASCADE,
    workspace_id uuid        NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (lead_id, tag_id)
);
CREATE INDEX lead_tags_tag_idx ON tags.lead_tags (tag_id, lead_id);

-- Published read models for the Leads module (detail, `tag` filter, export).
CREATE VIEW tags.v_lead_tags AS
SELECT lt.lead_id, lt.tag_id, t.name, lt.workspace_id, lt.created_at
FROM tags.lead_tags lt JOIN tags.tags t ON t.id = lt.tag_id;

CREATE VIEW tags.v_tags AS
SELECT id, workspace_id, name FROM tags.tags;
