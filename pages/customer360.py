"""Customer 360: search, the golden record with lineage, source records, history; steward
overrides, split and merge; the survivorship rules editor."""
import streamlit as st

from governance.golden import customer360 as c360
from governance.i18n import column_choice, value_label
from governance.store.schema import FIELD_NAMES, channel_label
from governance.ui import customer360 as sections
from governance.ui.guard import require
from governance.ui.session import tr
from governance.ui.widgets import table

ctx = require("customer.view")
st.title(tr("page.customer360"))
can_edit = ctx.can("golden.edit")

oneid = sections.search(ctx)
if oneid:
    with ctx.db.cursor() as cur:
        golden = c360.golden_record(cur, oneid)
        fields, records = c360.golden_fields(cur, oneid), c360.source_records(cur, oneid)
        accounts, events, decided = c360.sub_accounts(cur, oneid), c360.history(cur, oneid), c360.decisions(cur, oneid)
    if golden is None:
        st.info(tr("c360.no_golden"))
        st.stop()
    reveal = ctx.reveal("c360_reveal", "oneid", oneid, {"view": "customer360"}) is not None
    if not reveal:
        st.caption(tr("c360.masked_note"))
    st.subheader(oneid)
    m = st.columns(5)
    m[0].metric(tr("c360.records"), int(golden["record_count"]))
    m[1].metric(tr("c360.channels"), int(golden["channel_count"]))
    m[2].metric(tr("c360.completeness"), f"{golden['completeness']:.0%}")
    m[3].metric(tr("c360.consent"), str(value_label("consent_status", golden["consent_status"], ctx.lang)))
    m[4].metric(tr("c360.minor"), "✓" if golden["is_minor"] else "—")
    st.caption(" · ".join(channel_label(c, ctx.lang) for c in golden["channels"]))

    st.subheader(tr("c360.golden"))
    shown = fields if reveal else c360.masked_fields(fields, ctx.user.role, ctx.masking_policy)
    table(shown.assign(field=fields["field"].map(lambda f: column_choice(f, ctx.lang)),
                       lineage=shown["lineage"].map(lambda v: sections.lineage_label(v, ctx.lang))))
    with st.expander(tr("c360.competing")):
        field = st.selectbox(tr("c360.field"), fields["field"].tolist(), format_func=lambda f: column_choice(f, ctx.lang),
                             key="c360_competing_field")
        if field:
            with ctx.db.cursor() as cur:
                values = c360.competing_values(cur, oneid, field)
            table(values if reveal else values.assign(value=[ctx.mask_value(field, v) for v in values["value"]]))

    st.subheader(tr("c360.sources"))
    records_view = records.drop(columns=["rec_id"]).dropna(axis=1, how="all")
    table(records_view if reveal else ctx.mask(records_view, {f: f for f in FIELD_NAMES}, keep={"record", "source", "placed_by"}))
    st.subheader(tr("c360.sub_accounts"))
    table(accounts if reveal else ctx.mask_rows(accounts, "account"))
    sections.purchases(ctx, oneid)
    c1, c2 = st.columns(2)
    with c1:
        st.subheader(tr("c360.history"))
        table(events)
    with c2:
        st.subheader(tr("c360.decisions"))
        table(decided)
    st.download_button(tr("c360.download"), data=lambda: c360.records_csv(ctx.db, ctx.user.username, oneid, ctx.user.role,
                                                                            ctx.masking_policy, lang=ctx.lang),
                       file_name=tr("files.c360_file", oneid=oneid), mime="text/csv", on_click="ignore", key="c360_download")
    if can_edit:
        sections.steward_actions(ctx, oneid, records, reveal)

if can_edit:
    sections.survivorship_rules(ctx)
