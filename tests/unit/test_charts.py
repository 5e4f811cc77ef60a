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
    assert list(charts.duplicate_rates(sources, "t").data[0].y) == [0.125]    # a share on a percentage axis


def test_heatmap_cells_carry_source_and_field_for_click_filtering():
    """Plotly sends no selection for a heatmap click: an invisible marker on every cell does."""
    fields = pd.DataFrame({"source": ["crm", "crm", "pos"], "field": ["mobile", "name", "mobile"],
                           "completeness": [0.5, 1.0, 0.2563]})
    fig = charts.quality_heatmap(fields, "completeness", {"mobile": "手机号", "name": "姓名"}, "t")
    heat, cells = fig.data
    assert heat.hoverinfo == "skip" and cells.type == "scatter" and cells.mode == "markers"
    assert sorted((c[0], c[1]) for c in cells.customdata) == [("crm", "mobile"), ("crm", "name"), ("pos", "mobile"),
                                                               ("pos", "name")]
    assert list(zip(cells.x, cells.y)) == [(c[1], c[0]) for c in cells.customdata]  # each marker sits on its cell
    hover = {(c[0], c[1]): (c[2], c[3]) for c in cells.customdata}
    assert hover[("pos", "mobile")] == ("手机号", "25.6%") and hover[("pos", "name")] == ("姓名", "")
    [data] = [list(c) for c in cells.customdata if tuple(c[:2]) == ("pos", "mobile")]
    point = {"x": "mobile", "y": "pos", "customdata": data, "curve_number": 1}   # as st.plotly_chart reports it
    assert charts.heatmap_cell(point) == ("pos", "mobile")
    assert charts.heatmap_cell({"x": 3, "y": 1}) is None and charts.heatmap_cell(None) is None


def test_trend_runs_in_upload_order_across_sources():
    """Batch ids interleave across sources: crm's batch 5 came first, then pos's 2, …."""
    trend = pd.DataFrame({"source": ["crm", "crm", "pos", "pos", "shop"], "batch_id": [5, 1, 2, 3, 4],
                          "uploaded_at": pd.to_datetime(["2026-01-01", "2026-01-05", "2026-01-02", "2026-01-04",
                                                         "2026-01-03"]),
                          "score": [90.0, 91.0, 80.0, 81.0, 70.0], "dropped": [False] * 5})
    fig = charts.score_trend(trend, "t")
    assert list(fig.layout.xaxis.categoryarray) == ["5", "2", "4", "3", "1"]
    assert fig.layout.xaxis.categoryorder == "array"
    assert {d.name: list(d.x) for d in fig.data} == {"crm": ["5", "1"], "pos": ["2", "3"], "shop": ["4"]}


def test_duplicate_rates_read_as_percentages():
    sources = pd.DataFrame({"source": ["crm", "pos"], "duplicate_rate": [0.36, None], "score": [90.0, 80.0]})
    fig = charts.duplicate_rates(sources, "t")
    assert list(fig.data[0].y) == [0.36, 0.0] and fig.layout.yaxis.tickformat == ".0%"
    assert fig.data[0].texttemplate == "%{y:.1%}" and fig.layout.yaxis.title.text is None   # no bare "%" title
    small = pd.DataFrame({"source": ["crm"], "duplicate_rate": [0.0036], "score": [90.0]})
    assert charts.duplicate_rates(small, "t").layout.yaxis.tickformat == ".1%"


def test_source_scores_show_one_decimal():
    sources = pd.DataFrame({"source": ["crm"], "score": [92.26631427940853]})
    bar = charts.source_scores(sources, "t").data[0]
    assert bar.texttemplate == "%{y:.1f}" and bar.text is None


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
                          "measured": [False, False, True], "held": [3, 2, 0], "held_approved": [1, 0, 0]})
    texts = {"band": "区间", "precision": "精确率", "measured": "充足", "few": "不足", "target": "目标", "hover": "%{x}"}
    fig = charts.precision_bands(bands, 0.99, texts, "t")
    measured, few = fig.data
    assert list(measured.x) == ["0.95–1.00"] and list(few.x) == ["0.90–0.95"]   # bands without labels are left out
    assert [list(c) for c in few.customdata] == [[10, 9, 1, 2, 0]] and measured.name == "充足"  # held apart
    assert fig.layout.shapes[0].y0 == 0.99 and fig.layout.yaxis.title.text == "精确率"


def test_waterfall_and_model_weights_take_their_words_from_the_page():
    texts = {"prior": "基准", "total": "合计", "axis": "匹配权重", "name": "匹配权重"}
    fig = charts.waterfall({"name": 6.0}, 1.0, {"name": "姓名"}, "为什么", texts)
    trace = fig.data[0]
    assert list(trace.x) == ["基准", "姓名", "合计"] and trace.name == "匹配权重"
    assert fig.layout.yaxis.title.text == "匹配权重" and trace.hovertemplate == "%{x}: %{text}<extra></extra>"
    model = {"comparisons": [{"output_column_name": "mobile", "comparison_levels": [
        {"label_for_charts": "exact", "m_probability": 0.8, "u_probability": 0.0001}]}]}
    bars = charts.model_weights(model, "t", lambda c, label, at: f"{c}:{label}:{at}", "权重").data[0]
    assert list(bars.y) == ["mobile:exact:0"] and bars.name == "权重"
