-- Webhook retention (TrimWebhooksJob, hourly) finds the feed events past the retention by occurred_at. 0090 gave it a
-- BRIN index on the grounds that rows arrive in time order — true until retention starts: vacuum then frees the oldest
-- pages and new events fill them, and a BRIN range's summary only ever widens, so every reused range keeps its oldest
-- minimum and matches "older than the cutoff" forever. Measured on the 1M-lead bench cluster (2.7 M feed events,
-- 1.4 GB): the retention's probe read all 132,580 heap blocks (lossy bitmap, 2,197,754 rows rechecked) to find one old
-- row — 0.8–2 s warm, 15 s cold per call, at least two calls an hour, and right after every start of a host that was
-- down at the hour. A B-tree reads only the old entries. Its cost per event is one entry at the right edge of the index
-- (occurred_at is the statement's time for every event but lead.created, whose is the lead's creation).
CREATE INDEX feed_events_occurred_idx ON webhooks.feed_events (occurred_at);
DROP INDEX webhooks.feed_events_occurred_brin;
