"""Sections of the Export page: the row filters, the stated purpose, labels or codes, and the export
job with its download."""
from __future__ import annotations

import json

import streamlit as st

from governance.exports import datasets
from governance.jobs import kinds
from governance.jobs import runner as jobs_runner
from governance.privacy import consent
from governance.store.schema import CHANNELS, channel_label
from governance.store.tabular import MIME
from governance.tags import library as tag_library
from governance.ui import jobs
from governance.ui.actions import run_step
from governance.ui.guard import PageContext
from governance.ui.session import settings, tr


def filters(ctx: PageContext, province_options: list[str], dataset: str = "golden") -> datasets.ExportFilter:
    """The 'filters' expander: channels, provinces, a granted consent, a minimum completeness; for tag
    values, which tags (default: every tag the role may export)."""
    tags: list[str] = []
    if dataset == "tag_values":
        with ctx.db.cursor() as cur:
            listed = tag_library.tag_list(cur, ctx.user.role)
        listed = listed[(listed["sensitivity"] != "sensitive") & listed["computed_version"].notna()]
        names = dict(zip(listed["code"], listed["name_zh" if ctx.lang == "zh" else "name_en"]))
        tags = st.multiselect(tr("export.tags"), list(names), format_func=lambda code: str(names[code]), key="export_tags",
                              placeholder=tr("common.choose_many"))
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
    return datasets.ExportFilter(tuple(channels), tuple(provinces), consent_filter or None, min_completeness or None,
                                 tuple(tags))


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


def _rows_written(job: jobs_runner.Job) -> str:
    if job.status == "queued":
        return tr("jobs.stage.queued")
    total = int(job.result.get("rows_total") or 0)
    return tr("export.progress", done=f"{round(job.progress * total):,}", total=f"{total:,}")


def prepare_and_download(ctx: PageContext, request: datasets.ExportRequest, disabled: bool) -> None:
    """The prepare button queues the export as a background job; the page follows this user's latest
    one (it survives navigation) and offers its file, found from the job row, never from the client."""
    user = ctx.user.username
    preparing = kinds.latest_of(ctx.db, "export", user, active=True) is not None
    if st.button(tr("export.prepare"), type="primary", disabled=disabled or preparing, key="export_prepare"):
        if run_step(kinds.export, ctx.db, request) is not None:
            st.rerun()  # the job panel and the progress below show it from the next run on
    finished = jobs.follow(lambda: kinds.latest_of(ctx.db, "export", user), _rows_written)
    path = kinds.result_file(ctx.db, finished, user, ctx.user.role)
    if finished is not None and finished.status == "done" and path is None:
        st.caption(tr("export.file_gone", days=settings().export_keep_days))
    if finished is None or path is None:
        return
    st.success(tr("export.ready", file=path.name))
    # A callable: the file is read only when the user clicks, never kept in the session.
    st.download_button(tr("export.download"), data=path.read_bytes, file_name=path.name,
                       mime=MIME[finished.result["format"]], on_click="ignore", key="export_download")
    with st.expander(tr("export.manifest")):
        st.code(json.dumps(finished.result["manifest"], ensure_ascii=False, indent=2), language="json")
