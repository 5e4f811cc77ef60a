"""Sections of the Export page: the row filters and the stated purpose."""
from __future__ import annotations

import streamlit as st

from governance.exports import datasets
from governance.privacy import consent
from governance.store.schema import CHANNELS, channel_label
from governance.ui.guard import PageContext
from governance.ui.session import tr


def filters(ctx: PageContext, province_options: list[str]) -> datasets.ExportFilter:
    """The 'filters' expander: channels, provinces, a granted consent, a minimum completeness."""
    with st.expander(tr("export.filters"), expanded=False):
        f1, f2 = st.columns(2)
        channels = f1.multiselect(tr("export.channels"), list(CHANNELS), format_func=lambda c: channel_label(c, ctx.lang),
                                  key="export_channels", placeholder=tr("common.choose_many"))
        provinces = f2.multiselect(tr("export.provinces"), province_options, key="export_provinces",
                                   placeholder=tr("common.choose_many"))
        consent_filter = f1.selectbox(tr("export.consent"), ["", *consent.ALL_PURPOSES],
                                      format_func=lambda p: ctx.t(f"consent.purpose_{p}") if p else ctx.t("export.any"),
                                      key="export_consent")
        min_completeness = f2.slider(tr("export.min_completeness"), 0.0, 1.0, 0.0, 0.05, key="export_completeness")
    return datasets.ExportFilter(tuple(channels), tuple(provinces), consent_filter or None, min_completeness or None)


def purpose(ctx: PageContext) -> str | None:
    """The purpose of the export: a consent purpose (or none, or other) and a free description."""
    p1, p2 = st.columns([1, 2])
    kind = p1.selectbox(tr("export.purpose_kind"), ["", *consent.PURPOSES, "other"],
                        format_func=lambda p: ctx.t(f"consent.purpose_{p}") if p in consent.PURPOSES
                        else ctx.t("export.purpose_other") if p else ctx.t("export.purpose_none"),
                        key="export_purpose_kind")
    note = p2.text_input(tr("export.purpose_note"), key="export_purpose_note")
    return datasets.compose_purpose(kind, note)


def labels(ctx: PageContext, fmt: str) -> bool:
    """Labels for people (the default) or codes for systems; Parquet always keeps the codes."""
    if fmt == "parquet":
        st.caption(tr("files.parquet_codes"))
        return False
    return not st.toggle(tr("files.codes"), key="export_codes", help=tr("files.codes_help"))
