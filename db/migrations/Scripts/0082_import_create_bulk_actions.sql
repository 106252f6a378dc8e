-- Bulk actions by filter (spec §12). The matched set is leads.selections (selection_id = id); `processed` is the
-- number of its leads done, advanced in the same transaction as each chunk's changes, so a resumed run starts exactly
-- after the last committed chunk and no lead is changed twice. `failed` counts matched leads gone (deleted or merged
-- away) before their chunk ran.
CREATE TABLE import.bulk_actions (
    id             uuid        PRIMARY KEY,
    workspace_id   uuid        NOT NULL,
    action         text        NOT NULL CHECK (action IN ('set_status', 'assign', 'unassign', 'add_tag', 'remove_tag', 'delete')),
    params         jsonb       NOT NULL DEFAULT '{}'::jsonb,
    filter         jsonb       NOT NULL DEFAULT '{}'::jsonb,
    status         text        NOT NULL DEFAULT 'queued' CHECK (status IN ('queued', 'running', 'completed', 'failed')),
    matched        bigint      NOT NULL,
    processed      bigint      NOT NULL DEFAULT 0,
    changed        bigint      NOT NULL DEFAULT 0,
    failed         bigint      NOT NULL DEFAULT 0,
    attempts       integer     NOT NULL DEFAULT 0,
    actor_id       text        NOT NULL,
    actor_name     text,
    failure_reason text,
    created_at     timestamptz NOT NULL DEFAULT now(),
    started_at     timestamptz,
    finished_at    timestamptz
);
CREATE INDEX bulk_actions_ws_created_idx ON import.bulk_actions (workspace_id, created_at DESC, id DESC);
CREATE INDEX bulk_actions_unfinished_idx ON import.bulk_actions (created_at) WHERE status IN ('queued', 'running');
