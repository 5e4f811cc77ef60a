"""Plotly figure builders: data in, figure out (no Streamlit here)."""
from __future__ import annotations

import math
from collections.abc import Callable

import pandas as pd
import plotly.graph_objects as go

from governance.store.schema import FIELD_NAMES, channel_label


def rows_by_channel(frame: pd.DataFrame, lang: str, title: str) -> go.Figure:
    labels = [channel_label(c, lang) for c in frame["channel"]]
    fig = go.Figure(go.Bar(x=labels, y=frame["rows"], text=frame["rows"], textposition="auto"))
    fig.update_layout(title=title, height=320, margin=dict(l=10, r=10, t=40, b=10))
    return fig


def _layout(fig: go.Figure, title: str, height: int = 360) -> go.Figure:
    fig.update_layout(title=title, height=height, margin=dict(l=10, r=10, t=40, b=10))
    return fig


def _schema_order(field: str) -> int:
    return FIELD_NAMES.index(field) if field in FIELD_NAMES else len(FIELD_NAMES)


def quality_heatmap(fields: pd.DataFrame, metric: str, labels: dict[str, str], title: str) -> go.Figure:
    """Sources × fields, coloured by completeness or validity (0–100).

    Plotly cannot select a heatmap cell (a click there sends no selection event), so an invisible
    square marker sits on every cell: clicking a cell selects its marker, whose customdata is
    (source, field). The markers carry the hover; the heatmap only paints."""
    pivot = fields.pivot_table(index="source", columns="field", values=metric, aggfunc="first", dropna=False) * 100
    pivot = pivot[sorted(pivot.columns, key=_schema_order)]  # the schema's order: name, mobile, … first
    text = [["" if pd.isna(v) else f"{v:.0f}" for v in row] for row in pivot.values]
    columns, sources = list(pivot.columns), list(pivot.index)
    fig = go.Figure(go.Heatmap(
        z=pivot.values.round(1), x=columns, y=sources, zmin=0, zmax=100, colorscale="RdYlGn",
        text=text, texttemplate="%{text}", hoverinfo="skip"))
    cells = [(s, c, v) for s, row in zip(sources, pivot.values) for c, v in zip(columns, row)]
    fig.add_trace(go.Scatter(
        x=[c for _, c, _ in cells], y=[s for s, _, _ in cells], mode="markers", showlegend=False,
        marker=dict(symbol="square", size=34, color="rgba(0,0,0,0)"),
        selected=dict(marker=dict(opacity=0)), unselected=dict(marker=dict(opacity=0)),
        customdata=[[s, c, labels.get(c, c), "" if pd.isna(v) else f"{v:.1f}%"] for s, c, v in cells],
        hovertemplate="%{customdata[0]} · %{customdata[2]}: %{customdata[3]}<extra></extra>"))
    fig.update_xaxes(tickvals=columns, ticktext=[labels.get(c, c) for c in columns],  # x keeps the field name
                     categoryorder="array", categoryarray=columns, showgrid=False, zeroline=False)
    fig.update_yaxes(categoryorder="array", categoryarray=sources, showgrid=False, zeroline=False)
    fig.update_layout(hoverdistance=-1)  # a click anywhere in a cell reaches its marker
    return _layout(fig, title, 160 + 40 * max(1, len(pivot.index)))


def heatmap_cell(point: dict | None) -> tuple[str, str] | None:
    """The (source, field) of a clicked heatmap cell, from a point of a selection event."""
    data = (point or {}).get("customdata")
    return (str(data[0]), str(data[1])) if isinstance(data, (list, tuple)) and len(data) >= 2 else None


def reason_bars(reasons: pd.DataFrame, names: dict[str, str], title: str, top: int = 20,
                labels: dict[str, str] | None = None) -> go.Figure:
    """The most frequent reason codes per field; `names` and `labels` translate reasons and fields."""
    labels = labels or {}
    data = reasons.groupby(["reason", "field"], as_index=False)["n"].sum().nlargest(top, "n").iloc[::-1]
    fig = go.Figure(go.Bar(x=data["n"], y=[f"{names.get(r, r)} · {labels.get(f, f)}"
                                           for r, f in zip(data["reason"], data["field"])],
                           orientation="h", customdata=list(zip(data["field"], data["reason"])),
                           hovertemplate="%{y}: %{x:,}<extra></extra>"))
    fig.update_xaxes(tickformat=",d")
    return _layout(fig, title, 120 + 22 * len(data))


def score_trend(trend: pd.DataFrame, title: str, batch_label: str = "batch") -> go.Figure:
    """Score per batch and source, the batches in upload order (`uploaded_at`, then batch id)."""
    if "uploaded_at" in trend.columns:
        trend = trend.sort_values(["uploaded_at", "batch_id"], kind="stable")
    order = list(dict.fromkeys(trend["batch_id"].astype(str)))
    fig = go.Figure()
    for source, part in trend.groupby("source", sort=True):
        fig.add_trace(go.Scatter(x=part["batch_id"].astype(str), y=part["score"], mode="lines+markers", name=source,
                                 hovertemplate="%{x}: %{y:.1f}<extra>" + str(source) + "</extra>"))
        dropped = part[part["dropped"]]
        if not dropped.empty:
            fig.add_trace(go.Scatter(x=dropped["batch_id"].astype(str), y=dropped["score"], mode="markers",
                                     marker=dict(symbol="x", size=14, color="red"), name=f"{source} ↓", showlegend=False,
                                     hovertemplate="%{x}: %{y:.1f}<extra>" + str(source) + "</extra>"))
    fig.update_yaxes(range=[0, 100])
    # batch ids are labels, not a scale; in upload order, whichever source came first
    fig.update_xaxes(title=batch_label, type="category", categoryorder="array", categoryarray=order)
    return _layout(fig, title)


def source_scores(sources: pd.DataFrame, title: str) -> go.Figure:
    fig = go.Figure(go.Bar(x=sources["source"], y=sources["score"], texttemplate="%{y:.1f}", textposition="auto",
                           hovertemplate="%{x}: %{y:.1f}<extra></extra>"))
    fig.update_yaxes(range=[0, 100])
    return _layout(fig, title, 320)


def duplicate_rates(sources: pd.DataFrame, title: str) -> go.Figure:
    """Duplicate rows as a share of each source's rows, on a percentage axis."""
    rate = sources["duplicate_rate"].astype(float).fillna(0.0)
    fig = go.Figure(go.Bar(x=sources["source"], y=rate, texttemplate="%{y:.1%}", textposition="auto",
                           hovertemplate="%{x}: %{y:.1%}<extra></extra>"))
    fig.update_yaxes(tickformat=".0%" if rate.max() >= 0.05 else ".1%", rangemode="tozero")
    return _layout(fig, title, 320)


def before_after(fields: pd.DataFrame, labels: dict[str, str], before: str, after: str, title: str) -> go.Figure:
    data = fields.groupby("field", as_index=False)[["raw_clean", "valid"]].sum()
    x = [labels.get(f, f) for f in data["field"]]
    fig = go.Figure([go.Bar(name=before, x=x, y=data["raw_clean"]), go.Bar(name=after, x=x, y=data["valid"])])
    fig.update_layout(barmode="group")
    return _layout(fig, title)


def waterfall(parts: dict[str, float], total: float, labels: dict[str, str], title: str,
              texts: dict[str, str] | None = None) -> go.Figure:
    """How each comparison moved the match weight (log2 Bayes factor), from the prior to the total.
    `labels` names the comparisons; `texts` holds the words the chart shows, in the page's language:
    the first and last bars (`prior`, `total`), the y axis title (`axis`) and the trace name (`name`)."""
    texts = {"prior": "prior", "total": "total", "axis": "match weight", "name": "match weight", **(texts or {})}
    names = list(parts)
    prior = total - sum(parts.values())
    fig = go.Figure(go.Waterfall(
        orientation="v", measure=["absolute", *["relative"] * len(names), "total"], name=texts["name"],
        x=[texts["prior"], *[labels.get(n, n) for n in names], texts["total"]], y=[prior, *parts.values(), 0],
        text=[f"{v:+.1f}" for v in (prior, *parts.values(), total)], textposition="outside",
        hovertemplate="%{x}: %{text}<extra></extra>"))  # plotly's own hover names its parts in English
    fig.update_yaxes(title=texts["axis"])
    return _layout(fig, title, 360)


def model_weights(model: dict, title: str, level_label: Callable[[str, str, int], str] | None = None,
                  axis: str = "match weight (log2 m/u)") -> go.Figure:
    """Match weight of every comparison level of a saved Splink model (m and u probabilities).
    `level_label(comparison, label_for_charts, position)` names a level's bar (in the page's
    language); by default "comparison · label"."""
    rows = []
    for comparison in model.get("comparisons", []):
        name = str(comparison.get("output_column_name"))
        for position, level in enumerate(comparison.get("comparison_levels", [])):
            m, u = level.get("m_probability"), level.get("u_probability")
            if level.get("is_null_level") or not m or not u:
                continue
            label = str(level.get("label_for_charts", ""))
            text = level_label(name, label, position) if level_label else f"{name} · {label}"
            rows.append((text, math.log2(m / u)))
    rows.reverse()
    fig = go.Figure(go.Bar(x=[w for _, w in rows], y=[n for n, _ in rows], orientation="h", name=axis,
                           marker_color=["#2e7d32" if w > 0 else "#c62828" for _, w in rows],
                           hovertemplate="%{y}: %{x:+.2f}<extra></extra>"))
    fig.update_xaxes(title=axis)
    return _layout(fig, title, 140 + 20 * len(rows))


def precision_bands(bands: pd.DataFrame, target: float, texts: dict[str, str], title: str) -> go.Figure:
    """Measured precision (the approved share of labelled pairs) per probability band: bars for
    bands with enough labels, pale bars for the others, the target as a dashed line. `texts` holds
    the axis titles (`band`, `precision`), the legend names (`measured`, `few`, `target`) and the
    hover template (`hover`, with %{customdata[0..4]}: labels, approved, rejected, held, held_approved)."""
    shown = bands[bands["labels"] > 0]
    fig = go.Figure()
    for measured, name, colour in ((True, "measured", "#1f77b4"), (False, "few", "#c7c7c7")):
        part = shown[shown["measured"] == measured]
        fig.add_trace(go.Bar(
            x=[f"{lo:.2f}–{hi:.2f}" for lo, hi in zip(part["low"], part["high"])], y=part["precision"],
            name=texts[name], marker_color=colour, customdata=part[["labels", "approved", "rejected", "held", "held_approved"]].to_numpy(),
            hovertemplate=texts["hover"] + "<extra></extra>"))
    fig.add_hline(y=target, line_dash="dash", line_color="#c62828", annotation_text=f"{texts['target']} {target:.0%}")
    fig.update_xaxes(title=texts["band"], type="category", categoryorder="category ascending")
    fig.update_yaxes(title=texts["precision"], range=[0, 1.05], tickformat=".0%")
    return _layout(fig, title)


# ---- tags: health (tag health charts and the governance scorecard)

def tag_coverage_runs(runs: pd.DataFrame, title: str, run_label: str = "as of") -> go.Figure:
    """Coverage (0–1) per computation of one tag, oldest first; `runs` as tags.health.runs gives it
    (run_id, as_of, coverage). Each run is a category on x (two runs may share a date)."""
    runs = runs.sort_values("run_id", kind="stable")
    x = [f"{a} #{r}" for a, r in zip(runs["as_of"].astype(str), runs["run_id"])]
    fig = go.Figure(go.Scatter(x=x, y=runs["coverage"].astype(float), mode="lines+markers",
                               hovertemplate="%{x}: %{y:.1%}<extra></extra>"))
    fig.update_yaxes(range=[0, 1.05], tickformat=".0%")
    fig.update_xaxes(title=run_label, type="category")
    return _layout(fig, title, 320)


def tag_distribution(frame: pd.DataFrame, title: str, top: int = 20) -> go.Figure:
    """A tag's values as bars: `frame` as tags.health.distribution gives it (label, oneids, share),
    most frequent first; the `top` most frequent are shown."""
    data = frame.head(top)
    fig = go.Figure(go.Bar(x=data["label"].astype(str), y=data["oneids"], customdata=data["share"],
                           texttemplate="%{customdata:.0%}", textposition="auto",
                           hovertemplate="%{x}: %{y:,} (%{customdata:.1%})<extra></extra>"))
    fig.update_xaxes(type="category")
    fig.update_yaxes(tickformat=",d", rangemode="tozero")
    return _layout(fig, title, 320)


def tag_psi(runs: pd.DataFrame, title: str, bound: float = 0.25, bound_label: str = "0.25",
            run_label: str = "as of") -> go.Figure:
    """PSI per computation against the one before (runs without a PSI are left out), with the alert
    bound as a dashed line; bars above it are red."""
    data = runs.dropna(subset=["psi"]).sort_values("run_id", kind="stable")
    x = [f"{a} #{r}" for a, r in zip(data["as_of"].astype(str), data["run_id"])]
    values = data["psi"].astype(float)
    fig = go.Figure(go.Bar(x=x, y=values, marker_color=["#c62828" if v > bound else "#1f77b4" for v in values],
                           hovertemplate="%{x}: %{y:.3f}<extra></extra>"))
    fig.add_hline(y=bound, line_dash="dash", line_color="#c62828", annotation_text=bound_label)
    fig.update_xaxes(title=run_label, type="category")
    fig.update_yaxes(rangemode="tozero")
    return _layout(fig, title, 320)


def scorecard_trend(history: pd.DataFrame, labels: dict[str, str], title: str, refresh_label: str = "refresh") -> go.Figure:
    """The scorecard's rates over refreshes: one line per measure in `labels` (measure -> name),
    rates 0–1 on a percent axis; the quality score (0–100) is drawn as a percent too."""
    data = history.reset_index(drop=True)
    x = [f"{i} · {str(ts)[:16]}" for i, ts in enumerate(data["recorded_at"], start=1)]  # refreshes may share a minute
    fig = go.Figure()
    for measure, name in labels.items():
        if measure not in data.columns:
            continue
        values = pd.to_numeric(data[measure], errors="coerce") / (100 if measure == "quality_score" else 1)
        fig.add_trace(go.Scatter(x=x, y=values, mode="lines+markers", name=name, customdata=data["trigger"],
                                 hovertemplate="%{x} · %{customdata}: %{y:.1%}<extra>" + name + "</extra>"))
    fig.update_yaxes(range=[0, 1.05], tickformat=".0%")
    fig.update_xaxes(title=refresh_label, type="category")
    return _layout(fig, title, 320)


# ---- audiences (the Audiences page)

def audience_bars(frame: pd.DataFrame, title: str, hover: str = "%{x}: %{y:,}") -> go.Figure:
    """Members per value as bars: `frame` as audiences.library.breakdown gives it (value, members) with
    a `label` column (the value as shown), most members first."""
    fig = go.Figure(go.Bar(x=frame["label"].astype(str), y=frame["members"], text=frame["members"], textposition="auto",
                           hovertemplate=hover + "<extra></extra>"))
    fig.update_xaxes(type="category")
    fig.update_yaxes(tickformat=",d", rangemode="tozero")
    return _layout(fig, title, 320)


def audience_overlap(frame: pd.DataFrame, title: str, scale_title: str, hover: str) -> go.Figure:
    """Pairwise overlap of saved audiences as a heatmap coloured by Jaccard (0–1), each cell showing the
    people in both and the Jaccard index. `frame` as audiences.library.overlap gives it (a, b, a_count,
    b_count, both, jaccard; every ordered pair); `hover` may use %{customdata} (people in both) and %{z}."""
    names = list(dict.fromkeys(frame["a"]))
    both = frame.pivot(index="a", columns="b", values="both").reindex(index=names, columns=names).fillna(0)
    jaccard = frame.pivot(index="a", columns="b", values="jaccard").reindex(index=names, columns=names).fillna(0.0)
    text = [[f"{int(n):,}<br>{float(j):.0%}" for n, j in zip(rn, rj)] for rn, rj in zip(both.values, jaccard.values)]
    fig = go.Figure(go.Heatmap(z=jaccard.values.round(3), x=names, y=names, zmin=0, zmax=1, colorscale="Blues",
                               text=text, texttemplate="%{text}", customdata=both.values.astype(int),
                               hovertemplate=hover + "<extra></extra>", colorbar=dict(title=scale_title)))
    fig.update_xaxes(type="category", side="top")
    fig.update_yaxes(type="category", autorange="reversed")
    return _layout(fig, title, 200 + 50 * len(names))
