-- CSV imports (spec §3.7). The uploaded file lives in upload_chunks so API and worker nodes share no disk;
-- processed_rows is the job's checkpoint, advanced in the same transaction as each chunk's leads.
CREATE TABLE import.imports (
    id             uuid        PRIMARY KEY,
    workspace_id   uuid        NOT NULL,
    file_name      text        NOT NULL CHECK (char_length(file_name) BETWEEN 1 AND 255),
    size_bytes     bigint      NOT NULL DEFAULT 0,
    source_id      uuid,
    on_duplicate   text        NOT NULL CHECK (on_duplicate IN ('flag', 'skip')),
    dry_run        boolean     NOT NULL DEFAULT false,
    status         text        NOT NULL CHECK (status IN ('queued', 'running', 'completed', 'failed')),
    -- The file's header as read, so the error report can repeat the original columns.
    header         text[],
    -- Data rows in the file; null until the job has scanned it.
    total_rows     bigint,
    -- Rows consumed so far (created + skipped + failed): the resume point after a crash.
    processed_rows bigint      NOT NULL DEFAULT 0,
    created        bigint      NOT NULL DEFAULT 0,
    duplicates     bigint      NOT NULL DEFAULT 0,
    skipped        bigint      NOT NULL DEFAULT 0,
    failed         bigint      NOT NULL DEFAULT 0,
    failure_reason text,
    attempts       integer     NOT NULL DEFAULT 0,
    created_by     uuid,
    created_at     timestamptz NOT NULL DEFAULT now(),
    started_at     timestamptz,
    finished_at    timestamptz,
    updated_at     timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT imports_counts_check CHECK (processed_rows = created + skipped + failed AND duplicates <= created)
);
CREATE INDEX imports_ws_created_idx ON import.imports (workspace_id, created_at DESC, id DESC);
CREATE INDEX imports_unfinished_idx ON import.imports (created_at) WHERE status IN ('queued', 'running');

-- The upload, in 1 MiB pieces written as they arrive. CSV compresses well, but compressing on upload costs
-- more CPU than the disk it saves for a file that is deleted once imported.
CREATE TABLE import.upload_chunks (
    import_id uuid    NOT NULL REFERENCES import.imports (id) ON DELETE CASCADE,
    seq       integer NOT NULL,
    data      bytea   NOT NULL,
    PRIMARY KEY (import_id, seq)
);
ALTER TABLE import.upload_chunks ALTER COLUMN data SET STORAGE EXTERNAL;

-- Rejected rows: where, why, and the original fields for the re-uploadable error report. The key makes
-- recording a row's rejection idempotent, like the leads checkpoint.
CREATE TABLE import.row_errors (
    import_id uuid   NOT NULL REFERENCES import.imports (id) ON DELETE CASCADE,
    row_no    bigint NOT NULL,
    line      bigint NOT NULL,
    message   text   NOT NULL,
    fields    text[] NOT NULL,
    PRIMARY KEY (import_id, row_no)
);
