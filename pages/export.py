"""Export (steward/admin): golden records, the crosswalk or lineage as CSV, XLSX or Parquet, masked by
default, purpose-bound, with a row count first, progress, and a manifest for every file."""
from datetime import datetime
from pathlib import Path

import streamlit as st

from governance.exports import datasets
from governance.i18n import column_choice
from governance.privacy import consent
from governance.store.errors import GovernanceError
from governance.store.schema import CHANNELS, channel_label
from governance.store.tabular import FORMATS, MIME
from governance.ui.guard import require
from governance.ui.session import show_error, tr
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

try:
    with ctx.db.cursor() as cur:
        province_options = datasets.provinces(cur)
except GovernanceError as exc:
    show_error(exc)
    st.stop()

with st.expander(tr("export.filters"), expanded=False):
    f1, f2 = st.columns(2)
    channels = f1.multiselect(tr("export.channels"), list(CHANNELS), format_func=lambda c: channel_label(c, ctx.lang),
                              key="export_channels", placeholder=tr("common.choose_many"))
    chosen_provinces = f2.multiselect(tr("export.provinces"), province_options, key="export_provinces",
                                      placeholder=tr("common.choose_many"))
    consent_filter = f1.selectbox(tr("export.consent"), ["", *consent.ALL_PURPOSES],
                                  format_func=lambda p: ctx.t(f"consent.purpose_{p}") if p else ctx.t("export.any"),
                                  key="export_consent")
    min_completeness = f2.slider(tr("export.min_completeness"), 0.0, 1.0, 0.0, 0.05, key="export_completeness")

p1, p2 = st.columns([1, 2])
purpose_kind = p1.selectbox(tr("export.purpose_kind"), ["", *consent.PURPOSES, "other"],
                            format_func=lambda p: ctx.t(f"consent.purpose_{p}") if p in consent.PURPOSES
                            else ctx.t("export.purpose_other") if p else ctx.t("export.purpose_none"),
                            key="export_purpose_kind")
purpose_note = p2.text_input(tr("export.purpose_note"), key="export_purpose_note")
purpose = datasets.compose_purpose(purpose_kind, purpose_note)
unmasked = ctx.can("pii.unmasked") and st.toggle(tr("export.unmasked"), key="export_unmasked")
st.caption(tr("export.rules_note"))

request = datasets.ExportRequest(
    dataset, ctx.user.username, format=fmt, fields=tuple(fields),
    filter=datasets.ExportFilter(tuple(channels), tuple(chosen_provinces), consent_filter or None,
                                min_completeness or None),
    masked=not unmasked, purpose=purpose, role=ctx.user.role)

blocked = None
if not fields:
    blocked = tr("export.no_fields")
elif unmasked and not purpose:
    blocked = tr("export.needs_purpose")
if blocked:
    st.warning(blocked)
else:
    with ctx.db.cursor() as cur:
        rows = datasets.count_rows(cur, request)
    st.metric(tr("export.rows"), f"{rows:,}")

if st.button(tr("export.prepare"), type="primary", disabled=bool(blocked), key="export_prepare"):
    name = f"steward-{dataset}-{datetime.now():%Y%m%d-%H%M%S}-{'masked' if request.masked else 'unmasked'}.{fmt}"
    bar = st.progress(0.0, text=tr("export.progress", done=0, total="…"))

    def progress(done: int, total: int) -> None:
        bar.progress(done / max(total, 1), text=ctx.t("export.progress", done=f"{done:,}", total=f"{total:,}"))

    try:
        manifest = datasets.run_export(ctx.db, request, datasets.export_dir(ctx.db) / name, progress=progress)
        st.session_state["export_ready"] = {"path": str(datasets.export_dir(ctx.db) / name), "format": fmt,
                                            "manifest": manifest.as_json()}
        bar.progress(1.0, text=tr("export.done", rows=f"{manifest.row_count:,}"))
    except GovernanceError as exc:
        show_error(exc)

ready = st.session_state.get("export_ready")
if ready and Path(ready["path"]).is_file():
    path = Path(ready["path"])
    st.success(tr("export.ready", file=path.name))
    # A callable: the file is read only when the user clicks, never kept in the session.
    st.download_button(tr("export.download"), data=path.read_bytes, file_name=path.name, mime=MIME[ready["format"]],
                       on_click="ignore", key="export_download")
    with st.expander(tr("export.manifest")):
        st.code(ready["manifest"], language="json")

st.subheader(tr("export.recent"))
with ctx.db.cursor() as cur:
    table(datasets.manifests(cur, limit=20))
