"""The demo in PostGIS: store.seed.load_demo (counts, exact geometries, keys, one transaction),
store.seed.foreign_data (what the demo did not write) and ``gridgov demo``, which never deletes
data it did not create unless told to (--replace-all-data)."""

from __future__ import annotations

from testdb import use_database

import datetime as dt
import json
from collections.abc import Iterator

import geopandas as gpd
import pandas as pd
import pytest
import shapely
from sqlalchemy import create_engine, text
from sqlalchemy.exc import IntegrityError

from tests.db._cli import main
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
        "visits": len(demo_data.visits), "changesets": 2,
    }
    # the demo's own changeset, and the admin's camera import played in the same transaction
    assert [k for (k,) in db_conn.execute(text("SELECT kind FROM changesets ORDER BY id"))] == ["demo", "import"]
    kind, details = db_conn.execute(text("SELECT kind, details FROM changesets WHERE kind = 'demo'")).one()
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
        assert before["households"] == 6297 and before["changesets"] == 2  # the demo's and its camera import
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
    # a visit recorded (by a worker of the household's grid: only they may record it)
    household_id, staff_id = db_conn.execute(text(
        "SELECT h.id, a.staff_id FROM households h JOIN staff_assignments a ON a.grid_code = h.grid_code "
        "WHERE a.role = 'micro_worker' AND a.start_date <= current_date AND (a.end_date IS NULL OR a.end_date >= "
        "current_date) ORDER BY h.id, a.staff_id LIMIT 1")).one()
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


# -- gridgov demo -------------------------------------------------------------------------------------
def _checksums(url: str) -> dict[str, str]:
    """md5 of every table's content (and every sequence's position) in the public schema."""
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            tables = conn.execute(text(
                "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' "
                "AND table_type = 'BASE TABLE' ORDER BY table_name")).scalars().all()
            out = {
                t: conn.execute(text(
                    f"SELECT md5(coalesce(string_agg(t::text, '|' ORDER BY t::text), '')) FROM \"{t}\" t")).scalar_one()
                for t in tables
            }
            for seq in conn.execute(text(
                    "SELECT sequence_name FROM information_schema.sequences WHERE sequence_schema = 'public'")).scalars():
                out[f"sequence {seq}"] = str(conn.execute(text(f'SELECT last_value, is_called FROM "{seq}"')).one())
    finally:
        engine.dispose()
    assert {"households", "incidents", "changesets", "spatial_ref_sys"} <= set(out)
    return out


@pytest.fixture()
def generated(monkeypatch, demo_data) -> list[dict]:
    """``gridgov demo`` gets the session's generated demo instead of generating it again (calls recorded)."""
    import demo.generate

    calls: list[dict] = []

    def fake(seed: int = 7, **kwargs):
        calls.append({"seed": seed, **kwargs})
        assert seed == 7
        return demo_data

    monkeypatch.setattr(demo.generate, "generate_demo", fake)
    return calls


def _use(url: str, monkeypatch) -> str:
    from gis.settings import get_settings

    use_database(monkeypatch, url)
    get_settings.cache_clear()
    return url


@pytest.fixture()
def empty_db(empty_database_url, monkeypatch) -> Iterator[str]:
    from gis.settings import get_settings

    yield _use(empty_database_url, monkeypatch)
    get_settings.cache_clear()


@pytest.fixture()
def demo_db(throwaway_databases, demo_data, monkeypatch) -> Iterator[str]:
    """A committed demo load in a database of its own, used through DATABASE_URL."""
    from gis.settings import get_settings

    url = throwaway_databases.create()
    engine = create_engine(url)
    with engine.begin() as conn:
        load_demo(conn, demo_data)
    engine.dispose()
    yield _use(url, monkeypatch)
    get_settings.cache_clear()


def _state(url: str) -> tuple[dict[str, int], ForeignData, list[tuple]]:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            changesets = conn.execute(text("SELECT id, kind FROM changesets ORDER BY id")).all()
            return _counts(conn), foreign_data(conn), [tuple(r) for r in changesets]
    finally:
        engine.dispose()


def test_demo_loads_into_an_empty_database(empty_db, generated, capsys, demo_data) -> None:
    from governance.deadlines import DeadlinePolicy

    assert main(["demo", "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["loaded"] is True and result["details"]["seed"] == 7
    assert result["counts"]["households"] == 6297 and result["counts"]["incident_events"] == len(demo_data.incident_events)
    assert result["replaced"] == {"changesets": {}, "rows": {}}
    # the incidents are played with the configured deadline policy
    assert generated == [{"seed": 7, "policy": DeadlinePolicy.from_settings()}]
    counts, found, changesets = _state(empty_db)
    assert counts["households"] == 6297 and counts["incidents"] == len(demo_data.incidents)
    assert not found.found and [kind for _, kind in changesets] == ["demo", "import"]


def test_demo_twice_reloads_its_own_data(demo_db, generated, capsys) -> None:
    before_counts, _, before_changesets = _state(demo_db)
    assert main(["demo"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("demo loaded: changesets 1, grid_codes 164") and "deleted" not in out
    counts, found, changesets = _state(demo_db)
    assert counts == before_counts and not found.found
    assert [k for _, k in changesets] == ["demo", "import"] and changesets[0][0] > before_changesets[0][0]
    assert len(generated) == 1


def test_demo_refuses_after_a_household_import_and_changes_nothing(demo_db, generated, capsys) -> None:
    from store.bulk import load_households

    engine = create_engine(demo_db)
    load_households(engine, _households([f"IMP-{i}" for i in range(12)]))
    engine.dispose()
    before = _checksums(demo_db)

    assert main(["demo"]) == 1
    captured = capsys.readouterr()
    err = captured.err.strip()
    assert err == (
        "error: the database holds data the demo did not create: 1 import changeset, 12 households; "
        "nothing was changed. Run `gridgov demo --replace-all-data` to delete everything and load the demo"
    )
    assert "Traceback" not in captured.err and captured.out == ""
    assert main(["demo", "--seed", "7", "--json"]) == 1
    refused = json.loads(capsys.readouterr().out)
    assert refused["refused"] is True and refused["found"]["rows"] == {"households": 12}
    assert _checksums(demo_db) == before, "a refused demo load changed the database"
    assert generated == [], "the demo was generated although it was going to be refused"

    # --replace-all-data deletes everything and loads the demo
    assert main(["demo", "--replace-all-data"]) == 0
    out = capsys.readouterr().out
    assert out.splitlines()[0] == "deleted: 1 import changeset, 12 households"
    after = _checksums(demo_db)
    assert after["households"] != before["households"]  # the checksums do see a change
    counts, found, changesets = _state(demo_db)
    assert counts["households"] == 6297 and not found.found and [k for _, k in changesets] == ["demo", "import"]
    assert main(["demo"]) == 0  # the demo's own data again: reloads


def _split_line(url: str, code: str) -> str:
    engine = create_engine(url)
    with engine.connect() as conn:
        wkb = conn.execute(text("SELECT ST_AsBinary(geom) FROM grids WHERE code = :c"), {"c": code}).scalar()
    engine.dispose()
    geom = shapely.from_wkb(bytes(wkb))
    minx, _, maxx, _ = geom.bounds
    y = geom.centroid.y
    return shapely.LineString([(minx - 0.001, y), (maxx + 0.001, y)]).wkt


def test_demo_refuses_after_a_boundary_edit(demo_db, generated, capsys) -> None:
    code = "430603003001001001"
    assert main(["edit", "split", code, "--line", _split_line(demo_db, code), "--reason", "new estate"]) == 0
    capsys.readouterr()
    before = _checksums(demo_db)
    assert main(["demo"]) == 1
    err = capsys.readouterr().err
    assert "the database holds data the demo did not create: 1 edit changeset, " in err
    assert "grid codes" in err and "grid versions" in err and "nothing was changed" in err
    assert "--replace-all-data" in err and "Traceback" not in err
    assert _checksums(demo_db) == before
    assert generated == []


def test_demo_refuses_after_work_in_the_app(demo_db, generated, capsys) -> None:
    """An incident handled in the app leaves no changeset, and still counts."""
    from store.governance import transition_incident

    engine = create_engine(demo_db)
    with engine.begin() as conn:
        incident_id = conn.execute(text("SELECT min(id) FROM incidents WHERE status = 'handled'")).scalar_one()
        transition_incident(conn, incident_id, "close", actor="supervisor", at=dt.datetime.now(SH))
    engine.dispose()
    before = _checksums(demo_db)
    assert main(["demo"]) == 1
    assert "did not create: 1 incident, 1 incident event; nothing was changed" in capsys.readouterr().err
    assert _checksums(demo_db) == before


def test_demo_if_empty_is_unaffected(demo_db, generated, capsys) -> None:
    before = _checksums(demo_db)
    assert main(["demo", "--if-empty"]) == 0
    assert capsys.readouterr().out.strip().splitlines()[0] == "demo not loaded: the database already has grids (164 grid codes)"
    assert _checksums(demo_db) == before and generated == []
    assert main(["demo", "--if-empty", "--replace-all-data"]) == 2
    assert "not both" in capsys.readouterr().err


def test_demo_if_empty_loads_an_empty_database_and_keeps_other_data(empty_db, generated, capsys) -> None:
    from store.bulk import load_households

    engine = create_engine(empty_db)
    load_households(engine, _households(["KEEP-1"]), assign=False)
    engine.dispose()
    before = _checksums(empty_db)
    # no grids but an import: --if-empty neither loads nor refuses (make run goes on)
    assert main(["demo", "--if-empty"]) == 0
    assert capsys.readouterr().out.strip().splitlines()[0] == (
        "demo not loaded: the database already holds data (1 import changeset, 1 household)")
    assert _checksums(empty_db) == before and generated == []


def test_demo_if_empty_on_an_empty_database_loads(empty_db, generated, capsys) -> None:
    assert main(["demo", "--if-empty"]) == 0
    assert capsys.readouterr().out.startswith("demo loaded: ")
    assert len(generated) == 1 and _state(empty_db)[0]["households"] == 6297


def test_a_write_while_generating_is_not_lost(demo_db, demo_data) -> None:
    """The check is repeated under lock in the load's transaction: a concurrent import wins."""
    from services.demo import ForeignDataError
    from services.demo import load_demo as load_demo_service
    from store.bulk import load_households
    from store.engine import make_engine

    engine = make_engine(demo_db)

    def generate_while_someone_imports():
        load_households(engine, _households(["LATE-1"]), assign=False)
        return demo_data

    try:
        with pytest.raises(ForeignDataError, match="1 import changeset, 1 household; nothing was changed") as raised:
            load_demo_service(engine, generate_while_someone_imports)
        assert raised.value.found.rows == {"households": 1}
        counts, found, _ = _state(demo_db)
        assert counts["households"] == 6297 + 1 and found.found
    finally:
        engine.dispose()
