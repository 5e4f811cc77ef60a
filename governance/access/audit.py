"""The append-only audit log.

Rows are only ever inserted. Each row carries the hash of the previous row, so an
edit or deletion made behind the app's back breaks the chain (`verify_chain`).
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import duckdb
import pandas as pd

from governance.access.events import Event, declared, is_declared
from governance.store.storage import scalar
from governance.store.util import neutralize_formula, utcnow

GENESIS = "0" * 64
SYSTEM_ACTOR = "system"


def _row_hash(prev_hash: str, row_id: int, ts: datetime, actor: str, action: str,
              object_type: str | None, object_id: str | None, detail: str | None) -> str:
    payload = json.dumps(
        [prev_hash, row_id, ts.isoformat(), actor, action, object_type, object_id, detail],
        ensure_ascii=False, separators=(",", ":"),
    )
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


def record(cur: duckdb.DuckDBPyConnection, actor: str, action: Event, object_type: str | None = None,
           object_id: Any = None, detail: dict | None = None) -> int:
    """Append one audit event. Call it inside the transaction of the action it records.
    `action` must be a declared Event (governance/access/events.py); anything else raises ValueError."""
    name = declared(action).value
    row_id = scalar(cur, "SELECT nextval('audit_seq')")
    last = cur.execute("SELECT hash FROM audit_log ORDER BY id DESC LIMIT 1").fetchone()
    prev_hash = last[0] if last else GENESIS
    ts = utcnow()
    detail_json = json.dumps(detail, ensure_ascii=False, sort_keys=True, default=str) if detail else None
    object_id = None if object_id is None else str(object_id)
    digest = _row_hash(prev_hash, row_id, ts, actor, name, object_type, object_id, detail_json)
    cur.execute(
        "INSERT INTO audit_log VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [row_id, ts, actor, name, object_type, object_id, detail_json, prev_hash, digest],
    )
    return row_id


@dataclass(frozen=True)
class ChainCheck:
    ok: bool
    rows: int
    first_bad_id: int | None = None


def verify_chain(cur: duckdb.DuckDBPyConnection) -> ChainCheck:
    """Recompute every hash in order; report the first row that does not fit."""
    prev = GENESIS
    rows = 0
    result = cur.execute(
        "SELECT id, ts, actor, action, object_type, object_id, detail, prev_hash, hash FROM audit_log ORDER BY id"
    )
    while batch := result.fetchmany(10_000):
        for row_id, ts, actor, action, otype, oid, detail, prev_hash, digest in batch:
            rows += 1
            if prev_hash != prev or digest != _row_hash(prev, row_id, ts, actor, action, otype, oid, detail):
                return ChainCheck(False, rows, row_id)
            prev = digest
    return ChainCheck(True, rows)


@dataclass(frozen=True)
class AuditFilter:
    actor: str | None = None
    action: str | None = None  # exactly this action (an Event)
    object_type: str | None = None
    since: datetime | None = None
    until: datetime | None = None

    def where(self) -> tuple[str, list]:
        clauses: list[str] = []
        params: list[object] = []
        if self.actor:
            clauses.append("actor = ?")
            params.append(self.actor)
        if self.action:
            clauses.append("action = ?")
            params.append(str(self.action))
        if self.object_type:
            clauses.append("object_type = ?")
            params.append(self.object_type)
        if self.since:
            clauses.append("ts >= ?")
            params.append(self.since)
        if self.until:
            clauses.append("ts < ?")
            params.append(self.until)
        return (" WHERE " + " AND ".join(clauses)) if clauses else "", params


_COLUMNS = "id, ts, actor, action, object_type, object_id, detail"


def count(cur: duckdb.DuckDBPyConnection, flt: AuditFilter = AuditFilter()) -> int:
    where, params = flt.where()
    return scalar(cur, f"SELECT count(*) FROM audit_log{where}", params)


def query(cur: duckdb.DuckDBPyConnection, flt: AuditFilter = AuditFilter(), limit: int = 50,
          offset: int = 0) -> tuple[pd.DataFrame, int]:
    """One page of audit rows, newest first, and the total count for the filter."""
    where, params = flt.where()
    total = count(cur, flt)
    page = cur.execute(
        f"SELECT {_COLUMNS} FROM audit_log{where} ORDER BY id DESC LIMIT ? OFFSET ?", params + [limit, offset]
    ).df()
    return page, total


def export_csv(cur: duckdb.DuckDBPyConnection, flt: AuditFilter = AuditFilter()) -> bytes:
    """All rows for the filter as CSV (UTF-8 with BOM, for Excel)."""
    where, params = flt.where()
    frame = cur.execute(f"SELECT {_COLUMNS} FROM audit_log{where} ORDER BY id", params).df()
    for column in ("actor", "action", "object_type", "object_id", "detail"):
        frame[column] = frame[column].map(neutralize_formula)
    return frame.to_csv(index=False).encode("utf-8-sig")


def distinct_values(cur: duckdb.DuckDBPyConnection, column: str) -> list[str]:
    if column not in {"actor", "action", "object_type"}:
        raise ValueError(column)
    rows = cur.execute(f"SELECT DISTINCT {column} FROM audit_log WHERE {column} IS NOT NULL ORDER BY 1").fetchall()
    return [r[0] for r in rows]


def action_choices(cur: duckdb.DuckDBPyConnection) -> list[str]:
    """The actions to filter the log by: every declared event, in declaration order, then any
    undeclared action the log holds (rows written before it was declared, or behind the app's back)."""
    return [*Event, *undeclared_actions(cur)]


def undeclared_actions(cur: duckdb.DuckDBPyConnection) -> dict[str, int]:
    """Actions in the log that are not declared events, with their row counts."""
    rows = cur.execute("SELECT action, count(*) FROM audit_log GROUP BY action ORDER BY action").fetchall()
    return {action: n for action, n in rows if not is_declared(action)}


def log(db, actor: str, action: Event, object_type: str | None = None, object_id: Any = None,
        detail: dict | None = None) -> int:
    """Append one event in its own transaction (for events with no other write, e.g. a reveal)."""
    with db.transaction() as cur:
        return record(cur, actor, action, object_type, object_id, detail)
