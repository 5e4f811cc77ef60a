"""Home: the workspace at a glance."""
import streamlit as st

from governance import charts, sources
from governance.ui.guard import require
from governance.ui.session import tr
from governance.ui.widgets import table

ctx = require("home.view")

st.title(tr("page.home"))
with ctx.db.cursor() as cur:
    info = sources.overview(cur)

cols = st.columns(4)
for col, key in zip(cols, ("sources", "batches", "rows", "users")):
    col.metric(tr(f"home.{key}"), f"{info[key]:,}")

if not info["batches"]:
    st.info(tr("home.empty"))
    st.stop()

st.plotly_chart(charts.rows_by_channel(info["by_channel"], ctx.lang, tr("home.rows_by_channel")), width="stretch")
st.subheader(tr("home.recent_batches"))
table(info["recent"])
st.caption(tr("home.pii_note"))
