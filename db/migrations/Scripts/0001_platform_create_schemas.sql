-- One schema per module (ARCHITECTURE: each module owns its schema and is its only writer).
CREATE SCHEMA IF NOT EXISTS access;
CREATE SCHEMA IF NOT EXISTS leads;
CREATE SCHEMA IF NOT EXISTS tags;
CREATE SCHEMA IF NOT EXISTS duplicates;
CREATE SCHEMA IF NOT EXISTS import;
-- Hangfire.PostgreSql installs its own tables here at start-up.
CREATE SCHEMA IF NOT EXISTS hangfire;
