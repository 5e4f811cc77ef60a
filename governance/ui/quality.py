"""The charts and tables of the Quality page. Clicking a heatmap cell or a reason bar picks what
the drill-down below shows (its widgets' keys: drill_source, drill_field, drill_reason); the
source picker (quality_scope) narrows every chart and table to one source."""
from __future__ import annotations

import math

import pandas as pd
import streamlit as st

from governance.i18n import TEXTS, column_label, t
from governance.quality import rules
from governance.quality.profile import Report
from governance.ui import charts
from governance.ui.guard import PageContext
from governance.ui.session import tr
from governance.ui.widgets import chart_selection, json_object, table

SCOPE = "quality_scope"
DRILL_KEYS = ("drill_source", "drill_field", "drill_reason")


def percent(share: float | None) -> str:
    """A share as people read it: 0.36 -> '36%', 2/3 -> '67%', None -> ''. Whole percents, but a
    share just below 1 never reads '100%' (0.9996 -> '99.9%') and one just above 0 never '0%'."""
    if share is None or (isinstance(share, float) and math.isnan(share)):
        return ""
    pct = float(share) * 100
    whole = round(pct)
    if (whole == 100 and pct < 100) or (whole == 0 and pct > 0):
        shown = math.floor(pct * 10) / 10 if whole == 100 else max(math.ceil(pct * 10) / 10, 0.1)
        return f"{shown:.1f}%"
    return f"{whole}%"


def blank_missing(frame: pd.DataFrame) -> pd.DataFrame:
    """Text columns with empty cells blank instead of 'None' (numbers keep their type)."""
    text = [c for c in frame.columns if not pd.api.types.is_numeric_dtype(frame[c])
            and not pd.api.types.is_bool_dtype(frame[c]) and not pd.api.types.is_datetime64_any_dtype(frame[c])]
    if not text:
        return frame
    return frame.assign(**{c: frame[c].astype(object).where(frame[c].notna(), "") for c in text})


def rule_results_for_people(frame: pd.DataFrame, lang: str) -> pd.DataFrame:
    """Rule results as the page shows them: names in the UI language, pass rate and tolerance as
    percentages, the outcome in words; a rule on fields a source does not map reads 'not applicable'
    with no pass rate."""
    frame = rules.localized_names(frame, lang)
    if frame.empty:
        return frame
    applicable = frame["applicable"] > 0
    words = {key: tr(f"quality.outcome.{key}") for key in ("pass", "fail", "na")}
    outcome = [words["na"] if not a else words["pass" if p else "fail"] for a, p in zip(applicable, frame["passed"])]
    return blank_missing(frame.assign(
        pass_rate=[percent(r) if a else "" for r, a in zip(frame["pass_rate"], applicable)],
        mostly=[percent(m) for m in frame["mostly"]], passed=outcome))


def _reset_drill_page() -> None:
    st.session_state.pop("drill_page", None)


def _scope_changed() -> None:
    """A new source in hand: the failing records follow it."""
    st.session_state["drill_source"] = st.session_state.get(SCOPE) or ""
    _reset_drill_page()


def _heatmap_clicked() -> None:
    cell = charts.heatmap_cell(chart_selection(st.session_state.get("quality_heatmap")))
    if cell:
        st.session_state["drill_source"], st.session_state["drill_field"] = cell
        st.session_state["drill_reason"] = ""
        _reset_drill_page()


def _reason_clicked() -> None:
    picked = chart_selection(st.session_state.get("quality_reasons"))
    data = (picked or {}).get("customdata")
    if isinstance(data, (list, tuple)) and len(data) == 2:
        st.session_state["drill_field"], st.session_state["drill_reason"] = data
        st.session_state["drill_source"] = st.session_state.get(SCOPE) or ""
        _reset_drill_page()


def scope_picker(ctx: PageContext, report: Report) -> str | None:
    """The source every chart and table is narrowed to, or None for all sources."""
    options = ["", *report.sources["source"].tolist()]
    if st.session_state.get(SCOPE) not in options:
        st.session_state[SCOPE] = ""
    return st.selectbox(tr("quality.scope"), options, key=SCOPE, on_change=_scope_changed,
                        format_func=lambda s: s or ctx.t("quality.all_sources")) or None


def headline(report: Report, shown: Report, scope: str | None) -> None:
    """Score, records and the time of the run: the workspace's, or the source's in hand."""
    run = report.run
    c1, c2, c3 = st.columns(3)
    if scope and not shown.sources.empty:
        score, rows = shown.sources["score"].iloc[0], shown.sources["rows"].iloc[0]
        c1.metric(tr("quality.source_score", source=scope), "—" if pd.isna(score) else f"{score:.1f}")
        c2.metric(tr("quality.records"), f"{int(rows):,}")
    else:
        c1.metric(tr("quality.score"), "—" if run["score"] is None else f"{run['score']:.1f}")
        c2.metric(tr("quality.records"), f"{run['records']:,}")
    c3.metric(tr("quality.last_run"), run["ts"].strftime("%Y-%m-%d %H:%M"))


def overview(ctx: PageContext, report: Report, labels: dict[str, str], reason_names: dict[str, str]) -> None:
    """Heatmap and reasons (clickable), scores, duplicates, trend, before/after, shared keys, rule
    results, all of `report` (narrowed to a source with Report.for_source by the caller)."""
    st.caption(tr("quality.click_hint"))
    metric = st.radio(tr("quality.metric"), ["completeness", "validity"], horizontal=True, key="quality_metric",
                      format_func=lambda m: ctx.t(f"quality.{m}"))
    st.plotly_chart(charts.quality_heatmap(report.fields, metric, labels, tr("quality.heatmap")),
                    on_select=_heatmap_clicked, selection_mode="points", key="quality_heatmap")
    if not report.reasons.empty:
        figure = charts.reason_bars(report.reasons, reason_names, tr("quality.reasons"), labels=labels)
        st.plotly_chart(figure, on_select=_reason_clicked, selection_mode="points", key="quality_reasons")

    c1, c2 = st.columns(2)
    c1.plotly_chart(charts.source_scores(report.sources, tr("quality.source_scores")), width="stretch")
    c2.plotly_chart(charts.duplicate_rates(report.sources, tr("quality.duplicates")), width="stretch")
    st.plotly_chart(charts.score_trend(report.trend, tr("quality.trend"), column_label("batch_id", ctx.lang)),
                    width="stretch")
    st.plotly_chart(charts.before_after(report.fields, labels, tr("quality.before"), tr("quality.after"),
                                        tr("quality.before_after")), width="stretch")
    st.subheader(tr("quality.shared_keys"))
    table(report.keys)
    st.subheader(tr("quality.rule_results"))
    table(rule_results_for_people(report.rules, ctx.lang),
          labels={"name": tr("rules.col_name"), "passed": tr("quality.col_outcome")})


# ---------------------------------------------------------------- rule parameters (the Rules page)

RANGE_KINDS = ("number", "date", "timestamp")


def _number(text: str) -> int | float | str:
    try:
        value = float(text)
    except ValueError:
        return text  # check_range says why
    return int(value) if value.is_integer() and "." not in text and "e" not in text.lower() else value


def params_text(params: object, lang: str) -> object:
    """A rule's parameters (JSON, `rules.rules_frame`) as the form names them: 一致性检查：出生日期与身份证号一致."""
    data = json_object(params)
    if data is None:
        return params
    names = {"check": "rules.param.check", "type": "rules.param.kind", "min": "rules.param.min", "max": "rules.param.max",
             "values": "rules.param.values", "pattern": "rules.param.pattern", "sql": "rules.param.sql"}
    coded = {"check": "rules.param.", "type": "rules.param.kind_"}
    parts = []
    for name, value in data.items():
        if isinstance(value, list):
            value = ("、" if lang == "zh" else ", ").join(str(v) for v in value)
        elif name in coded and f"{coded[name]}{value}" in TEXTS:
            value = t(f"{coded[name]}{value}", lang)
        elif value == "today":
            value = t("rules.param.today", lang)
        label = t(names[name], lang).split("（")[0].split(" (")[0] if name in names else name
        parts.append(f"{label}{'：' if lang == 'zh' else ': '}{value}")
    return ("；" if lang == "zh" else "; ").join(parts)


def rule_params(rule_type: str, params: dict, key: str) -> dict:
    """The parameter widgets of one rule type, filled from `params`; returns the parameters as
    entered (checked by `check_range` and Rule.validate). Keys the form does not show are kept."""
    out = dict(params)
    if rule_type == "regex":
        out["pattern"] = st.text_input(tr("rules.param.pattern"), value=str(params.get("pattern", "")),
                                       key=f"{key}_pattern", help=tr("rules.param.pattern_help"))
    elif rule_type == "allowed_values":
        stored = params.get("values")
        values = stored if isinstance(stored, list) else []
        text = st.text_area(tr("rules.param.values"), value="\n".join(str(v) for v in values), key=f"{key}_values",
                            help=tr("rules.param.values_help"))
        out["values"] = [v.strip() for line in text.splitlines() for v in line.split(",") if v.strip()]
    elif rule_type == "range":
        kind = params.get("type", "number") if params.get("type") in RANGE_KINDS else "number"
        c1, c2, c3 = st.columns(3)
        kinds = {k: tr(f"rules.param.kind_{k}") for k in RANGE_KINDS}
        out["type"] = c1.selectbox(tr("rules.param.kind"), RANGE_KINDS, index=RANGE_KINDS.index(kind),
                                   key=f"{key}_kind", format_func=kinds.__getitem__)
        for column, bound in ((c2, "min"), (c3, "max")):
            value = params.get(bound)
            typed = column.text_input(tr(f"rules.param.{bound}"), value="" if value is None else str(value),
                                      key=f"{key}_{bound}", help=tr("rules.param.bound_help")).strip()
            out.pop(bound, None)
            if typed:
                out[bound] = _number(typed) if out["type"] == "number" else typed
    elif rule_type == "consistency":
        check = params.get("check") if params.get("check") in rules.CHECKS else rules.CHECKS[0]
        checks = {c: tr(f"rules.param.{c}") for c in rules.CHECKS}
        out["check"] = st.selectbox(tr("rules.param.check"), rules.CHECKS, index=rules.CHECKS.index(check),
                                    key=f"{key}_check", format_func=checks.__getitem__)
    elif rule_type == "custom_sql":
        out["sql"] = st.text_area(tr("rules.param.sql"), value=str(params.get("sql", "")), key=f"{key}_sql",
                                  help=tr("rules.param.sql_help"))
    else:
        st.caption(tr("rules.param.none"))
    return out


def check_range(params: dict) -> str | None:
    """Why a range rule's bounds cannot be read (an i18n key), or None: numbers for a number range,
    YYYY-MM-DD dates (or 'today') for a date or time range, min not above max."""
    kind = params.get("type", "number")
    bounds = {}
    for bound in ("min", "max"):
        value = params.get(bound)
        if value in (None, ""):
            continue
        if kind == "number":
            try:
                bounds[bound] = float(value)
            except (TypeError, ValueError):
                return "rules.param.bad_number"
        elif value != "today":
            try:
                bounds[bound] = pd.Timestamp(str(value))
            except (TypeError, ValueError):
                return "rules.param.bad_date"
    if not bounds:
        return "rules.param.no_bound"
    if "min" in bounds and "max" in bounds and bounds["min"] > bounds["max"]:
        return "rules.param.min_above_max"
    return None
