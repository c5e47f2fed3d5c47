"""Bar charts of the pages: one kind, horizontal, sorted by value, every label shown in full.

Grid names with their 18-digit codes are long; on a vertical bar chart they are cut or hidden, so
rankings are drawn as horizontal bars whose label axis takes the width the labels need
(``labelLimit=0``: no cut) and whose height gives each bar its own line.
"""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd
import streamlit as st

__all__ = ["ranked_bars", "ranked_bars_chart"]

#: Height of one bar's line (px) and the smallest chart height.
ROW_PX = 26
MIN_HEIGHT_PX = 120


def ranked_bars_chart(labels: Sequence[str], values: Sequence[float], *, value_title: str, label_title: str,
                      color: str = "#2563eb"):  # noqa: ANN201 - an altair Chart
    """The altair chart: one horizontal bar per label, largest value on top, labels never cut."""
    import altair as alt

    data = pd.DataFrame({"label": [str(v) for v in labels], "value": pd.to_numeric(pd.Series(list(values)))})
    return alt.Chart(data).mark_bar(color=color).encode(
        x=alt.X("value:Q", title=value_title),
        y=alt.Y("label:N", sort="-x", title=None, axis=alt.Axis(labelLimit=0, labelOverlap=False)),
        tooltip=[alt.Tooltip("label:N", title=label_title), alt.Tooltip("value:Q", title=value_title)],
    ).properties(height=max(MIN_HEIGHT_PX, ROW_PX * len(data)))


def ranked_bars(labels: Sequence[str], values: Sequence[float], *, value_title: str, label_title: str,
                color: str = "#2563eb", key: str | None = None) -> None:
    """Draw :func:`ranked_bars_chart` (nothing when there is no bar)."""
    if len(labels) == 0:
        return
    st.altair_chart(ranked_bars_chart(labels, values, value_title=value_title, label_title=label_title, color=color),
                    width="stretch", key=key)
