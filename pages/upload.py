"""Upload & map: load a channel export as a new batch and confirm its field mapping."""
from pathlib import Path

import streamlit as st

from governance import pipeline
from governance.sources import catalogue, ingest
from governance.sources.readers import ENCODINGS, SUPPORTED
from governance.store.schema import CHANNELS, channel_label
from governance.ui import jobs, uploads
from governance.ui.actions import progress_bar, run_step
from governance.ui.guard import require
from governance.ui.session import settings, tr
from governance.ui.widgets import mapping_editor, table

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

# Any type is accepted here, so that another type is refused in the UI language (Streamlit's own
# refusal is an English tooltip); such a file is never staged or stored.
uploaded = st.file_uploader(tr("upload.file"), max_upload_size=settings().max_upload_mb, key="upload_file")
encoding = st.selectbox(tr("upload.encoding"), ["auto", *ENCODINGS], key="upload_encoding",
                        format_func=lambda e: ctx.t("upload.encoding_auto") if e == "auto" else e)
if uploaded is None:
    uploads.discard()  # the uploader cleared: its staged file goes too
    st.stop()
suffix = Path(uploaded.name).suffix.lower()
if suffix not in SUPPORTED:
    uploads.discard()
    st.error(tr("upload.unsupported", ext=suffix or uploaded.name,
                types=("、" if ctx.lang == "zh" else ", ").join(ext.lstrip(".") for ext in SUPPORTED)))
    st.stop()
if jobs.upload_started(uploaded.file_id):  # just loaded: the pipeline goes on in the background
    st.stop()
if not source:
    st.warning(tr("upload.source_required"))
    st.stop()

plan = run_step(ingest.prepare, ctx.db, uploads.stage(uploaded), file_name=uploaded.name, source=source, channel=channel,
                encoding=None if encoding == "auto" else encoding, sheet=st.session_state.get("upload_sheet"))
if plan is None:
    st.stop()
fp = plan.file
if fp.sheets:
    st.selectbox(tr("upload.sheet"), fp.sheets, key="upload_sheet")
st.info(tr("upload.detected", format=(fp.file_format or "—").upper(), encoding=fp.encoding or "—", columns=fp.column_count,
           line=fp.header_line or "—"))
if fp.header_changes:
    st.warning(tr("upload.header_changes"))
    table(plan.header_changes())
force = False
if plan.duplicate_of:
    st.warning(tr("upload.duplicate", batch=plan.duplicate_of))
    force = st.checkbox(tr("upload.force"), key="upload_force")

preview = plan.preview()
st.caption(tr("upload.preview", n=len(preview)))
table(ctx.mask(preview, plan.mapping()))

st.subheader(tr("upload.mapping"))
mapping = mapping_editor(plan.mapping_table(ctx.mask_value), key=f"upload_mapping_{uploaded.file_id}", lang=ctx.lang)
st.caption(tr("upload.unmapped_note"))

if st.button(tr("upload.confirm"), type="primary", key="upload_confirm", disabled=bool(plan.duplicate_of and not force)):
    bar, progress = progress_bar(tr("upload.loading"), lambda stage: f"{tr('upload.loading')} {stage}")
    loaded = run_step(pipeline.load_file, ctx.db, ctx.user.username, plan, force=force, mapping=mapping,
                      progress=progress, on_error=bar.empty)
    if loaded is not None:
        uploads.discard()
        # profile, resolve and golden records follow as one background job; the page runs again to say so
        jobs.start_after_upload(ctx, uploaded.file_id, loaded.ingested.batch_id, loaded.ingested.rows,
                                loaded.ingested.columns, sum(1 for f in loaded.ingested.mapping.values() if f),
                                loaded.standardized.suppressed)
