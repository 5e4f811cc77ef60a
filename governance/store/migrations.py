"""Frozen, numbered migrations, recorded in `schema_migrations` and applied when a store opens.

Each migration is an SQL script in `store/sql/NNNN_name.sql` (the pattern of sqlite-utils' named
migrations). A migration never imports a stage, so the schema a store gets never depends on today's
stage code. Never edit a shipped migration: add the next one. A stage that rebuilds a table or view
at run time (the mapped_records view, golden_wide) holds that DDL itself.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import duckdb

SQL_DIR = Path(__file__).with_name("sql")
SERVING_PREFIX = "serve_"  # the names of the read API's serving indexes (store/serving.py)


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    path: Path

    @property
    def sql(self) -> str:
        return self.path.read_text(encoding="utf-8")


def migrations() -> list[Migration]:
    """Every migration, in order. The name is the script's first comment line."""
    found = []
    for path in sorted(SQL_DIR.glob("[0-9][0-9][0-9][0-9]_*.sql")):
        first = path.read_text(encoding="utf-8").splitlines()[0]
        match = re.fullmatch(r"-- (\d+): (.+)", first)
        if not match or int(match.group(1)) != int(path.name[:4]):
            raise RuntimeError(f"{path.name}: the first line must be '-- {int(path.name[:4])}: name'")
        found.append(Migration(int(path.name[:4]), match.group(2), path))
    if [m.version for m in found] != list(range(1, len(found) + 1)):
        raise RuntimeError("migration numbers must run 1, 2, 3 … without gaps")
    return found


def _done(cur: duckdb.DuckDBPyConnection) -> set[int]:
    cur.execute("CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, "
                "name VARCHAR NOT NULL, applied_at TIMESTAMP NOT NULL DEFAULT now()::TIMESTAMP)")
    return {row[0] for row in cur.execute("SELECT version FROM schema_migrations").fetchall()}


def clear_serving_indexes(cur: duckdb.DuckDBPyConnection) -> None:
    """When a migration is pending, drop the read API's serving indexes (the serving process builds them
    again): DuckDB refuses to alter a column of an indexed table, even later in the transaction that
    dropped the index, so this commits on its own before `apply`."""
    done = _done(cur)
    if any(m.version not in done for m in migrations()):
        for (name,) in cur.execute("SELECT index_name FROM duckdb_indexes() WHERE starts_with(index_name, ?)",
                                   [SERVING_PREFIX]).fetchall():
            cur.execute(f"DROP INDEX {name}")


def apply(cur: duckdb.DuckDBPyConnection) -> list[int]:
    """Apply every migration not yet recorded; return the versions applied."""
    done = _done(cur)
    applied = []
    for migration in [m for m in migrations() if m.version not in done]:
        cur.execute(migration.sql)
        cur.execute("INSERT INTO schema_migrations (version, name) VALUES (?, ?)", [migration.version, migration.name])
        applied.append(migration.version)
    return applied
