-- Fallback seed for the export benchmark, used only when the read-path bench's bench/seed-leads.sql is absent.
-- Seeds N leads (default 1,000,000) into one existing, empty workspace, set-based:
--
--   psql -h 127.0.0.1 -p <port> -U postgres -d leads -v workspace=bench -v n=1000000 -f bench/export/seed-leads.sql
--
-- Adds 10 members and 5 sources, then inserts the leads in chunks of 100,000 rows (one INSERT … SELECT … FROM
-- generate_series each, its own transaction). Deterministic: every choice is a hash of the row number. IDs are
-- UUIDv7 built from each row's created_at, so id order = created_at order, as for leads the API creates.

\set ON_ERROR_STOP on
\if :{?workspace}
\else
\set workspace bench
\endif
\if :{?n}
\else
\set n 1000000
\endif

SET client_min_messages = warning;
SET jit = off;

CREATE FUNCTION pg_temp.r(i bigint, k bigint) RETURNS double precision LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT ((hashint8extended(i, k) >> 11) & 9007199254740991)::double precision / 9007199254740992.0
$$;

CREATE FUNCTION pg_temp.uuid_v7_at(ts timestamptz, i bigint) RETURNS uuid LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT (lpad(to_hex(floor(extract(epoch FROM ts) * 1000)::bigint), 12, '0') || '7' || substr(h, 14, 3)
            || to_hex(8 + (('x' || substr(h, 17, 1))::bit(4)::int & 3)) || substr(h, 18))::uuid
    FROM (SELECT md5('lead-' || i) AS h) x
$$;

CREATE TEMP TABLE seed AS
SELECT w.id AS ws, :'n'::bigint AS n, date_trunc('second', now()) - interval '2 years' AS t0,
       extract(epoch FROM interval '2 years')::float8 AS span_s,
       ARRAY['James','Mary','John','Patricia','Robert','Jennifer','Michael','Linda','Chidi','Eleanor','Tahani','Jason',
             'Priya','Arjun','Mei','Hiroshi','Sofia','Mateo','Amara','Fatima','Omar','Ingrid','Zoe','Noah']::text[] AS firsts,
       ARRAY['Smith','Johnson','Garcia','Miller','Davis','Rodriguez','Martinez','Lee','Nguyen','Okafor','Anagonye',
             'Shellstrop','Al-Jamil','Mendoza','Patel','Kim','Tanaka','Schmidt','Rossi','O''Brien','Chen','Khan']::text[] AS lasts,
       ARRAY['Acme Corp','Globex','Initech','Hooli','Stark Industries','Wayne Enterprises','Vandelay Industries',
             'Pied Piper','Northwind Traders','Contoso','Fabrikam','Johnson & Partners','Smith, Jones and Co']::text[] AS companies,
       ARRAY['gmail.com','yahoo.com','outlook.com','acme.com','globex.com','initech.io','hooli.com']::text[] AS domains
FROM access.workspaces w WHERE w.name = :'workspace';

SELECT count(*) = 1 AS ws_ok FROM seed \gset
\if :ws_ok
\else
\echo 'workspace' :'workspace' 'does not exist: create a key for it first'
\quit 3
\endif
SELECT NOT EXISTS (SELECT 1 FROM leads.leads l JOIN seed s ON l.workspace_id = s.ws) AS empty \gset
\if :empty
\else
\echo 'workspace' :'workspace' 'already has leads'
\quit 4
\endif

INSERT INTO access.members (id, workspace_id, name, email, role)
SELECT gen_random_uuid(), s.ws, m.name, lower(replace(m.name, ' ', '.')) || '@bench.example', 'member'
FROM seed s CROSS JOIN unnest(ARRAY['Chidi Anagonye','Eleanor Shellstrop','Tahani Al-Jamil','Jason Mendoza','Janet Della-Denunzio',
                                    'Michael Realman','Simone Garnett','Derek Hofstetler','Mindy St. Claire','Trevor Bad']) AS m(name);

INSERT INTO leads.sources (id, workspace_id, name, webhook_token, created_by)
SELECT gen_random_uuid(), s.ws, src.name, 'bench_' || md5(s.ws::text || src.name),
       (SELECT id FROM access.members WHERE workspace_id = s.ws ORDER BY created_at, id LIMIT 1)
FROM seed s CROSS JOIN unnest(ARRAY['Website Form','Google Ads','LinkedIn','Trade Show','Partner Referral']) AS src(name);

CREATE TEMP TABLE refs AS
SELECT (SELECT array_agg(id ORDER BY name) FROM access.members m WHERE m.workspace_id = s.ws AND m.email LIKE '%@bench.example') AS members,
       (SELECT array_agg(id ORDER BY name) FROM leads.sources x WHERE x.workspace_id = s.ws) AS sources
FROM seed s;

CREATE FUNCTION pg_temp.seed_chunk(lo bigint, hi bigint) RETURNS void LANGUAGE sql AS $$
    INSERT INTO leads.leads (id, workspace_id, email, first_name, last_name, phone, company, email_norm, phone_e164,
                             status, score, source_id, assigned_to, channel, created_actor_type, created_actor_name,
                             created_score, created_at, updated_at)
    SELECT pg_temp.uuid_v7_at(x.created_at, x.i), x.ws, x.email, x.first_name, x.last_name, x.phone, x.company,
           lower(x.email), CASE WHEN x.phone IS NOT NULL THEN '+1' || x.digits END, x.status, x.score, x.source_id,
           x.assigned_to, 'import', 'import', 'bench seed', x.score, x.created_at, x.created_at
    FROM (
        SELECT g.i, s.ws,
               s.t0 + ((g.i - 1 + 0.9 * pg_temp.r(g.i, 0)) / s.n * s.span_s) * interval '1 second' AS created_at,
               s.firsts[1 + floor(pg_temp.r(g.i, 1) * cardinality(s.firsts))::int] AS first_name,
               s.lasts[1 + floor(pg_temp.r(g.i, 2) * cardinality(s.lasts))::int] AS last_name,
               'lead' || g.i || '@' || s.domains[1 + floor(pg_temp.r(g.i, 3) * cardinality(s.domains))::int] AS email,
               CASE WHEN pg_temp.r(g.i, 4) < 0.6 THEN s.companies[1 + floor(pg_temp.r(g.i, 5) * cardinality(s.companies))::int] END AS company,
               d.digits,
               -- 70% have a phone: E.164, or formatted like a person would type it.
               CASE WHEN pg_temp.r(g.i, 6) >= 0.7 THEN NULL
                    WHEN pg_temp.r(g.i, 7) < 0.6 THEN '+1' || d.digits
                    ELSE '(' || substr(d.digits, 1, 3) || ') ' || substr(d.digits, 4, 3) || '-' || substr(d.digits, 7) END AS phone,
               (ARRAY['new','new','new','contacted','contacted','qualified','qualified','converted','closed'])[1 + floor(pg_temp.r(g.i, 8) * 9)::int] AS status,
               (5 + floor(pg_temp.r(g.i, 9) * 95))::smallint AS score,
               CASE WHEN pg_temp.r(g.i, 10) < 0.8 THEN f.sources[1 + floor(pg_temp.r(g.i, 11) * cardinality(f.sources))::int] END AS source_id,
               CASE WHEN pg_temp.r(g.i, 12) < 0.6 THEN f.members[1 + floor(pg_temp.r(g.i, 13) * cardinality(f.members))::int] END AS assigned_to
        FROM generate_series(lo, hi) AS g(i)
        CROSS JOIN seed s CROSS JOIN refs f
        CROSS JOIN LATERAL (SELECT (200 + floor(pg_temp.r(g.i, 14) * 800))::int::text
                                   || (200 + floor(pg_temp.r(g.i, 15) * 800))::int::text
                                   || lpad(floor(pg_temp.r(g.i, 16) * 10000)::int::text, 4, '0') AS digits) d
    ) x
    ORDER BY x.i
$$;

\echo 'seeding' :n 'leads into workspace' :workspace
\timing on
SELECT format('SELECT pg_temp.seed_chunk(%s, %s)', lo, least(lo + 99999, :'n'::bigint))
FROM generate_series(1, :'n'::bigint, 100000) AS lo
\gexec
\timing off
