"""Sections of the OneID review page: running resolution, the match rules, thresholds learned from
the decisions, one pair of the queue (compare, why, decide), bulk decisions with undo, and
splitting a record out of a cluster."""
from __future__ import annotations

import pandas as pd
import streamlit as st

from governance import pipeline
from governance.access import auth
from governance.i18n import column_label
from governance.jobs import kinds
from governance.oneid import calibration, links, review
from governance.store.errors import GovernanceError
from governance.store.schema import channel_label
from governance.ui import charts, customer360, jobs
from governance.ui.actions import run_step
from governance.ui.guard import PageContext, current_user
from governance.ui.session import show_error, tr
from governance.ui.widgets import as_text, selected_rows, table

SHORTCUTS = {"approve": "Y", "reject": "N", "skip": "S"}


def resolve_controls(ctx: PageContext, saved: dict | None, defaults: tuple[float, float]) -> None:
    """Thresholds with a preview of what they would do, and the button that runs resolution."""
    with st.expander(tr("review.resolve"), expanded=saved is None):
        c1, c2 = st.columns(2)
        auto_accept = c1.slider(tr("review.auto_accept"), 0.5, 1.0, float(defaults[0]), 0.005, key="th_auto")
        review_low = c2.slider(tr("review.review_low"), 0.05, float(auto_accept), min(float(defaults[1]), auto_accept),
                               0.01, key="th_low")
        with ctx.db.cursor() as cur:
            preview = review.threshold_preview(cur, auto_accept, review_low)
        st.caption(tr("review.preview", auto=preview["auto_pairs"], review=preview["review_pairs"]))
        retrain = st.checkbox(tr("review.retrain"), value=saved is None, key="th_retrain")
        busy = jobs.running(ctx, *kinds.APPLIES_DECISIONS)
        if st.button(tr("review.resolve"), type="primary", key="resolve_run", disabled=busy,
                     help=tr("jobs.busy") if busy else None):
            jobs.start(ctx, kinds.resolve, auto_accept, review_low, retrain)


def match_rules(ctx: PageContext) -> None:
    """One switch per match and never-link rule."""
    with st.expander(tr("review.rules")):
        with ctx.db.cursor() as cur:
            enabled = links.rule_settings(cur)
        names = links.rule_names(ctx.lang)
        for rule_id, on in enabled.items():
            wanted = st.checkbox(names[rule_id], value=on, key=f"match_rule_{rule_id}")
            if wanted != on:
                links.set_rule_enabled(ctx.db, ctx.user.username, rule_id, wanted)
        st.caption(tr("review.rules_note"))


def _threshold(value: float) -> str:
    return f"{value:.3g}"


def thresholds_learned(ctx: PageContext, can_decide: bool) -> None:
    """Measured precision per probability band (steward decisions as labels), the thresholds that
    hold the steward's precision target, and (for stewards) applying them after a preview."""
    st.subheader(tr("review.calibration"))
    c1, c2, c3 = st.columns(3)
    target = c1.slider(tr("review.calib_target"), 0.8, 1.0, calibration.TARGET, 0.005, key="calib_target")
    floor = c2.slider(tr("review.calib_floor"), 0.05, float(target), min(calibration.FLOOR, target), 0.05,
                      key="calib_floor")
    width = c3.select_slider(tr("review.calib_width"), [0.01, 0.02, 0.05, 0.1], calibration.WIDTH, key="calib_width")
    with ctx.db.cursor() as cur:
        bands = calibration.precision_by_band(cur, width)
        rec = calibration.recommend(cur, target, floor=floor, width=width)
    if rec.held:
        st.caption(tr("review.calib_held", held=rec.held))
    if not rec.ready or rec.auto_accept is None or rec.review_low is None:
        st.info(tr("review.calib_too_few", labels=rec.labels, min=rec.min_labels))
        return
    texts = {"band": tr("review.calib_band"), "precision": tr("review.calib_precision"), "hover": tr("review.calib_hover"),
             "measured": tr("review.calib_measured"), "few": tr("review.calib_few"), "target": tr("review.calib_target_line")}
    st.plotly_chart(charts.precision_bands(bands, target, texts, tr("review.calib_chart")), width="stretch")
    st.markdown(tr("review.calib_recommend", auto=_threshold(rec.auto_accept), cur_auto=_threshold(rec.current_auto_accept),
                   low=_threshold(rec.review_low), cur_low=_threshold(rec.current_review_low), labels=rec.labels,
                   bands=rec.measured_bands))
    if not rec.changes:
        st.caption(tr("review.calib_keep"))
        return
    with ctx.db.cursor() as cur:
        preview = review.threshold_preview(cur, rec.auto_accept, rec.review_low)
    st.caption(tr("review.calib_preview", **preview))
    busy = jobs.running(ctx, *kinds.APPLIES_DECISIONS)
    if can_decide and st.button(tr("review.calib_apply"), type="primary", key="calib_apply", disabled=busy,
                                help=tr("jobs.busy") if busy else None):
        jobs.start(ctx, kinds.apply_thresholds, rec.auto_accept, rec.review_low, target)


Pair = tuple[int, int]
PICK = "queue_pick"  # the pair on screen (rec_l, rec_r): the picker, the comparison and the buttons all follow it
# A click's outcome, shown until the next click (a background job ending reruns the page meanwhile).
_DECIDED, _UNDONE = "_review_decided", "_review_undone"


def _may_decide(ctx: PageContext) -> bool:
    """A click's callback runs before the page's guard: is the user who saw the page still signed in
    and allowed to decide?"""
    user = current_user(ctx.db)
    return user is not None and user.username == ctx.user.username and auth.can(user.role, "review.decide")


def _show(pair: Pair | None, by_row: bool = False) -> None:
    st.session_state[PICK] = pair
    if not by_row:
        _forget_row()


def _forget_row() -> None:
    """The pair on screen moved other than by a row click: a row still highlighted in the queue
    table would name another pair, so the table starts over without one (a new widget key)."""
    if selected_rows(st.session_state.get(queue_table_key())):
        st.session_state[_TABLE_GEN] = st.session_state.get(_TABLE_GEN, 0) + 1
        st.session_state[_TABLE_SEEN] = ()


def _decide(ctx: PageContext, pair: Pair, decision: str, following: Pair | None) -> None:
    """A decision button's click: decide the pair the page showed, then show the one after it. A pair
    someone decided meanwhile keeps their decision; the page says who and moves on."""
    if not _may_decide(ctx):
        return
    comment = (st.session_state.get("decide_comment") or "").strip() or None
    st.session_state.pop(_UNDONE, None)
    recorded = ("success", ctx.t("review.decided", decision=ctx.t(f"review.{decision}")))
    try:
        review.decide(ctx.db, ctx.user.username, *pair, decision, comment)
    except review.AlreadyDecided as exc:
        mine = (exc.decision.actor, exc.decision.decision) == (ctx.user.username, decision)  # my click, sent twice
        st.session_state[_DECIDED] = recorded if mine else (
            "warning", ctx.t("review.already_decided", actor=exc.decision.actor,
                             decision=ctx.t(f"review.outcome.{exc.decision.decision}")))
    except GovernanceError as exc:
        st.session_state[_DECIDED] = exc  # the pair stays on screen
        return
    else:
        st.session_state[_DECIDED] = recorded
    _show(following)


def _show_outcome(key: str) -> None:
    outcome = st.session_state.get(key)
    if isinstance(outcome, GovernanceError):
        show_error(outcome)
    elif outcome:
        level, text = outcome
        (st.warning if level == "warning" else st.success)(text)


def _following(pairs: list[Pair], pair: Pair) -> Pair | None:
    """The pair to show once `pair` is decided or skipped: the next one of the page as shown (wrapping)."""
    at = pairs.index(pair)
    others = pairs[at + 1:] + pairs[:at]
    return others[0] if others else None


QUEUE_LIMIT = 50  # pairs a queue page lists (the picker's options)
_NAMES = ("name_l", "name_r")


def queue_navigation(ctx: PageContext) -> pd.DataFrame:
    """The review queue's filters (source, probability band, a search by name, mobile or OneID) and
    the queue page they select, listed with masked names and channels. Returns that page, names
    masked for this role, for `pair_review`."""
    with ctx.db.cursor() as cur:
        sources = review.queue_sources(cur)
    channels = dict(zip(sources["source"], sources["channel"]))
    c1, c2, c3 = st.columns([1, 1, 2])
    source = c1.selectbox(tr("review.filter_source"), [None, *channels], key="queue_source",
                          format_func=lambda s: ctx.t("review.all_sources") if s is None
                          else f"{s} ({channel_label(channels[s], ctx.lang)})")
    with c2:
        low, high = st.slider(tr("review.band"), 0.0, 1.0, (0.0, 1.0), 0.01, key="queue_band")
    search = c3.text_input(tr("review.search"), key="queue_search", placeholder=tr("review.search_hint")).strip()
    with ctx.db.cursor() as cur:
        # Matched on the standardized values in SQL with parameters; what comes back is masked below.
        page = review.queue(cur, source, low, high, limit=QUEUE_LIMIT, search=search or None, with_names=True)
        total = review.queue_size(cur, source, low, high, search or None)
    page = _named(ctx, page)
    filtered = bool(source or search or (low, high) != (0.0, 1.0))
    if filtered or total > len(page):
        st.caption(tr("review.matching", n=total, shown=len(page)))
    if page.empty and filtered:
        st.info(tr("review.no_match"))
    _open_selected_row()
    shown = page[["name_l", "channel_l", "name_r", "channel_r", "match_probability", "fuses_oneids", "oneid_l", "oneid_r"]]
    table(shown.assign(**{c: [channel_label(v, ctx.lang) for v in page[c]] for c in ("channel_l", "channel_r")}),
          on_select="rerun", selection_mode="single-row", key=queue_table_key())
    st.session_state[_TABLE_PAIRS] = [(int(r.rec_l), int(r.rec_r)) for r in page.itertuples()]
    return page


QUEUE_TABLE = "queue_table"  # the queue page as a table; a row click opens its pair (`PICK`)
_TABLE_PAIRS, _TABLE_SEEN, _TABLE_GEN = "_queue_table_pairs", "_queue_table_seen", "_queue_table_gen"


def queue_table_key(state=None) -> str:
    """The queue table's widget key in this session (`state`: its session state): a new one each
    time `_forget_row` drops the highlighted row."""
    generation = (st.session_state if state is None else state).get(_TABLE_GEN, 0)
    return f"{QUEUE_TABLE}_{generation}" if generation else QUEUE_TABLE


def _open_selected_row() -> None:
    """A row click on the queue table shows that row's pair. The selection refers to the table as the
    last run drew it (`_TABLE_PAIRS`), not to this run's page, which may have changed meanwhile. Only a
    changed selection moves the pair: a row that stays selected does not pull the picker back."""
    rows = selected_rows(st.session_state.get(queue_table_key()))
    if rows == st.session_state.get(_TABLE_SEEN, ()):
        return
    st.session_state[_TABLE_SEEN] = rows
    drawn = st.session_state.get(_TABLE_PAIRS) or []
    if rows and 0 <= rows[0] < len(drawn):
        _show(tuple(drawn[rows[0]]), by_row=True)


def _customer_links(ctx: PageContext, row: pd.Series) -> None:
    """Links opening either record's customer (a queue row's) in Customer 360, for roles that may."""
    if not ctx.can("customer.view"):
        return
    c1, c2 = st.columns(2)
    with c1:
        customer360.open_link(row["oneid_l"], ctx.t("c360.open_l", oneid=row["oneid_l"]))
    with c2:
        customer360.open_link(row["oneid_r"], ctx.t("c360.open_r", oneid=row["oneid_r"]))


def pair_review(ctx: PageContext, page: pd.DataFrame, can_decide: bool) -> None:
    """Pick a pair of the queue page: the two records side by side, why the model scored them so,
    and (for stewards) the decision, by click or keyboard. Everything follows one pair identity in
    the session (`PICK`), never a position in the queue, which changes as anyone decides."""
    _show_outcome(_DECIDED)
    if page.empty:
        st.caption(tr("review.empty_queue"))
        return
    pairs: list[Pair] = [(int(r.rec_l), int(r.rec_r)) for r in page.itertuples()]
    if st.session_state.get(PICK) not in pairs:  # first visit, decided meanwhile, or outside the band
        _show(pairs[0])
    labels = dict(zip(pairs, review.pair_labels(page, ctx.lang)))  # masked names and channels (queue_navigation)
    pair = st.selectbox(tr("review.pick"), pairs, format_func=labels.__getitem__, key=PICK, on_change=_forget_row)
    rec_l, rec_r = pair
    shown = page.iloc[pairs.index(pair)]
    st.caption(tr("review.records", left=shown["record_l"], right=shown["record_r"]))  # as the CLI names them
    if "oneid_l" in page.columns:
        _customer_links(ctx, shown)
    probability = float(shown["match_probability"])
    with ctx.db.cursor() as cur:
        both = review.side_by_side(cur, rec_l, rec_r)
        total, parts = review.weights(cur, rec_l, rec_r)
    st.subheader(tr("review.compare"))
    if not ctx.reveal("review_reveal", "pair", f"{rec_l}-{rec_r}"):
        both = ctx.mask_rows(both, "field", ("left", "right"), skip={"source"})  # a source name is not personal data
    both = both.assign(field=[column_label(f, ctx.lang) for f in both["field"]],  # values of many types: as text
                       left=both["left"].map(as_text), right=both["right"].map(as_text))
    table(both.style.apply(lambda row: ["background-color: #fff3cd" if row["differs"] else ""] * len(row), axis=1))
    st.subheader(tr("review.why"))
    st.write(review.explain(parts, probability, ctx.lang))
    why = {"prior": tr("review.why_prior"), "total": tr("review.why_total"), "axis": tr("review.why_axis"),
           "name": tr("review.why_axis")}
    st.plotly_chart(charts.waterfall(parts, total, review.comparison_names(ctx.lang), tr("review.why"), why),
                    width="stretch")
    if not can_decide:
        return
    following = _following(pairs, pair)
    # Keyboard: one key per decision (not while typing in the comment); Enter in the comment
    # does not submit, so a comment never approves by accident. Each button carries this pair.
    with st.form("decide_pair", clear_on_submit=True, enter_to_submit=False):
        st.text_input(tr("review.comment"), key="decide_comment")
        c1, c2, c3 = st.columns(3)
        c1.form_submit_button(tr("review.approve"), type="primary", shortcut=SHORTCUTS["approve"], key="decide_approve",
                              on_click=_decide, args=(ctx, pair, "approve", following))
        c2.form_submit_button(tr("review.reject"), shortcut=SHORTCUTS["reject"], key="decide_reject",
                              on_click=_decide, args=(ctx, pair, "reject", following))
        c3.form_submit_button(tr("review.skip"), shortcut=SHORTCUTS["skip"], key="decide_skip",
                              on_click=_show, args=(following or pair,))
    st.caption(tr("review.shortcuts", **SHORTCUTS))


def _named(ctx: PageContext, pairs: pd.DataFrame) -> pd.DataFrame:
    """Pairs listed with names (`queue` or `recent_decisions`, `with_names=True`), the names masked
    for this role."""
    return ctx.mask(pairs, dict.fromkeys(_NAMES, "name"), keep=[c for c in pairs.columns if c not in _NAMES])


def _describe(ctx: PageContext, row) -> dict[str, object]:
    """A decision (a row of `_named`) as the texts about it name it: number, masked names, outcome, who."""
    return {"id": row.decision_id, "left": row.name_l if isinstance(row.name_l, str) and row.name_l else "—",
            "right": row.name_r if isinstance(row.name_r, str) and row.name_r else "—",
            "decision": ctx.t(f"review.outcome.{row.decision}"), "actor": row.actor}


def _undo_mine(ctx: PageContext, decision_id: int, pair: Pair, described: dict[str, object]) -> None:
    """The undo button's click: undo the decision it named, then show that pair again."""
    if not _may_decide(ctx):
        return
    st.session_state.pop(_DECIDED, None)
    try:
        review.undo(ctx.db, ctx.user.username, decision_id)
    except GovernanceError as exc:
        st.session_state[_UNDONE] = exc
        return
    st.session_state[_UNDONE] = ("success", ctx.t("review.undone", **described))
    _show(pair)


def bulk_and_undo(ctx: PageContext) -> None:
    """Decide every pair in a probability band at once; undo my last decision; the recent decisions
    (names masked), each one undoable."""
    with st.expander(tr("review.bulk")):
        low, high = st.slider(tr("review.band"), 0.0, 1.0, (0.9, 1.0), 0.01, key="bulk_band")
        with ctx.db.cursor() as cur:
            preview = review.bulk_preview(cur, low, high)
        st.caption(tr("review.bulk_preview", **preview))
        c1, c2 = st.columns(2)
        for col, decision in ((c1, "approve"), (c2, "reject")):
            if col.button(tr(f"review.bulk_{decision}"), key=f"bulk_{decision}", disabled=not preview["pairs"]):
                run_step(review.bulk_decide, ctx.db, ctx.user.username, low, high, decision,
                         success=lambda n: tr("review.bulk_done", n=n))

    st.subheader(tr("review.recent"))
    with ctx.db.cursor() as cur:
        recent = _named(ctx, review.recent_decisions(cur, with_names=True))
        mine = _named(ctx, review.recent_decisions(cur, limit=1, actor=ctx.user.username, with_names=True))
    _show_outcome(_UNDONE)
    if mine.empty:
        st.caption(tr("review.undo_mine_none"))
    else:
        last = next(mine.itertuples())
        described = _describe(ctx, last)
        ends = int(last.rec_l), int(last.rec_r)
        st.button(tr("review.undo_mine"), key="undo_mine", on_click=_undo_mine,
                  args=(ctx, int(last.decision_id), (min(ends), max(ends)), described))
        st.caption(tr("review.undo_mine_which", **described))
    if recent.empty:
        return
    table(recent.drop(columns=["record_l", "record_r", "rec_l", "rec_r"]))
    choices = {int(row.decision_id): "#{id} · {left} ↔ {right} · {decision} · {actor}".format(**_describe(ctx, row))
               for row in recent.itertuples()}
    undo_id = st.selectbox(tr("review.undo"), list(choices), index=None, format_func=choices.__getitem__,
                           placeholder=tr("review.undo_choose"), key="undo_pick")
    if st.button(tr("review.undo"), key="undo_button", disabled=undo_id is None) and undo_id is not None:
        run_step(review.undo, ctx.db, ctx.user.username, undo_id, rerun=True)


def cluster(ctx: PageContext, can_decide: bool) -> None:
    """The records of one OneID (masked), and splitting one of them out."""
    st.subheader(tr("review.cluster"))
    oneid = st.text_input(tr("review.oneid"), key="cluster_oneid").strip()
    if not oneid:
        return
    with ctx.db.cursor() as cur:
        members = review.cluster_members(cur, oneid)
    table(ctx.mask(members.drop(columns=["rec_id"]), {c: c for c in members.columns},
                   keep={"record", "source", "row_number", "placed_by"}))
    if can_decide and len(members) > 1:
        records = dict(zip(members["record"], members["rec_id"]))
        target = records[st.selectbox(tr("review.split"), list(records), key="split_pick")]
        if st.button(tr("review.split"), key="split_button"):
            # reject decisions against the other members, then a re-run: the split shows at once
            run_step(pipeline.split_record, ctx.db, ctx.user.username, oneid, int(target), spinner=tr("review.running"),
                     success=lambda moved_to: tr("c360.split_done", oneid=moved_to))
