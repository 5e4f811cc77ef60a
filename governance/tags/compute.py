"""Customer tag values as of a date: computed in DuckDB SQL, stored per OneID with history and run health.

This module alone writes tag_values, tag_history, tag_runs and tag_inputs.

A run (`compute`) takes every computed tag (library.computed) and, in one transaction:
1. finds the OneIDs whose golden_wide row changed since the last run: tag_inputs holds a hash of each
   OneID's golden columns that tags read, its members and their standardization time (so it changes
   with the OneID's records and their events); new, changed and gone OneIDs form the scope;
2. decides per tag: *full* (every OneID) when asked, when the run names `codes`, when the tag's last run
   was for another date or version, for source-mapping tags (a mapping changes values without changing
   any golden row) and for rule tags that read other tags; otherwise *incremental* (the scope only);
3. reads the events once: the completed events up to the date of every OneID (or, when no tag that
   reads events is full, of the scope: the crosswalk is narrowed to the scope before it meets
   std_events) into a temporary table (templates.EVENTS), then rolls it up: one GROUP BY oneid with
   every aggregate all tags need (conditions.aggregates_sql); the preference tags group it by OneID
   and channel or category;
4. computes each tag with set-based SQL (templates.py; source mappings through source_tags.values_sql)
   into one temporary table of new values: the tags computed row by row from a golden row and its
   aggregates all in one pass (templates.wide_sql); a tag that reads other tags waits until they are
   written;
5. writes all tags at once: compares the new values with the stored ones of the same OneIDs; a tag
   computed for a new date or version has all its rows replaced (as_of and version change), otherwise
   only the rows that changed are deleted and inserted;
6. records history for enumeration, boolean and date tags: a OneID whose value changes gets its open
   row closed (valid_to = as_of) and a new one opened; a value that disappears only closes its row; a
   row opened the same day and changed again is replaced;
7. writes one tag_runs row per tag: coverage, the value distribution (JSON, see `distribution_json`) and
   PSI against the tag's previous run; a run of the same date and version updates the previous run's
   counts by the changed rows instead of counting every value again; and, when the run covered every
   tag, tag_inputs.

Calibration per date. rfm_segment's quintile thresholds, and the decile edges of a number tag's
distribution, are set by the first computation of an as-of date, over every OneID, and stored on that
tag_runs row (`thresholds`, `edges` in the distribution JSON). Every later computation of the same date,
full or incremental, scores with them, like a saved model that scores until its next calibration; a
new date (a full run anyway) sets new ones. So a OneID's segment depends only on its own events and the
date's thresholds, an incremental run equals a full run of the same date, and a change to 1 % of the
OneIDs re-segments only those.
"""
from __future__ import annotations

import json
import math
import re
import time
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Callable
from zoneinfo import ZoneInfo

import duckdb
import pandas as pd

from governance.access import audit
from governance.access.events import Event
from governance.store import serving
from governance.store.storage import Database, scalar
from governance.store.util import utcnow
from governance.tags import conditions, library, source_tags, templates
from governance.tags.definitions import TagDefinition, TagError

CHINA = ZoneInfo("Asia/Shanghai")
HISTORY_TYPES = ("enum", "boolean", "date")
SCOPE = "tag_scope"  # temp table: OneIDs to recompute in an incremental tag
PSI_FLOOR = 1e-4
TOP_VALUES = 100  # distribution JSON keeps this many values; the rest count as OTHER
OTHER = "__other__"
DECILES = [round(0.1 * i, 1) for i in range(1, 10)]


def today() -> date:
    """Today in China time (the default as_of)."""
    return datetime.now(CHINA).date()


@dataclass(frozen=True)
class ComputeResult:
    as_of: date
    mode: str      # full, incremental or mixed
    tags: int
    oneids: int    # OneIDs with a golden record
    changed: int   # values that changed, over all tags
    seconds: float


# ---- the run ---------------------------------------------------------------------------------------

NEW = "tag_new"      # temp: the values computed by this run (tag_code, oneid, value, number, source)
OLD = "tag_old"      # temp: the stored values they replace
MOVED = "tag_moved"  # temp: rows whose stored value differs from the computed one
BATCH = "tag_batch"  # temp: the tags being written, with their run ids
OPEN = "tag_open"    # temp: open history rows of the OneIDs whose value changed
POP = "tag_pop"      # temp: the golden rows of the scope
WIDE = "tag_wide_"   # temp, per mode: the row tags' values in one pass (templates.wide_sql)
TEMPS = ("tag_now", SCOPE, POP, templates.EVENTS, templates.AGG, NEW, OLD, MOVED, BATCH, OPEN, WIDE + "full",
         WIDE + "incremental")


def _computed(cur: duckdb.DuckDBPyConnection) -> list[TagDefinition]:
    return list(library.computed(cur))


def _ordered(tags: list[TagDefinition], as_of: date) -> list[TagDefinition]:
    """Tags that read other tags after those (cycles are refused)."""
    by_code = {t.code: t for t in tags}
    refs = {t.code: [r for r in templates.tag_references(t, as_of) if r in by_code and r != t.code] for t in tags}
    out: list[TagDefinition] = []
    state: dict[str, int] = {}

    def visit(code: str, path: tuple[str, ...]) -> None:
        if state.get(code) == 2:
            return
        if state.get(code) == 1:
            raise TagError(f"Tags read each other in a cycle: {' → '.join(path + (code,))}.")
        state[code] = 1
        for ref in refs[code]:
            visit(ref, path + (code,))
        state[code] = 2
        out.append(by_code[code])

    for t in tags:
        visit(t.code, ())
    return out


def _last_runs(cur: duckdb.DuckDBPyConnection) -> dict[str, tuple]:
    rows = cur.execute("SELECT tag_code, as_of, tag_version, distribution FROM tag_runs "
                       "QUALIFY row_number() OVER (PARTITION BY tag_code ORDER BY run_id DESC) = 1").fetchall()
    return {r[0]: (r[1], r[2], json.loads(r[3]) if r[3] else None) for r in rows}


def _find_scope(cur: duckdb.DuckDBPyConnection) -> int:
    """tag_now: each golden row's input hash; SCOPE: new, changed and gone OneIDs. Returns the scope's size.
    The hash covers what tags read: the golden columns of `_golden_columns`, and the members and their
    standardization time, which change whenever the OneID's records or their events do."""
    columns = ", ".join(f"g.{c}" for c in ["members_hash", "standardized_at", *_golden_columns()])
    cur.execute(f"CREATE OR REPLACE TEMP TABLE tag_now AS SELECT g.oneid, hash({columns}) AS golden_hash FROM golden_wide g")
    cur.execute(f"""
        CREATE OR REPLACE TEMP TABLE {SCOPE} AS
        SELECT coalesce(n.oneid, i.oneid) AS oneid FROM tag_now n FULL JOIN tag_inputs i ON i.oneid = n.oneid
        WHERE n.golden_hash IS DISTINCT FROM i.golden_hash""")
    # an order exported again under another OneID leaves the first OneID's golden row as it was
    since = scalar(cur, "SELECT max(started_at) FROM tag_runs")
    if since is not None and scalar(cur, "SELECT count(*) FROM std_events WHERE superseded_at >= ?", [since]):
        cur.execute(f"INSERT INTO {SCOPE} SELECT DISTINCT c.oneid FROM std_events e JOIN crosswalk c "
                    f"USING (batch_id, row_number) WHERE e.superseded_at >= ? "
                    f"AND c.oneid NOT IN (SELECT oneid FROM {SCOPE})", [since])
    return int(scalar(cur, f"SELECT count(*) FROM {SCOPE}"))


@dataclass
class _Computed:
    """A tag whose values are in NEW, waiting to be written."""
    tag: TagDefinition
    mode: str
    extra: dict[str, Any]
    seconds: float


def compute(db: Database, actor: str, as_of: date | None = None, codes: list[str] | None = None, full: bool = False,
            progress: Callable[[float, str], None] | None = None,
            definitions: list[TagDefinition] | tuple[TagDefinition, ...] | None = None) -> ComputeResult:
    """Compute every computed tag (or `codes`) as of `as_of` (default today in China time, or the latest
    date tags were computed for if that is later; an earlier date is refused), incrementally
    where it equals a full run (module docstring). `definitions` replaces library.computed (tests,
    benchmarks)."""
    started = time.perf_counter()
    report = progress or (lambda f, s: None)
    with db.transaction() as cur:
        tags = list(definitions) if definitions is not None else _computed(cur)
        if codes is not None:
            unknown = sorted(set(codes) - {t.code for t in tags})
            if unknown:
                raise TagError(f"Not a computed (published or deprecated) tag: {', '.join(unknown)}.")
            tags = [t for t in tags if t.code in codes]
        last = _last_runs(cur)
        newest = max((r[0] for r in last.values()), default=None)
        as_of = as_of or max(today(), newest or today())
        if as_of > today():
            raise TagError(f"Tags are computed as of today ({today()}) or an earlier day, not {as_of}.")
        tags = _ordered(tags, as_of)
        if newest is not None and as_of < newest:
            raise TagError(f"Tags were last computed as of {newest}; computing an earlier date would rewrite "
                           f"their history.")
        has_inputs = scalar(cur, "SELECT count(*) FROM tag_inputs") > 0
        n_scope = _find_scope(cur)
        modes = _modes(tags, last, as_of, full or codes is not None or not has_inputs)
        if "incremental" in modes.values():  # read once, not by every tag
            cur.execute(f"CREATE OR REPLACE TEMP TABLE {POP} AS SELECT {', '.join(_golden_columns())} "
                        f"FROM golden_wide WHERE oneid IN (SELECT oneid FROM {SCOPE})")
        report(0.1, "aggregate")
        _aggregate(cur, tags, modes, as_of)
        oneids = int(scalar(cur, "SELECT count(*) FROM tag_now"))
        now = utcnow()
        changed = 0
        cur.execute(f"CREATE OR REPLACE TEMP TABLE {NEW} (tag_code VARCHAR, oneid VARCHAR, value VARCHAR, "
                    f"number DECIMAL(18,2), source VARCHAR)")
        wide = _wide(cur, tags, modes, as_of)
        pending: list[_Computed] = []
        for i, tag in enumerate(tags):
            report(0.2 + 0.7 * i / max(len(tags), 1), tag.code)
            if set(templates.tag_references(tag, as_of)) & {p.tag.code for p in pending}:
                changed += _write(cur, pending, as_of, now, actor, oneids, last)  # it reads their stored values
                pending = []
            pending.append(_compute_tag(cur, tag, modes[tag.code], as_of, last.get(tag.code), wide.get(tag.code)))
        report(0.9, "write")
        changed += _write(cur, pending, as_of, now, actor, oneids, last)
        if codes is None:  # what every tag is now computed from
            if all(m == "full" for m in modes.values()) or not has_inputs:
                cur.execute("DELETE FROM tag_inputs")
                cur.execute("INSERT INTO tag_inputs SELECT oneid, golden_hash FROM tag_now")
            elif n_scope:
                cur.execute(f"DELETE FROM tag_inputs WHERE oneid IN (SELECT oneid FROM {SCOPE})")
                cur.execute(f"INSERT INTO tag_inputs SELECT oneid, golden_hash FROM tag_now "
                            f"WHERE oneid IN (SELECT oneid FROM {SCOPE})")
        kinds = set(modes.values())
        mode = kinds.pop() if len(kinds) == 1 else ("mixed" if kinds else "incremental")
        seconds = time.perf_counter() - started
        audit.record(cur, actor, Event.TAGS_COMPUTE, "tags", as_of.isoformat(),
                     {"as_of": as_of.isoformat(), "mode": mode, "tags": len(tags), "oneids": oneids,
                      "scope": n_scope, "changed": changed, "seconds": round(seconds, 3)})
        for t in TEMPS:
            cur.execute(f"DROP TABLE IF EXISTS {t}")
    report(1.0, "done")
    return ComputeResult(as_of, mode, len(tags), oneids, changed, seconds)


def _is_source(tag: TagDefinition) -> bool:
    return "source_mapping" in tag.technical


def _same_date(prev: tuple | None, tag: TagDefinition, as_of: date) -> bool:
    """The tag's last run was of this date and version (so its values, thresholds and edges hold)."""
    return prev is not None and prev[0] == as_of and prev[1] == tag.version


def _thresholds(prev: tuple | None, tag: TagDefinition, as_of: date) -> dict[str, list[Decimal]] | None:
    """The rfm_segment thresholds set by an earlier computation of this date, if any."""
    stored = prev[2].get("thresholds") if _same_date(prev, tag, as_of) and prev and prev[2] else None
    return {k: [Decimal(x) for x in v] for k, v in stored.items()} if stored else None


def _modes(tags: list[TagDefinition], last: dict[str, tuple], as_of: date, all_full: bool) -> dict[str, str]:
    modes: dict[str, str] = {}
    for tag in tags:
        prev = last.get(tag.code)
        full = (all_full or not _same_date(prev, tag, as_of) or _is_source(tag)
                or bool(templates.tag_references(tag, as_of))
                # no thresholds for this date yet: the segment is calibrated over every OneID
                or (templates.template(tag) == "rfm_segment" and _thresholds(prev, tag, as_of) is None))
        modes[tag.code] = "full" if full else "incremental"
    return modes


def _aggregate(cur: duckdb.DuckDBPyConnection, tags: list[TagDefinition], modes: dict[str, str], as_of: date) -> None:
    """EVENTS, and AGG rolled up from it (see the module docstring)."""
    computed = [t for t in tags if not _is_source(t)]
    needed = [a for t in computed for a in templates.needs(t, as_of)]
    readers = [t for t in computed if templates.needs(t, as_of) or templates.needs_preferences(t)]
    if not readers:
        return
    everyone = any(modes[t.code] == "full" for t in readers)
    cur.execute(f"CREATE OR REPLACE TEMP TABLE {templates.EVENTS} AS "
                f"{templates.events_sql(as_of, None if everyone else SCOPE)}")
    if needed:
        cur.execute(f"CREATE OR REPLACE TEMP TABLE {templates.AGG} AS "
                    f"{conditions.aggregates_sql(needed, as_of, events=templates.EVENTS)}")


def _golden_columns() -> list[str]:
    """The golden_wide columns tags read: the rule fields' (conditions.FIELDS) and the templates'."""
    found = {"oneid", "birth_date", "city", "province"}
    for sql, _kind in conditions.FIELDS.values():
        found.update(re.findall(r"\bg\.(\w+)", sql))
    return sorted(found)


def _population(mode: str) -> str:
    return "golden_wide" if mode == "full" else POP


EMPTY = ("SELECT NULL::VARCHAR AS oneid, NULL::VARCHAR AS value, NULL::DECIMAL(18,2) AS number, "
         "NULL::VARCHAR AS source WHERE false")


def _values_sql(cur: duckdb.DuckDBPyConnection, tag: TagDefinition, mode: str, as_of: date,
                prev: tuple | None) -> tuple[str, dict[str, Any]]:
    """(SQL of oneid, value, number, source of the mode's OneIDs; extra JSON for the run)."""
    if _is_source(tag):
        number = "TRY_CAST(s.value AS DECIMAL(18,2))" if tag.value_type == "number" else "NULL::DECIMAL(18,2)"
        return (f"SELECT s.oneid, CAST(s.value AS VARCHAR) AS value, {number} AS number, s.source "
                f"FROM ({source_tags.values_sql(cur, tag)}) s SEMI JOIN golden_wide g ON g.oneid = s.oneid "
                f"WHERE s.value IS NOT NULL", {})
    if templates.template(tag) == "rfm_segment":
        thresholds = _thresholds(prev, tag, as_of)
        if thresholds is None:  # the first computation of the date (a full one: AGG holds every OneID)
            row = cur.execute(templates.thresholds_sql(templates.metrics_from_aggregates("golden_wide"))).fetchone()
            thresholds = {k: [Decimal(str(x)) for x in (v or [])] for k, v in zip("rfm", row or (None, None, None))}
            if not all(thresholds.values()):
                return EMPTY, {"thresholds": None}
        extra = {"thresholds": {k: [str(x) for x in v] for k, v in thresholds.items()}}
        metrics = templates.metrics_from_aggregates(_population(mode))
        return (f"SELECT oneid, value, number, NULL::VARCHAR AS source FROM "
                f"({templates.segment_sql(metrics, thresholds)})", extra)
    return (f"SELECT oneid, value, number, NULL::VARCHAR AS source FROM "
            f"({templates.values_sql(tag, as_of, _population(mode))})", {})


def _wide(cur: duckdb.DuckDBPyConnection, tags: list[TagDefinition], modes: dict[str, str],
          as_of: date) -> dict[str, tuple[str, int, float]]:
    """The row tags (templates.is_row_tag) of each mode in one pass over the population: code -> (table,
    column index, its share of the seconds)."""
    out: dict[str, tuple[str, int, float]] = {}
    for mode in ("full", "incremental"):
        row_tags = [t for t in tags if modes[t.code] == mode and templates.is_row_tag(t, as_of)]
        if not row_tags:
            continue
        started = time.perf_counter()
        table = WIDE + mode
        cur.execute(f"CREATE OR REPLACE TEMP TABLE {table} AS "
                    f"{templates.wide_sql([templates.row_parts(t, as_of) for t in row_tags], _population(mode))}")
        share = (time.perf_counter() - started) / len(row_tags)
        out.update({t.code: (table, i, share) for i, t in enumerate(row_tags)})
    return out


def _compute_tag(cur: duckdb.DuckDBPyConnection, tag: TagDefinition, mode: str, as_of: date,
                 prev: tuple | None, wide: tuple[str, int, float] | None = None) -> _Computed:
    """A tag's values of the mode's OneIDs into NEW (from its columns of `wide` when it has them)."""
    started = time.perf_counter()
    if wide:
        table, i, share = wide
        cur.execute(f"INSERT INTO {NEW} SELECT ?, oneid, v{i}, n{i}, NULL FROM {table} WHERE v{i} IS NOT NULL",
                    [tag.code])
        return _Computed(tag, mode, {}, time.perf_counter() - started + share)
    sql, extra = _values_sql(cur, tag, mode, as_of, prev)
    cur.execute(f"INSERT INTO {NEW} SELECT ?, oneid, value, number, source FROM ({sql})", [tag.code])
    return _Computed(tag, mode, extra, time.perf_counter() - started)


def _write(cur: duckdb.DuckDBPyConnection, pending: list[_Computed], as_of: date, now: datetime, actor: str,
           oneids: int, last: dict[str, tuple]) -> int:
    """Write the values in NEW, their history and one tag_runs row per tag, set-based over all pending
    tags; empty NEW. Returns the values that changed."""
    if not pending:
        return 0
    started = time.perf_counter()
    run_ids = [r[0] for r in cur.execute("SELECT nextval('tag_run_seq') FROM range(?)", [len(pending)]).fetchall()]
    batch = [(p.tag.code, int(run_id), p.tag.version, p.mode,
              not _same_date(last.get(p.tag.code), p.tag, as_of),  # a new date or version: every row anew
              p.tag.value_type in HISTORY_TYPES) for p, run_id in zip(pending, run_ids)]
    cur.execute(f"CREATE OR REPLACE TEMP TABLE {BATCH} AS SELECT * FROM (VALUES "
                + ", ".join("(?, ?, ?, ?, ?, ?)" for _ in batch)
                + ") AS b(tag_code, run_id, version, mode, rewrite, history)", [x for row in batch for x in row])
    # the stored values of the same OneIDs (an incremental tag's in the scope, a full one's all), by rowid
    cur.execute(f"""
        CREATE OR REPLACE TEMP TABLE {OLD} AS
        SELECT v.rowid AS rid, v.tag_code, v.oneid, v.value, v.number, v.source FROM tag_values v
        WHERE v.oneid IN (SELECT oneid FROM {SCOPE})
          AND v.tag_code IN (SELECT tag_code FROM {BATCH} WHERE mode = 'incremental')
        UNION ALL
        SELECT v.rowid, v.tag_code, v.oneid, v.value, v.number, v.source FROM tag_values v
        WHERE v.tag_code IN (SELECT tag_code FROM {BATCH} WHERE mode = 'full')""")
    cur.execute(f"""
        CREATE OR REPLACE TEMP TABLE {MOVED} AS
        SELECT coalesce(n.tag_code, o.tag_code) AS tag_code, coalesce(n.oneid, o.oneid) AS oneid, o.rid,
               o.value AS old, n.value AS new, o.number AS old_number, n.number AS new_number, n.source,
               o.value IS DISTINCT FROM n.value AS changed
        FROM {OLD} o FULL JOIN {NEW} n ON n.tag_code = o.tag_code AND n.oneid = o.oneid
        WHERE o.value IS DISTINCT FROM n.value OR o.number IS DISTINCT FROM n.number
           OR o.source IS DISTINCT FROM n.source""")
    per_tag = dict(cur.execute(f"SELECT tag_code, count(*) FILTER (WHERE changed) FROM {MOVED} GROUP BY tag_code")
                   .fetchall())
    if any(per_tag.get(code) and history for code, *_, history in batch):
        moved = (f"(SELECT m.tag_code, m.oneid, m.new, b.version, b.run_id FROM {MOVED} m JOIN {BATCH} b "
                 f"USING (tag_code) WHERE b.history AND m.changed)")
        cur.execute(f"""
            CREATE OR REPLACE TEMP TABLE {OPEN} AS
            SELECT h.rowid AS rid, h.valid_from >= ? AS today FROM tag_history h
            JOIN {moved} m ON h.tag_code = m.tag_code AND h.oneid = m.oneid WHERE h.valid_to IS NULL""", [as_of])
        # opened today and changed again today: replaced; else closed today
        cur.execute(f"DELETE FROM tag_history WHERE rowid IN (SELECT rid FROM {OPEN} WHERE today)")
        cur.execute(f"UPDATE tag_history SET valid_to = ? WHERE rowid IN (SELECT rid FROM {OPEN} WHERE NOT today)",
                    [as_of])
        cur.execute(f"INSERT INTO tag_history SELECT m.oneid, m.tag_code, m.new, m.version, ?, NULL, m.run_id "
                    f"FROM {moved} m WHERE m.new IS NOT NULL", [as_of])
    rewrites = any(rewrite for *_, rewrite, _h in batch)
    serving.drop(cur, "tag_values", None if rewrites else scalar(cur, f"SELECT count(*) FROM {MOVED}"))
    if any(per_tag.get(code) is not None and not rewrite for code, *_, rewrite, _h in batch):
        # the same date and version: only the rows that changed
        cur.execute(f"DELETE FROM tag_values WHERE rowid IN (SELECT m.rid FROM {MOVED} m JOIN {BATCH} b "
                    f"USING (tag_code) WHERE NOT b.rewrite AND m.rid IS NOT NULL)")
        cur.execute(f"INSERT INTO tag_values SELECT m.oneid, m.tag_code, m.new, m.new_number, b.version, ?, ?, m.source "
                    f"FROM {MOVED} m JOIN {BATCH} b USING (tag_code) WHERE NOT b.rewrite AND m.new IS NOT NULL",
                    [as_of, now])
    if rewrites:
        cur.execute(f"DELETE FROM tag_values WHERE tag_code IN (SELECT tag_code FROM {BATCH} WHERE rewrite)")
        cur.execute(f"INSERT INTO tag_values SELECT n.oneid, n.tag_code, n.value, n.number, b.version, ?, ?, n.source "
                    f"FROM {NEW} n JOIN {BATCH} b USING (tag_code) WHERE b.rewrite", [as_of, now])
    stored = {code: (int(n), int(k)) for code, n, k in cur.execute(
        f"SELECT tag_code, count(*), count(number) FROM tag_values WHERE tag_code IN (SELECT tag_code FROM {BATCH}) "
        f"GROUP BY tag_code").fetchall()}
    dists = _distributions(cur, pending, batch, last, as_of, stored)
    share = (time.perf_counter() - started) / len(pending)
    for p, (code, run_id, version, mode, *_rest) in zip(pending, batch):
        prev = last.get(code)
        dist = dists[code]
        dist.update(p.extra)
        cur.execute("INSERT INTO tag_runs VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    [run_id, code, version, as_of, mode, now, p.seconds + share, oneids,
                     stored.get(code, (0, 0))[0], int(per_tag.get(code, 0)),
                     json.dumps(dist, ensure_ascii=False, default=str), _psi(prev[2] if prev else None, dist), actor])
    cur.execute(f"DELETE FROM {NEW}")
    return sum(int(n) for n in per_tag.values())


# ---- distribution and drift ------------------------------------------------------------------------

def _distributions(cur: duckdb.DuckDBPyConnection, pending: list[_Computed], batch: list[tuple],
                   last: dict[str, tuple], as_of: date, stored: dict[str, tuple[int, int]]) -> dict[str, dict]:
    """The distribution JSON of each pending tag after the write: a rewritten tag's from NEW (which holds
    all its values); another one's from its previous run's counts plus and minus the rows in MOVED; from
    tag_values when that does not add up (values removed outside a run, such as an erasure)."""
    out: dict[str, dict] = {}
    for p, (code, *_, rewrite, _h) in zip(pending, batch):
        prev = last.get(code)
        previous = prev[2] if prev else None
        total = stored.get(code, (0, 0))[1 if p.tag.value_type == "number" else 0]
        dist = None
        if not rewrite and previous:
            dist = _delta(cur, p.tag, previous, total)
        if dist is None:
            same = _same_date(prev, p.tag, as_of)
            dist = distribution_json(cur, p.tag, previous, table=NEW if rewrite else "tag_values",
                                     keep_edges=same)
        out[code] = dist
    return out


def _delta(cur: duckdb.DuckDBPyConnection, tag: TagDefinition, previous: dict, total: int) -> dict[str, Any] | None:
    """The previous run's distribution updated by the rows in MOVED (None when it cannot be)."""
    if tag.value_type == "number":
        edges = previous.get("edges")
        counts = previous.get("counts")
        if previous.get("kind") != "deciles" or not edges or not isinstance(counts, list) \
                or len(counts) != len(edges) + 1:
            return None
        counts = list(counts)
        old_bin, new_bin = _bin_sql("old_number", edges), _bin_sql("new_number", edges)
        for old, new, n in cur.execute(
                f"SELECT {old_bin}, {new_bin}, count(*) FROM {MOVED} WHERE tag_code = ? AND changed GROUP BY ALL",
                [tag.code]).fetchall():
            if old is not None:
                counts[old] -= n
            if new is not None:
                counts[new] += n
        if sum(counts) != total or min(counts) < 0:
            return None
        shares = [c / total if total else 0.0 for c in counts]
        return {"kind": "deciles", "edges": edges, "counts": counts, "total": total, "shares": shares,
                "psi_shares": shares}
    values = previous.get("counts")
    if previous.get("kind") != "shares" or not isinstance(values, dict) or OTHER in values:
        return None
    tally = {str(k): int(v) for k, v in values.items()}
    for old, new, n in cur.execute(f"SELECT old, new, count(*) FROM {MOVED} WHERE tag_code = ? AND changed "
                                   f"GROUP BY ALL", [tag.code]).fetchall():
        if old is not None:
            tally[old] = tally.get(old, 0) - n
        if new is not None:
            tally[new] = tally.get(new, 0) + n
    if any(n < 0 for n in tally.values()) or sum(tally.values()) != total:
        return None
    rows = sorted(((v, n) for v, n in tally.items() if n), key=lambda r: (-r[1], r[0]))
    if len(rows) > TOP_VALUES:
        return None
    return _shares(rows, total)


def _shares(rows: list[tuple[str, int]], total: int) -> dict[str, Any]:
    counts: dict[str, int] = {str(v): int(n) for v, n in rows[:TOP_VALUES]}
    if len(rows) > TOP_VALUES:
        counts[OTHER] = sum(int(n) for _, n in rows[TOP_VALUES:])
    return {"kind": "shares", "counts": counts, "shares": {v: n / total for v, n in counts.items()}, "total": total}


def _bin_sql(x: str, edges: list[float]) -> str:
    """The bin (0 … len(edges)) of the number x among sorted edges: how many edges lie below it."""
    return f"CASE WHEN {x} IS NOT NULL THEN " + " + ".join(
        f"({x}::DOUBLE > {float(e)!r}::DOUBLE)::INT" for e in edges) + " END"


def distribution_json(cur: duckdb.DuckDBPyConnection, tag: TagDefinition, previous: dict | None,
                      table: str = "tag_values", keep_edges: bool = False) -> dict[str, Any]:
    """The stored distribution of a tag's values in `table` (tag_values, or the run's NEW):
    - enum, boolean, date: {"kind": "shares", "counts": {value: n}, "shares": {value: share}} (the
      TOP_VALUES commonest values, the rest as "__other__");
    - number: {"kind": "deciles", "edges": [9 deciles], "counts": [10], "shares": [10], "psi_shares":
      shares of this run in the previous run's edges (used for its PSI)}. The edges are this run's
      deciles, except in a later run of the same date (`keep_edges`), which counts into the edges the
      date's first run set.
    Shares are of the OneIDs with a value."""
    if tag.value_type == "number":
        prev_edges = previous.get("edges") if previous and previous.get("kind") == "deciles" else None
        if keep_edges and prev_edges:
            edges = [float(x) for x in prev_edges]
        else:
            row = cur.execute(f"SELECT quantile_cont(number, {DECILES}) FROM {table} WHERE tag_code = ?",
                              [tag.code]).fetchone()
            edges = [float(x) for x in (row[0] or [])] if row else []
        counts, in_prev = _binned(cur, table, tag.code, edges, prev_edges or [])
        total = sum(counts)
        out: dict[str, Any] = {"kind": "deciles", "edges": edges, "counts": counts, "total": total,
                               "shares": [c / total if total else 0.0 for c in counts]}
        if prev_edges:
            out["psi_shares"] = [c / total if total else 0.0 for c in in_prev]
        return out
    rows = cur.execute(f"SELECT value, count(*) AS n FROM {table} WHERE tag_code = ? GROUP BY value "
                       f"ORDER BY n DESC, value", [tag.code]).fetchall()
    return _shares([(str(v), int(n)) for v, n in rows], sum(int(n) for _, n in rows))


def _binned(cur: duckdb.DuckDBPyConnection, table: str, code: str, edges: list[float],
            other: list[float]) -> tuple[list[int], list[int]]:
    """Counts of a number tag's values in `table` in the len(edges) + 1 bins the edges bound (x <= edge),
    and in those of `other` edges; all in one bin without edges."""
    a = _bin_sql("number", edges) if edges else "0"
    b = _bin_sql("number", other) if other else "0"
    first, second = [0] * (len(edges) + 1), [0] * (len(other) + 1)
    for i, j, n in cur.execute(f"SELECT {a}, {b}, count(*) FROM {table} WHERE tag_code = ? AND number IS NOT NULL "
                               f"GROUP BY ALL", [code]).fetchall():
        first[i] += int(n)
        second[j] += int(n)
    return first, second


def psi(expected: list[float], actual: list[float]) -> float:
    """Population stability index: sum((a − e)·ln(a/e)), shares floored at 1e-4."""
    total = 0.0
    for e, a in zip(expected, actual):
        e, a = max(e, PSI_FLOOR), max(a, PSI_FLOOR)
        total += (a - e) * math.log(a / e)
    return total


def _psi(previous: dict | None, current: dict[str, Any]) -> float | None:
    if not previous or previous.get("kind") != current.get("kind") or not previous.get("total") \
            or not current.get("total"):
        return None
    if current["kind"] == "deciles":
        if "psi_shares" not in current or len(previous.get("shares") or []) != len(current["psi_shares"]):
            return None
        return psi(previous["shares"], current["psi_shares"])
    keys = sorted(set(previous["shares"]) | set(current["shares"]))
    return psi([previous["shares"].get(k, 0.0) for k in keys], [current["shares"].get(k, 0.0) for k in keys])


# ---- reading -------------------------------------------------------------------------------------

def drop_values(cur: duckdb.DuckDBPyConnection, code: str) -> None:
    """Remove a tag's values (a retired tag); its history stays, open rows closed today."""
    serving.drop(cur, "tag_values", scalar(cur, "SELECT count(*) FROM tag_values WHERE tag_code = ?", [code]))
    cur.execute("DELETE FROM tag_values WHERE tag_code = ?", [code])
    cur.execute("UPDATE tag_history SET valid_to = greatest(valid_from, ?) WHERE tag_code = ? AND valid_to IS NULL",
                [today(), code])


def values_frame(cur: duckdb.DuckDBPyConnection, code: str, limit: int | None = None) -> pd.DataFrame:
    sql = "SELECT oneid, value, computed_at FROM tag_values WHERE tag_code = ? ORDER BY oneid"
    params: list[Any] = [code]
    if limit is not None:
        sql += " LIMIT ?"
        params.append(int(limit))
    return cur.execute(sql, params).df()


def distribution(cur: duckdb.DuckDBPyConnection, code: str) -> pd.DataFrame:
    return cur.execute("SELECT value, count(*) AS oneids FROM tag_values WHERE tag_code = ? GROUP BY value "
                       "ORDER BY oneids DESC, value", [code]).df()


def history(cur: duckdb.DuckDBPyConnection, code: str, oneid: str | None = None) -> pd.DataFrame:
    sql = "SELECT oneid, value, tag_version, valid_from, valid_to FROM tag_history WHERE tag_code = ?"
    params: list[Any] = [code]
    if oneid is not None:
        sql += " AND oneid = ?"
        params.append(oneid)
    return cur.execute(sql + " ORDER BY oneid, valid_from, valid_to NULLS LAST", params).df()


def moved(cur: duckdb.DuckDBPyConnection, code: str, from_value: str, to_value: str, since: date) -> pd.DataFrame:
    """OneIDs whose value went from `from_value` to `to_value` on or after `since` (e.g. active → dormant
    this month): oneid, held_since (when the old value started), moved_on."""
    return cur.execute(
        "SELECT n.oneid, o.valid_from AS held_since, n.valid_from AS moved_on FROM tag_history o "
        "JOIN tag_history n ON n.oneid = o.oneid AND n.tag_code = o.tag_code AND n.valid_from = o.valid_to "
        "WHERE o.tag_code = ? AND o.value = ? AND n.value = ? AND n.valid_from >= ? ORDER BY n.oneid",
        [code, from_value, to_value, since]).df()


def last_runs(cur: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """The newest tag_runs row per tag, with coverage = with_value / oneids."""
    return cur.execute(
        "SELECT tag_code, tag_version, as_of, mode, started_at, seconds, oneids, with_value, "
        "CASE WHEN oneids > 0 THEN with_value / oneids END AS coverage, changed, psi, distribution, actor, run_id "
        "FROM tag_runs QUALIFY row_number() OVER (PARTITION BY tag_code ORDER BY run_id DESC) = 1 "
        "ORDER BY tag_code").df()
