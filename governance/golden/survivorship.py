"""Golden records: per OneID, one value per standard field chosen by a survivorship rule, with
lineage (which source, batch and row supplied it, under which rule, and the values that lost).

Rule kinds (a rule per field, stored as numbered versions in `survivorship_rules`):
- source_priority: a trust order of channels;  - most_recent: by updated_at, else the batch time;
- most_frequent;  - most_complete: the longest value;  - aggregate: every distinct value.
Every rule is "valid first": only valid values compete, and a value with a warning loses to a
clean one. A value derived from the resident ID (birth date, sex) beats a typed one. A province,
city or district parsed from a usable address (`addr_*` in std_records: a region column such as
所在地区 maps to `address`) is a fallback: it is used only when no record of the OneID has a usable
typed value for the field, and only when it agrees with the typed units of its own record and with
the golden record's other units (so parsed units never mix two places). Ties break in this
documented order: ID-derived before typed before address-parsed, status (valid before
valid_with_warning, for a parsed unit that of the address), the rule's own order, source priority,
the most recent batch, then the lowest record id.
A steward override (overrides.py) beats every rule.

The build is one pass: OneIDs of a single record are projected without aggregation; the others
go through one `GROUP BY oneid` with a `min()` over a struct sort key per field (the key's first
members are the tie order, the last ones carry the winning record and value). The result is one
wide row per OneID in `golden_wide` (value, winning record and override id per field). Views read
it: `golden_records` (values and derived attributes), `golden_lineage` (one row per OneID and field,
with the competing values computed on demand from `golden_candidates`). A refresh rebuilds only
the OneIDs whose records or standardized values changed since the last build (those the OneID runs
since then placed or retired, or a fingerprint per OneID when something else changed), or
everything when the rules changed.
"""
from __future__ import annotations

import time
from dataclasses import dataclass

import duckdb
import pandas as pd

from governance.access import audit
from governance.access.events import Event
from governance.golden import overrides
from governance.standardize import engine
from governance.standardize.engine import VALID_SQL
from governance.store import serving
from governance.store.chaos import chaos_point
from governance.store.errors import GovernanceError
from governance.store.schema import CHANNELS, FIELD_NAMES
from governance.store.storage import Database, one, scalar
from governance.store.util import utcnow

KINDS = ("source_priority", "most_recent", "most_frequent", "most_complete", "aggregate")
DEFAULT_PRIORITY = ("crm", "member", "pos", "tmall", "jd", "douyin", "wechat_mp", "wechat_oa", "other")
FULL_REBUILD_SHARE = 0.3  # above this share of changed OneIDs a full rebuild is cheaper


@dataclass(frozen=True)
class SurvivorshipRule:
    field: str
    kind: str
    priority: tuple[str, ...] = DEFAULT_PRIORITY

    def check(self) -> None:
        if self.field not in FIELD_NAMES:
            raise ValueError(f"unknown field {self.field!r}")
        if self.kind not in KINDS:
            raise ValueError(f"unknown survivorship rule kind {self.kind!r}")
        unknown = set(self.priority) - set(CHANNELS)
        if unknown or not self.priority or len(set(self.priority)) != len(self.priority):
            raise ValueError(f"bad channel priority {self.priority!r}")


# Defaults: identity fields trust the CRM most; contact fields keep every value; the rest the latest.
DEFAULTS: dict[str, SurvivorshipRule] = {f: SurvivorshipRule(f, "most_recent") for f in FIELD_NAMES}
DEFAULTS.update({f: SurvivorshipRule(f, "source_priority") for f in ("name", "family_name", "given_name", "gender",
                                                                      "birth_date", "member_card")})
DEFAULTS.update({f: SurvivorshipRule(f, "aggregate") for f in ("mobile", "landline", "email", "wechat_open_id",
                                                                "wechat_union_id", "douyin_id", "ecommerce_buyer_id")})
DEFAULTS.update({f: SurvivorshipRule(f, "most_frequent") for f in ("id_card", "other_id")})
DEFAULTS["address"] = SurvivorshipRule("address", "most_complete")

# A value derived from the resident ID beats a typed one.
DERIVED_FIRST = {"birth_date": "strftime(s.id_birth_date, '%Y-%m-%d')", "gender": "s.id_sex"}
# A unit parsed from a usable address is a fallback: a typed value (what the source said) beats it.
ADDRESS_UNITS = {f: f"s.addr_{f}" for f in ("province", "city", "district")}
ADDRESS_OK = f"s.address_status IN {VALID_SQL}"
# Bump when the build gives other golden values for the same records and rules: the next refresh
# of an existing store is then a full rebuild, which also recreates the views (create_views).
BUILD_VERSION = 1  # 1: province, city and district fall back to the units parsed from the address

ATTRIBUTES = ("record_count", "channel_count", "channels", "first_seen", "last_seen", "is_minor")
REC = 4294967296  # rec_id = batch_id * REC + row_number


COMPLETENESS_SQL = f"round(({' + '.join(f'({f} IS NOT NULL)::INT' for f in FIELD_NAMES)}) / {len(FIELD_NAMES)}, 3)"
CONSENT_STATUS_SQL = ("coalesce((SELECT k.state FROM consent_current k WHERE k.oneid = golden_wide.oneid "
                      "AND k.purpose = 'marketing'), 'unknown')")  # the marketing consent in the ledger, now


# ---------------------------------------------------------------------------------------------
# Versioned rules

def create_views(cur: duckdb.DuckDBPyConnection) -> None:
    """golden_records: one row per OneID with the field values, the derived attributes, the
    completeness score and the consent status. golden_candidates: every usable value of every
    record of a OneID (what competes). golden_lineage: one row per OneID and filled field with the
    rule, the winning record (source, batch, row), the competing values that lost and the override."""
    cur.execute(f"CREATE OR REPLACE VIEW golden_records AS SELECT oneid, {', '.join(FIELD_NAMES)}, {', '.join(ATTRIBUTES)}, "
                f"{COMPLETENESS_SQL} AS completeness, "
                f"{CONSENT_STATUS_SQL} AS consent_status FROM golden_wide")
    cur.execute(f"CREATE OR REPLACE VIEW golden_candidates AS {_candidates_sql('')}")
    cur.execute(f"CREATE OR REPLACE VIEW golden_lineage AS {_lineage_sql(False)}")


def _candidates_sql(where: str) -> str:
    """Every usable value of every record of a OneID (`where` filters the crosswalk `c`)."""
    values = []
    for f in FIELD_NAMES:
        value, loser = _value_sql(f)
        values.append(f"{value} AS {f}")
        if loser:
            values.append(f"{loser} AS {f}__lost")
    return f"""
        SELECT oneid, rec_id, source, batch_id, row_number, regexp_replace(field, '__lost$', '') AS field, value
        FROM (UNPIVOT (SELECT c.oneid, c.rec_id, s.source, s.batch_id, s.row_number, {', '.join(values)}
                       FROM crosswalk c JOIN std_records s USING (batch_id, row_number) {where})
              ON COLUMNS(* EXCLUDE (oneid, rec_id, source, batch_id, row_number)) INTO NAME field VALUE value)"""


def _lineage_sql(one: bool, narrow: str = "") -> str:
    """One row per OneID and filled field; with `one`, only the OneID in the parameter $oneid
    (`narrow`: extra conditions on its std_records `s`, see _members_filter)."""
    where = "WHERE oneid = $oneid" if one else ""
    unpivot = " UNION ALL ".join(f"SELECT oneid, '{f}' AS field, {f} AS value, {f}__rec AS rec, "
                                 f"{f}__override AS override_id FROM golden_wide WHERE {f} IS NOT NULL "
                                 f"{where.replace('WHERE', 'AND')}" for f in FIELD_NAMES)
    return f"""
        SELECT u.oneid, u.field, u.value, CASE WHEN u.override_id IS NOT NULL THEN 'override' ELSE r.kind END AS rule,
               b.source, u.rec // {REC} AS batch_id, u.rec % {REC} AS row_number,
               CASE WHEN u.override_id IS NULL AND r.kind = 'aggregate' THEN v.vals  -- every value is kept
                    ELSE list_filter(coalesce(v.vals, []), lambda x: x <> u.value) END AS competing,
               u.override_id, o.created_by AS override_by, o.reason AS override_reason
        FROM ({unpivot}) u
        LEFT JOIN golden_rules_used r USING (field)
        LEFT JOIN batches b ON b.batch_id = u.rec // {REC}
        LEFT JOIN golden_overrides o ON o.override_id = u.override_id
        LEFT JOIN (SELECT oneid, field, list_sort(list_distinct(list(value))) AS vals
                   FROM ({_candidates_sql('WHERE c.oneid = $oneid' + narrow if one else '')}) GROUP BY oneid, field) v
               ON v.oneid = u.oneid AND v.field = u.field"""


def active_rules(cur: duckdb.DuckDBPyConnection) -> dict[str, SurvivorshipRule]:
    """The defaults, replaced field by field by the latest stored version."""
    rules = dict(DEFAULTS)
    for f, kind, priority in cur.execute(
            "SELECT field, kind, priority FROM survivorship_rules QUALIFY row_number() OVER "
            "(PARTITION BY field ORDER BY version DESC) = 1").fetchall():
        if f in rules:
            rules[f] = SurvivorshipRule(f, kind, tuple(priority))
    return rules


def rules_frame(cur: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """One row per standard field: its active rule, version (0 = the default), who and when."""
    latest = {r[0]: r[1:] for r in cur.execute(
        "SELECT field, version, created_by, created_at, comment FROM survivorship_rules QUALIFY row_number() OVER "
        "(PARTITION BY field ORDER BY version DESC) = 1").fetchall()}
    rows = []
    for f, rule in active_rules(cur).items():
        version, by, at, comment = latest.get(f, (0, None, None, None))
        rows.append({"field": f, "kind": rule.kind, "priority": list(rule.priority), "version": version,
                     "changed_by": by, "changed_at": at, "comment": comment})
    return pd.DataFrame(rows)


def rule_history(cur: duckdb.DuckDBPyConnection, field_name: str | None = None) -> pd.DataFrame:
    where, params = ("WHERE field = ?", [field_name]) if field_name else ("", [])
    return cur.execute(f"SELECT field, version, kind, priority, created_by, created_at, comment FROM survivorship_rules "
                       f"{where} ORDER BY field, version DESC", params).df()


def set_rule(db: Database, actor: str, field_name: str, kind: str, priority: tuple[str, ...] | list[str] | None = None,
             comment: str | None = None) -> int:
    """Store a new version of a field's rule (audited); returns the version. The next refresh
    rebuilds every golden record with it."""
    rule = SurvivorshipRule(field_name, kind, tuple(priority) if priority else DEFAULT_PRIORITY)
    try:
        rule.check()
    except ValueError as exc:
        raise GovernanceError(str(exc)) from None
    with db.transaction() as cur:
        version = scalar(cur, "SELECT coalesce(max(version), 0) + 1 FROM survivorship_rules WHERE field = ?",
                              [field_name])
        cur.execute("INSERT INTO survivorship_rules VALUES (?, ?, ?, ?, ?, ?, ?)",
                    [field_name, version, kind, list(rule.priority), actor, utcnow(), comment])
        audit.record(cur, actor, Event.GOLDEN_RULE, "survivorship_rule", field_name,
                     {"version": version, "kind": kind, "priority": list(rule.priority), "comment": comment})
    return version


def _rules_stamp(cur: duckdb.DuckDBPyConnection) -> int:
    """Grows with every rule change (versions are only ever added) and with BUILD_VERSION."""
    return BUILD_VERSION * REC + scalar(cur, "SELECT count(*) FROM survivorship_rules")


# ---------------------------------------------------------------------------------------------
# The build

def _value_sql(f: str) -> tuple[str, str | None]:
    """(the candidate value of field `f` in a record: the ID-derived one first, else a valid typed
    one, else the unit parsed from the address when it agrees with the record's typed units; the
    value that loses inside the record, for the competing values: the typed one beaten by the
    ID-derived one, or the parsed unit beaten by a typed one or left out)."""
    derived = DERIVED_FIRST.get(f)
    typed_ok = f"s.{f}_status IN {VALID_SQL}"
    parsed = ADDRESS_UNITS.get(f)
    if parsed:
        agrees = " AND ".join(f"(s.{g}_status NOT IN {VALID_SQL} OR {p} = s.{g})"  # a typed unit the parse must confirm
                              for g, p in ADDRESS_UNITS.items() if g != f)
        value = f"CASE WHEN {typed_ok} THEN s.{f} WHEN {ADDRESS_OK} AND {agrees} THEN {parsed} END"
        return value, f"CASE WHEN {ADDRESS_OK} AND {parsed} IS DISTINCT FROM ({value}) THEN {parsed} END"
    if not derived:
        return f"CASE WHEN {typed_ok} THEN s.{f} END", None
    return (f"CASE WHEN {derived} IS NOT NULL THEN {derived} WHEN {typed_ok} THEN s.{f} END",
            f"CASE WHEN {derived} IS NOT NULL AND {typed_ok} AND s.{f} <> {derived} THEN s.{f} END")


def _field_sql(f: str, rules: dict[str, SurvivorshipRule], priority_col: str) -> dict[str, list[str]]:
    """The SQL pieces of one field. `single`: the output columns for a OneID of one record (no
    aggregation: most OneIDs). `cand` and `agg`: candidate columns per record and aggregates for a
    OneID of several records; `multi`: its output columns. Outputs: the value, the winning record
    (`__rec`, NULL for aggregate) and the override id (set afterwards)."""
    rule = rules[f]
    value, _ = _value_sql(f)
    parsed = f in ADDRESS_UNITS
    out = {"single": [], "cand": [f"{value} AS v_{f}"], "agg": [], "multi": []}
    derived = DERIVED_FIRST.get(f)
    if derived:
        status = f"CASE WHEN {derived} IS NOT NULL THEN 0 WHEN s.{f}_status = 'valid' THEN 1 ELSE 2 END"
    elif parsed:  # 3, 4: parsed from a valid address, from one with a warning
        status = (f"CASE WHEN s.{f}_status = 'valid' THEN 1 WHEN s.{f}_status IN {VALID_SQL} THEN 2 "
                  f"WHEN s.address_status = 'valid' THEN 3 ELSE 4 END")
    else:
        status = f"CASE WHEN s.{f}_status = 'valid' THEN 1 ELSE 2 END"
    if parsed:
        out["cand"] += [f"{status} AS d_{f}", f"s.addr_{f} AS a_{f}"]  # a_: the record's parsed unit
    if rule.kind == "aggregate":
        out["single"] += [f"{value} AS {f}", f"NULL::BIGINT AS {f}__rec"]
        every = "array_to_string(list_sort(list_distinct(list(v_{f}) FILTER (WHERE v_{f} IS NOT NULL{c}))), ' | ')"
        if parsed:  # the parsed units only when no record has a typed one
            out["agg"] += [every.format(f=f, c=f" AND d_{f} < 3") + f" AS all_{f}",
                           every.format(f=f, c=f" AND d_{f} >= 3") + f" AS allp_{f}"]
            out["multi"] += [f"coalesce(nullif(all_{f}, ''), nullif(allp_{f}, '')) AS {f}", f"NULL::BIGINT AS {f}__rec"]
        else:
            out["agg"].append(every.format(f=f, c="") + f" AS all_{f}")
            out["multi"] += [f"nullif(all_{f}, '') AS {f}", f"NULL::BIGINT AS {f}__rec"]
    else:
        out["single"] += [f"{value} AS {f}", f"CASE WHEN {value} IS NOT NULL THEN c.rec_id END AS {f}__rec"]
        if not parsed:
            out["cand"].append(f"{status} AS d_{f}")
        own = {"source_priority": None, "most_recent": "-seen_us", "most_frequent": f"-n_{f}",
               "most_complete": f"-length(v_{f})"}[rule.kind]
        if rule.kind == "most_frequent":
            out["freq"] = [f]
        others = [g for g in ADDRESS_UNITS if g != f and rules[g].kind != "aggregate"] if parsed else []
        key = [f"'d': d_{f}"] + ([f"'k': {own}"] if own else []) + [f"'p': {priority_col}", "'t': tie", "'r': rec_id",
                                                                     f"'v': v_{f}"] + [f"'a_{g}': a_{g}" for g in others]
        out["agg"].append(f"min({{{', '.join(key)}}}) FILTER (WHERE v_{f} IS NOT NULL) AS w_{f}")
        winner = [f"w_{f}.v", f"w_{f}.r"]
        if others:  # a parsed winner stays only when its record's other parsed units agree with the golden ones
            keep = f"w_{f}.d < 3 OR ({' AND '.join(f'coalesce(w_{f}.a_{g} = w_{g}.v, true)' for g in others)})"
            winner = [f"CASE WHEN {keep} THEN {w} END" for w in winner]
        out["multi"] += [f"{winner[0]} AS {f}", f"{winner[1]} AS {f}__rec"]
    out["single"].append(f"NULL::BIGINT AS {f}__override")
    out["multi"].append(f"NULL::BIGINT AS {f}__override")
    return out


def _golden_select(rules: dict[str, SurvivorshipRule], only_changed: bool) -> tuple[str, list]:
    """The SELECT producing golden_wide rows (overrides are applied afterwards); with
    `only_changed`, only the OneIDs in the temp table `golden_changed`."""
    params: list = []
    priority_cols: dict[tuple[str, ...], str] = {}
    for f in FIELD_NAMES:  # one rank column per distinct trust order (channels go in as parameters)
        if rules[f].priority not in priority_cols:
            priority_cols[rules[f].priority] = f"p{len(priority_cols)}"
            params.append(list(rules[f].priority))
    ranks = ", ".join(f"coalesce(list_position(?::VARCHAR[], b.channel), 1000) AS {c}" for c in priority_cols.values())
    parts = [_field_sql(f, rules, priority_cols[rules[f].priority]) for f in FIELD_NAMES]
    if only_changed:  # the records found by their row ids (see _rebuild): the scan skips to them
        members, records = "golden_members c", "JOIN std_records s ON s.rowid = c.srow"
    else:
        members, records = "crosswalk c", "JOIN std_records s USING (batch_id, row_number)"
    joins = f"{records} JOIN batches b ON b.batch_id = c.batch_id LEFT JOIN std_batches sb ON sb.batch_id = c.batch_id"
    freq = [f for p in parts for f in p.get("freq", [])]
    counts = "".join(f" LEFT JOIN (SELECT oneid, v_{f}, count(*) AS n_{f} FROM cand0 GROUP BY ALL) USING (oneid, v_{f})"
                     for f in freq)
    sql = f"""
        WITH sizes AS (SELECT oneid, count(*) AS n FROM {members} GROUP BY oneid),
        single AS (
            SELECT c.oneid, 1 AS record_count, 1 AS channel_count, [b.channel] AS channels, b.uploaded_at AS first_seen,
                   b.uploaded_at AS last_seen, coalesce(s.is_minor, false) AS is_minor, hash(c.rec_id) AS members_hash,
                   sb.standardized_at, {', '.join(x for p in parts for x in p["single"])}
            FROM {members} SEMI JOIN (SELECT oneid FROM sizes WHERE n = 1) USING (oneid) {joins}),
        cand0 AS (
                SELECT c.oneid, c.rec_id, b.channel, b.uploaded_at, coalesce(s.is_minor, false) AS minor, sb.standardized_at,
                       epoch_us(coalesce(TRY_CAST(s.updated_at AS TIMESTAMP), b.uploaded_at)) AS seen_us,
                       c.row_number - c.batch_id * {REC} AS tie, {ranks}, {', '.join(x for p in parts for x in p["cand"])}
                FROM {members} SEMI JOIN (SELECT oneid FROM sizes WHERE n > 1) USING (oneid) {joins}),
        cand AS (SELECT * FROM cand0{counts}),
        multi AS (
            SELECT oneid, record_count, len(channels) AS channel_count, channels, first_seen, last_seen, is_minor,
                   members_hash, standardized_at, {', '.join(x for p in parts for x in p["multi"])}
            FROM (SELECT oneid, count(*) AS record_count, list_sort(list_distinct(list(channel))) AS channels,
                         min(uploaded_at) AS first_seen, max(uploaded_at) AS last_seen, bool_or(minor) AS is_minor,
                         bit_xor(hash(rec_id)) AS members_hash, max(standardized_at) AS standardized_at,
                         {', '.join(x for p in parts for x in p["agg"])}
                  FROM cand GROUP BY oneid))
        SELECT * FROM single UNION ALL SELECT * FROM multi"""
    return sql, params


def _apply_overrides(cur: duckdb.DuckDBPyConnection, only_changed: bool) -> None:
    """Active overrides beat the rules: the value is replaced (the rule's values still compete)."""
    scope = "AND o.oneid IN (SELECT oneid FROM golden_changed)" if only_changed else ""
    fields = [r[0] for r in cur.execute(f"SELECT DISTINCT field FROM ({ACTIVE_OVERRIDES}) o WHERE true {scope}").fetchall()]
    for f in fields:
        if f not in FIELD_NAMES:
            continue
        cur.execute(f"""
            UPDATE golden_wide g SET {f} = o.value, {f}__override = o.override_id, {f}__rec = NULL
            FROM ({ACTIVE_OVERRIDES}) o WHERE o.field = ? AND o.oneid = g.oneid {scope}""", [f])


# The latest active override per OneID and field.
ACTIVE_OVERRIDES = ("SELECT * FROM golden_overrides WHERE removed_at IS NULL "
                    "QUALIFY row_number() OVER (PARTITION BY oneid, field ORDER BY override_id DESC) = 1")


@dataclass(frozen=True)
class RefreshResult:
    mode: str        # 'full' or 'incremental'
    oneids: int      # golden records after the refresh
    rebuilt: int     # golden records (re)computed
    seconds: float


def _changed_oneids(cur: duckdb.DuckDBPyConnection) -> None:
    """Fill the temp table golden_changed with every OneID whose members or standardized values
    differ from what its golden record was built from, and every OneID that is gone: from the runs
    since the last build when nothing else can have changed, else by a fingerprint of every OneID."""
    if _changed_by_runs(cur):
        return
    cur.execute("""
        CREATE OR REPLACE TEMP TABLE golden_changed AS
        WITH now AS (
            SELECT c.oneid, count(*) AS n, bit_xor(hash(c.rec_id)) AS h, max(sb.standardized_at) AS st
            FROM crosswalk c LEFT JOIN std_batches sb USING (batch_id) GROUP BY c.oneid)
        SELECT coalesce(now.oneid, g.oneid) AS oneid FROM now FULL JOIN golden_wide g USING (oneid)
        WHERE g.oneid IS NULL OR now.oneid IS NULL OR now.n <> g.record_count OR now.h <> g.members_hash
           OR now.st IS DISTINCT FROM g.standardized_at""")


def _changed_by_runs(cur: duckdb.DuckDBPyConnection) -> bool:
    """golden_changed from the OneID runs since the last build: the OneIDs of the crosswalk rows they
    placed (a run places every record of each OneID it touches) and those they retired. False, with
    nothing filled, when the last build left no marks, a batch it saw was standardized again, the runs
    placed much of the crosswalk (a full run), or a OneID left alone holds other records than its
    golden record counts (rows erased since)."""
    mark = cur.execute("SELECT last_run, std_stamp FROM golden_builds ORDER BY build_id DESC LIMIT 1").fetchone()
    if mark is None or None in mark:
        return False
    last_run, std_stamp = mark
    if scalar(cur, "SELECT count(*) FROM std_batches WHERE standardized_at > ? AND batch_id IN "
                   "(SELECT batch_id FROM crosswalk WHERE run_id <= ?)", [std_stamp, last_run]):
        return False
    cur.execute("CREATE OR REPLACE TEMP TABLE golden_changed AS SELECT oneid FROM crosswalk WHERE run_id > ? "
                "UNION SELECT oneid FROM oneid_history WHERE run_id > ?", [last_run, last_run])
    placed, golden = one(cur, "SELECT (SELECT count(*) FROM golden_changed), (SELECT count(*) FROM golden_wide)")
    if placed > FULL_REBUILD_SHARE * golden:  # a full run placed every record: the fingerprints tell which changed
        return False
    now, built = one(cur, "SELECT (SELECT count(*) FROM crosswalk WHERE oneid NOT IN (SELECT oneid FROM golden_changed)), "
                          "(SELECT coalesce(sum(record_count), 0) FROM golden_wide "
                          "WHERE oneid NOT IN (SELECT oneid FROM golden_changed))")
    return now == built


def _aged_out_oneids(cur: duckdb.DuckDBPyConnection) -> list[str]:
    """OneIDs with records whose holder has turned 14 since standardization (their flag is
    cleared by the owner of std_records); their golden records need rebuilding."""
    if not engine.clear_aged_out_minors(cur):
        return []
    return [r[0] for r in cur.execute("SELECT DISTINCT oneid FROM crosswalk JOIN aged_out USING (batch_id, row_number)"
                                      ).fetchall()]


def _rebuild(cur: duckdb.DuckDBPyConnection, rules: dict[str, SurvivorshipRule]) -> None:
    """Recompute the OneIDs in golden_changed (they may be new, changed or gone)."""
    # Their records' row ids first, from two columns of std_records: a join on the one row id column
    # lets the wide scan below skip to those rows instead of reading every record's values.
    cur.execute("CREATE OR REPLACE TEMP TABLE golden_members AS SELECT c.*, s.rowid AS srow FROM crosswalk c "
                "JOIN (SELECT rowid, batch_id, row_number FROM std_records) s USING (batch_id, row_number) "
                "WHERE c.oneid IN (SELECT oneid FROM golden_changed)")
    sql, params = _golden_select(rules, only_changed=True)
    serving.drop(cur, "golden_wide", scalar(cur, "SELECT count(*) FROM golden_changed"))
    cur.execute("DELETE FROM golden_wide WHERE oneid IN (SELECT oneid FROM golden_changed)")
    cur.execute(f"INSERT INTO golden_wide BY NAME {sql}", params)
    _apply_overrides(cur, only_changed=True)


def refresh_golden(db: Database, oneids: list[str] | None = None, full: bool = False,
                   rules: dict[str, SurvivorshipRule] | None = None) -> RefreshResult:
    """Bring the golden records up to date: incrementally for the OneIDs whose records changed
    (plus `oneids`, e.g. after an override), in full when asked, when the rules changed, or when
    most OneIDs changed. `rules` (tests, benchmarks) replaces the active rules for this build."""
    started = time.perf_counter()
    with db.transaction() as cur:
        active = {**active_rules(cur), **(rules or {})}
        for rule in active.values():
            rule.check()  # kinds and fields are written into the SQL; channels go in as parameters
        stamp = _rules_stamp(cur)
        moved = overrides.carry_to_merged(cur)
        aged = _aged_out_oneids(cur)
        last = cur.execute("SELECT rules_stamp FROM golden_builds ORDER BY build_id DESC LIMIT 1").fetchone()
        rebuild_all = full or rules is not None or last is None or last[0] != stamp
        if not rebuild_all:
            _changed_oneids(cur)
            extra = sorted(set(oneids or []) | set(moved) | set(aged))
            if extra:
                cur.execute("INSERT INTO golden_changed SELECT unnest(?::VARCHAR[]) EXCEPT SELECT oneid FROM golden_changed",
                            [extra])
            changed = scalar(cur, "SELECT count(*) FROM golden_changed")
            rebuild_all = changed > FULL_REBUILD_SHARE * max(scalar(cur, "SELECT count(*) FROM golden_wide"), 1)
        if rebuild_all:
            sql, params = _golden_select(active, only_changed=False)
            cur.execute(f"CREATE OR REPLACE TABLE golden_wide AS {sql} ORDER BY oneid", params)  # point lookups skip row groups
            create_views(cur)
            cur.execute("DELETE FROM golden_rules_used")
            cur.executemany("INSERT INTO golden_rules_used VALUES (?, ?)", [[f, r.kind] for f, r in active.items()])
            _apply_overrides(cur, only_changed=False)
            mode = "full"
        else:
            if changed:
                _rebuild(cur, active)
            mode = "incremental"
        chaos_point("golden.rebuilt")
        n = scalar(cur, "SELECT count(*) FROM golden_wide")
        if mode == "full":
            changed = n
        seconds = time.perf_counter() - started
        cur.execute("INSERT INTO golden_builds (build_id, ts, mode, rules_stamp, oneids, rebuilt, seconds, last_run, "
                    "std_stamp) SELECT nextval('golden_build_seq'), ?, ?, ?, ?, ?, ?, (SELECT max(run_id) FROM oneid_runs), "
                    "(SELECT max(standardized_at) FROM std_batches)",
                    [utcnow(), mode, -1 if rules else stamp, n, changed, seconds])  # -1: next refresh is full
    return RefreshResult(mode, n, changed, seconds)


def build_golden(db: Database, rules: dict[str, SurvivorshipRule] | None = None) -> int:
    """Rebuild every golden record (with `rules` replacing the active ones); returns the number of OneIDs."""
    return refresh_golden(db, full=True, rules=rules).oneids


def _members_filter(cur: duckdb.DuckDBPyConnection, oneid: str) -> str:
    """Constant conditions on std_records `s` for the records of one OneID, so that the scan skips
    row groups by their min/max (batch ids and row numbers are integers we read from the store)."""
    rows = cur.execute("SELECT list(DISTINCT batch_id), list(DISTINCT row_number) FROM crosswalk WHERE oneid = ?",
                       [oneid]).fetchone()
    if not rows or not rows[0]:
        return ""
    return (f" AND s.batch_id IN ({', '.join(str(int(b)) for b in rows[0])})"
            f" AND s.row_number IN ({', '.join(str(int(r)) for r in rows[1])})")


def lineage(cur: duckdb.DuckDBPyConnection, oneid: str) -> pd.DataFrame:
    """Per field of one golden record: value, rule, source, batch, row, the competing values and
    the override (who and why) when a steward set the value."""
    sql = _lineage_sql(True, _members_filter(cur, oneid))
    return cur.execute(f"SELECT field, value, rule, source, batch_id, row_number, competing, override_id, override_by, "
                       f"override_reason FROM ({sql}) ORDER BY field", {"oneid": oneid}).df()


def candidates(cur: duckdb.DuckDBPyConnection, oneid: str, field_name: str | None = None) -> pd.DataFrame:
    """The competing values of one OneID on demand: every usable value per field with the record
    (source, batch, row) that holds it, and whether it is the golden value."""
    narrow = _members_filter(cur, oneid)
    sql = _candidates_sql("WHERE c.oneid = $oneid" + narrow)
    where, params = ("WHERE k.field = $field", {"oneid": oneid, "field": field_name}) if field_name else ("", {"oneid": oneid})
    return cur.execute(f"SELECT k.field, k.value, k.source, k.batch_id, k.row_number, coalesce(l.value = k.value OR "
                       f"list_contains(string_split(l.value, ' | '), k.value), false) AS golden FROM ({sql}) k "
                       f"LEFT JOIN ({_lineage_sql(True, narrow)}) l USING (field) {where} "
                       f"ORDER BY k.field, golden DESC, k.batch_id DESC, k.row_number", params).df()
