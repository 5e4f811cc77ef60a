-- 18: saved audiences with versions and membership history, activations and pushes, API keys
-- Frozen: never edit a shipped migration; add a new one.
-- Owners: governance/audiences/library (audiences, audience_versions, audience_members,
-- audience_member_history, audience_snapshots, audience_snapshot_members), audiences/activation
-- (activations), audiences/push (push_destinations, push_deliveries), api/keys (api_keys).

-- A saved audience: its current version's rule (the CONDITION JSON of tags, plus audience tests),
-- purpose (a consent purpose), default channel and kind (dynamic or snapshot).
CREATE TABLE audiences (name VARCHAR PRIMARY KEY, kind VARCHAR NOT NULL, purpose VARCHAR NOT NULL, channel VARCHAR NOT NULL, owner VARCHAR NOT NULL, version INTEGER NOT NULL, rule JSON NOT NULL, description VARCHAR, created_by VARCHAR NOT NULL, created_at TIMESTAMP NOT NULL, updated_by VARCHAR NOT NULL, updated_at TIMESTAMP NOT NULL, refreshed_at TIMESTAMP, members BIGINT);

-- Every saved change of an audience is a new version.
CREATE TABLE audience_versions (name VARCHAR NOT NULL, version INTEGER NOT NULL, kind VARCHAR NOT NULL, purpose VARCHAR NOT NULL, channel VARCHAR NOT NULL, rule JSON NOT NULL, description VARCHAR, created_by VARCHAR NOT NULL, created_at TIMESTAMP NOT NULL, reason VARCHAR, PRIMARY KEY (name, version));

-- Current members of each dynamic audience (eligible people only), and who joined or left when.
CREATE TABLE audience_members (name VARCHAR NOT NULL, oneid VARCHAR NOT NULL, joined_at TIMESTAMP NOT NULL);
CREATE TABLE audience_member_history (name VARCHAR NOT NULL, oneid VARCHAR NOT NULL, version INTEGER NOT NULL, joined_at TIMESTAMP NOT NULL, left_at TIMESTAMP);

-- Frozen member lists for campaign audit.
CREATE SEQUENCE audience_snapshot_seq;
CREATE TABLE audience_snapshots (snapshot_id BIGINT PRIMARY KEY, name VARCHAR NOT NULL, version INTEGER NOT NULL, purpose VARCHAR NOT NULL, channel VARCHAR NOT NULL, taken_by VARCHAR NOT NULL, taken_at TIMESTAMP NOT NULL, members BIGINT NOT NULL, excluded JSON NOT NULL, checksum VARCHAR NOT NULL);
CREATE TABLE audience_snapshot_members (snapshot_id BIGINT NOT NULL, oneid VARCHAR NOT NULL);

-- Where activation files go: an HTTPS webhook (its HMAC secret lives in the secrets file under
-- `secret_name`) or an outbox folder an SFTP job picks up. Admin-configured.
CREATE TABLE push_destinations (name VARCHAR PRIMARY KEY, kind VARCHAR NOT NULL, target VARCHAR NOT NULL, secret_name VARCHAR, enabled BOOLEAN NOT NULL, created_by VARCHAR NOT NULL, created_at TIMESTAMP NOT NULL);

-- Every activation file written (and pushed), with the audience version, count and checksum.
CREATE SEQUENCE activation_seq;
CREATE TABLE activations (activation_id BIGINT PRIMARY KEY, audience VARCHAR NOT NULL, audience_version INTEGER NOT NULL, snapshot_id BIGINT, channel VARCHAR NOT NULL, purpose VARCHAR NOT NULL, file_name VARCHAR NOT NULL, row_count BIGINT NOT NULL, bytes BIGINT NOT NULL, checksum VARCHAR NOT NULL, masked BOOLEAN NOT NULL, destination VARCHAR, status VARCHAR NOT NULL, actor VARCHAR NOT NULL, created_at TIMESTAMP NOT NULL);

-- Each delivery attempt of a push: HTTP status or error, and the (truncated) response.
CREATE TABLE push_deliveries (activation_id BIGINT NOT NULL, attempt INTEGER NOT NULL, attempted_at TIMESTAMP NOT NULL, status_code INTEGER, ok BOOLEAN NOT NULL, response VARCHAR);

-- API keys: only the SHA-256 of the key is kept; `prefix` (its first characters) names it in lists.
-- A key reads for one consent purpose: people without a granted consent for it are not found.
CREATE TABLE api_keys (name VARCHAR PRIMARY KEY, key_hash VARCHAR NOT NULL UNIQUE, prefix VARCHAR NOT NULL, role VARCHAR NOT NULL, scopes VARCHAR[] NOT NULL, purpose VARCHAR NOT NULL, expires_at TIMESTAMP, rate_per_minute INTEGER NOT NULL, created_by VARCHAR NOT NULL, created_at TIMESTAMP NOT NULL, revoked_by VARCHAR, revoked_at TIMESTAMP, last_used_at TIMESTAMP);
