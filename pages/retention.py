"""Retention: periods per source or purpose, the expiry scan, and erasure after confirmation."""
import streamlit as st

from governance.i18n import value_label
from governance.jobs import kinds
from governance.privacy import retention
from governance.sources import catalogue
from governance.ui import jobs
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


def retention_job():
    """This user's retention job while it waits or runs; once ended, only the one this session started
    (an earlier run is in the runs table below)."""
    job = kinds.latest_of(ctx.db, "retention", ctx.user.username)
    if job is not None and not job.active and job.job_id != st.session_state.get("ret_job"):
        return None
    return job


if not policies.empty:
    st.subheader(tr("retention.scan"))
    ran = jobs.follow(retention_job)  # its progress; a failed one's line
    if ran is not None:
        st.success(tr("retention.applied", run=ran.result.get("run_id"), records=ran.result.get("records")))
    running = kinds.latest_of(ctx.db, "retention", ctx.user.username, active=True) is not None
    with ctx.db.cursor() as cur:
        scans = retention.scan_all(cur)
    table([{**s.summary(), "cutoff": f"{s.cutoff:%Y-%m-%d %H:%M}"} for s in scans])
    due = {f"{s.scope}:{s.target}": s for s in scans if s.records}
    if not due:
        st.success(tr("retention.nothing"))
    else:
        key = st.selectbox(tr("retention.pick"), list(due), key="ret_pick",
                           format_func=lambda k: ctx.t("retention.picked", scope=ctx.t(f"retention.scope.{due[k].scope}"),
                                                       target=str(value_label("purpose", due[k].target, ctx.lang))))
        picked = due[key]
        if picked.scope == "source":
            with ctx.db.cursor() as cur:
                table(retention.expired_records(cur, picked.target))
        job_id = None if running else confirmed_step(
            tr("retention.apply"), kinds.retention, ctx.db, ctx.user.username, picked.scope, picked.target,
            picked.records, key="ret_apply", confirm_key="ret_confirm",
            confirm=tr("retention.confirm", records=picked.records),
            warning=tr("retention.warning", records=picked.records, oneids=picked.oneids, target=picked.target,
                       cutoff=f"{picked.cutoff:%Y-%m-%d %H:%M}"))
        if job_id is not None:  # a background job: its progress and outcome show above from the next run on
            st.session_state["ret_job"] = job_id
            st.rerun()

st.subheader(tr("retention.runs"))
with ctx.db.cursor() as cur:
    table(retention.runs(cur))
