-- 6: OneID runs, crosswalk, history and review decisions
-- Frozen: never edit a shipped migration; add a new one.

CREATE SEQUENCE oneid_seq START 1;

CREATE SEQUENCE oneid_run_seq START 1;

CREATE TABLE oneid_runs (run_id BIGINT PRIMARY KEY, actor VARCHAR NOT NULL, ts TIMESTAMP NOT NULL, seconds DOUBLE, records BIGINT, links BIGINT, model_pairs BIGINT, auto_links BIGINT, queue BIGINT, clusters BIGINT, new BIGINT, merged BIGINT, split BIGINT, retired BIGINT, cuts BIGINT, flagged BIGINT);

CREATE TABLE crosswalk (rec_id BIGINT NOT NULL, batch_id BIGINT NOT NULL, row_number BIGINT NOT NULL, source VARCHAR NOT NULL, oneid VARCHAR NOT NULL, placed_by VARCHAR NOT NULL, run_id BIGINT NOT NULL);

CREATE TABLE oneid_history (run_id BIGINT NOT NULL, oneid VARCHAR NOT NULL, event VARCHAR NOT NULL, related VARCHAR, records BIGINT, ts TIMESTAMP NOT NULL);

CREATE TABLE cluster_flags (run_id BIGINT NOT NULL, oneid VARCHAR NOT NULL, reason VARCHAR NOT NULL, rec_l BIGINT, rec_r BIGINT, placed_by VARCHAR);

CREATE TABLE match_pairs (run_id BIGINT NOT NULL, rec_l BIGINT NOT NULL, rec_r BIGINT NOT NULL, match_probability DOUBLE NOT NULL, match_weight DOUBLE, band VARCHAR NOT NULL, weights VARCHAR);

CREATE TABLE oneid_models (run_id BIGINT PRIMARY KEY, model_json VARCHAR NOT NULL, auto_accept DOUBLE NOT NULL, review_low DOUBLE NOT NULL);

CREATE TABLE match_rule_settings (rule_id VARCHAR PRIMARY KEY, enabled BOOLEAN NOT NULL, updated_by VARCHAR NOT NULL, updated_at TIMESTAMP NOT NULL);

CREATE SEQUENCE decision_seq START 1;

CREATE TABLE review_decisions (decision_id BIGINT PRIMARY KEY, rec_l BIGINT NOT NULL, rec_r BIGINT NOT NULL, decision VARCHAR NOT NULL, actor VARCHAR NOT NULL, ts TIMESTAMP NOT NULL, comment VARCHAR, undone_at TIMESTAMP, undone_by VARCHAR);
