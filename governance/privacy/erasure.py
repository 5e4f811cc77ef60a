"""Erasure: remove source records, and everything derived from them, from every table.

One mechanism for deletion requests (privacy.dsr) and retention (privacy.retention),
run inside the caller's transaction. The records to erase are (batch_id, row_number) pairs.

What goes:
- the raw rows in `raw.batch_<id>`;
- every row of every table holding the records: tables with (batch_id, row_number), with a
  `rec_id`, or with a `rec_l`/`rec_r` pair (match pairs, review decisions, cluster flags) —
  found in information_schema, so tables added later (consent, overrides, export lists) are
  covered as long as they carry one of these columns or a `oneid`;
- for a whole person (`erased_oneids`): every row of every table with a `oneid` column (golden
  records and lineage, OneID history, consent records, …);
- for records of people who stay (`stale_oneids`, retention): their golden record and lineage,
  rebuilt by the caller after the commit; a person of `stale_oneids` none of whose records stay
  goes as a whole person does (`people_erased`);
- cache entries (`std_cache`) of raw values no remaining record uses;
- the erased values among stored profile top values and minimum/maximum values.

A DELETE marks rows deleted, but their bytes can stay in freed blocks of the DuckDB file until
they are reused: `store.storage.compact` (CLI `python -m governance compact`, app stopped) rewrites the store.

What stays: the append-only audit log and the evidence tables listed in KEEP (request
records, tombstones, retention runs), which hold ids and counts, never the erased values.
"""
from __future__ import annotations

import json
from collections.abc import Sequence

import duckdb
import pyarrow as pa

from governance.events import events
from governance.oneid import resolve
from governance.sources.mapping import MAPPED_VIEWS
from governance.store.schema import FIELD_NAMES, pii_fields
from governance.store.storage import RAW_SCHEMA, quote_ident, scalar

KEEP = frozenset({"audit_log", "schema_migrations", "dsr_requests", "dsr_tombstones", "dsr_tombstone_keys",
                  "retention_policies", "retention_runs", "std_cache", "profile_fields"})
REC_BASE = 4294967296  # rec_id = batch_id * REC_BASE + row_number (governance/oneid/links.py)


# Golden records are derived per OneID: when some records of a person stay (retention), these rows
# go and the caller rebuilds them (golden_wide is the table behind the golden views).
GOLDEN_DERIVED = frozenset({"golden_records", "golden_lineage", "golden_wide"})


def linked_tables(cur: duckdb.DuckDBPyConnection, views: bool = False) -> list[tuple[str, str, set[str]]]:
    """(schema, table, link columns) of every base table (and view, when asked) outside `raw` that
    can hold a person's data: it has batch_id + row_number, rec_id, rec_l + rec_r, or oneid."""
    kinds = ["BASE TABLE", "VIEW"] if views else ["BASE TABLE"]
    rows = cur.execute(
        "SELECT c.table_schema, c.table_name, list(c.column_name) FROM information_schema.columns c "
        "JOIN information_schema.tables t ON t.table_catalog = c.table_catalog AND t.table_schema = c.table_schema "
        "AND t.table_name = c.table_name WHERE list_contains(?::VARCHAR[], t.table_type) "
        "AND c.table_catalog = current_database() AND c.table_schema NOT IN (?, 'information_schema', 'pg_catalog') "
        "GROUP BY ALL ORDER BY 1, 2", [kinds, RAW_SCHEMA]).fetchall()
    out = []
    for schema, table, columns in rows:
        if table in KEEP or table in MAPPED_VIEWS:
            continue
        links = set(columns) & {"batch_id", "row_number", "rec_id", "rec_l", "rec_r", "oneid"}
        if {"batch_id", "row_number"} <= links or "rec_id" in links or {"rec_l", "rec_r"} <= links or "oneid" in links:
            out.append((schema, table, links))
    return out


def record_condition(links: set[str], alias: str = "t") -> str | None:
    """SQL condition selecting a table's rows that belong to the records in temp table `record_set`."""
    if {"batch_id", "row_number"} <= links:
        return (f"EXISTS (SELECT 1 FROM record_set e WHERE e.batch_id = {alias}.batch_id "
                f"AND e.row_number = {alias}.row_number)")
    if "rec_id" in links:
        return f"{alias}.rec_id IN (SELECT rec_id FROM record_set)"
    if {"rec_l", "rec_r"} <= links:
        return f"({alias}.rec_l IN (SELECT rec_id FROM record_set) OR {alias}.rec_r IN (SELECT rec_id FROM record_set))"
    return None


def stage(cur: duckdb.DuckDBPyConnection, records: list[tuple[int, int]]) -> None:
    """Put the records into the temp table `record_set` (batch_id, row_number, rec_id)."""
    keys = pa.table({"batch_id": pa.array([r[0] for r in records], pa.int64()),  # noqa: F841 (read by DuckDB)
                     "row_number": pa.array([r[1] for r in records], pa.int64())})
    cur.execute(f"CREATE OR REPLACE TEMP TABLE record_set AS SELECT DISTINCT batch_id, row_number, "
                f"batch_id * {REC_BASE} + row_number AS rec_id FROM keys")


def _unpivot(source_sql: str, names: Sequence[str] = FIELD_NAMES) -> str:
    columns = ", ".join(names)
    return (f"SELECT DISTINCT field, value FROM (UNPIVOT ({source_sql}) ON {columns} "
            f"INTO NAME field VALUE value)")


def erase(cur: duckdb.DuckDBPyConnection, records: list[tuple[int, int]], erased_oneids: Sequence[str] = (),
          stale_oneids: Sequence[str] = ()) -> dict[str, int]:
    """Erase `records` everywhere (inside the caller's transaction); return rows removed per table
    (plus `std_cache` entries and `profile_fields` rows redacted). No values are returned."""
    stage(cur, records)
    resolve.note_erasure(cur, "record_set")
    fields = ", ".join(FIELD_NAMES)
    semi = "SEMI JOIN record_set e USING (batch_id, row_number)"
    cur.execute("CREATE OR REPLACE TEMP TABLE erased_raw AS "
                + _unpivot(f"SELECT {fields} FROM mapped_records m {semi}"))
    personal = pii_fields()
    cur.execute("CREATE OR REPLACE TEMP TABLE erased_std AS "
                + _unpivot(f"SELECT {', '.join(personal)} FROM std_records s {semi}", personal))
    counts: dict[str, int] = {}

    def add(name: str, n: int) -> None:
        if n:
            counts[name] = counts.get(name, 0) + int(n)

    batches = cur.execute("SELECT b.batch_id, b.table_name FROM batches b WHERE b.batch_id IN "
                          "(SELECT DISTINCT batch_id FROM record_set) ORDER BY 1").fetchall()
    for batch_id, table in batches:
        add("raw", scalar(cur, f"DELETE FROM {table} WHERE _row IN (SELECT row_number FROM record_set "
                               f"WHERE batch_id = ?)", [batch_id]))
    for temp, oneids in (("erased_oneids", erased_oneids), ("stale_oneids", stale_oneids)):
        cur.execute(f"CREATE OR REPLACE TEMP TABLE {temp} AS SELECT DISTINCT unnest(?::VARCHAR[]) AS oneid",
                    [list(oneids)])
    # A person none of whose records stay (retention) goes as a whole: hand-set values, tags, consent…
    cur.execute("INSERT INTO erased_oneids SELECT oneid FROM stale_oneids s WHERE oneid NOT IN "
                "(SELECT oneid FROM erased_oneids) AND NOT EXISTS (SELECT 1 FROM crosswalk c WHERE c.oneid = s.oneid "
                "AND NOT EXISTS (SELECT 1 FROM record_set e WHERE e.rec_id = c.rec_id))")
    whole = bool(scalar(cur, "SELECT count(*) FROM erased_oneids"))
    for schema, table, links in linked_tables(cur):
        name = f"{quote_ident(schema)}.{quote_ident(table)}"
        conditions = []
        by_record = record_condition(links)
        if by_record:
            conditions.append(by_record)
        if "oneid" in links and whole:
            conditions.append("t.oneid IN (SELECT oneid FROM erased_oneids)")
        if "oneid" in links and stale_oneids and table in GOLDEN_DERIVED:
            conditions.append("t.oneid IN (SELECT oneid FROM stale_oneids)")
        if conditions:
            add(table, scalar(cur, f"DELETE FROM {name} t WHERE " + " OR ".join(conditions)))
    # Cache entries of raw values that no remaining record uses (per field; one column scan each).
    touched = [r[0] for r in cur.execute("SELECT DISTINCT field FROM erased_raw ORDER BY 1").fetchall()]
    if touched:
        still_used = " UNION ALL ".join(
            f"SELECT DISTINCT '{f}' AS field, m.{f} AS value FROM mapped_records m "
            f"WHERE m.{f} IN (SELECT value FROM erased_raw WHERE field = '{f}')" for f in touched if f in FIELD_NAMES)
        add("std_cache", scalar(
            cur, f"DELETE FROM std_cache c USING (SELECT * FROM erased_raw EXCEPT ({still_used})) v "
            f"WHERE c.field = v.field AND c.raw = v.value"))
    add("profile_fields", redact_profiles(cur))
    events.mark_superseded(cur, [b for b, _table in batches])  # an order's erased latest export: the one before counts
    return counts


def people_erased(cur: duckdb.DuckDBPyConnection) -> list[str]:
    """The OneIDs the last `erase` on this cursor removed as a whole."""
    return [r[0] for r in cur.execute("SELECT oneid FROM erased_oneids ORDER BY 1").fetchall()]


def redact_profiles(cur: duckdb.DuckDBPyConnection) -> int:
    """Drop the values in temp table `erased_std` from stored profiles (top values, min, max)."""
    values: dict[str, set[str]] = {}
    for field, value in cur.execute("SELECT field, value FROM erased_std").fetchall():
        values.setdefault(field, set()).add(value)
    if not values:
        return 0
    rows = cur.execute("SELECT rowid, field, top_values, min_value, max_value FROM profile_fields WHERE "
                       "list_contains(?::VARCHAR[], field)", [sorted(values)]).fetchall()
    updates = []
    for rowid, field, top, low, high in rows:
        gone = values[field]
        kept = [t for t in json.loads(top or "[]") if t.get("value") not in gone]
        new_low, new_high = (None if low in gone else low), (None if high in gone else high)
        if len(kept) != len(json.loads(top or "[]")) or (new_low, new_high) != (low, high):
            updates.append([json.dumps(kept, ensure_ascii=False), new_low, new_high, rowid])
    if updates:
        cur.executemany("UPDATE profile_fields SET top_values = ?, min_value = ?, max_value = ? WHERE rowid = ?", updates)
    return len(updates)
