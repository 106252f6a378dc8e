-- What an export has to handle beyond the read-path seed: tags (joined per lead), duplicate flags, and a few
-- formula-like cells. Runs after either seed, once per workspace (a no-op when the workspace already has tags).
--
--   psql … -v workspace=bench -f bench/export/seed-extras.sql
--
-- ~35% of leads get one tag and ~10% a second one; ~2% are flagged as duplicates of the lead created just before
-- them; ~0.5% have a company starting with '@' (neutralised on export). Deterministic (hashes of the lead ID).

\set ON_ERROR_STOP on
\if :{?workspace}
\else
\set workspace bench
\endif
SET client_min_messages = warning;
SET jit = off;

SELECT id AS ws FROM access.workspaces WHERE name = :'workspace' \gset
SELECT EXISTS (SELECT 1 FROM tags.tags WHERE workspace_id = :'ws') AS done \gset
\if :done
\echo 'extras already seeded'
\quit
\endif

CREATE FUNCTION pg_temp.h(id uuid, k bigint) RETURNS double precision LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT ((hashtextextended(id::text, k) >> 11) & 9007199254740991)::double precision / 9007199254740992.0
$$;

\timing on
INSERT INTO tags.tags (id, workspace_id, name)
SELECT gen_random_uuid(), :'ws', t FROM unnest(ARRAY['hot-lead','webinar-2026','VIP','newsletter','partner','Q3 campaign','trade-show','follow-up']) AS t;

CREATE TEMP TABLE bench_tags AS SELECT array_agg(id ORDER BY name) AS ids FROM tags.tags WHERE workspace_id = :'ws';

INSERT INTO tags.lead_tags (lead_id, tag_id, workspace_id)
SELECT DISTINCT l.id, b.ids[1 + floor(pg_temp.h(l.id, k) * 8)::int], l.workspace_id
FROM leads.leads l CROSS JOIN bench_tags b CROSS JOIN (VALUES (1), (2)) AS n(k)
WHERE l.workspace_id = :'ws' AND pg_temp.h(l.id, 100 + n.k) < CASE n.k WHEN 1 THEN 0.35 ELSE 0.10 END;

UPDATE leads.leads l SET duplicate_of = x.prev
FROM (SELECT id, lag(id) OVER (ORDER BY created_at, id) AS prev FROM leads.leads WHERE workspace_id = :'ws') x
WHERE l.id = x.id AND x.prev IS NOT NULL AND pg_temp.h(l.id, 7) < 0.02;

-- The groups' truth (the Duplicates module's table) matching the flag copy just set.
INSERT INTO duplicates.group_members (lead_id, workspace_id, primary_id, matched_on)
SELECT id, workspace_id, duplicate_of, ARRAY['email'] FROM leads.leads WHERE workspace_id = :'ws' AND duplicate_of IS NOT NULL
ON CONFLICT (lead_id) DO UPDATE SET primary_id = EXCLUDED.primary_id, matched_on = EXCLUDED.matched_on;

UPDATE leads.leads SET company = '@' || coalesce(company, 'Formula Inc')
WHERE workspace_id = :'ws' AND pg_temp.h(id, 8) < 0.005;

VACUUM ANALYZE leads.leads;
VACUUM ANALYZE tags.lead_tags;
ANALYZE tags.tags;
ANALYZE leads.lead_counts;
\timing off
