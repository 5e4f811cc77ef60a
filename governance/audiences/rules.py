"""An audience's rule: the JSON shared by the Audiences page, the CLI and the API.

A rule is a tags CONDITION (governance/tags/definitions.py; compiled by tags/conditions) plus one
more test, membership of another saved audience:
- {"all": [R, …]}, {"any": [R, …]}, {"not": R};
- {"field": golden field, OP: value}, {"event": aggregate, "days": N, OP: value}, {"tag": code, OP: value};
- {"audience": NAME}: the person matches the saved audience NAME's current rule (before that
  audience's own exclusions, so `{"not": {"audience": NAME}}` leaves out everyone it matches).
  A saved audience is resolved by its current rule; a cycle (an audience reaching itself) is refused.

For example:
    {"all": [{"tag": "lifecycle_stage", "in": ["active", "new"]},
             {"any": [{"field": "province", "in": ["广东省", "浙江省"]},
                      {"event": "spend", "days": 365, "gte": 5000}]},
             {"not": {"audience": "complaints_2026"}}]}
"""
from __future__ import annotations

import json
from collections.abc import Callable
from datetime import date
from typing import Any

from governance.store.errors import GovernanceError
from governance.tags.conditions import Aggregate, Compiled, compile_condition
from governance.tags.definitions import TagError

MAX_DEPTH = 20       # nested groups, as for tag conditions
MAX_AUDIENCES = 10   # saved audiences nested inside one another


class AudienceError(GovernanceError):
    """A rule, a saved audience or a request about one that is refused (one-line message)."""


def parse(text: str | bytes) -> dict[str, Any]:
    """A rule from JSON text (AudienceError when it is not JSON or not a rule)."""
    try:
        rule = json.loads(text)
    except (ValueError, RecursionError) as exc:
        raise AudienceError(f"The rule is not valid JSON: {str(exc).splitlines()[0]}") from None
    check_rule(rule)
    return rule


def _audience_name(node: dict[str, Any]) -> str:
    if set(node) != {"audience"}:
        raise AudienceError("An audience test is {\"audience\": NAME} and nothing beside it.")
    name = node["audience"]
    if not isinstance(name, str) or not name.strip():
        raise AudienceError("\"audience\" names a saved audience.")
    return name


def _normalized(node: Any) -> Any:
    """The rule with each {"audience": NAME} written as a test the tags checker accepts."""
    if isinstance(node, dict):
        if "audience" in node:
            return {"audience": _audience_name(node), "eq": True}
        return {k: _normalized(v) if k in ("all", "any", "not") else v for k, v in node.items()}
    if isinstance(node, list):
        return [_normalized(v) for v in node]
    return node


def check_rule(rule: Any) -> None:
    """Refuse a rule that is not of the documented shape (AudienceError with a one-line message)."""
    try:
        compile_condition(_normalized(rule), date(2000, 1, 1), audience=lambda name: "TRUE")
    except TagError as exc:
        raise AudienceError(str(exc)) from None
    except RecursionError:
        raise AudienceError(f"A rule is nested more than {MAX_DEPTH} levels deep.") from None


def references(rule: Any) -> dict[str, list[str]]:
    """The tag codes and saved audiences a rule reads directly: {"tags": [...], "audiences": [...]}."""
    tags: list[str] = []
    audiences: list[str] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if isinstance(node.get("tag"), str) and node["tag"] not in tags:
                tags.append(node["tag"])
            if isinstance(node.get("audience"), str) and node["audience"] not in audiences:
                audiences.append(node["audience"])
            for key in ("all", "any", "not"):
                if key in node:
                    walk(node[key])
        elif isinstance(node, list):
            for part in node:
                walk(part)

    walk(rule)
    return {"tags": tags, "audiences": audiences}


def compile_rule(rule: Any, as_of: date, lookup: Callable[[str], Any], golden: str = "g",
                 aggregates: str = "m", within: tuple[str, ...] = (),
                 tag_sql: Callable[[str, str], str] | None = None,
                 aggregate_sql: Callable[[Aggregate], str] | None = None) -> Compiled:
    """The SQL of a rule over the golden row `golden` and aggregates row `aggregates`. `lookup(name)`
    gives a saved audience's current rule (AudienceError when there is none); its rule is compiled in
    place, sharing the aggregates. `within`: the audiences already being resolved (a cycle is refused).
    `tag_sql`, `aggregate_sql`: what tag and event tests read (see tags.conditions.compile_condition)."""
    found: dict[str, Aggregate] = {}
    tags: list[str] = []

    def audience(name: str) -> str:
        if name in within:
            raise AudienceError(f"The audience {name!r} includes itself: {' -> '.join((*within, name))}.")
        if len(within) >= MAX_AUDIENCES:
            raise AudienceError(f"Audiences are nested more than {MAX_AUDIENCES} deep.")
        inner = compile_rule(lookup(name), as_of, lookup, golden, aggregates, (*within, name), tag_sql, aggregate_sql)
        found.update({a.name: a for a in inner.aggregates})
        tags.extend(t for t in inner.tags if t not in tags)
        return inner.sql

    try:
        compiled = compile_condition(_normalized(rule), as_of, golden, aggregates, audience=audience,
                                     tag_sql=tag_sql, aggregate_sql=aggregate_sql)
    except TagError as exc:
        raise AudienceError(str(exc)) from None
    except RecursionError:
        raise AudienceError(f"A rule is nested more than {MAX_DEPTH} levels deep.") from None
    found.update({a.name: a for a in compiled.aggregates})
    tags.extend(t for t in compiled.tags if t not in tags)
    return Compiled(compiled.sql, list(found.values()), tags)
