"""Plotly figure builders: data in, figure out (no Streamlit here)."""
from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

from governance.schema import channel_label


def rows_by_channel(frame: pd.DataFrame, lang: str, title: str) -> go.Figure:
    labels = [channel_label(c, lang) for c in frame["channel"]]
    fig = go.Figure(go.Bar(x=labels, y=frame["rows"], text=frame["rows"], textposition="auto"))
    fig.update_layout(title=title, height=320, margin=dict(l=10, r=10, t=40, b=10))
    return fig
