-- An upload used to be written in one transaction that stayed open for as long as the client took to send the file, so
-- a trickling client held a pooled connection (and a snapshot) for hours. Each 1 MiB piece now commits on its own while
-- the import is 'uploading' (hidden from the API); the last piece turns it 'queued'. An upload whose client went
-- away stops being touched (updated_at) and is deleted, pieces and all, by the sweep (Import:AbandonedUploadAfter).
ALTER TABLE import.imports DROP CONSTRAINT imports_status_check;
ALTER TABLE import.imports ADD CONSTRAINT imports_status_check CHECK (status IN ('uploading', 'queued', 'running', 'completed', 'failed'));
CREATE INDEX imports_uploading_idx ON import.imports (updated_at) WHERE status = 'uploading';
