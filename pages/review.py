"""OneID review: run resolution, work the queue of uncertain pairs, split clusters, read the model."""
import streamlit as st

from governance.oneid import resolve, review
from governance.ui import charts, jobs
from governance.ui import review as sections
from governance.ui.actions import show_flash
from governance.ui.guard import require
from governance.ui.session import tr
from governance.ui.widgets import table

ctx = require("review.view")
st.title(tr("page.review"))
can_decide = ctx.can("review.decide")
if not can_decide:
    st.info(tr("review.read_only"))
show_flash()  # a job just started from a button below
jobs.decisions_waiting(ctx)  # "N decisions waiting to apply"; a decision queues the re-resolve that applies them

with ctx.db.cursor() as cur:
    saved = review.latest_model(cur)
defaults = (saved["auto_accept"], saved["review_low"]) if saved else (resolve.AUTO_ACCEPT, resolve.REVIEW_LOW)
if can_decide:
    sections.resolve_controls(ctx, saved, defaults)
    sections.match_rules(ctx)

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
sections.thresholds_learned(ctx, can_decide)

st.subheader(tr("review.queue"))
page = sections.queue_navigation(ctx)
sections.pair_review(ctx, page, can_decide)
if can_decide:
    sections.bulk_and_undo(ctx)

with ctx.db.cursor() as cur:
    flagged = review.flagged_clusters(cur)
if not flagged.empty:
    st.subheader(tr("review.flagged"))
    table(flagged)
sections.cluster(ctx, can_decide)

if saved:
    st.subheader(tr("review.model"))
    st.plotly_chart(charts.model_weights(saved["model"], tr("review.model"),
                                         lambda comparison, label, at: review.level_name(comparison, label, ctx.lang, at),
                                         tr("review.model_axis")), width="stretch")
