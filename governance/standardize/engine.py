"""The standardize stage: every mapped record gets, per standard field, a standardized
value, a status and a reason code, in the table `std_records`; the raw value stays in the
raw batch tables (join on batch_id, row_number).

Normalizers are pure Python functions (normalizers.py). They run once per *distinct* raw
value and field (on every core for large fields), and their results are cached in `std_cache`,
so repeated values (and later runs) cost nothing. The commonest clean values are standardized by
SQL fast paths (fastpaths.py) instead; those results are cheap to redo, so they live in temp tables
for the run and are not cached. One SQL statement then joins the records with both and adds the
cross-field consistency checks.
"""
from __future__ import annotations

import json
import multiprocessing
import os
import sys
import time
import types
from concurrent.futures import ProcessPoolExecutor
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from typing import Callable

import duckdb
import pyarrow as pa

from governance.access import audit
from governance.access.events import Event
from governance.standardize import fastpaths, normalizers
from governance.store import serving
from governance.store.schema import FIELD_NAMES
from governance.store.storage import Database, one, quote_ident, scalar
from governance.store.util import utcnow

# Bump when a normalizer's output changes: cached results and standardized batches are redone.
RULESET_VERSION = 4

# Derived columns kept in std_records: (column, field, key in Result.extra, SQL type)
DERIVED: tuple[tuple[str, str, str, str], ...] = (
    ("mobile_masked_key", "mobile", "masked_key", "VARCHAR"),
    ("mobile_carrier", "mobile", "carrier", "VARCHAR"),
    ("id_birth_date", "id_card", "birth_date", "DATE"),
    ("id_sex", "id_card", "sex", "VARCHAR"),
    ("id_is_minor", "id_card", "is_minor", "BOOLEAN"),
    ("id_region", "id_card", "region_code", "VARCHAR"),
    ("id_province", "id_card", "province", "VARCHAR"),
    ("email_suggestion", "email", "suggestion", "VARCHAR"),
    ("name_salutation", "name", "salutation", "VARCHAR"),
    ("name_simplified", "name", "simplified", "VARCHAR"),
    ("name_family", "name", "family_name", "VARCHAR"),
    ("name_given", "name", "given_name", "VARCHAR"),
    ("name_pinyin", "name", "pinyin", "VARCHAR"),
    ("name_initials", "name", "pinyin_initials", "VARCHAR"),
    ("name_pinyin_rev", "name", "pinyin_given_first", "VARCHAR"),
    ("addr_province", "address", "province", "VARCHAR"),
    ("addr_city", "address", "city", "VARCHAR"),
    ("addr_district", "address", "district", "VARCHAR"),
    ("addr_adcode", "address", "adcode", "VARCHAR"),
)

# Cross-field checks: (column, SQL giving 'ok' / 'conflict' / NULL when not applicable)
CONSISTENCY: tuple[tuple[str, str], ...] = (
    ("check_birth_id", "CASE WHEN r.id_birth_date IS NULL OR r.birth_date IS NULL THEN NULL "
                       "WHEN r.id_birth_date = TRY_CAST(r.birth_date AS DATE) THEN 'ok' ELSE 'conflict' END"),
    ("check_gender_id", "CASE WHEN r.id_sex IS NULL OR r.gender IS NULL OR r.gender NOT IN ('1', '2') THEN NULL "
                        "WHEN r.id_sex = r.gender THEN 'ok' ELSE 'conflict' END"),
    ("check_region_id", "CASE WHEN r.id_province IS NULL OR coalesce(r.province, r.addr_province) IS NULL THEN NULL "
                        "WHEN r.id_province = coalesce(r.province, r.addr_province) THEN 'ok' ELSE 'conflict' END"),
)
CONSISTENCY_REASONS = {"check_birth_id": "BIRTH_ID_CONFLICT", "check_gender_id": "GENDER_ID_CONFLICT",
                       "check_region_id": "ID_REGION_MISMATCH"}

# The birth years an age band implies (normalizers.age_band_birth_years, in SQL): a generation
# ('1990-1999') is its own; an age range ('25-30', '30-' open) held in the year the batch was
# uploaded (China time) gives year - 30 - 1 … year - 25. Computed per record, not cached: the same
# band means other birth years in a batch of another year.
_BAND_YEAR = "year(b.uploaded_at + INTERVAL 8 HOUR)"
_BAND_LOW, _BAND_HIGH = "split_part(r.age_band, '-', 1)", "split_part(r.age_band, '-', 2)"
AGE_BIRTH: tuple[tuple[str, str], ...] = (
    ("age_birth_min", f"CASE WHEN length({_BAND_LOW}) = 4 THEN TRY_CAST({_BAND_LOW} AS INTEGER) "
                      f"WHEN {_BAND_HIGH} <> '' THEN {_BAND_YEAR} - TRY_CAST({_BAND_HIGH} AS INTEGER) - 1 END"),
    ("age_birth_max", f"CASE WHEN length({_BAND_LOW}) = 4 THEN TRY_CAST({_BAND_HIGH} AS INTEGER) "
                      f"WHEN {_BAND_LOW} <> '' THEN {_BAND_YEAR} - TRY_CAST({_BAND_LOW} AS INTEGER) END"),
)

STATUS_COLUMNS = [f"{f}_status" for f in FIELD_NAMES]
# The usable statuses, for `<field>_status IN {VALID_SQL}` in every stage's SQL.
VALID_SQL = "(" + ", ".join(f"'{s}'" for s in normalizers.VALID) + ")"

# Under 14 (PIPL Art. 28/31) on the day of standardization, in full years: from the resident ID's
# birth date when the ID is valid, else from a valid typed birth date; NULL when neither is known.
# Golden refreshes clear it once the holder turns 14 (clear_aged_out_minors).
MINOR_SQL = (f"(coalesce(CASE WHEN {{r}}.id_card_status IN {VALID_SQL} THEN {{r}}.id_birth_date END, "
             f"CASE WHEN {{r}}.birth_date_status IN {VALID_SQL} THEN TRY_CAST({{r}}.birth_date AS DATE) END)"
             " + INTERVAL 14 YEAR > current_date)")


GENDER_ZERO = ("unknown", "female", "male")


def set_gender_zero(db: Database, actor: str, source: str, meaning: str) -> None:
    """What a raw gender '0' means in this source (WeChat: unknown; some CRMs: female)."""
    if meaning not in GENDER_ZERO:
        raise ValueError(meaning)
    with db.transaction() as cur:
        cur.execute("INSERT OR REPLACE INTO source_settings VALUES (?, ?)", [source, meaning])
        audit.record(cur, actor, Event.SOURCE_GENDER_ZERO, "source", source, {"gender_zero": meaning})


def gender_zero(cur: duckdb.DuckDBPyConnection, source: str) -> str:
    row = cur.execute("SELECT gender_zero FROM source_settings WHERE source = ?", [source]).fetchone()
    return row[0] if row else "unknown"


@dataclass
class StandardizeResult:
    batches: list[int]
    records: int
    new_values: int
    seconds: float
    suppressed: int = 0  # rows matching a deletion tombstone, kept aside
    sql_values: int = 0  # of the new values, those standardized by an SQL fast path (fastpaths.py)

    def summary(self) -> dict:
        return {"batches": self.batches, "records": self.records, "new_values": self.new_values,
                "sql_values": self.sql_values,
                "suppressed": self.suppressed, "seconds": round(self.seconds, 3)}


def stale_batches(cur: duckdb.DuckDBPyConnection) -> list[int]:
    """Batches never standardized, or standardized under another ruleset, mapping or gender setting."""
    rows = cur.execute(
        """
        SELECT b.batch_id FROM batches b
        LEFT JOIN std_batches s USING (batch_id)
        LEFT JOIN source_settings g ON g.source = b.source
        WHERE s.batch_id IS NULL OR s.ruleset <> ?
           OR s.mapping_version <> (SELECT max(version) FROM mapping_versions v WHERE v.source = b.source)
           OR s.gender_zero <> coalesce(g.gender_zero, 'unknown')
        ORDER BY b.batch_id
        """, [RULESET_VERSION]).fetchall()
    return [r[0] for r in rows]


_KEPT_EXTRAS: dict[str, tuple[str, ...]] = {}
for _column, _field, _key, _type in DERIVED:
    _KEPT_EXTRAS[_field] = _KEPT_EXTRAS.get(_field, ()) + (_key,)


def normalize_values(field: str, values: list[str]) -> list[tuple[str | None, str, str | None, str | None]]:
    """(value, status, reason, extra as JSON) for each raw value of a field. Only the extra
    attributes that std_records keeps are serialized."""
    fn = normalizers.NORMALIZERS[field]
    keep = _KEPT_EXTRAS.get(field)
    out = []
    for raw in values:
        r = fn(raw)
        extra = None
        if keep and r.extra:
            kept = {k: r.extra[k] for k in keep if r.extra.get(k) is not None}
            extra = json.dumps(kept, ensure_ascii=False, default=str) if kept else None
        out.append((r.value, r.status, r.reason, extra))
    return out


# A field with this many new values is normalized in worker processes, in chunks: below it, worker
# start-up (about a second each) costs more than it saves.
PARALLEL_MIN_VALUES = 50_000
PARALLEL_CHUNK = 25_000


def _normalize_chunk(task: tuple[str, list[str]]) -> list[tuple[str | None, str, str | None, str | None]]:
    return normalize_values(*task)


@contextmanager
def _main_module_hidden():
    """A spawned worker re-runs the parent's __main__ from its path; under Streamlit that is the app
    script (it would open the store). Workers start while this is in effect, so they run none."""
    main = sys.modules["__main__"]
    sys.modules["__main__"] = types.ModuleType("__main__")
    try:
        yield
    finally:
        sys.modules["__main__"] = main


# A record whose mobile cell is empty takes the one mobile number written in a note of its row or
# after its name (WeCom 描述: `15825855360 老客户`, `电话157 4668 7638`; 备注名: `王秀英15205211683`).
_NOTE_HEADER = "备注|描述|说明|留言|附言|remark|note|desc|memo|comment"
_TEXT_MOBILE = r"(?:^|[^0-9])(1[3-9][0-9](?:[ -]?[0-9]{4}){2})(?:[^0-9]|$)"


def raw_sql(f: str, m: str = "m") -> str:
    """The raw value of field `f` in the mapped_records row `m`: its mapped cell; for an empty mobile
    cell, the one mobile number in the row's notes and name (none when they hold two)."""
    if f != "mobile":
        return f"{m}.{quote_ident(f)}"
    notes = (f"list_transform(list_filter(map_entries({m}.extras), lambda e: regexp_matches(lower(e.key), "
             f"'{_NOTE_HEADER}')), lambda e: e.value)")
    found = (f"list_distinct(list_transform(regexp_extract_all(concat_ws(' ', {m}.name, array_to_string({notes}, ' ')), "
             f"'{_TEXT_MOBILE}', 1), lambda x: replace(replace(x, ' ', ''), '-', '')))")
    # a CASE, not coalesce: coalesce would work the text out for every row
    return f"CASE WHEN {m}.mobile IS NOT NULL THEN {m}.mobile WHEN len({found}) = 1 THEN {found}[1] END"


def _fast_table(f: str) -> str:
    return f"std_fast_{FIELD_NAMES.index(f)}"


def _fill_cache(cur: duckdb.DuckDBPyConnection, batch_ids: list[int]) -> tuple[int, int, set[str]]:
    """Standardize the distinct raw values not yet cached. An SQL fast path takes what it can into a
    temp table per field (`_fast_table`); the rest go to the Python normalizers and into the cache,
    large fields spread over the CPU cores by spawned workers (never forked: this process holds
    DuckDB open). Return how many values were new, how many of them the SQL took, and the fields
    with a fast-path table."""
    new = in_sql = 0
    fast_fields: set[str] = set()
    ids = ", ".join(str(int(b)) for b in batch_ids)
    workers = min(os.cpu_count() or 1, 8)
    with ExitStack() as stack:
        pool = None
        for f in FIELD_NAMES:
            cur.execute(
                f"CREATE OR REPLACE TEMP TABLE std_new AS SELECT DISTINCT raw FROM (SELECT {raw_sql(f)} AS raw "
                f"FROM mapped_records m WHERE m.batch_id IN ({ids})) m WHERE raw IS NOT NULL "
                f"AND NOT EXISTS (SELECT 1 FROM std_cache c WHERE c.field = ? AND c.raw = m.raw AND c.ruleset = ?)",
                [f, RULESET_VERSION])
            fast = fastpaths.claim(cur, f)
            if fast:
                cur.execute(f"DROP TABLE IF EXISTS {_fast_table(f)}")
                cur.execute(f"ALTER TABLE std_fast RENAME TO {_fast_table(f)}")
                fast_fields.add(f)
                new += fast
                in_sql += fast
                unclaimed = f"SELECT raw FROM std_new ANTI JOIN {_fast_table(f)} USING (raw)"
            else:
                unclaimed = "SELECT raw FROM std_new"
            values = [r[0] for r in cur.execute(unclaimed).fetchall()]
            if not values:
                continue
            if len(values) >= PARALLEL_MIN_VALUES and workers > 1:
                if pool is None:
                    pool = stack.enter_context(
                        ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn")))
                chunks = [(f, values[i:i + PARALLEL_CHUNK]) for i in range(0, len(values), PARALLEL_CHUNK)]
                with _main_module_hidden():
                    normalized = [row for part in pool.map(_normalize_chunk, chunks) for row in part]
            else:
                normalized = normalize_values(f, values)
            value, status, reason, extra = zip(*normalized)
            cache_rows = pa.table({  # noqa: F841 (read by DuckDB below)
                "field": pa.array([f] * len(values), pa.string()),
                "raw": pa.array(values, pa.string()),
                "ruleset": pa.array([RULESET_VERSION] * len(values), pa.int32()),
                "value": pa.array(value, pa.string()), "status": pa.array(status, pa.string()),
                "reason": pa.array(reason, pa.string()), "extra": pa.array(extra, pa.string()),
            })
            cur.execute("INSERT INTO std_cache SELECT * FROM cache_rows")
            new += len(values)
    cur.execute("DROP TABLE IF EXISTS std_new")
    cur.execute("DROP TABLE IF EXISTS std_fast")
    return new, in_sql, fast_fields


def _select_sql(ids: str, present: set[str], fast_fields: set[str]) -> str:
    """Records joined with the cache, one join per field that holds any value in the batches, and
    one more with the field's fast-path table (its values are not in the cache: one side matches)."""
    joins, cols, extras = [], [], {}
    for i, f in enumerate(FIELD_NAMES):
        if f not in present:
            cols += [f"NULL::VARCHAR AS {f}", f"'missing' AS {f}_status", f"NULL::VARCHAR AS {f}_reason"]
            continue
        sides = [f"c{i}"]
        raw = "m.mobile_raw" if f == "mobile" else f"m.{f}"  # mobile_raw: raw_sql's, worked out once below
        joins.append(f"LEFT JOIN std_cache c{i} ON c{i}.field = '{f}' AND c{i}.raw = {raw} "
                     f"AND c{i}.ruleset = {RULESET_VERSION}")
        if f in fast_fields:
            sides.append(f"x{i}")
            joins.append(f"LEFT JOIN {_fast_table(f)} x{i} ON x{i}.raw = {raw}")

        def either(column: str, sides=sides) -> str:
            return f"coalesce({', '.join(f'{s}.{column}' for s in sides)})" if len(sides) > 1 else f"{sides[0]}.{column}"

        value, status, reason = either("value"), f"coalesce({either('status')}, 'missing')", either("reason")
        if f == "gender":  # a raw '0' means what the source says it means
            zero = "CASE g.gender_zero WHEN 'female' THEN '2' WHEN 'male' THEN '1' ELSE '0' END"
            value = f"CASE WHEN trim(m.gender) = '0' THEN {zero} ELSE {value} END"
        if f == "mobile":  # a valid number from a note or the name: a warning says where it came from
            noted = f"(m.mobile IS NULL AND {status} = 'valid')"
            status = f"CASE WHEN {noted} THEN 'valid_with_warning' ELSE {status} END"
            reason = f"CASE WHEN {noted} THEN 'MOBILE_FROM_NOTE' ELSE {reason} END"
        if f == "birth_date":  # 03/04/1990 read in the order the batch's other dates show (29/01/1991: day first)
            swap = f"({reason} = 'DATE_AMBIGUOUS' AND (o.date_order = 'day') <> contains(m.birth_date, '.'))"
            value = f"CASE WHEN {swap} THEN substr({value}, 1, 5) || substr({value}, 9, 2) || '-' || substr({value}, 6, 2) ELSE {value} END"
            reason = f"CASE WHEN {swap} THEN 'DATE_ORDER_OF_COLUMN' ELSE {reason} END"
            joins.append(f"LEFT JOIN ({_date_order_sql(ids)}) o ON o.batch_id = m.batch_id")
        cols += [f"{value} AS {f}", f"{status} AS {f}_status", f"{reason} AS {f}_reason"]
        extras[f] = either("extra")
    # each field's extra JSON is parsed once, for all its derived columns
    paths = {f: [key for _c, field, key, _t in DERIVED if field == f] for f in extras}
    paths = {f: keys for f, keys in paths.items() if keys}
    lists = []
    for f, keys in paths.items():
        json_paths = ", ".join(f"'$.{k}'" for k in keys)
        lists.append(f"json_extract_string({extras[f]}, [{json_paths}]) AS _extra_{f}")
    derived = []
    for column, f, key, sql_type in DERIVED:
        if f not in present:
            derived.append(f"NULL::{sql_type} AS {column}")
            continue
        expr = f"_extra_{f}[{paths[f].index(key) + 1}]"
        derived.append(f"TRY_CAST({expr} AS {sql_type}) AS {column}" if sql_type != "VARCHAR" else f"{expr} AS {column}")
    records = (f"SELECT m.batch_id, m.source, m.row_number, {', '.join(cols + lists)} FROM (SELECT *, "
               f"{raw_sql('mobile')} AS mobile_raw FROM mapped_records m WHERE m.batch_id IN ({ids})) m "
               f"LEFT JOIN source_settings g ON g.source = m.source {' '.join(joins)}")
    hidden = f" EXCLUDE ({', '.join(f'_extra_{f}' for f in paths)})" if paths else ""
    return f"SELECT *{hidden}, {', '.join(derived)} FROM ({records})"


# A date written day, month, year: its first two numbers
_DMY = r"^\s*(\d{1,2})[/.-](\d{1,2})[/.-]\d{4}"
_DATE_ORDER_MIN = 2  # dates that show the order (a number above 12 first or second), at least


def _date_order_sql(ids: str) -> str:
    """(batch_id, date_order): 'day' or 'month' when the batch's birth dates written day, month and
    year show that order (29/01/1991 day first, 01/29/1991 month first) at least _DATE_ORDER_MIN
    times and ten times as often as the other, else NULL."""
    first, second = (f"TRY_CAST(regexp_extract(birth_date, '{_DMY}', {i}) AS INTEGER)" for i in (1, 2))
    return (f"SELECT batch_id, CASE WHEN d >= {_DATE_ORDER_MIN} AND 10 * m <= d THEN 'day' "
            f"WHEN m >= {_DATE_ORDER_MIN} AND 10 * d <= m THEN 'month' END AS date_order FROM (SELECT batch_id, "
            "count(*) FILTER (WHERE a > 12 AND b <= 12) AS d, count(*) FILTER (WHERE b > 12 AND a <= 12) AS m "
            f"FROM (SELECT batch_id, {first} AS a, {second} AS b FROM mapped_records WHERE batch_id IN ({ids}) "
            "AND birth_date IS NOT NULL) GROUP BY batch_id)")


def _present_fields(cur: duckdb.DuckDBPyConnection, ids: str) -> set[str]:
    row = one(cur, "SELECT " + ", ".join(f"bool_or({raw_sql(f)} IS NOT NULL)" for f in FIELD_NAMES)
                   + f" FROM mapped_records m WHERE batch_id IN ({ids})")
    return {f for f, has in zip(FIELD_NAMES, row) if has}


KeepAside = Callable[[duckdb.DuckDBPyConnection, list[int]], int]


def standardize(db: Database, actor: str, batch_ids: list[int] | None = None, *, keep_aside: KeepAside,
                progress=None) -> StandardizeResult:
    """Standardize the given batches (default: every stale one). Idempotent. `keep_aside(cur,
    batch_ids)` runs in the same transaction right after the rows are written and moves the rows
    of erased people out (privacy.suppression.apply, which the pipeline passes); it has no default,
    so no caller can forget it."""
    started = time.perf_counter()
    with db.cursor() as cur:
        todo = sorted(set(batch_ids) if batch_ids is not None else set(stale_batches(cur)))
    if not todo:
        return StandardizeResult([], 0, 0, time.perf_counter() - started)
    ids = ", ".join(str(int(b)) for b in todo)
    with db.transaction() as cur:
        if progress:
            progress(0.1, "normalize")
        new_values, sql_values, fast_fields = _fill_cache(cur, todo)
        if progress:
            progress(0.6, "records")
        serving.drop(cur, "std_records", scalar(cur, f"SELECT sum(row_count) FROM batches WHERE batch_id IN ({ids})"))
        cur.execute(f"DELETE FROM std_records WHERE batch_id IN ({ids})")
        consistency = ", ".join(f"{sql} AS {c}" for c, sql in (*CONSISTENCY, *AGE_BIRTH))
        cur.execute(  # by name: columns added by later migrations sit at the end of the table
            f"INSERT INTO std_records BY NAME SELECT r.*, "
            f"{MINOR_SQL.format(r='r')} AS is_minor, "
            f"{consistency} FROM ({_select_sql(ids, _present_fields(cur, ids), fast_fields)}) r "
            f"LEFT JOIN batches b ON b.batch_id = r.batch_id")
        for f in fast_fields:
            cur.execute(f"DROP TABLE {_fast_table(f)}")
        suppressed = keep_aside(cur, todo)
        records = scalar(cur, f"SELECT count(*) FROM std_records WHERE batch_id IN ({ids})")
        cur.execute(f"DELETE FROM std_batches WHERE batch_id IN ({ids})")
        cur.execute(
            f"INSERT INTO std_batches SELECT b.batch_id, ?, (SELECT max(version) FROM mapping_versions v "
            f"WHERE v.source = b.source), coalesce(g.gender_zero, 'unknown'), ? FROM batches b "
            f"LEFT JOIN source_settings g ON g.source = b.source WHERE b.batch_id IN ({ids})",
            [RULESET_VERSION, utcnow()])
        seconds = time.perf_counter() - started
        run_id = scalar(cur, "SELECT nextval('std_run_seq')")
        cur.execute("INSERT INTO std_runs VALUES (?, ?, ?, ?, ?, ?, ?)",
                    [run_id, actor, utcnow(), seconds, len(todo), records, new_values])
        audit.record(cur, actor, Event.STANDARDIZE_RUN, "std_run", run_id,
                     {"batches": todo, "records": records, "new_values": new_values, "suppressed": suppressed})
    if progress:
        progress(1.0, "done")
    return StandardizeResult(todo, records, new_values, time.perf_counter() - started, suppressed, sql_values)


def drop_records(cur: duckdb.DuckDBPyConnection, keys_table: str) -> int:
    """Remove the standardized records listed in `keys_table` (batch_id, row_number); e.g. the
    rows of erased people that suppression keeps aside. Returns how many."""
    return scalar(cur, f"DELETE FROM std_records s USING {keys_table} k "
                       "WHERE s.batch_id = k.batch_id AND s.row_number = k.row_number")


def clear_aged_out_minors(cur: duckdb.DuckDBPyConnection) -> int:
    """People grow up: clear the minor flag of records whose holder has turned 14 since they were
    standardized. Their keys stay in the temp table `aged_out` (batch_id, row_number) for the
    caller; returns how many."""
    cur.execute("CREATE OR REPLACE TEMP TABLE aged_out AS SELECT batch_id, row_number FROM std_records "
                f"WHERE is_minor AND NOT coalesce({MINOR_SQL.format(r='std_records')}, false)")
    n = scalar(cur, "SELECT count(*) FROM aged_out")
    if n:
        cur.execute("UPDATE std_records s SET is_minor = false FROM aged_out a "
                    "WHERE s.batch_id = a.batch_id AND s.row_number = a.row_number")
    return n


def _failing_where(field: str, statuses: list[str] | None, reason: str | None,
                   source: str | None) -> tuple[str, list]:
    if field not in FIELD_NAMES:
        raise ValueError(field)
    statuses = statuses or list(FAILING)
    where = [f"{field}_status IN ({', '.join('?' for _ in statuses)})"]
    params: list = list(statuses)
    if reason:
        where.append(f"{field}_reason = ?")
        params.append(reason)
    if source:
        where.append("source = ?")
        params.append(source)
    return " AND ".join(where), params


FAILING = ("invalid", "valid_with_warning", "placeholder", "masked")


def count_failing(cur: duckdb.DuckDBPyConnection, field: str, statuses: list[str] | None = None,
                  reason: str | None = None, source: str | None = None) -> int:
    where, params = _failing_where(field, statuses, reason, source)
    return scalar(cur, f"SELECT count(*) FROM std_records WHERE {where}", params)


def failing_records(cur: duckdb.DuckDBPyConnection, field: str, statuses: list[str] | None = None,
                    reason: str | None = None, source: str | None = None, limit: int | None = 50, offset: int = 0):
    """One page of failing records (limit=None: all): source, row, raw value, standardized value, status and reason.
    The page is chosen in std_records first; only its rows are joined to their raw values."""
    where, params = _failing_where(field, statuses, reason, source)
    f = quote_ident(field)
    return cur.execute(
        f"WITH page AS (SELECT source, batch_id, row_number, {f} AS standardized_value, {field}_status AS status, "
        f"{field}_reason AS reason FROM std_records WHERE {where} ORDER BY batch_id, row_number "
        f"LIMIT {'ALL' if limit is None else int(limit)} OFFSET ?) "
        f"SELECT p.source, p.batch_id, p.row_number, {raw_sql(field)} AS raw_value, p.standardized_value, p.status, p.reason "
        f"FROM page p JOIN mapped_records m USING (batch_id, row_number) ORDER BY p.batch_id, p.row_number",
        params + [offset]).df()
