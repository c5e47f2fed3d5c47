"""demo.generate.load_demo on the real PostGIS: counts, exact geometries, keys and one transaction."""

from __future__ import annotations

import pytest
import shapely
from sqlalchemy import create_engine, text
from sqlalchemy.exc import IntegrityError

from demo.generate import load_demo

TABLES = (
    "grid_codes", "grids", "grid_versions", "households", "residents", "staff", "staff_assignments",
    "incidents", "incident_events", "visits",
)


def _counts(conn) -> dict[str, int]:
    return {t: conn.execute(text(f"SELECT count(*) FROM {t}")).scalar_one() for t in (*TABLES, "changesets")}


def test_every_frame_is_loaded(db_conn, demo_data) -> None:
    counts = _counts(db_conn)
    assert counts == {
        "grid_codes": 164, "grids": 164, "grid_versions": 164,
        "households": len(demo_data.households), "residents": len(demo_data.residents),
        "staff": len(demo_data.staff), "staff_assignments": len(demo_data.staff_assignments),
        "incidents": len(demo_data.incidents), "incident_events": len(demo_data.incident_events),
        "visits": len(demo_data.visits), "changesets": 1,
    }
    kind, details = db_conn.execute(text("SELECT kind, details FROM changesets")).one()
    assert kind == "demo" and details["seed"] == 7
    current = db_conn.execute(text(
        "SELECT count(*) FROM grid_versions WHERE valid_to IS NULL AND version = 1 "
        "AND valid_from = timestamptz '2025-01-01 00:00+08'")).scalar_one()
    assert current == 164
    assert db_conn.execute(text("SELECT count(*) FROM grids WHERE version <> 1")).scalar_one() == 0
    assert db_conn.execute(text("SELECT count(*) FROM grid_codes WHERE status <> 'active'")).scalar_one() == 0


def test_grid_geometries_round_trip_exactly(db_conn, demo_data) -> None:
    rows = db_conn.execute(text(
        "SELECT g.code, ST_AsBinary(g.geom), ST_SRID(g.geom), ST_IsValid(g.geom), ST_AsBinary(v.geom) "
        "FROM grids g JOIN grid_versions v USING (code) ORDER BY g.code")).all()
    frame = demo_data.grids.set_index("code").geometry
    assert [r[0] for r in rows] == sorted(frame.index)
    for code, wkb, srid, valid, version_wkb in rows:
        assert srid == 4490 and valid
        geom = shapely.from_wkb(bytes(wkb))
        assert shapely.equals_exact(geom, frame[code], tolerance=0), code
        assert shapely.equals_exact(shapely.from_wkb(bytes(version_wkb)), frame[code], tolerance=0)


def test_points_fall_inside_one_micro_grid_in_postgis(db_conn) -> None:
    # PostGIS agrees with the generator: each household / incident intersects exactly its own micro-grid
    for table in ("households", "incidents"):
        wrong = db_conn.execute(text(f"""
            SELECT count(*) FROM {table} p
            WHERE (SELECT array_agg(g.code) FROM grids g WHERE g.level = 3 AND ST_Intersects(g.geom, p.geom))
                  IS DISTINCT FROM ARRAY[p.grid_code]""")).scalar_one()
        assert wrong == 0, table
    nearest = db_conn.execute(text("""
        SELECT min(ST_Distance(ST_Boundary(g.geom)::geography, h.geom::geography))
        FROM households h JOIN grids g ON g.code = h.grid_code""")).scalar_one()
    assert nearest >= 2.0


def test_keys_and_links(db_conn) -> None:
    # residents per household equal members
    mismatched = db_conn.execute(text("""
        SELECT count(*) FROM households h
        WHERE h.members <> (SELECT count(*) FROM residents r WHERE r.household_id = h.id)""")).scalar_one()
    assert mismatched == 0
    # incident version = number of events; grid at report = current grid; events end in the status
    bad = db_conn.execute(text("""
        SELECT count(*) FROM incidents i
        WHERE i.version <> (SELECT count(*) FROM incident_events e WHERE e.incident_id = i.id)
           OR i.grid_code_at_report IS DISTINCT FROM i.grid_code
           OR i.status <> (SELECT e.to_status FROM incident_events e WHERE e.incident_id = i.id
                           ORDER BY e.at DESC, e.id DESC LIMIT 1)""")).scalar_one()
    assert bad == 0
    reporters = db_conn.execute(text("""
        SELECT avg((a.staff_id = i.reported_by)::int) FROM incidents i
        JOIN staff_assignments a ON a.grid_code = i.grid_code AND a.role = 'micro_worker'""")).scalar_one()
    assert reporters > 0.75
    special = db_conn.execute(text("SELECT count(*) FROM households WHERE cardinality(special_kinds) > 0")).scalar_one()
    assert special > 300
    visits_wrong_grid = db_conn.execute(text("""
        SELECT count(*) FROM visits v JOIN households h ON h.id = v.household_id
        WHERE v.grid_code <> h.grid_code OR NOT ST_Equals(v.geom, h.geom)""")).scalar_one()
    assert visits_wrong_grid == 0


def test_load_replaces_and_is_one_transaction(empty_database_url, demo_data) -> None:
    engine = create_engine(empty_database_url)
    try:
        with engine.begin() as conn:
            first = load_demo(conn, demo_data)
        with engine.begin() as conn:
            second = load_demo(conn, demo_data, replace=True)
        assert first == second
        with engine.connect() as conn:
            before = _counts(conn)
        assert before["households"] == 6297 and before["changesets"] == 1
        # adding the same demo again clashes on natural keys: nothing of the attempt remains
        with pytest.raises(IntegrityError), engine.begin() as conn:
            load_demo(conn, demo_data, replace=False)
        with engine.connect() as conn:
            assert _counts(conn) == before
    finally:
        engine.dispose()
