"""A CONDITION (definitions.py) as a DuckDB boolean expression, for tags now and audiences next.

The expression reads one row per OneID:
- `g`: its golden_wide row; fields come from an allow-list (FIELDS), never from the JSON as SQL;
- `m`: a table of event aggregates, one column per `Aggregate` (the caller computes every aggregate
  that all tags of a run need in one GROUP BY over customer_events; see `aggregates_sql`). A OneID
  without events has no `m` row: its spend and orders read as 0, its order days as NULL;
- other tags' current values, read from tag_values by a correlated subquery.

Values are written as strictly typed literals: text through `quote_literal`, numbers through Decimal,
dates through `date.fromisoformat`, booleans as TRUE/FALSE; anything else is refused with a TagError.
Each test is false (never NULL) when its subject is missing, so `not` of a test on an empty field is
true; `is_null` asks for missing values explicitly.

Event aggregates count completed events only (customer_events.completed) dated on or before the
computation date D; with `days` N only those dated after D − N; `category` and `channel` lists narrow
them further. spend = sum of amount; orders = distinct order numbers plus each event without one;
last_order_days / first_order_days = days from the newest / oldest such event's date to D.
"""
from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from governance.store.storage import quote_literal
from governance.tags.definitions import TagError, check_condition

# golden field -> (SQL over g and the date literal {d}, kind). Kinds: text, number, bool, date, list.
FIELDS: dict[str, tuple[str, str]] = {
    "province": ("g.province", "text"),
    "city": ("g.city", "text"),
    "district": ("g.district", "text"),
    "gender": ("g.gender", "text"),
    "age_band": ("g.age_band", "text"),
    "store": ("g.store", "text"),
    "marketing_consent": ("g.marketing_consent", "text"),
    "channels": ("g.channels", "list"),
    "channel_count": ("g.channel_count", "number"),
    "record_count": ("g.record_count", "number"),
    "is_minor": ("g.is_minor", "bool"),
    "age": ("{age}", "number"),
    "birth_date": ("TRY_CAST(g.birth_date AS DATE)", "date"),
    "first_seen": ("CAST(g.first_seen AS DATE)", "date"),
    "last_seen": ("CAST(g.last_seen AS DATE)", "date"),
}
COMPARE = {"eq": "=", "ne": "<>", "gt": ">", "gte": ">=", "lt": "<", "lte": "<="}
ORDERED = ("number", "date")
NUMBER_DIGITS = 15  # a typed 1e308 would otherwise be written out in 309 digits


def date_literal(d: date) -> str:
    return f"DATE '{d.isoformat()}'"


def age_sql(birth: str, as_of: str) -> str:
    """Whole years from a birth date to `as_of` (both DATE SQL): one more on the birthday itself; a
    29 February birthday counts from 1 March in other years."""
    return (f"(year({as_of}) - year({birth}) - CASE WHEN (month({as_of}), day({as_of})) < "
            f"(month({birth}), day({birth})) THEN 1 ELSE 0 END)")


@dataclass(frozen=True)
class Aggregate:
    """One event aggregate per OneID (see the module docstring)."""
    event: str
    days: int | None = None
    categories: tuple[str, ...] = ()
    channels: tuple[str, ...] = ()

    @property
    def name(self) -> str:
        key = json.dumps([self.event, self.days, sorted(self.categories), sorted(self.channels)], ensure_ascii=False)
        return f"a_{self.event}_{self.days or 'all'}_{hashlib.sha1(key.encode()).hexdigest()[:8]}"

    def where(self, as_of: date) -> str:
        """Which rows of customer_events `e` count (the caller already keeps completed ones up to D)."""
        parts = ["true"]
        if self.days:
            parts.append(f"e.event_date > {date_literal(as_of)} - {int(self.days)}")
        if self.categories:
            parts.append(f"e.product_category IN ({', '.join(quote_literal(c) for c in self.categories)})")
        if self.channels:
            parts.append(f"e.channel IN ({', '.join(quote_literal(c) for c in self.channels)})")
        return " AND ".join(parts)

    def sql(self, as_of: date) -> str:
        """The aggregate expression over customer_events `e` grouped by OneID."""
        w = self.where(as_of)
        d = date_literal(as_of)
        if self.event == "spend":
            return f"sum(e.amount) FILTER (WHERE {w})"
        if self.event == "orders":
            return (f"count(DISTINCT CASE WHEN {w} THEN e.order_id END) "  # faster than DISTINCT with FILTER
                    f"+ count(*) FILTER (WHERE {w} AND e.order_id IS NULL)")
        if self.event == "last_order_days":
            return f"date_diff('day', max(e.event_date) FILTER (WHERE {w}), {d})"
        if self.event == "first_order_days":
            return f"date_diff('day', min(e.event_date) FILTER (WHERE {w}), {d})"
        raise TagError(f"Unknown event aggregate {self.event!r}.")

    def value_sql(self, alias: str = "m") -> str:
        """The aggregate of a OneID read from the aggregates table (0 spend and orders without events)."""
        col = f"{alias}.{self.name}"
        return f"coalesce({col}, 0)" if self.event in ("spend", "orders") else col


def _strings(value: Any, what: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        raise TagError(f"\"{what}\" takes a list of names.")
    return tuple(sorted(set(value)))


def aggregate_of(test: dict[str, Any]) -> Aggregate:
    """The aggregate an event test or metric reads."""
    days = test.get("days")
    if days is not None and (isinstance(days, bool) or not isinstance(days, int) or not 1 <= days <= 3660):
        raise TagError("\"days\" must be a whole number of days from 1 to 3660.")
    return Aggregate(str(test["event"]), days, _strings(test.get("category"), "category"),
                     _strings(test.get("channel"), "channel"))


def _literal(value: Any, kind: str) -> str:
    """One value as an SQL literal of the subject's kind (TagError when it is not of that kind)."""
    if kind in ("text", "list"):
        if not isinstance(value, str):
            raise TagError(f"Expected text, got {value!r}.")
        return quote_literal(value)
    if kind == "number":
        if isinstance(value, bool) or not isinstance(value, (int, float, str, Decimal)):
            raise TagError(f"Expected a number, got {value!r}.")
        try:
            number = Decimal(str(value))
        except InvalidOperation:
            raise TagError(f"Expected a number, got {value!r}.") from None
        if not number.is_finite() or (isinstance(value, float) and not math.isfinite(value)):
            raise TagError(f"Expected a finite number, got {value!r}.")
        if number != 0 and not -NUMBER_DIGITS < number.adjusted() < NUMBER_DIGITS:
            raise TagError(f"A number has at most {NUMBER_DIGITS} digits before or after the point.")
        return f"{number:f}"
    if kind == "bool":
        if not isinstance(value, bool):
            raise TagError(f"Expected true or false, got {value!r}.")
        return "TRUE" if value else "FALSE"
    if kind == "date":
        try:
            return date_literal(date.fromisoformat(str(value)))
        except ValueError:
            raise TagError(f"Expected a date such as 2026-03-01, got {value!r}.") from None
    raise TagError(f"Unknown kind {kind!r}.")


def _test(subject: str, kind: str, op: str, value: Any) -> str:
    """A test of the SQL `subject` (of `kind`), false when the subject is NULL (except is_null)."""
    if op == "is_null":
        empty = f"({subject} IS NULL OR len({subject}) = 0)" if kind == "list" else f"{subject} IS NULL"
        return empty if value else f"NOT {empty}"
    if kind == "list":  # channels: eq / in = holds any of the values, ne / not_in = holds none
        values = value if isinstance(value, list) else [value]
        if op not in ("eq", "in", "ne", "not_in"):
            raise TagError(f"A list field takes eq, ne, in, not_in or is_null, not {op}.")
        has = f"list_has_any({subject}, [{', '.join(_literal(v, 'text') for v in values)}]::VARCHAR[])"
        return f"coalesce({has}, false)" if op in ("eq", "in") else f"coalesce(NOT {has}, false)"
    if op in ("in", "not_in"):
        sql = f"{subject} {'IN' if op == 'in' else 'NOT IN'} ({', '.join(_literal(v, kind) for v in value)})"
        return f"coalesce({sql}, false)"
    if op in ("gt", "gte", "lt", "lte") and kind not in ORDERED:
        raise TagError(f"\"{op}\" compares numbers or dates only.")
    return f"coalesce({subject} {COMPARE[op]} {_literal(value, kind)}, false)"


@dataclass
class Compiled:
    sql: str
    aggregates: list[Aggregate]
    tags: list[str]


class _Compiler:
    def __init__(self, as_of: date, golden: str = "g", aggregates: str = "m",
                 audience: Callable[[str], str] | None = None, tag_sql: Callable[[str, str], str] | None = None,
                 aggregate_sql: Callable[[Aggregate], str] | None = None):
        self.as_of = as_of
        self.g = golden
        self.m = aggregates
        self.audience = audience
        self.tag_sql = tag_sql
        self.aggregate_sql = aggregate_sql
        self.aggregates: dict[str, Aggregate] = {}
        self.tags: list[str] = []

    def run(self, cond: dict[str, Any]) -> str:
        if "all" in cond or "any" in cond:
            key = "all" if "all" in cond else "any"
            joiner = " AND " if key == "all" else " OR "
            return "(" + joiner.join(self.run(c) for c in cond[key]) + ")"
        if "not" in cond:
            return f"(NOT {self.run(cond['not'])})"
        if "audience" in cond:
            if self.audience is None:
                raise TagError("A tag's rule cannot test an audience.")
            return self.audience(cond["audience"])
        op = next(k for k in cond if k in ("eq", "ne", "in", "not_in", "gt", "gte", "lt", "lte", "is_null"))
        if "field" in cond:
            field = cond["field"]
            if field not in FIELDS:
                raise TagError(f"Unknown field {field!r}; choose one of {', '.join(FIELDS)}.")
            sql, kind = FIELDS[field]
            birth = f"TRY_CAST({self.g}.birth_date AS DATE)"
            sql = sql.replace("g.", f"{self.g}.").replace("{age}", age_sql(birth, date_literal(self.as_of)))
            return _test(sql, kind, op, cond[op])
        if "event" in cond:
            agg = aggregate_of(cond)
            self.aggregates[agg.name] = agg
            subject = self.aggregate_sql(agg) if self.aggregate_sql else agg.value_sql(self.m)
            return _test(subject, "number", op, cond[op])
        code = cond["tag"]
        if not isinstance(code, str):
            raise TagError("\"tag\" names a tag code.")
        if code not in self.tags:
            self.tags.append(code)
        value = cond[op]
        numeric = op in ("gt", "gte", "lt", "lte") or (isinstance(value, (int, float, Decimal))
                                                       and not isinstance(value, bool))
        column = "number" if numeric else "value"
        subject = (self.tag_sql(code, column) if self.tag_sql else
                   f"(SELECT v.{column} FROM tag_values v WHERE v.oneid = {self.g}.oneid "
                   f"AND v.tag_code = {quote_literal(code)})")
        if isinstance(value, bool):
            value = "true" if value else "false"
        if op in ("in", "not_in"):
            value = [str(v) for v in value]
        return _test(subject, "number" if numeric else "text", op, value)


def compile_condition(cond: Any, as_of: date, golden: str = "g", aggregates: str = "m",
                      audience: Callable[[str], str] | None = None, tag_sql: Callable[[str, str], str] | None = None,
                      aggregate_sql: Callable[[Aggregate], str] | None = None) -> Compiled:
    """The SQL of a condition over the golden row `golden` and the aggregates row `aggregates`, with the
    aggregates and other tags it reads. `audience(name)` gives the SQL of an audience test (audiences
    only; without it such a test is refused, as in every tag rule). `tag_sql(code, column)` and
    `aggregate_sql(aggregate)` give the SQL a tag test and an event test read instead of the defaults
    (a correlated lookup in tag_values; the aggregate's column of `aggregates`)."""
    check_condition(cond)
    c = _Compiler(as_of, golden, aggregates, audience, tag_sql, aggregate_sql)
    sql = c.run(cond)
    return Compiled(sql, list(c.aggregates.values()), c.tags)


def to_sql(cond: Any, as_of: date) -> tuple[str, list[Aggregate]]:
    """(SQL boolean expression over `g` and `m`, the aggregates it needs) of a CONDITION."""
    compiled = compile_condition(cond, as_of)
    return compiled.sql, compiled.aggregates


def aggregates_sql(aggregates: list[Aggregate], as_of: date, scope: str | None = None,
                   events: str | None = None) -> str:
    """One GROUP BY oneid over customer_events `e` with every aggregate (completed events up to D);
    `scope`: a table of the OneIDs to compute (all when None). `events`: instead of customer_events, a
    table of its completed events up to D already narrowed to the OneIDs (tags/templates.events_sql)."""
    unique = {a.name: a for a in aggregates}
    cols = ", ".join(f"{a.sql(as_of)} AS {name}" for name, a in unique.items()) or "count(*) AS n"
    if events:
        return f"SELECT e.oneid, {cols} FROM {events} e GROUP BY e.oneid"
    where = f"e.completed AND e.event_date <= {date_literal(as_of)}"
    if scope:
        where += f" AND e.oneid IN (SELECT oneid FROM {scope})"
    return f"SELECT e.oneid, {cols} FROM customer_events e WHERE {where} GROUP BY e.oneid"
