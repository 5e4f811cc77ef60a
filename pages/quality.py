"""Quality: scores, heatmap, reasons, trends, duplicates, before/after, rule results and failing records."""
import streamlit as st

from governance.i18n import column_label
from governance.jobs import kinds
from governance.quality import drill, profile
from governance.store import tabular
from governance.ui import jobs
from governance.ui import quality as sections
from governance.ui.actions import show_flash
from governance.ui.guard import require
from governance.ui.session import settings, tr
from governance.ui.widgets import pager, table

ctx = require("quality.view")
st.title(tr("page.quality"))

show_flash()
if ctx.can("quality.run"):
    busy = jobs.running(ctx, "refresh_quality", "after_upload")
    if st.button(tr("quality.run"), type="primary", key="quality_run", disabled=busy,
                 help=tr("jobs.busy") if busy else None):
        jobs.start(ctx, kinds.refresh_quality)

with ctx.db.cursor() as cur:
    report = profile.latest_report(cur)
if report is None:
    st.info(tr("quality.none"))
    st.stop()

labels = {f: column_label(f, ctx.lang) for f in report.fields["field"].unique()}
reason_names = drill.reason_names(ctx.lang)
scope = sections.scope_picker(ctx, report)  # every chart and table below, for the source in hand
shown = report.for_source(scope)
sections.headline(report, shown, scope)
flagged = report.flagged_sources()
if flagged:
    st.warning(tr("quality.flagged", sources=", ".join(flagged)))
sections.overview(ctx, shown, labels, reason_names)

st.subheader(tr("quality.drill"))
c1, c2, c3 = st.columns(3)
source = c1.selectbox(tr("quality.source"), ["", *report.sources["source"].tolist()], key="drill_source",
                      format_func=lambda s: s or ctx.t("quality.all"))
field = c2.selectbox(tr("quality.field"), report.field_names(), key="drill_field", format_func=lambda f: labels.get(f, f))
reason_options = ["", *report.reasons_of(field, source or None)]
if st.session_state.get("drill_reason") not in reason_options:
    st.session_state["drill_reason"] = ""
reason = c3.selectbox(tr("quality.reason"), reason_options, key="drill_reason",
                      format_func=lambda r: reason_names.get(r, r) if r else ctx.t("quality.all"))
selected = drill.Drill(field, reason or None, source or None)
page_size = settings().page_size
with ctx.db.cursor() as cur:
    total = drill.count(cur, selected)
    st.caption(tr("quality.total", n=f"{total:,}"))
    offset = pager(total, page_size, key="drill_page")
    rows = drill.records(cur, selected, limit=page_size, offset=offset)
revealed = ctx.reveal("drill_reveal", "failing_records", field, {**selected.detail(), "offset": offset})
table(sections.blank_missing(rows if revealed else drill.mask(rows, selected, ctx.user.role, ctx.masking_policy)))


def download(kind: str):
    return lambda: drill.download(ctx.db, ctx.user.username, selected, kind, role=ctx.user.role,
                                  policy=ctx.masking_policy, revealed=revealed, lang=ctx.lang)


def file_name(kind: str) -> str:
    return tr("files.failing_file", field=labels.get(field, field), ext=kind)


c1, c2 = st.columns(2)
c1.download_button(tr("quality.download_csv"), data=download("csv"), file_name=file_name("csv"), mime="text/csv",
                   on_click="ignore", key="drill_csv")
c2.download_button(tr("quality.download_xlsx"), data=download("xlsx"), file_name=file_name("xlsx"),
                   mime=tabular.MIME["xlsx"], on_click="ignore", key="drill_xlsx")
