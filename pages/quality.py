"""Quality: scores, heatmap, reasons, trends, duplicates, before/after, rule results and failing records."""
import streamlit as st

from governance import pipeline
from governance.access import audit
from governance.i18n import column_label
from governance.quality import profile, rules
from governance.standardize import engine
from governance.standardize.normalizers import REASONS
from governance.store import tabular
from governance.store.errors import GovernanceError
from governance.ui import charts
from governance.ui.guard import require
from governance.ui.session import settings, show_error, tr
from governance.ui.widgets import chart_selection, pager, table

ctx = require("quality.view")
DRILL_KEEP = {"source", "batch_id", "row_number", "status", "reason"}
st.title(tr("page.quality"))

if ctx.can("quality.run") and st.button(tr("quality.run"), type="primary", key="quality_run"):
    bar = st.progress(0.0, text=tr("quality.running"))
    try:
        result = pipeline.refresh_quality(ctx.db, ctx.user.username, progress=lambda f, stage: bar.progress(f, text=stage))
        st.success(tr("quality.done", records=f"{result.records:,}", score=result.score))
    except GovernanceError as exc:
        show_error(exc)

with ctx.db.cursor() as cur:
    run = profile.latest_run(cur)
    if run is None:
        st.info(tr("quality.none"))
        st.stop()
    fields = profile.fields_frame(cur, run["run_id"])
    sources = profile.sources_frame(cur, run["run_id"])
    reasons = profile.reasons_frame(cur, run["run_id"])
    trend = profile.trend_frame(cur, run["run_id"])
    keys = profile.keys_frame(cur, run["run_id"])
    rule_results = profile.rules_frame(cur, run["run_id"])

labels = {f: column_label(f, ctx.lang) for f in fields["field"].unique()}
reason_names = {code: (zh if ctx.lang == "zh" else en) for code, (zh, en) in REASONS.items()}
c1, c2, c3 = st.columns(3)
c1.metric(tr("quality.score"), "—" if run["score"] is None else f"{run['score']:.1f}")
c2.metric(tr("quality.records"), f"{run['records']:,}")
c3.metric(tr("quality.last_run"), run["ts"].strftime("%Y-%m-%d %H:%M"))
flagged = sources.loc[sources["flagged"], "source"].tolist()
if flagged:
    st.warning(tr("quality.flagged", sources=", ".join(flagged)))

st.caption(tr("quality.click_hint"))
metric = st.radio(tr("quality.metric"), ["completeness", "validity"], horizontal=True, key="quality_metric",
                  format_func=lambda m: ctx.t(f"quality.{m}"))
picked = chart_selection(st.plotly_chart(charts.quality_heatmap(fields, metric, labels, tr("quality.heatmap")),
                                         on_select="rerun", selection_mode="points", key="quality_heatmap"))
if picked:
    st.session_state["drill_source"], st.session_state["drill_field"] = picked["y"], picked["x"]
if not reasons.empty:
    picked = chart_selection(st.plotly_chart(charts.reason_bars(reasons, reason_names, tr("quality.reasons"), labels=labels),
                                             on_select="rerun", selection_mode="points", key="quality_reasons"))
    if picked and picked.get("customdata"):
        st.session_state["drill_field"], st.session_state["drill_reason"] = picked["customdata"]

c1, c2 = st.columns(2)
c1.plotly_chart(charts.source_scores(sources, tr("quality.source_scores")), width="stretch")
c2.plotly_chart(charts.duplicate_rates(sources, tr("quality.duplicates")), width="stretch")
st.plotly_chart(charts.score_trend(trend, tr("quality.trend"), column_label("batch_id", ctx.lang)), width="stretch")
st.plotly_chart(charts.before_after(fields, labels, tr("quality.before"), tr("quality.after"),
                                    tr("quality.before_after")), width="stretch")
st.subheader(tr("quality.shared_keys"))
table(keys)
st.subheader(tr("quality.rule_results"))
table(rules.localized_names(rule_results, ctx.lang), labels={"name": tr("rules.col_name")})

st.subheader(tr("quality.drill"))
c1, c2, c3 = st.columns(3)
source_options = ["", *sources["source"].tolist()]
field_options = sorted(fields["field"].unique().tolist())
source = c1.selectbox(tr("quality.source"), source_options, key="drill_source",
                      format_func=lambda s: s or ctx.t("quality.all"))
field = c2.selectbox(tr("quality.field"), field_options, key="drill_field", format_func=lambda f: labels.get(f, f))
reason_options = ["", *sorted(reasons.loc[reasons["field"] == field, "reason"].unique().tolist())]
if st.session_state.get("drill_reason") not in reason_options:
    st.session_state["drill_reason"] = ""
reason = c3.selectbox(tr("quality.reason"), reason_options, key="drill_reason",
                      format_func=lambda r: reason_names.get(r, r) if r else ctx.t("quality.all"))
page_size = settings().page_size
with ctx.db.cursor() as cur:
    total = engine.count_failing(cur, field, reason=reason or None, source=source or None)
    st.caption(tr("quality.total", n=f"{total:,}"))
    offset = pager(total, page_size, key="drill_page")
    rows = engine.failing_records(cur, field, reason=reason or None, source=source or None,
                                       limit=page_size, offset=offset)
drill = {"field": field, "reason": reason or None, "source": source or None}
revealed = ctx.reveal("drill_reveal", "failing_records", field, {**drill, "offset": offset})
if not revealed:
    rows = ctx.mask(rows, {"raw_value": field, "standardized_value": field}, keep=DRILL_KEEP)
table(rows)


def export(kind: str):
    def build() -> bytes:
        with ctx.db.cursor() as cur:
            frame = engine.failing_records(cur, field, reason=reason or None, source=source or None, limit=None)
        if revealed:
            audit.log(ctx.db, ctx.user.username, "pii.reveal", "failing_records", field,
                      {**drill, "download": kind, "rows": len(frame), "reason": revealed})
        else:
            frame = ctx.mask(frame, {"raw_value": field, "standardized_value": field}, keep=DRILL_KEEP)
        return tabular.to_csv_bytes(frame) if kind == "csv" else tabular.to_xlsx_bytes(frame)
    return build


c1, c2 = st.columns(2)
c1.download_button(tr("quality.download_csv"), data=export("csv"), file_name=f"failing-{field}.csv", mime="text/csv",
                   on_click="ignore", key="drill_csv")
c2.download_button(tr("quality.download_xlsx"), data=export("xlsx"), file_name=f"failing-{field}.xlsx",
                   mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", on_click="ignore",
                   key="drill_xlsx")
