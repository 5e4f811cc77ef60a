"""Small reusable widgets."""
from __future__ import annotations

import functools
import json
import math
import re
from datetime import date, datetime

import pandas as pd
import streamlit as st

from governance.access.events import EVENTS
from governance.i18n import LABELLED_COLUMNS, TEXTS, VALUES_EN, VALUES_ZH, column_choice, column_label, t, value_label
from governance.oneid import links
from governance.standardize.normalizers import REASONS
from governance.store.schema import EVENT_FIELDS, FIELDS
from governance.ui.session import lang as current_lang
from governance.ui.session import tr

_MARKDOWN_SIGNS = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>~$:&])")


def plain(text: str) -> str:
    """User-written text (a description, a definition) for st.markdown, shown as written: no image
    fetched from elsewhere, no link, heading or emphasis of its own."""
    return _MARKDOWN_SIGNS.sub(r"\\\1", text)


def pager(total: int, page_size: int, key: str) -> int:
    """A page-number input; returns the row offset."""
    pages = max(1, math.ceil(total / page_size))
    page = st.number_input(tr("sources.page") + f" (1–{pages})", min_value=1, max_value=pages, value=1, step=1, key=key)
    return (int(page) - 1) * page_size


def field_options(lang: str) -> tuple[list[str], dict[str, str]]:
    """Options for a standard-field picker: '' (not mapped), every person field, then every event
    field (order, amount …), with labels; an event field's label says it is one."""
    labels = {"": tr("upload.none_field")}
    labels.update({f.name: column_choice(f.name, lang) for f in FIELDS})
    labels.update({f.name: f"{t('events.field_prefix', lang)}{column_choice(f.name, lang)}" for f in EVENT_FIELDS})
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
    if "method" in frame.columns:  # how each column was recognized, in the UI language
        frame = frame.assign(method=frame["method"].map(lambda m: value_label("method", m, lang)))
    edited = st.data_editor(frame, hide_index=True, width="stretch", key=key,
                            disabled=[c for c in frame.columns if c != "field"] if editable else True,
                            column_config={c: v for c, v in config.items() if c in frame.columns})
    return {row.column: (row.field or None) for row in edited.itertuples()}


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


def placed_by_label(value: object, lang: str) -> object:
    """Why a record is in its OneID: the link rule's name, a review, alone, or the model's probability."""
    if not isinstance(value, str):
        return value
    if value.startswith("model:"):
        try:
            return t("code.placed.model", lang, p=f"{float(value.split(':', 1)[1]):.1%}")
        except ValueError:
            return value
    rules = {r.rule_id: (r.label_zh if lang == "zh" else r.label_en) for r in links.RULES}
    return rules.get(value) or (t(f"files.placed.{value}", lang) if f"files.placed.{value}" in TEXTS else value)


@functools.cache
def _stage_labels(lang: str) -> dict[str, dict[str, str]]:
    """Codes whose labels live with their stage: a value's reason (normalizers.REASONS, or a cluster
    flag's from i18n) and the audit actions (events.EVENTS)."""
    side = 0 if lang == "zh" else 1
    values = VALUES_ZH if lang == "zh" else VALUES_EN
    return {"reason": {**{code: pair[side] for code, pair in REASONS.items()}, **values.get("reason", {})},
            "action": {str(event): (info.zh, info.en)[side] for event, info in EVENTS.items()}}


MISSING = "—"  # a missing value, which the grid would show as "None"
_TIME = "%Y-%m-%d %H:%M:%S"  # as the grid writes a timestamp


def as_text(value: object) -> str:
    """A cell of a column shown as text: a date or time as the grid writes one, a missing value as a dash."""
    if value is None or value is pd.NaT or (isinstance(value, float) and math.isnan(value)):
        return MISSING
    if isinstance(value, datetime):
        return value.strftime(_TIME)
    return value.isoformat() if isinstance(value, date) else str(value)


def _missing_as_dash(column: pd.Series) -> pd.Series | None:
    """A column with missing text, dates or times, as text with a dash for each missing value (None
    when it has none, or holds values of other kinds: numbers, lists)."""
    if not column.isna().any():
        return None
    if pd.api.types.is_datetime64_any_dtype(column):
        return column.dt.strftime(_TIME).where(column.notna(), MISSING)
    textual = column.dtype == object or pd.api.types.is_string_dtype(column)  # pandas 3 reads text as `str`
    if textual and all(isinstance(v, str | date) for v in column.dropna()):
        return column.map(as_text)
    return None


def display_frame(data: pd.DataFrame, lang: str, formatted: frozenset[str] = frozenset()) -> pd.DataFrame:
    """A frame as a table shows it: coded values as labels (i18n.value_label, reasons, audit actions,
    link rules), floats rounded to 3 decimals unless the column has a display format of its own, a
    missing text, date or time as a dash. The frame passed in keeps its codes."""
    changes = {c: data[c].map(lambda v, c=c: value_label(c, v, lang)) for c in data.columns if c in LABELLED_COLUMNS}
    for column, labels in _stage_labels(lang).items():
        if column in data.columns:
            changes[column] = data[column].map(lambda v, labels=labels: labels.get(v, v) if isinstance(v, str) else v)
    if "placed_by" in data.columns:
        changes["placed_by"] = data["placed_by"].map(lambda v: placed_by_label(v, lang))
    for column in data.columns:
        if column not in changes and column not in formatted and pd.api.types.is_float_dtype(data[column]):
            changes[column] = data[column].round(3)
    data = data.assign(**changes) if changes else data
    blanks = {c: shown for c in data.columns if c not in formatted and (shown := _missing_as_dash(data[c])) is not None}
    return data.assign(**blanks) if blanks else data


# Audit detail keys whose values are codes of a labelled column.
_DETAIL_COLUMNS = {"type": "request_type", "kind": "rule", "priority": "channel", "fields": "field"}


def _detail_value(key: str, value: object, lang: str) -> str:
    if isinstance(value, bool):
        return t(f"code.bool.{str(value).lower()}", lang)
    if isinstance(value, float):
        return f"{value:,.2f}"
    if isinstance(value, list):
        return ("、" if lang == "zh" else ", ").join(_detail_value(key, v, lang) for v in value)
    if isinstance(value, dict):  # a mapping's changes: {header: {"from": field, "to": field}}
        return ("、" if lang == "zh" else ", ").join(
            f"{header} → {column_label(str(change['to']), lang) if change.get('to') else t('upload.none_field', lang)}"
            for header, change in value.items() if isinstance(change, dict))
    return str(value_label(_DETAIL_COLUMNS.get(key, key), str(value), lang))


def json_object(value: object) -> dict | None:
    """A JSON object stored as text (audit details, rule parameters), or a dict as it is; else None."""
    try:
        data = json.loads(value) if isinstance(value, str) else value
    except ValueError:
        return None
    return data if isinstance(data, dict) else None


def detail_text(detail: object, lang: str) -> object:
    """An audit row's JSON details as one line in the UI language: each key it can name, with its value
    (codes as labels, lists joined, a mapping's changes as header → field). Keys without a label
    (timings, hashes) are left out: the CSV download keeps the full record."""
    data = json_object(detail)
    if data is None:
        return detail
    parts = [f"{t(f'audit.key.{key}', lang)}{'：' if lang == 'zh' else ': '}{_detail_value(key, value, lang)}"
             for key, value in data.items() if f"audit.key.{key}" in TEXTS and value not in (None, "", [], {})]
    return ("；" if lang == "zh" else "; ").join(parts)


def table(data, labels: dict[str, str] | None = None, **kwargs):
    """st.dataframe in the UI language: column headers (i18n.column_label; `labels` wins), coded
    values such as statuses, channels and link rules as labels, floats rounded. Column names stay."""
    lang = current_lang()
    if isinstance(data, list):
        data = pd.DataFrame(data)
    if isinstance(data, pd.DataFrame):
        data = display_frame(data, lang, frozenset(str(c) for c in (kwargs.get("column_config") or {})))
        frame = data
    else:
        frame = data.data  # a pandas Styler
    if len(frame) == 0:  # the grid would write "empty"
        st.caption(t("common.no_rows", lang))
        return None
    config = {str(c): (labels or {}).get(str(c)) or column_label(str(c), lang) for c in frame.columns}
    config.update(kwargs.pop("column_config", None) or {})
    kwargs.setdefault("hide_index", True)
    kwargs.setdefault("width", "stretch")
    return st.dataframe(data, column_config=config, **kwargs)
