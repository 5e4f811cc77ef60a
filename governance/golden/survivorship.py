"""Golden records: per OneID, one value per standard field chosen by a survivorship rule, with
lineage (which source, batch and row supplied it, under which rule, and the values that lost).

Rule kinds (a rule per field):
- source_priority: a trust order of channels;  - most_recent: by updated_at, else the batch time;
- most_frequent;  - most_complete: the longest value;  - aggregate: every distinct value.
Every rule is "valid first": only valid values compete, and a value with a warning loses to a
clean one. Ties break in this documented order: status (valid before valid_with_warning), the
rule's own order, source priority, the most recent batch, then the lowest record id.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import duckdb

from governance.schema import CHANNELS, FIELD_NAMES
from governance.storage import Database

KINDS = ("source_priority", "most_recent", "most_frequent", "most_complete", "aggregate")
DEFAULT_PRIORITY = ("crm", "member", "pos", "tmall", "jd", "douyin", "wechat_mp", "wechat_oa", "other")


@dataclass(frozen=True)
class SurvivorshipRule:
    field: str
    kind: str
    priority: tuple[str, ...] = field(default=DEFAULT_PRIORITY)


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


def _candidates_sql(f: str) -> str:
    """One row per record of a OneID with a usable value of field `f` (and, for fields that a
    resident ID determines, one more row with the ID-derived value)."""
    common = ("s.source, s.batch_id, s.row_number, b.channel, "
              "coalesce(TRY_CAST(s.updated_at AS TIMESTAMP), b.uploaded_at) AS seen_at, "
              "s.batch_id * 4294967296 + s.row_number AS rec_id "
              "FROM std_records s JOIN crosswalk c USING (batch_id, row_number) JOIN batches b ON b.batch_id = s.batch_id")
    typed = (f"SELECT c.oneid, s.{f} AS value, s.{f}_status AS status, false AS derived, {common} "
             f"WHERE s.{f} IS NOT NULL AND s.{f}_status IN ('valid', 'valid_with_warning')")
    if f not in DERIVED_FIRST:
        return typed
    return (f"{typed} UNION ALL SELECT c.oneid, {DERIVED_FIRST[f]} AS value, 'valid' AS status, true AS derived, "
            f"{common} WHERE {DERIVED_FIRST[f]} IS NOT NULL")


def _order(rule: SurvivorshipRule) -> str:
    priority = "CASE channel " + " ".join(f"WHEN '{c}' THEN {i}" for i, c in enumerate(rule.priority)) + \
        f" ELSE {len(rule.priority)} END"
    by_kind = {
        "source_priority": f"{priority}",
        "most_recent": "seen_at DESC NULLS LAST",
        "most_frequent": "freq DESC",
        "most_complete": "length(value) DESC",
    }[rule.kind]
    return (f"derived DESC, CASE status WHEN 'valid' THEN 0 ELSE 1 END, {by_kind}, {priority}, "
            "batch_id DESC, rec_id")


def build_golden(db: Database, rules: dict[str, SurvivorshipRule] | None = None) -> int:
    """Rebuild golden_records and golden_lineage from the crosswalk; returns the number of OneIDs."""
    rules = {**DEFAULTS, **(rules or {})}
    for rule in rules.values():
        if rule.kind not in KINDS or rule.field not in FIELD_NAMES or not set(rule.priority) <= set(CHANNELS):
            raise ValueError(f"bad survivorship rule {rule}")  # channel names are written into the SQL
    with db.transaction() as cur:
        cur.execute("CREATE OR REPLACE TABLE golden_lineage (oneid VARCHAR, field VARCHAR, value VARCHAR, rule VARCHAR, "
                    "source VARCHAR, batch_id BIGINT, row_number BIGINT, competing VARCHAR[])")
        for f, rule in rules.items():
            if rule.kind == "aggregate":
                cur.execute(
                    f"INSERT INTO golden_lineage SELECT oneid, '{f}', string_agg(DISTINCT value, ' | ' ORDER BY value), "
                    f"'aggregate', NULL, NULL, NULL, list(DISTINCT value ORDER BY value) FROM ({_candidates_sql(f)}) "
                    "GROUP BY oneid")
                continue
            cur.execute(
                f"INSERT INTO golden_lineage SELECT oneid, '{f}', value, '{rule.kind}', source, batch_id, row_number, "
                f"list_filter(everything, lambda x: x <> value) FROM (SELECT *, row_number() OVER (PARTITION BY oneid "
                f"ORDER BY {_order(rule)}) AS rank, list(DISTINCT value) OVER (PARTITION BY oneid) AS everything "
                f"FROM (SELECT *, count(*) OVER (PARTITION BY oneid, value) AS freq FROM ({_candidates_sql(f)}))) "
                f"WHERE rank = 1")
        pivot = ", ".join(f"max(value) FILTER (WHERE field = '{f}') AS {f}" for f in FIELD_NAMES)
        cur.execute(
            f"CREATE OR REPLACE TABLE golden_records AS "
            f"WITH fields AS (SELECT oneid, {pivot} FROM golden_lineage GROUP BY oneid), "
            f"profile AS (SELECT c.oneid, count(*) AS record_count, count(DISTINCT b.channel) AS channel_count, "
            f"list(DISTINCT b.channel ORDER BY b.channel) AS channels, min(b.uploaded_at) AS first_seen, "
            f"max(b.uploaded_at) AS last_seen, bool_or(coalesce(s.is_minor, false)) AS is_minor "
            f"FROM crosswalk c JOIN batches b USING (batch_id) JOIN std_records s USING (batch_id, row_number) "
            f"GROUP BY c.oneid) "
            f"SELECT p.oneid, {', '.join('f.' + f for f in FIELD_NAMES)}, p.record_count, p.channel_count, p.channels, "
            f"p.first_seen, p.last_seen, p.is_minor, "
            f"round(({' + '.join(f'(f.{f} IS NOT NULL)::INT' for f in FIELD_NAMES)}) / {len(FIELD_NAMES)}, 3) AS completeness "
            f"FROM profile p LEFT JOIN fields f USING (oneid)")
        return cur.execute("SELECT count(*) FROM golden_records").fetchone()[0]


def lineage(cur: duckdb.DuckDBPyConnection, oneid: str):
    return cur.execute("SELECT field, value, rule, source, batch_id, row_number, competing FROM golden_lineage "
                       "WHERE oneid = ? ORDER BY field", [oneid]).df()
