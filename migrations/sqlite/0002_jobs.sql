-- The durable job queue. A job is enqueued in the same transaction as the change that needs it,
-- claimed with a lease (locked_until) so a crashed worker's job runs again, retried with backoff,
-- and kept with its last error once it has failed for good. Finished jobs stay a week (so a job
-- keyed by its day, like the daily integrity check, runs once that day), then are swept.
CREATE TABLE jobs (
    id           TEXT PRIMARY KEY NOT NULL,
    kind         TEXT NOT NULL,
    payload      TEXT NOT NULL,
    unique_key   TEXT UNIQUE,
    run_at       BIGINT NOT NULL,
    attempts     BIGINT NOT NULL DEFAULT 0,
    max_attempts BIGINT NOT NULL,
    locked_until BIGINT,
    last_error   TEXT,
    failed_at    BIGINT,
    finished_at  BIGINT,
    created_at   BIGINT NOT NULL
);
CREATE INDEX idx_jobs_due ON jobs (run_at) WHERE failed_at IS NULL AND finished_at IS NULL;
