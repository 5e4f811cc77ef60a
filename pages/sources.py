"""Sources: the catalogue, each source's batches, mapping (editable by stewards) and raw rows."""
import pandas as pd
import streamlit as st

from governance.sources import catalogue, mapping
from governance.standardize import engine
from governance.ui.actions import run_step
from governance.ui.guard import require
from governance.ui.session import settings, tr
from governance.ui.widgets import mapping_editor, pager, table

ctx = require("sources.view")
st.title(tr("page.sources"))
can_edit = ctx.can("mapping.edit")

with ctx.db.cursor() as cur:
    listing = catalogue.catalogue(cur)
if listing.empty:
    st.info(tr("sources.none"))
    st.stop()
st.subheader(tr("sources.catalogue"))
table(catalogue.display(listing, ctx.lang))

source = st.selectbox(tr("sources.pick"), listing["source"].tolist(), key="sources_pick")
with ctx.db.cursor() as cur:
    batch_list = catalogue.batches(cur, source)
    saved = mapping.load(cur, source)
    version = mapping.current_version(cur, source)
    headers = mapping.source_headers(cur, source)
    versions = mapping.history(cur, source)

if can_edit:
    current = listing.set_index("source").loc[source, "steward"]
    steward = st.text_input(tr("sources.steward"), value=current if isinstance(current, str) else "",
                            key=f"sources_steward_{source}")
    if st.button(tr("sources.set_steward"), key="sources_set_steward"):
        catalogue.set_steward(ctx.db, ctx.user.username, source, steward.strip())
        st.rerun()
    with ctx.db.cursor() as cur:
        zero = engine.gender_zero(cur, source)
    chosen = st.selectbox(tr("quality.gender_zero"), engine.GENDER_ZERO, index=engine.GENDER_ZERO.index(zero),
                          key=f"sources_gender_zero_{source}", format_func=lambda z: ctx.t(f"gender_zero.{z}"))
    if chosen != zero:
        engine.set_gender_zero(ctx.db, ctx.user.username, source, chosen)

st.subheader(tr("sources.batches"))
table(batch_list)

st.subheader(tr("sources.mapping", version=version))
edited = mapping_editor(pd.DataFrame({"column": headers, "field": [saved.get(h) or "" for h in headers]}),
                        key=f"mapping_editor_{source}_{version}", lang=ctx.lang, editable=can_edit)
if can_edit and st.button(tr("sources.save_mapping"), key="save_mapping"):
    run_step(mapping.update, ctx.db, ctx.user.username, source, edited, rerun=True,
             success=lambda new: tr("sources.saved_mapping", version=new))
with st.expander(tr("sources.mapping_history")):
    table(versions)

if batch_list.empty:
    st.stop()
batch_id = int(st.selectbox(tr("sources.batches"), batch_list["batch_id"].tolist(), key="sources_batch"))
total = int(batch_list.loc[batch_list["batch_id"] == batch_id, "row_count"].iloc[0])
st.subheader(tr("sources.preview", batch=batch_id))
page_size = settings().page_size
offset = pager(total, page_size, key=f"sources_page_{batch_id}")
with ctx.db.cursor() as cur:
    rows = catalogue.preview_rows(cur, batch_id, page_size, offset)
if not ctx.reveal("sources_reveal", "batch", batch_id, {"offset": offset, "rows": len(rows)}):
    rows = ctx.mask(rows, saved, keep={"#"})
table(rows)
