-- An Idempotency-Key still in flight was re-claimable 10 minutes after it was claimed, even while its first request
-- (a long upload) was still running, so the same import could start twice. The running request now beats every
-- minute (heartbeat_at); only a claim whose beat has stopped for 10 minutes — its process died — gives way.
ALTER TABLE access.idempotency_requests ADD COLUMN heartbeat_at timestamptz NOT NULL DEFAULT now();
