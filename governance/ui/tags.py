"""The Tags page's sections: the library (list, definition, versions, reviews, usage, lifecycle
actions), the new tag / new version form with its rule builder, a tag's values, tag health, source
tag mappings and the category tree.

The rule builder writes the technical definition as structured JSON (definitions.py documents the
format); it never takes SQL. Codes stay in the frames; tables show them as labels in the UI language.
"""
from __future__ import annotations

import json
from dataclasses import replace
from datetime import timedelta

import pandas as pd
import streamlit as st

from governance import pipeline
from governance.access import auth
from governance.jobs import kinds
from governance.tags import compute, health, library, source_tags
from governance.tags import definitions as defs
from governance.tags.definitions import AllowedValue, Category, TagDefinition
from governance.ui import charts
from governance.ui import jobs as ui_jobs
from governance.ui.actions import form_done, kept_form, run_step
from governance.ui.error_texts import translate
from governance.ui.guard import PageContext
from governance.ui.rule_builder import add_or_remove as _add_or_remove
from governance.ui.rule_builder import code_label as _label
from governance.ui.rule_builder import condition_builder, condition_words, event_words, seed_condition, shown_value
from governance.ui.rule_builder import default as _default
from governance.ui.rule_builder import event_window as _event_window
from governance.ui.widgets import display_frame, plain, table

PICK = "tags_pick"
SAMPLE_ROWS = 10


# ---- labels -----------------------------------------------------------------------------------

def category_names(categories: list[Category], lang: str) -> dict[str, str]:
    return {c.path: (c.name_zh if lang == "zh" else c.name_en) for c in categories}


def _who(ctx: PageContext, user: object) -> object:
    """A user name as shown: the built-in tags' author 'system' reads as words."""
    return ctx.t("tags.system") if user == "system" else user


def _list_frame(ctx: PageContext, frame: pd.DataFrame, names: dict[str, str]) -> pd.DataFrame:
    """The library's list as the table shows it: the tag's name in the UI language, codes as labels."""
    name = "name_zh" if ctx.lang == "zh" else "name_en"
    out = pd.DataFrame({
        "tag_name": frame[name],
        "tag_category": frame["category"].map(lambda c: names.get(c, c)),
        "value_type": frame["value_type"],
        "tag_status": frame["status"],
        "version": frame["version"],
        "owner": frame["owner"].map(lambda u: _who(ctx, u)),
        "sensitivity": frame["sensitivity"],
        "refresh_cadence": frame["refresh_cadence"],
    })
    if "computed_version" in frame.columns:
        out["computed_version"] = frame["computed_version"]
    return out


# ---- the library ------------------------------------------------------------------------------

def library_list(ctx: PageContext) -> str | None:
    """The tags the role may see, filtered by category and status; returns the picked tag's code."""
    with ctx.db.cursor() as cur:
        frame = library.tag_list(cur, ctx.user.role)
        categories = library.categories(cur)
        if not ctx.can("tags.edit"):  # readers see what is computed: the published (or deprecated) version
            frame = frame[frame["computed_version"].notna()].reset_index(drop=True)
            live = [library.get(cur, c, int(v)) for c, v in zip(frame["code"], frame["computed_version"])]
            frame = frame.assign(status=[t.status for t in live], version=[t.version for t in live],
                                 name_zh=[t.name_zh for t in live], name_en=[t.name_en for t in live])
    names = category_names(categories, ctx.lang)
    if frame.empty:
        st.info(ctx.t("tags.none"))
        return None
    c1, c2 = st.columns(2)
    cats = c1.multiselect(ctx.t("tags.filter_category"), sorted(set(frame["category"])), key="tags_filter_category",
                          format_func=lambda c: names.get(c, c), placeholder=ctx.t("common.choose_many"))
    statuses = c2.multiselect(ctx.t("tags.filter_status"), [s for s in defs.STATUSES if s in set(frame["status"])],
                              key="tags_filter_status", format_func=lambda s: _label(ctx, "tags.status.", s),
                              placeholder=ctx.t("common.choose_many"))
    shown = frame
    if cats:
        shown = shown[shown["category"].isin(cats)]
    if statuses:
        shown = shown[shown["status"].isin(statuses)]
    table(_list_frame(ctx, shown.reset_index(drop=True), names))
    label = dict(zip(frame["code"], frame["name_zh" if ctx.lang == "zh" else "name_en"]))
    codes = list(shown["code"])
    current = st.session_state.get(PICK)
    if current and current not in codes and current in label:
        codes.append(current)  # a filter does not drop the tag just opened
    return st.selectbox(ctx.t("tags.pick"), ["", *codes], key=PICK,
                        format_func=lambda c: label.get(c, c) if c else ctx.t("tags.pick_none"))


def technical_words(ctx: PageContext, tag: TagDefinition, tags: dict[str, TagDefinition]) -> str:
    tech = tag.technical
    if "template" in tech:
        return ctx.t("tags.words.template", name=_label(ctx, "tags.template.", tech["template"]))
    if "source_mapping" in tech:
        spec = tech["source_mapping"] or {}
        return ctx.t("tags.words.source_mapping", rule=_label(ctx, "tags.conflict.", spec.get("conflict", "priority")))
    if "when" in tech:
        return ctx.t("tags.words.when", rule=condition_words(ctx, tech["when"], tags))
    if "cases" in tech:
        lines = [ctx.t("tags.words.case", value=shown_value(tag, c.get("value"), ctx.lang),
                       rule=condition_words(ctx, c.get("when"), tags)) for c in tech["cases"]]
        if tech.get("else") is not None:
            lines.append(ctx.t("tags.words.else", value=shown_value(tag, tech["else"], ctx.lang)))
        return "\n".join(f"- {line}" for line in lines)
    if "metric" in tech:
        return ctx.t("tags.words.metric", what=event_words(ctx, tech["metric"]))
    return ""


def definition(ctx: PageContext, tag: TagDefinition, names: dict[str, str], tags: dict[str, TagDefinition]) -> None:
    """A tag's definition: names, category, type and values, the business and technical definitions."""
    st.subheader(tag.label(ctx.lang))
    c = st.columns(4)
    c[0].metric(ctx.t("tags.status"), _label(ctx, "tags.status.", tag.status))
    c[1].metric(ctx.t("tags.version"), tag.version)
    c[2].metric(ctx.t("tags.value_type"), _label(ctx, "tags.value_type.", tag.value_type))
    c[3].metric(ctx.t("tags.sensitivity"), _label(ctx, "tags.sensitivity.", tag.sensitivity))
    other = tag.name_en if ctx.lang == "zh" else tag.name_zh
    lines = [ctx.t("tags.other_name", name=other) if ctx.lang == "en" else "",
             ctx.t("tags.category_is", category=names.get(tag.category, tag.category)),
             ctx.t("tags.owner_is", owner=_who(ctx, tag.owner)),
             ctx.t("tags.cadence_is", cadence=_label(ctx, "tags.cadence.", tag.refresh_cadence))]
    if tag.allowed_values:
        lines.append(ctx.t("tags.values_are", values=("、" if ctx.lang == "zh" else ", ").join(
            a.zh if ctx.lang == "zh" else a.en for a in tag.allowed_values)))
    st.markdown("  \n".join(line for line in lines if line))
    if tag.business_definition:
        st.markdown(f"**{ctx.t('tags.business')}**")
        st.markdown(plain(tag.business_definition))
    st.markdown(f"**{ctx.t('tags.technical')}**")
    st.markdown(technical_words(ctx, tag, tags))
    if st.toggle(ctx.t("tags.show_json"), key=f"tags_json_{tag.code}"):
        st.json(tag.to_json())


def versions(ctx: PageContext, tag: TagDefinition, names: dict[str, str], tags: dict[str, TagDefinition]) -> None:
    """Every version with who, when and why, and the diff between two of them."""
    with ctx.db.cursor() as cur:
        frame = library.versions(cur, tag.code)
    st.markdown(f"**{ctx.t('tags.versions')}**")
    shown = pd.DataFrame({
        "version": frame["version"], "tag_status": frame["status"],
        "created_by": frame["created_by"].map(lambda u: _who(ctx, u)), "created_at": frame["created_at"],
        "change_reason": frame["reason"].fillna("") if "reason" in frame.columns else ""})
    table(shown)
    numbers = sorted(int(v) for v in frame["version"])
    if len(numbers) < 2:
        return
    c1, c2 = st.columns(2)
    old = c1.selectbox(ctx.t("tags.diff_old"), numbers, index=len(numbers) - 2, key=f"tags_diff_old_{tag.code}")
    new = c2.selectbox(ctx.t("tags.diff_new"), numbers, index=len(numbers) - 1, key=f"tags_diff_new_{tag.code}")
    with ctx.db.cursor() as cur:
        changes = library.diff(cur, tag.code, int(old), int(new))
    if not changes:
        st.caption(ctx.t("tags.diff_none"))
        return
    table(pd.DataFrame([{"changed_field": _label(ctx, "tags.def.", c["field"]),
                         "before": _diff_value(ctx, c["field"], c.get("before"), names, tag, tags),
                         "after": _diff_value(ctx, c["field"], c.get("after"), names, tag, tags)} for c in changes]))


def _diff_value(ctx: PageContext, field: str, value: object, names: dict[str, str], tag: TagDefinition | None = None,
                tags: dict[str, TagDefinition] | None = None) -> str:
    if value is None:
        return ""
    prefixes = {"value_type": "tags.value_type.", "sensitivity": "tags.sensitivity.", "refresh_cadence": "tags.cadence.",
                "status": "tags.status."}
    if field in prefixes:
        return _label(ctx, prefixes[field], value)
    if field == "category":
        return names.get(str(value), str(value))
    if field in ("owner", "created_by"):
        return str(_who(ctx, value))
    if field == "allowed_values" and isinstance(value, list):
        return ("、" if ctx.lang == "zh" else ", ").join(
            str(a.get("zh" if ctx.lang == "zh" else "en") or a.get("code")) if isinstance(a, dict) else str(a)
            for a in value)
    if field == "technical_definition" and isinstance(value, dict) and tag is not None:
        return technical_words(ctx, replace(tag, technical=value), tags or {})
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


def reviews(ctx: PageContext, tag: TagDefinition) -> None:
    with ctx.db.cursor() as cur:
        frame = library.reviews(cur, tag.code)
    st.markdown(f"**{ctx.t('tags.reviews')}**")
    if frame.empty:
        st.caption(ctx.t("tags.reviews_none"))
        return
    table(pd.DataFrame({"version": frame["version"], "review_action": frame["action"],
                        "actor": frame["actor"].map(lambda u: _who(ctx, u)), "reviewed_at": frame["reviewed_at"],
                        "comment": frame["comment"].fillna("")}))


def usage_line(ctx: PageContext, use: dict, tags: dict[str, TagDefinition]) -> str | None:
    """What uses a tag, in one line; None when nothing does."""
    parts = []
    sep = "、" if ctx.lang == "zh" else ", "
    visible = [tags[c].label(ctx.lang) for c in use.get("tags", ()) if c in tags]  # never a tag the role may not see
    if visible:
        parts.append(ctx.t("tags.used_by_tags", names=sep.join(visible)))
    if use.get("audiences"):
        parts.append(ctx.t("tags.used_by_audiences", names=sep.join(map(str, use["audiences"]))))
    if use.get("exports"):
        parts.append(ctx.t("tags.used_by_exports", n=int(use["exports"])))
    return ("；" if ctx.lang == "zh" else "; ").join(parts) if parts else None


def actions(ctx: PageContext, tag: TagDefinition, use: dict, tags: dict[str, TagDefinition]) -> None:
    """The lifecycle steps this role may take on the tag's newest version, and why one is not offered."""
    with ctx.db.cursor() as cur:
        editable = ctx.can("tags.edit") and library.can_edit(cur, ctx.user.role, tag.category)
    may_review = ctx.can("tags.approve")
    if not (editable or may_review):
        return
    st.markdown(f"**{ctx.t('tags.actions')}**")
    key = f"{tag.code}_{tag.version}"
    author = tag.created_by == ctx.user.username
    if tag.status == defs.DRAFT and editable:
        comment = st.text_input(ctx.t("tags.comment_optional"), key=f"tags_submit_comment_{key}")
        if st.button(ctx.t("tags.submit"), key=f"tags_submit_{key}", type="primary"):
            run_step(library.submit, ctx.db, ctx.user.username, tag.code, comment.strip() or None,
                     success=ctx.t("tags.submitted", name=tag.label(ctx.lang)), rerun=True, flash=True)
    elif tag.status == defs.IN_REVIEW:
        if not may_review:
            st.info(ctx.t("tags.waits_review"))
        elif author:
            st.info(ctx.t("tags.own_version"))
        else:
            comment = st.text_input(ctx.t("tags.review_comment"), key=f"tags_review_comment_{key}")
            c1, c2 = st.columns(2)
            approve = c1.button(ctx.t("tags.approve"), key=f"tags_approve_{key}", type="primary")
            reject = c2.button(ctx.t("tags.reject"), key=f"tags_reject_{key}")
            if (approve or reject) and not comment.strip():
                st.error(ctx.t("tags.comment_needed"))
            elif approve:
                run_step(library.approve, ctx.db, ctx.user.username, tag.code, comment.strip(),
                         success=ctx.t("tags.approved", name=tag.label(ctx.lang)), rerun=True, flash=True)
            elif reject:
                run_step(library.reject, ctx.db, ctx.user.username, tag.code, comment.strip(),
                         success=ctx.t("tags.rejected", name=tag.label(ctx.lang)), rerun=True, flash=True)
    elif tag.status in (defs.PUBLISHED, defs.DEPRECATED) and editable:
        used = usage_line(ctx, use, tags)
        comment = st.text_input(ctx.t("tags.comment_optional"), key=f"tags_life_comment_{key}")
        c1, c2 = st.columns(2)
        if tag.status == defs.PUBLISHED and c1.button(ctx.t("tags.deprecate"), key=f"tags_deprecate_{key}"):
            run_step(library.deprecate, ctx.db, ctx.user.username, tag.code, comment.strip() or None,
                     success=ctx.t("tags.deprecated", name=tag.label(ctx.lang)), rerun=True, flash=True)
        if used and (use.get("tags") or use.get("audiences")):
            c2.warning(ctx.t("tags.retire_refused", uses=used))
        elif c2.button(ctx.t("tags.retire"), key=f"tags_retire_{key}"):
            run_step(pipeline.retire_tag, ctx.db, ctx.user.username, tag.code, comment.strip() or None,
                     success=ctx.t("tags.retired", name=tag.label(ctx.lang)), rerun=True, flash=True)
    elif tag.status in (defs.RETIRED,):
        st.caption(ctx.t("tags.is_retired"))


def tag_detail(ctx: PageContext, code: str) -> TagDefinition | None:
    """The picked tag: definition, actions, versions and diff, reviews, usage."""
    with ctx.db.cursor() as cur:
        tag = shown_version(ctx, cur, code)
        names = category_names(library.categories(cur), ctx.lang)
        use = library.usage(cur, code)
        tags = known_tags(ctx, cur)
    definition(ctx, tag, names, tags)
    used = usage_line(ctx, use, tags)
    st.markdown(f"**{ctx.t('tags.usage')}**")
    st.caption(used or ctx.t("tags.unused"))
    actions(ctx, tag, use, tags)
    if ctx.can("tags.edit"):  # the history of drafts and reviews is the editors'
        versions(ctx, tag, names, tags)
        reviews(ctx, tag)
    return tag


def shown_version(ctx: PageContext, cur, code: str) -> TagDefinition:
    """The version a role works with: editors the newest, readers the computed one."""
    if ctx.can("tags.edit"):
        return library.get(cur, code)
    live = {t.code: t for t in library.computed(cur)}
    if code not in live:
        raise defs.TagError(f"No tag {code!r}.")
    return live[code]


def known_tags(ctx: PageContext, cur) -> dict[str, TagDefinition]:
    """Every tag the role may see by code: the newest version (readers: the computed one)."""
    frame = library.tag_list(cur, ctx.user.role)
    if not ctx.can("tags.edit"):
        live = {t.code: t for t in library.computed(cur)}
        return {code: live[code] for code in frame["code"] if code in live}
    return {code: library.get(cur, code) for code in frame["code"]}


# ---- the rule builder -------------------------------------------------------------------------

def seed_form(prefix: str, base: TagDefinition) -> bool:
    """Builder defaults from a stored definition (a new version starts from it); False when the
    definition needs the JSON editor (a template, a source mapping, nesting)."""
    tech = base.technical
    if "when" in tech:
        return seed_condition(f"{prefix}_when", tech["when"])
    if "metric" in tech:
        m = tech["metric"]
        _default(f"{prefix}_metric_event", m.get("event", "spend"))
        _default(f"{prefix}_metric_days", int(m.get("days") or 365))
        _default(f"{prefix}_metric_category", "、".join(map(str, m.get("category") or [])))
        _default(f"{prefix}_metric_channel", list(m.get("channel") or []))
        return True
    if "cases" in tech:
        cases = tech["cases"]
        labels = {a.code: a for a in base.allowed_values}
        _default(f"{prefix}_cases", len(cases))
        for i, case in enumerate(cases):
            a = labels.get(str(case["value"]))
            _default(f"{prefix}_case{i}_code", str(case["value"]))
            _default(f"{prefix}_case{i}_zh", a.zh if a else "")
            _default(f"{prefix}_case{i}_en", a.en if a else "")
            if not seed_condition(f"{prefix}_case{i}", case["when"]):
                return False
        other = tech.get("else")
        if other is not None:
            a = labels.get(str(other))
            _default(f"{prefix}_else_code", str(other))
            _default(f"{prefix}_else_zh", a.zh if a else "")
            _default(f"{prefix}_else_en", a.en if a else "")
        return True
    return False


def rule_builder(ctx: PageContext, prefix: str, value_type: str,
                 tags: dict[str, TagDefinition]) -> tuple[dict | None, tuple[AllowedValue, ...]]:
    """The technical definition (and, for an enumeration, its allowed values) the builder describes."""
    if value_type == "boolean":
        st.caption(ctx.t("tags.builder.boolean_help"))
        cond = condition_builder(ctx, f"{prefix}_when", tags)
        return ({"when": cond} if cond is not None else None), ()
    if value_type == "number":
        c1, *window = st.columns(4)
        event = c1.selectbox(ctx.t("tags.builder.metric"), defs.METRIC_EVENTS, key=f"{prefix}_metric_event",
                             format_func=lambda e: _label(ctx, "tags.event.", e))
        return {"metric": {"event": event, **_event_window(ctx, window, f"{prefix}_metric")}}, ()
    if value_type == "enum":
        st.caption(ctx.t("tags.builder.enum_help"))
        _default(f"{prefix}_cases", 1)
        count = int(st.session_state[f"{prefix}_cases"])
        cases, values, complete = [], [], True
        for i in range(count):
            with st.container(border=True):
                c1, c2, c3 = st.columns(3)
                code = c1.text_input(ctx.t("tags.builder.case_code"), key=f"{prefix}_case{i}_code").strip()
                zh = c2.text_input(ctx.t("tags.builder.case_zh"), key=f"{prefix}_case{i}_zh").strip()
                en = c3.text_input(ctx.t("tags.builder.case_en"), key=f"{prefix}_case{i}_en").strip()
                cond = condition_builder(ctx, f"{prefix}_case{i}", tags)
            if not code or cond is None:
                complete = False
                continue
            cases.append({"value": code, "when": cond})
            values.append(AllowedValue(code, zh or code, en or code))
        _add_or_remove(ctx, f"{prefix}_cases", count, "tags.builder.add_case", "tags.builder.remove_case")
        c1, c2, c3 = st.columns(3)
        other = c1.text_input(ctx.t("tags.builder.else_code"), key=f"{prefix}_else_code",
                              placeholder=ctx.t("tags.builder.else_none")).strip()
        other_zh = c2.text_input(ctx.t("tags.builder.case_zh"), key=f"{prefix}_else_zh").strip()
        other_en = c3.text_input(ctx.t("tags.builder.case_en"), key=f"{prefix}_else_en").strip()
        if other and other not in {v.code for v in values}:
            values.append(AllowedValue(other, other_zh or other, other_en or other))
        if not complete or not cases:
            return None, tuple(values)
        return {"cases": cases, "else": other or None}, tuple(values)
    st.info(ctx.t("tags.builder.date_json"))
    return None, ()


def editor(ctx: PageContext, base: TagDefinition | None) -> None:
    """A new tag, or a new version of `base`: the rule builder (or the JSON editor), then names and
    the reason, saved as a draft through library.save."""
    with ctx.db.cursor() as cur:
        categories = [c for c in library.categories(cur) if library.can_edit(cur, ctx.user.role, c.path)]
        tags = known_tags(ctx, cur)
    if not categories:
        st.info(ctx.t("tags.no_edit_category"))
        return
    names = category_names(categories, ctx.lang)
    prefix = f"tagform_{base.code}_{base.version}" if base else "tagform_new"
    form_key = f"{prefix}_form"
    text_fields = tuple(f"{prefix}_{f}" for f in ("code", "name_zh", "name_en", "business", "reason"))
    if base is not None:
        st.caption(ctx.t("tags.new_version_of", name=base.label(ctx.lang), version=base.version))
        for name, value in (("code", base.code), ("name_zh", base.name_zh), ("name_en", base.name_en),
                            ("business", base.business_definition)):
            _default(f"{prefix}_{name}", value)
        _default(f"{prefix}_type", base.value_type)
        _default(f"{prefix}_json", json.dumps(base.technical, ensure_ascii=False, indent=2))
        _default(f"{prefix}_advanced", not seed_form(prefix, base))
        if base.category in names:
            _default(f"{prefix}_category", base.category)
        _default(f"{prefix}_sensitivity", base.sensitivity)
        _default(f"{prefix}_cadence", base.refresh_cadence)
    value_type = st.selectbox(ctx.t("tags.value_type"), defs.VALUE_TYPES, key=f"{prefix}_type",
                              format_func=lambda v: _label(ctx, "tags.value_type.", v), disabled=base is not None)
    advanced = st.toggle(ctx.t("tags.builder.advanced"), key=f"{prefix}_advanced")
    if advanced:
        _default(f"{prefix}_json", "{}")
        st.caption(ctx.t("tags.builder.json_help"))
        text = st.text_area(ctx.t("tags.builder.json"), key=f"{prefix}_json", height=220)
        technical: dict | None = None
        allowed = base.allowed_values if base is not None else ()
        try:
            technical = json.loads(text)
        except ValueError:
            st.error(ctx.t("tags.builder.bad_json"))
    else:
        technical, allowed = rule_builder(ctx, prefix, value_type, tags)
    if technical is not None and not advanced:
        st.caption(ctx.t("tags.builder.reads", rule=technical_words(ctx, _draft(value_type, technical, allowed), tags)))

    saved = st.session_state.pop(f"{prefix}_warnings", None)
    with kept_form(form_key, text_fields):
        c1, c2, c3 = st.columns(3)
        code = c1.text_input(ctx.t("tags.code"), key=f"{prefix}_code", disabled=base is not None,
                             help=ctx.t("tags.code_help"))
        name_zh = c2.text_input(ctx.t("tags.name_zh"), key=f"{prefix}_name_zh")
        name_en = c3.text_input(ctx.t("tags.name_en"), key=f"{prefix}_name_en")
        c1, c2, c3 = st.columns(3)
        category = c1.selectbox(ctx.t("tags.category"), list(names), key=f"{prefix}_category",
                                format_func=lambda c: names.get(c, c))
        sensitivity = c2.selectbox(ctx.t("tags.sensitivity"), defs.SENSITIVITIES, key=f"{prefix}_sensitivity",
                                   format_func=lambda s: _label(ctx, "tags.sensitivity.", s))
        cadence = c3.selectbox(ctx.t("tags.cadence"), defs.CADENCES, key=f"{prefix}_cadence",
                               format_func=lambda s: _label(ctx, "tags.cadence.", s))
        business = st.text_area(ctx.t("tags.business"), key=f"{prefix}_business", height=80)
        reason = st.text_input(ctx.t("tags.reason"), key=f"{prefix}_reason")
        submitted = st.form_submit_button(ctx.t("tags.save"), type="primary")
    if saved:
        for warning in saved:
            st.warning(ctx.t("tags.near_duplicate", warning=translate(warning, ctx.lang)))
    if not submitted:
        return
    if technical is None:
        st.error(ctx.t("tags.builder.incomplete"))
        return
    tag = TagDefinition(
        code=(base.code if base else code.strip()), name_zh=name_zh.strip(), name_en=name_en.strip(),
        category=category, value_type=value_type, technical=technical, business_definition=business.strip(),
        allowed_values=tuple(allowed), owner=(base.owner if base else ctx.user.username), sensitivity=sensitivity,
        refresh_cadence=cadence)
    result = run_step(library.save, ctx.db, ctx.user.username, tag, reason.strip())
    if result is None:
        return
    if result.warnings:
        st.session_state[f"{prefix}_warnings"] = result.warnings
    form_done(form_key, ctx.t("tags.saved", name=tag.label(ctx.lang), version=result.version))


def _draft(value_type: str, technical: dict, allowed: tuple[AllowedValue, ...]) -> TagDefinition:
    return TagDefinition("draft", "", "", "", value_type, technical, allowed_values=allowed)


# ---- values -----------------------------------------------------------------------------------

def values(ctx: PageContext, tag: TagDefinition) -> None:
    """A computed tag's coverage, distribution, a masked sample, and who moved between values."""
    with ctx.db.cursor() as cur:
        runs = health.runs(cur, tag.code)
        dist = health.distribution(cur, tag, ctx.lang)
        sample = compute.values_frame(cur, tag.code, limit=SAMPLE_ROWS)
    st.subheader(tag.label(ctx.lang))
    if runs.empty and dist.empty:
        st.info(ctx.t("tags.values_none"))
        return
    if not runs.empty:
        last = runs.iloc[-1]
        c = st.columns(4)
        c[0].metric(ctx.t("tags.coverage"), "—" if pd.isna(last["coverage"]) else f"{float(last['coverage']):.1%}")
        c[1].metric(ctx.t("tags.with_value"), f"{int(last['with_value']):,}")
        c[2].metric(ctx.t("tags.as_of"), str(last["as_of"])[:10])
        c[3].metric(ctx.t("tags.computed_version"), int(last["tag_version"]))
    if not dist.empty:
        if tag.value_type == "number":
            st.caption(ctx.t("tags.distribution") + ("：" if ctx.lang == "zh" else ": ")
                       + _number_range(dist))
        else:
            labelled = dist.assign(label=[str(shown_value(tag, v, ctx.lang)) for v in dist["value"]])
            st.plotly_chart(charts.tag_distribution(labelled, ctx.t("tags.distribution")), width="stretch",
                            key=f"tags_dist_{tag.code}")
    if len(runs) > 1:
        st.plotly_chart(charts.tag_coverage_runs(runs, ctx.t("tags.coverage_runs"), ctx.t("tags.as_of")),
                        width="stretch", key=f"tags_cov_{tag.code}")
    st.markdown(f"**{ctx.t('tags.sample', n=SAMPLE_ROWS)}**")
    shown = sample.assign(value=sample["value"].map(lambda v: shown_value(tag, v, ctx.lang)))
    if tag.sensitivity != "normal":
        shown = ctx.mask(shown, {"value": None}, keep=("oneid", "computed_at"))
    table(shown)
    if tag.sensitivity == "normal" or ctx.can("pii.unmasked"):  # who holds a personal value: unmasked roles
        moved(ctx, tag)


def _number_range(dist: pd.DataFrame) -> str:
    numbers = pd.to_numeric(dist["value"], errors="coerce").dropna()
    if numbers.empty:
        return "—"
    return f"{numbers.min():,.2f} – {numbers.max():,.2f}"


def moved(ctx: PageContext, tag: TagDefinition) -> None:
    """Who moved from one value to another since a date (enumerations and booleans keep history)."""
    if tag.value_type not in ("enum", "boolean"):
        return
    options = [a.code for a in tag.allowed_values] or (["true", "false"] if tag.value_type == "boolean" else [])
    if len(options) < 2:
        return
    st.markdown(f"**{ctx.t('tags.moved')}**")
    c1, c2, c3 = st.columns(3)
    fmt = lambda v: str(shown_value(tag, v, ctx.lang))  # noqa: E731
    before = c1.selectbox(ctx.t("tags.moved_from"), options, key=f"tags_moved_from_{tag.code}", format_func=fmt)
    after = c2.selectbox(ctx.t("tags.moved_to"), options, index=1, key=f"tags_moved_to_{tag.code}", format_func=fmt)
    since = c3.date_input(ctx.t("tags.moved_since"), value=compute.today() - timedelta(days=30),
                          key=f"tags_moved_since_{tag.code}")
    with ctx.db.cursor() as cur:
        frame = compute.moved(cur, tag.code, before, after, since)
    st.caption(ctx.t("tags.moved_count", n=len(frame)))
    if not frame.empty:
        table(frame.head(200))  # oneid, held_since, moved_on: the values are the pickers above


def compute_now(ctx: PageContext) -> None:
    """Compute every published tag now, as a background job (its progress shows in the job panel)."""
    if not ctx.can("tags.edit"):
        return
    busy = ui_jobs.running(ctx, "refresh_tags")
    if st.button(ctx.t("tags.compute_now"), key="tags_compute_now", disabled=busy):
        ui_jobs.start(ctx, kinds.refresh_tags)


# ---- health -----------------------------------------------------------------------------------

def health_tab(ctx: PageContext) -> None:
    """Every computed tag's coverage, drift, freshness, conflicts and use; flagged tags highlighted."""
    with ctx.db.cursor() as cur:
        summary = health.summary(cur, ctx.user.role, ctx.lang)
        flags = health.flags(cur, ctx.user.role)
        names = category_names(library.categories(cur), ctx.lang)
    if summary.empty:
        st.info(ctx.t("tags.health_none"))
        return
    for flag in flags:
        st.warning(ctx.t("tags.flagged", line=health.flag_text(flag, ctx.lang)))
    codes = list(summary["code"])
    shown = summary.drop(columns=["code"]).assign(category=summary["category"].map(lambda c: names.get(c, c)),
                                                  distribution=[_distribution_text(ctx, c, d) for c, d in
                                                                zip(codes, summary["distribution"])])
    shown = shown.rename(columns={"category": "tag_category"})
    formatted = frozenset({"coverage", "coverage_before", "coverage_change", "psi"})
    shown = display_frame(shown, ctx.lang, formatted)  # a Styler is shown as it is: label the codes first
    styled = shown.style.apply(lambda row: ["background-color: #fdecea" if row["flagged"] else "" for _ in row], axis=1)
    table(styled, column_config={
        "coverage": st.column_config.ProgressColumn(ctx.t("tags.health.col.coverage"), min_value=0.0, max_value=1.0,
                                                    format="percent"),
        "coverage_before": st.column_config.NumberColumn(ctx.t("tags.health.col.coverage_before"), format="percent"),
        "coverage_change": st.column_config.NumberColumn(ctx.t("tags.health.col.coverage_change"), format="%.1f"),
        "psi": st.column_config.NumberColumn(ctx.t("tags.health.col.psi"), format="%.3f")})
    label = dict(zip(codes, summary["tag_name"]))
    code = st.selectbox(ctx.t("tags.pick"), codes, key="tags_health_pick", format_func=lambda c: str(label.get(c, c)))
    if code is None:
        return
    with ctx.db.cursor() as cur:
        runs = health.runs(cur, code)
    if runs.empty:
        return
    c1, c2 = st.columns(2)
    c1.plotly_chart(charts.tag_coverage_runs(runs, ctx.t("tags.health.chart.coverage"), ctx.t("tags.health.chart.run")),
                    width="stretch", key="tags_health_coverage")
    c2.plotly_chart(charts.tag_psi(runs, ctx.t("tags.health.chart.psi"), bound_label=ctx.t("tags.health.chart.bound"),
                                   run_label=ctx.t("tags.health.chart.run")), width="stretch", key="tags_health_psi")


def _distribution_text(ctx: PageContext, code: str, text: object) -> object:
    """The health summary's distribution line; a preferred channel's values (channel codes) by name."""
    with ctx.db.cursor() as cur:
        tag = library.get(cur, code)
        if tag.technical.get("template") != "preferred_channel":
            return text
        dist = health.distribution(cur, tag, ctx.lang)
    return " · ".join(f"{shown_value(tag, v, ctx.lang)} {share:.0%}" for v, share in
                      zip(dist["value"].head(5), dist["share"].head(5)))


# ---- source mappings --------------------------------------------------------------------------

def source_tab(ctx: PageContext) -> None:
    """A source's tag column, value by value onto a standard tag; the values nobody mapped yet."""
    with ctx.db.cursor() as cur:
        names = [r[0] for r in cur.execute("SELECT source FROM sources ORDER BY source").fetchall()]
        columns_of = {s: source_tags.tag_columns(cur, s) for s in names}
        tags = {c: t for c, t in known_tags(ctx, cur).items()
                if t.value_type in ("enum", "boolean") and "source_mapping" in t.technical}
        unmapped = source_tags.unmapped_values(cur)
        current = source_tags.mappings(cur)
    sources = [s for s in names if columns_of[s]]
    st.caption(ctx.t("tags.map_caption"))
    st.markdown(f"**{ctx.t('tags.unmapped')}**")
    if unmapped.empty:
        st.caption(ctx.t("tags.unmapped_none"))
    else:
        table(unmapped)
    if not sources or not tags:
        st.info(ctx.t("tags.map_nothing"))
        return
    c1, c2, c3 = st.columns(3)
    source = c1.selectbox(ctx.t("tags.map_source"), sources, key="tags_map_source")
    columns = columns_of[source]
    column = c2.selectbox(ctx.t("tags.map_column"), columns, key="tags_map_column")
    code = c3.selectbox(ctx.t("tags.map_tag"), list(tags), key="tags_map_tag",
                        format_func=lambda c: tags[c].label(ctx.lang))
    tag = tags[code]
    rows = _mapping_rows(current, unmapped, source, column)
    options = [a.code for a in tag.allowed_values] or ["true", "false"]
    labels = {o: str(shown_value(tag, o, ctx.lang)) for o in options}
    frame = pd.DataFrame({"source_value": rows["source_value"], "tag_value": rows["tag_value"]})
    edited = st.data_editor(  # type: ignore[call-overload]  # stub: SelectboxColumn's format_func
        frame, hide_index=True, width="stretch", num_rows="dynamic", key=f"tags_map_editor_{source}_{column}_{code}",
        column_config={"source_value": st.column_config.TextColumn(ctx.t("tags.map_source_value")),
                       "tag_value": st.column_config.SelectboxColumn(ctx.t("tags.map_tag_value"), options=options,
                                                                     format_func=labels.get)})  # type: ignore[arg-type]
    if st.button(ctx.t("tags.map_save"), key="tags_map_save", type="primary"):
        mapping = {str(r.source_value).strip(): (r.tag_value or None) for r in edited.itertuples()
                   if isinstance(r.source_value, str) and r.source_value.strip()}
        run_step(source_tags.set_mapping, ctx.db, ctx.user.username, source, column, mapping, code,
                 success=lambda version: ctx.t("tags.map_saved", version=version), rerun=True, flash=True)


def _mapping_rows(current: pd.DataFrame, unmapped: pd.DataFrame, source: str, column: str) -> pd.DataFrame:
    """The column's mapped values (newest version) followed by its unmapped ones."""
    rows: list[dict] = []
    if not current.empty:
        mine = current[(current["source"] == source) & (current["column"] == column)]
        rows += [{"source_value": r.source_value, "tag_value": r.tag_value} for r in mine.itertuples()]
    seen = {r["source_value"] for r in rows}
    if not unmapped.empty:
        mine = unmapped[(unmapped["source"] == source) & (unmapped["column"] == column)]
        rows += [{"source_value": v, "tag_value": None} for v in mine["value"] if v not in seen]
    return pd.DataFrame(rows, columns=["source_value", "tag_value"])


# ---- categories -------------------------------------------------------------------------------

def categories_tab(ctx: PageContext) -> None:
    with ctx.db.cursor() as cur:
        categories = library.categories(cur)
    roles = {r: ctx.t(f"role.{r}") for r in auth.ROLES}
    sep = "、" if ctx.lang == "zh" else ", "
    table(pd.DataFrame({
        "tag_category": [c.name_zh if ctx.lang == "zh" else c.name_en for c in categories],
        "view_roles": [sep.join(roles.get(r, r) for r in c.view_roles) for c in categories],
        "edit_roles": [sep.join(roles.get(r, r) for r in c.edit_roles) for c in categories]}))
    by_path = {c.path: c for c in categories}
    names = category_names(categories, ctx.lang)
    picked = st.selectbox(ctx.t("tags.cat_pick"), ["", *by_path], key="tags_cat_pick",
                          format_func=lambda p: names.get(p, p) if p else ctx.t("tags.cat_new"))
    base = by_path.get(picked)
    prefix = f"tags_cat_{picked or 'new'}"
    with st.form(f"{prefix}_form"):
        c1, c2, c3 = st.columns(3)
        path = c1.text_input(ctx.t("tags.cat_path"), value=base.path if base else "", disabled=base is not None,
                             help=ctx.t("tags.cat_path_help"))
        name_zh = c2.text_input(ctx.t("tags.name_zh"), value=base.name_zh if base else "")
        name_en = c3.text_input(ctx.t("tags.name_en"), value=base.name_en if base else "")
        c1, c2 = st.columns(2)
        view = c1.multiselect(ctx.t("tags.cat_view"), list(auth.ROLES), default=list(base.view_roles) if base else
                              list(auth.ROLES), format_func=lambda r: roles.get(r, r), placeholder=ctx.t("common.choose_many"))
        edit = c2.multiselect(ctx.t("tags.cat_edit"), list(auth.ROLES), default=list(base.edit_roles) if base else
                              ["admin", "steward"], format_func=lambda r: roles.get(r, r), placeholder=ctx.t("common.choose_many"))
        if st.form_submit_button(ctx.t("tags.cat_save"), type="primary"):
            category = Category((base.path if base else path.strip()), name_zh.strip(), name_en.strip(),
                                tuple(view), tuple(edit))
            if not category.path or not category.name_zh or not category.name_en:
                st.error(ctx.t("tags.cat_incomplete"))
            else:
                run_step(library.set_category, ctx.db, ctx.user.username, category,
                         success=ctx.t("tags.cat_saved", name=category.name_zh if ctx.lang == "zh"
                                       else category.name_en), rerun=True, flash=True)


def new_version_base(ctx: PageContext, code: str | None) -> TagDefinition | None:
    """The definition a new version starts from: the picked tag's newest version, if the role may edit it."""
    if not code:
        return None
    with ctx.db.cursor() as cur:
        tag = library.get(cur, code)
        return tag if library.can_edit(cur, ctx.user.role, tag.category) else None


