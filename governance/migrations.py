"""Numbered migrations, recorded in `schema_migrations` and applied on open.

Append new migrations to MIGRATIONS; never edit one that has shipped.
"""
from __future__ import annotations

from typing import Callable

import duckdb


def _create_mapped_view(cur: duckdb.DuckDBPyConnection) -> None:
    from governance.mapping import rebuild_mapped_view

    rebuild_mapped_view(cur)


def _create_standardize_tables(cur: duckdb.DuckDBPyConnection) -> None:
    from governance.standardize.engine import create_tables

    create_tables(cur)


def _create_quality_tables(cur: duckdb.DuckDBPyConnection) -> None:
    from governance.quality import profile, rules

    rules.create_tables(cur)
    profile.create_tables(cur)


def _create_oneid_tables(cur: duckdb.DuckDBPyConnection) -> None:
    from governance.oneid.resolve import create_tables

    create_tables(cur)


def _create_golden_tables(cur: duckdb.DuckDBPyConnection) -> None:
    from governance.golden.survivorship import create_tables

    create_tables(cur)


def _create_masking_tables(cur: duckdb.DuckDBPyConnection) -> None:
    from governance.masking import create_tables

    create_tables(cur)


def _create_dsr_tables(cur: duckdb.DuckDBPyConnection) -> None:
    from governance import dsr, retention, suppression
    from governance.standardize.engine import MINOR_SQL

    dsr.create_tables(cur)
    suppression.create_tables(cur)
    retention.create_tables(cur)
    # The minor flag now counts full years from the ID's (else the typed) birth date.
    cur.execute(f"UPDATE std_records SET is_minor = {MINOR_SQL.format(r='std_records')}")


def _create_consent_and_export_tables(cur: duckdb.DuckDBPyConnection) -> None:
    from governance import consent, exports

    consent.create_tables(cur)
    exports.create_tables(cur)


# (version, name, SQL script or a function of a cursor)
MIGRATIONS: list[tuple[int, str, str | Callable[[duckdb.DuckDBPyConnection], None]]] = [
    (
        1,
        "users, sessions, audit log",
        """
        CREATE TABLE users (
            username VARCHAR PRIMARY KEY,
            display_name VARCHAR NOT NULL,
            email VARCHAR,
            role VARCHAR NOT NULL,
            password_hash VARCHAR NOT NULL,
            disabled BOOLEAN NOT NULL DEFAULT FALSE,
            failed_attempts INTEGER NOT NULL DEFAULT 0,
            locked_until TIMESTAMP,
            created_at TIMESTAMP NOT NULL DEFAULT now()::TIMESTAMP,
            updated_at TIMESTAMP NOT NULL DEFAULT now()::TIMESTAMP
        );
        CREATE TABLE user_sessions (
            session_id VARCHAR PRIMARY KEY,
            username VARCHAR NOT NULL,
            created_at TIMESTAMP NOT NULL,
            expires_at TIMESTAMP NOT NULL,
            revoked_at TIMESTAMP,
            revoked_reason VARCHAR
        );
        CREATE SEQUENCE audit_seq START 1;
        CREATE TABLE audit_log (
            id BIGINT PRIMARY KEY,
            ts TIMESTAMP NOT NULL,
            actor VARCHAR NOT NULL,
            action VARCHAR NOT NULL,
            object_type VARCHAR,
            object_id VARCHAR,
            detail VARCHAR,
            prev_hash VARCHAR NOT NULL,
            hash VARCHAR NOT NULL
        );
        """,
    ),
    (
        2,
        "sources, batches, raw rows, mappings",
        """
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
        """,
    ),
    (3, "mapped_records view", _create_mapped_view),
    (4, "standardized records and value cache", _create_standardize_tables),
    (5, "quality rules, profiles and rule results", _create_quality_tables),
    (6, "OneID runs, crosswalk, history and review decisions", _create_oneid_tables),
    (7, "consent ledger and export manifests", _create_consent_and_export_tables),
    (8, "golden records: versioned survivorship rules, overrides, golden_wide and its views", _create_golden_tables),
    (9, "masking policies per sensitivity class and role", _create_masking_tables),
    (10, "data-subject requests, tombstones, suppression, retention", _create_dsr_tables),
    (11, "check values of the secrets that stored data depends on",
     "CREATE TABLE secret_checks (name VARCHAR PRIMARY KEY, check_value VARCHAR NOT NULL, "
     "recorded_at TIMESTAMP NOT NULL)"),
]


def apply(cur: duckdb.DuckDBPyConnection) -> list[int]:
    """Apply every migration not yet recorded; return the versions applied."""
    cur.execute(
        "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, "
        "name VARCHAR NOT NULL, applied_at TIMESTAMP NOT NULL DEFAULT now()::TIMESTAMP)"
    )
    done = {row[0] for row in cur.execute("SELECT version FROM schema_migrations").fetchall()}
    applied = []
    for version, name, sql in MIGRATIONS:
        if version in done:
            continue
        if callable(sql):
            sql(cur)
        else:
            cur.execute(sql)
        cur.execute("INSERT INTO schema_migrations (version, name) VALUES (?, ?)", [version, name])
        applied.append(version)
    return applied
