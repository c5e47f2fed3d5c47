"""Map composition for the pages: which layers, in which style, with which labels.

Pure functions over frames (no Streamlit, no SQL), so they are tested directly; the
folium and display-CRS mechanics live in :mod:`gis.webmap`. Every input geometry is
EPSG:4490; each function converts to the display CRS itself.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import folium
import geopandas as gpd
import pandas as pd

from gis import clock, tilemap, webmap
from gis.webmap import Basemap

__all__ = [
    "LEVEL_STYLES",
    "layer_key",
    "grid_map",
    "tile_grid_map",
    "simplify_grids",
    "incident_map",
    "incident_time_map",
    "special_households_map",
    "SPECIAL_CLASSES",
    "incident_heat_map",
    "changes_map",
    "CHANGE_STYLES",
    "display_bounds",
    "display_bounds_of_box",
]

#: Leaflet path styles per grid level: level 1 thick outline, level 2 medium, micro-grids filled.
LEVEL_STYLES: dict[int, dict[str, object]] = {
    1: {"weight": 4, "color": "#7f1d1d", "fill": False, "opacity": 0.9},
    2: {"weight": 2.5, "color": "#1e3a8a", "fill": False, "dashArray": "6 4", "opacity": 0.9},
}
_FINE_STYLE = {"weight": 1, "color": "#475569", "fillColor": "#86efac", "fillOpacity": 0.35}
_MICRO_FILLS = ("#86efac", "#93c5fd", "#fcd34d", "#f9a8d4", "#c4b5fd", "#fdba74", "#67e8f9", "#bef264")

Translate = Callable[..., str]
#: Above this many grids in a level, its code labels are left out (tooltips still show codes).
MAX_LABELS = 400


def layer_key(level: int) -> str:
    """CSS class suffix of grid level ``level``'s paths (``gg-level-<n>``)."""
    return f"level-{level}"


def display_bounds(frame: gpd.GeoDataFrame, *, basemap: Basemap | None = None) -> tuple[float, float, float, float]:
    """Bounds (minx, miny, maxx, maxy) of an EPSG:4490 frame in display degrees."""
    b = webmap.to_display(frame[[frame.geometry.name]], basemap=basemap, precision=None).total_bounds
    return float(b[0]), float(b[1]), float(b[2]), float(b[3])


def display_bounds_of_box(
    bounds: tuple[float, float, float, float], *, basemap: Basemap | None = None
) -> tuple[float, float, float, float]:
    """An EPSG:4490 box (minx, miny, maxx, maxy) in display degrees (GCJ-02 shifted for Amap)."""
    lon, lat = webmap.to_display_xy([bounds[0], bounds[2]], [bounds[1], bounds[3]], basemap=basemap)
    return float(lon[0]), float(lat[0]), float(lon[1]), float(lat[1])


def _status_label(tr: Translate, status: object, prefix: str = "status") -> str:
    """The label of a coded value (``status``, ``category`` …); unknown codes and free text as they are."""
    if not isinstance(status, str) or not status:
        return ""
    try:
        return tr(f"{prefix}.{status}")
    except KeyError:
        return status


def _level_name(tr: Translate, level: int) -> str:
    return tr(f"level.{level}") if level <= 3 else tr("level.n", level=level)


def simplify_grids(grids: gpd.GeoDataFrame, *, tolerance_m: float) -> gpd.GeoDataFrame:
    """A copy of ``grids`` whose geometries are coverage-simplified level by level (metres).

    Each level is a coverage, simplified as one (shared edges stay shared). ``tolerance_m``
    0 returns the frame unchanged. CRS and index are kept.
    """
    if tolerance_m <= 0 or grids.empty:
        return grids
    parts = [
        webmap.simplify_coverage_for_display(grids.geometry[grids["level"] == level], tolerance_m=tolerance_m)
        for level in sorted(grids["level"].unique())
    ]
    return grids.set_geometry(gpd.GeoSeries(pd.concat(parts).reindex(grids.index), crs=grids.crs))


def grid_map(
    grids: gpd.GeoDataFrame,
    *,
    tr: Translate,
    basemap: Basemap | None = None,
    households: gpd.GeoDataFrame | None = None,
    incidents: gpd.GeoDataFrame | None = None,
    finest_level: int = 3,
    simplify_tolerance_m: float = 0.0,
    labels: bool = True,
    show_households: bool = True,
    show_incidents: bool = True,
    layer_control: bool = True,
) -> folium.Map:
    """The electronic map: every grid level as its own layer, code labels, households, incidents.

    ``layer_control=False`` leaves out the layer switch so a caller can add more layers
    first and then the control (it must come last: it refers to every layer by name).

    ``grids``: code, name, level, parent_code (EPSG:4490). ``households``: address,
    grid_code; ``incidents``: category, status, description (EPSG:4490 points). All text
    is escaped by :mod:`gis.webmap`. ``simplify_tolerance_m`` > 0 simplifies each level
    as a coverage (shared edges stay shared) before sending it to the browser.
    """
    shown = simplify_grids(grids, tolerance_m=simplify_tolerance_m)
    display = webmap.to_display(shown, basemap=basemap)
    fmap = webmap.new_map(bounds=tuple(display.total_bounds) if len(display) else None, basemap=basemap)
    aliases = [tr("field.code"), tr("field.name")]
    levels = sorted(int(v) for v in display["level"].unique())
    # Finest level first (filled, clickable), coarser outlines drawn above it.
    for level in sorted(levels, reverse=True):
        part = display[display["level"] == level]
        if level == finest_level:
            parent_rank = part["code"].str.slice(0, len(part["code"].iloc[0]) - 3).rank(method="dense").astype(int)
            part = part.assign(_fill=[_MICRO_FILLS[(r - 1) % len(_MICRO_FILLS)] for r in parent_rank])
            webmap.add_polygon_layer(
                fmap, part, key=layer_key(level), name=_level_name(tr, level), tooltip_fields=["code", "name"],
                tooltip_aliases=aliases, style=_FINE_STYLE, color_column="_fill",
            )
        else:
            webmap.add_polygon_layer(
                fmap, part, key=layer_key(level), name=_level_name(tr, level), tooltip_fields=["code", "name"],
                tooltip_aliases=aliases, style=LEVEL_STYLES.get(level, LEVEL_STYLES[2]),
            )
    if labels:
        for level in levels:
            part = display[display["level"] == level]
            if len(part) > MAX_LABELS:
                continue  # thousands of labels are unreadable and slow; the tooltip shows the code
            webmap.add_label_layer(
                fmap, part, label_column="code", name=f"{tr('layer.labels')} · {_level_name(tr, level)}",
                css_class=f"gg-label gg-label-{min(level, 3)}",
            )
    if households is not None and len(households):
        webmap.add_point_layer(
            fmap, webmap.to_display(households, basemap=basemap), key="households", name=tr("layer.households"),
            tooltip_fields=["address", "grid_code"], tooltip_aliases=[tr("field.address"), tr("field.grid")],
            color="#2563eb", radius=3, show=show_households,
        )
    if incidents is not None and len(incidents):
        incidents = incidents.assign(status=incidents["status"].map(lambda v: _status_label(tr, v)),
                                     category=incidents["category"].map(lambda v: _status_label(tr, v, "category")))
        webmap.add_point_layer(
            fmap, webmap.to_display(incidents, basemap=basemap), key="incidents", name=tr("layer.incidents"),
            tooltip_fields=["category", "status", "description"],
            tooltip_aliases=[tr("field.category"), tr("field.status"), tr("field.description")],
            color="#dc2626", radius=4, show=show_incidents,
        )
    if layer_control:
        folium.LayerControl(collapsed=False).add_to(fmap)
    return webmap.assert_offline(fmap)


def tile_grid_map(
    bounds: tuple[float, float, float, float] | None,
    levels: Sequence[int],
    *,
    tr: Translate,
    basemap: Basemap | None = None,
    labels: bool = True,
    density: bool = False,
    density_visible: bool = False,
) -> folium.Map:
    """The electronic map at city scale: every grid level drawn from the server's vector tiles.

    ``bounds`` is the grids' EPSG:4490 box (minx, miny, maxx, maxy), used only to fit the first
    view; ``levels`` the grid levels present. The finest level is filled, every level outlined
    in :data:`LEVEL_STYLES`; ``density`` adds the incident density layer (shown at first when
    ``density_visible``). With an Amap basemap the tiles are asked for in GCJ-02.
    """
    display_box = display_bounds_of_box(bounds, basemap=basemap) if bounds is not None else None
    fmap = webmap.new_map(bounds=display_box, basemap=basemap)
    finest = max(levels) if levels else 3
    styles = []
    for level in sorted(levels):
        style = LEVEL_STYLES.get(level, LEVEL_STYLES[2]) if level != finest else _FINE_STYLE
        dash = tuple(float(v) / 2.5 for v in str(style.get("dashArray", "")).split()) if style.get("dashArray") else ()
        styles.append(tilemap.TileLevel(
            level=level, name=_level_name(tr, level), color=str(style["color"]), width=float(style["weight"]),
            dash=dash, filled=level == finest,
        ))
    tilemap.VectorTileGrids(
        styles, aliases=(tr("field.code"), tr("field.name")), switch_title=tr("tiles.switch"),
        labels_name=tr("layer.labels"), labels=labels, max_labels=MAX_LABELS,
        datum="gcj02" if basemap is not None and basemap.datum == "gcj02" else None,
        density_name=tr("tiles.density_layer") if density else None, density_visible=density_visible,
        fills=_MICRO_FILLS,
    ).add_to(fmap)
    return webmap.assert_offline(fmap)


def incident_map(
    incidents: gpd.GeoDataFrame,
    counts: gpd.GeoDataFrame,
    *,
    tr: Translate,
    basemap: Basemap | None = None,
) -> tuple[folium.Map, list[float]]:
    """Heatmap, clustered markers with popups, and per-grid choropleths (count, closure rate).

    ``incidents``: from :func:`store.queries.incidents_frame`; ``counts``: from
    :func:`store.queries.incident_counts_by_grid` (EPSG:4490). Returns the map and the
    count classes' edges for the legend.
    """
    grid_display = webmap.to_display(counts, basemap=basemap)
    points = webmap.to_display(incidents, basemap=basemap)
    bounds = grid_display.total_bounds if len(grid_display) else (points.total_bounds if len(points) else None)
    fmap = webmap.new_map(bounds=tuple(bounds) if bounds is not None else None, basemap=basemap)
    table = grid_display.assign(
        closure_pct=(grid_display["closure_rate"] * 100).round(1),
    )
    table = table.assign(closure_text=table["closure_pct"].map(lambda v: "" if pd.isna(v) else f"{v:.1f}%"))
    aliases = [tr("field.code"), tr("field.name"), tr("field.incidents"), tr("field.closed"), tr("field.closure_rate")]
    _, edges = webmap.add_choropleth(
        fmap, table, value_column="incidents", key="choropleth-count", name=tr("inc.choropleth"),
        tooltip_fields=["code", "name", "incidents", "closed", "closure_text"], tooltip_aliases=aliases,
    )
    webmap.add_choropleth(
        fmap, table, value_column="closure_pct", key="choropleth-closure", name=tr("inc.closure_layer"),
        tooltip_fields=["code", "name", "incidents", "closed", "closure_text"], tooltip_aliases=aliases, show=False,
    )
    if len(points):
        webmap.add_heatmap(fmap, points, name=tr("inc.heatmap"))
        labelled = points.assign(
            reported=pd.to_datetime(points["reported_at"], utc=True).dt.tz_convert(clock.zone())
            .dt.strftime("%Y-%m-%d %H:%M").fillna(""),  # the street's local time, as every page shows it
            status_label=points["status"].map(lambda v: _status_label(tr, v)),
            category=points["category"].map(lambda v: _status_label(tr, v, "category")),
        )
        webmap.add_marker_cluster(
            fmap, labelled, name=tr("inc.cluster"),
            popup_columns=["reported", "category", "status_label", "grid_code", "address", "description"],
            popup_labels=[tr("field.reported_at"), tr("field.category"), tr("field.status"), tr("field.grid"),
                          tr("field.address"), tr("field.description")],
        )
    folium.LayerControl(collapsed=False).add_to(fmap)
    return webmap.assert_offline(fmap), edges


def incident_time_map(
    incidents: gpd.GeoDataFrame, grids: gpd.GeoDataFrame, *, basemap: Basemap | None = None
) -> folium.Map:
    """Monthly heatmap animation (one frame per 'YYYY-MM', play button and slider), over grid outlines."""
    grid_display = webmap.to_display(grids, basemap=basemap)
    points = webmap.to_display(incidents, basemap=basemap)
    bounds = grid_display.total_bounds if len(grid_display) else None
    fmap = webmap.new_map(bounds=tuple(bounds) if bounds is not None else None, basemap=basemap)
    if len(grid_display):
        webmap.add_polygon_layer(
            fmap, grid_display, key="time-grids", name="grids", style={"weight": 1.5, "color": "#475569", "fill": False},
            interactive=False,
        )
    if len(points):
        webmap.add_heatmap_animation(fmap, points, time_column="month")
    return webmap.assert_offline(fmap)


def incident_heat_map(
    layers: Sequence[tuple[str, gpd.GeoDataFrame]],
    outlines: gpd.GeoDataFrame,
    *,
    basemap: Basemap | None = None,
) -> folium.Map:
    """Incident heatmaps, one shown at a time, over grid outlines (the leader's home).

    ``layers``: (name, incident points in EPSG:4490) pairs, each drawn as a heatmap *base* layer,
    so the layer switch offers them as radio buttons and only the first is shown at first.
    ``outlines``: grids (EPSG:4490) drawn as thin outlines under every heatmap, fitting the view.
    The caller adds the layer switch (last, after :func:`app_pages.field_map.add_phone_controls`).
    """
    grid_display = webmap.to_display(outlines, basemap=basemap)
    bounds = tuple(grid_display.total_bounds) if len(grid_display) else None
    fmap = webmap.new_map(bounds=bounds, basemap=basemap)
    if len(grid_display):
        outline = webmap.add_polygon_layer(
            fmap, grid_display, key="heat-grids", name="grids",
            style={"weight": 1.5, "color": "#475569", "fill": False}, interactive=False,
        )
        outline.control = False  # always shown, not switched
    for i, (name, points) in enumerate(layers):
        webmap.add_heatmap(fmap, webmap.to_display(points, basemap=basemap), name=name, show=i == 0, overlay=False)
    return webmap.assert_offline(fmap)


#: Path styles of the changed areas on the history maps, by kind of change.
CHANGE_STYLES: dict[str, dict[str, object]] = {
    "added": {"weight": 2, "color": "#15803d", "fillColor": "#22c55e", "fillOpacity": 0.55},
    "retired": {"weight": 2, "color": "#b91c1c", "fillColor": "#ef4444", "fillOpacity": 0.45, "dashArray": "4 4"},
    "reshaped": {"weight": 2, "color": "#c2410c", "fillColor": "#f97316", "fillOpacity": 0.6},
}


def changes_map(
    plan: gpd.GeoDataFrame,
    changes: gpd.GeoDataFrame | None,
    *,
    tr: Translate,
    basemap: Basemap | None = None,
) -> folium.Map:
    """A plan (EPSG:4490) with changed areas drawn over it, one layer per kind of change.

    ``changes``: code, change (added/retired/reshaped), area_m2 (m²), geometry (EPSG:4490),
    as :func:`services.editing.changed_areas` gives them; ``None`` draws the plan alone.
    """
    fmap = grid_map(plan, tr=tr, basemap=basemap, labels=True, layer_control=False)
    if changes is not None and len(changes):
        for kind, style in CHANGE_STYLES.items():
            part = changes[(changes["change"] == kind) & ~changes.geometry.is_empty]
            if not len(part):
                continue
            shown = part.assign(area=part["area_m2"].round(0))[["code", "change", "area", "geometry"]]
            webmap.add_polygon_layer(
                fmap, webmap.to_display(shown, basemap=basemap), key=f"change-{kind}",
                name=tr(f"history.change.{kind}"), tooltip_fields=["code", "change", "area"],
                tooltip_aliases=[tr("field.code"), tr("history.change"), tr("history.area_m2")], style=style,
            )
    folium.LayerControl(collapsed=True).add_to(fmap)  # last: it names every layer above
    return webmap.assert_offline(fmap)




#: Classes of the special-household layer: (lowest count, fill); a suppressed count (1–4) is grey, 0 white.
SPECIAL_CLASSES: tuple[tuple[int, str], ...] = ((0, "#ffffff"), (5, "#fdd0a2"), (10, "#fd8d3c"), (20, "#e6550d"),
                                                (50, "#a63603"))
_SUPPRESSED_FILL = "#bdbdbd"


def special_households_map(
    counts: gpd.GeoDataFrame, *, tr: Translate, suppressed: str, basemap: Basemap | None = None,
) -> folium.Map:
    """Special households per grid as a choropleth — never individual households.

    ``counts``: one polygon per grid (EPSG:4490) with ``code``, ``name``, ``households`` and
    ``special_households`` as the viewer may see it (``pd.NA`` where suppressed:
    :func:`services.overview.special_households_by_grid`). Fixed classes (:data:`SPECIAL_CLASSES`), so no
    class edge is a computed small number; a suppressed grid is grey and its tooltip says ``suppressed``
    (the catalogue's "fewer than 5"). Only the shown value travels to the browser.
    """
    display = webmap.to_display(counts, basemap=basemap)
    fmap = webmap.new_map(bounds=tuple(display.total_bounds) if len(display) else None, basemap=basemap)
    values = pd.to_numeric(display["special_households"]).astype("Int64")
    fills = [_SUPPRESSED_FILL if pd.isna(v) else next(c for low, c in reversed(SPECIAL_CLASSES) if int(v) >= low)
             for v in values]
    table = display.assign(_fill=fills, special_label=[suppressed if pd.isna(v) else str(int(v)) for v in values],
                           households=pd.to_numeric(display["households"]).astype("int64"))
    webmap.add_polygon_layer(
        fmap, table, key="special-households", name=tr("ov.special.layer"),
        tooltip_fields=["code", "name", "households", "special_label"],
        tooltip_aliases=[tr("field.code"), tr("field.name"), tr("card.households"), tr("card.special")],
        style={"weight": 1, "color": "#555555", "fillOpacity": 0.7}, color_column="_fill",
    )
    folium.LayerControl(collapsed=False).add_to(fmap)
    return webmap.assert_offline(fmap)
