"""Upload & map: load a channel export as a new batch and confirm its field mapping."""
import pandas as pd
import streamlit as st

from governance import pipeline
from governance.sources import catalogue, ingest
from governance.sources.readers import ENCODINGS
from governance.store.errors import GovernanceError
from governance.store.schema import CHANNELS, channel_label
from governance.ui.guard import require
from governance.ui.session import settings, show_error, tr
from governance.ui.widgets import discard_upload, field_options, stage_upload, table

ctx = require("ingest.upload")
st.title(tr("page.upload"))

with ctx.db.cursor() as cur:
    known = catalogue.catalogue(cur)[["source", "channel"]]
modes = ["existing", "new"] if not known.empty else ["new"]
mode = st.radio(tr("upload.source_mode"), modes, horizontal=True, key="upload_mode",
                format_func=lambda m: ctx.t(f"upload.{m}"))
if mode == "existing":
    source = st.selectbox(tr("upload.source_name"), known["source"].tolist(), key="upload_source")
    channel = known.set_index("source").loc[source, "channel"]
else:
    source = st.text_input(tr("upload.source_name"), key="upload_new_source").strip()
    channel = st.selectbox(tr("upload.channel"), list(CHANNELS), key="upload_channel",
                           format_func=lambda c: channel_label(c, ctx.lang))

limit_mb = settings().max_upload_mb
uploaded = st.file_uploader(tr("upload.file"), type=["csv", "tsv", "txt", "xlsx", "xlsm", "jsonl", "ndjson", "json", "parquet"],
                            max_upload_size=limit_mb, key="upload_file")
encoding = st.selectbox(tr("upload.encoding"), ["auto", *ENCODINGS], key="upload_encoding",
                        format_func=lambda e: ctx.t("upload.encoding_auto") if e == "auto" else e)
if uploaded is None:
    st.stop()
if not source:
    st.warning(tr("upload.source_required"))
    st.stop()

try:
    path = stage_upload(uploaded)
    sheet = st.session_state.get("upload_sheet")
    plan = ingest.prepare(ctx.db, path, file_name=uploaded.name, source=source, channel=channel,
                          encoding=None if encoding == "auto" else encoding, sheet=sheet)
except GovernanceError as exc:
    show_error(exc)
    st.stop()

fp = plan.file
if fp.sheets:
    st.selectbox(tr("upload.sheet"), fp.sheets, key="upload_sheet")
st.info(tr("upload.detected", format=fp.file_format, encoding=fp.encoding or "—", columns=fp.column_count,
           line=fp.header_line or "—"))
if fp.header_changes:
    st.warning(tr("upload.header_changes"))
    table(pd.DataFrame([vars(c) for c in fp.header_changes]))
force = False
if plan.duplicate_of:
    st.warning(tr("upload.duplicate", batch=plan.duplicate_of))
    force = st.checkbox(tr("upload.force"), key="upload_force")

suggested = {s.header: s.field for s in plan.suggestions}
preview = pd.DataFrame(fp.preview[:10], columns=fp.headers)
st.caption(tr("upload.preview", n=len(preview)))
table(ctx.mask(preview, suggested))

st.subheader(tr("upload.mapping"))
options, labels = field_options(ctx.lang)
mapping_table = pd.DataFrame({
    "column": fp.headers,
    "sample": [ctx.mask_value(suggested.get(h), next(iter(fp.column_values(i)), None)) for i, h in enumerate(fp.headers)],
    "field": [s.field or "" for s in plan.suggestions],
    "confidence": [s.confidence for s in plan.suggestions],
    "method": [s.method for s in plan.suggestions],
})
edited = st.data_editor(
    mapping_table, hide_index=True, width="stretch", disabled=["column", "sample", "confidence", "method"],
    key=f"upload_mapping_{uploaded.file_id}",
    column_config={
        "column": st.column_config.TextColumn(tr("upload.col.header")),
        "sample": st.column_config.TextColumn(tr("upload.col.sample")),
        "field": st.column_config.SelectboxColumn(tr("upload.col.field"), options=options, required=False,
                                                      format_func=labels.get),
        "confidence": st.column_config.ProgressColumn(tr("upload.col.confidence"), min_value=0.0, max_value=1.0, format="percent"),
        "method": st.column_config.TextColumn(tr("upload.col.method")),
    })
st.caption(tr("upload.unmapped_note"))

if st.button(tr("upload.confirm"), type="primary", key="upload_confirm", disabled=bool(plan.duplicate_of and not force)):
    bar = st.progress(0.0, text=tr("upload.loading"))
    try:
        loaded = pipeline.load_file(ctx.db, ctx.user.username, plan, force=force,
                                    mapping={row.column: (row.field or None) for row in edited.itertuples()},
                                    progress=lambda fraction, stage: bar.progress(fraction, text=f"{tr('upload.loading')} {stage}"))
    except GovernanceError as exc:
        bar.empty()
        show_error(exc)
        st.stop()
    discard_upload(uploaded)
    result, standardized = loaded.ingested, loaded.standardized
    mapped = sum(1 for f in result.mapping.values() if f)
    st.success(tr("upload.done", batch=result.batch_id, rows=f"{result.rows:,}", columns=result.columns, mapped=mapped))
    if standardized.suppressed:
        st.warning(tr("upload.suppressed", n=standardized.suppressed))
