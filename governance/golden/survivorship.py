"""Golden records: per OneID, one value per standard field chosen by a survivorship rule, with
lineage (which source, batch and row supplied it, under which rule, and the values that lost).

Rule kinds (a rule per field, stored as numbered versions in `survivorship_rules`):
- source_priority: a trust order of channels;  - most_recent: by updated_at, else the batch time;
- most_frequent;  - most_complete: the longest value;  - aggregate: every distinct value.
Every rule is "valid first": only valid values compete, and a value with a warning loses to a
clean one. A value derived from the resident ID (birth date, sex) beats a typed one. Ties break in
this documented order: derived before typed, status (valid before valid_with_warning), the rule's
own order, source priority, the most recent batch, then the lowest record id.
A steward override (overrides.py) beats every rule.

The build is one pass: a `GROUP BY oneid` over the crosswalk joined to the standardized records,
with one `min()` over a struct sort key per field (the key's first members are the tie order, the
last ones carry the value and its lineage). The result is one wide row per OneID in `golden_wide`;
the views `golden_records` (plain values and derived attributes) and `golden_lineage` (one row per
OneID and field) read it. A refresh rebuilds only the OneIDs whose records or standardized values
changed since the last build (a fingerprint per OneID), or everything when the rules changed.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field

import duckdb
import pandas as pd

from governance import audit
from governance.errors import GovernanceError
from governance.schema import CHANNELS, FIELD_NAMES
from governance.storage import Database
from governance.util import utcnow

KINDS = ("source_priority", "most_recent", "most_frequent", "most_complete", "aggregate")
DEFAULT_PRIORITY = ("crm", "member", "pos", "tmall", "jd", "douyin", "wechat_mp", "wechat_oa", "other")
VALID = "('valid', 'valid_with_warning')"
FULL_REBUILD_SHARE = 0.3  # above this share of changed OneIDs a full rebuild is cheaper


@dataclass(frozen=True)
class SurvivorshipRule:
    field: str
    kind: str
    priority: tuple[str, ...] = field(default=DEFAULT_PRIORITY)

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
DEFAULTS["id_card"] = SurvivorshipRule("id_card", "most_frequent")
DEFAULTS["address"] = SurvivorshipRule("address", "most_complete")

# A value derived from the resident ID beats a typed one.
DERIVED_FIRST = {"birth_date": "strftime(s.id_birth_date, '%Y-%m-%d')", "gender": "s.id_sex"}

LINEAGE_TYPE = ("STRUCT(value VARCHAR, rule VARCHAR, source VARCHAR, batch_id BIGINT, row_number BIGINT, "
                "competing VARCHAR[], override_id BIGINT, override_by VARCHAR, override_reason VARCHAR)")
ATTRIBUTES = ("record_count", "channel_count", "channels", "first_seen", "last_seen", "is_minor", "completeness")


def consent_status_sql(marketing_consent: str) -> str:
    """The consent status of a golden record, from its surviving `marketing_consent` value.
    (One place to change when consent comes from the consent ledger.)"""
    return (f"CASE {marketing_consent} WHEN 'true' THEN 'granted' WHEN 'false' THEN 'withdrawn' "
            f"ELSE 'unknown' END")


# ---------------------------------------------------------------------------------------------
# Versioned rules

def create_tables(cur: duckdb.DuckDBPyConnection) -> None:
    """Migration: rules, overrides, the golden table, its views and the build log."""
    cur.execute("CREATE TABLE survivorship_rules (field VARCHAR NOT NULL, version INTEGER NOT NULL, kind VARCHAR NOT NULL, "
                "priority VARCHAR[] NOT NULL, created_by VARCHAR NOT NULL, created_at TIMESTAMP NOT NULL, comment VARCHAR, "
                "PRIMARY KEY (field, version))")
    cur.execute("CREATE SEQUENCE golden_override_seq START 1")
    cur.execute("CREATE TABLE golden_overrides (override_id BIGINT PRIMARY KEY, oneid VARCHAR NOT NULL, "
                "field VARCHAR NOT NULL, value VARCHAR NOT NULL, reason VARCHAR NOT NULL, created_by VARCHAR NOT NULL, "
                "created_at TIMESTAMP NOT NULL, set_on_oneid VARCHAR NOT NULL, removed_at TIMESTAMP, removed_by VARCHAR, "
                "removed_reason VARCHAR)")
    cur.execute("CREATE SEQUENCE golden_build_seq START 1")
    cur.execute("CREATE TABLE golden_builds (build_id BIGINT PRIMARY KEY, ts TIMESTAMP NOT NULL, mode VARCHAR NOT NULL, "
                "rules_stamp BIGINT NOT NULL, oneids BIGINT NOT NULL, rebuilt BIGINT NOT NULL, seconds DOUBLE NOT NULL)")
    cur.execute("DROP TABLE IF EXISTS golden_lineage")  # written by the groundwork build as tables
    cur.execute("DROP TABLE IF EXISTS golden_records")
    sql, params = _golden_select(DEFAULTS, only_changed=False)
    cur.execute(f"CREATE TABLE golden_wide AS {sql} LIMIT 0", params)
    create_views(cur)


def create_views(cur: duckdb.DuckDBPyConnection) -> None:
    plain = ", ".join(f"{f}.value AS {f}" for f in FIELD_NAMES)
    cur.execute(f"CREATE OR REPLACE VIEW golden_records AS SELECT oneid, {plain}, {', '.join(ATTRIBUTES)}, "
                f"{consent_status_sql('marketing_consent.value')} AS consent_status FROM golden_wide")
    cur.execute(f"CREATE OR REPLACE VIEW golden_lineage AS SELECT oneid, field, lin.value AS value, lin.rule AS rule, "
                f"lin.source AS source, lin.batch_id AS batch_id, lin.row_number AS row_number, "
                f"lin.competing AS competing, lin.override_id AS override_id, lin.override_by AS override_by, "
                f"lin.override_reason AS override_reason "
                f"FROM (UNPIVOT (SELECT oneid, {', '.join(FIELD_NAMES)} FROM golden_wide) ON {', '.join(FIELD_NAMES)} "
                f"INTO NAME field VALUE lin)")


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
        version = cur.execute("SELECT coalesce(max(version), 0) + 1 FROM survivorship_rules WHERE field = ?",
                              [field_name]).fetchone()[0]
        cur.execute("INSERT INTO survivorship_rules VALUES (?, ?, ?, ?, ?, ?, ?)",
                    [field_name, version, kind, list(rule.priority), actor, utcnow(), comment])
        audit.record(cur, actor, "golden.rule", "survivorship_rule", field_name,
                     {"version": version, "kind": kind, "priority": list(rule.priority), "comment": comment})
    return version


def _rules_stamp(cur: duckdb.DuckDBPyConnection) -> int:
    """Grows with every rule change (versions are only ever added)."""
    return cur.execute("SELECT count(*) FROM survivorship_rules").fetchone()[0]


# ---------------------------------------------------------------------------------------------
# The build

def _field_sql(f: str, rule: SurvivorshipRule, params: list) -> tuple[list[str], list[str], str]:
    """(candidate columns, aggregates, final lineage struct) for one field."""
    derived = DERIVED_FIRST.get(f)
    typed_ok = f"s.{f}_status IN {VALID}"
    if derived:
        value = f"CASE WHEN {derived} IS NOT NULL THEN {derived} WHEN {typed_ok} THEN s.{f} END"
        status_rank = f"CASE WHEN {derived} IS NOT NULL THEN 0 WHEN s.{f}_status = 'valid' THEN 1 ELSE 2 END"
    else:
        value = f"CASE WHEN {typed_ok} THEN s.{f} END"
        status_rank = f"CASE WHEN s.{f}_status = 'valid' THEN 1 ELSE 2 END"
    params.append(list(rule.priority))
    cand = [f"{value} AS v_{f}", f"{status_rank} AS s_{f}",
            f"coalesce(list_position(?::VARCHAR[], b.channel), 1000) AS p_{f}"]
    if derived:  # the typed value still competes (it shows among the losers)
        cand.append(f"CASE WHEN {derived} IS NOT NULL AND {typed_ok} THEN s.{f} END AS t_{f}")
    if rule.kind == "most_frequent":
        cand.append(f"count(*) OVER (PARTITION BY c.oneid, {value}) AS n_{f}")
    everything = f"list(v_{f}) FILTER (WHERE v_{f} IS NOT NULL)"
    if derived:
        everything = f"list_concat({everything}, list(t_{f}) FILTER (WHERE t_{f} IS NOT NULL))"
    aggs = [f"list_sort(list_distinct({everything})) AS all_{f}"]
    if rule.kind == "aggregate":
        final = (f"CASE WHEN len(all_{f}) > 0 THEN {{'value': array_to_string(all_{f}, ' | '), 'rule': 'aggregate', "
                 f"'source': NULL, 'batch_id': NULL, 'row_number': NULL, 'competing': all_{f}, 'override_id': NULL, "
                 f"'override_by': NULL, 'override_reason': NULL}} END")
    else:
        own = {"source_priority": "0", "most_recent": "-seen_us", "most_frequent": f"-n_{f}",
               "most_complete": f"-length(v_{f})"}[rule.kind]
        aggs.append(f"min({{'d': s_{f}, 'k': {own}, 'p': p_{f}, 'b': -batch_id, 'r': rec_id, 'v': v_{f}, "
                    f"'src': source, 'rn': row_number}}) FILTER (WHERE v_{f} IS NOT NULL) AS w_{f}")
        final = (f"CASE WHEN w_{f} IS NOT NULL THEN {{'value': w_{f}.v, 'rule': '{rule.kind}', 'source': w_{f}.src, "
                 f"'batch_id': -w_{f}.b, 'row_number': w_{f}.rn, "
                 f"'competing': list_filter(all_{f}, lambda x: x <> w_{f}.v), 'override_id': NULL, "
                 f"'override_by': NULL, 'override_reason': NULL}} END")
    override = (f"CASE WHEN o.m['{f}'] IS NOT NULL THEN {{'value': o.m['{f}'].value, 'rule': 'override', "
                f"'source': NULL, 'batch_id': NULL, 'row_number': NULL, "
                f"'competing': list_filter(coalesce(all_{f}, []), lambda x: x <> o.m['{f}'].value), "
                f"'override_id': o.m['{f}'].override_id, 'override_by': o.m['{f}'].created_by, "
                f"'override_reason': o.m['{f}'].reason}}::{LINEAGE_TYPE} ELSE ({final})::{LINEAGE_TYPE} END AS {f}")
    return cand, aggs, override


def _golden_select(rules: dict[str, SurvivorshipRule], only_changed: bool) -> tuple[str, list]:
    """The SELECT producing golden_wide rows; with `only_changed`, only the OneIDs in the temp
    table `golden_changed`."""
    params: list = []
    cands, aggs, finals = [], [], []
    for f in FIELD_NAMES:
        c, a, fin = _field_sql(f, rules[f], params)
        cands += c
        aggs += a
        finals.append(fin)
    scope = "WHERE c.oneid IN (SELECT oneid FROM golden_changed)" if only_changed else ""
    filled = " + ".join(f"({f}.value IS NOT NULL)::INT" for f in FIELD_NAMES)
    sql = f"""
        WITH cand AS (
            SELECT c.oneid, c.rec_id, s.source, s.batch_id, s.row_number, b.channel, b.uploaded_at,
                   epoch_us(coalesce(TRY_CAST(s.updated_at AS TIMESTAMP), b.uploaded_at)) AS seen_us,
                   coalesce(s.is_minor, false) AS minor, sb.standardized_at, {', '.join(cands)}
            FROM crosswalk c JOIN std_records s USING (batch_id, row_number)
            JOIN batches b ON b.batch_id = c.batch_id LEFT JOIN std_batches sb ON sb.batch_id = c.batch_id
            {scope}),
        agg AS (
            SELECT oneid, count(*) AS record_count, list_sort(list_distinct(list(channel))) AS channels,
                   min(uploaded_at) AS first_seen, max(uploaded_at) AS last_seen, bool_or(minor) AS is_minor,
                   bit_xor(hash(rec_id)) AS members_hash, max(standardized_at) AS standardized_at, {', '.join(aggs)}
            FROM cand GROUP BY oneid),
        ov AS (
            SELECT oneid, map_from_entries(list((field, {{'value': value, 'override_id': override_id,
                   'created_by': created_by, 'reason': reason}}))) AS m
            FROM ({ACTIVE_OVERRIDES}) GROUP BY oneid),
        fields AS (
            SELECT a.oneid, a.record_count, len(a.channels) AS channel_count, a.channels, a.first_seen, a.last_seen,
                   a.is_minor, a.members_hash, a.standardized_at, {', '.join(finals)}
            FROM agg a LEFT JOIN ov o USING (oneid))
        SELECT oneid, {', '.join(FIELD_NAMES)}, record_count, channel_count, channels, first_seen, last_seen, is_minor,
               round(({filled}) / {len(FIELD_NAMES)}, 3) AS completeness, members_hash, standardized_at
        FROM fields"""
    return sql, params


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
    differ from what its golden record was built from, and every OneID that is gone."""
    cur.execute("""
        CREATE OR REPLACE TEMP TABLE golden_changed AS
        WITH now AS (
            SELECT c.oneid, count(*) AS n, bit_xor(hash(c.rec_id)) AS h, max(sb.standardized_at) AS st
            FROM crosswalk c LEFT JOIN std_batches sb USING (batch_id) GROUP BY c.oneid)
        SELECT coalesce(now.oneid, g.oneid) AS oneid FROM now FULL JOIN golden_wide g USING (oneid)
        WHERE g.oneid IS NULL OR now.oneid IS NULL OR now.n <> g.record_count OR now.h <> g.members_hash
           OR now.st IS DISTINCT FROM g.standardized_at""")


def _rebuild(cur: duckdb.DuckDBPyConnection, rules: dict[str, SurvivorshipRule]) -> None:
    """Recompute the OneIDs in golden_changed (they may be new, changed or gone)."""
    sql, params = _golden_select(rules, only_changed=True)
    cur.execute("DELETE FROM golden_wide WHERE oneid IN (SELECT oneid FROM golden_changed)")
    cur.execute(f"INSERT INTO golden_wide {sql}", params)


def refresh_golden(db: Database, oneids: list[str] | None = None, full: bool = False,
                   rules: dict[str, SurvivorshipRule] | None = None) -> RefreshResult:
    """Bring the golden records up to date: incrementally for the OneIDs whose records changed
    (plus `oneids`, e.g. after an override), in full when asked, when the rules changed, or when
    most OneIDs changed. `rules` (tests, benchmarks) replaces the active rules for this build."""
    started = time.perf_counter()
    from governance.golden import overrides

    with db.transaction() as cur:
        active = {**active_rules(cur), **(rules or {})}
        for rule in active.values():
            rule.check()  # kinds and fields are written into the SQL; channels go in as parameters
        stamp = _rules_stamp(cur)
        moved = overrides.carry_to_merged(cur)
        last = cur.execute("SELECT rules_stamp FROM golden_builds ORDER BY build_id DESC LIMIT 1").fetchone()
        total = cur.execute("SELECT count(DISTINCT oneid) FROM crosswalk").fetchone()[0]
        rebuild_all = full or rules is not None or last is None or last[0] != stamp
        if not rebuild_all:
            _changed_oneids(cur)
            extra = sorted(set(oneids or []) | set(moved))
            if extra:
                cur.execute("INSERT INTO golden_changed SELECT unnest(?::VARCHAR[]) EXCEPT SELECT oneid FROM golden_changed",
                            [extra])
            changed = cur.execute("SELECT count(*) FROM golden_changed").fetchone()[0]
            rebuild_all = changed > FULL_REBUILD_SHARE * max(total, 1)
        if rebuild_all:
            sql, params = _golden_select(active, only_changed=False)
            cur.execute(f"CREATE OR REPLACE TABLE golden_wide AS {sql}", params)
            create_views(cur)
            changed, mode = total, "full"
        else:
            if changed:
                _rebuild(cur, active)
            mode = "incremental"
        n = cur.execute("SELECT count(*) FROM golden_wide").fetchone()[0]
        seconds = time.perf_counter() - started
        cur.execute("INSERT INTO golden_builds VALUES (nextval('golden_build_seq'), ?, ?, ?, ?, ?, ?)",
                    [utcnow(), mode, -1 if rules else stamp, n, changed, seconds])  # -1: next refresh is full
    return RefreshResult(mode, n, changed, seconds)


def build_golden(db: Database, rules: dict[str, SurvivorshipRule] | None = None) -> int:
    """Rebuild every golden record (with `rules` replacing the active ones); returns the number of OneIDs."""
    return refresh_golden(db, full=True, rules=rules).oneids


def lineage(cur: duckdb.DuckDBPyConnection, oneid: str) -> pd.DataFrame:
    """Per field of one golden record: value, rule, source, batch, row, the competing values and
    the override (who and why) when a steward set the value."""
    return cur.execute("SELECT field, value, rule, source, batch_id, row_number, competing, override_id, override_by, "
                       "override_reason FROM golden_lineage WHERE oneid = ? ORDER BY field", [oneid]).df()
