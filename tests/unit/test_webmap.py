"""gis.webmap, gis.sketch and app_pages.maps without a database or a browser."""

from __future__ import annotations

import json
import re
from pathlib import Path

import folium
import folium.plugins
import geopandas as gpd
import numpy as np
import pytest
import shapely

from app_pages import maps
from app_pages.i18n import translate
from gis import webmap
from gis.errors import ConfigurationError, CRSError
from gis.settings import PROJECT_ROOT, Settings

XSS = "<img src=x onerror=alert(1)>"


def tr(key: str, /, **kwargs: object) -> str:
    return translate(key, "zh", **kwargs)


def _decoded(html: str) -> str:
    """The rendered page with JSON ``\\uXXXX`` escapes decoded (folium's tojson escapes <, >, &, CJK)."""
    return re.sub(r"\\u([0-9a-fA-F]{4})", lambda m: chr(int(m.group(1), 16)), html)


def _voronoi_coverage(n: int, *, seed: int = 0, origin=(113.20, 29.44), size_deg: float = 0.05) -> gpd.GeoSeries:
    """``n`` Voronoi cells tiling a square near Yueyang (EPSG:4490): a valid polygon coverage."""
    rng = np.random.default_rng(seed)
    x0, y0 = origin
    box = shapely.box(x0, y0, x0 + size_deg, y0 + size_deg)
    pts = shapely.multipoints(np.column_stack([rng.uniform(x0, x0 + size_deg, n), rng.uniform(y0, y0 + size_deg, n)]))
    cells = shapely.get_parts(shapely.voronoi_polygons(pts, extend_to=box))
    cells = shapely.intersection(cells, box)
    # Densify the shared edges once (≈ 1 m vertex spacing) and rebuild the faces from them,
    # so neighbours keep identical vertices: something to simplify, still a valid coverage.
    edges = shapely.segmentize(shapely.union_all(shapely.boundary(cells)), 1e-5)
    faces = shapely.get_parts(shapely.polygonize(shapely.get_parts(edges)))
    return gpd.GeoSeries(faces, crs=4490)


def _grids() -> gpd.GeoDataFrame:
    """Two level-1 grids, each with two micro-grids (a 2-level scheme 12+3)."""
    boxes = [
        shapely.box(113.20, 29.44, 113.21, 29.45),
        shapely.box(113.21, 29.44, 113.22, 29.45),
        shapely.box(113.20, 29.44, 113.205, 29.45),
        shapely.box(113.205, 29.44, 113.21, 29.45),
        shapely.box(113.21, 29.44, 113.215, 29.45),
        shapely.box(113.215, 29.44, 113.22, 29.45),
    ]
    return gpd.GeoDataFrame(
        {
            "code": ["430603003001", "430603003002", "430603003001001", "430603003001002", "430603003002001", "430603003002002"],
            "name": ["A", "B", XSS, "a2", "b1", "b2"],
            "level": [1, 1, 2, 2, 2, 2],
            "parent_code": [None, None, "430603003001", "430603003001", "430603003002", "430603003002"],
        },
        geometry=boxes,
        crs=4490,
    )


# -- local assets ---------------------------------------------------------------------------


def test_local_assets_replace_every_cdn_link_of_the_classes_we_use() -> None:
    webmap.use_local_assets()
    for cls in (folium.Map, folium.plugins.HeatMap, folium.plugins.HeatMapWithTime, folium.plugins.MarkerCluster,
                folium.plugins.FastMarkerCluster, folium.plugins.Draw, folium.plugins.GeoMan):
        links = [url for _, url in [*cls.default_js, *cls.default_css]]
        assert links, cls
        assert all(url.startswith(webmap.VENDOR_URL_PREFIX + "/") for url in links), (cls, links)


def test_every_local_asset_url_is_a_vendored_file() -> None:
    assets_dir = Settings().assets_dir
    for asset in webmap.VENDOR_ASSETS.values():
        path = assets_dir / asset.target
        assert path.is_file() and path.stat().st_size > 100, f"{path} missing: run `make assets`"
    # leaflet.css finds its images relative to itself
    assert (assets_dir / "leaflet/dist/images/layers.png").is_file()


def test_vendor_script_copies_from_node_modules(tmp_path: Path) -> None:
    import importlib.util

    spec = importlib.util.spec_from_file_location("vendor_assets", PROJECT_ROOT / "scripts" / "vendor_assets.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    written = module.vendor(PROJECT_ROOT / "node_modules", tmp_path)
    assert (tmp_path / "leaflet/dist/leaflet.js").read_bytes()[:200] == (
        PROJECT_ROOT / "node_modules/leaflet/dist/leaflet.js"
    ).read_bytes()[:200]
    assert len(written) >= len(webmap.VENDOR_ASSETS)
    with pytest.raises(FileNotFoundError, match="npm ci"):
        module.vendor(tmp_path / "no_node_modules", tmp_path / "out")


def test_assert_offline_refuses_cdn_plugins_and_branca_colormaps() -> None:
    fmap = webmap.new_map(bounds=(113.2, 29.4, 113.3, 29.5))
    assert webmap.external_links(fmap) == []
    folium.plugins.Fullscreen().add_to(fmap)
    with pytest.raises(ConfigurationError, match="external"):
        webmap.assert_offline(fmap)
    other = webmap.new_map()
    import branca.colormap

    branca.colormap.linear.YlOrRd_09.scale(0, 1).add_to(other)
    assert any("d3" in url for url in webmap.external_links(other))


def test_rendered_map_html_references_no_external_host() -> None:
    grids = _grids()
    points = gpd.GeoDataFrame(
        {"category": ["c"], "status": ["reported"], "description": [XSS], "address": ["x"], "grid_code": ["1"],
         "reported_at": ["2026-01-01"], "month": ["2026-01"]},
        geometry=shapely.points([[113.205, 29.445]]), crs=4490,
    )
    counts = grids[grids["level"] == 2].assign(incidents=[1, 0, 0, 0], closed=[0, 0, 0, 0], closure_rate=[0.0, np.nan, np.nan, np.nan])
    for fmap in (
        maps.grid_map(grids, tr=tr, households=points.assign(address=XSS), incidents=points, finest_level=2),
        maps.incident_map(points, counts, tr=tr)[0],
        maps.incident_time_map(points, grids),
    ):
        html = fmap.get_root().render()
        urls = re.findall(r"""(?:src|href)\s*=\s*["']([^"']+)["']""", html)
        assert urls and all(u.startswith("/app/static/vendor/") for u in urls), urls
        assert "cdn." not in html and "unpkg.com" not in html and "cdnjs" not in html


# -- basemaps -------------------------------------------------------------------------------


def test_basemaps() -> None:
    assert webmap.basemap_for(Settings()).tiles == ()
    xyz = webmap.basemap_for(Settings(basemap="xyz", basemap_url="http://tiles.lan/{z}/{x}/{y}.png"))
    assert xyz.tiles[0][0] == "http://tiles.lan/{z}/{x}/{y}.png" and xyz.datum == "wgs84"
    tdt = webmap.basemap_for(Settings(basemap="tianditu", tianditu_key="KEY123"))
    assert [("vec_w" in u, "cva_w" in u, "tk=KEY123" in u) for u, _, _ in tdt.tiles] == [(True, False, True), (False, True, True)]
    assert "{z}" in tdt.tiles[0][0] and "{x}" in tdt.tiles[0][0]
    assert webmap.basemap_for(Settings(basemap="amap")).datum == "gcj02"
    with pytest.raises(ConfigurationError, match="GRIDGOV_TIANDITU_KEY"):
        webmap.basemap_for(Settings(basemap="tianditu"))
    with pytest.raises(ConfigurationError, match="GRIDGOV_BASEMAP_URL"):
        webmap.basemap_for(Settings(basemap="xyz"))


def test_none_basemap_draws_no_tiles_but_keeps_layers() -> None:
    fmap = maps.grid_map(_grids(), tr=tr, finest_level=2)
    html = _decoded(fmap.get_root().render())
    assert "L.tileLayer" not in html
    assert html.count('"gg-level-2"') >= 1 and html.count('"gg-level-1"') >= 1


def test_amap_shifts_display_geometry_and_clicks_come_back() -> None:
    amap = webmap.basemap_for(Settings(basemap="amap"))
    grids = _grids()
    plain = webmap.to_display(grids, precision=None)
    shifted = webmap.to_display(grids, basemap=amap, precision=None)
    assert plain.crs.to_epsg() == 4326 and shifted.crs.to_epsg() == 4326
    # GCJ-02 offset near Yueyang is a few hundred metres (order of 1e-3 degrees)
    dx = shapely.get_x(shapely.centroid(shifted.geometry.array)) - shapely.get_x(shapely.centroid(plain.geometry.array))
    assert np.all((np.abs(dx) > 1e-4) & (np.abs(dx) < 1e-2))
    lon, lat = webmap.to_display_xy([113.205], [29.445], basemap=amap)
    back = webmap.from_display_xy(float(lon[0]), float(lat[0]), basemap=amap)
    assert back == pytest.approx((113.205, 29.445), abs=1e-7)
    assert webmap.from_display_xy(113.205, 29.445) == (113.205, 29.445)


def test_frames_without_crs_are_refused() -> None:
    with pytest.raises(CRSError, match="no CRS"):
        webmap.to_display(gpd.GeoDataFrame({"a": [1]}, geometry=[shapely.Point(113, 29)]))
    with pytest.raises(CRSError, match="to_display"):
        webmap.features_payload(_grids(), ["code"])


# -- simplification ---------------------------------------------------------------------------


def test_coverage_simplification_keeps_a_valid_coverage_and_shrinks_the_payload() -> None:
    cells = _voronoi_coverage(300)
    assert shapely.coverage_is_valid(np.asarray(cells.array))
    simplified = webmap.simplify_coverage_for_display(cells, tolerance_m=5.0)
    assert simplified.index.equals(cells.index) and simplified.crs == cells.crs
    assert shapely.coverage_is_valid(np.asarray(simplified.array))
    assert shapely.get_num_coordinates(np.asarray(simplified.array)).sum() < 0.2 * shapely.get_num_coordinates(
        np.asarray(cells.array)
    ).sum()
    # no gaps, no overlaps: the union keeps the outline's area (outer boundary simplified too)
    gk = 4547
    before = cells.to_crs(gk).area.sum()
    after = simplified.to_crs(gk).area.sum()
    union_after = shapely.coverage_union_all(np.asarray(simplified.to_crs(gk).array)).area
    assert after == pytest.approx(before, rel=1e-3)
    assert union_after == pytest.approx(after, rel=1e-6)
    # the input is not modified
    assert shapely.get_num_coordinates(np.asarray(cells.array)).sum() > shapely.get_num_coordinates(
        np.asarray(simplified.array)
    ).sum()


def test_shared_edges_stay_shared_after_display_precision() -> None:
    cells = _voronoi_coverage(50, seed=3)
    display = webmap.to_display(gpd.GeoDataFrame(geometry=cells), precision=1e-6)
    assert shapely.coverage_is_valid(np.asarray(display.geometry.array))


# -- escaping -------------------------------------------------------------------------------


def test_user_text_is_escaped_in_tooltips_labels_and_popups() -> None:
    grids = _grids()
    hh = gpd.GeoDataFrame({"address": [XSS], "grid_code": ["430603003001001"]},
                          geometry=shapely.points([[113.202, 29.445]]), crs=4490)
    inc = gpd.GeoDataFrame(
        {"category": [XSS], "status": ["reported"], "description": [XSS + "</script><script>alert(2)</script>"],
         "address": [XSS], "grid_code": ["430603003001001"], "reported_at": ["2026-01-01"], "month": ["2026-01"]},
        geometry=shapely.points([[113.203, 29.446]]), crs=4490,
    )
    counts = grids[grids["level"] == 2].assign(incidents=[1, 0, 0, 0], closed=[0, 0, 0, 0], closure_rate=[0.0, np.nan, np.nan, np.nan])
    for fmap in (maps.grid_map(grids, tr=tr, households=hh, incidents=inc, finest_level=2),
                 maps.incident_map(inc, counts, tr=tr)[0]):
        html = _decoded(fmap.get_root().render())
        assert "<img src=x" not in html
        assert "</script><script>alert(2)" not in html
        assert "&lt;img src=x onerror=alert(1)&gt;" in html


def test_escape_properties_keeps_numbers_and_the_input() -> None:
    frame = _grids().assign(n=range(6))
    out = webmap.escape_properties(frame.drop(columns="geometry"))
    assert out["name"].iloc[2] == "&lt;img src=x onerror=alert(1)&gt;"
    assert out["n"].tolist() == list(range(6))
    assert frame["name"].iloc[2] == XSS
    assert webmap.escape_text(None) == "" and webmap.escape_text(float("nan")) == ""


def test_features_payload_has_only_requested_properties() -> None:
    display = webmap.to_display(_grids())
    payload = webmap.features_payload(display, ["code"])
    assert len(payload["features"]) == 6
    assert set(payload["features"][0]["properties"]) == {"code"}
    json.dumps(payload)  # serializable


# -- composition ----------------------------------------------------------------------------


def test_grid_map_layers_and_styles() -> None:
    fmap = maps.grid_map(_grids(), tr=tr, finest_level=2)
    html = _decoded(fmap.get_root().render())
    # one GeoJson per level, labelled layers, a layer switch
    assert '"gg-level-1"' in html and '"gg-level-2"' in html
    assert "L.control.layers" in html
    assert tr("level.1") in html and tr("layer.labels") in html
    # level 1 is an unfilled thick outline; micro-grids are filled
    assert re.search(r'"fill": false[^}]*"weight": 4|"weight": 4[^}]*"fill": false', html)
    for code in _grids()["code"]:
        assert code in html


def test_grid_map_simplifies_big_coverages() -> None:
    cells = _voronoi_coverage(200, seed=5)
    grids = gpd.GeoDataFrame(
        {"code": [f"430603003001{i + 1:03d}" for i in range(len(cells))], "name": "x", "level": 2, "parent_code": "430603003001"},
        geometry=cells, crs=4490,
    )
    full = maps.grid_map(grids, tr=tr, finest_level=2, labels=False).get_root().render()
    simple = maps.grid_map(grids, tr=tr, finest_level=2, labels=False, simplify_tolerance_m=5).get_root().render()
    assert len(simple) < 0.5 * len(full)


def test_view_for_bounds() -> None:
    (lat, lon), zoom_small = webmap.view_for_bounds((113.200, 29.440, 113.201, 29.441))
    _, zoom_big = webmap.view_for_bounds((113.1, 29.3, 113.4, 29.6))
    assert (lat, lon) == pytest.approx((29.4405, 113.2005))
    assert 0 <= zoom_big < zoom_small <= 18


def test_color_bins() -> None:
    colors, edges = webmap.color_bins([0, 1, 2, 3, 10, np.nan])
    assert len(colors) == 6 and colors[-1] == "#cccccc"
    assert edges[0] == 0 and edges[-1] == 10
    assert colors[4] != colors[0]


# -- printable card -------------------------------------------------------------------------


def test_sketch_png_and_pdf_with_cjk_text() -> None:
    from gis.sketch import render_sketch

    geom = _grids().geometry.iloc[[2]]
    png = render_sketch(geom, title="网格公示卡", subtitle="松杨湖", lines=["网格长：张三 13800000000"], fmt="png", dpi=60)
    pdf = render_sketch(geom, title="网格公示卡", lines=["微网格员：李四"], fmt="pdf")
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 5000
    assert pdf[:5] == b"%PDF-"
    # the CJK font is embedded in the PDF
    assert b"NotoSansCJK" in pdf or b"Noto" in pdf


def test_sketch_fails_clearly_without_the_font(tmp_path: Path) -> None:
    from gis.sketch import render_sketch

    with pytest.raises(ConfigurationError, match="fonts-noto-cjk"):
        render_sketch(_grids().geometry.iloc[[0]], title="x", font_path=tmp_path / "missing.ttc")


def test_heat_animation_frames_bounds_and_assets() -> None:
    points = gpd.GeoDataFrame(
        {"month": ["2026-01", "2026-02", "2026-02"]},
        geometry=shapely.points([[113.20, 29.44], [113.25, 29.47], [113.22, 29.45]]), crs=4326,
    )
    fmap = webmap.new_map()
    layer = webmap.add_heatmap_animation(fmap, points, time_column="month")
    assert layer.labels == ["2026-01", "2026-02"] and [len(f) for f in layer.frames] == [1, 2]
    assert fmap.get_bounds() == [[29.44, 113.2], [29.47, 113.25]]
    html = fmap.get_root().render()
    assert "L.heatLayer" in html and "gg-time-slider" in html
    assert webmap.external_links(fmap) == []
