-- Async CSV exports (spec §3.6, ours): one row per requested export, and the finished file in PostgreSQL so that
-- any node can serve it. Only the Import module writes these tables.
CREATE TABLE import.exports (
    id             uuid        PRIMARY KEY,
    workspace_id   uuid        NOT NULL,
    -- The list filters as requested ({status, sourceId, search, startDate, endDate, assignedTo, duplicates, tag}).
    filters        jsonb       NOT NULL DEFAULT '{}'::jsonb CHECK (jsonb_typeof(filters) = 'object'),
    status         text        NOT NULL DEFAULT 'queued' CHECK (status IN ('queued', 'running', 'completed', 'failed')),
    -- Runs claimed so far (the job is retried; a run that crashed is re-run).
    attempts       int         NOT NULL DEFAULT 0,
    row_count      bigint,
    byte_count     bigint,
    failure_reason text,
    created_by_key uuid        NOT NULL,
    created_at     timestamptz NOT NULL DEFAULT now(),
    started_at     timestamptz,
    finished_at    timestamptz,
    -- A completed export always has its totals: they are written in the same transaction as the file's last chunk.
    CONSTRAINT exports_completed_totals CHECK (status <> 'completed' OR (row_count IS NOT NULL AND byte_count IS NOT NULL AND finished_at IS NOT NULL))
);
CREATE INDEX exports_workspace_created_idx ON import.exports (workspace_id, created_at DESC);

-- The CSV file in chunks of about 1 MiB, read back in seq order. Chunks only ever become visible together with
-- status 'completed' (one transaction), so a crash mid-export leaves no partial file behind.
CREATE TABLE import.export_chunks (
    export_id uuid  NOT NULL REFERENCES import.exports (id) ON DELETE CASCADE,
    seq       int   NOT NULL CHECK (seq >= 0),
    data      bytea NOT NULL,
    PRIMARY KEY (export_id, seq)
);
