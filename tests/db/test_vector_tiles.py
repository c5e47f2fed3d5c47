"""Vector tiles made by PostGIS (store.tiles), cached and invalidated per changeset (services.tiles).

The tiles are decoded with mapbox-vector-tile and compared with independent computations:
which grids a tile must hold (PostGIS ``ST_Intersects`` against the tile's envelope), that
neighbouring grids neither overlap nor leave gaps inside a tile, that GCJ-02 in SQL is the
Python formula, that density counts are the scope's incidents per cell with small counts left
out, and that a boundary edit evicts exactly the cached tiles it touches.
"""

from __future__ import annotations

import math

import mapbox_vector_tile
import numpy as np
import pytest
import shapely
from shapely.geometry import shape
from sqlalchemy import create_engine, text

from gis.crs import wgs84_to_gcj02
from gis.tiles import WEB_MERCATOR_HALF, Tile, tile_at, tiles_covering
from store import tiles as tile_store
from store.tiles import BUFFER, EXTENT

pytestmark = pytest.mark.db

STREET_CENTRE = (113.26, 29.48)


def _decode(data: bytes) -> dict:
    # y_coord_down=False: the decoder flips y to grow north, as in EPSG:3857
    return mapbox_vector_tile.decode(data, default_options={"y_coord_down": False})


def _to_tile_coords(geom, tile: Tile):
    """A geometry in EPSG:3857 metres → the tile's integer coordinate space (y up)."""
    x0, y0, x1, y1 = tile.mercator_bounds
    scale = EXTENT / (x1 - x0)
    return shapely.transform(geom, lambda c: np.column_stack([(c[:, 0] - x0) * scale, (c[:, 1] - y0) * scale]))


def _street_tiles(db_conn, z: int) -> list[Tile]:
    west, south, east, north = db_conn.execute(text(
        "SELECT ST_XMin(e), ST_YMin(e), ST_XMax(e), ST_YMax(e) FROM (SELECT ST_Extent(geom) e FROM grids) s")).one()
    return sorted(tiles_covering([(west, south, east, north)], [z]))


def test_a_grid_tile_holds_exactly_the_grids_its_envelope_touches(db_conn) -> None:
    for tile in _street_tiles(db_conn, 14):
        decoded = _decode(tile_store.grid_tile(db_conn, 3, tile))
        codes = {f["properties"]["code"] for f in decoded.get("grids", {}).get("features", [])}
        x0, y0, x1, y1 = tile.mercator_bounds
        pad = (x1 - x0) * BUFFER / EXTENT
        expected = set(db_conn.execute(text(
            "SELECT code FROM grids WHERE level = 3 AND ST_Intersects(ST_Transform(geom, 3857), "
            "ST_MakeEnvelope(:a, :b, :c, :d, 3857))"), {"a": x0 - pad, "b": y0 - pad, "c": x1 + pad, "d": y1 + pad}
        ).scalars())
        # a grid touching only the buffer by less than a tile unit may collapse away; none may be invented
        assert codes <= expected and len(expected - codes) <= max(2, len(expected) // 20), (tile, expected - codes)
        labels = {f["properties"]["code"] for f in decoded.get("labels", {}).get("features", [])}
        assert labels <= expected
        names = {f["properties"]["code"]: f["properties"]["name"] for f in decoded.get("grids", {}).get("features", [])}
        if names:
            some = next(iter(names))
            assert names[some] == db_conn.execute(text("SELECT name FROM grids WHERE code = :c"), {"c": some}).scalar_one()


@pytest.mark.parametrize("z", [13, 15])
def test_neighbours_stay_neighbours_in_every_tile(db_conn, z: int) -> None:
    """Inside a tile the decoded micro-grids do not overlap and cover what the grids cover (no
    slivers, no gaps): shared edges were snapped to the same places."""
    checked = 0
    for tile in _street_tiles(db_conn, z):
        decoded = _decode(tile_store.grid_tile(db_conn, 3, tile))
        polygons = [shapely.make_valid(shape(f["geometry"])) for f in decoded.get("grids", {}).get("features", [])]
        if len(polygons) < 2:
            continue
        frame = shapely.box(0, 0, EXTENT, EXTENT)
        clipped = [p.intersection(frame) for p in polygons]
        total = sum(p.area for p in clipped)
        union = shapely.union_all(clipped)
        assert total - union.area <= 1e-6 * EXTENT * EXTENT + len(clipped) * 2, "decoded neighbours overlap"
        reference = shapely.from_wkb(bytes(db_conn.execute(text(
            "SELECT ST_AsBinary(ST_Transform(ST_Union(geom), 3857)) FROM grids WHERE level = 3")).scalar_one()))
        expected = _to_tile_coords(reference, tile).intersection(frame)
        # the union of the tile's polygons equals the coverage to within the snapping (a tile unit per edge)
        assert union.symmetric_difference(expected).area <= max(0.002 * expected.area, 4 * expected.length), tile
        checked += 1
    assert checked


def test_gcj02_in_sql_is_the_python_formula(db_conn) -> None:
    rng = np.random.default_rng(5)
    lon = rng.uniform(73, 135, 200)
    lat = rng.uniform(18, 53, 200)
    rows = db_conn.execute(text(
        "SELECT ST_X(g), ST_Y(g) FROM unnest(CAST(:x AS float8[]), CAST(:y AS float8[])) WITH ORDINALITY AS u(x, y, i), "
        "LATERAL gridgov.to_gcj02(ST_SetSRID(ST_MakePoint(x, y), 4490)) AS g ORDER BY i"),
        {"x": lon.tolist(), "y": lat.tolist()}).all()
    got = np.array(rows)
    want_lon, want_lat = wgs84_to_gcj02(lon, lat)
    assert np.abs(got[:, 0] - want_lon).max() < 1e-9 and np.abs(got[:, 1] - want_lat).max() < 1e-9
    # a polygon with a hole keeps its rings and every vertex is shifted the same way
    ring = shapely.Polygon([(113, 29), (113.1, 29), (113.1, 29.1), (113, 29.1)], [[(113.02, 29.02), (113.05, 29.02), (113.05, 29.05)]])
    shifted = shapely.from_wkb(bytes(db_conn.execute(text(
        "SELECT ST_AsBinary(gridgov.to_gcj02(ST_GeomFromText(:w, 4490)))"), {"w": ring.wkt}).scalar_one()))
    expected = shapely.transform(ring, lambda c: np.column_stack(wgs84_to_gcj02(c[:, 0], c[:, 1])))
    assert shifted.geom_type == "MultiPolygon" and len(shifted.geoms[0].interiors) == 1
    assert shapely.equals_exact(shapely.normalize(shifted.geoms[0]), shapely.normalize(expected), 1e-9)


def test_a_gcj02_tile_is_the_shifted_grids(db_conn) -> None:
    """Label points (inside each grid) of the GCJ-02 tile sit where the WGS 84 ones sit, shifted by
    the GCJ-02 offset there (a few hundred metres)."""
    tile = tile_at(*STREET_CENTRE, 14)

    def labels(gcj02: bool) -> dict:
        decoded = _decode(tile_store.grid_tile(db_conn, 3, tile, gcj02=gcj02))
        return {f["properties"]["code"]: shape(f["geometry"]) for f in decoded.get("labels", {}).get("features", [])}

    plain, shifted = labels(False), labels(True)
    common = set(plain) & set(shifted)
    assert common
    x0, _, x1, _ = tile.mercator_bounds
    units_per_m = EXTENT / (x1 - x0)
    lon, lat = wgs84_to_gcj02([STREET_CENTRE[0]], [STREET_CENTRE[1]])
    dx = (lon[0] - STREET_CENTRE[0]) * WEB_MERCATOR_HALF / 180 * units_per_m
    moved = np.median([shifted[c].x - plain[c].x for c in common])
    # the point inside a shifted polygon is not exactly the shifted point inside: compare medians
    assert abs(moved - dx) < 0.1 * abs(dx), (moved, dx)


def _cell_counts(points_3857: np.ndarray, tile: Tile, cell_px: int = 16) -> list[int]:
    """Incidents per cell of ``cell_px`` pixels (cells aligned on the tile's edges), in ``tile``."""
    x0, y0, x1, y1 = tile.mercator_bounds
    inside = (points_3857[:, 0] >= x0) & (points_3857[:, 0] <= x1) & (points_3857[:, 1] >= y0) & (points_3857[:, 1] <= y1)
    cell_m = (x1 - x0) / 256 * cell_px
    keys = np.floor(points_3857[inside] / cell_m).astype(np.int64)
    if not len(keys):
        return []
    _, counts = np.unique(keys, axis=0, return_counts=True)
    return sorted(int(c) for c in counts)


def test_incident_density_counts_only_the_scope_and_leaves_out_small_counts(engine, app_engine, login_as, db_conn) -> None:
    from services.tiles import TileService

    service = TileService(app_engine)
    totals = {}
    for account in ("admin", "worker-001", "leader-001"):
        actor = login_as(account)
        if actor.scope.everything:
            where, params = "TRUE", {}
        else:
            where = "(" + " OR ".join(f"grid_code LIKE :p{i}" for i in range(len(actor.scope.prefixes))) + ")"
            params = {f"p{i}": p + "%" for i, p in enumerate(actor.scope.prefixes)}
        with engine.connect() as conn:
            points = np.array(conn.execute(text(
                f"SELECT ST_X(p), ST_Y(p) FROM (SELECT ST_Transform(geom, 3857) p FROM incidents WHERE {where}) s"),
                params).all(), dtype=float).reshape(-1, 2)
        totals[account] = 0
        for tile in _street_tiles(db_conn, 13):
            decoded = _decode(service.tile(actor, "incidents", tile).data)
            got = sorted(int(f["properties"]["n"]) for f in decoded.get("incidents", {}).get("features", []))
            expected = [c for c in _cell_counts(points, tile) if c >= 5]
            assert got == expected, (account, tile)
            totals[account] += sum(got)
    assert totals["admin"] > totals["leader-001"] > 0 and totals["admin"] > totals["worker-001"]


def test_a_role_without_the_permission_gets_no_incident_tile(app_engine, login_as) -> None:
    from access.permissions import PermissionDenied, may
    from services.tiles import TileService

    service = TileService(app_engine)
    tile = tile_at(*STREET_CENTRE, 12)
    assert not may("doctor", "view_incidents")
    with pytest.raises(PermissionDenied):
        service.tile(login_as("doctor"), "incidents", tile)
    assert service.tile(login_as("doctor"), "grids-3", tile).data  # the grids it may see


def test_an_edit_evicts_exactly_the_tiles_it_touches(demo_url) -> None:
    """Warm the cache over the street at three zooms, save a reshape between two micro-grids, and
    find evicted exactly the cached tiles the changed grids' old and new outlines touch (per level)."""
    from services.auth import owner_session
    from services.editing import preview_edit, save_edit, start_edit
    from services.tiles import TileService
    from store.engine import make_engine
    from testdb import DATABASES

    owner = create_engine(demo_url)
    app = make_engine(DATABASES[-1].app_url(demo_url))
    planner = owner_session(owner, app, "planner")
    service = TileService(app, check_interval_s=0)
    with owner.connect() as conn:
        a, b, geom_a, geom_b = conn.execute(text(
            """
            SELECT g1.code, g2.code, ST_AsBinary(g1.geom), ST_AsBinary(g2.geom)
            FROM grids g1 JOIN grids g2 ON g1.level = 3 AND g2.level = 3 AND g1.code < g2.code
             AND g1.parent_code = g2.parent_code
            WHERE ST_Length(ST_Intersection(ST_Boundary(g1.geom), ST_Boundary(g2.geom))) > 0.003
            ORDER BY g1.code LIMIT 1""")).one()
        geom_a, geom_b = shapely.from_wkb(bytes(geom_a)), shapely.from_wkb(bytes(geom_b))
        shared = shapely.line_merge(shapely.intersection(shapely.boundary(geom_a), shapely.boundary(geom_b)))
        band = shapely.intersection(geom_b, shapely.buffer(shared, 0.0002, cap_style="flat"))
        grown = shapely.union(geom_a, band)
        west, south, east, north = conn.execute(text(
            "SELECT ST_XMin(e), ST_YMin(e), ST_XMax(e), ST_YMax(e) FROM (SELECT ST_Extent(geom) e FROM grids) s")).one()
    zooms = (13, 14, 15)
    layers = ("grids-1", "grids-2", "grids-3")
    warm = sorted(tiles_covering([(west, south, east, north)], zooms))
    before = {}
    for layer in layers:
        for tile in warm:
            before[(layer, tile)] = service.tile(planner, layer, tile).data
    assert len(service.cache) == len(layers) * len(warm)
    cached_before = set(service.cache.keys())

    with owner.connect() as conn:
        old = {code: shapely.from_wkb(bytes(g)) for code, g in conn.execute(text(
            "SELECT code, ST_AsBinary(geom) FROM grids"))}
    with app.connect() as conn:
        draft = start_edit(conn)
        preview = preview_edit(conn, draft, "reshape", code_a=a, code_b=b, new_line_or_area=grown)
    assert preview.can_save, [f.message for f in preview.findings]
    applied = save_edit(app, preview, actor=planner, reason="tile test")
    with owner.connect() as conn:
        new = {code: (level, shapely.from_wkb(bytes(g))) for code, level, g in conn.execute(text(
            "SELECT code, level, ST_AsBinary(geom) FROM grids"))}
        versioned = set(conn.execute(text("SELECT code FROM grid_versions WHERE changeset_id = :c"),
                                     {"c": applied.changeset_id}).scalars())
    assert {a, b} <= versioned

    service.refresh(planner, force=True)
    pad = 256 * BUFFER / EXTENT
    expected_evicted = set()
    for code in versioned:
        level, geom = new[code]
        boxes = [geom.bounds] + ([old[code].bounds] if code in old else [])
        for tile in tiles_covering(boxes, zooms, buffer_px=pad):
            expected_evicted.add((f"grids-{level}", tile, "wgs84"))
    expected_evicted &= cached_before
    assert expected_evicted, "the edit should touch some cached tile"
    assert cached_before - set(service.cache.keys()) == expected_evicted
    assert service.last_invalidated == len(expected_evicted)
    assert len(expected_evicted) < len(cached_before) / 2  # exactly, not everything

    hits = service.cache.hits
    untouched = next(k for k in cached_before if k not in expected_evicted)
    assert service.tile(planner, untouched[0], untouched[1]).cached and service.cache.hits == hits + 1
    changed_key = next(k for k in expected_evicted if k[0] == "grids-3")
    fresh = service.tile(planner, changed_key[0], changed_key[1])
    assert not fresh.cached and fresh.data != before[(changed_key[0], changed_key[1])]
    owner.dispose()
    app.dispose()


def test_tile_requests_are_audited_per_minute(app_engine, login_as, engine) -> None:
    from services.tiles import TileService

    clock = {"t": 1000.0}
    service = TileService(app_engine, audit_window_s=60, clock=lambda: clock["t"])
    actor = login_as("leader")
    tile = tile_at(*STREET_CENTRE, 13)

    def entries() -> list:
        with engine.connect() as conn:
            return conn.execute(text(
                "SELECT row_count, details FROM audit_log WHERE action = 'tiles' AND account_name = 'leader' ORDER BY id")
            ).all()

    start = len(entries())
    service.tile(actor, "grids-3", tile)  # first of the minute: recorded now
    assert len(entries()) == start + 1
    for _ in range(5):
        service.tile(actor, "grids-2", tile)
    clock["t"] += 61
    service.tile(actor, "grids-1", Tile(tile.z, tile.x, tile.y))
    rows = entries()[start:]
    assert [r[0] for r in rows] == [1, 5, 1]
    assert rows[1][1]["layers"] == {"grids-2": 5} and rows[2][1]["layers"] == {"grids-1": 1}
    assert math.isclose(rows[1][1]["window_s"], 60)
