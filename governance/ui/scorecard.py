"""Home's governance scorecard panel: the measures now, their trend over refreshes, the download, and
the tags whose health is flagged (coverage drop or drift)."""
from __future__ import annotations

import streamlit as st

from governance.i18n import value_label
from governance.store import tabular
from governance.tags import health, scorecard
from governance.ui import charts
from governance.ui.guard import PageContext

RATES = ("duplicate_rate", "identification_rate", "tag_coverage", "consent_coverage")
TREND = ("duplicate_rate", "identification_rate", "quality_score", "tag_coverage", "consent_coverage")


def _percent(value: float | None) -> str:
    return "—" if value is None else f"{value:.1%}"


def panel(ctx: PageContext) -> None:
    """The scorecard panel: five measures, a Plotly trend over the recorded refreshes, CSV and XLSX
    downloads labelled in the UI language, and the flagged tags the role may view."""
    with ctx.db.cursor() as cur:
        now = scorecard.latest(cur) or scorecard.measures(cur)  # recorded after each refresh: cheap at any size
        past = scorecard.history(cur)
        flagged = health.flags(cur, ctx.user.role)
    st.subheader(ctx.t("scorecard.title"))
    st.caption(ctx.t("scorecard.caption"))
    cols = st.columns(len(RATES))  # the quality score is Home's own metric above; the trend has it too
    for col, measure in zip(cols, RATES):
        col.metric(ctx.t(f"scorecard.{measure}"), _percent(now[measure]), help=ctx.t(f"scorecard.help.{measure}"))
    if past.empty:
        st.caption(ctx.t("scorecard.no_history"))
    else:
        labels = {m: ctx.t(f"scorecard.{m}") for m in TREND}
        past = past.assign(trigger=past["trigger"].map(lambda v: value_label("trigger", v, ctx.lang)))
        st.plotly_chart(charts.scorecard_trend(past, labels, ctx.t("scorecard.trend"), ctx.t("scorecard.refresh")),
                        width="stretch", key="scorecard_trend")

    def download(kind: str):
        def build() -> bytes:
            with ctx.db.cursor() as cur:
                return scorecard.to_csv(cur, ctx.lang) if kind == "csv" else scorecard.to_xlsx(cur, ctx.lang)
        return build

    c1, c2 = st.columns(2)
    c1.download_button(ctx.t("scorecard.download_csv"), data=download("csv"), file_name=ctx.t("scorecard.file", ext="csv"),
                       mime=tabular.MIME["csv"], on_click="ignore", key="scorecard_csv")
    c2.download_button(ctx.t("scorecard.download_xlsx"), data=download("xlsx"),
                       file_name=ctx.t("scorecard.file", ext="xlsx"), mime=tabular.MIME["xlsx"], on_click="ignore",
                       key="scorecard_xlsx")

    st.markdown(f"**{ctx.t('scorecard.flagged')}**")
    if not flagged:
        st.caption(ctx.t("scorecard.no_flags"))
    for flag in flagged:
        st.warning(health.flag_text(flag, ctx.lang))
