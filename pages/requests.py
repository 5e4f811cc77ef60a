"""Data-subject requests: the inbox, identity check, access package, deletion, correction, withdrawal."""
import streamlit as st

from governance.privacy import dsr
from governance.ui import requests as sections
from governance.ui.actions import run_step, show_flash
from governance.ui.guard import require
from governance.ui.session import tr
from governance.ui.widgets import table

ctx = require("dsr.manage")
st.title(tr("page.requests"))
st.caption(tr("dsr.intro"))
sections.new_request_form(ctx)

status = st.selectbox(tr("dsr.filter"), ["", *dsr.STATUSES], key="dsr_status",
                      format_func=lambda v: ctx.t(f"dsr.status.{v}") if v else ctx.t("dsr.all"))
with ctx.db.cursor() as cur:
    inbox = dsr.requests_frame(cur, status or None)
st.subheader(tr("dsr.inbox"))
if inbox.empty:
    st.info(tr("dsr.empty"))
    st.stop()
overdue = dsr.overdue_count(inbox)
if overdue:
    st.warning(tr("dsr.overdue", n=overdue))
table(dsr.masked_inbox(inbox, ctx.user.role, ctx.masking_policy))

labels = dsr.request_labels(inbox, ctx.lang)
request_id = st.selectbox(tr("dsr.pick"), list(labels), format_func=labels.get, key="dsr_pick")
with ctx.db.cursor() as cur:
    req = dsr.get(cur, request_id)
    person = dsr.golden_summary(cur, req.oneids)
st.subheader(f"{labels[request_id]} · {ctx.t('dsr.status.' + req.status)}")
c = st.columns(4)
c[0].metric(tr("dsr.status"), ctx.t(f"dsr.status.{req.status}"))
c[1].metric(tr("dsr.due"), str(req.due_on))
c[2].metric(tr("dsr.requester"), dsr.masked_requester(req.requester, ctx.user.role, ctx.masking_policy) or "—")
c[3].metric(tr("dsr.oneids"), ", ".join(req.oneids) or "—")
if req.identity_check:
    st.caption(tr("dsr.identity_note", note=req.identity_check))
if req.response:
    st.caption(tr("dsr.response_note", note=req.response))
if not person.empty:
    table(ctx.mask(person, {c: c for c in person.columns}, keep={"oneid"}))

is_open = req.status in dsr.OPEN
if is_open and not req.oneids:
    sections.link_oneids(ctx, req)
if req.status in ("received", "verified"):
    note = st.text_input(tr("dsr.identity_check"), key="dsr_identity")
    if st.button(tr("dsr.verify"), key="dsr_verify"):
        run_step(dsr.verify, ctx.db, ctx.user.username, request_id, note, rerun=True)
if req.status in ("verified", "in_progress") and req.oneids:
    sections.act(ctx, req)
show_flash()  # the erasure's outcome, after its rerun

if is_open:
    with st.form("dsr_close"):
        response = st.text_area(tr("dsr.response"), key="dsr_response")
        c1, c2 = st.columns(2)
        done = c1.form_submit_button(tr("dsr.close"), disabled=req.status not in ("verified", "in_progress"))
        refuse = c2.form_submit_button(tr("dsr.reject"))
    if done or refuse:
        run_step(dsr.close if done else dsr.reject, ctx.db, ctx.user.username, request_id, response, rerun=True)

sections.tombstones(ctx)
