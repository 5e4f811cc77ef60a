"""Who an audience reaches: the people its rule matches, less the mandatory exclusions.

Matching (`matched_sql`) reads one row per OneID: its golden_wide row `g`, each tag the rule tests
(one LEFT JOIN on tag_values filtered by the tag's code) and the event aggregates the rule needs
(one GROUP BY over the completed events, `m`; see tags/conditions). A nested saved audience is
compiled in place from its current rule.

The as-of date (`as_of_date`) is one date for the whole rule: the newest as-of date of the computed
tags (tag tests read values as of it), or today in China time before any tag is computed. Event
windows ("days") and ages count from it. An event test whose aggregate a built-in metric tag holds
exactly as of that date (spend or orders in 365 days without a category or channel: rfm_monetary_365,
rfm_frequency_365; last_order_days over all time: rfm_recency_days) reads the tag's value instead of
grouping the events (`metric_tags`); the tags are refreshed with every golden refresh, so both readings
agree, and a count never mixes values of two dates. Other event tests group the events as of that date.

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
  row's channel as its only channel, and a test on a value the row lacks counts as possibly true,
  as do tag, event and audience tests, which cannot be known for them. It is an upper bound for
  values uploaded in their standard form (a province written 广东 instead of 广东省 fails a test
  for 广东省), reported so nobody wonders where they went.

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
from governance.tags import library as tag_library
from governance.tags import templates
from governance.tags.conditions import FIELDS, Aggregate, aggregates_sql, compile_condition, date_literal

CHANNELS = ("sms", "wechat", "douyin_dmp", "databank", "tencent_ads", "csv", "xlsx")
MOBILE_CHANNELS = ("sms", "douyin_dmp", "databank", "tencent_ads")
# hashed mobiles handed to an ad platform, another personal-information handler: separate consent (PIPL Art. 23)
THIRD_PARTY_CHANNELS = ("douyin_dmp", "databank", "tencent_ads")
EXCLUSIONS = ("no_consent", "withdrawn", "minor", "erased", "no_contact")
MOBILE_PATTERN = "(^| )1[3-9][0-9]{9}( |$)"  # one mainland mobile among the golden " | "-joined values
# the built-in metric templates and the event aggregate each holds (tags/templates.py)
METRIC_TEMPLATES = {"rfm_monetary_365": templates.SPEND_365, "rfm_frequency_365": templates.ORDERS_365,
                    "rfm_recency_days": templates.LAST}
EVENTS, MATCHED = "aud_events", "aud_matched"  # CTE names


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


# ---- matching ---------------------------------------------------------------------------------------

def as_of_date(cur: duckdb.DuckDBPyConnection) -> date:
    """The date a count is as of when none is given: the newest as-of date of the tags (tag tests read
    values computed as of it), or today in China time when no tag has been computed yet."""
    row = cur.execute("SELECT max(as_of) FROM tag_runs").fetchone()
    return row[0] if row and row[0] is not None else tag_compute.today()


def metric_tags(cur: duckdb.DuckDBPyConnection, as_of: date) -> dict[Aggregate, str]:
    """{aggregate: tag code} of the built-in metric tags that hold exactly that aggregate as of `as_of`:
    the tag is computed (published or deprecated), its definition is the bare template, and its newest
    run is of that version and date (a run for a new date or version rewrites every value)."""
    runs = {code: (run_as_of, version) for code, run_as_of, version in cur.execute(
        "SELECT tag_code, as_of, tag_version FROM tag_runs "
        "QUALIFY row_number() OVER (PARTITION BY tag_code ORDER BY run_id DESC) = 1").fetchall()}
    found: dict[Aggregate, str] = {}
    for tag in tag_library.computed(cur):
        tech = tag.technical
        bare = isinstance(tech, dict) and set(tech) == {"template"}
        aggregate = METRIC_TEMPLATES.get(str(tech["template"])) if bare else None
        if aggregate is not None and runs.get(tag.code) == (as_of, tag.version):
            found.setdefault(aggregate, tag.code)
    return found


def _events_sql(aggregates: list[Aggregate], as_of: date) -> str:
    """The aggregates' GROUP BY over customer_events' completed events up to D, with the view's own
    definition spelled out: std_events narrowed first to the widest window the aggregates read, then
    matched to the crosswalk (materialized, so the few events meet the crosswalk rather than every
    crosswalk row the events), then grouped by OneID."""
    d = date_literal(as_of)
    where = [f"CAST(e.event_time AS DATE) <= {d}", templates.COMPLETED]
    if all(a.days for a in aggregates):
        where.append(f"CAST(e.event_time AS DATE) > {d} - {max(int(a.days or 0) for a in aggregates)}")
    channels = any(a.channels for a in aggregates)
    events = (f"SELECT c.oneid, {'b.channel' if channels else 'NULL::VARCHAR AS channel'}, e.product_category, "
              f"e.order_id, e.amount, CAST(e.event_time AS DATE) AS event_date FROM std_events e "
              f"JOIN crosswalk c ON c.batch_id = e.batch_id AND c.row_number = e.row_number "
              f"{'LEFT JOIN batches b ON b.batch_id = e.batch_id ' if channels else ''}WHERE {' AND '.join(where)}")
    return f"WITH {EVENTS} AS MATERIALIZED ({events}) {aggregates_sql(aggregates, as_of, events=EVENTS)}"


class _Plan:
    """A rule compiled for matching over golden_wide `g`: each tag it reads (or that holds an event
    aggregate it reads, see `metric_tags`) is one LEFT JOIN on tag_values filtered by the tag's code;
    the other event aggregates are one GROUP BY over the completed events (`_events_sql`), `m`."""

    def __init__(self, cur: duckdb.DuckDBPyConnection, rule: Any, as_of: date | None, within: tuple[str, ...]):
        self.as_of = as_of or as_of_date(cur)
        self.metrics = metric_tags(cur, self.as_of)
        self.aliases: dict[str, str] = {}
        self.computed: dict[str, Aggregate] = {}
        self.where = compile_rule(rule, self.as_of, lambda name: saved_rule(cur, name), within=within,
                                  tag_sql=self._tag, aggregate_sql=self._aggregate).sql

    def _alias(self, code: str) -> str:
        return self.aliases.setdefault(code, f"t{len(self.aliases)}")

    def _tag(self, code: str, column: str) -> str:
        return f"{self._alias(code)}.{column}"

    def _aggregate(self, aggregate: Aggregate) -> str:
        code = self.metrics.get(aggregate)
        if code is None:
            self.computed[aggregate.name] = aggregate
            return aggregate.value_sql("m")
        number = f"{self._alias(code)}.number"
        return f"coalesce({number}, 0)" if aggregate.event in ("spend", "orders") else number

    def source(self) -> str:
        source = "golden_wide g" + "".join(
            f" LEFT JOIN (SELECT oneid, value, number FROM tag_values WHERE tag_code = {quote_literal(code)}) "
            f"{alias} ON {alias}.oneid = g.oneid" for code, alias in self.aliases.items())
        if self.computed:
            source += f" LEFT JOIN ({_events_sql(list(self.computed.values()), self.as_of)}) m ON m.oneid = g.oneid"
        return source


def matched_sql(cur: duckdb.DuckDBPyConnection, rule: Any, as_of: date | None = None,
                within: tuple[str, ...] = ()) -> str:
    """A SELECT of `oneid` of every golden OneID the rule matches, before the exclusions.
    `within`: saved audiences being resolved around this rule (a reference back to one is a cycle)."""
    plan = _Plan(cur, rule, as_of, within)
    return f"SELECT g.oneid FROM {plan.source()} WHERE {plan.where}"


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
            return f"({open_id} OR g.wechat_union_id IS NOT NULL)"
        return "g.wechat_union_id IS NOT NULL"  # without an app id the file carries union_ids
    return "true"


def required_purposes(purpose: str, channel: str, sensitive: bool = False) -> tuple[str, ...]:
    """The consents a person needs to be reached: the purpose's; for an ad-platform upload also
    third-party sharing; for a rule reading a sensitive tag also the separate consent for sensitive tags."""
    extra = ((consent.THIRD_PARTY,) if channel in THIRD_PARTY_CHANNELS else ()) + \
        ((consent.SENSITIVE_TAGS,) if sensitive else ())
    return (purpose, *(p for p in extra if p != purpose))


def consent_sql(purpose: str, people: str | None = None, extra: tuple[str, ...] = ()) -> str:
    """One row per OneID with a consent record for `purpose` or the guardian's: `state`, the purpose's
    current state (consent_current: the newest record per OneID and purpose, by recorded_at then id; a
    grant past its expiry reads `expired`; NULL without a record) and `guardian`, whether the newest
    guardian record is a grant not expired (NULL without one). Exactly the view's reading, without
    resolving every purpose: a record tied to an uploaded row belongs to that row's OneID in the
    crosswalk (else to its own oneid). `people`: only the OneIDs of this CTE or table."""
    p, guardian = quote_literal(purpose), quote_literal(consent.GUARDIAN)
    others = [quote_literal(x) for x in extra]
    expired = "(r.state = 'granted' AND r.expires_at IS NOT NULL AND r.expires_at <= now()::TIMESTAMP)"
    records = (f"SELECT coalesce(c.oneid, r.oneid) AS oneid, r.purpose, r.id, r.recorded_at, "
               f"CASE WHEN {expired} THEN 'expired' ELSE r.state END AS state "
               f"FROM consent_records r LEFT JOIN crosswalk c ON c.batch_id = r.batch_id AND c.row_number = r.row_number "
               f"WHERE r.purpose IN ({', '.join([p, guardian, *others])})")
    narrowed = f" AND oneid IN (SELECT oneid FROM {people})" if people else ""
    also = "".join(f", arg_max(state, (recorded_at, id)) FILTER (WHERE purpose = {x}) AS also{i}"
                   for i, x in enumerate(others))
    return (f"SELECT oneid, arg_max(state, (recorded_at, id)) FILTER (WHERE purpose = {p}) AS state, "
            f"arg_max(state = 'granted', (recorded_at, id)) FILTER (WHERE purpose = {guardian}) AS guardian{also} "
            f"FROM ({records}) WHERE oneid IS NOT NULL{narrowed} GROUP BY oneid")


def reasons_sql(cur: duckdb.DuckDBPyConnection, rule: Any, purpose: str, channel: str,
                app_id: str | None = None, as_of: date | None = None) -> str:
    """A SELECT of (oneid, reason) for every person the rule matches: reason NULL for a member, else the
    first exclusion that applies (no_consent, withdrawn, minor, no_contact). The matched people are
    read once (CTE `g`); the consent ledger is resolved only for them."""
    check_purpose(purpose)
    contact = contact_sql(channel, app_id)
    plan = _Plan(cur, rule, as_of, ())
    sensitive = any(t.sensitivity == "sensitive" for t in tag_library.computed(cur) if t.code in plan.aliases)
    extra = required_purposes(purpose, channel, sensitive)[1:]
    states = ["k.state", *(f"k.also{i}" for i in range(len(extra)))]
    matched = (f"{MATCHED} AS MATERIALIZED (SELECT g.oneid, g.is_minor, g.mobile, g.wechat_open_id, g.wechat_union_id "
               f"FROM {plan.source()} WHERE {plan.where})")
    reason = (f"CASE WHEN {' OR '.join(f'{x} IS NULL' for x in states)} THEN 'no_consent' "
              f"WHEN {' OR '.join(f'{x} <> {chr(39)}granted{chr(39)}' for x in states)} THEN 'withdrawn' "
              "WHEN coalesce(g.is_minor, false) AND NOT coalesce(k.guardian, false) THEN 'minor' "
              f"WHEN NOT ({contact}) THEN 'no_contact' END")
    return (f"WITH {matched} SELECT g.oneid, {reason} AS reason FROM {MATCHED} g "
            f"LEFT JOIN ({consent_sql(purpose, MATCHED, extra)}) k ON k.oneid = g.oneid")


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
        test = f"(NOT {sql})" if negated else sql
        if "is_null" in node:
            return test
        subject = FIELDS[node["field"]][0].replace("{age}", "TRY_CAST(g.birth_date AS DATE)")
        return f"({test} OR {subject} IS NULL)"  # a value the row lacks (no birth date, no minor flag): possible
    return "true"


def erased_sql(cur: duckdb.DuckDBPyConnection, rule: Any, as_of: date | None = None) -> str:
    """A scalar SQL: the uploaded rows an active tombstone holds back that the rule could match."""
    batches = [r[0] for r in cur.execute("SELECT DISTINCT batch_id FROM suppressed_records WHERE lifted_at IS NULL "
                                         "ORDER BY 1").fetchall()]
    if not batches:
        return "0"
    where = _possible(rule, as_of or as_of_date(cur))
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
