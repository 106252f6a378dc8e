-- Seeds N leads (default 1,000,000) into one workspace, set-based, for the read-path benchmark.
--
--   psql -h 127.0.0.1 -p <port> -U postgres -d leads -v workspace=bench -v n=1000000 -f bench/seed-leads.sql
--
-- The workspace must exist (`Leads.Host keys create --workspace bench …` creates it) and hold no leads yet.
-- Adds 10 members and 5 sources to it, then inserts the leads in chunks of :chunk rows (default 100,000),
-- one INSERT … SELECT … FROM generate_series per chunk, each its own transaction: the statement triggers turn
-- each chunk into one aggregate on leads.lead_counts. Ends with VACUUM ANALYZE (visibility map, statistics).
--
-- Deterministic: every random choice is a hash of the row number, so the same N gives the same data
-- (only created_at/ids move with the day the seed runs: they span the 2 years before it).
--
-- IDs are UUIDv7 built from each row's own created_at (48-bit Unix milliseconds, version 7, variant 10,
-- the rest from md5 of the row number), so id order = created_at order, as for leads the API creates.
-- leads.uuid_v7() cannot be used: it stamps the current clock.

\set ON_ERROR_STOP on
\if :{?workspace}
\else
\set workspace bench
\endif
\if :{?n}
\else
\set n 1000000
\endif
\if :{?chunk}
\else
\set chunk 100000
\endif

\timing off
SET client_min_messages = warning;
-- The generator's row estimates are meaningless; JIT compiling it costs seconds per chunk for nothing.
SET jit = off;

CREATE FUNCTION pg_temp.uuid_v7_from(ms bigint, h text) RETURNS uuid LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT (lpad(to_hex(ms), 12, '0') || '7' || substr(h, 14, 3)
            || to_hex(8 + (('x' || substr(h, 17, 1))::bit(4)::int & 3)) || substr(h, 18))::uuid
$$;

-- Uniform [0, 1) from (row, stream): deterministic, independent per stream.
CREATE FUNCTION pg_temp.r(i bigint, k bigint) RETURNS double precision LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT ((hashint8extended(i, k) >> 11) & 9007199254740991)::double precision / 9007199254740992.0
$$;

-- UUIDv7 for a given timestamp: 48-bit Unix ms, version nibble 7, RFC 4122 variant, the rest from md5('lead-' || i).
CREATE FUNCTION pg_temp.uuid_v7_at(ts timestamptz, i bigint) RETURNS uuid LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT pg_temp.uuid_v7_from(floor(extract(epoch FROM ts) * 1000)::bigint, md5('lead-' || i))
$$;

CREATE TEMP TABLE bench_params AS
SELECT w.id AS ws,
       :'n'::bigint AS n,
       date_trunc('second', now()) - interval '2 years' AS t0,
       extract(epoch FROM date_trunc('second', now()) - (date_trunc('second', now()) - interval '2 years'))::float8 AS span_s,
       ARRAY['James','Mary','John','Patricia','Robert','Jennifer','Michael','Linda','William','Elizabeth','David','Barbara',
             'Richard','Susan','Joseph','Jessica','Thomas','Sarah','Charles','Karen','Daniel','Nancy','Matthew','Lisa',
             'Anthony','Betty','Mark','Margaret','Donald','Sandra','Steven','Ashley','Paul','Kimberly','Andrew','Emily',
             'Joshua','Donna','Kenneth','Michelle','Kevin','Carol','Brian','Amanda','George','Melissa','Timothy','Deborah',
             'Chidi','Eleanor','Tahani','Jason','Priya','Arjun','Mei','Hiroshi','Sofia','Mateo','Lucas','Amara',
             'Fatima','Omar','Ingrid','Lars','Zoe','Noah','Olivia','Liam','Emma','Ava','Elena','Dmitri']::text[] AS first_names,
       ARRAY['Smith','Johnson','Williams','Brown','Jones','Garcia','Miller','Davis','Rodriguez','Martinez','Hernandez',
             'Lopez','Gonzalez','Wilson','Anderson','Thomas','Taylor','Moore','Jackson','Martin','Lee','Perez','Thompson',
             'White','Harris','Sanchez','Clark','Ramirez','Lewis','Robinson','Walker','Young','Allen','King','Wright',
             'Scott','Torres','Nguyen','Hill','Flores','Green','Adams','Nelson','Baker','Hall','Rivera','Campbell',
             'Mitchell','Carter','Roberts','Okafor','Anagonye','Shellstrop','Mendoza','Al-Jamil','Patel','Sharma','Kim',
             'Tanaka','Schmidt','Muller','Rossi','Dubois','Kowalski','Novak','Larsen','Johansson','Silva','Costa',
             'Ivanova','Mehta','Chen','Wang','Singh','Khan','Murphy','O''Brien','Fischer','Weber','Becker']::text[] AS last_names,
       -- {display name, domain}
       ARRAY[['Acme Corp','acme.com'],['Globex','globex.com'],['Initech','initech.io'],['Umbrella Health','umbrellahealth.com'],
             ['Hooli','hooli.com'],['Stark Industries','stark.com'],['Wayne Enterprises','wayne-ent.com'],
             ['Wonka Foods','wonka.co'],['Soylent','soylent.com'],['Vandelay Industries','vandelay.com'],
             ['Pied Piper','piedpiper.com'],['Cyberdyne Systems','cyberdyne.ai'],['Tyrell Corp','tyrell.com'],
             ['Massive Dynamic','massivedynamic.com'],['Aperture Labs','aperture.dev'],['Northwind Traders','northwind.com'],
             ['Contoso','contoso.com'],['Fabrikam','fabrikam.com'],['Adventure Works','adventure-works.com'],
             ['Tailspin Toys','tailspin.io'],['Blue Yonder Airlines','blueyonder.aero'],['Litware','litware.com'],
             ['Proseware','proseware.net'],['Woodgrove Bank','woodgrove.bank'],['Lucerne Publishing','lucerne.pub'],
             ['Garcia Logistics','garcia-logistics.com'],['Johnson & Partners','johnsonpartners.com'],
             ['Miller Construction','millerbuild.com'],['Nguyen Dental','nguyendental.com'],['Patel Pharmacy','patelrx.com'],
             ['Kim Design Studio','kimdesign.studio'],['Rossi Imports','rossi-imports.it'],['Schmidt GmbH','schmidt.de'],
             ['Larsen Marine','larsenmarine.no'],['Silva Coffee','silvacoffee.br'],['Brightline Solar','brightline.energy'],
             ['Summit Analytics','summitanalytics.io'],['Evergreen Realty','evergreenrealty.com'],
             ['Redwood Capital','redwoodcap.com'],['Harbor Freight Co','harborfreight.co'],['Maple Software','maplesoft.ca'],
             ['Orbit Telecom','orbit-tel.com'],['Quantum Labs','quantumlabs.ai'],['Falcon Security','falconsec.com'],
             ['Pinnacle Insurance','pinnacle-ins.com'],['Cobalt Robotics','cobalt.ro'],['Sterling Legal','sterling.law'],
             ['Atlas Shipping','atlasship.com'],['Nimbus Cloud','nimbus.cloud'],['Helix Biotech','helixbio.com']]::text[] AS companies,
       ARRAY['Inc','LLC','Ltd','Group','','','','']::text[] AS company_suffixes,
       ARRAY['gmail.com','yahoo.com','outlook.com','hotmail.com','icloud.com','proton.me','aol.com','gmx.de']::text[] AS free_domains
FROM access.workspaces w
WHERE w.name = :'workspace';

SELECT CASE WHEN count(*) = 1 THEN 'ok' ELSE 'workspace ' || :'workspace' || ' does not exist: create a key for it first' END AS check
FROM bench_params \gset
SELECT (:'check' = 'ok') AS ws_ok \gset
\if :ws_ok
\else
\echo :check
\quit 3
\endif

SELECT NOT EXISTS (SELECT 1 FROM leads.leads l JOIN bench_params p ON l.workspace_id = p.ws) AS empty \gset
\if :empty
\else
\echo 'workspace' :'workspace' 'already has leads: seed a fresh database instead (list-bench.sh --reseed)'
\quit 4
\endif

ANALYZE bench_params;

-- 10 sales reps (role member); leads are assigned to them.
INSERT INTO access.members (id, workspace_id, name, email, role, created_at)
SELECT pg_temp.uuid_v7_at(p.t0 - interval '1 day' + m.k * interval '1 minute', -m.k), p.ws, m.name,
       lower(replace(m.name, ' ', '.')) || '@bench.example', 'member', p.t0 - interval '1 day' + m.k * interval '1 minute'
FROM bench_params p
CROSS JOIN unnest(ARRAY['Chidi Anagonye','Eleanor Shellstrop','Tahani Al-Jamil','Jason Mendoza','Janet Della-Denunzio',
                        'Michael Realman','Simone Garnett','Derek Hofstetler','Mindy St. Claire','Trevor Bad']) WITH ORDINALITY AS m(name, k)
ON CONFLICT DO NOTHING;

-- 5 sources, created by the workspace's first member.
INSERT INTO leads.sources (id, workspace_id, name, webhook_token, created_by, created_at, updated_at)
SELECT pg_temp.uuid_v7_at(p.t0 - interval '1 day' + s.k * interval '1 second', -100 - s.k), p.ws, s.name,
       'bench_' || md5(p.ws::text || s.name), (SELECT m.id FROM access.members m WHERE m.workspace_id = p.ws ORDER BY m.created_at, m.id LIMIT 1),
       p.t0 - interval '1 day' + s.k * interval '1 second', p.t0 - interval '1 day' + s.k * interval '1 second'
FROM bench_params p
CROSS JOIN unnest(ARRAY['Website Form','Google Ads','LinkedIn','Trade Show','Partner Referral']) WITH ORDINALITY AS s(name, k)
ON CONFLICT DO NOTHING;

CREATE TEMP TABLE bench_refs AS
SELECT (SELECT array_agg(id ORDER BY created_at) FROM access.members m
        WHERE m.workspace_id = p.ws AND m.email LIKE '%@bench.example') AS members,
       (SELECT array_agg(id ORDER BY created_at) FROM leads.sources s
        WHERE s.workspace_id = p.ws AND s.webhook_token LIKE 'bench\_%') AS sources
FROM bench_params p;
ANALYZE bench_refs;

-- Rows lo..hi. Row i is created at t0 + (i - 1 + jitter) / n * span, so row order = time order.
CREATE FUNCTION pg_temp.seed_chunk(lo bigint, hi bigint) RETURNS bigint LANGUAGE sql AS $$
    WITH ins AS (
    INSERT INTO leads.leads (id, workspace_id, email, first_name, last_name, phone, company, email_norm, phone_e164,
                             status, score, source_id, assigned_to, metadata, channel, created_actor_type,
                             created_actor_name, created_score, created_at, updated_at)
    SELECT pg_temp.uuid_v7_at(x.created_at, x.i), x.ws, x.email, x.first_name, x.last_name, x.phone, x.company,
           x.email, x.phone_e164, x.status, x.score, x.source_id, x.assigned_to, '{}'::jsonb, 'import', 'import',
           'bench seed', x.score, x.created_at, x.created_at
    FROM (
        SELECT y.*,
               lower(regexp_replace(y.first_name, '[^A-Za-z]', '', 'g')) || '.' ||
               lower(regexp_replace(y.last_name, '[^A-Za-z]', '', 'g')) || y.i || '@' || y.domain AS email,
               least(100, 5 + CASE WHEN y.business THEN 25 ELSE 10 END + CASE WHEN y.phone IS NOT NULL THEN 20 ELSE 0 END
                     + CASE WHEN y.company IS NOT NULL THEN 15 ELSE 0 END + CASE WHEN y.source_id IS NOT NULL THEN 10 ELSE 0 END
                     + floor(pg_temp.r(y.i, 12) * 26)::int)::smallint AS score
        FROM (
            SELECT g.i, p.ws,
                   p.t0 + ((g.i - 1 + 0.9 * pg_temp.r(g.i, 0)) / p.n * p.span_s) * interval '1 second' AS created_at,
                   p.first_names[1 + floor(pg_temp.r(g.i, 1) * cardinality(p.first_names))::int] AS first_name,
                   -- Mildly skewed surnames: the most common ~3%, the rarest well under 1%.
                   p.last_names[1 + floor(power(pg_temp.r(g.i, 2), 1.4) * cardinality(p.last_names))::int] AS last_name,
                   co.company,
                   co.company IS NOT NULL AND pg_temp.r(g.i, 4) < 0.7 AS business,
                   CASE WHEN co.company IS NOT NULL AND pg_temp.r(g.i, 4) < 0.7 THEN co.domain
                        ELSE p.free_domains[1 + floor(pg_temp.r(g.i, 5) * cardinality(p.free_domains))::int] END AS domain,
                   ph.phone, ph.phone_e164,
                   CASE WHEN pg_temp.r(g.i, 7) < 0.45 THEN 'new' WHEN pg_temp.r(g.i, 7) < 0.65 THEN 'contacted'
                        WHEN pg_temp.r(g.i, 7) < 0.85 THEN 'qualified' WHEN pg_temp.r(g.i, 7) < 0.95 THEN 'converted'
                        ELSE 'closed' END AS status,
                   -- 60% assigned, unevenly across the 10 reps; 40% unassigned.
                   CASE WHEN pg_temp.r(g.i, 8) < 0.6
                        THEN f.members[1 + floor(power(pg_temp.r(g.i, 9), 1.3) * cardinality(f.members))::int] END AS assigned_to,
                   -- 80% from one of the 5 sources, the first ones busiest.
                   CASE WHEN pg_temp.r(g.i, 10) < 0.8
                        THEN f.sources[1 + floor(power(pg_temp.r(g.i, 11), 1.5) * cardinality(f.sources))::int] END AS source_id
            FROM generate_series(lo, hi) AS g(i)
            CROSS JOIN bench_params p
            CROSS JOIN bench_refs f
            CROSS JOIN LATERAL (
                SELECT CASE WHEN pg_temp.r(g.i, 3) < 0.6 THEN
                           p.companies[1 + floor(pg_temp.r(g.i, 13) * array_length(p.companies, 1))::int][1] ||
                           coalesce(nullif(' ' || p.company_suffixes[1 + floor(pg_temp.r(g.i, 14) * cardinality(p.company_suffixes))::int], ' '), '')
                       END AS company,
                       p.companies[1 + floor(pg_temp.r(g.i, 13) * array_length(p.companies, 1))::int][2] AS domain
            ) co
            CROSS JOIN LATERAL (
                -- 70% have a phone: mostly E.164 US numbers, some formatted US, some UK.
                SELECT CASE WHEN pg_temp.r(g.i, 6) >= 0.7 THEN NULL
                            WHEN pg_temp.r(g.i, 15) < 0.6 THEN '+1' || d.area || d.exch || d.line
                            WHEN pg_temp.r(g.i, 15) < 0.85 THEN '(' || d.area || ') ' || d.exch || '-' || d.line
                            ELSE '+44 20 ' || d.exch || '1 ' || d.line END AS phone,
                       CASE WHEN pg_temp.r(g.i, 6) >= 0.7 THEN NULL
                            WHEN pg_temp.r(g.i, 15) < 0.85 THEN '+1' || d.area || d.exch || d.line
                            ELSE '+4420' || d.exch || '1' || d.line END AS phone_e164
                FROM (SELECT (200 + floor(pg_temp.r(g.i, 16) * 800))::int::text AS area,
                             (200 + floor(pg_temp.r(g.i, 17) * 800))::int::text AS exch,
                             lpad(floor(pg_temp.r(g.i, 18) * 10000)::int::text, 4, '0') AS line) d
            ) ph
        ) y
    ) x
    ORDER BY x.i
    RETURNING 1
    )
    SELECT count(*) FROM ins
$$;

\echo 'seeding' :n 'leads into workspace' :workspace 'in chunks of' :chunk
\timing on
SELECT format('SELECT pg_temp.seed_chunk(%s, %s) AS inserted', lo, least(lo + :'chunk'::bigint - 1, :'n'::bigint))
FROM generate_series(1, :'n'::bigint, :'chunk'::bigint) AS lo
\gexec

VACUUM ANALYZE leads.leads;
ANALYZE leads.lead_counts;
ANALYZE leads.sources;
ANALYZE access.members;
\timing off

SELECT count(*) AS leads, sum((status = 'new')::int) AS new, sum((assigned_to IS NULL)::int) AS unassigned,
       sum((source_id IS NULL)::int) AS no_source, sum((phone IS NULL)::int) AS no_phone,
       sum((company IS NULL)::int) AS no_company, min(created_at) AS first, max(created_at) AS last
FROM leads.leads l JOIN bench_params p ON l.workspace_id = p.ws;
