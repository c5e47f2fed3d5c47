"""The bad-input battery (issue #14): one table of cases across every import and command.

Each case writes its input (in every format the readers take: GeoJSON, GeoPackage, Shapefile,
KML, GeoParquet, CSV, XLSX) or builds its arguments, runs the command through the one CLI
helper (:func:`tests.db._cli.run`) and asserts

* the exit code (1 bad input or refused, 2 usage or environment),
* that stderr holds exactly one ``error:`` line and no traceback, and the words that name the
  row or feature and the rule broken (``says``),
* for a refusal: that **every table is byte-identical** afterwards (a per-table md5 over all
  rows as text, :func:`tests.db._cli.table_checksums`);
* for an accepted edge case (``stored``): what the database then holds (run on a fresh copy).

The database is a small street made through the CLI itself: one community, one level-2 grid,
four micro-grids of 0.01° × 0.01° near Changsha (EPSG:4490), households, staff with
assignments, incidents and a visit. ``BATTERY`` is the table; ``docs/reliability.md`` records
its size and results.
"""

from __future__ import annotations

from testdb import database_env

import datetime as dt
import json
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from sqlalchemy import create_engine, text

from tests.db._cli import run, table_checksums

pytestmark = pytest.mark.db

L1 = "430104001001"
L2 = L1 + "001"
MICRO = [L2 + f"{i:03d}" for i in (1, 2, 3, 4)]
COMMUNITY = shapely.box(112.90, 28.20, 112.92, 28.22)
QUADRANTS = [  # SW, SE, NW, NE
    shapely.box(112.90, 28.20, 112.91, 28.21), shapely.box(112.91, 28.20, 112.92, 28.21),
    shapely.box(112.90, 28.21, 112.91, 28.22), shapely.box(112.91, 28.21, 112.92, 28.22),
]
NOW = dt.datetime.now(dt.timezone(dt.timedelta(hours=8)))
FUTURE = (NOW + dt.timedelta(days=30)).strftime("%Y-%m-%d %H:%M")
FUTURE_DAY = (NOW + dt.timedelta(days=30)).strftime("%Y-%m-%d")
PAST = "2025-06-01 09:00"
BOWTIE = shapely.Polygon([(112.90, 28.20), (112.91, 28.21), (112.91, 28.20), (112.90, 28.21), (112.90, 28.20)])


# --------------------------------------------------------------------------------------
# the street every case runs against
# --------------------------------------------------------------------------------------
@dataclass
class Street:
    template: str  # the built street (copied for every accepted case)
    work: str  # a copy refusals run against (and must leave as it is)
    copy: Callable[[], str]
    ids: dict[str, int] = field(default_factory=dict)


def plan_frame(micro: list[Any] | None = None, *, codes: list[str] | None = None,
               names: list[str] | None = None) -> gpd.GeoDataFrame:
    micro = QUADRANTS if micro is None else micro
    codes = MICRO if codes is None else codes
    names = names or [f"微网格{i + 1}" for i in range(len(codes))]
    return gpd.GeoDataFrame({"网格编码": [L1, L2, *codes], "网格名称": ["桃子湖社区", "第一网格", *names]},
                            geometry=[COMMUNITY, COMMUNITY, *micro], crs=4490)


def _check(code: int, out: str, err: str) -> None:
    assert code == 0, err + out


@pytest.fixture(scope="module")
def street(throwaway_databases, tmp_path_factory) -> Street:
    tmp = tmp_path_factory.mktemp("street")
    url = throwaway_databases.create()
    env = database_env(url)
    plan = tmp / "plan.gpkg"
    plan_frame().to_file(plan, driver="GPKG")
    _check(*run(["import", "grids", str(plan)], env=env))
    households = tmp / "hh.csv"
    households.write_text("户号,地址,人口,经度,纬度\nH1,一号,3,112.905,28.205\nH2,二号,2,112.915,28.215\n"
                          "H3,区外,1,112.95,28.21\n", encoding="utf-8")
    _check(*run(["import", "households", str(households), "--crs", "4490"], env=env))
    staff = tmp / "staff.csv"
    staff.write_text(
        "工号,姓名,电话,网格编码,角色,开始日期\n"
        f"W1,张一,13800000001,{MICRO[0]},微网格员,2024-01-01\n"
        f"W2,李二,13800000002,{MICRO[3]},微网格员,2024-01-01\n"
        f"W3,王三,13800000003,{MICRO[1]},微网格员,2024-01-01\n"
        f"G1,赵网格长,13800000004,{L2},网格长,2024-01-01\n", encoding="utf-8")
    _check(*run(["import", "staff", str(staff)], env=env))
    incidents = tmp / "inc.csv"
    incidents.write_text(
        "事件编号,上报时间,类别,描述,状态,办结时间,经度,纬度\n"
        "E1,2026-01-10 09:00,环境卫生,垃圾,,,112.905,28.205\n"
        "E2,2026-01-11 09:00,矛盾纠纷,噪音,已办结,2026-01-12 10:00,112.915,28.215\n", encoding="utf-8")
    _check(*run(["import", "incidents", str(incidents), "--crs", "4490"], env=env))
    _check(*run(["incident", "report", "--lon", "112.906", "--lat", "28.206", "--category", "安全隐患",
                 "--at", PAST], env=env))
    engine = create_engine(url)
    with engine.connect() as conn:
        ids = dict(conn.execute(text("SELECT coalesce(incident_key, 'R'), id FROM incidents")).all())
        ids.update({f"hh.{k}": v for k, v in conn.execute(text("SELECT household_key, id FROM households")).all()})
        ids.update({f"staff.{k}": v for k, v in conn.execute(text("SELECT staff_key, id FROM staff")).all()})
    engine.dispose()
    _check(*run(["incident", "accept", str(ids["R"])], env=env))
    _check(*run(["visit", "record", "--household", str(ids["hh.H1"]), "--staff", "W1", "--at", PAST], env=env))
    work = throwaway_databases.copy(url)
    return Street(template=url, work=work, copy=lambda: throwaway_databases.copy(url), ids=ids)


# --------------------------------------------------------------------------------------
# writing inputs
# --------------------------------------------------------------------------------------
def geojson(path: Path, features: list[tuple[dict[str, Any], Any]], *, raw_properties: list[str] | None = None) -> Path:
    """A FeatureCollection; ``raw_properties`` replaces a feature's properties with raw JSON text (escapes)."""
    items = []
    for i, (props, geom) in enumerate(features):
        geometry = json.dumps(shapely.geometry.mapping(geom)) if hasattr(geom, "geom_type") else json.dumps(geom)
        props_json = raw_properties[i] if raw_properties and raw_properties[i] is not None else json.dumps(props,
                                                                                                       ensure_ascii=False)
        items.append(f'{{"type": "Feature", "properties": {props_json}, "geometry": {geometry}}}')
    path.write_text('{"type": "FeatureCollection", "features": [' + ", ".join(items) + "]}", encoding="utf-8")
    return path


def plan_features(micro: list[Any] | None = None, *, names: list[str] | None = None,
                  codes: list[str] | None = None) -> list[tuple[dict[str, Any], Any]]:
    frame = plan_frame(micro, codes=codes, names=names)
    return [({"网格编码": c, "网格名称": n}, g) for c, n, g in zip(frame["网格编码"], frame["网格名称"], frame.geometry)]


def vector(path: Path, frame: gpd.GeoDataFrame) -> Path:
    drivers = {".gpkg": "GPKG", ".shp": "ESRI Shapefile", ".kml": "KML", ".geojson": "GeoJSON"}
    if path.suffix == ".parquet":
        frame.to_parquet(path)
    elif path.suffix == ".shp":
        frame.rename(columns={"网格编码": "code", "网格名称": "name"}).to_file(path, driver=drivers[".shp"],
                                                                        encoding="utf-8")
    else:
        frame.to_file(path, driver=drivers[path.suffix])
    return path


def csv(path: Path, body: str, *, encoding: str = "utf-8") -> Path:
    path.write_bytes(body.encode(encoding) if isinstance(body, str) else body)
    return path


def xlsx(path: Path, rows: list[dict[str, Any]]) -> Path:
    pd.DataFrame(rows).to_excel(path, index=False)
    return path


def circle(n: int, *, cx: float = 112.905, cy: float = 28.205, r: float = 0.004) -> shapely.Polygon:
    t = np.linspace(0, 2 * np.pi, n, endpoint=False)
    return shapely.Polygon(np.column_stack([cx + r * np.cos(t), cy + r * np.sin(t)]))


def shrunk(geom: Any, metres: float) -> Any:
    return gpd.GeoSeries([geom], crs=4490).to_crs(4547).buffer(-metres, join_style="mitre").to_crs(4490).iloc[0]


HH = "户号,地址,人口,经度,纬度\n"
INC = "事件编号,上报时间,类别,描述,状态,办结时间,经度,纬度\n"
STAFF = "工号,姓名,电话,网格编码,角色,开始日期,结束日期\n"


def hh_csv(name: str, rows: str, *, encoding: str = "utf-8", header: str = HH) -> Callable[[Path, Street], list[str]]:
    return lambda tmp, s: ["import", "households", str(csv(tmp / name, header + rows, encoding=encoding)),
                           "--crs", "4490"]


def inc_csv(name: str, rows: str) -> Callable[[Path, Street], list[str]]:
    return lambda tmp, s: ["import", "incidents", str(csv(tmp / name, INC + rows)), "--crs", "4490"]


def staff_csv(name: str, rows: str) -> Callable[[Path, Street], list[str]]:
    return lambda tmp, s: ["import", "staff", str(csv(tmp / name, STAFF + rows))]


def grids_file(name: str, frame_or_features: Callable[[], Any], *extra: str) -> Callable[[Path, Street], list[str]]:
    def make(tmp: Path, s: Street) -> list[str]:
        data = frame_or_features()
        path = tmp / name
        if isinstance(data, gpd.GeoDataFrame):
            vector(path, data)
        else:
            geojson(path, data)
        return ["import", "grids", str(path), *extra]

    return make


def args(*items: str | Callable[[Street], str]) -> Callable[[Path, Street], list[str]]:
    """Plain arguments; a callable item is given the street (ids known only once it is built)."""
    return lambda tmp, s: [i(s) if callable(i) else i for i in items]


def incident(key: str) -> Callable[[Street], str]:
    return lambda s: str(s.ids[key])


def household(key: str) -> Callable[[Street], str]:
    return lambda s: str(s.ids[f"hh.{key}"])


# --------------------------------------------------------------------------------------
# checks of what an accepted case stored
# --------------------------------------------------------------------------------------
def query(url: str, sql: str, **params: Any) -> list[tuple[Any, ...]]:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return [tuple(r) for r in conn.execute(text(sql), params).all()]
    finally:
        engine.dispose()


def stores(sql: str, expected: Any, **params: Any) -> Callable[[str, str], None]:
    def check(url: str, out: str) -> None:
        got = query(url, sql, **params)
        assert got == expected, (got, expected)

    return check


# --------------------------------------------------------------------------------------
# the battery
# --------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Case:
    id: str
    category: str
    make: Callable[[Path, Street], list[str]]
    code: int
    says: tuple[str, ...] = ()
    env: dict[str, str] = field(default_factory=dict)
    stored: Callable[[str, str], None] | None = None  # accepted edge case: what the database holds


def _long(n: int) -> str:
    return "长" * n


BATTERY: list[Case] = [
    # ---- grids: coverage ---------------------------------------------------------------
    Case("grid-shrunk-30m-gap", "grids/coverage", grids_file("gap.geojson", lambda: plan_features(
        [shrunk(QUADRANTS[0], 30), *QUADRANTS[1:]])), 1, ("gap", L2, f"row 1: gap {L2}")),
    Case("grid-hole", "grids/coverage", grids_file("hole.gpkg", lambda: plan_frame(
        [QUADRANTS[0].difference(shapely.box(112.904, 28.204, 112.906, 28.206)), *QUADRANTS[1:]])), 1,
        ("gap", "a hole in", MICRO[0])),
    Case("grid-only-the-shrunk-micro", "grids/coverage", grids_file("only.geojson", lambda: [
        ({"网格编码": MICRO[0], "网格名称": "微网格1"}, shrunk(QUADRANTS[0], 30))]), 1, ("gap", L2, "row 0")),
    Case("grid-overlap", "grids/coverage", grids_file("overlap.gpkg", lambda: plan_frame(
        [shapely.box(112.90, 28.20, 112.915, 28.21), *QUADRANTS[1:]])), 1, ("overlap", MICRO[0])),
    Case("grid-child-outside", "grids/coverage", grids_file("outside.shp", lambda: plan_frame(
        [*QUADRANTS[:3], shapely.box(112.91, 28.21, 112.93, 28.22)])), 1, ("child_outside", MICRO[3])),
    Case("grid-multipart", "grids/coverage", grids_file("multi.geojson", lambda: plan_features(
        [shapely.MultiPolygon([shapely.box(112.90, 28.20, 112.905, 28.21), shapely.box(112.906, 28.20, 112.91, 28.21)]),
         *QUADRANTS[1:]])), 1, ("multipart", MICRO[0])),
    Case("grid-unknown-parent", "grids/coverage", grids_file("orphan.geojson", lambda: [
        ({"网格编码": "430104009009001001", "网格名称": "孤儿"}, QUADRANTS[0])]), 1, ("unknown_parent", "430104009009001001")),
    # ---- grids: geometry ---------------------------------------------------------------
    Case("grid-bowtie-shp", "grids/geometry", grids_file("bowtie.shp", lambda: plan_frame([BOWTIE, *QUADRANTS[1:]])), 1,
         ("invalid_geometry", "Self-intersection", MICRO[0])),
    Case("grid-bowtie-kml", "grids/geometry", grids_file("bowtie.kml", lambda: plan_frame([BOWTIE, *QUADRANTS[1:]])), 1,
         ("invalid_geometry", MICRO[0])),
    Case("grid-empty-geometry", "grids/geometry", grids_file("empty.geojson", lambda: [
        *plan_features()[:-1], (plan_features()[-1][0], {"type": "Polygon", "coordinates": []})]), 1,
        ("empty_geometry", MICRO[3])),
    Case("grid-point-geometry", "grids/geometry", grids_file("point.geojson", lambda: plan_features(
        [*QUADRANTS[:3], shapely.Point(112.915, 28.215)])), 1, ("wrong_geometry_type", "Point", MICRO[3])),
    Case("grid-mixed-types", "grids/geometry", grids_file("mixed.geojson", lambda: plan_features(
        [*QUADRANTS[:3], shapely.LineString([(112.91, 28.21), (112.92, 28.22)])])), 1,
        ("wrong_geometry_type", "LineString", MICRO[3])),
    Case("grid-swapped", "grids/geometry", grids_file("swapped.gpkg", lambda: plan_frame().set_geometry(
        shapely.transform(plan_frame().geometry.values, lambda xy: xy[:, ::-1]))), 1, ("swapped_lon_lat",)),
    Case("grid-projected-metres-as-degrees", "grids/geometry", grids_file("metres.geojson", lambda: plan_features(
        [shapely.box(500000, 3100000, 501000, 3101000), *QUADRANTS[1:]])), 1, ("out_of_range", MICRO[0])),
    Case("grid-too-many-vertices", "grids/limits", grids_file("big.geojson", lambda: plan_features(
        [circle(5000), *QUADRANTS[1:]])), 1, ("GRIDGOV_MAX_VERTICES", "about 5,0", "feature 2"), env={"GRIDGOV_MAX_VERTICES": "1000"}),
    Case("grid-too-many-vertices-gpkg", "grids/limits", grids_file("big.gpkg", lambda: plan_frame(
        [circle(5000), *QUADRANTS[1:]])), 1, ("too_many_vertices", MICRO[0]), env={"GRIDGOV_MAX_VERTICES": "1000"}),
    Case("grid-too-many-features", "grids/limits", grids_file("many.gpkg", plan_frame), 1,
         ("GRIDGOV_MAX_FEATURES", "6 rows"), env={"GRIDGOV_MAX_FEATURES": "5"}),
    Case("grid-file-too-large", "grids/limits", grids_file("large.geojson", lambda: plan_features(
        names=["x" * 1_200_000, "b", "c", "d"])), 1, ("GRIDGOV_MAX_FILE_MB",), env={"GRIDGOV_MAX_FILE_MB": "1"}),
    # ---- grids: attributes -------------------------------------------------------------
    Case("grid-nul-in-name-geojson", "grids/text", lambda tmp, s: ["import", "grids", str(geojson(
        tmp / "nul.geojson", plan_features(), raw_properties=[None, None, None, None, None,
                                                              f'{{"网格编码": "{MICRO[3]}", "网格名称": "a\\u0000b"}}']))],
         1, ("control_character", "NUL", "网格名称", MICRO[3])),
    Case("grid-esc-in-name-gpkg", "grids/text", grids_file("esc.gpkg", lambda: plan_frame(
        names=["微网格1", "bad\x1bname", "微网格3", "微网格4"])), 1, ("control_character", "ESC", MICRO[1])),
    Case("grid-newline-in-name", "grids/text", grids_file("nl.geojson", lambda: plan_features(
        names=["微网格1", "two\nlines", "微网格3", "微网格4"])), 1, ("control_character", "line feed", MICRO[1])),
    Case("grid-name-too-long", "grids/text", grids_file("long.geojson", lambda: plan_features(
        names=[_long(201), "b", "c", "d"])), 1, ("text_too_long", "201", MICRO[0])),
    Case("grid-duplicate-code", "grids/keys", grids_file("dup.gpkg", lambda: plan_frame(
        codes=[MICRO[0], MICRO[1], MICRO[2], MICRO[2]])), 1, ("duplicate_key", MICRO[2])),
    Case("grid-letters-in-code", "grids/keys", grids_file("letters.geojson", lambda: plan_features(
        codes=[MICRO[0], MICRO[1], MICRO[2], L2 + "00X"])), 1, ("invalid_code", L2 + "00X")),
    Case("grid-code-wrong-length", "grids/keys", grids_file("short.geojson", lambda: plan_features(
        codes=[MICRO[0], MICRO[1], MICRO[2], L2 + "04"])), 1, ("invalid_code", L2 + "04")),
    Case("grid-level-disagrees", "grids/keys", lambda tmp, s: ["import", "grids", str(vector(
        tmp / "level.gpkg", plan_frame().assign(level=["1", "2", "3", "3", "3", "2"])))], 1,
        ("level_mismatch", MICRO[3])),
    Case("grid-parent-disagrees", "grids/keys", lambda tmp, s: ["import", "grids", str(vector(
        tmp / "parent.gpkg", plan_frame().assign(parent_code=[None, L1, L2, L2, L2, L1])))], 1,
        ("parent_mismatch", MICRO[3])),
    Case("grid-no-code-column", "grids/keys", lambda tmp, s: ["import", "grids", str(vector(
        tmp / "nocode.gpkg", plan_frame().rename(columns={"网格编码": "编号x"})))], 1, ("no code column",)),
    Case("grid-sql-payload-name", "grids/payload", grids_file("sql.geojson", lambda: plan_features(
        names=["x'); DROP TABLE grids; --", "微网格2", "微网格3", "微网格4"])), 0, (),
        stored=stores("SELECT name FROM grids WHERE code = :c", [("x'); DROP TABLE grids; --",)], c=MICRO[0])),
    Case("grid-html-payload-name", "grids/payload", grids_file("html.gpkg", lambda: plan_frame(
        names=["<script>alert(1)</script>", "微网格2", "微网格3", "微网格4"])), 0, (),
        stored=stores("SELECT name FROM grids WHERE code = :c", [("<script>alert(1)</script>",)], c=MICRO[0])),
    Case("grid-formula-payload-name", "grids/payload", grids_file("formula.parquet", lambda: plan_frame(
        names=["=HYPERLINK(\"http://x\")", "微网格2", "微网格3", "微网格4"])), 0, (),
        stored=stores("SELECT name FROM grids WHERE code = :c", [("=HYPERLINK(\"http://x\")",)], c=MICRO[0])),
    # ---- grids: CRS, dimensions, formats -------------------------------------------------
    Case("grid-shp-without-prj", "grids/crs", lambda tmp, s: _no_prj(tmp), 1, ("has no CRS", "--crs")),
    Case("grid-shp-without-prj-given-crs", "grids/crs", lambda tmp, s: [*_no_prj(tmp, rename=True), "--crs", "4490"], 0,
         (), stored=stores("SELECT name, ST_SRID(geom) FROM grids WHERE code = :c", [("改名", 4490)], c=MICRO[0])),
    Case("grid-unknown-crs", "grids/crs", lambda tmp, s: ["import", "grids", str(vector(tmp / "c.gpkg", plan_frame())),
                                                         "--crs", "EPSG:999999"], 1, ("999999",)),
    Case("grid-3d-z", "grids/dimensions", lambda tmp, s: ["import", "grids", str(geojson(tmp / "z.geojson", [
        (p, shapely.force_3d(g, 50.0)) for p, g in plan_features()]))], 0, ("dropped_dimensions",),
         stored=stores("SELECT ST_NDims(geom), ST_Equals(geom, ST_Multi(ST_MakeEnvelope(112.9, 28.2, 112.91, 28.21, 4490)))"
                       " FROM grids WHERE code = :c", [(2, True)], c=MICRO[0])),
    Case("grid-polygon-m-csv", "grids/dimensions", lambda tmp, s: ["import", "grids", str(csv(
        tmp / "m.csv", "code,name,wkt\n" + "".join(
            f'{c},{n},"{shapely.to_wkt(g, rounding_precision=6)}"\n'.replace("POLYGON ((", "POLYGON M ((").replace(
                ", ", " 7, ").replace("))", " 7))")
            for c, n, g in zip(plan_frame()["网格编码"], ["社区", "网格", "甲", "乙", "丙", "丁"], plan_frame().geometry)))),
        "--crs", "4490"], 0, ("dropped_dimensions",),
         stored=stores("SELECT name, ST_NDims(geom) FROM grids WHERE code = :c", [("甲", 2)], c=MICRO[0])),
    Case("grid-multipart-enclave-allowed", "grids/coverage", lambda tmp, s: _enclave(tmp), 0, (),
         stored=stores("SELECT ST_NumGeometries(geom) FROM grids WHERE code = :c", [(2,)], c=MICRO[0])),
    Case("grid-html-as-geojson", "grids/format", lambda tmp, s: ["import", "grids", str(csv(
        tmp / "page.geojson", "<!DOCTYPE html><html><body>Not found</body></html>"))], 1, ("HTML page",)),
    Case("grid-random-bytes-geojson", "grids/format", lambda tmp, s: ["import", "grids", str(csv(
        tmp / "noise.geojson", os.urandom(4096)))], 1, ("binary data", "Supported")),
    Case("grid-random-bytes-gpkg", "grids/format", lambda tmp, s: ["import", "grids", str(csv(
        tmp / "noise.gpkg", os.urandom(4096)))], 1, ("Supported",)),
    Case("grid-random-bytes-parquet", "grids/format", lambda tmp, s: ["import", "grids", str(csv(
        tmp / "noise.parquet", os.urandom(4096)))], 1, ("GeoParquet", "Supported")),
    Case("grid-random-bytes-kml", "grids/format", lambda tmp, s: ["import", "grids", str(csv(
        tmp / "noise.kml", os.urandom(4096)))], 1, ("Supported",)),
    Case("grid-truncated-shp", "grids/format", lambda tmp, s: _truncated(tmp), 1, ("truncated",)),
    Case("grid-shp-missing-dbf", "grids/format", lambda tmp, s: _missing_dbf(tmp), 1, ("missing", ".dbf")),
    Case("grid-empty-file", "grids/format", lambda tmp, s: ["import", "grids", str(csv(tmp / "e.geojson", ""))], 1,
         ("file is empty",)),
    Case("grid-not-json", "grids/format", lambda tmp, s: ["import", "grids", str(csv(tmp / "t.geojson", "hello"))], 1,
         ("is not GeoJSON",)),
    Case("grid-truncated-json", "grids/format", lambda tmp, s: ["import", "grids", str(csv(
        tmp / "cut.geojson", json.dumps({"type": "FeatureCollection", "features": []})[:-3]))], 1, ("cut.geojson",)),
    Case("grid-zip-renamed-csv", "grids/format", lambda tmp, s: ["import", "grids", str(csv(
        tmp / "zip.csv", b"PK\x03\x04" + os.urandom(200))), "--crs", "4490"], 1, ("ZIP archive",)),
    Case("grid-missing-file", "grids/format", args("import", "grids", "/nonexistent/plan.gpkg"), 1, ("file not found",)),
    Case("grid-xlsx-wkt-bowtie", "grids/geometry", lambda tmp, s: ["import", "grids", str(xlsx(tmp / "g.xlsx", [
        {"code": c, "name": n, "wkt": g.wkt} for c, n, g in zip(
            plan_frame()["网格编码"], ["a", "b", "c", "d", "e", "f"], [COMMUNITY, COMMUNITY, BOWTIE, *QUADRANTS[1:]])])),
        "--crs", "4490"], 1, ("invalid_geometry", MICRO[0])),
    # ---- households --------------------------------------------------------------------
    Case("hh-nul-in-address", "households/text", hh_csv("nul.csv", "N1,a\x00b,1,112.905,28.205\n"), 1,
         ("control_character", "NUL", "地址", "N1")),
    Case("hh-nul-in-key", "households/text", hh_csv("nulkey.csv", "N\x002,a,1,112.905,28.205\n"), 1,
         ("control_character", "户号")),
    Case("hh-bell-in-address", "households/text", hh_csv("bell.csv", "N3,ring\x07,1,112.905,28.205\n"), 1,
         ("control_character", "U+0007", "N3")),
    Case("hh-c1-control", "households/text", hh_csv("c1.csv", "N4,x\u0085y,1,112.905,28.205\n"), 1,
         ("control_character", "U+0085", "N4")),
    Case("hh-address-too-long", "households/text", hh_csv("longaddr.csv", f"N5,{_long(501)},1,112.905,28.205\n"), 1,
         ("text_too_long", "501", "N5")),
    Case("hh-key-too-long", "households/text", hh_csv("longkey.csv", f"{'K' * 101},a,1,112.905,28.205\n"), 1,
         ("text_too_long", "101")),
    Case("hh-members-negative", "households/counts", hh_csv("m1.csv", "M1,a,-3,112.905,28.205\n"), 1,
         ("bad_members", "-3", "M1")),
    Case("hh-members-billion", "households/counts", hh_csv("m2.csv", "M2,a,1000000000,112.905,28.205\n"), 1,
         ("bad_members", "1000000000", "M2")),
    Case("hh-members-zero", "households/counts", hh_csv("m3.csv", "M3,a,0,112.905,28.205\n"), 1, ("bad_members", "M3")),
    Case("hh-members-51", "households/counts", hh_csv("m4.csv", "M4,a,51,112.905,28.205\n"), 1, ("bad_members", "1–50")),
    Case("hh-members-fraction", "households/counts", hh_csv("m5.csv", "M5,a,2.5,112.905,28.205\n"), 1,
         ("bad_members", "not a whole number")),
    Case("hh-members-text", "households/counts", hh_csv("m6.csv", "M6,a,三口,112.905,28.205\n"), 1,
         ("bad_members", "not a number")),
    Case("hh-members-inf", "households/counts", hh_csv("m7.csv", "M7,a,inf,112.905,28.205\n"), 1, ("bad_members", "M7")),
    Case("hh-members-50-kept", "households/counts", hh_csv("m8.csv", "M8,a,50,112.905,28.205\n"), 0, (),
         stored=stores("SELECT members, grid_code FROM households WHERE household_key = 'M8'", [(50, MICRO[0])])),
    Case("hh-members-empty-is-one", "households/counts", hh_csv("m9.csv", "M9,a,,112.905,28.205\n"), 0, (),
         stored=stores("SELECT members FROM households WHERE household_key = 'M9'", [(1,)])),
    Case("hh-members-negative-xlsx", "households/counts", lambda tmp, s: ["import", "households", str(xlsx(
        tmp / "m.xlsx", [{"户号": "X1", "地址": "a", "人口": -3, "经度": 112.905, "纬度": 28.205}])), "--crs", "4490"], 1,
         ("bad_members", "X1")),
    Case("hh-members-negative-geojson", "households/counts", lambda tmp, s: ["import", "households", str(geojson(
        tmp / "m.geojson", [({"户号": "J1", "地址": "a", "人口": -3}, shapely.Point(112.905, 28.205))]))], 1,
         ("bad_members", "J1")),
    Case("hh-members-negative-gpkg", "households/counts", lambda tmp, s: ["import", "households", str(vector(
        tmp / "m.gpkg", gpd.GeoDataFrame({"户号": ["P1"], "地址": ["a"], "人口": [-3]},
                                         geometry=[shapely.Point(112.905, 28.205)], crs=4490)))], 1,
         ("bad_members", "P1")),
    Case("hh-duplicate-key", "households/keys", hh_csv("dup.csv", "D1,a,1,112.905,28.205\nD1,b,1,112.906,28.206\n"), 1,
         ("duplicate_key", "D1")),
    Case("hh-missing-key", "households/keys", hh_csv("nokey.csv", ",a,1,112.905,28.205\n"), 1, ("missing_key",)),
    Case("hh-swapped", "households/coordinates", hh_csv("sw.csv", "S1,a,1,28.205,112.905\n"), 1,
         ("swapped_lon_lat", "S1")),
    Case("hh-missing-coordinates", "households/coordinates", hh_csv("nc.csv", "S2,a,1,,\n"), 1,
         ("missing_coordinates", "S2")),
    Case("hh-text-coordinates", "households/coordinates", hh_csv("tc.csv", "S3,a,1,东经112,北纬28\n"), 1,
         ("missing_coordinates", "S3")),
    Case("hh-nan-coordinates", "households/coordinates", hh_csv("nan.csv", "S4,a,1,nan,nan\n"), 1,
         ("missing_coordinates", "S4")),
    Case("hh-inf-coordinates", "households/coordinates", hh_csv("inf.csv", "S5,a,1,inf,28.2\n"), 1,
         ("missing_coordinates", "S5")),
    Case("hh-huge-coordinates", "households/coordinates", hh_csv("huge.csv", "S6,a,1,1e308,28.2\n"), 1,
         ("out_of_range", "S6")),
    Case("hh-outside-region", "households/coordinates", lambda tmp, s: [
        *hh_csv("reg.csv", "S7,a,1,112.905,28.205\n")(tmp, s), "--region", "100,20,110,25"], 1,
         ("outside_region", "100,20,110,25")),
    Case("hh-bad-region-option", "households/usage", lambda tmp, s: [
        *hh_csv("reg2.csv", "S8,a,1,112.905,28.205\n")(tmp, s), "--region", "112,28"], 2, ("--region",)),
    Case("hh-polygon-geometry", "households/geometry", lambda tmp, s: ["import", "households", str(geojson(
        tmp / "poly.geojson", [({"户号": "G1", "地址": "a"}, QUADRANTS[0])]))], 1, ("wrong_geometry_type", "G1")),
    Case("hh-no-crs-csv", "households/crs", lambda tmp, s: ["import", "households", str(csv(
        tmp / "nocrs.csv", HH + "C1,a,1,112.905,28.205\n"))], 1, ("has no CRS",)),
    Case("hh-unknown-x-field", "households/usage", lambda tmp, s: [
        *hh_csv("xf.csv", "C2,a,1,112.905,28.205\n")(tmp, s), "--x-field", "经度X", "--y-field", "纬度"], 1,
         ("经度X",)),
    Case("hh-random-bytes-csv", "households/format", lambda tmp, s: ["import", "households", str(csv(
        tmp / "noise.csv", os.urandom(4096))), "--crs", "4490"], 1, ("binary data", "Supported")),
    Case("hh-random-bytes-xlsx", "households/format", lambda tmp, s: ["import", "households", str(csv(
        tmp / "noise.xlsx", os.urandom(4096))), "--crs", "4490"], 1, ("Excel", "Supported")),
    Case("hh-pdf-renamed-csv", "households/format", lambda tmp, s: ["import", "households", str(csv(
        tmp / "doc.csv", b"%PDF-1.4\n" + os.urandom(300))), "--crs", "4490"], 1, ("PDF",)),
    Case("hh-gbk-detected", "households/encoding", hh_csv("gbk.csv", "K1,岳麓区桃子湖路一号,2,112.905,28.205\n",
                                                          encoding="gbk"), 0, (),
         stored=stores("SELECT address FROM households WHERE household_key = 'K1'", [("岳麓区桃子湖路一号",)])),
    Case("hh-wrong-encoding-given", "households/encoding", lambda tmp, s: [
        *hh_csv("enc.csv", "K2,岳麓区,1,112.905,28.205\n")(tmp, s), "--encoding", "ascii"], 1, ("cannot be decoded",)),
    Case("hh-unknown-encoding-name", "households/encoding", lambda tmp, s: [
        *hh_csv("enc2.csv", "K3,a,1,112.905,28.205\n")(tmp, s), "--encoding", "klingon"], 1, ("klingon",)),
    Case("hh-broken-utf8", "households/encoding", lambda tmp, s: ["import", "households", str(csv(
        tmp / "broken.csv", (HH + "K4,岳麓区桃子湖路,1,112.905,28.205\n").encode("utf-8")[:-40] + b"\xff\xfe"
        + ",1,112.905,28.205\n".encode())), "--crs", "4490"], 1, ("--encoding",)),
    Case("hh-header-only", "households/format", hh_csv("empty_rows.csv", ""), 0, (),
         stored=stores("SELECT count(*) FROM households", [(3,)])),
    Case("hh-unbalanced-quote", "households/format", hh_csv("quote.csv", 'Q1,"unterminated,1,112.905,28.205\n'), 1,
         ()),
    Case("hh-too-many-rows", "households/limits", hh_csv("rows.csv", "R1,a,1,112.905,28.205\nR2,a,1,112.905,28.205\n"
                                                                     "R3,a,1,112.905,28.205\n"), 1,
         ("GRIDGOV_MAX_FEATURES",), env={"GRIDGOV_MAX_FEATURES": "2"}),
    Case("hh-file-too-large", "households/limits", hh_csv("big.csv", "".join(
        f"B{i},{'地址' * 40},1,112.905,28.205\n" for i in range(6000))), 1, ("GRIDGOV_MAX_FILE_MB",),
         env={"GRIDGOV_MAX_FILE_MB": "1"}),
    Case("hh-sql-payload-address", "households/payload", hh_csv("sqlp.csv", "P1,\"'; DELETE FROM households; --\",1,"
                                                                            "112.905,28.205\n"), 0, (),
         stored=stores("SELECT address FROM households WHERE household_key = 'P1'", [("'; DELETE FROM households; --",)])),
    Case("hh-html-payload-address", "households/payload", hh_csv("htmlp.csv", "P2,<img src=x onerror=alert(1)>,1,"
                                                                              "112.905,28.205\n"), 0, (),
         stored=stores("SELECT address FROM households WHERE household_key = 'P2'", [("<img src=x onerror=alert(1)>",)])),
    Case("hh-formula-payload-key", "households/payload", hh_csv("formp.csv", "=1+1,=cmd|'/C calc'!A0,1,112.905,28.205\n"),
         0, (), stored=stores("SELECT address FROM households WHERE household_key = '=1+1'", [("=cmd|'/C calc'!A0",)])),
    # ---- incidents ---------------------------------------------------------------------
    Case("inc-reported-2099", "incidents/dates", inc_csv("f.csv", "F1,2099-01-01 09:00,环境卫生,x,,,112.905,28.205\n"), 1,
         ("in_the_future", "F1")),
    Case("inc-reported-1900", "incidents/dates", inc_csv("o.csv", "F2,1900-01-01 09:00,环境卫生,x,,,112.905,28.205\n"), 1,
         ("before_earliest", "F2", "GRIDGOV_EARLIEST_DATE")),
    Case("inc-reported-next-month", "incidents/dates", inc_csv("n.csv", f"F3,{FUTURE},环境卫生,x,,,112.905,28.205\n"),
         1, ("in_the_future", "F3")),
    Case("inc-earliest-setting", "incidents/dates", inc_csv("e.csv", "F4,2015-01-01 09:00,环境卫生,x,,,112.905,28.205\n"),
         1, ("before_earliest", "2020-01-01"), env={"GRIDGOV_EARLIEST_DATE": "2020-01-01"}),
    Case("inc-bad-time", "incidents/dates", inc_csv("b.csv", "F5,yesterday noon,环境卫生,x,,,112.905,28.205\n"), 1,
         ("bad_time", "F5")),
    Case("inc-missing-time", "incidents/dates", inc_csv("m.csv", "F6,,环境卫生,x,,,112.905,28.205\n"), 1,
         ("missing_time", "F6")),
    Case("inc-missing-category", "incidents/values", inc_csv("c.csv", "F7,2025-06-01,,x,,,112.905,28.205\n"), 1,
         ("missing_category", "F7")),
    Case("inc-unknown-status", "incidents/values", inc_csv("s.csv", "F8,2025-06-01,环境卫生,x,搞定了,,112.905,28.205\n"), 1,
         ("unknown_status", "F8")),
    Case("inc-closed-without-time", "incidents/closing", inc_csv("cl1.csv", "C1,2025-06-01,环境卫生,x,已办结,,112.905,28.205\n"),
         1, ("closed_without_closing_time", "C1")),
    Case("inc-closed-before-reported", "incidents/closing", inc_csv(
        "cl2.csv", "C2,2025-06-02,环境卫生,x,已办结,2025-06-01,112.905,28.205\n"), 1, ("closed_before_reported", "C2")),
    Case("inc-closed-in-future", "incidents/closing", inc_csv(
        "cl3.csv", f"C3,2025-06-02,环境卫生,x,已办结,{FUTURE},112.905,28.205\n"), 1, ("in_the_future", "C3")),
    Case("inc-closing-time-but-open", "incidents/closing", inc_csv(
        "cl4.csv", "C4,2025-06-02,环境卫生,x,处理中,2025-06-03,112.905,28.205\n"), 1, ("closing_time_not_closed", "C4")),
    Case("inc-bad-closing-time", "incidents/closing", inc_csv(
        "cl5.csv", "C5,2025-06-02,环境卫生,x,已办结,soon,112.905,28.205\n"), 1, ("bad_time", "C5")),
    Case("inc-unknown-disposition", "incidents/closing", lambda tmp, s: ["import", "incidents", str(csv(
        tmp / "d.csv", "事件编号,上报时间,类别,状态,办结时间,处置方式,经度,纬度\n"
                       "C6,2025-06-02,环境卫生,已办结,2025-06-03,随便,112.905,28.205\n")), "--crs", "4490"], 1,
         ("unknown_disposition", "C6")),
    Case("inc-closed-with-history", "incidents/closing", lambda tmp, s: ["import", "incidents", str(csv(
        tmp / "ok.csv", "事件编号,上报时间,类别,状态,办结时间,处置方式,经度,纬度\n"
                        "C7,2025-06-02 09:00,环境卫生,已办结,2025-06-03 10:00,即时解决,112.905,28.205\n")), "--crs", "4490"],
         0, (), stored=stores(
            "SELECT i.status, i.disposition, i.deadline IS NOT NULL, i.closed_at = '2025-06-03 10:00+08', "
            "string_agg(e.action || ':' || coalesce(e.from_status, '-') || '>' || e.to_status, ',' ORDER BY e.id) "
            "FROM incidents i JOIN incident_events e ON e.incident_id = i.id WHERE i.incident_key = 'C7' "
            "GROUP BY i.status, i.disposition, i.deadline, i.closed_at",
            [("closed", "solve_now", True, True, "import:->reported,close:reported>closed")])),
    Case("inc-nul-in-description", "incidents/text", inc_csv("nd.csv", "T1,2025-06-01,环境卫生,a\x00b,,,112.905,28.205\n"),
         1, ("control_character", "描述", "T1")),
    Case("inc-description-too-long", "incidents/text", inc_csv(
        "ld.csv", f"T2,2025-06-01,环境卫生,{'x' * 5001},,,112.905,28.205\n"), 1, ("text_too_long", "5,001", "T2")),
    Case("inc-category-too-long", "incidents/text", inc_csv("lc.csv", f"T3,2025-06-01,{_long(201)},x,,,112.905,28.205\n"),
         1, ("text_too_long", "T3")),
    Case("inc-newline-in-description-kept", "incidents/text", inc_csv(
        "nl.csv", 'T4,2025-06-01,环境卫生,"line one\nline two",,,112.905,28.205\n'), 0, (),
         stored=stores("SELECT description FROM incidents WHERE incident_key = 'T4'", [("line one\nline two",)])),
    Case("inc-duplicate-key", "incidents/keys", inc_csv(
        "dk.csv", "T5,2025-06-01,环境卫生,x,,,112.905,28.205\nT5,2025-06-02,环境卫生,y,,,112.905,28.205\n"), 1,
         ("duplicate_key", "T5")),
    Case("inc-2099-xlsx", "incidents/dates", lambda tmp, s: ["import", "incidents", str(xlsx(tmp / "i.xlsx", [
        {"事件编号": "X1", "上报时间": "2099-01-01 09:00", "类别": "环境卫生", "经度": 112.905, "纬度": 28.205}])),
        "--crs", "4490"], 1, ("in_the_future", "X1")),
    Case("inc-nul-category-geojson", "incidents/text", lambda tmp, s: ["import", "incidents", str(geojson(
        tmp / "i.geojson", [({}, shapely.Point(112.905, 28.205))],
        raw_properties=['{"事件编号": "J1", "上报时间": "2025-06-01", "类别": "环\\u0000境"}']))], 1,
         ("control_character", "NUL", "J1")),
    Case("inc-sql-payload-description", "incidents/payload", inc_csv(
        "sqli.csv", "T6,2025-06-01,环境卫生,\"1; UPDATE incidents SET status='closed'\",,,112.905,28.205\n"), 0, (),
         stored=stores("SELECT count(*) FILTER (WHERE status = 'closed'), count(*) FROM incidents", [(1, 4)])),
    # ---- staff -------------------------------------------------------------------------
    Case("staff-unknown-role", "staff/values", staff_csv("r.csv", f"S1,甲,13800000011,{MICRO[0]},扫地僧,2024-01-01,\n"), 1,
         ("unknown_role", "扫地僧", "微网格员", "Micro-grid worker")),
    Case("staff-unknown-role-xlsx", "staff/values", lambda tmp, s: ["import", "staff", str(xlsx(tmp / "s.xlsx", [
        {"工号": "S2", "姓名": "乙", "电话": "13800000012", "网格编码": MICRO[0], "角色": "保安", "开始日期": "2024-01-01"}]))],
         1, ("unknown_role", "网格长", "Grid head")),
    Case("staff-nul-in-name", "staff/text", staff_csv("n.csv", f"S3,丙\x00丁,13800000013,{MICRO[0]},微网格员,2024-01-01,\n"),
         1, ("control_character", "姓名", "S3")),
    Case("staff-phone-too-long", "staff/text", staff_csv("p.csv", f"S4,戊,{'1' * 41},{MICRO[0]},微网格员,2024-01-01,\n"), 1,
         ("text_too_long", "S4")),
    Case("staff-name-conflict", "staff/keys", staff_csv(
        "c.csv", f"S5,己,13800000015,{MICRO[0]},微网格员,2024-01-01,\nS5,庚,13800000015,{MICRO[1]},网格长,2024-01-01,\n"), 1,
         ("staff_name_conflict", "S5")),
    Case("staff-bad-date", "staff/dates", staff_csv("d.csv", f"S6,辛,13800000016,{MICRO[0]},微网格员,2024-13-45,\n"), 1,
         ("bad_date", "S6")),
    Case("staff-start-1900", "staff/dates", staff_csv("o.csv", f"S7,壬,13800000017,{MICRO[0]},微网格员,1900-01-01,\n"), 1,
         ("before_earliest", "S7")),
    Case("staff-start-in-future", "staff/dates", staff_csv(
        "f.csv", f"S8,癸,13800000018,{MICRO[0]},微网格员,{FUTURE_DAY},\n"), 1, ("in_the_future", "S8")),
    Case("staff-end-before-start", "staff/dates", staff_csv(
        "e.csv", f"S9,子,13800000019,{MICRO[0]},微网格员,2024-05-01,2024-04-01\n"), 1, ("bad_date_range", "S9")),
    Case("staff-invalid-grid-code", "staff/keys", staff_csv("g.csv", "T1,丑,13800000020,4301,微网格员,2024-01-01,\n"), 1,
         ("invalid_code", "T1")),
    Case("staff-unknown-grid", "staff/keys", staff_csv("u.csv", f"T2,寅,13800000021,{L2}009,微网格员,2024-01-01,\n"), 1,
         ("unknown_grid", f"{L2}009")),
    Case("staff-no-name-column", "staff/format", lambda tmp, s: ["import", "staff", str(csv(
        tmp / "nn.csv", "工号,电话\nT3,13800000022\n"))], 1, ("no staff name column",)),
    Case("staff-random-bytes", "staff/format", lambda tmp, s: ["import", "staff", str(csv(tmp / "s.csv", os.urandom(2048)))],
         1, ("binary data",)),
    Case("staff-planned-end-kept", "staff/dates", staff_csv(
        "pe.csv", f"T4,卯,13800000023,{MICRO[2]},微网格员,2024-01-01,{FUTURE_DAY}\n"), 0, (),
         stored=stores("SELECT a.role, a.end_date::text FROM staff_assignments a JOIN staff s ON s.id = a.staff_id "
                       "WHERE s.staff_key = 'T4'", [("micro_worker", FUTURE_DAY)])),
    Case("staff-english-role-kept", "staff/values", staff_csv(
        "en.csv", f"T5,辰,13800000024,{MICRO[2]},Grid head,2024-01-01,\n"), 0, (),
         stored=stores("SELECT a.role FROM staff_assignments a JOIN staff s ON s.id = a.staff_id WHERE s.staff_key = 'T5'",
                       [("grid_head",)])),
    # ---- visits ------------------------------------------------------------------------
    Case("visit-other-grids-worker", "visits/who", args("visit", "record", "--household", household("H1"), "--staff", "W2"),
         1, ("not assigned", MICRO[0])),
    Case("visit-in-1900", "visits/dates", args("visit", "record", "--household", household("H1"), "--staff", "W1",
                                               "--at", "1900-01-01"), 1, ("before 2000-01-01",)),
    Case("visit-in-2099", "visits/dates", args("visit", "record", "--household", household("H1"), "--staff", "W1",
                                               "--at", "2099-01-01"), 1, ("in the future",)),
    Case("visit-5000-km-away", "visits/where", args("visit", "record", "--household", household("H1"), "--staff", "W1",
                                                    "--lon", "70", "--lat", "20"), 1, ("GRIDGOV_VISIT_MAX_DISTANCE_M",)),
    Case("visit-700-m-away", "visits/where", args("visit", "record", "--household", household("H1"), "--staff", "W1",
                                                  "--lon", "112.912", "--lat", "28.205"), 1, ("m from the household",)),
    Case("visit-lon-without-lat", "visits/where", args("visit", "record", "--household", household("H1"), "--staff",
                                                       "W1", "--lon", "112.905"), 1, ("both lon and lat",)),
    Case("visit-lon-nan", "visits/where", args("visit", "record", "--household", household("H1"), "--staff", "W1",
                                               "--lon", "nan", "--lat", "28.2"), 2, ("--lon", "finite")),
    Case("visit-unknown-kind", "visits/values", args("visit", "record", "--household", household("H1"), "--staff", "W1",
                                                     "--kind", "闲聊"), 1, ("visit kind", "routine")),
    Case("visit-note-with-escape", "visits/values", args("visit", "record", "--household", household("H1"), "--staff",
                                                         "W1", "--note", "x\x1b[31m"), 1, ("control character", "ESC")),
    Case("visit-household-zero", "visits/ids", args("visit", "record", "--household", "0", "--staff", "W1"), 2,
         ("--household", "positive")),
    Case("visit-household-text", "visits/ids", args("visit", "record", "--household", "一", "--staff", "W1"), 2,
         ("--household", "positive whole number")),
    Case("visit-household-beyond-bigint", "visits/ids", args("visit", "record", "--household", "99999999999999999999",
                                                             "--staff", "W1"), 2, ("out of range",)),
    Case("visit-household-missing", "visits/ids", args("visit", "record", "--household", "999999", "--staff", "W1"), 1,
         ("household 999999 does not exist",)),
    Case("visit-unknown-staff", "visits/ids", args("visit", "record", "--household", household("H1"), "--staff", "NOBODY"),
         1, ("NOBODY",)),
    Case("visit-by-grid-head-above", "visits/who", args("visit", "record", "--household", household("H1"), "--staff", "G1",
                                                        "--at", PAST), 0, (),
         stored=stores("SELECT count(*) FROM visits v JOIN staff s ON s.id = v.staff_id WHERE s.staff_key = 'G1'", [(1,)])),
    Case("visit-wider-distance-setting", "visits/where", args("visit", "record", "--household", household("H1"), "--staff",
                                                              "W1", "--lon", "112.912", "--lat", "28.205"), 0, (),
         env={"GRIDGOV_VISIT_MAX_DISTANCE_M": "2000"},
         stored=stores("SELECT count(*) FROM visits WHERE geom IS NOT NULL", [(1,)])),
    # ---- incident commands -------------------------------------------------------------
    Case("inc-accept-beyond-bigint", "incident-cli/ids", args("incident", "accept", "9223372036854775808"), 2,
         ("out of range", "9223372036854775807")),
    Case("inc-accept-negative", "incident-cli/ids", args("incident", "accept", "-5"), 2, ("-5", "negative number")),
    Case("inc-accept-text", "incident-cli/ids", args("incident", "accept", "abc"), 2, ("'abc'", "positive whole number")),
    Case("inc-accept-zero", "incident-cli/ids", args("incident", "accept", "0"), 2, ("positive whole numbers",)),
    Case("inc-show-negative", "incident-cli/ids", args("incident", "show", "-1"), 2, ("negative number",)),
    Case("inc-accept-missing", "incident-cli/ids", args("incident", "accept", "999999"), 1, ("incident 999999 does not exist",)),
    Case("inc-accept-stale-version", "incident-cli/versions", args("incident", "classify", incident("R"), "--disposition",
                                                                   "solve_now", "--expected-version", "1"), 1,
         ("changed by someone else since you read it",)),
    Case("inc-expected-version-zero", "incident-cli/versions", args("incident", "accept", incident("E1"),
                                                                    "--expected-version", "0"), 2, ("--expected-version",)),
    Case("inc-accept-closed", "incident-cli/workflow", args("incident", "accept", incident("E2")), 1,
         ("cannot accept", "closed")),
    Case("inc-reject-without-note", "incident-cli/workflow", args("incident", "reject", incident("E1")), 1, ("--note",)),
    Case("inc-classify-bad-disposition", "incident-cli/workflow", args("incident", "classify", incident("R"),
                                                                       "--disposition", "whenever"), 1, ("whenever",)),
    Case("inc-dispatch-unknown-staff", "incident-cli/workflow", args("incident", "dispatch", incident("R"), "--to",
                                                                     "NOBODY"), 1, ("NOBODY",)),
    Case("inc-note-with-nul-escape", "incident-cli/text", args("incident", "reject", incident("E1"), "--note", "x\x07"), 1,
         ("control character",)),
    Case("inc-report-2099", "incident-cli/dates", args("incident", "report", "--lon", "112.905", "--lat", "28.205",
                                                       "--category", "环境卫生", "--at", "2099-01-01"), 1, ("in the future",)),
    Case("inc-report-1900", "incident-cli/dates", args("incident", "report", "--lon", "112.905", "--lat", "28.205",
                                                       "--category", "环境卫生", "--at", "1900-06-01"), 1,
         ("before 2000-01-01",)),
    Case("inc-report-bad-at", "incident-cli/dates", args("incident", "report", "--lon", "112.905", "--lat", "28.205",
                                                         "--category", "环境卫生", "--at", "yesterday"), 2, ("--at",)),
    Case("inc-report-lon-nan", "incident-cli/coordinates", args("incident", "report", "--lon", "nan", "--lat", "28.205",
                                                                "--category", "环境卫生"), 2, ("--lon", "finite")),
    Case("inc-report-lat-inf", "incident-cli/coordinates", args("incident", "report", "--lon", "112.9", "--lat", "inf",
                                                                "--category", "环境卫生"), 2, ("--lat", "finite")),
    Case("inc-report-lon-200", "incident-cli/coordinates", args("incident", "report", "--lon", "200", "--lat", "28.2",
                                                                "--category", "环境卫生"), 2, ("--lon", "-180..180")),
    Case("inc-report-outside", "incident-cli/coordinates", args("incident", "report", "--lon", "112.95", "--lat",
                                                                "28.21", "--category", "环境卫生"), 1, ("nearest", " m")),
    Case("inc-report-empty-category", "incident-cli/text", args("incident", "report", "--lon", "112.905", "--lat",
                                                                "28.205", "--category", " "), 1, ("category is empty",)),
    Case("inc-report-description-escape", "incident-cli/text", args("incident", "report", "--lon", "112.905", "--lat",
                                                                    "28.205", "--category", "环境卫生", "--description",
                                                                    "a\x1bb"), 1, ("control character", "ESC")),
    # ---- boundary edits ----------------------------------------------------------------
    Case("edit-reshape-bowtie", "edits/geometry", args("edit", "reshape", MICRO[0], MICRO[1], "--area", BOWTIE.wkt,
                                                       "--reason", "x"), 1, ("not a valid polygon", "Self-intersection")),
    Case("edit-reshape-not-wkt", "edits/geometry", args("edit", "reshape", MICRO[0], MICRO[1], "--area", "POLYGON((1 2",
                                                        "--reason", "x"), 2, ("not valid WKT",)),
    Case("edit-reshape-point-area", "edits/geometry", args("edit", "reshape", MICRO[0], MICRO[1], "--area",
                                                           "POINT(112.9 28.2)", "--reason", "x"), 1, ("expected a POLYGON",)),
    Case("edit-split-nan-line", "edits/geometry", args("edit", "split", MICRO[0], "--line",
                                                       "LINESTRING(112.905 nan, 112.905 28.21)", "--reason", "x"), 1,
         ("not finite",)),
    Case("edit-transfer-too-many-vertices", "edits/limits", args("edit", "transfer", MICRO[0], MICRO[1], "--area",
                                                                 circle(500).wkt, "--reason", "x"), 1,
         ("GRIDGOV_MAX_VERTICES",), env={"GRIDGOV_MAX_VERTICES": "100"}),
    Case("edit-merge-one-code", "edits/usage", args("edit", "merge", MICRO[0], "--reason", "x"), 2, ("at least two",)),
    Case("edit-merge-unknown", "edits/usage", args("edit", "merge", MICRO[0], L2 + "009", "--reason", "x"), 1,
         (L2 + "009",)),
    Case("edit-without-reason", "edits/usage", args("edit", "merge", MICRO[0], MICRO[1]), 2, ("--reason",)),
    Case("edit-reshape-grid-random-file", "edits/format", lambda tmp, s: [
        "edit", "reshape-grid", MICRO[0], "--geometry", str(csv(tmp / "n.geojson", os.urandom(1024))), "--reason", "x"], 1,
         ("binary data",)),
    Case("edit-replace-bowtie-file", "edits/geometry", lambda tmp, s: [
        "edit", "replace", L2, "--areas", str(vector(tmp / "b.gpkg", gpd.GeoDataFrame(
            {"n": [1, 2]}, geometry=[BOWTIE, QUADRANTS[1]], crs=4490))), "--reason", "x"], 1, ("not a valid geometry",)),
    Case("edit-annex-overlapping", "edits/coverage", args("edit", "annex", L2, "--area",
                                                          shapely.box(112.905, 28.205, 112.95, 28.25).wkt, "--reason", "x"),
         1, ("refused",)),
    Case("rollback-zero", "edits/ids", args("rollback", "0"), 2, ("changeset id",)),
    Case("rollback-text", "edits/ids", args("rollback", "last"), 2, ("changeset id", "'last'")),
    Case("rollback-missing", "edits/ids", args("rollback", "999999", "--reason", "x"), 1, ("no changeset 999999",)),
    # ---- other commands ----------------------------------------------------------------
    Case("lookup-lon-nan", "other/coordinates", args("lookup", "--lon", "nan", "--lat", "28.2"), 2, ("--lon", "finite")),
    Case("lookup-lon-inf", "other/coordinates", args("lookup", "--lon", "-inf", "--lat", "28.2"), 2, ("--lon", "finite")),
    Case("lookup-lat-100", "other/coordinates", args("lookup", "--lon", "112.9", "--lat", "100"), 2, ("--lat", "-90..90")),
    Case("lookup-only-lon", "other/usage", args("lookup", "--lon", "112.9"), 2, ("--lat",)),
    Case("lookup-unknown-code", "other/values", args("lookup", "--code", L2 + "999"), 1, (L2 + "999",)),
    Case("lookup-outside", "other/values", args("lookup", "--lon", "112.95", "--lat", "28.21"), 1, ("nearest", " m")),
    Case("export-missing-directory", "other/files", args("export", "grids", "--out", "/nonexistent/dir/x.gpkg"), 1,
         ("/nonexistent/dir",)),
    Case("export-unknown-kind", "other/usage", args("export", "parcels", "--out", "x.gpkg"), 2, ("parcels",)),
    Case("validate-random-file", "other/format", lambda tmp, s: ["validate", str(csv(tmp / "v.geojson", os.urandom(512)))],
         1, ("binary data",)),
    Case("validate-gap-file", "other/coverage", grids_file("vgap.geojson", lambda: plan_features(
        [shrunk(QUADRANTS[0], 30), *QUADRANTS[1:]])), 1, ("gap",)),
    Case("diff-bad-date", "other/usage", args("diff", "2026-02-30"), 2, ("OLD",)),
    Case("resolve-unknown", "other/values", args("resolve", L2 + "999"), 1, ("ever had the code",)),
    Case("report-bad-month", "other/usage", args("report", "assessment", "--month", "2026-13"), 2, ("--month",)),
    Case("roster-card-unknown", "other/values", args("roster", "card", L2 + "999"), 1, (L2 + "999",)),
    Case("stats-bad-as-of", "other/usage", args("incident", "overdue", "--as-of", "soon"), 2, ("--as-of",)),
    Case("demo-contradictory-flags", "other/usage", args("demo", "--if-empty", "--replace-all-data"), 2, ("not both",)),
    Case("unknown-command", "other/usage", args("frobnicate"), 2, ("frobnicate",)),
    Case("unknown-option", "other/usage", args("stats", "--colour"), 2, ("--colour",)),
    Case("bad-region-setting", "other/settings", args("stats"), 2, ("GRIDGOV_REGION",), env={"GRIDGOV_REGION": "east"}),
    Case("bad-earliest-setting", "other/settings", args("stats"), 2, ("GRIDGOV_EARLIEST_DATE",),
         env={"GRIDGOV_EARLIEST_DATE": "long ago"}),
    Case("bad-limit-setting", "other/settings", args("stats"), 2, ("GRIDGOV_MAX_VERTICES",),
         env={"GRIDGOV_MAX_VERTICES": "-1"}),
    Case("database-unreachable", "other/environment", args("stats"), 2, ("cannot connect", "DATABASE_URL"),
         env={"DATABASE_URL": "postgresql://nobody@127.0.0.1:9/none"}),
]
# the validate case runs `gridgov validate FILE`, not an import
BATTERY = [c if c.id != "validate-gap-file" else Case(
    c.id, c.category, lambda tmp, s, make=c.make: ["validate", *make(tmp, s)[2:]], c.code, c.says) for c in BATTERY]


def _no_prj(tmp: Path, *, rename: bool = False) -> list[str]:
    path = vector(tmp / "noprj.shp", plan_frame(names=["改名", "微网格2", "微网格3", "微网格4"] if rename else None))
    path.with_suffix(".prj").unlink()
    return ["import", "grids", str(path)]


def _truncated(tmp: Path) -> list[str]:
    path = vector(tmp / "trunc.shp", plan_frame())
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    return ["import", "grids", str(path)]


def _missing_dbf(tmp: Path) -> list[str]:
    path = vector(tmp / "nodbf.shp", plan_frame())
    path.with_suffix(".dbf").unlink()
    return ["import", "grids", str(path)]


def _enclave(tmp: Path) -> list[str]:
    """MICRO[0] in two parts around a piece of MICRO[2] … no: a real exclave, allowed with --allow-multipart."""
    sw = QUADRANTS[0]
    island = shapely.box(112.9045, 28.2145, 112.9055, 28.2155)  # inside the NW quadrant
    features = plan_features([shapely.MultiPolygon([sw, island]), QUADRANTS[1], QUADRANTS[2].difference(island),
                              QUADRANTS[3]])
    return ["import", "grids", str(geojson(tmp / "exclave.geojson", features)), "--allow-multipart"]


def test_the_battery_is_large_and_distinct() -> None:
    ids = [c.id for c in BATTERY]
    assert len(ids) == len(set(ids))
    assert len(BATTERY) >= 120
    categories = {c.category.split("/")[0] for c in BATTERY}
    assert {"grids", "households", "incidents", "staff", "visits", "incident-cli", "edits", "other"} <= categories
    assert sum(1 for c in BATTERY if c.stored is not None) >= 10


#: What each case printed, for the record in docs/reliability.md (written by the last test).
RESULTS: list[dict[str, Any]] = []


@pytest.mark.parametrize("case", BATTERY, ids=[c.id for c in BATTERY])
def test_bad_input(case: Case, street: Street, tmp_path: Path) -> None:
    argv = case.make(tmp_path, street)
    url = street.copy() if case.stored is not None else street.work
    before = table_checksums(url)
    code, out, err = run(argv, env={**database_env(url), **case.env})
    assert "Traceback" not in out + err
    assert code == case.code, f"exit {code}, expected {case.code}\nstdout: {out[-2000:]}\nstderr: {err[-3000:]}"
    errors = [line for line in err.splitlines() if line.startswith("error:")]
    if code:
        assert len(errors) == 1, err  # one error line (a problem table may precede it)
    for words in case.says:
        assert words in err + out, f"{words!r} not in\n{err[-3000:]}\n{out[-1000:]}"
    if case.stored is None:
        assert table_checksums(url) == before, "a refused command changed the database"
    else:
        case.stored(url, out)
    RESULTS.append({"id": case.id, "category": case.category, "exit": code,
                    "says": errors[0][len("error: "):] if errors else "(accepted) " + out.strip().splitlines()[-1][:160]
                    if out.strip() else "(accepted)"})


def test_write_the_results() -> None:
    """The table of what every case said, in var/artifacts/battery.md (for docs/reliability.md)."""
    from gis.settings import get_settings

    if not RESULTS:
        pytest.skip("no battery case ran in this session")  # only with -k selecting this test alone
    target = get_settings().artifacts_dir / "battery.md"
    target.parent.mkdir(parents=True, exist_ok=True)
    lines = ["| case | category | exit | the one line it printed |", "|---|---|---:|---|"]
    lines += [f"| `{r['id']}` | {r['category']} | {r['exit']} | {r['says'].replace('|', '¦')[:220]} |" for r in RESULTS]
    target.write_text("\n".join(lines) + "\n", encoding="utf-8")
