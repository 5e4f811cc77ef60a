"""The rule builder shared by the Tags and Audiences pages: rows of tests (a golden attribute, a
purchase aggregate, a published tag and, for audiences, membership of a saved audience or a nested
group), each with an optional NOT, joined by AND or OR; and a condition in words.

It writes the CONDITION JSON of governance/tags/definitions.py (audiences add {"audience": NAME}, see
governance/audiences/rules.py); it never takes SQL. Widget state lives under one key prefix, so a
builder can be seeded from a stored condition (`seed_condition`, `seed_rule`).
"""
from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

import pandas as pd
import streamlit as st

from governance.i18n import TEXTS, code_text, column_label, value_label
from governance.store.schema import CHANNELS
from governance.tags import definitions as defs
from governance.tags.conditions import NUMBER_DIGITS
from governance.tags.definitions import TagDefinition
from governance.ui.guard import PageContext

# Golden-record attributes a condition may test, and whether they are numbers.
GOLDEN_FIELDS = {"province": False, "city": False, "district": False, "gender": False, "age": True,
                 "channel_count": True, "record_count": True}
GENDERS = ("1", "2", "0")
TEXT_OPS = ("eq", "ne", "in", "not_in", "is_null")
NUMBER_OPS = ("gte", "gt", "lte", "lt", "eq", "ne", "is_null")
_SPLIT = re.compile(r"\s*[,，、;；]\s*")
# What an audience rule may test on the golden record beside those (conditions.FIELDS): age band, channels.
AUDIENCE_FIELDS = {"province": False, "city": False, "district": False, "gender": False, "age_band": False, "age": True,
                   "channels": False, "channel_count": True, "record_count": True}


# ---- labels and words --------------------------------------------------------------------------

def code_label(ctx: PageContext, prefix: str, code: object) -> str:
    return code_text(prefix, code, ctx.lang)


def shown_value(tag: TagDefinition, value: object, lang: str) -> object:
    """A stored tag value as the UI shows it: an allowed value's label, yes/no, a channel's name."""
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return value
    text = str(value)
    if tag.technical.get("template") == "preferred_channel":
        return value_label("channel", text, lang)
    return tag.value_label(text, lang)


def condition_words(ctx: PageContext, cond: Any, tags: dict[str, TagDefinition]) -> str:
    """A condition in words in the UI language (the JSON is shown on request beside it)."""
    if not isinstance(cond, dict):
        return str(cond)
    if "all" in cond or "any" in cond:
        key = "all" if "all" in cond else "any"
        joiner = ctx.t(f"tags.words.{key}")
        parts = [condition_words(ctx, c, tags) for c in cond[key]]
        return f" {joiner} ".join(f"({p})" if len(parts) > 1 else p for p in parts)
    if "not" in cond:
        return ctx.t("tags.words.not", what=condition_words(ctx, cond["not"], tags))
    if "audience" in cond:
        return ctx.t("tags.words.audience", name=cond["audience"])
    op = next((k for k in cond if k in defs.OPERATORS), None)
    subject = _subject_words(ctx, cond, tags)
    if op is None:
        return subject
    value = cond[op]
    if op == "is_null":
        return ctx.t("tags.words.is_null" if value else "tags.words.not_null", subject=subject)
    values = value if isinstance(value, list) else [value]
    tag = tags.get(cond.get("tag", ""))
    shown = [_value_words(ctx, cond, v, tag) for v in values]
    return ctx.t(f"tags.words.op.{op}", subject=subject, value=("、" if ctx.lang == "zh" else ", ").join(shown))


def _value_words(ctx: PageContext, cond: dict, value: object, tag: TagDefinition | None) -> str:
    if tag is not None:
        return str(shown_value(tag, value, ctx.lang))
    if cond.get("field") == "gender":
        return code_label(ctx, "files.gender.", value)
    if cond.get("field") == "channels":
        return str(value_label("channel", value, ctx.lang))
    if isinstance(value, bool):
        return ctx.t(f"code.bool.{str(value).lower()}")
    return str(value)


def _subject_words(ctx: PageContext, cond: dict, tags: dict[str, TagDefinition]) -> str:
    if "field" in cond:
        return field_label(ctx, cond["field"])
    if "tag" in cond:
        tag = tags.get(cond["tag"])
        return ctx.t("tags.words.tag", name=tag.label(ctx.lang) if tag else cond["tag"])
    if "event" in cond:
        return event_words(ctx, cond)
    return ""


def event_words(ctx: PageContext, spec: dict) -> str:
    what = code_label(ctx, "tags.event.", spec.get("event"))
    parts = [ctx.t("tags.words.days", days=spec["days"]) + what if spec.get("days") else what]
    if spec.get("category"):
        parts.append(ctx.t("tags.words.category", values="、".join(map(str, spec["category"]))))
    if spec.get("channel"):
        parts.append(ctx.t("tags.words.channel", values=("、" if ctx.lang == "zh" else ", ").join(
            str(value_label("channel", c, ctx.lang)) for c in spec["channel"])))
    return "".join(parts) if ctx.lang == "zh" else " ".join(parts)


def field_label(ctx: PageContext, name: str) -> str:
    key = f"tags.field.{name}"
    return ctx.t(key) if key in TEXTS else column_label(name, ctx.lang)


# ---- the builder --------------------------------------------------------------------------------

def add_or_remove(ctx: PageContext, count_key: str, count: int, add: str, remove: str) -> None:
    """Buttons that add a row to a builder list or remove its last one (the count lives in `count_key`)."""
    c1, c2, _ = st.columns([1, 1, 3])
    if c1.button(ctx.t(add), key=f"{count_key}_add"):
        st.session_state[count_key] = count + 1
        st.rerun()
    if count > 1 and c2.button(ctx.t(remove), key=f"{count_key}_remove"):
        st.session_state[count_key] = count - 1
        st.rerun()


def event_window(ctx: PageContext, cols: Sequence[Any], key: str) -> dict[str, Any]:
    """An event aggregate's window in three columns: days (365 by default), categories and channels."""
    default(f"{key}_days", 365)
    window: dict[str, Any] = {"days": int(cols[0].number_input(ctx.t("tags.builder.days"), min_value=1, max_value=3660,
                                                                step=1, key=f"{key}_days"))}
    categories = parse_list(cols[1].text_input(ctx.t("tags.builder.category"), key=f"{key}_category",
                                                placeholder=ctx.t("tags.builder.any")))
    channels = cols[2].multiselect(ctx.t("tags.builder.channel"), list(CHANNELS), key=f"{key}_channel",
                                   format_func=lambda c: str(value_label("channel", c, ctx.lang)),
                                   placeholder=ctx.t("tags.builder.any"))
    if categories:
        window["category"] = categories
    if channels:
        window["channel"] = channels
    return window


def default(key: str, value: object) -> None:
    if key not in st.session_state:
        st.session_state[key] = value


def parse_list(text: str) -> list[str]:
    return [p for p in _SPLIT.split(text.strip()) if p]


def number(value: float) -> int | float:
    return int(value) if float(value).is_integer() else float(value)


def _flat(cond: Any) -> tuple[str, list[dict]] | None:
    """A condition the row builder can show: tests (each maybe under NOT) joined by AND or by OR."""
    if not isinstance(cond, dict):
        return None
    if "all" in cond or "any" in cond:
        key = "all" if "all" in cond else "any"
        parts = cond[key]
    else:
        key, parts = "all", [cond]
    rows = []
    for part in parts:
        negated = isinstance(part, dict) and set(part) == {"not"}
        test = part["not"] if negated else part
        if not isinstance(test, dict) or "all" in test or "any" in test or "not" in test:
            return None
        rows.append({"not": negated, **test})
    return key, rows


def seed_row(prefix: str, row: dict) -> None:
    """Widget defaults for one builder row from a stored test."""
    op = next((k for k in row if k in defs.OPERATORS), "gte")
    kind = "field" if "field" in row else "tag" if "tag" in row else "event"
    default(f"{prefix}_not", bool(row.get("not")))
    default(f"{prefix}_kind", kind)
    default(f"{prefix}_subject", row.get(kind))
    default(f"{prefix}_op", op)
    if row.get("days"):
        default(f"{prefix}_days", int(row["days"]))
    if row.get("category"):
        default(f"{prefix}_category", "、".join(map(str, row["category"])))
    if row.get("channel"):
        default(f"{prefix}_channel", list(row["channel"]))
    value = row.get(op)
    if op == "is_null":
        default(f"{prefix}_null", bool(value))
    elif isinstance(value, list):
        default(f"{prefix}_values", [str(v) for v in value])
        default(f"{prefix}_text", "、".join(map(str, value)))
    elif isinstance(value, int | float) and not isinstance(value, bool):
        default(f"{prefix}_number", float(value))
    elif value is not None:
        default(f"{prefix}_value", str(value))
        default(f"{prefix}_text", str(value))


def seed_condition(key: str, cond: Any) -> bool:
    """Widget defaults for a condition builder from a stored condition; False if it does not fit."""
    flat = _flat(cond)
    if flat is None:
        return False
    joiner, rows = flat
    default(f"{key}_join", joiner)
    default(f"{key}_rows", len(rows))
    for i, row in enumerate(rows):
        seed_row(f"{key}_{i}", row)
    return True


def seed_rule(key: str, cond: Any, max_depth: int = 0, depth: int = 0) -> bool:
    """Widget defaults for a builder with nested groups (`max_depth` levels below the top) and audience
    tests from a stored rule; False when it does not fit (a NOT of a NOT, deeper nesting, no test)."""
    if not isinstance(cond, dict):
        return False
    joiner = "all" if "all" in cond else "any" if "any" in cond else None
    parts = cond[joiner] if joiner else [cond]
    if not isinstance(parts, list) or not parts:
        return False
    default(f"{key}_join", joiner or "all")
    default(f"{key}_rows", len(parts))
    for i, part in enumerate(parts):
        prefix = f"{key}_{i}"
        negated = isinstance(part, dict) and set(part) == {"not"}
        test = part["not"] if negated else part
        if not isinstance(test, dict) or "not" in test:
            return False
        if "all" in test or "any" in test:
            default(f"{prefix}_not", negated)
            default(f"{prefix}_kind", "group")
            if depth >= max_depth or not seed_rule(f"{prefix}_group", test, max_depth, depth + 1):
                return False
        elif "audience" in test:
            default(f"{prefix}_not", negated)
            default(f"{prefix}_kind", "audience")
            default(f"{prefix}_audience", test["audience"])
        else:
            seed_row(prefix, {"not": negated, **test})
    return True


def condition_builder(ctx: PageContext, key: str, tags: dict[str, TagDefinition],
                      fields: Mapping[str, bool] = GOLDEN_FIELDS, audiences: Mapping[str, str] | None = None,
                      max_depth: int = 0, depth: int = 0) -> dict | None:
    """Rows of tests joined by AND or OR, each with an optional NOT; returns the CONDITION (None when
    a row is incomplete, with a one-line note). `fields`: the golden attributes offered (name -> is a
    number); `audiences`: saved audiences a row may test membership of (name -> label; None offers no
    such test); `max_depth`: how many levels of nested groups a row may open."""
    default(f"{key}_rows", 1)
    count = int(st.session_state[f"{key}_rows"])
    joiner = st.radio(ctx.t("tags.builder.join"), ("all", "any"), key=f"{key}_join", horizontal=True,
                      format_func=lambda j: ctx.t(f"tags.builder.join_{j}"))
    tests = []
    for i in range(count):
        test = condition_row(ctx, f"{key}_{i}", tags, fields, audiences, max_depth, depth)
        if test is not None:
            tests.append(test)
    add_or_remove(ctx, f"{key}_rows", count, "tags.builder.add", "tags.builder.remove")
    if len(tests) < count:
        return None
    return tests[0] if len(tests) == 1 else {joiner: tests}


def condition_row(ctx: PageContext, prefix: str, tags: dict[str, TagDefinition],
                  fields: Mapping[str, bool] = GOLDEN_FIELDS, audiences: Mapping[str, str] | None = None,
                  max_depth: int = 0, depth: int = 0) -> dict | None:
    """One test: NOT, subject (golden attribute, purchase aggregate, published tag, saved audience or a
    nested group), operator, value."""
    cols = st.columns([0.6, 1.2, 1.6, 1.2, 2])
    negate = cols[0].checkbox(ctx.t("tags.builder.not"), key=f"{prefix}_not")
    kinds = ("field", "event", "tag") + (("audience",) if audiences is not None else ()) + (
        ("group",) if depth < max_depth else ())
    if st.session_state.get(f"{prefix}_kind", "field") not in kinds:
        st.session_state[f"{prefix}_kind"] = "field"
    kind = cols[1].selectbox(ctx.t("tags.builder.kind"), kinds, key=f"{prefix}_kind",
                             format_func=lambda k: ctx.t(f"tags.builder.kind_{k}"))
    if kind == "group":
        with st.container(border=True):
            inner = condition_builder(ctx, f"{prefix}_group", tags, fields, audiences, max_depth, depth + 1)
        return None if inner is None else {"not": inner} if negate else inner
    if kind == "audience":
        if not audiences:
            cols[2].caption(ctx.t("tags.builder.no_audiences"))
            return None
        if st.session_state.get(f"{prefix}_audience") not in audiences:
            st.session_state[f"{prefix}_audience"] = next(iter(audiences))
        name = cols[2].selectbox(ctx.t("tags.builder.audience"), list(audiences), key=f"{prefix}_audience",
                                 format_func=lambda n: audiences.get(n, n))
        return {"not": {"audience": name}} if negate else {"audience": name}
    test: dict[str, Any]
    numeric = True
    tag: TagDefinition | None = None
    if kind == "field":
        if st.session_state.get(f"{prefix}_subject") not in fields:
            st.session_state[f"{prefix}_subject"] = next(iter(fields))
        subject = cols[2].selectbox(ctx.t("tags.builder.field"), list(fields), key=f"{prefix}_subject",
                                    format_func=lambda f: field_label(ctx, f))
        test = {"field": subject}
        numeric = fields[subject]
    elif kind == "event":
        subject = cols[2].selectbox(ctx.t("tags.builder.event"), defs.EVENT_AGGREGATES, key=f"{prefix}_subject",
                                    format_func=lambda e: code_label(ctx, "tags.event.", e))
        test = {"event": subject}
        if subject in defs.METRIC_EVENTS:
            test |= event_window(ctx, st.columns(3), prefix)
    else:
        choices = [c for c, t in tags.items() if t.status in defs.COMPUTED_STATUSES]
        if not choices:
            cols[2].caption(ctx.t("tags.builder.no_tags"))
            return None
        subject = cols[2].selectbox(ctx.t("tags.builder.tag"), choices, key=f"{prefix}_subject",
                                    format_func=lambda c: tags[c].label(ctx.lang))
        tag = tags[subject]
        test = {"tag": subject}
        numeric = tag.value_type == "number"
    ops = NUMBER_OPS if numeric else (("eq", "ne", "is_null") if tag is not None and tag.value_type == "boolean"
                                      else TEXT_OPS)
    if st.session_state.get(f"{prefix}_op") not in ops:
        st.session_state[f"{prefix}_op"] = ops[0]
    op = cols[3].selectbox(ctx.t("tags.builder.op"), ops, key=f"{prefix}_op",
                           format_func=lambda o: ctx.t(f"tags.op.{o}"))
    value = _value_input(ctx, cols[4], prefix, test, op, numeric, tag)
    if value is None:
        return None
    test[op] = value
    return {"not": test} if negate else test


def _value_input(ctx: PageContext, col, prefix: str, test: dict, op: str, numeric: bool,
                 tag: TagDefinition | None) -> Any:
    label = ctx.t("tags.builder.value")
    if op == "is_null":
        return col.selectbox(label, (True, False), key=f"{prefix}_null",
                             format_func=lambda v: ctx.t("tags.builder.null_yes" if v else "tags.builder.null_no"))
    options: dict[str, str] | None = None
    if test.get("field") == "gender":
        options = {g: ctx.t(f"files.gender.{g}") for g in GENDERS}
    elif test.get("field") == "channels":
        options = {c: str(value_label("channel", c, ctx.lang)) for c in CHANNELS}
    elif tag is not None and tag.value_type == "boolean":
        options = {"true": tag.value_label("true", ctx.lang) or "", "false": tag.value_label("false", ctx.lang) or ""}
    elif tag is not None and tag.allowed_values:
        options = {a.code: (a.zh if ctx.lang == "zh" else a.en) for a in tag.allowed_values}
    if options is not None:
        if op in ("in", "not_in"):
            picked = col.multiselect(label, list(options), key=f"{prefix}_values", format_func=options.get,
                                     placeholder=ctx.t("common.choose_many"))
            return picked or None
        if st.session_state.get(f"{prefix}_value") not in options:
            st.session_state[f"{prefix}_value"] = next(iter(options))
        return col.selectbox(label, list(options), key=f"{prefix}_value", format_func=options.get)
    if numeric:
        default(f"{prefix}_number", 0.0)
        bound = float(10 ** NUMBER_DIGITS - 1)
        return number(col.number_input(label, key=f"{prefix}_number", step=1.0, min_value=-bound, max_value=bound))
    text = col.text_input(label, key=f"{prefix}_text", placeholder=ctx.t(
        "tags.builder.list_hint" if op in ("in", "not_in") else "tags.builder.value_hint"))
    if op in ("in", "not_in"):
        return parse_list(text) or None
    return text.strip() or None
