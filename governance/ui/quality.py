"""The charts and tables of the Quality page. Clicking a heatmap cell or a reason bar picks what
the drill-down below shows (its widgets' keys: drill_source, drill_field, drill_reason)."""
from __future__ import annotations

import streamlit as st

from governance.i18n import column_label
from governance.quality import rules
from governance.quality.profile import Report
from governance.ui import charts
from governance.ui.guard import PageContext
from governance.ui.session import tr
from governance.ui.widgets import chart_selection, table


def overview(ctx: PageContext, report: Report, labels: dict[str, str], reason_names: dict[str, str]) -> None:
    """Heatmap and reasons (clickable), scores, duplicates, trend, before/after, shared keys, rule results."""
    st.caption(tr("quality.click_hint"))
    metric = st.radio(tr("quality.metric"), ["completeness", "validity"], horizontal=True, key="quality_metric",
                      format_func=lambda m: ctx.t(f"quality.{m}"))
    picked = chart_selection(st.plotly_chart(charts.quality_heatmap(report.fields, metric, labels, tr("quality.heatmap")),
                                             on_select="rerun", selection_mode="points", key="quality_heatmap"))
    if picked:
        st.session_state["drill_source"], st.session_state["drill_field"] = picked["y"], picked["x"]
    if not report.reasons.empty:
        figure = charts.reason_bars(report.reasons, reason_names, tr("quality.reasons"), labels=labels)
        picked = chart_selection(st.plotly_chart(figure, on_select="rerun", selection_mode="points", key="quality_reasons"))
        if picked and picked.get("customdata"):
            st.session_state["drill_field"], st.session_state["drill_reason"] = picked["customdata"]

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
    table(rules.localized_names(report.rules, ctx.lang), labels={"name": tr("rules.col_name")})
