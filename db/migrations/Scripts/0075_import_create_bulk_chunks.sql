-- Parallel chunk streams within one bulk action (Bulk:Streams). A run no longer takes "the next leads after
-- `processed`": the matched set (leads.selections, positions 1..matched) is cut into numbered chunks, and several
-- streams apply different chunks at once, each in its own transaction.
--
-- (Numbered in this change's assigned range, below 0082 which creates import.bulk_actions: on a new database this runs
-- first, so nothing here refers to that table; the job deletes these rows when it completes an action.)
--
-- import.bulk_chunking: the cut, fixed by the action's first run under this scheme (a later run with another
-- Bulk:ChunkSize keeps it): chunk c is positions (base + c·size, base + (c+1)·size]. base is the `processed` of an
-- action a run of the previous, sequential scheme left unfinished (a prefix of the selection done), 0 otherwise.
CREATE TABLE import.bulk_chunking (
    bulk_id uuid    PRIMARY KEY,
    size    integer NOT NULL CHECK (size > 0),
    base    bigint  NOT NULL CHECK (base >= 0),
    chunks  integer NOT NULL CHECK (chunks >= 0)
);

-- The finished chunks, written FIRST in the chunk's own transaction: the primary key makes a second writer of the same
-- chunk (another run of the action: Hangfire delivers at least once) fail at once and move on, and a committed chunk
-- is never applied again after a crash.
CREATE TABLE import.bulk_chunks (
    bulk_id  uuid    NOT NULL,
    chunk_no integer NOT NULL,
    PRIMARY KEY (bulk_id, chunk_no)
);
