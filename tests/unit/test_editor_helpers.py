"""Pure helpers behind the boundary editor: drawing → storage CRS, the Draw control, which
grids a drawing targets, per-worker workload, changed areas between two plans."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import shapely
from shapely.geometry import LineString, box

from boundaries.edits import merge_grids
from boundaries.impact import assess_impact
from boundaries.model import rectangular_plan
from services.editing import changed_areas, grids_under, worker_workload
from gis import webmap
from gis.crs import STORAGE_EPSG
from gis.errors import ConfigurationError, CRSError

LON0, LAT0, CELL = 113.3, 29.5, 0.001
L2 = "420102001001001"
A, B, C = L2 + "001", L2 + "002", L2 + "003"


@pytest.fixture(scope="module")
def plan():
    return rectangular_plan(lon0=LON0, lat0=LAT0, cell_deg=CELL)


def test_drawn_geojson_comes_back_in_storage_coordinates() -> None:
    feature = {"type": "Feature", "properties": {},
               "geometry": {"type": "LineString", "coordinates": [[113.30, 29.50], [113.31, 29.51]]}}
    assert webmap.geometry_from_display(feature).equals(LineString([(113.30, 29.50), (113.31, 29.51)]))
    # on an Amap (GCJ-02) basemap the drawing is shifted back: display(storage(x)) == x within 1 cm
    amap = webmap.Basemap("amap", datum="gcj02")
    storage = webmap.geometry_from_display(feature, basemap=amap)
    lon, lat = webmap.to_display_xy(*shapely.get_coordinates(storage).T, basemap=amap)
    assert np.allclose(np.column_stack([lon, lat]), [[113.30, 29.50], [113.31, 29.51]], atol=1e-7)
    assert not np.allclose(shapely.get_coordinates(storage), [[113.30, 29.50], [113.31, 29.51]], atol=1e-5)
    with pytest.raises(CRSError):
        webmap.geometry_from_display({"type": "Feature", "geometry": None})


def test_draw_control_is_served_locally() -> None:
    fmap = webmap.new_map(bounds=(113.3, 29.5, 113.31, 29.51))
    webmap.add_draw_control(fmap, shapes=("polyline",))
    assert webmap.external_links(fmap) == []
    html = fmap.get_root().render()
    assert "leaflet.draw.js" in html and '"polyline": {' in html and '"polygon": false' in html
    with pytest.raises(ConfigurationError):
        webmap.add_draw_control(fmap, shapes=("hexagon",))


def test_grids_under_orders_by_overlap(plan) -> None:
    # a line mostly inside A, a little inside B (A is west of B)
    line = LineString([(LON0 + 0.1 * CELL, LAT0 + 0.5 * CELL), (LON0 + 1.2 * CELL, LAT0 + 0.5 * CELL)])
    assert grids_under(plan, line) == [A, B]
    area = box(LON0 + 0.7 * CELL, LAT0 + 0.2 * CELL, LON0 + 1.9 * CELL, LAT0 + 0.6 * CELL)
    assert grids_under(plan, area) == [B, A]
    assert grids_under(plan, area, leaves_only=False)[:2] == ["420102001001", L2]  # parents overlap it all
    assert grids_under(plan, box(0, 0, 1, 1)) == []


def test_worker_workload_follows_the_lineage(plan) -> None:
    households = pd.DataFrame({
        "household_key": ["h1", "h2", "h3", "h4"], "members": [1, 2, 3, 4], "special": [False, True, False, False],
    })
    points = [shapely.Point(LON0 + 0.5 * CELL, LAT0 + 0.5 * CELL),  # A
              shapely.Point(LON0 + 1.5 * CELL, LAT0 + 0.5 * CELL),  # B
              shapely.Point(LON0 + 1.5 * CELL, LAT0 + 0.6 * CELL),  # B
              shapely.Point(LON0 + 0.5 * CELL, LAT0 + 1.5 * CELL)]  # C
    import geopandas as gpd

    hh = gpd.GeoDataFrame(households, geometry=points, crs=STORAGE_EPSG)
    result = merge_grids(plan, [A, B])
    impact = assess_impact(plan, result.plan, households=hh, lineage=result.lineage)
    staff = pd.DataFrame({"staff_key": ["w1", "w2", "w3", "g1"], "name": ["甲", "乙", "丙", "丁"],
                          "role": ["micro_worker", "micro_worker", "micro_worker", "grid_head"],
                          "grid_code": [A, B, C, L2]})
    table, balance = worker_workload(impact, staff, lineage=result.lineage)
    by = table.set_index("staff_key")
    kept = result.plan.loc[result.plan["code"].isin([A, B]), "code"].item()
    assert list(by.index) == ["w1", "w2", "w3"]  # only micro-workers
    assert by.loc["w1", "households_before"] == 1 and by.loc["w2", "households_before"] == 2
    # both workers of the merged pair now carry the kept grid until reassigned
    assert by.loc["w1", "households_after"] == by.loc["w2", "households_after"] == 3
    assert by.loc["w2", "residents_after"] == 6 and by.loc["w2", "special_households_after"] == 1
    assert by.loc["w3", "households_after"] == 1 and kept in (A, B)
    assert balance.loc["households", ("before", "max")] == 2
    assert balance.loc["households", ("after", "max")] == 3
    cv = np.std([3, 3, 1]) / np.mean([3, 3, 1])
    assert balance.loc["households", ("after", "cv")] == pytest.approx(cv)
    empty, empty_balance = worker_workload(impact, None)
    assert len(empty) == 0 and list(empty_balance.index) == ["households", "special_households", "residents"]


def test_changed_areas_highlight_what_moved(plan) -> None:
    result = merge_grids(plan, [A, B])
    diff, changes = changed_areas(plan, result.plan)
    kept = result.plan.loc[result.plan["code"].isin([A, B]), "code"].item()
    retired = ({A, B} - {kept}).pop()
    assert diff.retired == [retired]
    by = changes.set_index("code")
    assert by.loc[retired, "change"] == "retired"
    assert by.loc[kept, "change"] == "reshaped"
    # the kept grid's changed area is exactly the retired grid's land (~100 m × ~110 m)
    assert shapely.equals(by.geometry[kept], by.geometry[retired])
    assert by.loc[kept, "area_m2"] == pytest.approx(by.loc[retired, "area_m2"]) and 9000 < by.loc[kept, "area_m2"] < 12000
    assert changes.crs.to_epsg() == STORAGE_EPSG


def test_draw_control_speaks_the_readers_language() -> None:
    """The toolbar's buttons and tooltips are merged into L.drawLocal before the control is built."""
    from app_pages.i18n import draw_local

    fmap = webmap.new_map(bounds=(113.3, 29.5, 113.31, 29.51))
    words = draw_local()  # zh: no session, the default language
    assert words["draw"]["toolbar"]["buttons"]["polygon"] == "画多边形"
    assert words["draw"]["handlers"]["polyline"]["tooltip"]["start"] == "点击开始画线。"
    assert words["edit"]["toolbar"]["actions"]["save"]["text"] == "保存"
    webmap.add_draw_control(fmap, shapes=("polyline", "polygon"), local=words)
    html = fmap.get_root().render()
    assert "画多边形" in html and "点击第一个点闭合多边形" in html and "L.drawLocal" in html
    assert html.index("L.drawLocal") < html.index("new L.Control.Draw")  # merged before the toolbar exists
    assert webmap.external_links(fmap) == []
