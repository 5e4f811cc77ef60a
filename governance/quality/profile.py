"""Profiling and quality scores, entirely in SQL over `std_records`, stored per run.

Per source × field (and per batch, for trends): records, missing, valid, invalid, counts by
status and reason, distinct values, uniqueness, top values, value patterns, min and max, and the
raw values already clean before standardization. Scores weight the quality dimensions; pages read
the stored results, never the raw tables.
"""
from __future__ import annotations

import json
import time
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Iterator

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa
from duckdb.func import PythonUDFType

from governance.access import audit
from governance.access.events import Event
from governance.quality import rules as rules_mod
from governance.standardize.engine import VALID_SQL
from governance.standardize.normalizers import STATUSES
from governance.store.schema import FIELD_NAMES
from governance.store.storage import Database, scalar
from governance.store.util import utcnow

WEIGHTS = {"completeness": 0.3, "validity": 0.4, "uniqueness": 0.15, "consistency": 0.15}
DROP_BOUND = 5.0  # a batch whose score falls more than this many points below the previous one is flagged
PATTERN_FIELDS = ("mobile", "landline", "id_card", "email", "birth_date", "postcode", "gender", "member_card",
                  "registered_at", "wechat_open_id", "marketing_consent", "other_id", "age_band")
KEY_FIELDS = ("mobile", "id_card", "email", "wechat_union_id", "wechat_open_id", "douyin_id", "member_card", "other_id")
TOP_N = 5
MISSING = ("missing", "placeholder")
_CHECK_FIELDS = {"check_birth_id": ("birth_date", "id_card"), "check_gender_id": ("gender", "id_card"),
                 "check_region_id": ("province",)}


_mapped_fields = rules_mod.mapped_fields  # fields each source maps (current mapping): only those are profiled


def _union(parts: list[str]) -> str:
    return " UNION ALL ".join(parts)


def _score(dims: dict[str, float | None]) -> float | None:
    present = {k: v for k, v in dims.items() if v is not None}
    if not present:
        return None
    weight = sum(WEIGHTS[k] for k in present)
    return round(100 * sum(WEIGHTS[k] * v for k, v in present.items()) / weight, 2)


def _top_n(cur: duckdb.DuckDBPyConnection, table: str, expressions: dict[str, str], key: str) -> list[tuple]:
    """(source, field, distinct values, min, max, [{key: value, 'n': count}, …]) of each field's
    expression per source, the list with the TOP_N most frequent values, most frequent first and
    ties by value. One hash aggregate per field feeds them all: the distinct values are its groups,
    and the top-k aggregate's smallest keys (-count, value) are exactly the first rows of
    ORDER BY count DESC, value (value is unique within a source and field)."""
    parts = [f"SELECT source, '{f}' AS field, {expr} AS v, count(*) AS n FROM {table} WHERE {f} IS NOT NULL "
             "GROUP BY source, v" for f, expr in expressions.items()]
    return cur.execute(f"SELECT source, field, count(*), min(v), max(v), arg_min({{'{key}': v, 'n': n}}, "
                       f"{{'k': -n, 'v': v}}, {TOP_N}) FROM (" + _union(parts) + ") GROUP BY source, field").fetchall()


# ---------------------------------------------------------------- value patterns

PATTERN_FUNCTION = "steward_value_pattern"
_PATTERN_BYTES = np.arange(256, dtype=np.uint8)
_PATTERN_BYTES[np.frombuffer(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz", dtype=np.uint8)] = ord("A")
_PATTERN_BYTES[np.frombuffer(b"0123456789", dtype=np.uint8)] = ord("N")
_HAN = tuple("汉".encode())  # U+6C49: like every character of U+4E00–U+9FFF, three bytes in UTF-8


def value_patterns(values: pa.Array | pa.ChunkedArray) -> pa.Array:
    """The pattern of each value, byte for byte what
    regexp_replace(regexp_replace(regexp_replace(v, '[A-Za-z]', 'A', 'g'), '[0-9]', 'N', 'g'), '[\\x{4e00}-\\x{9fff}]', '汉', 'g')
    returns: ASCII letters become A, ASCII digits N, CJK unified ideographs 汉, all else stays.

    Every replacement keeps the UTF-8 length, so the offsets stay and only the data buffer is
    rewritten: a byte table for the ASCII classes (an ASCII byte is never part of a multi-byte
    character), then each three-byte character U+4E00–U+9FFF (lead byte E4–E9) becomes 汉."""
    if isinstance(values, pa.ChunkedArray):
        values = values.combine_chunks()
    if values.type not in (pa.string(), pa.large_string()):
        values = values.cast(pa.large_string())
    validity, offsets, data = values.buffers()
    if data is None or data.size == 0:
        return values
    raw = np.frombuffer(data, dtype=np.uint8)
    out = _PATTERN_BYTES[raw]
    lead = np.flatnonzero((raw[:-2] >= 0xE4) & (raw[:-2] <= 0xE9))
    if lead.size:
        b0, b1, b2 = (raw[lead + i].astype(np.int32) for i in range(3))
        codepoint = ((b0 & 0x0F) << 12) | ((b1 & 0x3F) << 6) | (b2 & 0x3F)
        han = lead[((b1 & 0xC0) == 0x80) & ((b2 & 0xC0) == 0x80) & (codepoint >= 0x4E00) & (codepoint <= 0x9FFF)]
        for i in range(3):
            out[han + i] = _HAN[i]
    return pa.Array.from_buffers(values.type, len(values), [validity, offsets, pa.py_buffer(out)],
                                 values.null_count, values.offset)


@contextmanager
def pattern_function(cur: duckdb.DuckDBPyConnection) -> Iterator[str]:
    """`value_patterns` as the SQL function PATTERN_FUNCTION for the duration of the block. Use it
    inside a transaction: the catalog entry is removed at the end, or, if the transaction failed,
    by its rollback (a function must not outlive the cursor that registered it)."""
    cur.create_function(PATTERN_FUNCTION, value_patterns, ["VARCHAR"], "VARCHAR", type=PythonUDFType.ARROW)
    try:
        yield PATTERN_FUNCTION
    finally:
        try:
            cur.remove_function(PATTERN_FUNCTION)
        except duckdb.Error:
            pass  # the transaction is aborted; its rollback drops the function


@dataclass
class ProfileRun:
    run_id: int
    seconds: float
    score: float | None


def run_profile(db: Database, actor: str) -> ProfileRun:
    """Profile every source and field, evaluate the rules, score, and store it all as one run."""
    started = time.perf_counter()
    with db.cursor() as cur:
        mapped = _mapped_fields(cur)
        records = scalar(cur, "SELECT count(*) FROM std_records")
    with db.transaction() as cur:
        run_id = scalar(cur, "SELECT nextval('profile_run_seq')")
        cur.execute("INSERT INTO profile_status " + _union([
            f"SELECT {run_id}, source, batch_id, '{f}', {f}_status, {f}_reason, count(*) FROM std_records GROUP BY ALL"
            for f in FIELD_NAMES]))
        # Distinct values, min, max and top values of each standardized field; a source without a
        # value in a field has no row (stored as 0 distinct values, no min or max, no top values).
        stats = _top_n(cur, "std_records", {f: f for f in FIELD_NAMES}, "value")
        values = [row[:5] for row in stats]
        tops = [(source, f, top) for source, f, *_, top in stats]
        present = {f for _, f, *_ in stats}
        with pattern_function(cur) as fn:  # a field mapped nowhere is a constant NULL: its part costs nothing
            patterns = [(source, f, top) for source, f, *_, top in
                        _top_n(cur, "mapped_records", {f: f"{fn}({f})" for f in PATTERN_FIELDS}, "pattern")]
        compared = [f for f in FIELD_NAMES if f in present]  # m.f = s.f is never true where s.f is always NULL
        counts = {row[0]: dict(zip(compared, row[1:])) for row in cur.execute(
            "SELECT s.source" + "".join(f", count(*) FILTER (WHERE m.{f} = s.{f})" for f in compared)
            + " FROM std_records s JOIN mapped_records m USING (batch_id, row_number) GROUP BY s.source").fetchall()}
        clean = [(source, *(c.get(f, 0) for f in FIELD_NAMES)) for source, c in counts.items()]
        row_hash = "hash(" + ", ".join(f"s.{f}" for f in FIELD_NAMES) + ")"
        dup_rows = dict(cur.execute(
            f"SELECT source, sum(n - 1) FROM (SELECT source, {row_hash} h, count(*) n FROM std_records s "
            "GROUP BY ALL HAVING count(*) > 1) GROUP BY source").fetchall())
        _store_keys(cur, run_id)
        rule_results = rules_mod.evaluate(cur, mapped=mapped)
        for r in rule_results:
            cur.execute("INSERT INTO rule_results VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                        [run_id, r.source, r.rule.rule_id, r.rule.version, r.rule.name, r.rule.severity,
                         r.rule.dimension, ",".join(r.rule.fields or [c for c in r.rule.params.values()
                                                                    if isinstance(c, str)]),
                         r.applicable, r.failed, r.pass_rate, r.rule.mostly, r.passed])
        _store_scores(cur, run_id, mapped, values, tops, patterns, clean, dup_rows, rule_results)
        score = scalar(cur, "SELECT sum(score * rows) / nullif(sum(rows), 0) FROM profile_sources WHERE run_id = ? "
                            "AND score IS NOT NULL", [run_id])
        seconds = time.perf_counter() - started
        cur.execute("INSERT INTO profile_runs VALUES (?, ?, ?, ?, ?, ?)",
                    [run_id, actor, utcnow(), seconds, records, None if score is None else round(score, 2)])
        audit.record(cur, actor, Event.PROFILE_RUN, "profile_run", run_id, {"records": records, "score": score})
    return ProfileRun(run_id, seconds, score)


def _store_keys(cur: duckdb.DuckDBPyConnection, run_id: int) -> None:
    """profile_keys: per key field, the valid values found in more than one source and their rows.
    Only fields with valid values in two or more sources (per profile_status) can share one; the
    others store (0, 0) without a scan."""
    shared = {f for f, in cur.execute(
        f"SELECT field FROM profile_status WHERE run_id = ? AND status IN {VALID_SQL} "
        "GROUP BY field HAVING count(DISTINCT source) > 1", [run_id]).fetchall()}
    parts = [f"SELECT {run_id}, '{f}', count(*), coalesce(sum(n), 0) FROM (SELECT {f}, count(*) n FROM std_records "
             f"WHERE {f}_status IN {VALID_SQL} GROUP BY {f} HAVING min(source) <> max(source))"
             if f in shared else f"SELECT {run_id}, '{f}', 0, 0" for f in KEY_FIELDS]
    cur.execute("INSERT INTO profile_keys " + _union(parts))


def _rule_dims(rule_results: list[rules_mod.RuleResult]) -> dict[tuple[str, str, str], list[float]]:
    """(source, field, dimension) -> pass rates of the uniqueness and consistency rules touching the field."""
    dims: dict[tuple[str, str, str], list[float]] = {}
    for r in rule_results:
        if r.rule.dimension not in ("uniqueness", "consistency") or not r.applicable:
            continue
        fields = r.rule.fields or list(_CHECK_FIELDS.get(r.rule.params.get("check", ""), ()))
        for f in fields:
            dims.setdefault((r.source, f, r.rule.dimension), []).append(r.pass_rate)
    return dims


def _store_scores(cur, run_id, mapped, values, tops, patterns, clean, dup_rows, rule_results) -> None:
    # In a fixed order: source and batch scores are float means of the field scores, and a sum of
    # floats depends on its order (unordered, two runs on the same data could differ by 0.01).
    status = cur.execute("SELECT source, batch_id, field, status, sum(n) FROM profile_status WHERE run_id = ? "
                         "GROUP BY ALL ORDER BY source, batch_id, field, status", [run_id]).fetchall()
    counts: dict[tuple, dict[str, int]] = {}
    for source, batch_id, f, st, n in status:
        for key in ((source, None, f), (source, batch_id, f)):
            bucket = counts.setdefault(key, dict.fromkeys(STATUSES, 0))
            bucket[st] = bucket.get(st, 0) + int(n)
    value_stats = {(s, f): (d, lo, hi) for s, f, d, lo, hi in values}
    top_map = {(s, f): v for s, f, v in tops}
    pattern_map = {(s, f): v for s, f, v in patterns}
    clean_map = {row[0]: dict(zip(FIELD_NAMES, row[1:])) for row in clean}
    rule_dims = _rule_dims(rule_results)

    def dims(source: str, f: str, c: dict[str, int]) -> dict[str, float | None]:
        total = sum(c.values())
        present = total - c["missing"] - c["placeholder"]
        d = {"completeness": present / total if total else None,
             "validity": (c["valid"] + c["valid_with_warning"]) / present if present else None}
        for dim in ("uniqueness", "consistency"):
            rates = rule_dims.get((source, f, dim))
            d[dim] = min(rates) if rates else None
        return d

    batch_scores: dict[tuple[str, int], list[float]] = {}
    source_scores: dict[str, list[float]] = {}
    for (source, batch_id, f), c in counts.items():
        if f not in mapped.get(source, set()):
            continue
        d = dims(source, f, c)
        score = _score(d)
        if batch_id is not None:
            if score is not None:
                batch_scores.setdefault((source, batch_id), []).append(score)
            continue
        if score is not None:
            source_scores.setdefault(source, []).append(score)
        total = sum(c.values())
        distinct, lo, hi = value_stats.get((source, f), (0, None, None))
        present = total - c["missing"] - c["placeholder"]
        cur.execute("INSERT INTO profile_fields VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", [
            run_id, source, f, total, c["missing"] + c["placeholder"], c["valid"] + c["valid_with_warning"],
            c["invalid"], c["masked"], distinct, distinct / present if present else None, lo, hi,
            clean_map.get(source, {}).get(f), d["completeness"], d["validity"], d["uniqueness"], d["consistency"],
            score, json.dumps(top_map.get((source, f)) or [], ensure_ascii=False),
            json.dumps(pattern_map.get((source, f)) or [], ensure_ascii=False)])
    batches = cur.execute("SELECT source, batch_id, uploaded_at, row_count FROM batches ORDER BY source, batch_id").fetchall()
    previous: dict[str, float] = {}
    for source, batch_id, uploaded_at, rows in batches:
        scores = batch_scores.get((source, batch_id))
        score = round(sum(scores) / len(scores), 2) if scores else None
        dropped = score is not None and source in previous and previous[source] - score > DROP_BOUND
        cur.execute("INSERT INTO profile_batches VALUES (?, ?, ?, ?, ?, ?, ?)",
                    [run_id, source, batch_id, uploaded_at, rows, score, dropped])
        if score is not None:
            previous[source] = score
    for source, rows in cur.execute("SELECT source, count(*) FROM std_records GROUP BY source").fetchall():
        scores = source_scores.get(source)
        flagged = scalar(cur, "SELECT bool_or(dropped) FROM profile_batches WHERE run_id = ? AND source = ?",
                              [run_id, source])
        cur.execute("INSERT INTO profile_sources VALUES (?, ?, ?, ?, ?, ?)",
                    [run_id, source, rows, round(sum(scores) / len(scores), 2) if scores else None,
                     int(dup_rows.get(source) or 0), bool(flagged)])


# ---------------------------------------------------------------- reading stored results

def latest_run(cur: duckdb.DuckDBPyConnection) -> dict | None:
    row = cur.execute("SELECT run_id, actor, ts, seconds, records, score FROM profile_runs ORDER BY run_id DESC LIMIT 1").fetchone()
    return dict(zip(("run_id", "actor", "ts", "seconds", "records", "score"), row)) if row else None


def fields_frame(cur: duckdb.DuckDBPyConnection, run_id: int) -> pd.DataFrame:
    return cur.execute("SELECT * EXCLUDE (run_id) FROM profile_fields WHERE run_id = ? ORDER BY source, field", [run_id]).df()


def sources_frame(cur: duckdb.DuckDBPyConnection, run_id: int) -> pd.DataFrame:
    return cur.execute("SELECT source, rows, score, duplicate_rows, duplicate_rows / nullif(rows, 0) AS duplicate_rate, "
                       "flagged FROM profile_sources WHERE run_id = ? ORDER BY source", [run_id]).df()


def reasons_frame(cur: duckdb.DuckDBPyConnection, run_id: int) -> pd.DataFrame:
    return cur.execute("SELECT source, field, reason, status, sum(n) AS n FROM profile_status WHERE run_id = ? "
                       "AND reason IS NOT NULL AND status NOT IN ('missing') GROUP BY ALL ORDER BY n DESC, source, field, "
                       "reason", [run_id]).df()


def trend_frame(cur: duckdb.DuckDBPyConnection, run_id: int) -> pd.DataFrame:
    """Batches in the order they were uploaded (batch ids of different sources interleave)."""
    return cur.execute("SELECT source, batch_id, uploaded_at, rows, score, dropped FROM profile_batches WHERE run_id = ? "
                       "ORDER BY uploaded_at, batch_id", [run_id]).df()


def runs_frame(cur: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    return cur.execute("SELECT r.run_id, r.ts, r.score, s.source, s.score AS source_score FROM profile_runs r "
                       "JOIN profile_sources s USING (run_id) ORDER BY r.run_id").df()


def keys_frame(cur: duckdb.DuckDBPyConnection, run_id: int) -> pd.DataFrame:
    return cur.execute("SELECT field, shared_values, rows_involved FROM profile_keys WHERE run_id = ? ORDER BY field",
                       [run_id]).df()


def rules_frame(cur: duckdb.DuckDBPyConnection, run_id: int) -> pd.DataFrame:
    return cur.execute("SELECT source, rule_id, name, severity, dimension, fields, applicable, failed, pass_rate, mostly, "
                       "passed FROM rule_results WHERE run_id = ? ORDER BY passed, severity, source, rule_id", [run_id]).df()


@dataclass
class Report:
    """Everything the Quality page shows of one stored run."""
    run: dict
    fields: pd.DataFrame
    sources: pd.DataFrame
    reasons: pd.DataFrame
    trend: pd.DataFrame
    keys: pd.DataFrame
    rules: pd.DataFrame

    def flagged_sources(self) -> list[str]:
        """Sources whose latest batch's score dropped (see DROP_BOUND)."""
        return self.sources.loc[self.sources["flagged"], "source"].tolist()

    def field_names(self) -> list[str]:
        return sorted(self.fields["field"].unique().tolist())

    def reasons_of(self, field: str, source: str | None = None) -> list[str]:
        """The reason codes that occur for `field` (in `source`, if given), sorted."""
        rows = self.reasons["field"] == field
        if source:
            rows &= self.reasons["source"] == source
        return sorted(self.reasons.loc[rows, "reason"].unique().tolist())

    def for_source(self, source: str | None) -> "Report":
        """The report narrowed to one source (None or '': all of them). The run and the identifiers
        shared across sources stay as they are: they describe the workspace."""
        if not source:
            return self

        def narrow(frame: pd.DataFrame) -> pd.DataFrame:
            return frame[frame["source"] == source].reset_index(drop=True) if "source" in frame.columns else frame

        return Report(self.run, narrow(self.fields), narrow(self.sources), narrow(self.reasons), narrow(self.trend),
                      self.keys, narrow(self.rules))


def latest_report(cur: duckdb.DuckDBPyConnection) -> Report | None:
    """The latest run's results, or None before the first run."""
    run = latest_run(cur)
    if run is None:
        return None
    run_id = run["run_id"]
    return Report(run, fields_frame(cur, run_id), sources_frame(cur, run_id), reasons_frame(cur, run_id),
                  trend_frame(cur, run_id), keys_frame(cur, run_id), rules_frame(cur, run_id))


def as_json(cur: duckdb.DuckDBPyConnection, run_id: int | None = None) -> dict:
    """The `profile --json` contract (see the README)."""
    run = latest_run(cur) if run_id is None else {"run_id": run_id, "score": scalar(cur,
        "SELECT score FROM profile_runs WHERE run_id = ?", [run_id])}
    if run is None:
        return {"score": None, "sources": []}
    rid = run["run_id"]
    by_status: dict[tuple[str, str], dict[str, int]] = {}
    by_reason: dict[tuple[str, str], dict[str, int]] = {}
    for source, f, st, reason, n in cur.execute(
            "SELECT source, field, status, reason, sum(n) FROM profile_status WHERE run_id = ? GROUP BY ALL", [rid]).fetchall():
        by_status.setdefault((source, f), {})
        by_status[(source, f)][st] = by_status[(source, f)].get(st, 0) + int(n)
        if reason:
            by_reason.setdefault((source, f), {})
            by_reason[(source, f)][reason] = by_reason[(source, f)].get(reason, 0) + int(n)
    fields = fields_frame(cur, rid)
    out = []
    for source, rows, score, *_ in sources_frame(cur, rid).itertuples(index=False):
        entries = []
        for row in fields[fields["source"] == source].itertuples(index=False):
            entries.append({"field": row.field, "records": int(row.records), "missing": int(row.missing),
                            "valid": int(row.valid), "invalid": int(row.invalid),
                            "by_status": dict(sorted(by_status.get((source, row.field), {}).items())),
                            "by_reason": dict(sorted(by_reason.get((source, row.field), {}).items())),
                            "score": None if pd.isna(row.score) else float(row.score)})
        out.append({"source": source, "rows": int(rows), "score": None if pd.isna(score) else float(score),
                    "fields": entries})
    return {"score": run["score"], "sources": out}
