"""Printable one-page sketches: a polygon outline with a title and text lines (PNG or PDF).

Used for contact cards posted in the community. The polygon is drawn in metres in its
CGCS2000 Gauss-Krüger zone (true shape, north up). Chinese text needs a CJK font: the
Noto Sans CJK collection from Debian's ``fonts-noto-cjk``; a missing font is an error,
never silently replaced by boxes.
"""

from __future__ import annotations

import io
import logging
from collections.abc import Sequence
from pathlib import Path

import geopandas as gpd
import numpy as np
import shapely

from gis.crs import gk_zone_epsg
from gis.fonts import CJK_FONT_PATH, cjk_font
from gis.errors import CRSError

__all__ = ["render_sketch"]

logger = logging.getLogger(__name__)

def render_sketch(
    geometry: gpd.GeoSeries,
    *,
    title: str,
    subtitle: str = "",
    lines: Sequence[str] = (),
    footer: str = "",
    fmt: str = "png",
    font_path: Path | str = CJK_FONT_PATH,
    dpi: int = 150,
) -> bytes:
    """Render an A5-portrait card: title, subtitle, the outline of ``geometry``, text lines.

    ``geometry`` is a GeoSeries with a CRS (any; drawn in metres in its Gauss-Krüger zone).
    ``fmt`` is ``"png"`` or ``"pdf"``. Returns the file's bytes.
    """
    if fmt not in ("png", "pdf"):
        raise ValueError(f"fmt was {fmt!r} but is expected to be 'png' or 'pdf'")
    if geometry.crs is None:
        raise CRSError("the geometry has no CRS; set it (storage is EPSG:4490) before drawing it")
    font = cjk_font(font_path)
    import matplotlib

    matplotlib.use("Agg", force=False)
    from matplotlib.figure import Figure

    lon = float(np.nanmedian(shapely.get_x(shapely.centroid(np.asarray(geometry.to_crs(4490).array)))))
    projected = geometry.to_crs(gk_zone_epsg(lon))
    fig = Figure(figsize=(5.83, 8.27))
    fig.text(0.5, 0.95, title, ha="center", va="top", fontproperties=font, fontsize=20)
    if subtitle:
        fig.text(0.5, 0.90, subtitle, ha="center", va="top", fontproperties=font, fontsize=12)
    ax = fig.add_axes((0.08, 0.40, 0.84, 0.46))
    projected.plot(ax=ax, facecolor="#dbeafe", edgecolor="#1e3a8a", linewidth=1.5)
    ax.set_aspect("equal")
    ax.set_axis_off()
    minx, miny, maxx, maxy = projected.total_bounds
    span = max(maxx - minx, maxy - miny, 1.0)
    bar = 10 ** np.floor(np.log10(span / 3))
    ax.plot([minx, minx + bar], [miny - span * 0.04] * 2, color="black", linewidth=2)
    ax.text(minx + bar / 2, miny - span * 0.06, f"{bar:g} m", ha="center", va="top", fontsize=8)
    ax.annotate("N", xy=(maxx, maxy), xytext=(maxx, maxy - span * 0.1), ha="center",
                arrowprops={"arrowstyle": "->"}, fontsize=10)
    y = 0.36
    for line in lines:
        fig.text(0.08, y, line, ha="left", va="top", fontproperties=font, fontsize=12)
        y -= 0.04
    if footer:
        fig.text(0.5, 0.04, footer, ha="center", va="bottom", fontproperties=font, fontsize=11, color="#7f1d1d")
    buffer = io.BytesIO()
    fig.savefig(buffer, format=fmt, dpi=dpi)
    return buffer.getvalue()
