"""Plotly figure builders: data in, figure out."""
from __future__ import annotations

import pandas as pd

from governance.ui import charts


def test_heatmap_keeps_field_names_on_x_and_labels_on_ticks():
    fields = pd.DataFrame({"source": ["crm", "crm", "pos"], "field": ["mobile", "name", "mobile"],
                           "completeness": [0.5, 1.0, 0.25]})
    fig = charts.quality_heatmap(fields, "completeness", {"mobile": "手机号", "name": "姓名"}, "t")
    heat = fig.data[0]
    assert list(heat.x) == ["name", "mobile"] and list(heat.y) == ["crm", "pos"]   # in the schema's order
    assert list(fig.layout.xaxis.ticktext) == ["姓名", "手机号"]
    assert heat.text[1][0] == "" and heat.text[0][1] == "50"      # unmapped cells stay blank


def test_reason_bars_carry_field_and_reason_for_click_filtering():
    reasons = pd.DataFrame({"field": ["mobile", "mobile", "id_card"], "reason": ["MOBILE_DUMMY", "MASKED", "ID_CHECKSUM"],
                            "status": ["placeholder", "masked", "invalid"], "n": [5, 9, 2]})
    fig = charts.reason_bars(reasons, {"MASKED": "已脱敏"}, "t", labels={"mobile": "手机号"})
    bar = fig.data[0]
    assert list(bar.x) == [2, 5, 9]                                  # largest at the top
    assert [tuple(c) for c in bar.customdata][-1] == ("mobile", "MASKED") and bar.y[-1] == "已脱敏 · 手机号"
    assert bar.y[0] == "ID_CHECKSUM · id_card"                       # untranslated codes stay readable


def test_trend_marks_drops():
    trend = pd.DataFrame({"source": ["pos", "pos"], "batch_id": [1, 2], "score": [95.0, 60.0], "dropped": [False, True]})
    fig = charts.score_trend(trend, "t", "批次")
    assert len(fig.data) == 2 and list(fig.data[1].x) == ["2"]
    assert fig.layout.xaxis.type == "category" and fig.layout.xaxis.title.text == "批次"


def test_before_after_and_duplicates():
    fields = pd.DataFrame({"field": ["mobile", "mobile"], "raw_clean": [3, 1], "valid": [5, 2]})
    fig = charts.before_after(fields, {}, "before", "after", "t")
    assert [list(d.y) for d in fig.data] == [[4], [7]]
    sources = pd.DataFrame({"source": ["crm"], "duplicate_rate": [0.125], "score": [90.0]})
    assert list(charts.duplicate_rates(sources, "t").data[0].y) == [12.5]


def test_waterfall_runs_from_prior_to_total():
    fig = charts.waterfall({"name": 6.0, "mobile": -2.0}, 1.0, {"name": "姓名"}, "t")
    trace = fig.data[0]
    assert list(trace.x) == ["prior", "姓名", "mobile", "total"] and list(trace.y)[:3] == [-3.0, 6.0, -2.0]


def test_model_weights_skip_null_levels():
    model = {"comparisons": [{"output_column_name": "mobile", "comparison_levels": [
        {"is_null_level": True}, {"label_for_charts": "exact", "m_probability": 0.8, "u_probability": 0.0001},
        {"label_for_charts": "else", "m_probability": 0.1, "u_probability": 0.8}]}]}
    bars = charts.model_weights(model, "t").data[0]
    assert list(bars.y) == ["mobile · else", "mobile · exact"] and bars.x[1] > 12 and bars.x[0] < 0


def test_precision_bands_split_measured_from_few_and_draw_the_target():
    bands = pd.DataFrame({"low": [0.6, 0.9, 0.95], "high": [0.65, 0.95, 1.0], "labels": [0, 10, 60],
                          "approved": [0, 9, 60], "rejected": [0, 1, 0], "precision": [None, 0.9, 1.0],
                          "measured": [False, False, True]})
    texts = {"band": "区间", "precision": "精确率", "measured": "充足", "few": "不足", "target": "目标", "hover": "%{x}"}
    fig = charts.precision_bands(bands, 0.99, texts, "t")
    measured, few = fig.data
    assert list(measured.x) == ["0.95–1.00"] and list(few.x) == ["0.90–0.95"]   # bands without labels are left out
    assert [list(c) for c in few.customdata] == [[10, 9, 1]] and measured.name == "充足"
    assert fig.layout.shapes[0].y0 == 0.99 and fig.layout.yaxis.title.text == "精确率"
