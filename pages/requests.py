"""Data-subject requests: the inbox, identity check, access package, deletion, correction, withdrawal."""
import streamlit as st

from governance import pipeline
from governance.privacy import dsr, suppression
from governance.store.errors import GovernanceError
from governance.store.schema import FIELD_NAMES
from governance.ui.guard import require
from governance.ui.session import show_error, tr
from governance.ui.widgets import table

ctx = require("dsr.manage")
st.title(tr("page.requests"))
st.caption(tr("dsr.intro"))


def masked_name(value):
    return value if value == dsr.ERASED else ctx.mask_value("name", value)


def masked(frame):
    out = frame.copy()
    out["requester"] = out["requester"].map(masked_name)
    return out


with st.expander(tr("dsr.new"), expanded=False):
    with st.form("dsr_new", clear_on_submit=True):
        c1, c2 = st.columns(2)
        request_type = c1.selectbox(tr("dsr.type"), dsr.TYPES, format_func=lambda v: ctx.t(f"dsr.type.{v}"),
                                    key="dsr_new_type")
        requester = c2.text_input(tr("dsr.requester"), key="dsr_new_requester")
        received = c1.date_input(tr("dsr.received"))
        oneid_text = c2.text_input(tr("dsr.oneid"), key="dsr_new_oneid")
        st.caption(tr("dsr.identifiers_help"))
        c3, c4, c5 = st.columns(3)
        mobile = c3.text_input(tr("dsr.mobile"), type="password", key="dsr_new_mobile")
        id_card = c4.text_input(tr("dsr.id_card"), type="password")
        email = c5.text_input(tr("dsr.email"), type="password")
        submitted = st.form_submit_button(tr("dsr.create"), type="primary")
    if submitted:
        try:
            new_id = dsr.create(ctx.db, ctx.user.username, request_type, requester, received_on=received,
                                oneids=[oneid_text] if oneid_text.strip() else None,
                                identifiers={"mobile": mobile, "id_card": id_card, "email": email})
            with ctx.db.cursor() as cur:
                created = dsr.get(cur, new_id)
            st.success(tr("dsr.created", id=new_id, due=created.due_on, n=len(created.oneids)))
        except GovernanceError as exc:
            show_error(exc)

status = st.selectbox(tr("dsr.filter"), ["", *dsr.STATUSES], key="dsr_status",
                      format_func=lambda v: ctx.t(f"dsr.status.{v}") if v else ctx.t("dsr.all"))
with ctx.db.cursor() as cur:
    inbox = dsr.requests_frame(cur, status or None)
st.subheader(tr("dsr.inbox"))
if inbox.empty:
    st.info(tr("dsr.empty"))
    st.stop()
overdue = int(inbox["overdue"].fillna(False).sum())
if overdue:
    st.warning(tr("dsr.overdue", n=overdue))
table(masked(inbox))

labels = {int(r.request_id): f"#{r.request_id} · {ctx.t('dsr.type.' + r.request_type)}" for r in inbox.itertuples()}
request_id = st.selectbox(tr("dsr.pick"), list(labels), format_func=labels.get, key="dsr_pick")
with ctx.db.cursor() as cur:
    req = dsr.get(cur, request_id)
st.subheader(f"{labels[request_id]} · {ctx.t('dsr.status.' + req.status)}")
c = st.columns(4)
c[0].metric(tr("dsr.status"), ctx.t(f"dsr.status.{req.status}"))
c[1].metric(tr("dsr.due"), str(req.due_on))
c[2].metric(tr("dsr.requester"), masked_name(req.requester) or "—")
c[3].metric(tr("dsr.oneids"), ", ".join(req.oneids) or "—")
if req.identity_check:
    st.caption(tr("dsr.identity_note", note=req.identity_check))
if req.response:
    st.caption(tr("dsr.response_note", note=req.response))
is_open = req.status in dsr.OPEN
with ctx.db.cursor() as cur:
    person = dsr.golden_summary(cur, req.oneids)
if not person.empty:
    table(ctx.mask(person, {c: c for c in person.columns}, keep={"oneid"}))

if is_open and not req.oneids:
    st.markdown(f"**{tr('dsr.lookup')}**")
    c1, c2 = st.columns(2)
    look_mobile = c1.text_input(tr("dsr.mobile"), type="password", key="dsr_look_mobile")
    look_id = c2.text_input(tr("dsr.id_card"), type="password", key="dsr_look_id")
    with ctx.db.cursor() as cur:
        candidates = dsr.find_oneids(cur, {"mobile": look_mobile, "id_card": look_id})
    if candidates:
        chosen = st.multiselect(tr("dsr.oneids"), candidates, default=candidates, key="dsr_look_pick",
                                placeholder=tr("common.choose_many"))
        if st.button(tr("dsr.link"), key="dsr_link"):
            dsr.link(ctx.db, ctx.user.username, request_id, chosen)
            st.rerun()
    elif look_mobile or look_id:
        st.info(tr("dsr.none_found"))

if req.status in ("received", "verified"):
    note = st.text_input(tr("dsr.identity_check"), key="dsr_identity")
    if st.button(tr("dsr.verify"), key="dsr_verify"):
        try:
            dsr.verify(ctx.db, ctx.user.username, request_id, note)
            st.rerun()
        except GovernanceError as exc:
            show_error(exc)

if req.status in ("verified", "in_progress") and req.oneids:
    st.markdown(f"**{tr('dsr.act')}**")
    if req.request_type == "access":
        if st.button(tr("dsr.package"), key="dsr_access"):
            files = dsr.access_package(ctx.db, ctx.user.username, request_id)
            st.session_state["dsr_package"] = (request_id, dsr.package_zip(files))
        ready = st.session_state.get("dsr_package")
        if ready and ready[0] == request_id:
            st.download_button(tr("dsr.download"), ready[1], file_name=f"access-request-{request_id}.zip",
                               mime="application/zip", key="dsr_download", on_click="ignore")
    elif req.request_type == "deletion":
        st.warning(tr("dsr.delete_warning", oneids=", ".join(req.oneids)))
        confirm = st.checkbox(tr("dsr.delete_confirm"), key="dsr_delete_confirm")
        if st.button(tr("dsr.delete"), key="dsr_delete", type="primary", disabled=not confirm):
            try:
                result = pipeline.delete_person(ctx.db, ctx.user.username, request_id)
                st.session_state["dsr_deleted"] = tr("dsr.deleted", records=result.records,
                                                     tombstone=result.tombstone_id)
                st.rerun()
            except GovernanceError as exc:
                show_error(exc)
    elif req.request_type == "correction":
        c1, c2 = st.columns(2)
        field = c1.selectbox(tr("dsr.field"), FIELD_NAMES, key="dsr_field")
        value = c2.text_input(tr("dsr.value"), key="dsr_value")
        reason = st.text_input(tr("dsr.reason"), key="dsr_reason")
        if st.button(tr("dsr.correct"), key="dsr_correct"):
            try:
                override_id = pipeline.correct(ctx.db, ctx.user.username, request_id, field, value, reason)
                st.success(tr("dsr.corrected", id=override_id))
            except ImportError:
                st.error(tr("dsr.no_overrides"))
            except GovernanceError as exc:
                show_error(exc)
    elif req.request_type == "withdrawal":
        purpose = st.text_input(tr("dsr.purpose"), value="marketing", key="dsr_purpose")
        if st.button(tr("dsr.withdraw"), key="dsr_withdraw"):
            try:
                dsr.withdraw(ctx.db, ctx.user.username, request_id, purpose)
                st.success(tr("dsr.withdrawn_ledger"))
            except GovernanceError as exc:
                show_error(exc)

if st.session_state.get("dsr_deleted"):
    st.success(st.session_state.pop("dsr_deleted"))

if is_open:
    with st.form("dsr_close"):
        response = st.text_area(tr("dsr.response"), key="dsr_response")
        c1, c2 = st.columns(2)
        done = c1.form_submit_button(tr("dsr.close"), disabled=req.status not in ("verified", "in_progress"))
        refuse = c2.form_submit_button(tr("dsr.reject"))
    if done or refuse:
        try:
            (dsr.close if done else dsr.reject)(ctx.db, ctx.user.username, request_id, response)
            st.rerun()
        except GovernanceError as exc:
            show_error(exc)

st.subheader(tr("dsr.tombstones"))
st.caption(tr("dsr.tombstones_help"))
with ctx.db.cursor() as cur:
    stones = suppression.tombstones(cur)
    by_batch = suppression.suppressed_by_batch(cur)
if stones.empty:
    st.caption(tr("dsr.no_tombstones"))
else:
    table(stones)
    if not by_batch.empty:
        table(by_batch)
    active = stones[stones["lifted_at"].isna()]["tombstone_id"].astype(int).tolist()
    if active:
        c1, c2 = st.columns([1, 3])
        stone = c1.selectbox(tr("dsr.tombstone"), active, key="dsr_tombstone")
        lift_reason = c2.text_input(tr("dsr.lift_reason"), key="dsr_lift_reason")
        c1, c2 = st.columns(2)
        if c1.button(tr("dsr.lift"), key="dsr_lift"):
            try:
                st.success(tr("dsr.lifted", n=pipeline.lift_tombstone(ctx.db, ctx.user.username, int(stone), lift_reason)))
            except GovernanceError as exc:
                show_error(exc)
        if c2.button(tr("dsr.purge"), key="dsr_purge"):
            deleted = suppression.purge(ctx.db, ctx.user.username, int(stone))
            st.success(tr("dsr.purged", n=deleted.get("raw", 0)))
