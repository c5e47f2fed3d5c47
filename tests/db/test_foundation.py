"""Issue 2: schema, demo subdistrict, lookups and constraints on the real PostGIS."""

from __future__ import annotations

from testdb import database_env

import json
import os
import subprocess

import pytest
from sqlalchemy import create_engine, inspect, text
from sqlalchemy.exc import IntegrityError

from store.lookup import GridNotFoundAtPoint, grid_card, lookup_point, subdistrict_stats
from gis.errors import NotFoundError

from tests.db._cli import command

LEVEL1 = {
    "430603003001": "杨树港社区",
    "430603003002": "擂鼓台社区",
    "430603003003": "菱泊湖社区",
    "430603003004": "茅岭头社区",
    "430603003200": "东风村",
    "430603003201": "滨湖村",
}


def test_migrations_apply_from_empty(throwaway_databases) -> None:
    from store.migrate import current_revision, head_revision, upgrade

    url = throwaway_databases.create(migrate=False)
    engine = create_engine(url)
    assert current_revision(engine) is None
    upgrade(engine)
    assert current_revision(engine) == head_revision()
    tables = set(inspect(engine).get_table_names())
    assert {"grids", "grid_versions", "grid_codes", "households", "residents", "staff", "staff_assignments",
            "incidents", "incident_events", "visits", "changesets", "code_lineage"} <= tables
    with engine.connect() as conn:
        srids = dict(conn.execute(text(
            "SELECT f_table_name || '.' || f_geometry_column, srid FROM geometry_columns")).all())
        gist = conn.execute(text("SELECT indexdef FROM pg_indexes WHERE indexname = 'ix_grids_geom'")).scalar()
    assert srids["grids.geom"] == 4490 and srids["households.geom"] == 4490 and srids["incidents.geom"] == 4490
    assert "USING gist" in gist
    engine.dispose()


def test_demo_loads_with_the_documented_counts(db_conn) -> None:
    stats = subdistrict_stats(db_conn)
    assert stats["grids_by_level"] == {1: 6, 2: 25, 3: 133}
    assert stats["households"] == 6297
    assert stats["unassigned_households"] == 0
    assert stats["unassigned_incidents"] == 0
    assert stats["residents"] == db_conn.execute(text("SELECT sum(members) FROM households")).scalar()
    workers = db_conn.execute(text(
        "SELECT count(DISTINCT staff_id) FROM staff_assignments WHERE role = 'micro_worker'")).scalar()
    assert workers == 131
    names = dict(db_conn.execute(text("SELECT code, name FROM grids WHERE level = 1")).all())
    assert names == LEVEL1
    statuses = set(stats["incidents_by_status"])
    assert statuses == {"reported", "accepted", "rejected", "classified", "dispatched", "handled", "closed"}


def test_every_household_and_incident_falls_in_exactly_one_micro_grid(db_conn) -> None:
    for table in ("households", "incidents"):
        rows = db_conn.execute(text(f"""
            SELECT t.id, t.grid_code, array_agg(g.code ORDER BY g.code) AS covering
            FROM {table} t JOIN grids g ON g.level = 3 AND ST_Covers(g.geom, t.geom)
            GROUP BY t.id, t.grid_code
        """)).all()
        total = db_conn.execute(text(f"SELECT count(*) FROM {table}")).scalar()
        assert len(rows) == total, f"some {table} are covered by no micro-grid"
        assert all(len(r.covering) == 1 for r in rows), f"some {table} are covered by two micro-grids"
        assert all(r.grid_code == r.covering[0] for r in rows), f"{table}.grid_code disagrees with PostGIS"


def test_lookup_by_point_returns_the_covering_grid_and_its_parents(db_conn) -> None:
    lon, lat, expected = db_conn.execute(text("""
        SELECT ST_X(p), ST_Y(p), code FROM (
          SELECT ST_PointOnSurface(geom) AS p, code FROM grids WHERE level = 3 ORDER BY code LIMIT 1 OFFSET 40) s
    """)).one()
    cards = lookup_point(db_conn, lon, lat)
    assert [c.code for c in cards] == [expected, expected[:15], expected[:12]]
    micro = cards[0]
    assert micro.households == db_conn.execute(
        text("SELECT count(*) FROM households WHERE grid_code = :c"), {"c": expected}).scalar()
    assert {s.role for s in micro.staff} >= {"micro_worker", "grid_police", "family_doctor", "supervisor", "coordinator"}
    assert [c for c, _ in micro.parents] == [expected[:12], expected[:15]]
    # the same card is the public contact card: the parents' liaison leaders and grid heads first
    heads = db_conn.execute(text(
        "SELECT s.name FROM staff_assignments sa JOIN staff s ON s.id = sa.staff_id WHERE sa.grid_code = ANY(:c) "
        "AND sa.role IN ('liaison_leader', 'grid_head') AND sa.end_date IS NULL"), {"c": [expected[:12], expected[:15]]}
    ).scalars().all()
    entries = micro.contact_entries("zh")
    assert heads and {e.name for e in entries[: len(heads)]} == set(heads)
    assert [e.role for e in entries[len(heads):]] == [s.role for s in micro.staff]
    assert all(e.role_label and e.role_label != e.role for e in entries)


def test_lookup_by_code_lists_children_for_upper_levels(db_conn) -> None:
    card = grid_card(db_conn, "430603003001")
    assert card.name == "杨树港社区" and card.level == 1
    assert card.children and all(c.startswith("430603003001") and len(c) == 15 for c, _ in card.children)
    assert card.households == db_conn.execute(
        text("SELECT count(*) FROM households WHERE grid_code LIKE '430603003001%'")).scalar()
    with pytest.raises(NotFoundError, match="no grid has the code 430603003999"):
        grid_card(db_conn, "430603003999")


def test_point_outside_the_coverage_reports_the_nearest_grid(db_conn) -> None:
    with pytest.raises(GridNotFoundAtPoint) as info:
        lookup_point(db_conn, 113.0, 29.30)
    near = info.value.nearest
    assert near is not None and len(near.code) == 18
    expected = db_conn.execute(text("""
        SELECT code, ST_Distance(geom::geography, ST_SetSRID(ST_MakePoint(113.0, 29.30), 4490)::geography)
        FROM grids WHERE level = 3 ORDER BY 2 LIMIT 1""")).one()
    assert near.code == expected[0]
    assert near.distance_m == pytest.approx(expected[1], rel=1e-6)
    assert near.distance_m > 1000


def test_cli_lookup_outside_exits_1_with_nearest(database_url) -> None:
    env = {**os.environ, **database_env(database_url)}
    proc = subprocess.run(command(["lookup", "--lon", "113.0", "--lat", "29.3", "--json"]),
                          capture_output=True, text=True, env=env, timeout=120)
    assert proc.returncode == 1, proc.stderr
    data = json.loads(proc.stdout)
    assert data["found"] is False and len(data["nearest"]["code"]) == 18 and data["nearest"]["distance_m"] > 1000
    assert "nearest" in proc.stderr and "Traceback" not in proc.stderr


def test_cli_lookup_by_code_and_stats_json(database_url) -> None:
    env = {**os.environ, **database_env(database_url)}
    proc = subprocess.run(command(["lookup", "--code", "430603003200", "--json"]),
                          capture_output=True, text=True, env=env, timeout=120)
    assert proc.returncode == 0, proc.stderr
    card = json.loads(proc.stdout)
    assert card["name"] == "东风村" and card["children"]
    proc = subprocess.run(command(["stats", "--json"]),
                          capture_output=True, text=True, env=env, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["households"] == 6297
    bad = subprocess.run(command(["lookup", "--code", "12x"]),
                         capture_output=True, text=True, env=env, timeout=120)
    assert bad.returncode == 1 and "non-digit" in bad.stderr and "Traceback" not in bad.stderr


def _insert_grid(conn, code: str, level: int, parent: str | None) -> None:
    conn.execute(text("INSERT INTO grid_codes (code, level) VALUES (:c, :l) ON CONFLICT DO NOTHING"),
                 {"c": code, "l": level})
    conn.execute(text("""
        INSERT INTO grids (code, level, parent_code, name, geom)
        VALUES (:c, :l, :p, 'test', ST_Multi(ST_MakeEnvelope(113.0, 29.0, 113.01, 29.01, 4490)))
    """), {"c": code, "l": level, "p": parent})


def test_constraints_reject_a_duplicate_code(db_conn) -> None:
    with pytest.raises(IntegrityError, match="pk_grids"):
        with db_conn.begin_nested():
            _insert_grid(db_conn, "430603003001", 1, None)


def test_constraints_reject_a_child_code_not_extending_its_parent(db_conn) -> None:
    with pytest.raises(IntegrityError, match="code_extends_parent"):
        with db_conn.begin_nested():
            _insert_grid(db_conn, "430603003002901", 2, "430603003001")


def test_constraints_reject_a_wrong_srid(db_conn) -> None:
    with pytest.raises(Exception, match="SRID"):
        with db_conn.begin_nested():
            db_conn.execute(text("INSERT INTO grid_codes (code, level) VALUES ('430603003009', 1)"))
            db_conn.execute(text("""INSERT INTO grids (code, level, name, geom) VALUES
                ('430603003009', 1, 'x', ST_Multi(ST_MakeEnvelope(113.0, 29.0, 113.01, 29.01, 4326)))"""))
