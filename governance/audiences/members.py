"""Who an audience reaches: the people its rule matches, less the mandatory exclusions.

Matching (`matched_sql`) reads one row per OneID: its golden_wide row `g`, the event aggregates the
rule needs (one GROUP BY over customer_events, `m`; see tags/conditions) and, for tag tests, the
current tag_values. A nested saved audience is compiled in place from its current rule.

Exclusions are not optional; every member list, count, sample, export and API answer goes through
them. A matched person is left out under the first reason that applies, in EXCLUSIONS order:
- `no_consent`: no consent record for the purpose (consent_current, the ledger read now);
- `withdrawn`: the latest record for the purpose is withdrawn, or a grant past its expiry;
- `minor`: under 14 (golden `is_minor`) without a granted `guardian` consent (PIPL Art. 31);
- `no_contact`: nothing to reach them by on the channel:
  - sms and the ad-platform uploads (douyin_dmp, databank, tencent_ads, which hash the mobile): a
    mainland mobile of 11 digits (1[3-9]…) among the golden mobiles (golden keeps only values whose
    std_records `mobile_status` is valid or valid_with_warning, joined by " | "; a foreign number in
    E.164 form does not count);
  - wechat: a union_id, or an open_id (of `app_id` when one is given: a record of the person holds a
    usable open_id issued by that app);
  - csv and xlsx: nothing more.
- `erased`: people erased by a deletion request have no golden record, so they are never matched.
  What the count reports under `erased` is the uploaded rows held back by an active deletion
  tombstone (privacy/suppression: they never reach std_records nor a OneID) that the rule could
  have matched. Those rows have only their uploaded values, so this is an approximation: the
  rule's golden-field tests are read on the row's uploaded (unstandardized) values, with the
  row's channel as its only channel; tag, event and audience tests cannot be known for them and
  count as possibly true. It is an upper bound, reported so nobody wonders where they went.

The count is one SQL statement, with aggregates computed only for what the rule reads.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import duckdb

from governance.audiences.rules import AudienceError, compile_rule
from governance.privacy import consent
from governance.standardize.engine import VALID_SQL
from governance.store.storage import quote_literal
from governance.tags import compute as tag_compute
from governance.tags.conditions import aggregates_sql, compile_condition

CHANNELS = ("sms", "wechat", "douyin_dmp", "databank", "tencent_ads", "csv", "xlsx")
MOBILE_CHANNELS = ("sms", "douyin_dmp", "databank", "tencent_ads")
EXCLUSIONS = ("no_consent", "withdrawn", "minor", "erased", "no_contact")
MOBILE_PATTERN = "(^| )1[3-9][0-9]{9}( |$)"  # one mainland mobile among the golden " | "-joined values


@dataclass(frozen=True)
class Count:
    members: int
    excluded: dict[str, int] = field(default_factory=dict)  # EXCLUSIONS order

    def as_json(self) -> dict[str, Any]:
        return {"members": self.members, "excluded": {k: self.excluded.get(k, 0) for k in EXCLUSIONS}}


def check_purpose(purpose: str) -> str:
    if purpose not in consent.PURPOSES:
        raise AudienceError(f"Unknown purpose {purpose!r}; choose one of {', '.join(consent.PURPOSES)}.")
    return purpose


def check_channel(channel: str) -> str:
    if channel not in CHANNELS:
        raise AudienceError(f"Unknown channel {channel!r}; choose one of {', '.join(CHANNELS)}.")
    return channel


def saved_rule(cur: duckdb.DuckDBPyConnection, name: str) -> Any:
    """A saved audience's current rule (AudienceError when there is no such audience)."""
    row = cur.execute("SELECT rule FROM audiences WHERE name = ?", [name]).fetchone()
    if row is None:
        raise AudienceError(f"No saved audience {name!r}.")
    return json.loads(row[0]) if isinstance(row[0], str) else row[0]


def _from(cur: duckdb.DuckDBPyConnection, rule: Any, as_of: date | None,
          within: tuple[str, ...] = ()) -> tuple[str, str]:
    """(FROM clause over golden_wide `g` and the aggregates `m`, the rule's SQL over them)."""
    as_of = as_of or tag_compute.today()
    compiled = compile_rule(rule, as_of, lambda name: saved_rule(cur, name), within=within)
    source = "golden_wide g"
    if compiled.aggregates:
        source += f" LEFT JOIN ({aggregates_sql(compiled.aggregates, as_of)}) m ON m.oneid = g.oneid"
    return source, compiled.sql


def matched_sql(cur: duckdb.DuckDBPyConnection, rule: Any, as_of: date | None = None,
                within: tuple[str, ...] = ()) -> str:
    """A SELECT of `oneid` of every golden OneID the rule matches, before the exclusions.
    `within`: saved audiences being resolved around this rule (a reference back to one is a cycle)."""
    source, where = _from(cur, rule, as_of, within)
    return f"SELECT g.oneid FROM {source} WHERE {where}"


def contact_sql(channel: str, app_id: str | None = None) -> str:
    """Whether the golden row `g` can be reached on the channel (see the module docstring)."""
    check_channel(channel)
    if channel in MOBILE_CHANNELS:
        return f"coalesce(regexp_matches(g.mobile, {quote_literal(MOBILE_PATTERN)}), false)"
    if channel == "wechat":
        if app_id:
            open_id = (f"g.oneid IN (SELECT c.oneid FROM crosswalk c JOIN std_records s USING (batch_id, row_number) "
                       f"WHERE s.wechat_open_id_status IN {VALID_SQL} AND s.wechat_app_id_status IN {VALID_SQL} "
                       f"AND s.wechat_app_id = {quote_literal(app_id)})")
        else:
            open_id = "g.wechat_open_id IS NOT NULL"
        return f"({open_id} OR g.wechat_union_id IS NOT NULL)"
    return "true"


def reasons_sql(cur: duckdb.DuckDBPyConnection, rule: Any, purpose: str, channel: str,
                app_id: str | None = None, as_of: date | None = None) -> str:
    """A SELECT of (oneid, reason) for every person the rule matches: reason NULL for a member, else the
    first exclusion that applies (no_consent, withdrawn, minor, no_contact)."""
    check_purpose(purpose)
    source, where = _from(cur, rule, as_of)
    p, guardian = quote_literal(purpose), quote_literal(consent.GUARDIAN)
    pivot = (f"SELECT oneid, max(state) FILTER (WHERE purpose = {p}) AS state, "
             f"bool_or(purpose = {guardian} AND state = 'granted') AS guardian "
             f"FROM {consent.CURRENT_VIEW} WHERE purpose IN ({p}, {guardian}) GROUP BY oneid")
    reason = ("CASE WHEN k.state IS NULL THEN 'no_consent' WHEN k.state <> 'granted' THEN 'withdrawn' "
              "WHEN coalesce(g.is_minor, false) AND NOT coalesce(k.guardian, false) THEN 'minor' "
              f"WHEN NOT ({contact_sql(channel, app_id)}) THEN 'no_contact' END")
    return (f"SELECT g.oneid, {reason} AS reason FROM {source} LEFT JOIN ({pivot}) k ON k.oneid = g.oneid "
            f"WHERE {where}")


def eligible_sql(cur: duckdb.DuckDBPyConnection, rule: Any, purpose: str, channel: str,
                 app_id: str | None = None, as_of: date | None = None) -> str:
    """A SELECT of `oneid` of the people the rule matches and no exclusion leaves out."""
    return f"SELECT oneid FROM ({reasons_sql(cur, rule, purpose, channel, app_id, as_of)}) WHERE reason IS NULL"


# ---- erased: uploaded rows held back by a tombstone ------------------------------------------------

_ROW_FIELDS = ("province", "city", "district", "gender", "age_band", "store", "marketing_consent", "birth_date")


def _possible(node: Any, as_of: date, negated: bool = False) -> str:
    """Whether a held-back row `g` could match the rule: golden-field tests on its uploaded values,
    every other test possibly true (negations pushed down to the tests, so this stays an upper bound)."""
    if not isinstance(node, dict):
        return "true"
    if "all" in node or "any" in node:
        key = "all" if "all" in node else "any"
        joiner = " AND " if (key == "all") != negated else " OR "
        return "(" + joiner.join(_possible(part, as_of, negated) for part in node[key]) + ")"
    if "not" in node:
        return _possible(node["not"], as_of, not negated)
    if "field" in node:
        sql = compile_condition(node, as_of).sql
        return f"(NOT {sql})" if negated else sql
    return "true"


def erased_sql(cur: duckdb.DuckDBPyConnection, rule: Any, as_of: date | None = None) -> str:
    """A scalar SQL: the uploaded rows an active tombstone holds back that the rule could match."""
    batches = [r[0] for r in cur.execute("SELECT DISTINCT batch_id FROM suppressed_records WHERE lifted_at IS NULL "
                                         "ORDER BY 1").fetchall()]
    if not batches:
        return "0"
    where = _possible(rule, as_of or tag_compute.today())
    if where == "true":
        return "(SELECT count(*) FROM suppressed_records WHERE lifted_at IS NULL)"
    ids = ", ".join(str(int(b)) for b in batches)
    columns = ", ".join(f"r.{f}" for f in _ROW_FIELDS)
    row = (f"SELECT {columns}, [b.channel] AS channels, 1 AS channel_count, 1 AS record_count, "
           f"NULL::BOOLEAN AS is_minor, b.uploaded_at AS first_seen, b.uploaded_at AS last_seen "
           f"FROM suppressed_records s JOIN mapped_records r ON r.batch_id = s.batch_id AND r.row_number = s.row_number "
           f"JOIN batches b ON b.batch_id = s.batch_id WHERE s.lifted_at IS NULL AND r.batch_id IN ({ids})")
    return f"(SELECT count(*) FROM ({row}) g WHERE {where})"


# ---- the count -------------------------------------------------------------------------------------

def count_sql(cur: duckdb.DuckDBPyConnection, rule: Any, purpose: str, channel: str,
              app_id: str | None = None, as_of: date | None = None) -> str:
    """The one statement behind `count`: members, then each exclusion in EXCLUSIONS order."""
    reasons = reasons_sql(cur, rule, purpose, channel, app_id, as_of)
    counts = ["count(*) FILTER (WHERE reason IS NULL)"]
    for reason in EXCLUSIONS:
        counts.append(erased_sql(cur, rule, as_of) if reason == "erased"
                      else f"count(*) FILTER (WHERE reason = '{reason}')")
    return f"SELECT {', '.join(counts)} FROM ({reasons})"


def count(cur: duckdb.DuckDBPyConnection, rule: Any, purpose: str, channel: str, app_id: str | None = None,
          as_of: date | None = None) -> Count:
    """How many people the rule reaches for the purpose on the channel, and how many each exclusion
    leaves out (each person once, under the first reason that applies)."""
    row = cur.execute(count_sql(cur, rule, purpose, channel, app_id, as_of)).fetchone()
    assert row is not None
    return Count(int(row[0]), {reason: int(n or 0) for reason, n in zip(EXCLUSIONS, row[1:])})
