CREATE EXTENSION IF NOT EXISTS pg_trgm;

CREATE TABLE leads.sources (
    id             uuid        PRIMARY KEY,
    workspace_id   uuid        NOT NULL,
    name           text        NOT NULL CHECK (char_length(name) BETWEEN 1 AND 255),
    webhook_token  text        NOT NULL,
    field_mappings jsonb       NOT NULL DEFAULT '{}'::jsonb CHECK (jsonb_typeof(field_mappings) = 'object'),
    created_by     uuid        NOT NULL,
    created_at     timestamptz NOT NULL DEFAULT now(),
    updated_at     timestamptz NOT NULL DEFAULT now(),
    -- Soft delete: leads keep pointing at a deleted source and show it as deleted.
    deleted_at     timestamptz,
    CONSTRAINT sources_webhook_token_key UNIQUE (webhook_token)
);
CREATE INDEX sources_workspace_idx ON leads.sources (workspace_id, created_at) WHERE deleted_at IS NULL;

CREATE TABLE leads.leads (
    id                   uuid        PRIMARY KEY,
    workspace_id         uuid        NOT NULL,
    email                text        CHECK (char_length(email) <= 254),
    first_name           text        CHECK (char_length(first_name) <= 100),
    last_name            text        CHECK (char_length(last_name) <= 100),
    phone                text        CHECK (char_length(phone) <= 40),
    company              text        CHECK (char_length(company) <= 200),
    -- Match keys: trimmed lower-case email; E.164 phone parsed with the workspace's default region.
    email_norm           text,
    phone_e164           text,
    status               text        NOT NULL DEFAULT 'new' CHECK (status IN ('new', 'contacted', 'qualified', 'converted', 'closed')),
    score                smallint    NOT NULL DEFAULT 0 CHECK (score BETWEEN 0 AND 100),
    source_id            uuid        REFERENCES leads.sources (id),
    assigned_to          uuid,
    notes                text        CHECK (char_length(notes) <= 10000),
    metadata             jsonb       NOT NULL DEFAULT '{}'::jsonb CHECK (jsonb_typeof(metadata) = 'object'),
    channel              text        NOT NULL CHECK (channel IN ('api', 'webhook', 'import')),
    import_id            uuid,
    -- Who created the lead: the synthesised 'created' timeline entry reads these (bulk imports write no event rows).
    created_actor_type   text        NOT NULL,
    created_actor_id     text,
    created_actor_name   text,
    created_score        smallint    NOT NULL DEFAULT 0,
    -- Duplicate group link, written only through the Duplicates module's use of Leads.Public.
    duplicate_of         uuid,
    duplicate_matched_on text[],
    created_at           timestamptz NOT NULL DEFAULT now(),
    updated_at           timestamptz NOT NULL DEFAULT now(),
    phone_digits         text GENERATED ALWAYS AS (regexp_replace(coalesce(phone, ''), '[^0-9]', '', 'g')) STORED,
    -- One lower-cased haystack for `search`: "first last" keeps the full name searchable; U+001F separates
    -- fields so a query cannot match across two of them.
    search_text          text GENERATED ALWAYS AS (lower(
                             coalesce(first_name, '') || ' ' || coalesce(last_name, '') || chr(31) ||
                             coalesce(email, '') || chr(31) || coalesce(company, '') || chr(31) ||
                             regexp_replace(coalesce(phone, ''), '[^0-9]', '', 'g'))) STORED
);

-- Newest-first lists, alone and with each equality filter, at 1M leads per workspace.
CREATE INDEX leads_ws_created_idx ON leads.leads (workspace_id, created_at DESC, id DESC);
CREATE INDEX leads_ws_status_created_idx ON leads.leads (workspace_id, status, created_at DESC, id DESC);
CREATE INDEX leads_ws_assigned_created_idx ON leads.leads (workspace_id, assigned_to, created_at DESC, id DESC);
CREATE INDEX leads_ws_source_created_idx ON leads.leads (workspace_id, source_id, created_at DESC, id DESC) WHERE source_id IS NOT NULL;
CREATE INDEX leads_ws_duplicate_created_idx ON leads.leads (workspace_id, created_at DESC, id DESC) WHERE duplicate_of IS NOT NULL;
CREATE INDEX leads_search_trgm_idx ON leads.leads USING gin (search_text gin_trgm_ops);
CREATE INDEX leads_phone_digits_trgm_idx ON leads.leads USING gin (phone_digits gin_trgm_ops);
-- Duplicate detection looks up match keys within a workspace.
CREATE INDEX leads_ws_email_norm_idx ON leads.leads (workspace_id, email_norm) WHERE email_norm IS NOT NULL;
CREATE INDEX leads_ws_phone_e164_idx ON leads.leads (workspace_id, phone_e164) WHERE phone_e164 IS NOT NULL;
CREATE INDEX leads_duplicate_of_idx ON leads.leads (duplicate_of) WHERE duplicate_of IS NOT NULL;

-- Leads merged away: the ID keeps answering 404 lead_merged with mergedIntoId.
CREATE TABLE leads.merged_leads (
    id           uuid        PRIMARY KEY,
    workspace_id uuid        NOT NULL,
    merged_into  uuid        NOT NULL,
    merged_at    timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX merged_leads_into_idx ON leads.merged_leads (merged_into);

CREATE TABLE leads.events (
    id           uuid        PRIMARY KEY,
    workspace_id uuid        NOT NULL,
    lead_id      uuid        NOT NULL REFERENCES leads.leads (id) ON DELETE CASCADE,
    type         text        NOT NULL,
    data         jsonb       NOT NULL DEFAULT '{}'::jsonb,
    actor_type   text        NOT NULL CHECK (actor_type IN ('api_key', 'webhook', 'import', 'system')),
    actor_id     text,
    actor_name   text,
    created_at   timestamptz NOT NULL DEFAULT clock_timestamp()
);
CREATE INDEX events_lead_created_idx ON leads.events (lead_id, created_at DESC, id DESC);

-- Exact totals without counting a million rows: one counter per combination of the list's equality
-- dimensions, maintained in the same transaction as every write by statement-level triggers. Any list or
-- stats request filtered only on these dimensions sums a few hundred rows at most.
CREATE TABLE leads.lead_counts (
    workspace_id uuid    NOT NULL,
    status       text    NOT NULL,
    assigned_to  uuid    NOT NULL,  -- 00000000-… for unassigned
    source_id    uuid    NOT NULL,  -- 00000000-… for no source
    is_duplicate boolean NOT NULL,
    n            bigint  NOT NULL,
    PRIMARY KEY (workspace_id, status, assigned_to, source_id, is_duplicate)
);

CREATE FUNCTION leads.apply_lead_count_deltas() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    -- Net deltas only: an update that changes no counted dimension touches no counter row (no lock).
    -- Rows are upserted in key order so concurrent writers cannot deadlock on counter rows.
    IF TG_OP = 'INSERT' THEN
        INSERT INTO leads.lead_counts AS c (workspace_id, status, assigned_to, source_id, is_duplicate, n)
        SELECT workspace_id, status, coalesce(assigned_to, '00000000-0000-0000-0000-000000000000'),
               coalesce(source_id, '00000000-0000-0000-0000-000000000000'), duplicate_of IS NOT NULL, count(*)
        FROM new_rows GROUP BY 1, 2, 3, 4, 5 ORDER BY 1, 2, 3, 4, 5
        ON CONFLICT (workspace_id, status, assigned_to, source_id, is_duplicate) DO UPDATE SET n = c.n + EXCLUDED.n;
    ELSIF TG_OP = 'DELETE' THEN
        INSERT INTO leads.lead_counts AS c (workspace_id, status, assigned_to, source_id, is_duplicate, n)
        SELECT workspace_id, status, coalesce(assigned_to, '00000000-0000-0000-0000-000000000000'),
               coalesce(source_id, '00000000-0000-0000-0000-000000000000'), duplicate_of IS NOT NULL, -count(*)
        FROM old_rows GROUP BY 1, 2, 3, 4, 5 ORDER BY 1, 2, 3, 4, 5
        ON CONFLICT (workspace_id, status, assigned_to, source_id, is_duplicate) DO UPDATE SET n = c.n + EXCLUDED.n;
    ELSE
        INSERT INTO leads.lead_counts AS c (workspace_id, status, assigned_to, source_id, is_duplicate, n)
        SELECT workspace_id, status, assigned_to, source_id, is_duplicate, sum(d)
        FROM (
            SELECT workspace_id, status, coalesce(assigned_to, '00000000-0000-0000-0000-000000000000') AS assigned_to,
                   coalesce(source_id, '00000000-0000-0000-0000-000000000000') AS source_id, duplicate_of IS NOT NULL AS is_duplicate, 1 AS d
            FROM new_rows
            UNION ALL
            SELECT workspace_id, status, coalesce(assigned_to, '00000000-0000-0000-0000-000000000000'),
                   coalesce(source_id, '00000000-0000-0000-0000-000000000000'), duplicate_of IS NOT NULL, -1
            FROM old_rows
        ) d
        GROUP BY 1, 2, 3, 4, 5 HAVING sum(d) <> 0 ORDER BY 1, 2, 3, 4, 5
        ON CONFLICT (workspace_id, status, assigned_to, source_id, is_duplicate) DO UPDATE SET n = c.n + EXCLUDED.n;
    END IF;
    RETURN NULL;
END $$;

CREATE TRIGGER leads_count_insert AFTER INSERT ON leads.leads
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION leads.apply_lead_count_deltas();
CREATE TRIGGER leads_count_update AFTER UPDATE ON leads.leads
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION leads.apply_lead_count_deltas();
CREATE TRIGGER leads_count_delete AFTER DELETE ON leads.leads
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION leads.apply_lead_count_deltas();

-- Published read model for other modules (Tags, Duplicates, Import).
CREATE VIEW leads.v_leads AS
SELECT id, workspace_id, email_norm, phone_e164, duplicate_of, created_at
FROM leads.leads;
