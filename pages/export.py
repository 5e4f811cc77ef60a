"""Export (steward/admin): golden records, the crosswalk or lineage as CSV, XLSX or Parquet, masked by
default, purpose-bound, with a row count first, progress, and a manifest for every file."""
import streamlit as st

from governance.exports import datasets
from governance.i18n import column_choice
from governance.store.tabular import FORMATS
from governance.ui import export as sections
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

flt = sections.filters(ctx, province_options, dataset)
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

sections.prepare_and_download(ctx, request, disabled=bool(blocked))  # a background job; its file from the job row

st.subheader(tr("export.recent"))
with ctx.db.cursor() as cur:
    table(datasets.manifests(cur, limit=20))
