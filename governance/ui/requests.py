"""Sections of the Requests page: logging a request, finding its OneIDs, the action of each request
type, and the tombstones of erased people."""
from __future__ import annotations

import streamlit as st

from governance import pipeline
from governance.i18n import column_label, value_label
from governance.jobs import kinds
from governance.privacy import consent, dsr, suppression
from governance.store.schema import FIELD_NAMES
from governance.ui import jobs
from governance.ui.actions import confirmed_step, form_done, kept_form, run_step
from governance.ui.guard import PageContext
from governance.ui.session import tr
from governance.ui.widgets import table


def _created(ctx: PageContext, request_id: int) -> str:
    with ctx.db.cursor() as cur:
        created = dsr.get(cur, request_id)
    return tr("dsr.created", id=request_id, due=created.due_on, n=len(created.oneids))


NEW_REQUEST_TEXTS = ("dsr_new_requester", "dsr_new_oneid", "dsr_new_mobile", "dsr_new_id_card", "dsr_new_email")


def new_request_form(ctx: PageContext) -> None:
    """The 'log a new request' expander."""
    with st.expander(tr("dsr.new"), expanded=False):
        with kept_form("dsr_new", NEW_REQUEST_TEXTS):
            c1, c2 = st.columns(2)
            request_type = c1.selectbox(tr("dsr.type"), dsr.TYPES, format_func=lambda v: ctx.t(f"dsr.type.{v}"),
                                        key="dsr_new_type")
            requester = c2.text_input(tr("dsr.requester"), key="dsr_new_requester")
            received = c1.date_input(tr("dsr.received"))
            oneid_text = c2.text_input(tr("dsr.oneid"), key="dsr_new_oneid")
            st.caption(tr("dsr.identifiers_help"))
            c3, c4, c5 = st.columns(3)
            mobile = c3.text_input(tr("dsr.mobile"), type="password", key="dsr_new_mobile")
            id_card = c4.text_input(tr("dsr.id_card"), type="password", key="dsr_new_id_card")
            email = c5.text_input(tr("dsr.email"), type="password", key="dsr_new_email")
            submitted = st.form_submit_button(tr("dsr.create"), type="primary")
        if submitted:
            new_id = run_step(dsr.create, ctx.db, ctx.user.username, request_type, requester, received_on=received,
                              oneids=[oneid_text] if oneid_text.strip() else None,
                              identifiers={"mobile": mobile, "id_card": id_card, "email": email})
            if new_id is not None:
                form_done("dsr_new", _created(ctx, new_id))


def link_oneids(ctx: PageContext, req: dsr.Request) -> None:
    """Find the OneIDs of a request that has none from the identifiers the requester gives; link them."""
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
            dsr.link(ctx.db, ctx.user.username, req.request_id, chosen)
            st.rerun()
    elif look_mobile or look_id:
        st.info(tr("dsr.none_found"))


def act(ctx: PageContext, req: dsr.Request) -> None:
    """The action of a verified request, by its type: access package, erasure, correction or withdrawal."""
    st.markdown(f"**{tr('dsr.act')}**")
    actor, request_id = ctx.user.username, req.request_id
    if req.request_type == "access":
        # Built by a background job; offered from the job's row to the user who started it.
        building = kinds.package_job(ctx.db, request_id, actor)
        if st.button(tr("dsr.package"), key="dsr_access", disabled=building is not None and building.active):
            if run_step(kinds.dsr_package, ctx.db, actor, request_id) is not None:
                st.rerun()  # the job panel and the progress below show it from the next run on
        built = jobs.follow(lambda: kinds.package_job(ctx.db, request_id, actor))
        path = kinds.result_file(ctx.db, built, actor, ctx.user.role)
        if path is not None:  # read only on the click
            st.download_button(tr("dsr.download_package"), path.read_bytes, file_name=tr("dsr.package_file", id=request_id),
                               mime="application/zip", key="dsr_download", on_click="ignore")
    elif req.request_type == "deletion":
        confirmed_step(tr("dsr.delete"), pipeline.delete_person, ctx.db, actor, request_id, key="dsr_delete",
                       confirm=tr("dsr.delete_confirm"), warning=tr("dsr.delete_warning", oneids=", ".join(req.oneids)),
                       success=lambda r: tr("dsr.deleted", records=r.records, tombstone=r.tombstone_id),
                       rerun=True, flash=True)
    elif req.request_type == "correction":
        c1, c2 = st.columns(2)
        field = c1.selectbox(tr("dsr.field"), FIELD_NAMES, key="dsr_field", format_func=lambda f: column_label(f, ctx.lang))
        value = c2.text_input(tr("dsr.value"), key="dsr_value")
        reason = st.text_input(tr("dsr.reason"), key="dsr_reason")
        if st.button(tr("dsr.correct"), key="dsr_correct"):
            run_step(pipeline.correct, ctx.db, actor, request_id, field, value, reason,
                     success=lambda override_id: tr("dsr.corrected", id=override_id))
    elif req.request_type == "withdrawal":
        purpose = st.selectbox(tr("dsr.purpose"), consent.ALL_PURPOSES, key="dsr_purpose",
                               format_func=lambda p: str(value_label("purpose", p, ctx.lang)))
        if st.button(tr("dsr.withdraw"), key="dsr_withdraw"):
            run_step(dsr.withdraw, ctx.db, actor, request_id, purpose, success=tr("dsr.withdrawn_ledger"))


def tombstones(ctx: PageContext) -> None:
    """The tombstones of erased people, with lifting and purging an active one."""
    st.subheader(tr("dsr.tombstones"))
    st.caption(tr("dsr.tombstones_help"))
    with ctx.db.cursor() as cur:
        stones = suppression.tombstones(cur)
        by_batch = suppression.suppressed_by_batch(cur)
    if stones.empty:
        st.caption(tr("dsr.no_tombstones"))
        return
    table(stones)
    if not by_batch.empty:
        table(by_batch)
    active = stones[stones["lifted_at"].isna()]["tombstone_id"].astype(int).tolist()
    if not active:
        return
    c1, c2 = st.columns([1, 3])
    stone = c1.selectbox(tr("dsr.tombstone"), active, key="dsr_tombstone")
    lift_reason = c2.text_input(tr("dsr.lift_reason"), key="dsr_lift_reason")
    c1, c2 = st.columns(2)
    if c1.button(tr("dsr.lift"), key="dsr_lift"):
        run_step(pipeline.lift_tombstone, ctx.db, ctx.user.username, int(stone), lift_reason,
                 success=lambda n: tr("dsr.lifted", n=n))
    if c2.button(tr("dsr.purge"), key="dsr_purge"):
        run_step(suppression.purge, ctx.db, ctx.user.username, int(stone),
                 success=lambda deleted: tr("dsr.purged", n=deleted.get("raw", 0)))
