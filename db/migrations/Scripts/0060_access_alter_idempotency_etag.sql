-- A replayed answer carries the same ETag as the first (spec §9: every write response on a lead carries one).
ALTER TABLE access.idempotency_requests ADD COLUMN etag text;
