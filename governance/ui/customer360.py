"""Sections of the Customer 360 page a steward works with: overrides, split and merge of one
OneID, and the survivorship rules editor."""
from __future__ import annotations

from functools import partial

import pandas as pd
import streamlit as st

from governance import pipeline
from governance.golden import customer360 as c360
from governance.golden import overrides, survivorship
from governance.i18n import column_choice, column_label, value_label
from governance.store.schema import CHANNELS, FIELD_NAMES, channel_label
from governance.ui.actions import form_done, kept_form, run_step
from governance.ui.guard import PageContext
from governance.ui.session import tr
from governance.ui.widgets import pager, selected_rows, table

PAGE_SIZE = 20


OPEN_PARAM = "oneid"  # ?oneid=OID…: the customer a link from another page opens (see `open_link`)
BROWSE_SIZE = 10


def open_link(oneid: str, label: str) -> None:
    """A link that opens `oneid` on the Customer 360 page (for every page that names a customer)."""
    st.page_link("pages/customer360.py", label=label, icon=":material/person_search:",
                 query_params={OPEN_PARAM: oneid})


def _open(oneid: str) -> None:
    """Open a customer as if its OneID had been searched (a callback, or before the search box exists)."""
    st.session_state["c360_query"] = oneid
    st.session_state["c360_kind"] = "auto"  # a OneID is detected as one; a kind left on "name" would miss it


def _opened_by_link() -> None:
    """A link's ?oneid= opens that customer once; the parameter is then dropped, so the search box
    is the steward's again."""
    oneid = st.query_params.get(OPEN_PARAM)
    if oneid:
        del st.query_params[OPEN_PARAM]
        _open(oneid.strip().upper())


def _summary(ctx: PageContext, frame: pd.DataFrame) -> pd.DataFrame:
    """A list of OneIDs as this role may see it: names and mobiles masked, channels in the UI language."""
    shown = ctx.mask(frame, {"name": "name", "mobile": "mobile"},
                     keep=[c for c in frame.columns if c not in ("name", "mobile")])
    shown["channels"] = [" · ".join(channel_label(c, ctx.lang) for c in list(v)) for v in frame["channels"]]
    return shown


def _open_row(key: str, oneids: list[str]) -> None:
    """A click on a row of a browse list (the list as that run showed it) opens its customer."""
    rows = selected_rows(st.session_state.get(key))
    if rows and rows[0] < len(oneids):
        _open(oneids[rows[0]])


def _open_picked() -> None:
    picked = st.session_state.get("c360_browse_pick")
    if picked:
        _open(picked)
        st.session_state["c360_browse_pick"] = None


def browse(ctx: PageContext) -> None:
    """Where to start with an empty search box: a hint, and lists of customers to open (recently
    changed, the largest OneIDs, those waiting for a review), masked for the role."""
    st.caption(tr("c360.hint"))
    which = st.radio(tr("c360.browse"), c360.BROWSE_LISTS, format_func=lambda w: ctx.t(f"c360.browse.{w}"),
                     horizontal=True, key="c360_browse")
    with ctx.db.cursor() as cur:
        frame = c360.browse(cur, which, BROWSE_SIZE)
    if frame.empty:
        st.info(tr(f"c360.browse_empty.{which}"))
        return
    shown = _summary(ctx, frame)
    oneids = frame["oneid"].tolist()
    key = f"c360_browse_table_{which}"
    table(shown, on_select=partial(_open_row, key, oneids), selection_mode="single-row", key=key)
    labels = {r.oneid: ctx.t("c360.browse_label", oneid=r.oneid, name=r.name or "—", n=int(r.record_count))
              for r in shown.itertuples()}
    st.selectbox(tr("c360.browse_pick"), oneids, index=None, format_func=labels.__getitem__,
                 placeholder=tr("c360.browse_choose"), key="c360_browse_pick", on_change=_open_picked)


def search(ctx: PageContext) -> str | None:
    """Find customers (masked results, paged) and pick one; returns the picked OneID, if any. With
    an empty search box, the browse lists instead."""
    _opened_by_link()
    st.subheader(tr("c360.search"))
    c1, c2 = st.columns([1, 3])
    kind = c1.selectbox(tr("c360.kind"), c360.KINDS, format_func=lambda k: ctx.t(f"c360.kind.{k}"), key="c360_kind")
    query = c2.text_input(tr("c360.query"), key="c360_query").strip()
    if not query:
        browse(ctx)
        return None
    with ctx.db.cursor() as cur:
        total = c360.search(cur, query, kind, limit=0)[1]
    st.caption(tr("c360.results", n=total))
    if not total:
        st.info(tr("c360.none"))
        return None
    offset = pager(total, PAGE_SIZE, "c360_page") if total > PAGE_SIZE else 0
    with ctx.db.cursor() as cur:
        hits = c360.search(cur, query, kind, limit=PAGE_SIZE, offset=offset)[0]
    table(ctx.mask(hits, {"name": "name", "mobile": "mobile", "email": "email"},
                   keep={"oneid", "record_count", "channels", "consent_status", "completeness"}))
    return st.selectbox(tr("c360.pick"), hits["oneid"].tolist(), key="c360_oneid")


def steward_actions(ctx: PageContext, oneid: str, records: pd.DataFrame, reveal: bool) -> None:
    """The 'steward actions' expander: the active overrides, set or remove one, split a record out,
    merge with another OneID."""
    actor = ctx.user.username
    with ctx.db.cursor() as cur:
        active = overrides.active_overrides(cur, oneid)
    with st.expander(tr("c360.actions")):
        if not active.empty:
            st.caption(tr("c360.overrides"))
            table(active if reveal else ctx.mask_rows(active))
        with kept_form("c360_override", ("c360_override_value", "c360_override_reason")):
            st.markdown(f"**{tr('c360.override')}**")
            o_field = st.selectbox(tr("c360.field"), FIELD_NAMES, format_func=lambda f: column_choice(f, ctx.lang),
                                   key="c360_override_field")
            o_value = st.text_input(tr("c360.value"), key="c360_override_value")
            o_reason = st.text_input(tr("c360.reason"), key="c360_override_reason")
            if st.form_submit_button(tr("c360.override_save")):
                new_id = run_step(pipeline.set_override, ctx.db, actor, oneid, o_field, o_value, o_reason)
                if new_id is not None:
                    form_done("c360_override", tr("c360.override_saved", id=new_id))
        if not active.empty:
            with kept_form("c360_override_remove", ("c360_remove_reason",)):
                pick = st.selectbox(tr("c360.override_remove"), active["override_id"].tolist(),
                                    format_func=lambda i: f"#{i} · {active.set_index('override_id').loc[i, 'field']}")
                r_reason = st.text_input(tr("c360.reason"), key="c360_remove_reason")
                if st.form_submit_button(tr("c360.override_remove")):
                    if run_step(pipeline.remove_override, ctx.db, actor, int(pick), r_reason) is not None:
                        form_done("c360_override_remove", tr("c360.override_removed"))
        if len(records) > 1:
            with kept_form("c360_split", ("c360_split_comment",)):
                st.markdown(f"**{tr('c360.split')}**")
                ids = dict(zip(records["record"], records["rec_id"]))
                record = st.selectbox(tr("c360.split_pick"), list(ids))
                comment = st.text_input(tr("c360.comment"), key="c360_split_comment")
                if st.form_submit_button(tr("c360.split")):
                    moved_to = run_step(pipeline.split_record, ctx.db, actor, oneid, int(ids[record]), comment or None,
                                        spinner=tr("review.running"))
                    if moved_to is not None:
                        form_done("c360_split", tr("c360.split_done", oneid=moved_to))
        with kept_form("c360_merge", ("c360_merge_other", "c360_merge_comment")):
            st.markdown(f"**{tr('c360.merge')}**")
            other = st.text_input(tr("c360.merge_other"), key="c360_merge_other")
            comment = st.text_input(tr("c360.comment"), key="c360_merge_comment")
            if st.form_submit_button(tr("c360.merge")):
                merged = run_step(pipeline.merge_oneids, ctx.db, actor, oneid, other.strip().upper(), comment or None,
                                  spinner=tr("review.running"))
                if merged is not None:
                    form_done("c360_merge", tr("c360.merge_done", oneid=merged))


def purchases(ctx: PageContext, oneid: str) -> None:
    """The OneID's purchases and orders, newest first, with what counts as spend."""
    with ctx.db.cursor() as cur:
        events = c360.purchases(cur, oneid)
    st.subheader(tr("events.c360.title"))
    if events.empty:
        st.caption(tr("events.c360.none"))
        return
    st.caption(tr("events.c360.caption"))
    money = {c: st.column_config.NumberColumn(column_label(c, ctx.lang), format="%.2f") for c in ("amount", "spend")}
    table(events.dropna(axis=1, how="all"), column_config={c: v for c, v in money.items() if events[c].notna().any()})


def lineage_label(marker: object, lang: str) -> object:
    """A golden value's lineage marker (`c360.golden_fields`: "source BATCH:ROW · rule", "aggregate",
    "override #N · who: why") with its rule in the UI language."""
    if not isinstance(marker, str):
        return marker
    if marker.startswith("override"):
        return f"{value_label('rule', 'override', lang)}{marker[len('override'):]}"
    head, sep, rule = marker.rpartition(" · ")
    return f"{head}{sep}{value_label('rule', rule, lang)}"


def survivorship_rules(ctx: PageContext) -> None:
    """The 'survivorship rules' expander: every field's rule, a new version of one, and the history."""
    with st.expander(tr("c360.rules")):
        with ctx.db.cursor() as cur:
            rules = survivorship.rules_frame(cur)
            versions = survivorship.rule_history(cur)
        table(rules)
        r_field = st.selectbox(tr("c360.field"), FIELD_NAMES, format_func=lambda f: column_choice(f, ctx.lang),
                               key="c360_rule_field")
        current = rules.set_index("field").loc[r_field]
        with st.form(f"c360_rule_{r_field}"):
            r_kind = st.selectbox(tr("c360.rule_kind"), survivorship.KINDS, index=survivorship.KINDS.index(current["kind"]),
                                  key=f"c360_rule_kind_{r_field}", format_func=lambda k: str(value_label("rule", k, ctx.lang)))
            r_priority = st.multiselect(tr("c360.rule_priority"), list(CHANNELS), default=list(current["priority"]),
                                        placeholder=tr("common.choose_many"),
                                        format_func=lambda c: channel_label(c, ctx.lang))
            r_comment = st.text_input(tr("c360.comment"), key="c360_rule_comment")
            if st.form_submit_button(tr("c360.rule_save")):
                run_step(pipeline.set_survivorship_rule, ctx.db, ctx.user.username, r_field, r_kind, r_priority,
                         r_comment or None,
                         success=lambda saved: tr("c360.rule_saved", field=r_field, version=saved[0], n=saved[1].rebuilt))
        st.caption(tr("c360.rule_history"))
        table(versions)
