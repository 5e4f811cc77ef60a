"""Sections of the OneID review page: running resolution, the match rules, thresholds learned from
the decisions, one pair of the queue (compare, why, decide), bulk decisions with undo, and
splitting a record out of a cluster."""
from __future__ import annotations

import pandas as pd
import streamlit as st

from governance import pipeline
from governance.i18n import column_label
from governance.oneid import calibration, links, review
from governance.ui import charts
from governance.ui.actions import run_step
from governance.ui.guard import PageContext
from governance.ui.session import tr
from governance.ui.widgets import table

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
        if st.button(tr("review.resolve"), type="primary", key="resolve_run"):
            run_step(pipeline.resolve, ctx.db, ctx.user.username, auto_accept=auto_accept, review_low=review_low,
                     retrain=retrain, spinner=tr("review.running"),
                     success=lambda r: tr("review.done", records=r.oneid.records, oneids=r.oneid.clusters,
                                          auto=r.oneid.auto_links, queue=r.oneid.queue))


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
    if can_decide and st.button(tr("review.calib_apply"), type="primary", key="calib_apply"):
        run_step(pipeline.apply_thresholds, ctx.db, ctx.user.username, rec.auto_accept, rec.review_low, target=target,
                 spinner=tr("review.running"),
                 success=lambda r: tr("review.calib_done", oneids=r.oneid.clusters, auto=r.oneid.auto_links,
                                      queue=r.oneid.queue))


def _next_pair(index: int, count: int) -> None:
    """Skip: show the next pair of the queue page (the skipped one stays in the queue)."""
    st.session_state["queue_pick"] = (index + 1) % count


def pair_review(ctx: PageContext, page: pd.DataFrame, can_decide: bool) -> None:
    """Pick a pair of the queue page: the two records side by side, why the model scored them so,
    and (for stewards) the decision, by click or keyboard."""
    labels = review.pair_labels(page)
    index = st.selectbox(tr("review.pick"), range(len(labels)), format_func=labels.__getitem__, key="queue_pick")
    pair = page.iloc[index]
    rec_l, rec_r = int(pair.rec_l), int(pair.rec_r)
    with ctx.db.cursor() as cur:
        both = review.side_by_side(cur, rec_l, rec_r)
        total, parts = review.weights(cur, rec_l, rec_r)
    st.subheader(tr("review.compare"))
    if not ctx.reveal("review_reveal", "pair", f"{rec_l}-{rec_r}"):
        both = ctx.mask_rows(both, "field", ("left", "right"), skip={"source"})  # a source name is not personal data
    both = both.assign(field=[column_label(f, ctx.lang) for f in both["field"]])
    table(both.style.apply(lambda row: ["background-color: #fff3cd" if row["differs"] else ""] * len(row), axis=1))
    st.subheader(tr("review.why"))
    st.write(review.explain(parts, float(pair.match_probability), ctx.lang))
    st.plotly_chart(charts.waterfall(parts, total, review.comparison_names(ctx.lang), tr("review.why")), width="stretch")
    if not can_decide:
        return
    # Keyboard: one key per decision (not while typing in the comment); Enter in the comment
    # does not submit, so a comment never approves by accident.
    with st.form("decide_pair", clear_on_submit=True, enter_to_submit=False):
        comment = st.text_input(tr("review.comment"))
        c1, c2, c3 = st.columns(3)
        approve = c1.form_submit_button(tr("review.approve"), type="primary", shortcut=SHORTCUTS["approve"],
                                        key="decide_approve")
        reject = c2.form_submit_button(tr("review.reject"), shortcut=SHORTCUTS["reject"], key="decide_reject")
        c3.form_submit_button(tr("review.skip"), shortcut=SHORTCUTS["skip"], key="decide_skip",
                              on_click=_next_pair, args=(index, len(labels)))
    st.caption(tr("review.shortcuts", **SHORTCUTS))
    if approve or reject:
        run_step(review.decide, ctx.db, ctx.user.username, rec_l, rec_r, "approve" if approve else "reject",
                 comment or None, rerun=True,
                 success=tr("review.decided", decision=tr("review.approve") if approve else tr("review.reject")))


def bulk_and_undo(ctx: PageContext) -> None:
    """Decide every pair in a probability band at once; the recent decisions, each one undoable."""
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
        recent = review.recent_decisions(cur)
    table(recent)
    if not recent.empty:
        undo_id = st.selectbox(tr("review.undo"), recent["decision_id"].tolist(), key="undo_pick")
        if st.button(tr("review.undo"), key="undo_button"):
            run_step(review.undo, ctx.db, ctx.user.username, int(undo_id), rerun=True)


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
