"""Retention: periods per source or purpose, the expiry scan, and erasure after confirmation."""
import streamlit as st

from governance import pipeline
from governance.privacy import retention
from governance.sources import catalogue
from governance.ui.actions import confirmed_step, run_step
from governance.ui.guard import require
from governance.ui.session import tr
from governance.ui.widgets import table

ctx = require("retention.manage")
st.title(tr("page.retention"))
st.caption(tr("retention.intro"))

with ctx.db.cursor() as cur:
    policies = retention.policies(cur)
    source_names = [s["source"] for s in catalogue.as_json(cur)]

st.subheader(tr("retention.policies"))
if policies.empty:
    st.info(tr("retention.none"))
else:
    table(policies)

with st.expander(tr("retention.set"), expanded=policies.empty):
    scope = st.radio(tr("retention.scope"), retention.SCOPES, horizontal=True, key="ret_scope",
                     format_func=lambda v: ctx.t(f"retention.scope.{v}"))
    with st.form("ret_set"):
        if scope == "source":
            target = st.selectbox(tr("retention.target"), source_names, key="ret_source")
        else:
            target = st.text_input(tr("retention.target"), value="marketing")
        days = st.number_input(tr("retention.days"), min_value=1, max_value=36500, value=365, step=1, key="ret_days")
        basis = st.text_input(tr("retention.basis"))
        saved = st.form_submit_button(tr("retention.save"), type="primary")
    if saved:
        run_step(retention.set_policy, ctx.db, ctx.user.username, scope, target or "", int(days), basis, rerun=True)

if not policies.empty:
    st.subheader(tr("retention.scan"))
    with ctx.db.cursor() as cur:
        scans = retention.scan_all(cur)
    table([s.summary() for s in scans])
    due = {f"{s.scope}:{s.target}": s for s in scans if s.records}
    if not due:
        st.success(tr("retention.nothing"))
    else:
        key = st.selectbox(tr("retention.pick"), list(due), key="ret_pick")
        picked = due[key]
        if picked.scope == "source":
            with ctx.db.cursor() as cur:
                table(retention.expired_records(cur, picked.target))
        confirmed_step(tr("retention.apply"), pipeline.apply_retention, ctx.db, ctx.user.username, picked.scope,
                       picked.target, picked.records, key="ret_apply", confirm_key="ret_confirm",
                       confirm=tr("retention.confirm", records=picked.records),
                       warning=tr("retention.warning", records=picked.records, oneids=picked.oneids, target=picked.target,
                                  cutoff=picked.cutoff.isoformat(timespec="seconds")),
                       success=lambda run_id: tr("retention.applied", run=run_id, records=picked.records))

st.subheader(tr("retention.runs"))
with ctx.db.cursor() as cur:
    table(retention.runs(cur))
