-- 5: quality rules, profiles and rule results
-- Frozen: never edit a shipped migration; add a new one.

CREATE TABLE quality_rules (rule_id VARCHAR NOT NULL, version INTEGER NOT NULL, name VARCHAR NOT NULL, rule_type VARCHAR NOT NULL, fields VARCHAR NOT NULL, params VARCHAR NOT NULL, severity VARCHAR NOT NULL, mostly DOUBLE NOT NULL, dimension VARCHAR NOT NULL, enabled BOOLEAN NOT NULL, created_by VARCHAR NOT NULL, created_at TIMESTAMP NOT NULL, comment VARCHAR, PRIMARY KEY (rule_id, version));

INSERT INTO quality_rules VALUES ('name.present', 1, 'Name is present', 'not_null', '["name"]', '{}', 'warning', 0.8, 'completeness', TRUE, 'system', now()::TIMESTAMP, 'default rule');

INSERT INTO quality_rules VALUES ('family_name.present', 1, 'Family name is present', 'not_null', '["family_name"]', '{}', 'info', 0.5, 'completeness', TRUE, 'system', now()::TIMESTAMP, 'default rule');

INSERT INTO quality_rules VALUES ('given_name.present', 1, 'Given name is present', 'not_null', '["given_name"]', '{}', 'info', 0.5, 'completeness', TRUE, 'system', now()::TIMESTAMP, 'default rule');

INSERT INTO quality_rules VALUES ('mobile.format', 1, 'Mobile is valid', 'format', '["mobile"]', '{}', 'warning', 0.95, 'validity', TRUE, 'system', now()::TIMESTAMP, 'default rule');

INSERT INTO quality_rules VALUES ('landline.format', 1, 'Landline is valid', 'format', '["landline"]', '{}', 'warning', 0.95, 'validity', TRUE, 'system', now()::TIMESTAMP, 'default rule');

INSERT INTO quality_rules VALUES ('email.format', 1, 'Email is valid', 'format', '["email"]', '{}', 'warning', 0.95, 'validity', TRUE, 'system', now()::TIMESTAMP, 'default rule');

INSERT INTO quality_rules VALUES ('id_card.format', 1, 'Resident ID number is valid', 'format', '["id_card"]', '{}', 'warning', 0.95, 'validity', TRUE, 'system', now()::TIMESTAMP, 'default rule');

INSERT INTO quality_rules VALUES ('gender.format', 1, 'Gender is valid', 'format', '["gender"]', '{}', 'warning', 0.95, 'validity', TRUE, 'system', now()::TIMESTAMP, 'default rule');

INSERT INTO quality_rules VALUES ('birth_date.format', 1, 'Birth date is valid', 'format', '["birth_date"]', '{}', 'warning', 0.95, 'validity', TRUE, 'system', now()::TIMESTAMP, 'default rule');

INSERT INTO quality_rules VALUES ('province.format', 1, 'Province is valid', 'format', '["province"]', '{}', 'warning', 0.95, 'validity', TRUE, 'system', now()::TIMESTAMP, 'default rule');

INSERT INTO quality_rules VALUES ('city.format', 1, 'City is valid', 'format', '["city"]', '{}', 'warning', 0.95, 'validity', TRUE, 'system', now()::TIMESTAMP, 'default rule');

INSERT INTO quality_rules VALUES ('district.format', 1, 'District is valid', 'format', '["district"]', '{}', 'warning', 0.95, 'validity', TRUE, 'system', now()::TIMESTAMP, 'default rule');

INSERT INTO quality_rules VALUES ('address.format', 1, 'Address is valid', 'format', '["address"]', '{}', 'warning', 0.95, 'validity', TRUE, 'system', now()::TIMESTAMP, 'default rule');

INSERT INTO quality_rules VALUES ('postcode.format', 1, 'Postcode is valid', 'format', '["postcode"]', '{}', 'warning', 0.95, 'validity', TRUE, 'system', now()::TIMESTAMP, 'default rule');

INSERT INTO quality_rules VALUES ('wechat_open_id.present', 1, 'WeChat open_id is present', 'not_null', '["wechat_open_id"]', '{}', 'info', 0.5, 'completeness', TRUE, 'system', now()::TIMESTAMP, 'default rule');

INSERT INTO quality_rules VALUES ('wechat_app_id.format', 1, 'WeChat app id is valid', 'format', '["wechat_app_id"]', '{}', 'warning', 0.95, 'validity', TRUE, 'system', now()::TIMESTAMP, 'default rule');

INSERT INTO quality_rules VALUES ('wechat_union_id.present', 1, 'WeChat union_id is present', 'not_null', '["wechat_union_id"]', '{}', 'info', 0.5, 'completeness', TRUE, 'system', now()::TIMESTAMP, 'default rule');

INSERT INTO quality_rules VALUES ('douyin_id.present', 1, 'Douyin id is present', 'not_null', '["douyin_id"]', '{}', 'info', 0.5, 'completeness', TRUE, 'system', now()::TIMESTAMP, 'default rule');

INSERT INTO quality_rules VALUES ('ecommerce_buyer_id.present', 1, 'E-commerce buyer id is present', 'not_null', '["ecommerce_buyer_id"]', '{}', 'info', 0.5, 'completeness', TRUE, 'system', now()::TIMESTAMP, 'default rule');

INSERT INTO quality_rules VALUES ('member_card.present', 1, 'Membership card is present', 'not_null', '["member_card"]', '{}', 'info', 0.5, 'completeness', TRUE, 'system', now()::TIMESTAMP, 'default rule');

INSERT INTO quality_rules VALUES ('nickname.present', 1, 'Nickname is present', 'not_null', '["nickname"]', '{}', 'info', 0.5, 'completeness', TRUE, 'system', now()::TIMESTAMP, 'default rule');

INSERT INTO quality_rules VALUES ('store.present', 1, 'Store is present', 'not_null', '["store"]', '{}', 'info', 0.5, 'completeness', TRUE, 'system', now()::TIMESTAMP, 'default rule');

INSERT INTO quality_rules VALUES ('registered_at.format', 1, 'Registered at is valid', 'format', '["registered_at"]', '{}', 'warning', 0.95, 'validity', TRUE, 'system', now()::TIMESTAMP, 'default rule');

INSERT INTO quality_rules VALUES ('updated_at.format', 1, 'Last updated is valid', 'format', '["updated_at"]', '{}', 'warning', 0.95, 'validity', TRUE, 'system', now()::TIMESTAMP, 'default rule');

INSERT INTO quality_rules VALUES ('marketing_consent.format', 1, 'Marketing consent is valid', 'format', '["marketing_consent"]', '{}', 'warning', 0.95, 'validity', TRUE, 'system', now()::TIMESTAMP, 'default rule');

INSERT INTO quality_rules VALUES ('mobile.present', 1, 'Mobile is present', 'not_null', '["mobile"]', '{}', 'warning', 0.7, 'completeness', TRUE, 'system', now()::TIMESTAMP, 'default rule');

INSERT INTO quality_rules VALUES ('gender.codes', 1, 'Gender uses GB/T 2261.1 codes', 'allowed_values', '["gender"]', '{"values": ["0", "1", "2", "9"]}', 'error', 1.0, 'validity', TRUE, 'system', now()::TIMESTAMP, 'default rule');

INSERT INTO quality_rules VALUES ('birth_date.range', 1, 'Birth date between 1900 and today', 'range', '["birth_date"]', '{"type": "date", "min": "1900-01-01", "max": "today"}', 'warning', 0.99, 'validity', TRUE, 'system', now()::TIMESTAMP, 'default rule');

INSERT INTO quality_rules VALUES ('registered_at.not_future', 1, 'Registration time not in the future', 'range', '["registered_at"]', '{"type": "timestamp", "max": "today"}', 'warning', 0.99, 'timeliness', TRUE, 'system', now()::TIMESTAMP, 'default rule');

INSERT INTO quality_rules VALUES ('id_card.unique', 1, 'Resident ID unique within a source', 'unique', '["id_card"]', '{}', 'warning', 0.98, 'uniqueness', TRUE, 'system', now()::TIMESTAMP, 'default rule');

INSERT INTO quality_rules VALUES ('mobile.unique', 1, 'Mobile unique within a source', 'unique', '["mobile"]', '{}', 'info', 0.9, 'uniqueness', TRUE, 'system', now()::TIMESTAMP, 'default rule');

INSERT INTO quality_rules VALUES ('mobile_open_id.unique', 1, 'Mobile + open_id unique together', 'unique_together', '["mobile", "wechat_open_id"]', '{}', 'warning', 0.99, 'uniqueness', TRUE, 'system', now()::TIMESTAMP, 'default rule');

INSERT INTO quality_rules VALUES ('birth_date.matches_id', 1, 'Birth date agrees with the resident ID', 'consistency', '[]', '{"check": "check_birth_id"}', 'warning', 0.98, 'consistency', TRUE, 'system', now()::TIMESTAMP, 'default rule');

INSERT INTO quality_rules VALUES ('gender.matches_id', 1, 'Gender agrees with the resident ID', 'consistency', '[]', '{"check": "check_gender_id"}', 'warning', 0.98, 'consistency', TRUE, 'system', now()::TIMESTAMP, 'default rule');

INSERT INTO quality_rules VALUES ('province.matches_id', 1, 'Province agrees with the ID region (people move: info)', 'consistency', '[]', '{"check": "check_region_id"}', 'info', 0.6, 'consistency', TRUE, 'system', now()::TIMESTAMP, 'default rule');

CREATE SEQUENCE profile_run_seq START 1;

CREATE TABLE profile_runs (run_id BIGINT PRIMARY KEY, actor VARCHAR NOT NULL, ts TIMESTAMP NOT NULL, seconds DOUBLE NOT NULL, records BIGINT NOT NULL, score DOUBLE);

CREATE TABLE profile_status (run_id BIGINT NOT NULL, source VARCHAR NOT NULL, batch_id BIGINT NOT NULL, field VARCHAR NOT NULL, status VARCHAR NOT NULL, reason VARCHAR, n BIGINT NOT NULL);

CREATE TABLE profile_fields (run_id BIGINT NOT NULL, source VARCHAR NOT NULL, field VARCHAR NOT NULL, records BIGINT, missing BIGINT, valid BIGINT, invalid BIGINT, masked BIGINT, distinct_count BIGINT, uniqueness DOUBLE, min_value VARCHAR, max_value VARCHAR, raw_clean BIGINT, completeness DOUBLE, validity DOUBLE, uniqueness_score DOUBLE, consistency DOUBLE, score DOUBLE, top_values VARCHAR, patterns VARCHAR);

CREATE TABLE profile_batches (run_id BIGINT NOT NULL, source VARCHAR NOT NULL, batch_id BIGINT NOT NULL, uploaded_at TIMESTAMP, rows BIGINT, score DOUBLE, dropped BOOLEAN);

CREATE TABLE profile_sources (run_id BIGINT NOT NULL, source VARCHAR NOT NULL, rows BIGINT, score DOUBLE, duplicate_rows BIGINT, flagged BOOLEAN);

CREATE TABLE profile_keys (run_id BIGINT NOT NULL, field VARCHAR NOT NULL, shared_values BIGINT, rows_involved BIGINT);

CREATE TABLE rule_results (run_id BIGINT NOT NULL, source VARCHAR NOT NULL, rule_id VARCHAR NOT NULL, version INTEGER, name VARCHAR, severity VARCHAR, dimension VARCHAR, fields VARCHAR, applicable BIGINT, failed BIGINT, pass_rate DOUBLE, mostly DOUBLE, passed BOOLEAN);
