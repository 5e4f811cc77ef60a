"""OneID review: run resolution, work the queue of uncertain pairs, split clusters, read the model."""
import streamlit as st

from governance import pipeline
from governance.i18n import column_label
from governance.oneid import links, resolve, review
from governance.oneid.review import COMPARISONS
from governance.store.errors import GovernanceError
from governance.ui import charts
from governance.ui.guard import require
from governance.ui.session import show_error, tr
from governance.ui.widgets import table

ctx = require("review.view")
st.title(tr("page.review"))
can_decide = ctx.can("review.decide")
if not can_decide:
    st.info(tr("review.read_only"))

with ctx.db.cursor() as cur:
    saved = review.latest_model(cur)
defaults = (saved["auto_accept"], saved["review_low"]) if saved else (resolve.AUTO_ACCEPT, resolve.REVIEW_LOW)

if can_decide:
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
            with st.spinner(tr("review.running")):
                try:
                    result = pipeline.resolve(ctx.db, ctx.user.username, auto_accept=auto_accept, review_low=review_low,
                                              model_json=None if retrain or saved is None else saved["model_json"]).oneid
                    st.success(tr("review.done", records=result.records, oneids=result.clusters,
                                  auto=result.auto_links, queue=result.queue))
                except GovernanceError as exc:
                    show_error(exc)

if can_decide:
    with st.expander(tr("review.rules")):
        with ctx.db.cursor() as cur:
            enabled = links.rule_settings(cur)
        names = {r.rule_id: (r.label_zh if ctx.lang == "zh" else r.label_en) for r in links.RULES}
        names.update({k: (zh if ctx.lang == "zh" else en) for k, (en, zh) in links.NEVER_LINK.items()})
        for rule_id, on in enabled.items():
            wanted = st.checkbox(names[rule_id], value=on, key=f"match_rule_{rule_id}")
            if wanted != on:
                links.set_rule_enabled(ctx.db, ctx.user.username, rule_id, wanted)
        st.caption(tr("review.rules_note"))

with ctx.db.cursor() as cur:
    run = review.latest_run(cur)
    if run is None:
        st.info(tr("review.none"))
        st.stop()
    size = review.queue_size(cur)
    accuracy = review.accuracy_from_reviews(cur, defaults[0])
    overridden = review.overridden_decisions(cur)
c = st.columns(5)
c[0].metric(tr("review.queue_size"), f"{size:,}")
c[1].metric(tr("review.oneids"), f"{int(run['clusters']):,}")
c[2].metric(tr("review.labels"), accuracy["labels"])
c[3].metric(tr("review.precision"), "—" if accuracy["precision"] is None else f"{accuracy['precision']:.1%}")
c[4].metric(tr("review.overridden"), overridden)

SHORTCUTS = {"approve": "Y", "reject": "N", "skip": "S"}


def next_pair(index: int, count: int) -> None:
    """Skip: show the next pair of the queue page (the skipped one stays in the queue)."""
    st.session_state["queue_pick"] = (index + 1) % count


st.subheader(tr("review.queue"))
band = st.slider(tr("review.band"), 0.0, 1.0, (0.0, 1.0), 0.01, key="queue_band")
with ctx.db.cursor() as cur:
    page = review.queue(cur, low=band[0], high=band[1], limit=50)
table(page.drop(columns=["rec_l", "rec_r"]))
if page.empty:
    st.caption(tr("review.empty_queue"))
else:
    labels = [f"{r.record_l} ↔ {r.record_r} · {r.match_probability:.3f}" for r in page.itertuples()]
    index = st.selectbox(tr("review.pick"), range(len(labels)), format_func=labels.__getitem__, key="queue_pick")
    pair = page.iloc[index]
    rec_l, rec_r = int(pair.rec_l), int(pair.rec_r)
    with ctx.db.cursor() as cur:
        both = review.side_by_side(cur, rec_l, rec_r)
        total, parts = review.weights(cur, rec_l, rec_r)
    st.subheader(tr("review.compare"))
    if ctx.reveal("review_reveal", "pair", f"{rec_l}-{rec_r}"):
        masked = both
    else:
        masked = both.copy()
        for side in ("left", "right"):  # the source name is not personal data
            masked[side] = [v if f == "source" else ctx.mask_value(f, v) for f, v in zip(both["field"], both[side])]
    masked = masked.assign(field=[column_label(f, ctx.lang) for f in masked["field"]])
    table(masked.style.apply(lambda row: ["background-color: #fff3cd" if row["differs"] else ""] * len(row), axis=1))
    st.subheader(tr("review.why"))
    st.write(review.explain(parts, float(pair.match_probability), ctx.lang))
    names = {k: v[0 if ctx.lang == "zh" else 1] for k, v in COMPARISONS.items()}
    st.plotly_chart(charts.waterfall(parts, total, names, tr("review.why")), width="stretch")
    if can_decide:
        # Keyboard: one key per decision (not while typing in the comment); Enter in the comment
        # does not submit, so a comment never approves by accident.
        with st.form("decide_pair", clear_on_submit=True, enter_to_submit=False):
            comment = st.text_input(tr("review.comment"))
            c1, c2, c3 = st.columns(3)
            approve = c1.form_submit_button(tr("review.approve"), type="primary", shortcut=SHORTCUTS["approve"],
                                            key="decide_approve")
            reject = c2.form_submit_button(tr("review.reject"), shortcut=SHORTCUTS["reject"], key="decide_reject")
            c3.form_submit_button(tr("review.skip"), shortcut=SHORTCUTS["skip"], key="decide_skip",
                                  on_click=next_pair, args=(index, len(labels)))
        st.caption(tr("review.shortcuts", **SHORTCUTS))
        if approve or reject:
            try:
                review.decide(ctx.db, ctx.user.username, rec_l, rec_r, "approve" if approve else "reject", comment or None)
                st.success(tr("review.decided", decision=tr("review.approve") if approve else tr("review.reject")))
                st.rerun()
            except GovernanceError as exc:
                show_error(exc)

if can_decide:
    with st.expander(tr("review.bulk")):
        low, high = st.slider(tr("review.band"), 0.0, 1.0, (0.9, 1.0), 0.01, key="bulk_band")
        with ctx.db.cursor() as cur:
            preview = review.bulk_preview(cur, low, high)
        st.caption(tr("review.bulk_preview", **preview))
        c1, c2 = st.columns(2)
        for col, decision in ((c1, "approve"), (c2, "reject")):
            if col.button(tr(f"review.bulk_{decision}"), key=f"bulk_{decision}", disabled=not preview["pairs"]):
                st.success(tr("review.bulk_done", n=review.bulk_decide(ctx.db, ctx.user.username, low, high, decision)))

    st.subheader(tr("review.recent"))
    with ctx.db.cursor() as cur:
        recent = review.recent_decisions(cur)
    table(recent)
    if not recent.empty:
        undo_id = st.selectbox(tr("review.undo"), recent["decision_id"].tolist(), key="undo_pick")
        if st.button(tr("review.undo"), key="undo_button"):
            review.undo(ctx.db, ctx.user.username, int(undo_id))
            st.rerun()

with ctx.db.cursor() as cur:
    flagged = review.flagged_clusters(cur)
if not flagged.empty:
    st.subheader(tr("review.flagged"))
    table(flagged)

st.subheader(tr("review.cluster"))
oneid_value = st.text_input(tr("review.oneid"), key="cluster_oneid").strip()
if oneid_value:
    with ctx.db.cursor() as cur:
        members = review.cluster_members(cur, oneid_value)
    table(ctx.mask(members.drop(columns=["rec_id"]), {c: c for c in members.columns},
                          keep={"record", "source", "row_number", "placed_by"}))
    if can_decide and len(members) > 1:
        records = dict(zip(members["record"], members["rec_id"]))
        target = records[st.selectbox(tr("review.split"), list(records), key="split_pick")]
        if st.button(tr("review.split"), key="split_button"):
            try:  # reject decisions against the other members, then a re-run: the split shows at once
                st.success(tr("c360.split_done", oneid=pipeline.split_record(ctx.db, ctx.user.username, oneid_value,
                                                                          int(target))))
            except GovernanceError as exc:
                show_error(exc)

if saved:
    st.subheader(tr("review.model"))
    st.plotly_chart(charts.model_weights(saved["model"], tr("review.model")), width="stretch")
