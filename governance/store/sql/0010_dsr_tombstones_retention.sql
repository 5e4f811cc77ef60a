-- 10: data-subject requests, tombstones, suppression, retention
-- Frozen: never edit a shipped migration; add a new one.

CREATE SEQUENCE dsr_seq START 1;

CREATE TABLE dsr_requests (request_id BIGINT PRIMARY KEY, request_type VARCHAR NOT NULL, requester VARCHAR, identity_check VARCHAR, oneids VARCHAR[], identifiers VARCHAR, received_on DATE NOT NULL, due_on DATE NOT NULL, status VARCHAR NOT NULL, response VARCHAR, detail VARCHAR, created_by VARCHAR NOT NULL, created_at TIMESTAMP NOT NULL, updated_by VARCHAR NOT NULL, updated_at TIMESTAMP NOT NULL, closed_at TIMESTAMP, redacted_at TIMESTAMP);

CREATE SEQUENCE tombstone_seq START 1;

CREATE TABLE dsr_tombstones (tombstone_id BIGINT PRIMARY KEY, request_id BIGINT, keys INTEGER NOT NULL, created_by VARCHAR NOT NULL, created_at TIMESTAMP NOT NULL, lifted_by VARCHAR, lifted_at TIMESTAMP, lift_reason VARCHAR);

CREATE TABLE dsr_tombstone_keys (tombstone_id BIGINT NOT NULL, kind VARCHAR NOT NULL, key_hash VARCHAR NOT NULL);

CREATE TABLE suppressed_records (batch_id BIGINT NOT NULL, row_number BIGINT NOT NULL, tombstone_id BIGINT NOT NULL, kinds VARCHAR NOT NULL, suppressed_at TIMESTAMP NOT NULL, lifted_at TIMESTAMP);

CREATE TABLE retention_policies (scope VARCHAR NOT NULL, target VARCHAR NOT NULL, days INTEGER NOT NULL, basis VARCHAR, updated_by VARCHAR NOT NULL, updated_at TIMESTAMP NOT NULL, PRIMARY KEY (scope, target));

CREATE SEQUENCE retention_run_seq START 1;

CREATE TABLE retention_runs (run_id BIGINT PRIMARY KEY, scope VARCHAR NOT NULL, target VARCHAR NOT NULL, days INTEGER NOT NULL, cutoff TIMESTAMP NOT NULL, actor VARCHAR NOT NULL, ts TIMESTAMP NOT NULL, records BIGINT NOT NULL, oneids BIGINT NOT NULL, deleted VARCHAR);

UPDATE std_records SET is_minor = (coalesce(CASE WHEN std_records.id_card_status IN ('valid', 'valid_with_warning') THEN std_records.id_birth_date END, CASE WHEN std_records.birth_date_status IN ('valid', 'valid_with_warning') THEN TRY_CAST(std_records.birth_date AS DATE) END) + INTERVAL 14 YEAR > current_date);
