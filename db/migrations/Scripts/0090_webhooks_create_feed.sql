-- The workspace change feed (spec §13) and outbound webhook subscriptions, owned by the Webhooks module.
--
-- Outbox: every feed row is written in the same transaction as the change it describes, by statement-level
-- triggers on leads.leads (created, deleted) and leads.events (every timeline event but the synthesised
-- 'created'), plus webhooks.append_event() for changes that are not lead rows (import/export/bulk completed).
-- One trigger per statement, reading its transition table, so a 10,000-lead import chunk writes its feed rows in
-- one INSERT … SELECT.
--
-- Commit order without gaps: a row carries the id of the transaction that wrote it (tx_id, pg_current_xact_id())
-- and a sequence number (position). Readers order by (tx_id, position) and return only rows whose transaction
-- is older than the oldest transaction still running anywhere (pg_snapshot_xmin of the reading statement's
-- snapshot). Every transaction below that horizon has ended, so no row can ever appear behind a cursor a reader
-- was given: a transaction that started earlier but commits later is simply not readable until it has committed,
-- and then it sorts before everything that was not yet readable. The price is latency while a long transaction
-- runs (the feed waits for it), never a skipped event.
CREATE SCHEMA IF NOT EXISTS webhooks;

CREATE TABLE webhooks.feed_events (
    workspace_id uuid        NOT NULL,
    tx_id        xid8        NOT NULL DEFAULT pg_current_xact_id(),
    position     bigint      GENERATED ALWAYS AS IDENTITY,
    id           uuid        NOT NULL,
    type         text        NOT NULL CHECK (type IN ('lead.created', 'lead.updated', 'lead.merged', 'lead.unmerged',
                                                      'lead.deleted', 'import.completed', 'export.completed', 'bulk.completed')),
    lead_id      uuid,
    data         jsonb       NOT NULL DEFAULT '{}'::jsonb CHECK (jsonb_typeof(data) = 'object'),
    occurred_at  timestamptz NOT NULL DEFAULT statement_timestamp(),
    PRIMARY KEY (workspace_id, tx_id, position)
);
-- Retention (30 days) deletes by age; rows arrive in time order, so a BRIN index is enough and costs the import nothing.
CREATE INDEX feed_events_occurred_brin ON webhooks.feed_events USING brin (occurred_at);

CREATE FUNCTION webhooks.append_event(p_workspace uuid, p_type text, p_lead uuid, p_data jsonb) RETURNS void
LANGUAGE sql AS $$
    INSERT INTO webhooks.feed_events (workspace_id, id, type, lead_id, data) VALUES (p_workspace, leads.uuid_v7(), p_type, p_lead, p_data)
$$;

-- lead.created for every new lead, whichever path wrote it (API, webhook, import, a future one). Raw UUIDs in data:
-- the reader formats them as TypeIDs. The event's ID is the lead's own (a UUIDv7, like the timeline's synthesised
-- 'created' entry): no ID to generate per row, which keeps a 10,000-lead import chunk's trigger to one plain
-- INSERT … SELECT in the leads' insertion order.
CREATE FUNCTION webhooks.feed_leads_created() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO webhooks.feed_events (workspace_id, id, type, lead_id, data, occurred_at)
    SELECT n.workspace_id, n.id, 'lead.created', n.id,
           jsonb_build_object('channel', n.channel, 'sourceId', n.source_id, 'importId', n.import_id, 'score', n.created_score,
                              'status', n.status),
           n.created_at
    FROM new_rows n;
    RETURN NULL;
END $$;
CREATE TRIGGER leads_feed_created AFTER INSERT ON leads.leads
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION webhooks.feed_leads_created();

-- lead.deleted for leads deleted for good; a lead merged away leaves a tombstone (leads.merged_leads, written just
-- before its row goes) and is announced by the survivor's lead.merged instead.
CREATE FUNCTION webhooks.feed_leads_deleted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO webhooks.feed_events (workspace_id, id, type, lead_id)
    SELECT o.workspace_id, leads.uuid_v7(), 'lead.deleted', o.id
    FROM old_rows o
    WHERE NOT EXISTS (SELECT 1 FROM leads.merged_leads m WHERE m.id = o.id)
    ORDER BY o.id;
    RETURN NULL;
END $$;
CREATE TRIGGER leads_feed_deleted AFTER DELETE ON leads.leads
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION webhooks.feed_leads_deleted();

-- Timeline events become feed events: 'merged' → lead.merged, 'unmerged' → lead.unmerged, every other change of a
-- lead (status, notes, assignee, tags, fields, score, duplicate flag; and any type added later) → lead.updated with
-- the timeline type as data.change. 'created' rows are not changes (the lead row already announced the lead).
CREATE FUNCTION webhooks.feed_lead_events() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO webhooks.feed_events (workspace_id, id, type, lead_id, data, occurred_at)
    SELECT e.workspace_id, leads.uuid_v7(),
           CASE e.type WHEN 'merged' THEN 'lead.merged' WHEN 'unmerged' THEN 'lead.unmerged' ELSE 'lead.updated' END,
           e.lead_id,
           e.data || jsonb_build_object('change', e.type,
                                        'actor', jsonb_build_object('type', e.actor_type, 'id', e.actor_id, 'name', e.actor_name)),
           e.created_at
    FROM new_rows e
    WHERE e.type <> 'created'
    ORDER BY e.created_at, e.id;
    RETURN NULL;
END $$;
CREATE TRIGGER events_feed AFTER INSERT ON leads.events
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION webhooks.feed_lead_events();

-- Subscriptions. The signing secret is stored encrypted (AES-256-GCM, key from Webhooks:SecretKey or, when that is
-- not set, one generated into webhooks.keys); the API shows it only when it is created or rotated.
CREATE TABLE webhooks.subscriptions (
    id                uuid        PRIMARY KEY,
    workspace_id      uuid        NOT NULL,
    url               text        NOT NULL CHECK (char_length(url) <= 2000),
    events            text[]      NOT NULL,
    description       text        CHECK (char_length(description) <= 500),
    active            boolean     NOT NULL DEFAULT true,
    disabled_reason   text,
    secret            bytea       NOT NULL,
    -- Feed position delivered up to (batches are cut from here, in feed order).
    cursor_tx         bigint      NOT NULL,
    cursor_position   bigint      NOT NULL,
    -- Delivery scheduling: no job is started before next_attempt_at; claimed_until is the lease of the running job.
    next_attempt_at   timestamptz,
    claimed_until     timestamptz,
    created_at        timestamptz NOT NULL DEFAULT now(),
    updated_at        timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX subscriptions_ws_idx ON webhooks.subscriptions (workspace_id, created_at, id);
CREATE INDEX subscriptions_active_idx ON webhooks.subscriptions (id) WHERE active;

CREATE TABLE webhooks.deliveries (
    id              uuid        PRIMARY KEY,
    subscription_id uuid        NOT NULL REFERENCES webhooks.subscriptions (id) ON DELETE CASCADE,
    workspace_id    uuid        NOT NULL,
    kind            text        NOT NULL CHECK (kind IN ('batch', 'ping')),
    event_ids       uuid[]      NOT NULL,
    -- The feed range the batch was cut from (inclusive), so its events are re-read by primary key on every attempt.
    from_tx         bigint,
    from_position   bigint,
    to_tx           bigint,
    to_position     bigint,
    status          text        NOT NULL CHECK (status IN ('pending', 'succeeded', 'failed')),
    attempts        int         NOT NULL DEFAULT 0,
    last_status_code int,
    last_error      text,
    next_attempt_at timestamptz,
    first_failed_at timestamptz,
    created_at      timestamptz NOT NULL DEFAULT clock_timestamp(),
    delivered_at    timestamptz
);
CREATE INDEX deliveries_sub_idx ON webhooks.deliveries (subscription_id, created_at DESC, id DESC);
CREATE INDEX deliveries_pending_idx ON webhooks.deliveries (subscription_id, created_at, id) WHERE status = 'pending';
CREATE INDEX deliveries_created_brin ON webhooks.deliveries USING brin (created_at);

CREATE TABLE webhooks.keys (
    id         int         PRIMARY KEY CHECK (id = 1),
    key        bytea       NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);
