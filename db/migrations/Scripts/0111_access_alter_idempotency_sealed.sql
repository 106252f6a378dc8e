-- An idempotency record of a POST whose answer shows a secret once (a webhook subscription's signing secret) keeps
-- that answer sealed (AES-256-GCM under the key the subscriptions' secrets are stored under), never in plaintext.
ALTER TABLE access.idempotency_requests ADD COLUMN response_sealed boolean NOT NULL DEFAULT false;
