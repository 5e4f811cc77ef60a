-- 7: consent ledger and export manifests
-- Frozen: never edit a shipped migration; add a new one.

CREATE SEQUENCE consent_seq START 1;

CREATE TABLE consent_records (id BIGINT PRIMARY KEY, oneid VARCHAR, batch_id BIGINT, row_number BIGINT, purpose VARCHAR NOT NULL, state VARCHAR NOT NULL, channel VARCHAR, recorded_at TIMESTAMP NOT NULL, method VARCHAR NOT NULL, notice_version VARCHAR, evidence_ref VARCHAR, actor VARCHAR NOT NULL, expires_at TIMESTAMP, entered_at TIMESTAMP NOT NULL);

CREATE VIEW consent_current AS SELECT oneid, purpose, CASE WHEN state = 'granted' AND expires_at IS NOT NULL AND expires_at <= now()::TIMESTAMP THEN 'expired' ELSE state END AS state, recorded_at, channel, method, notice_version, evidence_ref, actor, expires_at, id AS record_id FROM (SELECT coalesce(c.oneid, r.oneid) AS oneid, r.purpose, r.state, r.recorded_at, r.channel, r.method, r.notice_version, r.evidence_ref, r.actor, r.expires_at, r.id FROM consent_records r LEFT JOIN crosswalk c ON c.batch_id = r.batch_id AND c.row_number = r.row_number) WHERE oneid IS NOT NULL QUALIFY row_number() OVER (PARTITION BY oneid, purpose ORDER BY recorded_at DESC, id DESC) = 1;

CREATE SEQUENCE export_seq START 1;

CREATE TABLE export_manifests (id BIGINT PRIMARY KEY, created_at TIMESTAMP NOT NULL, actor VARCHAR NOT NULL, role VARCHAR, dataset VARCHAR NOT NULL, format VARCHAR NOT NULL, file_name VARCHAR NOT NULL, row_count BIGINT NOT NULL, bytes BIGINT NOT NULL, masked BOOLEAN NOT NULL, purpose VARCHAR, consent_purpose VARCHAR, fields VARCHAR[] NOT NULL, filter VARCHAR NOT NULL, checksum VARCHAR NOT NULL);
