"""Consent ledger: the current consent per person and purpose, each person's history, and (steward/admin)
imports from source columns, manual grants and withdrawals, all audited."""
from datetime import datetime, time

import streamlit as st

from governance.i18n import value_label
from governance.privacy import consent
from governance.store.schema import CHANNELS, channel_label
from governance.ui.actions import form_done, kept_form, run_step
from governance.ui.guard import require
from governance.ui.session import settings, tr
from governance.ui.widgets import pager, table

ctx = require("consent.view")
st.title(tr("page.consent"))
can_edit = ctx.can("consent.edit")
if not can_edit:
    st.info(tr("consent.read_only"))


def purpose_label(p: str) -> str:
    return ctx.t(f"consent.purpose_{p}") if p else ctx.t("export.any")


def shown(frame):
    """Analysts see evidence references masked."""
    return frame if can_edit else consent.mask_evidence(frame, ctx.user.role, ctx.masking_policy)


with ctx.db.cursor() as cur:
    summary = consent.summary_by_state(cur)
st.subheader(tr("consent.summary"))
if summary.empty:
    st.caption(tr("consent.empty"))
else:
    table(summary)

st.subheader(tr("consent.current"))
c1, c2, c3 = st.columns(3)
oneid = c1.text_input(tr("consent.oneid"), key="consent_oneid").strip()
purpose = c2.selectbox(tr("consent.purpose"), ["", *consent.ALL_PURPOSES], format_func=purpose_label,
                       key="consent_purpose")
state = c3.selectbox(tr("consent.state"), ["", *consent.STATES],
                     format_func=lambda s: str(value_label("state", s, ctx.lang)) if s else ctx.t("export.any"),
                     key="consent_state")
flt = consent.LedgerFilter(oneid or None, purpose or None, state or None)
page_size = settings().page_size
with ctx.db.cursor() as cur:
    offset = pager(consent.count_current(cur, flt), page_size, key="consent_page")
    table(shown(consent.current_page(cur, flt, limit=page_size, offset=offset)))
    past = consent.history(cur, oneid) if oneid else None
if past is not None and past.empty:
    st.caption(tr("consent.no_history"))  # the typed text is not echoed: it may be anything, a mobile, a page long
elif past is not None:
    st.caption(tr("consent.history", oneid=oneid))
    table(shown(past))

FORM_TEXTS = ("consent_form_oneid", "consent_form_notice", "consent_form_evidence")

if can_edit:
    st.subheader(tr("consent.import"))
    st.caption(tr("consent.import_note"))
    if st.button(tr("consent.import"), key="consent_import"):
        run_step(consent.import_from_sources, ctx.db, ctx.user.username,
                 success=lambda r: tr("consent.imported", n=r.records, granted=r.granted, withdrawn=r.withdrawn))

    st.subheader(tr("consent.record"))
    with kept_form("consent_form", FORM_TEXTS):
        f1, f2, f3 = st.columns(3)
        who = f1.text_input(tr("consent.oneid"), key="consent_form_oneid")
        what = f2.selectbox(tr("consent.purpose"), consent.ALL_PURPOSES, format_func=purpose_label, key="consent_form_purpose")
        action = f3.radio(tr("consent.action"), ["granted", "withdrawn"], horizontal=True,
                          format_func=lambda s: ctx.t(f"consent.action_{s}"), key="consent_form_action")
        method = f1.selectbox(tr("consent.method"), consent.METHODS[1:], key="consent_form_method",
                              format_func=lambda m: value_label("method", m, ctx.lang))
        channel = f2.selectbox(tr("consent.channel"), ["", *CHANNELS],
                               format_func=lambda c: channel_label(c, ctx.lang) if c else "—", key="consent_form_channel")
        notice = f3.text_input(tr("consent.notice_version"), key="consent_form_notice")
        evidence = f1.text_input(tr("consent.evidence"), key="consent_form_evidence")
        expires = f2.date_input(tr("consent.expires"), value=None, key="consent_form_expires")
        if st.form_submit_button(tr("consent.save"), type="primary"):
            saved = run_step(consent.record, ctx.db, ctx.user.username, who, what, action, method=method,
                             channel=channel or None, notice_version=notice or None, evidence_ref=evidence or None,
                             expires_at=datetime.combine(expires, time()) if expires else None)
            if saved is not None:
                form_done("consent_form", tr("consent.saved", id=saved))
