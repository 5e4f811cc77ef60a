-- 2: sources, batches, raw rows, mappings
-- Frozen: never edit a shipped migration; add a new one.

CREATE SCHEMA raw;

CREATE TABLE sources (
    source VARCHAR PRIMARY KEY,
    channel VARCHAR NOT NULL,
    steward VARCHAR,
    description VARCHAR,
    created_by VARCHAR NOT NULL,
    created_at TIMESTAMP NOT NULL
);

CREATE SEQUENCE batch_seq START 1;

CREATE TABLE batches (
    batch_id BIGINT PRIMARY KEY,
    source VARCHAR NOT NULL,
    channel VARCHAR NOT NULL,
    file_name VARCHAR NOT NULL,
    file_format VARCHAR NOT NULL,
    encoding VARCHAR,
    sheet VARCHAR,
    sha256 VARCHAR NOT NULL,
    size_bytes BIGINT NOT NULL,
    row_count BIGINT NOT NULL,
    column_count INTEGER NOT NULL,
    header_line INTEGER,
    table_name VARCHAR NOT NULL,
    uploaded_by VARCHAR NOT NULL,
    uploaded_at TIMESTAMP NOT NULL,
    notes VARCHAR
);

CREATE TABLE batch_columns (
    batch_id BIGINT NOT NULL,
    position INTEGER NOT NULL,
    column_name VARCHAR NOT NULL,
    header VARCHAR NOT NULL,
    header_raw VARCHAR,
    PRIMARY KEY (batch_id, position)
);

CREATE TABLE mapping_versions (
    source VARCHAR NOT NULL,
    version INTEGER NOT NULL,
    created_by VARCHAR NOT NULL,
    created_at TIMESTAMP NOT NULL,
    comment VARCHAR,
    PRIMARY KEY (source, version)
);

CREATE TABLE mapping_entries (
    source VARCHAR NOT NULL,
    version INTEGER NOT NULL,
    header VARCHAR NOT NULL,
    field VARCHAR,
    confidence DOUBLE,
    method VARCHAR,
    PRIMARY KEY (source, version, header)
);
