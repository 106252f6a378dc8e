-- Idempotency-Key records (docs/api.md): one row per (workspace, key), kept 24 h. The primary key makes
-- "exactly one of several concurrent requests with one key executes" a database guarantee.
CREATE TABLE access.idempotency_requests (
    workspace_id   uuid        NOT NULL,
    key            text        NOT NULL CHECK (char_length(key) BETWEEN 1 AND 255),
    -- SHA-256 over method, path, query and body; null while the first request is still reading its body.
    fingerprint    bytea,
    status_code    int,
    content_type   text,
    location       text,
    response_body  bytea,
    created_at     timestamptz NOT NULL DEFAULT now(),
    completed_at   timestamptz,
    expires_at     timestamptz NOT NULL DEFAULT now() + interval '24 hours',
    PRIMARY KEY (workspace_id, key)
);
CREATE INDEX idempotency_requests_expires_idx ON access.idempotency_requests (expires_at);
