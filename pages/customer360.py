"""Customer 360: search, the golden record with lineage, source records, history; steward
overrides, split and merge; the survivorship rules editor."""
import streamlit as st

from governance import pipeline
from governance.golden import customer360 as c360
from governance.golden import overrides, survivorship
from governance.i18n import column_choice
from governance.store.errors import GovernanceError
from governance.store.schema import CHANNELS, FIELD_NAMES, channel_label
from governance.ui.guard import require
from governance.ui.session import show_error, tr
from governance.ui.widgets import pager, table

ctx = require("customer.view")
st.title(tr("page.customer360"))
can_edit = ctx.can("golden.edit")
PAGE_SIZE = 20


def label(field: str) -> str:
    return column_choice(field, ctx.lang)


st.subheader(tr("c360.search"))
c1, c2 = st.columns([1, 3])
kind = c1.selectbox(tr("c360.kind"), c360.KINDS, format_func=lambda k: ctx.t(f"c360.kind.{k}"), key="c360_kind")
query = c2.text_input(tr("c360.query"), key="c360_query").strip()
oneid = None
if query:
    with ctx.db.cursor() as cur:
        total = c360.search(cur, query, kind, limit=0)[1]
    st.caption(tr("c360.results", n=total))
    if not total:
        st.info(tr("c360.none"))
    else:
        offset = pager(total, PAGE_SIZE, "c360_page") if total > PAGE_SIZE else 0
        with ctx.db.cursor() as cur:
            hits = c360.search(cur, query, kind, limit=PAGE_SIZE, offset=offset)[0]
        shown = ctx.mask(hits, {"name": "name", "mobile": "mobile", "email": "email"},
                         keep={"oneid", "record_count", "channels", "consent_status", "completeness"})
        table(shown)
        oneid = st.selectbox(tr("c360.pick"), hits["oneid"].tolist(), key="c360_oneid")

if oneid:
    with ctx.db.cursor() as cur:
        golden = c360.golden_record(cur, oneid)
    if golden is None:
        st.info(tr("c360.no_golden"))
        st.stop()
    reveal = ctx.reveal("c360_reveal", "oneid", oneid, {"view": "customer360"}) is not None
    if not reveal:
        st.caption(tr("c360.masked_note"))

    def shown(frame, keep):
        return frame if reveal else ctx.mask(frame, {f: f for f in FIELD_NAMES}, keep=keep)

    st.subheader(oneid)
    m = st.columns(5)
    m[0].metric(tr("c360.records"), int(golden["record_count"]))
    m[1].metric(tr("c360.channels"), int(golden["channel_count"]))
    m[2].metric(tr("c360.completeness"), f"{golden['completeness']:.0%}")
    m[3].metric(tr("c360.consent"), golden["consent_status"])
    m[4].metric(tr("c360.minor"), "✓" if golden["is_minor"] else "—")
    st.caption(" · ".join(channel_label(c, ctx.lang) for c in golden["channels"]))

    with ctx.db.cursor() as cur:
        fields = c360.golden_fields(cur, oneid)
        records = c360.source_records(cur, oneid)
        accounts = c360.sub_accounts(cur, oneid)
        events = c360.history(cur, oneid)
        decided = c360.decisions(cur, oneid)
        active = overrides.active_overrides(cur, oneid)
    st.subheader(tr("c360.golden"))
    fields_view = fields.copy()
    if not reveal:
        fields_view["value"] = [ctx.mask_value(f, v) for f, v in zip(fields["field"], fields["value"])]
        fields_view["lineage"] = [v if not v.startswith("override") else v.split(":")[0] for v in fields["lineage"]]
    fields_view["field"] = fields["field"].map(label)
    table(fields_view)
    with st.expander(tr("c360.competing")):
        field = st.selectbox(tr("c360.field"), fields["field"].tolist(), format_func=label, key="c360_competing_field")
        if field:
            with ctx.db.cursor() as cur:
                values = c360.competing_values(cur, oneid, field)
            if not reveal:
                values["value"] = [ctx.mask_value(field, v) for v in values["value"]]
            table(values)

    st.subheader(tr("c360.sources"))
    table(shown(records.drop(columns=["rec_id"]).dropna(axis=1, how="all"), {"record", "source", "placed_by"}))
    st.subheader(tr("c360.sub_accounts"))
    accounts_view = accounts.copy()
    if not reveal:
        accounts_view["value"] = [ctx.mask_value(a, v) for a, v in zip(accounts["account"], accounts["value"])]
    table(accounts_view)
    c1, c2 = st.columns(2)
    with c1:
        st.subheader(tr("c360.history"))
        table(events)
    with c2:
        st.subheader(tr("c360.decisions"))
        table(decided)
    st.download_button(tr("c360.download"), data=lambda: c360.records_csv(ctx.db, ctx.user.username, oneid, ctx.user.role, ctx.masking_policy),
                       file_name=f"{oneid}-records-masked.csv", mime="text/csv", on_click="ignore", key="c360_download")

    if can_edit:
        with st.expander(tr("c360.actions")):
            if not active.empty:
                st.caption(tr("c360.overrides"))
                active_view = active.copy()
                if not reveal:
                    active_view["value"] = [ctx.mask_value(f, v) for f, v in zip(active["field"], active["value"])]
                table(active_view)
            with st.form("c360_override", clear_on_submit=True):
                st.markdown(f"**{tr('c360.override')}**")
                o_field = st.selectbox(tr("c360.field"), FIELD_NAMES, format_func=label, key="c360_override_field")
                o_value = st.text_input(tr("c360.value"), key="c360_override_value")
                o_reason = st.text_input(tr("c360.reason"), key="c360_override_reason")
                if st.form_submit_button(tr("c360.override_save")):
                    try:
                        new_id = pipeline.set_override(ctx.db, ctx.user.username, oneid, o_field, o_value, o_reason)
                        st.success(tr("c360.override_saved", id=new_id))
                    except GovernanceError as exc:
                        show_error(exc)
            if not active.empty:
                with st.form("c360_override_remove", clear_on_submit=True):
                    pick = st.selectbox(tr("c360.override_remove"), active["override_id"].tolist(),
                                        format_func=lambda i: f"#{i} · {active.set_index('override_id').loc[i, 'field']}")
                    r_reason = st.text_input(tr("c360.reason"), key="c360_remove_reason")
                    if st.form_submit_button(tr("c360.override_remove")):
                        try:
                            pipeline.remove_override(ctx.db, ctx.user.username, int(pick), r_reason)
                            st.success(tr("c360.override_removed"))
                        except GovernanceError as exc:
                            show_error(exc)
            if len(records) > 1:
                with st.form("c360_split", clear_on_submit=True):
                    st.markdown(f"**{tr('c360.split')}**")
                    ids = dict(zip(records["record"], records["rec_id"]))
                    record = st.selectbox(tr("c360.split_pick"), list(ids))
                    comment = st.text_input(tr("c360.comment"), key="c360_split_comment")
                    if st.form_submit_button(tr("c360.split")):
                        try:
                            moved_to = pipeline.split_record(ctx.db, ctx.user.username, oneid, int(ids[record]), comment or None)
                            st.success(tr("c360.split_done", oneid=moved_to))
                        except GovernanceError as exc:
                            show_error(exc)
            with st.form("c360_merge", clear_on_submit=True):
                st.markdown(f"**{tr('c360.merge')}**")
                other = st.text_input(tr("c360.merge_other"))
                comment = st.text_input(tr("c360.comment"), key="c360_merge_comment")
                if st.form_submit_button(tr("c360.merge")):
                    try:
                        st.success(tr("c360.merge_done", oneid=pipeline.merge_oneids(ctx.db, ctx.user.username, oneid,
                                                                                 other.strip().upper(), comment or None)))
                    except GovernanceError as exc:
                        show_error(exc)

if can_edit:
    with st.expander(tr("c360.rules")):
        with ctx.db.cursor() as cur:
            rules = survivorship.rules_frame(cur)
            versions = survivorship.rule_history(cur)
        table(rules)
        r_field = st.selectbox(tr("c360.field"), FIELD_NAMES, format_func=label, key="c360_rule_field")
        current = rules.set_index("field").loc[r_field]
        with st.form(f"c360_rule_{r_field}"):
            r_kind = st.selectbox(tr("c360.rule_kind"), survivorship.KINDS, index=survivorship.KINDS.index(current["kind"]),
                                  key=f"c360_rule_kind_{r_field}")
            r_priority = st.multiselect(tr("c360.rule_priority"), list(CHANNELS), default=list(current["priority"]),
                                        placeholder=tr("common.choose_many"),
                                        format_func=lambda c: channel_label(c, ctx.lang))
            r_comment = st.text_input(tr("c360.comment"), key="c360_rule_comment")
            if st.form_submit_button(tr("c360.rule_save")):
                try:
                    version, refreshed = pipeline.set_survivorship_rule(ctx.db, ctx.user.username, r_field, r_kind,
                                                                        r_priority, r_comment or None)
                    st.success(tr("c360.rule_saved", field=r_field, version=version, n=refreshed.rebuilt))
                except GovernanceError as exc:
                    show_error(exc)
        st.caption(tr("c360.rule_history"))
        table(versions)
