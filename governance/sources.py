"""The source catalogue: what each source holds, who looks after it, and its batches."""
from __future__ import annotations

import duckdb
import pandas as pd

from governance import audit, dsr, mapping
from governance.oneid import review
from governance.schema import BY_NAME
from governance.storage import Database


def catalogue(cur: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """One row per source: channel, steward, batches, rows, last load, mapped and PII fields."""
    frame = cur.execute(
        """
        SELECT s.source, s.channel, s.steward, count(b.batch_id) AS batches, coalesce(sum(b.row_count), 0) AS rows,
               max(b.uploaded_at) AS last_load, s.created_at
        FROM sources s LEFT JOIN batches b USING (source)
        GROUP BY ALL ORDER BY s.source
        """).df()
    mapped, pii = [], []
    for source in frame["source"]:
        fields = [f for f in mapping.load(cur, source).values() if f]
        mapped.append(sorted(fields))
        pii.append(sorted(f for f in fields if BY_NAME[f].pii))
    frame["mapped_fields"] = mapped
    frame["pii_fields"] = pii
    return frame


def batches(cur: duckdb.DuckDBPyConnection, source: str | None = None) -> pd.DataFrame:
    where, params = ("WHERE source = ?", [source]) if source else ("", [])
    return cur.execute(
        f"SELECT batch_id, source, file_name, file_format, encoding, sheet, row_count, column_count, size_bytes, "
        f"sha256, uploaded_by, uploaded_at, notes FROM batches {where} ORDER BY batch_id DESC", params).df()


def as_json(cur: duckdb.DuckDBPyConnection) -> list[dict]:
    """The `sources --json` contract: source, channel, batches, rows and mapping per source."""
    out = []
    for source, channel, n_batches, n_rows in cur.execute(
            "SELECT s.source, s.channel, count(b.batch_id), coalesce(sum(b.row_count), 0) "
            "FROM sources s LEFT JOIN batches b USING (source) GROUP BY ALL ORDER BY s.source").fetchall():
        saved = mapping.load(cur, source)
        headers = mapping.source_headers(cur, source)
        out.append({"source": source, "channel": channel, "batches": int(n_batches), "rows": int(n_rows),
                    "mapping": {h: saved.get(h) for h in headers}})
    return out


def set_steward(db: Database, actor: str, source: str, steward: str | None) -> None:
    with db.transaction() as cur:
        cur.execute("UPDATE sources SET steward = ? WHERE source = ?", [steward or None, source])
        audit.record(cur, actor, "source.steward", "source", source, {"steward": steward})


def preview_rows(cur: duckdb.DuckDBPyConnection, batch_id: int, limit: int = 50, offset: int = 0) -> pd.DataFrame:
    """A page of one batch's raw rows, with the original headers as column names."""
    row = cur.execute("SELECT table_name FROM batches WHERE batch_id = ?", [batch_id]).fetchone()
    if not row:
        return pd.DataFrame()
    columns = cur.execute("SELECT column_name, header FROM batch_columns WHERE batch_id = ? ORDER BY position",
                          [batch_id]).fetchall()
    frame = cur.execute(f"SELECT * FROM {row[0]} ORDER BY _row LIMIT ? OFFSET ?", [limit, offset]).df()
    return frame.rename(columns={"_row": "#", **dict(columns)})


def overview(cur: duckdb.DuckDBPyConnection) -> dict:
    """Workspace at a glance: counts, rows per channel, the latest batches, and the work waiting:
    the latest quality score, OneIDs, pairs to review, open data-subject requests (and overdue)."""
    n_sources, n_batches, n_rows = cur.execute(
        "SELECT (SELECT count(*) FROM sources), count(*), coalesce(sum(row_count), 0) FROM batches").fetchone()
    n_users = cur.execute("SELECT count(*) FROM users WHERE NOT disabled").fetchone()[0]
    by_channel = cur.execute(
        "SELECT channel, count(DISTINCT source) AS sources, sum(row_count) AS rows FROM batches "
        "GROUP BY channel ORDER BY rows DESC").df()
    recent = cur.execute(
        "SELECT batch_id, source, file_name, row_count, uploaded_by, uploaded_at FROM batches "
        "ORDER BY batch_id DESC LIMIT 10").df()
    score, oneids = cur.execute("SELECT (SELECT score FROM profile_runs ORDER BY run_id DESC LIMIT 1), "
                                "(SELECT count(DISTINCT oneid) FROM crosswalk)").fetchone()
    open_requests, overdue = dsr.open_counts(cur)
    return {"sources": n_sources, "batches": n_batches, "rows": int(n_rows), "users": n_users,
            "by_channel": by_channel, "recent": recent, "score": score, "oneids": oneids,
            "to_review": review.queue_size(cur), "open_requests": open_requests, "overdue_requests": overdue}
