-- Spec §10 "undo a merge": one record per merge, owned and written only by the Duplicates module. It keeps what an
-- unmerge needs and nothing that can be read back later: the absorbed lead's row as it was when merged (absorbed,
-- the leads.leads row as jsonb) and its tag IDs — its events are never moved by a merge, so they need no copy — plus
-- what the merge gave the survivor (filled fields, added metadata keys and tags) and which group links and
-- tombstones it re-pointed. Deleted by the unmerge, or with the survivor (deletion participant).
CREATE TABLE duplicates.merges (
    merged_lead_id        uuid        PRIMARY KEY,
    workspace_id          uuid        NOT NULL,
    survivor_id           uuid        NOT NULL,
    -- Merges into one survivor are serialised by its row lock; seq orders them (unmerge_order) even within one
    -- microsecond, and merged_at is the clock time after the lock was taken.
    seq                   bigint      GENERATED ALWAYS AS IDENTITY,
    merged_at             timestamptz NOT NULL,
    actor_type            text        NOT NULL,
    actor_id              text,
    actor_name            text,
    absorbed              jsonb       NOT NULL,
    absorbed_tag_ids      uuid[]      NOT NULL,
    filled_fields         text[]      NOT NULL,
    metadata_added        text[]      NOT NULL,
    tags_added            uuid[]      NOT NULL,
    repointed_duplicates  uuid[]      NOT NULL,
    repointed_tombstones  uuid[]      NOT NULL,
    -- The survivor's primary before the merge when it hung under the absorbed lead (it then took its place).
    survivor_was_under    boolean     NOT NULL
);

CREATE INDEX merges_survivor ON duplicates.merges (survivor_id, seq);
