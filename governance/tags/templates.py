"""The SQL of the built-in templates and of rule tags (when / cases / metric), as of a date D.

Every query reads one row per OneID of a population `pop` (golden_wide rows, alias `g`) and the event
aggregates table AGG (alias `m`, one column per conditions.Aggregate; see conditions.aggregates_sql),
and returns (oneid, value VARCHAR, number DECIMAL(18,2)) for the OneIDs that have a value.
Only completed events count (customer_events.completed), dated on or before D; "within N days" means
dated after D − N, so the 365-day window is D − 364 … D (an event at 23:59 on D is in).
AGG and the preference tags are roll-ups of EVENTS (`events_sql`): the completed events up to D of
the OneIDs being computed, read from the store once per run.

- rfm_recency_days: days from the newest completed event's date to D; no value without one.
- rfm_frequency_365: completed orders in the window: distinct order numbers, plus each event without
  one; rfm_monetary_365: the sum of their amounts. Both have a value whenever rfm_recency_days has
  one (a completed event up to D): 0 when none is in the window; no value without any completed event.
- rfm_segment (see `segment_sql`): over the OneIDs with a completed event (ever, up to D), x is −R
  (recency days, so recent is high), F and M. The thresholds of each are the discrete quantiles
  q1…q4 at 20/40/60/80 % (`quantile_disc`: values that occur) over those OneIDs, set by the first
  computation of the date (see tags/compute); the score is 1 + the number of thresholds x is strictly above (1…5; ties get the same
  score). High = score ≥ 3, i.e. x above the 40 % quantile. R, F, M high/low give the eight segments
  of definitions.RFM_SEGMENTS: value = R F M high, develop = R M high F low, keep = F M high R low,
  retain = M high R F low; the general_* ones alike with M low. No orders: no segment.
- lifecycle_stage: prospect = no completed event; new = the first one within `new_days` (wins over
  active); active = the newest within `active_days`; dormant = within `dormant_days`; else churned.
  "Within N days" as above: an order exactly N days before D is not within N days.
- age_band: whole years from the golden birth date to D (one more on the birthday); the codes of
  definitions.AGE_BANDS; no value without a birth date or for one after D.
- city_tier: the golden city looked up in city_tiers (深圳市 and 深圳 alike): tier1, new_tier1, tier2, or
  lower for another known city; no value for a text that is not a known city.
- preferred_channel / preferred_category: the highest completed spend in the window (from EVENTS),
  ties to the alphabetically first; no value without a positive spend (or, for the category,
  without a category).
"""
from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from governance.store.storage import quote_literal
from governance.tags import city_tiers
from governance.tags.conditions import Aggregate, age_sql, aggregate_of, compile_condition, date_literal
from governance.tags.definitions import TagDefinition, TagError

AGG = "tag_agg"    # oneid + one column per aggregate
EVENTS = "tag_events"  # oneid, channel, product_category, order_id, amount, event_date: completed, up to D

LAST = Aggregate("last_order_days")
FIRST = Aggregate("first_order_days")
ORDERS_365 = Aggregate("orders", 365)
SPEND_365 = Aggregate("spend", 365)
WINDOW_DAYS = 365
RFM_METRICS = ("rfm_recency_days", "rfm_frequency_365", "rfm_monetary_365")
LIFECYCLE_DEFAULTS = {"new_days": 30, "active_days": 90, "dormant_days": 180}
AGE_BANDS_SQL = ((18, "under_18"), (25, "18_24"), (30, "25_29"), (35, "30_34"), (40, "35_39"), (50, "40_49"),
                 (60, "50_59"))

_TEMPLATE_AGGREGATES: dict[str, tuple[Aggregate, ...]] = {
    "rfm_recency_days": (LAST,), "rfm_frequency_365": (ORDERS_365,), "rfm_monetary_365": (SPEND_365,),
    "rfm_segment": (LAST, ORDERS_365, SPEND_365), "lifecycle_stage": (LAST, FIRST),
}
PREFERENCE_TEMPLATES = ("preferred_channel", "preferred_category")


def template(tag: TagDefinition) -> str | None:
    return tag.technical.get("template") if isinstance(tag.technical, dict) else None


def needs(tag: TagDefinition, as_of: date) -> list[Aggregate]:
    """The event aggregates a tag reads from AGG."""
    t = template(tag)
    if t:
        return list(_TEMPLATE_AGGREGATES.get(t, ()))
    tech = tag.technical
    if "metric" in tech:
        return [aggregate_of(tech["metric"])]
    if "when" in tech:
        return compile_condition(tech["when"], as_of).aggregates
    if "cases" in tech:
        return [a for case in tech["cases"] for a in compile_condition(case["when"], as_of).aggregates]
    return []


def check(tag: TagDefinition, as_of: date) -> None:
    """Compile a tag's SQL without running it, so a definition a computation would refuse (an unknown
    field, a bad window or threshold) is refused when it is saved."""
    t = template(tag)
    if "source_mapping" in tag.technical or t in PREFERENCE_TEMPLATES or t == "rfm_segment":
        return
    needs(tag, as_of)
    row_parts(tag, as_of)


def needs_preferences(tag: TagDefinition) -> bool:
    return template(tag) in PREFERENCE_TEMPLATES


def tag_references(tag: TagDefinition, as_of: date) -> list[str]:
    """Codes of the other tags a rule tag reads."""
    tech = tag.technical
    conds = [tech["when"]] if "when" in tech else [c["when"] for c in tech.get("cases", [])]
    return [code for cond in conds for code in compile_condition(cond, as_of).tags]


# std_events `e`: a completed event of its order's latest export, written as one test (two separate
# tests make DuckDB think few events remain and build its join's hash table on them: twice as slow)
COMPLETED = ("CASE WHEN e.superseded_at IS NULL THEN coalesce(e.order_status, 'completed') END "
             "IN ('completed', 'other')")


def events_sql(as_of: date, scope: str | None = None) -> str:
    """EVENTS: the completed events dated up to D of the OneIDs in the table `scope` (all when None).
    customer_events' own definition (event_date, completed, channel), spelled out so that the crosswalk
    is narrowed to the scope before it meets std_events (a filter on the view applies after the join)."""
    where = f"WHERE x.oneid IN (SELECT oneid FROM {scope})" if scope else ""
    # the scoped crosswalk rows with their batch's channel first: the join with std_events then only
    # keeps theirs (left to itself the optimizer joins every event with batches first)
    return (f"WITH c AS MATERIALIZED (SELECT x.oneid, x.batch_id, x.row_number, b.channel FROM crosswalk x "
            f"LEFT JOIN batches b ON b.batch_id = x.batch_id {where}) "
            f"SELECT c.oneid, c.channel, e.product_category, e.order_id, e.amount, "
            f"CAST(e.event_time AS DATE) AS event_date FROM std_events e "
            f"JOIN c ON c.batch_id = e.batch_id AND c.row_number = e.row_number "
            f"WHERE {COMPLETED} "
            f"AND CAST(e.event_time AS DATE) <= {date_literal(as_of)}")


def _days(tech: dict[str, Any], key: str) -> int:
    value = tech.get(key, LIFECYCLE_DEFAULTS[key])
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 3660:
        raise TagError(f"\"{key}\" must be a whole number of days from 1 to 3660.")
    return value


def _number(x: str, whole: bool) -> tuple[str, str]:
    """(value text, number) of a numeric SQL expression."""
    text = f"CAST(CAST({x} AS BIGINT) AS VARCHAR)" if whole else f"CAST(CAST({x} AS DECIMAL(18,2)) AS VARCHAR)"
    return text, f"CAST({x} AS DECIMAL(18,2))"


def _parts(value: str, number: str = "NULL", join: str = "") -> tuple[str, str, str]:
    return value, number, join


def _select(pop: str, value: str, number: str = "NULL", join: str = "") -> str:
    aggregates = f"LEFT JOIN {AGG} m ON m.oneid = g.oneid" if "m." in value + number else ""
    return (f"SELECT oneid, value, number FROM (SELECT g.oneid, {value} AS value, {number}::DECIMAL(18,2) AS number "
            f"FROM {pop} g {aggregates} {join}) WHERE value IS NOT NULL")


def values_sql(tag: TagDefinition, as_of: date, pop: str) -> str:
    """The (oneid, value, number) query of a template or rule tag (not rfm_segment, not source mappings)."""
    t = template(tag)
    if t in PREFERENCE_TEMPLATES:
        col = "channel" if t == "preferred_channel" else "product_category"
        # the golden OneIDs are kept after the grouping, which leaves fewer rows to match
        return (f"SELECT p.* FROM (SELECT oneid, first({col} ORDER BY spend DESC, {col}) AS value, "
                f"NULL::DECIMAL(18,2) AS number FROM (SELECT e.oneid, e.{col}, sum(e.amount) AS spend FROM {EVENTS} e "
                f"WHERE e.{col} IS NOT NULL AND e.event_date > {date_literal(as_of)} - {WINDOW_DAYS} GROUP BY ALL "
                f"HAVING sum(e.amount) > 0) GROUP BY oneid) p SEMI JOIN {pop} g ON g.oneid = p.oneid")
    return _select(pop, *row_parts(tag, as_of))


def is_row_tag(tag: TagDefinition, as_of: date) -> bool:
    """Whether `row_parts` computes the tag (not a preference, rfm_segment, source mapping or a rule that
    reads other tags)."""
    t = template(tag)
    if t:
        return t not in PREFERENCE_TEMPLATES and t != "rfm_segment"
    return "source_mapping" not in tag.technical and not tag_references(tag, as_of)


def wide_sql(parts: list[tuple[str, str, str]], pop: str) -> str:
    """One pass over the population and AGG for many row tags: oneid, v0, n0, v1, n1, … (value and number
    of each `row_parts`, NULL value = none)."""
    cols = ", ".join(f"{v} AS v{i}, ({n})::DECIMAL(18,2) AS n{i}" for i, (v, n, _j) in enumerate(parts))
    joins = " ".join(dict.fromkeys(j for _v, _n, j in parts if j))
    aggregates = f"LEFT JOIN {AGG} m ON m.oneid = g.oneid" if any("m." in v + n for v, n, _j in parts) else ""
    return f"SELECT g.oneid, {cols} FROM {pop} g {aggregates} {joins}"


def row_parts(tag: TagDefinition, as_of: date) -> tuple[str, str, str]:
    """(value SQL, number SQL, extra join) of a tag computed row by row from a golden row `g` and its
    aggregates `m` (every template and rule tag but the preferences and rfm_segment): the tags of a run
    share one pass over golden_wide (see tags/compute)."""
    d = date_literal(as_of)
    t = template(tag)
    tech = tag.technical
    if t == "rfm_recency_days":
        return _parts(*_number(LAST.value_sql(), whole=True))
    if t == "rfm_frequency_365":  # like the recency: a value with any completed event, 0 outside the window
        x = f"CASE WHEN {LAST.value_sql()} IS NOT NULL THEN {ORDERS_365.value_sql()} END"
        return _parts(*_number(x, whole=True))
    if t == "rfm_monetary_365":
        x = f"CASE WHEN {LAST.value_sql()} IS NOT NULL THEN {SPEND_365.value_sql()} END"
        return _parts(*_number(x, whole=False))
    if t == "lifecycle_stage":
        new, active, dormant = (_days(tech, k) for k in ("new_days", "active_days", "dormant_days"))
        if not new <= active < dormant:
            raise TagError("Lifecycle thresholds need new_days ≤ active_days < dormant_days.")
        last, first = LAST.value_sql(), FIRST.value_sql()
        return _parts(f"CASE WHEN {last} IS NULL THEN 'prospect' WHEN {first} < {new} THEN 'new' "
                      f"WHEN {last} < {active} THEN 'active' WHEN {last} < {dormant} THEN 'dormant' "
                      f"ELSE 'churned' END")
    if t == "age_band":
        age = age_sql("TRY_CAST(g.birth_date AS DATE)", d)
        bands = " ".join(f"WHEN _age < {limit} THEN '{code}'" for limit, code in AGE_BANDS_SQL)
        value = f"list_transform([{age}], lambda _age: CASE WHEN _age IS NULL OR _age < 0 THEN NULL {bands} ELSE '60_plus' END)[1]"
        return _parts(value)
    if t == "city_tier":
        return _parts("ct.tier", join=f"LEFT JOIN {city_tiers.table_sql('ct')} ON ct.city = "
                                      f"{city_tiers.match_sql('g.city', 'g.province')}")
    if t:
        raise TagError(f"The template {t!r} is computed elsewhere.")
    if "metric" in tech:
        agg = aggregate_of(tech["metric"])
        whole = agg.event == "orders"
        x = f"nullif({agg.value_sql()}, 0)" if whole else f"m.{agg.name}"
        return _parts(*_number(x, whole))
    if "when" in tech:
        cond = compile_condition(tech["when"], as_of).sql
        return _parts(f"CASE WHEN {cond} THEN 'true' ELSE 'false' END")
    if "cases" in tech:
        whens = " ".join(f"WHEN {compile_condition(c['when'], as_of).sql} THEN {quote_literal(str(c['value']))}"
                         for c in tech["cases"])
        other = tech.get("else")
        return _parts(f"CASE {whens} ELSE {'NULL' if other is None else quote_literal(str(other))} END")
    raise TagError(f"Tag {tag.code} has no computable technical definition.")


# ---- rfm_segment -----------------------------------------------------------------------------------

SEGMENTS = {  # (R high, F high, M high) -> code
    (True, True, True): "important_value", (True, False, True): "important_develop",
    (False, True, True): "important_keep", (False, False, True): "important_retain",
    (True, True, False): "general_value", (True, False, False): "general_develop",
    (False, True, False): "general_keep", (False, False, False): "general_retain",
}
QUANTILES = (0.2, 0.4, 0.6, 0.8)
HIGH_SCORE = 3


def metrics_from_aggregates(pop: str) -> str:
    """(oneid, x_r, x_f, x_m) of the OneIDs of `pop` with a completed event, from AGG."""
    return (f"SELECT g.oneid, -{LAST.value_sql()} AS x_r, {ORDERS_365.value_sql()}::DECIMAL(18,2) AS x_f, "
            f"coalesce(m.{SPEND_365.name}, 0)::DECIMAL(18,2) AS x_m "
            f"FROM {pop} g JOIN {AGG} m ON m.oneid = g.oneid WHERE {LAST.value_sql()} IS NOT NULL")


def thresholds_sql(metrics: str) -> str:
    q = f"[{', '.join(str(x) for x in QUANTILES)}]"
    return f"SELECT quantile_disc(x_r, {q}), quantile_disc(x_f, {q}), quantile_disc(x_m, {q}) FROM ({metrics})"


def segment_sql(metrics: str, thresholds: dict[str, list[Decimal]]) -> str:
    """(oneid, value, number) of rfm_segment from a metrics relation and the thresholds (Decimals)."""
    def high(col: str, qs: list[Decimal]) -> str:
        score = " + ".join(["1"] + [f"({col} > {Decimal(q):f})::INT" for q in qs])
        return f"({score}) >= {HIGH_SCORE}"

    r, f, m = (high(c, thresholds[k]) for c, k in (("x_r", "r"), ("x_f", "f"), ("x_m", "m")))
    cases = " ".join(f"WHEN {'' if rh else 'NOT '}_r AND {'' if fh else 'NOT '}_f AND {'' if mh else 'NOT '}_m "
                     f"THEN '{code}'" for (rh, fh, mh), code in SEGMENTS.items())
    return (f"SELECT oneid, CASE {cases} END AS value, NULL::DECIMAL(18,2) AS number FROM "
            f"(SELECT oneid, {r} AS _r, {f} AS _f, {m} AS _m FROM ({metrics}))")
