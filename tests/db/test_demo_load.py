"""The demo in PostGIS: store.seed.load_demo (counts, exact geometries, keys, one transaction) and
store.seed.foreign_data (what the demo did not write)."""

from __future__ import annotations

import datetime as dt

import geopandas as gpd
import pandas as pd
import pytest
import shapely
from sqlalchemy import create_engine, text
from sqlalchemy.exc import IntegrityError

from store.seed import ForeignData, foreign_data, load_demo

pytestmark = pytest.mark.db

TABLES = (
    "grid_codes", "grids", "grid_versions", "households", "residents", "staff", "staff_assignments",
    "incidents", "incident_events", "visits",
)
SH = dt.timezone(dt.timedelta(hours=8))


def _counts(conn) -> dict[str, int]:
    return {t: conn.execute(text(f"SELECT count(*) FROM {t}")).scalar_one() for t in (*TABLES, "changesets")}


# -- store.seed.load_demo -------------------------------------------------------------------------
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


def test_incident_state_is_stored_as_generated(db_conn, demo_data) -> None:
    """The workflow state the generator computed arrives unchanged (keys resolved to ids)."""
    stored = pd.DataFrame(db_conn.execute(text("""
        SELECT i.incident_key, i.status, i.disposition, a.staff_key AS assigned_to, i.deadline, i.closed_at, i.version,
               r.staff_key AS reported_by
        FROM incidents i LEFT JOIN staff a ON a.id = i.assigned_to LEFT JOIN staff r ON r.id = i.reported_by
        ORDER BY i.incident_key""")).mappings().all())
    frame = demo_data.incidents.sort_values("incident_key").reset_index(drop=True)
    def values(series: pd.Series) -> list:
        return [None if pd.isna(v) else v for v in series.tolist()]

    for column in ("incident_key", "status", "disposition", "assigned_to", "version", "reported_by"):
        assert values(stored[column]) == values(frame[column]), column
    for column in ("deadline", "closed_at"):
        got = pd.to_datetime(stored[column], utc=True)
        assert got.equals(frame[column].reset_index(drop=True)), column
    # a stored deadline is a local midnight in Shanghai (calendar days, governance.deadlines)
    odd = db_conn.execute(text(
        "SELECT count(*) FROM incidents WHERE deadline IS NOT NULL "
        "AND (deadline AT TIME ZONE 'Asia/Shanghai')::time <> time '00:00'")).scalar_one()
    assert odd == 0


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
            assert not foreign_data(conn).found
        assert before["households"] == 6297 and before["changesets"] == 1
        # adding the same demo again clashes on natural keys: nothing of the attempt remains
        with pytest.raises(IntegrityError), engine.begin() as conn:
            load_demo(conn, demo_data, replace=False)
        with engine.connect() as conn:
            assert _counts(conn) == before
    finally:
        engine.dispose()


# -- store.seed.foreign_data ----------------------------------------------------------------------
def _households(keys: list[str]) -> gpd.GeoDataFrame:
    """Households to import, inside the demo street (EPSG:4490)."""
    points = [shapely.Point(113.23 + 0.002 * i, 29.47) for i in range(len(keys))]
    return gpd.GeoDataFrame(
        {"household_key": keys, "address": [f"导入地址{i}" for i in range(len(keys))], "building_no": [None] * len(keys),
         "house_no": [None] * len(keys), "members": [2] * len(keys), "special_kinds": [[] for _ in keys]},
        geometry=points, crs=4490,
    )


def test_foreign_data_sees_every_kind_of_write(db_conn) -> None:
    """Writes with and without a changeset, inserts and in-place updates: all count (rolled back)."""
    from governance.visits import VisitRecord
    from store.bulk import load_households
    from store.governance import record_visit, transition_incident

    clean = foreign_data(db_conn)
    assert not clean.found and clean.demo_changeset_id is not None and clean.grid_codes == 164
    # an in-place edit of a demo row (no changeset, no new row)
    db_conn.execute(text("UPDATE residents SET phone = '13800000000' WHERE id = (SELECT min(id) FROM residents)"))
    assert foreign_data(db_conn).rows == {"residents": 1}
    # an incident moved on in the app: the incident row and a new event
    incident_id, staff_id = db_conn.execute(text(
        "SELECT id, assigned_to FROM incidents WHERE status = 'dispatched' ORDER BY id LIMIT 1")).one()
    transition_incident(db_conn, incident_id, "handle", actor="tester", note="done", at=dt.datetime.now(SH))
    # a visit recorded
    household_id = db_conn.execute(text("SELECT min(id) FROM households")).scalar_one()
    record_visit(db_conn, VisitRecord(household_id=household_id, staff_id=staff_id, visited_at=dt.datetime.now(SH)))
    # an import: its changeset and its households
    load_households(db_conn, _households(["IMP-1", "IMP-2", "IMP-3"]))
    found = foreign_data(db_conn)
    assert found.changesets == {"import": 1}
    assert found.rows == {"households": 3, "residents": 1, "incidents": 1, "incident_events": 1, "visits": 1}
    assert found.found and found.demo_changeset_id == clean.demo_changeset_id


def test_foreign_data_without_a_demo_counts_everything(empty_database_url) -> None:
    from store.bulk import load_households

    engine = create_engine(empty_database_url)
    try:
        with engine.connect() as conn:
            assert foreign_data(conn) == ForeignData()
            assert foreign_data(conn).empty
        load_households(engine, _households(["A", "B"]), assign=False)
        with engine.connect() as conn:
            found = foreign_data(conn)
        assert found == ForeignData(None, 0, {"import": 1}, {"households": 2})
        assert found.found and not found.empty
    finally:
        engine.dispose()
