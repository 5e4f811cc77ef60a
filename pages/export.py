"""Export (steward/admin): golden records, the crosswalk or lineage as CSV, XLSX or Parquet, masked by
default, purpose-bound, with a row count first, progress, and a manifest for every file."""
import json

import streamlit as st

from governance.exports import datasets
from governance.i18n import column_choice
from governance.jobs import kinds
from governance.store.tabular import FORMATS, MIME
from governance.ui import export as sections
from governance.ui import jobs
from governance.ui.actions import run_step
from governance.ui.guard import require
from governance.ui.session import tr
from governance.ui.widgets import table

ctx = require("export.run")
st.title(tr("page.export"))

c1, c2 = st.columns(2)
dataset = c1.selectbox(tr("export.dataset"), datasets.DATASETS, format_func=lambda d: ctx.t(f"export.dataset_{d}"),
                       key="export_dataset")
fmt = c2.selectbox(tr("export.format"), FORMATS, format_func=str.upper, key="export_format")
available = datasets.columns(dataset)
fields = st.multiselect(tr("export.fields"), available, default=available, key=f"export_fields_{dataset}",
                        placeholder=tr("common.choose_many"), format_func=lambda c: column_choice(c, ctx.lang))
with ctx.db.cursor() as cur:
    province_options = run_step(datasets.provinces, cur)
if province_options is None:
    st.stop()

flt = sections.filters(ctx, province_options)
purpose = sections.purpose(ctx)
unmasked = ctx.can("pii.unmasked") and st.toggle(tr("export.unmasked"), key="export_unmasked")
st.caption(tr("export.rules_note"))
labelled = sections.labels(ctx, fmt)
request = datasets.ExportRequest(dataset, ctx.user.username, format=fmt, fields=tuple(fields), filter=flt,
                                 masked=not unmasked, purpose=purpose, role=ctx.user.role, labels=labelled, lang=ctx.lang)

blocked = tr("export.no_fields") if not fields else tr("export.needs_purpose") if unmasked and not purpose else None
if blocked:
    st.warning(blocked)
else:
    with ctx.db.cursor() as cur:
        st.metric(tr("export.rows"), f"{datasets.count_rows(cur, request):,}")

# The export runs as a background job; the page follows this user's latest one (it survives navigation).
preparing = kinds.latest_of(ctx.db, "export", ctx.user.username, active=True) is not None
if st.button(tr("export.prepare"), type="primary", disabled=bool(blocked) or preparing, key="export_prepare"):
    if run_step(kinds.export, ctx.db, request) is not None:
        st.rerun()  # the job panel and the progress below show it from the next run on


def rows_written(job) -> str:
    total = int(job.result.get("rows_total") or 0)
    if job.status == "queued":
        return tr("jobs.stage.queued")
    return tr("export.progress", done=f"{round(job.progress * total):,}", total=f"{total:,}")


finished = jobs.follow(lambda: kinds.latest_of(ctx.db, "export", ctx.user.username), rows_written)
path = kinds.result_file(ctx.db, finished, ctx.user.username, ctx.user.role)  # from the job row, never the client
if finished is not None and path is not None:
    st.success(tr("export.ready", file=path.name))
    # A callable: the file is read only when the user clicks, never kept in the session.
    st.download_button(tr("export.download"), data=path.read_bytes, file_name=path.name,
                       mime=MIME[finished.result["format"]], on_click="ignore", key="export_download")
    with st.expander(tr("export.manifest")):
        st.code(json.dumps(finished.result["manifest"], ensure_ascii=False, indent=2), language="json")

st.subheader(tr("export.recent"))
with ctx.db.cursor() as cur:
    table(datasets.manifests(cur, limit=20))
