-- 14: background jobs
-- Frozen: never edit a shipped migration; add a new one.
-- One row per long step: started in the app (run by its background worker) or recorded by a
-- command-line run. Only governance/jobs/runner.py writes it.

CREATE SEQUENCE job_seq START 1;

CREATE TABLE jobs (job_id BIGINT PRIMARY KEY, kind VARCHAR NOT NULL, origin VARCHAR NOT NULL, status VARCHAR NOT NULL, stage VARCHAR, progress DOUBLE NOT NULL DEFAULT 0, message VARCHAR, started_by VARCHAR NOT NULL, queued_at TIMESTAMP NOT NULL, started_at TIMESTAMP, finished_at TIMESTAMP, result VARCHAR, pid INTEGER NOT NULL);
