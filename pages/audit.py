"""Audit log (admin): filter, page through, download and verify the append-only log."""
from datetime import datetime, time, timedelta

import streamlit as st

from governance.access import audit, events
from governance.ui.guard import require
from governance.ui.session import settings, tr
from governance.ui.widgets import detail_text, pager, table

ctx = require("audit.view")
st.title(tr("page.audit"))

with ctx.db.cursor() as cur:
    actors = audit.distinct_values(cur, "actor")
    actions = [str(a) for a in audit.action_choices(cur)]  # the declared events, then any undeclared in the log
ALL = ""
c1, c2, c3, c4 = st.columns(4)
actor = c1.selectbox(tr("audit.actor"), [ALL, *actors], format_func=lambda v: v or ctx.t("audit.all"), key="audit_actor")
action = c2.selectbox(tr("audit.action"), [ALL, *actions],
                      format_func=lambda v: events.label(v, ctx.lang) if v else ctx.t("audit.all"), key="audit_action")
since = c3.date_input(tr("audit.since"), value=None, key="audit_since")
until = c4.date_input(tr("audit.until"), value=None, key="audit_until")
flt = audit.AuditFilter(
    actor=actor or None, action=action or None,
    since=datetime.combine(since, time()) if since else None,
    until=datetime.combine(until, time()) + timedelta(days=1) if until else None)

page_size = settings().page_size
with ctx.db.cursor() as cur:
    offset = pager(audit.count(cur, flt), page_size, key="audit_page")
    rows, total = audit.query(cur, flt, limit=page_size, offset=offset)
st.caption(tr("audit.total", n=f"{total:,}"))
table(rows.assign(detail=rows["detail"].map(lambda d: detail_text(d, ctx.lang))) if "detail" in rows.columns else rows)


def download() -> bytes:
    with ctx.db.cursor() as cur:
        return audit.export_csv(cur, flt)


st.download_button(tr("audit.download"), data=download, file_name="steward-audit.csv", mime="text/csv",
                   on_click="ignore", key="audit_download")
if st.button(tr("audit.verify"), key="audit_verify"):
    with ctx.db.cursor() as cur:
        check = audit.verify_chain(cur)
    if check.ok:
        st.success(tr("audit.chain_ok", n=check.rows))
    else:
        st.error(tr("audit.chain_broken", id=check.first_bad_id) if check.first_bad_id is not None
                 else tr("audit.anchor_broken"))
