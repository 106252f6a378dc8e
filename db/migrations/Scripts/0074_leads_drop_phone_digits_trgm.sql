-- The phone-digits trigram index goes (issue #13): search_text already ends with the same digits (regexp_replace of the
-- phone, as phone_digits), so a search that looks like a phone number is answered from the search_text trigram index —
-- `search_text LIKE '%digits%' AND phone_digits LIKE '%digits%'`, the first part indexed, the second the exact test —
-- with the same matches (phone_digits LIKE p implies search_text LIKE p). One GIN index fewer to maintain for every
-- insert, import row, edit, merge and bulk-action row: a GIN entry per trigram of the phone's ~10 digits, on random
-- pages. The phone_digits column stays (suggestions key on its last ten digits).
DROP INDEX leads.leads_phone_digits_trgm_idx;
