"""The source catalogue: what each source holds, who looks after it, and its batches."""
from __future__ import annotations

import duckdb
import pandas as pd

from governance.access import audit
from governance.access.events import Event
from governance.sources import mapping
from governance.store.schema import BY_NAME, channel_label
from governance.store.storage import Database
from governance.store.util import utcnow


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
        pii.append(sorted(f for f in fields if f in BY_NAME and BY_NAME[f].pii))  # event fields are no PII
    frame["mapped_fields"] = mapped
    frame["pii_fields"] = pii
    return frame


def display(listing: pd.DataFrame, lang: str) -> pd.DataFrame:
    """A catalogue (`catalogue`) as the Sources page lists it: channels named in `lang`, field lists joined."""
    return listing.assign(channel=[channel_label(c, lang) for c in listing["channel"]],
                          mapped_fields=listing["mapped_fields"].map(", ".join),
                          pii_fields=listing["pii_fields"].map(", ".join))


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


def add_source(cur: duckdb.DuckDBPyConnection, actor: str, source: str, channel: str) -> None:
    """A new source, with the uploader as its first steward (inside the caller's transaction)."""
    cur.execute("INSERT INTO sources VALUES (?, ?, ?, NULL, ?, ?)", [source, channel, actor, actor, utcnow()])
    audit.record(cur, actor, Event.SOURCE_CREATE, "source", source, {"channel": channel})


def set_steward(db: Database, actor: str, source: str, steward: str | None) -> None:
    with db.transaction() as cur:
        cur.execute("UPDATE sources SET steward = ? WHERE source = ?", [steward or None, source])
        audit.record(cur, actor, Event.SOURCE_STEWARD, "source", source, {"steward": steward})


def preview_rows(cur: duckdb.DuckDBPyConnection, batch_id: int, limit: int = 50, offset: int = 0) -> pd.DataFrame:
    """A page of one batch's raw rows, with the original headers as column names."""
    row = cur.execute("SELECT table_name FROM batches WHERE batch_id = ?", [batch_id]).fetchone()
    if not row:
        return pd.DataFrame()
    columns = cur.execute("SELECT column_name, header FROM batch_columns WHERE batch_id = ? ORDER BY position",
                          [batch_id]).fetchall()
    frame = cur.execute(f"SELECT * FROM {row[0]} ORDER BY _row LIMIT ? OFFSET ?", [limit, offset]).df()
    return frame.rename(columns={"_row": "#", **dict(columns)})
