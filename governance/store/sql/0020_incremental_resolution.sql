-- 20: incremental resolution
-- Frozen: never edit a shipped migration; add a new one.
-- A resolve after a new batch works only on what the batch touches. It needs what the last run
-- linked (rule and model links; approvals come from review_decisions) and which order rows it took
-- for orders shipped to someone else. `mode` says whether a run was full or incremental; runs
-- before this migration have none, so the next run is a full one.

CREATE TABLE oneid_links (rec_l BIGINT NOT NULL, rec_r BIGINT NOT NULL, strength DOUBLE NOT NULL, placed_by VARCHAR NOT NULL);
CREATE TABLE oneid_shipping (rec_id BIGINT NOT NULL, account VARCHAR);
ALTER TABLE oneid_runs ADD COLUMN mode VARCHAR;
