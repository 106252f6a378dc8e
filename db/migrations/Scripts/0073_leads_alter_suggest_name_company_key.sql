-- Spec §10 suggestions, issue #12 precision: the same-name probe of 0072 read at most 200 leads of a full name in index
-- order; at 1M leads a common full name has hundreds, so the real twin (created last) was often never read, and among
-- those read a "Globex Corp" could not be told from a "Globex LLC" without scoring them all.
--
-- leads.company_key(company): the company as a matching key — lower case, dots and apostrophes dropped ("S.A." → "sa",
-- "O'Brien" → "obrien"), every other run of characters that are not letters or digits (any script) one space, then a
-- leading "the" and trailing legal forms dropped, repeatedly ("Acme Corp., Inc." → "acme"). "Globex Corporation",
-- "GLOBEX CORP.", "Globex, Inc" and "The Globex Company" all become "globex". A company that is nothing but such words
-- keeps its last one ("Co." → "co"); a company with no letter or digit has no key (null). Generic words such as
-- "Group" or "Holdings" are kept: they often are the name ("Brightline Solar Group"), and pg_trgm still finds the pair.
-- PL/pgSQL, not an inlinable SQL expression: the suffix loop written as a regular expression cost ~10 times more per
-- row (a large alternation tried at every position), and this runs once per inserted lead with a name. STRICT: a lead
-- without a company (40% in the benchmark seed) costs no call at all.
CREATE FUNCTION leads.company_key(company text) RETURNS text
LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE AS $$
DECLARE
    w text[] := string_to_array(btrim(regexp_replace(translate(lower(company), '.''’', ''), '[^[:alnum:]]+', ' ', 'g')), ' ');
    lo int := 1;
    hi int := cardinality(w);
BEGIN
    IF hi IS NULL OR hi = 0 THEN RETURN NULL; END IF;
    IF w[1] = 'the' AND hi > 1 THEN lo := 2; END IF;
    WHILE hi > lo AND w[hi] = ANY ('{inc,incorporated,corp,corporation,co,company,cos,llc,llp,lp,pllc,ltd,limited,plc,gmbh,mbh,ag,kg,sa,sas,sarl,spa,srl,bv,nv,ab,as,asa,oy,oyj,pty,pvt,kk,gk,sl,se}'::text[]) LOOP
        hi := hi - 1;
    END LOOP;
    RETURN array_to_string(w[lo:hi], ' ');
END
$$;

-- Replaces 0072's leads_suggest_name_idx (workspace_id, lower(last_name), lower(first_name)): the same key with the company
-- key appended, so one B-tree serves both name probes — same name AND same company key (an equality range: every
-- exact twin is found however common the name), and same name alone (a bounded read ranked by pg_trgm similarity).
CREATE INDEX leads_suggest_name_company_idx
    ON leads.leads (workspace_id, lower(last_name), lower(first_name), leads.company_key(company))
    WHERE first_name IS NOT NULL AND last_name IS NOT NULL;
DROP INDEX leads.leads_suggest_name_idx;
