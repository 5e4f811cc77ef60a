"""Home: the workspace at a glance."""
import streamlit as st

from governance import pipeline
from governance.ui import charts, scorecard
from governance.ui.guard import require
from governance.ui.session import tr
from governance.ui.widgets import table

ctx = require("home.view")

st.title(tr("page.home"))
with ctx.db.cursor() as cur:
    info = pipeline.overview(cur)

cols = st.columns(4)
for col, key in zip(cols, ("sources", "batches", "rows", "users")):
    col.metric(tr(f"home.{key}"), f"{info[key]:,}")

if not info["batches"]:
    st.info(tr("home.empty"))
    st.stop()

cols = st.columns(4)
cols[0].metric(tr("home.score"), "—" if info["score"] is None else f"{info['score']:.1f}")
cols[1].metric(tr("home.oneids"), f"{info['oneids']:,}")
cols[2].metric(tr("home.to_review"), f"{info['to_review']:,}")
cols[3].metric(tr("home.open_requests"), f"{info['open_requests']:,}",
               delta=tr("home.overdue", n=info["overdue_requests"]) if info["overdue_requests"] else None,
               delta_color="inverse")

st.plotly_chart(charts.rows_by_channel(info["by_channel"], ctx.lang, tr("home.rows_by_channel")), width="stretch")
scorecard.panel(ctx)
st.subheader(tr("home.recent_batches"))
table(info["recent"])
st.caption(tr("home.pii_note"))
