-- 17: the tag library, customer tag values with history, source tag mappings and the governance scorecard
-- Frozen: never edit a shipped migration; add a new one.
-- Owners: governance/tags/library (tag_categories, tag_definitions, tag_reviews), tags/compute
-- (tag_values, tag_history, tag_runs, tag_inputs), tags/source_tags (tag_source_mappings),
-- tags/scorecard (scorecard_history).

-- The category tree: a path such as 'preference/category'; roles that may view and edit its tags.
CREATE TABLE tag_categories (path VARCHAR PRIMARY KEY, name_zh VARCHAR NOT NULL, name_en VARCHAR NOT NULL, view_roles VARCHAR[] NOT NULL, edit_roles VARCHAR[] NOT NULL, updated_by VARCHAR NOT NULL, updated_at TIMESTAMP NOT NULL);

-- Every saved change of a definition is a new version; the status belongs to the version.
CREATE TABLE tag_definitions (code VARCHAR NOT NULL, version INTEGER NOT NULL, name_zh VARCHAR NOT NULL, name_en VARCHAR NOT NULL, category VARCHAR NOT NULL, value_type VARCHAR NOT NULL, allowed_values JSON, business_definition VARCHAR NOT NULL, technical_definition JSON NOT NULL, owner VARCHAR NOT NULL, sensitivity VARCHAR NOT NULL, refresh_cadence VARCHAR NOT NULL, status VARCHAR NOT NULL, builtin BOOLEAN NOT NULL, created_by VARCHAR NOT NULL, created_at TIMESTAMP NOT NULL, reason VARCHAR, PRIMARY KEY (code, version));

-- Submissions, approvals, rejections, deprecations and retirements, with their comments.
CREATE SEQUENCE tag_review_seq;
CREATE TABLE tag_reviews (review_id BIGINT PRIMARY KEY, code VARCHAR NOT NULL, version INTEGER NOT NULL, action VARCHAR NOT NULL, actor VARCHAR NOT NULL, reviewed_at TIMESTAMP NOT NULL, comment VARCHAR);

-- The current value of each published tag per OneID (`number` for number tags), as of a China date.
CREATE TABLE tag_values (oneid VARCHAR NOT NULL, tag_code VARCHAR NOT NULL, value VARCHAR NOT NULL, number DECIMAL(18,2), tag_version INTEGER NOT NULL, as_of DATE NOT NULL, computed_at TIMESTAMP NOT NULL, source VARCHAR);

-- Value history (enumeration, boolean and date tags): one row per value a OneID held, valid_to NULL while current.
CREATE TABLE tag_history (oneid VARCHAR NOT NULL, tag_code VARCHAR NOT NULL, value VARCHAR, tag_version INTEGER NOT NULL, valid_from DATE NOT NULL, valid_to DATE, run_id BIGINT NOT NULL);

-- One row per tag per computation: coverage, distribution and drift against the previous one.
CREATE SEQUENCE tag_run_seq;
CREATE TABLE tag_runs (run_id BIGINT PRIMARY KEY, tag_code VARCHAR NOT NULL, tag_version INTEGER NOT NULL, as_of DATE NOT NULL, mode VARCHAR NOT NULL, started_at TIMESTAMP NOT NULL, seconds DOUBLE NOT NULL, oneids BIGINT NOT NULL, with_value BIGINT NOT NULL, changed BIGINT NOT NULL, distribution JSON, psi DOUBLE, actor VARCHAR NOT NULL);

-- What each OneID's tags were last computed from (a hash of its golden record, which changes with its
-- records and their events), so a refresh recomputes only the OneIDs that changed.
CREATE TABLE tag_inputs (oneid VARCHAR NOT NULL, golden_hash UBIGINT NOT NULL);

-- A source's own tag column, value by value, onto a standard tag; a new version per change.
CREATE TABLE tag_source_mappings (source VARCHAR NOT NULL, column_name VARCHAR NOT NULL, version INTEGER NOT NULL, tag_code VARCHAR NOT NULL, source_value VARCHAR NOT NULL, tag_value VARCHAR, created_by VARCHAR NOT NULL, created_at TIMESTAMP NOT NULL);

-- The governance measures after each refresh.
CREATE TABLE scorecard_history (recorded_at TIMESTAMP NOT NULL, trigger VARCHAR NOT NULL, records BIGINT NOT NULL, oneids BIGINT NOT NULL, duplicate_rate DOUBLE, identification_rate DOUBLE, quality_score DOUBLE, tag_coverage DOUBLE, consent_coverage DOUBLE);

-- Events with their China date and whether they count as a completed order: refunded, cancelled and
-- still pending ones do not (a receipt without a status does).
CREATE OR REPLACE VIEW customer_events AS
SELECT c.oneid, e.source, b.channel, e.batch_id, e.row_number, e.event_time,
       CASE WHEN e.order_id IS NOT NULL OR e.order_status IS NOT NULL THEN 'order' ELSE 'purchase' END AS type,
       e.order_id, e.amount,
       CASE WHEN e.order_status IN ('refunded', 'cancelled') THEN 0::DECIMAL(18,2) ELSE e.amount END AS spend,
       e.quantity, e.product_name, e.product_category, e.order_status, e.points, e.member_level,
       CAST(e.event_time AS DATE) AS event_date,
       coalesce(e.order_status, 'completed') IN ('completed', 'other') AS completed
FROM std_events e
JOIN crosswalk c ON c.batch_id = e.batch_id AND c.row_number = e.row_number
LEFT JOIN batches b ON b.batch_id = e.batch_id;
