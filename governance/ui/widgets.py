"""Small reusable widgets."""
from __future__ import annotations

import math
import shutil
import tempfile
from pathlib import Path

import pandas as pd
import streamlit as st

from governance.i18n import LABELLED_COLUMNS, column_choice, column_label, value_label
from governance.store.schema import FIELDS
from governance.ui.session import lang as current_lang
from governance.ui.session import tr


def pager(total: int, page_size: int, key: str) -> int:
    """A page-number input; returns the row offset."""
    pages = max(1, math.ceil(total / page_size))
    page = st.number_input(tr("sources.page") + f" (1–{pages})", min_value=1, max_value=pages, value=1, step=1, key=key)
    return (int(page) - 1) * page_size


def field_options(lang: str) -> tuple[list[str], dict[str, str]]:
    """Options for a standard-field picker: '' (not mapped) and every field, with labels."""
    labels = {"": tr("upload.none_field")}
    labels.update({f.name: column_choice(f.name, lang) for f in FIELDS})
    return list(labels), labels


def mapping_editor(frame: pd.DataFrame, *, key: str, lang: str, editable: bool = True) -> dict[str, str | None]:
    """The column -> standard field editor of the upload and sources pages: `frame` has a `column`
    and a `field` column ('' = not mapped) and may have sample, confidence and method; only the
    field can be edited (nothing unless `editable`). Returns the mapping as edited."""
    options, labels = field_options(lang)
    config = {
        "column": st.column_config.TextColumn(tr("upload.col.header")),
        "sample": st.column_config.TextColumn(tr("upload.col.sample")),
        "field": st.column_config.SelectboxColumn(tr("upload.col.field"), options=options, required=False,
                                                  format_func=labels.get),  # type: ignore[arg-type]  # stub wants str -> str
        "confidence": st.column_config.ProgressColumn(tr("upload.col.confidence"), min_value=0.0, max_value=1.0,
                                                      format="percent"),
        "method": st.column_config.TextColumn(tr("upload.col.method")),
    }
    edited = st.data_editor(frame, hide_index=True, width="stretch", key=key,
                            disabled=[c for c in frame.columns if c != "field"] if editable else True,
                            column_config={c: v for c, v in config.items() if c in frame.columns})
    return {row.column: (row.field or None) for row in edited.itertuples()}


def stage_upload(uploaded) -> Path:
    """Write an UploadedFile to a private temp file once per upload; return its path."""
    staged = st.session_state.setdefault("_staged_uploads", {})
    path = staged.get(uploaded.file_id)
    if path is None or not Path(path).exists():
        directory = Path(tempfile.mkdtemp(prefix="steward-upload-"))
        path = directory / ("upload" + Path(uploaded.name).suffix.lower())
        with open(path, "wb") as fh:
            for chunk in iter(lambda: uploaded.read(4 * 1024 * 1024), b""):
                fh.write(chunk)
        uploaded.seek(0)
        staged[uploaded.file_id] = str(path)
    return Path(path)


def discard_upload(uploaded) -> None:
    path = st.session_state.get("_staged_uploads", {}).pop(uploaded.file_id, None)
    if path:
        shutil.rmtree(Path(path).parent, ignore_errors=True)


def chart_selection(event) -> dict | None:
    """The first point a user clicked in a plotly chart rendered with on_select='rerun', if any."""
    try:
        points = event["selection"]["points"]
    except (KeyError, TypeError):
        return None
    return points[0] if points else None


def selected_rows(event) -> tuple[int, ...]:
    """The rows a user selected in a table rendered with on_select (its state in st.session_state)."""
    try:
        return tuple(event["selection"]["rows"])
    except (KeyError, TypeError):
        return ()


def table(data, labels: dict[str, str] | None = None, **kwargs):
    """st.dataframe in the UI language: column headers (i18n.column_label; `labels` wins) and coded
    values such as statuses and channels (i18n.value_label). Column names stay."""
    lang = current_lang()
    if isinstance(data, list):
        data = pd.DataFrame(data)
    if isinstance(data, pd.DataFrame):
        coded = [c for c in data.columns if c in LABELLED_COLUMNS]
        if coded:
            data = data.assign(**{c: data[c].map(lambda v, c=c: value_label(c, v, lang)) for c in coded})
        frame = data
    else:
        frame = data.data  # a pandas Styler
    config = {str(c): (labels or {}).get(str(c)) or column_label(str(c), lang) for c in frame.columns}
    config.update(kwargs.pop("column_config", None) or {})
    kwargs.setdefault("hide_index", True)
    kwargs.setdefault("width", "stretch")
    return st.dataframe(data, column_config=config, **kwargs)
