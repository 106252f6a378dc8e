CREATE TABLE access.workspaces (
    id             uuid        PRIMARY KEY,
    name           text        NOT NULL,
    default_region text        NOT NULL DEFAULT 'US' CHECK (default_region ~ '^[A-Z]{2}$'),
    created_at     timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT workspaces_name_key UNIQUE (name)
);

-- Members are soft-deleted: keys and events keep naming who created them, and a deleted member's
-- keys stop authenticating at once (the auth lookup joins on deleted_at IS NULL).
CREATE TABLE access.members (
    id           uuid        PRIMARY KEY,
    workspace_id uuid        NOT NULL REFERENCES access.workspaces (id) ON DELETE CASCADE,
    name         text        NOT NULL CHECK (char_length(name) BETWEEN 1 AND 100),
    email        text        NOT NULL CHECK (char_length(email) BETWEEN 3 AND 254),
    role         text        NOT NULL CHECK (role IN ('owner', 'admin', 'member')),
    created_at   timestamptz NOT NULL DEFAULT now(),
    deleted_at   timestamptz
);
CREATE UNIQUE INDEX members_workspace_email_key ON access.members (workspace_id, lower(email)) WHERE deleted_at IS NULL;
CREATE INDEX members_workspace_idx ON access.members (workspace_id, created_at) WHERE deleted_at IS NULL;

CREATE TABLE access.api_keys (
    id           uuid        PRIMARY KEY,
    workspace_id uuid        NOT NULL REFERENCES access.workspaces (id) ON DELETE CASCADE,
    member_id    uuid        NOT NULL REFERENCES access.members (id),
    label        text        NOT NULL CHECK (char_length(label) BETWEEN 1 AND 100),
    scope        text        NOT NULL CHECK (scope IN ('read', 'full')),
    prefix       text        NOT NULL,
    -- SHA-256 of the whole key; the plaintext is never stored.
    key_hash     bytea       NOT NULL CHECK (octet_length(key_hash) = 32),
    active       boolean     NOT NULL DEFAULT true,
    expires_at   timestamptz,
    last_used_at timestamptz,
    created_at   timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT api_keys_key_hash_key UNIQUE (key_hash)
);
CREATE INDEX api_keys_workspace_idx ON access.api_keys (workspace_id, created_at);
