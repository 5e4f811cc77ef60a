"""AppTest for the Review page: the why-waterfall and the model-weight chart read in the
page's language, and a row click on the queue table opens that row's pair."""
from __future__ import annotations

import json
import re

import pytest

from governance.oneid import review
from helpers import app_test, load_generated


@pytest.fixture
def resolved(app_db, tmp_path):
    load_generated(app_db, tmp_path / "d", 500, seed=3)
    return app_db


def _review_page(db, username: str, lang: str = "en", state: dict | None = None):
    at = app_test(db, username, lang).run()
    at.switch_page("pages/review.py")
    for key, value in (state or {}).items():
        at.session_state[key] = value
    at.run()
    assert not at.exception
    return at


def _shown(value) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, list):
        return [s for v in value for s in _shown(v)]
    return []


def _chart_words(spec: dict) -> list[str]:
    """What a chart shows as text: bar and axis labels, bar texts, trace names, hover templates and
    titles (not plotly's own settings such as a waterfall's `measure`)."""
    layout = spec.get("layout", {})
    words = [layout.get("title", {}).get("text")]
    words += [layout.get(axis, {}).get("title", {}).get("text") for axis in ("xaxis", "yaxis")]
    for trace in spec.get("data", []):
        words += [trace.get("name"), trace.get("hovertemplate"), *_shown(trace.get("text")),
                  *_shown(trace.get("x")), *_shown(trace.get("y"))]
    return [w for w in words if isinstance(w, str)]


def _review_charts(at) -> dict[str, list[str]]:
    """The why-waterfall and the model-weight chart of the page, by trace type."""
    charts = {}
    for element in at.get("plotly_chart"):
        spec = json.loads(element.proto.spec)
        kind = spec["data"][0]["type"]
        if kind in ("waterfall", "bar") and (kind == "waterfall" or spec["data"][0].get("orientation") == "h"):
            charts[kind] = _chart_words(spec)
    assert set(charts) == {"waterfall", "bar"}, set(charts)
    return charts


ENGLISH_COMPARISONS = {en for _zh, en in review.COMPARISONS.values()} | {"exact", "similar", "All other comparisons"}
LATIN = re.compile(r"[A-Za-z_]+")
ALLOWED_LATIN = {"log", "m", "u", "ID", "UnionID", "OpenID"}  # log2 m/u; ID as the schema's Chinese labels use it


def test_the_why_waterfall_and_the_model_weights_read_in_chinese(resolved):
    charts = _review_charts(_review_page(resolved, "steward", "zh"))
    for kind, words in charts.items():
        text = re.sub(r"%\{[^}]*\}|<[^>]*>", "", "\n".join(words))   # hover placeholders and tags are no words
        assert "prior" not in text.lower() and "total" not in text.lower(), kind
        latin = {w for w in LATIN.findall(text) if w not in ALLOWED_LATIN}
        assert not latin, (kind, latin)
        assert not [w for w in words for name in ENGLISH_COMPARISONS if re.search(rf"\b{re.escape(name)}\b", w)]
    assert "基准（两条随机记录）" in charts["waterfall"] and "匹配权重合计" in charts["waterfall"]
    assert "手机号 · 完全一致" in charts["bar"] and "匹配权重（log2 m/u）" in charts["bar"]


def test_the_why_waterfall_and_the_model_weights_read_in_english(resolved):
    charts = _review_charts(_review_page(resolved, "steward", "en"))
    for kind, words in charts.items():
        assert not re.search(r"[\u3000-\u9fff\uff00-\uffef]", "\n".join(words)), kind
    assert "Base rate (two random records)" in charts["waterfall"]
    assert "mobile · exact" in charts["bar"]


# ---- a row click opens the pair -------------------------------------------------------------------

def _selected(rows: list[int]) -> dict:
    return {"selection": {"rows": rows, "columns": [], "cells": []}}


def _compared_caption(at) -> str:
    return [c.value for c in at.caption if c.value.startswith("Records ")][0]


@pytest.mark.parametrize("role", ["analyst", "steward"])
def test_a_row_click_on_the_queue_opens_that_pair(resolved, role):
    at = _review_page(resolved, role)
    with resolved.cursor() as cur:
        page = review.queue(cur, limit=50)
    assert at.session_state["queue_pick"] == (int(page.rec_l[0]), int(page.rec_r[0]))
    at.session_state["queue_table"] = _selected([3])             # as the browser reports a click on row 3
    at.run()
    assert not at.exception
    third = (int(page.rec_l[3]), int(page.rec_r[3]))
    assert at.session_state["queue_pick"] == third and at.selectbox(key="queue_pick").value == third
    assert _compared_caption(at) == f"Records {page.record_l[3]} ↔ {page.record_r[3]} (batch:row)"
    # the steward moves on with the picker: the click does not pull it back, and row 3 is no longer
    # highlighted for a pair the page does not show (the table starts over under a new key)
    at.selectbox(key="queue_pick").set_value((int(page.rec_l[5]), int(page.rec_r[5]))).run()
    assert at.session_state["queue_pick"] == (int(page.rec_l[5]), int(page.rec_r[5]))
    assert _table_key(at) != "queue_table" and not at.session_state[_table_key(at)]["selection"]["rows"]
    at.session_state[_table_key(at)] = _selected([1])
    at.run()
    assert at.session_state["queue_pick"] == (int(page.rec_l[1]), int(page.rec_r[1]))


def _table_key(at) -> str:
    generation = at.session_state["_queue_table_gen"] if "_queue_table_gen" in at.session_state else 0
    return f"queue_table_{generation}" if generation else "queue_table"


def test_after_skip_no_row_stays_highlighted_for_another_pair(resolved):
    at = _review_page(resolved, "steward")
    with resolved.cursor() as cur:
        page = review.queue(cur, limit=50)
    at.session_state["queue_table"] = _selected([2])
    at.run()
    assert at.session_state["queue_pick"] == (int(page.rec_l[2]), int(page.rec_r[2]))
    at.button(key="decide_skip").click().run()
    assert at.session_state["queue_pick"] == (int(page.rec_l[3]), int(page.rec_r[3]))
    [queue] = [d for d in at.dataframe if "name_l" in d.value.columns and "oneid_l" in d.value.columns]
    assert _table_key(at) in queue.proto.id                  # a fresh table: row 2 is not highlighted any more
    assert not at.session_state[_table_key(at)]["selection"]["rows"]


def test_the_queue_table_is_a_single_row_selection(resolved):
    at = _review_page(resolved, "steward")
    [queue] = [d for d in at.dataframe if "name_l" in d.value.columns and "oneid_l" in d.value.columns]
    assert list(queue.proto.selection_mode) and queue.proto.id and "queue_table" in queue.proto.id
