"""store.queries against the demo subdistrict in PostGIS (each test in a rolled-back transaction).

The incident figures the leaders' page shows (points, per-grid counts at every level,
monthly trend, totals) must agree with an independent SQL count over the same filter.
"""

from __future__ import annotations

import datetime as dt
import re
from zoneinfo import ZoneInfo

import numpy as np
import pytest
import shapely
from sqlalchemy import Connection, text

from boundaries.coding import CodeScheme
from gis import clock
from store import queries
from store.queries import IncidentFilter

pytestmark = pytest.mark.db

SHANGHAI = ZoneInfo("Asia/Shanghai")
SCHEME = CodeScheme((12, 3, 3))
XSS = "<img src=x onerror=alert(1)>"


def _scalar(conn: Connection, sql: str, **params) -> int:
    return int(conn.execute(text(sql), params).scalar_one())


# -- pure helpers -----------------------------------------------------------------------------


def test_current_month_is_counted_in_shanghai() -> None:
    # 2026-01-31 16:30 UTC is already 1 February in Shanghai
    month, start, end = clock.month_of(dt.datetime(2026, 1, 31, 16, 30, tzinfo=dt.timezone.utc), "Asia/Shanghai")
    assert month == "2026-02"
    assert start == dt.datetime(2026, 2, 1, tzinfo=SHANGHAI) and end == dt.datetime(2026, 3, 1, tzinfo=SHANGHAI)
    with pytest.raises(ValueError, match="no time zone"):
        clock.month_of(dt.datetime(2026, 1, 1))


# -- grids, scope, search ---------------------------------------------------------------------


def test_grids_frame_has_every_current_grid(db_conn: Connection) -> None:
    grids = queries.grids_frame(db_conn)
    assert len(grids) == _scalar(db_conn, "SELECT count(*) FROM grids")
    assert grids.crs.to_epsg() == 4490
    assert (grids["level"] == 3).sum() == _scalar(db_conn, "SELECT count(*) FROM grids WHERE level = 3") == 133
    assert all(SCHEME.is_valid(c) for c in grids["code"])
    assert grids.geometry.is_valid.all()
    micro = queries.grids_frame(db_conn, levels=[3])
    assert set(micro["level"]) == {3}


def test_scope_limits_grids_households_and_incidents(db_conn: Connection) -> None:
    level2 = db_conn.execute(text("SELECT code, parent_code FROM grids WHERE level = 2 ORDER BY code LIMIT 1")).one()
    scoped = queries.grids_frame(db_conn, scope=[level2.code])
    inside = scoped[scoped["code"].str.startswith(level2.code)]
    assert len(inside) == _scalar(db_conn, "SELECT count(*) FROM grids WHERE code LIKE :p", p=level2.code + "%")
    # plus the ancestors for context, nothing else
    assert set(scoped["code"]) - set(inside["code"]) == {level2.parent_code}
    households = queries.households_frame(db_conn, scope=[level2.code])
    assert len(households) == _scalar(db_conn, "SELECT count(*) FROM households WHERE grid_code LIKE :p", p=level2.code + "%")
    assert households["grid_code"].str.startswith(level2.code).all()
    filt = IncidentFilter()
    assert len(queries.incidents_frame(db_conn, filt, scope=[level2.code])) == _scalar(
        db_conn, "SELECT count(*) FROM incidents WHERE grid_code LIKE :p", p=level2.code + "%"
    )
    assert queries.grids_frame(db_conn, scope=[]).empty
    with pytest.raises(ValueError, match="digits"):
        queries.grids_frame(db_conn, scope=["43'; DROP TABLE grids; --"])


def test_search_by_code_name_staff_and_address(db_conn: Connection) -> None:
    micro = db_conn.execute(
        text("SELECT code, name, ST_XMin(geom) x0, ST_YMin(geom) y0, ST_XMax(geom) x1, ST_YMax(geom) y1 "
             "FROM grids WHERE level = 3 ORDER BY code DESC LIMIT 1")
    ).one()
    hits = queries.search(db_conn, micro.code)
    assert hits[0].kind == "grid" and hits[0].code == micro.code
    assert hits[0].bounds == pytest.approx((micro.x0, micro.y0, micro.x1, micro.y1))

    level1 = db_conn.execute(text("SELECT code, name FROM grids WHERE level = 1 ORDER BY code LIMIT 1")).one()
    by_name = queries.search(db_conn, level1.name)
    assert any(h.kind == "grid" and h.code == level1.code for h in by_name)

    staff = db_conn.execute(
        text("SELECT s.name, sa.grid_code FROM staff s JOIN staff_assignments sa ON sa.staff_id = s.id "
             "WHERE sa.end_date IS NULL ORDER BY s.id LIMIT 1")
    ).one()
    assert any(h.kind == "staff" and h.code == staff.grid_code for h in queries.search(db_conn, staff.name, limit=200))

    hh = db_conn.execute(text("SELECT address, grid_code FROM households WHERE grid_code IS NOT NULL ORDER BY id LIMIT 1")).one()
    assert any(h.kind == "household" and h.code == hh.grid_code for h in queries.search(db_conn, hh.address, limit=200))

    assert queries.search(db_conn, "") == []
    assert queries.search(db_conn, "%_%no-such-thing") == []
    # scoped search never leaves the scope
    other = db_conn.execute(text("SELECT code FROM grids WHERE level = 1 AND code <> :c LIMIT 1"), {"c": level1.code}).scalar_one()
    assert all(h.code.startswith(level1.code) for h in queries.search(db_conn, other[:9], scope=[level1.code]))


def test_find_staff_by_name_and_phone(db_conn: Connection) -> None:
    person = db_conn.execute(
        text("SELECT s.id, s.name, s.phone FROM staff s JOIN staff_assignments sa ON sa.staff_id = s.id "
             "WHERE s.phone IS NOT NULL AND sa.end_date IS NULL ORDER BY s.id LIMIT 1")
    ).one()
    by_name = queries.find_staff(db_conn, person.name)
    assert person.id in set(by_name["staff_id"])
    by_phone = queries.find_staff(db_conn, person.phone)
    assert set(by_phone["staff_id"]) == {person.id}
    assert queries.find_staff(db_conn, "   ").empty


# -- households, roster, visits ---------------------------------------------------------------


def test_roster_masks_personal_data(db_conn: Connection, app_engine, login_as) -> None:
    """The roster a page shows (services.households) masks ID numbers and phones for the admin."""
    from services.households import household_roster

    code = db_conn.execute(
        text("SELECT h.grid_code FROM households h JOIN residents r ON r.household_id = h.id "
             "WHERE r.id_number IS NOT NULL AND r.phone IS NOT NULL AND h.grid_code IS NOT NULL LIMIT 1")
    ).scalar_one()
    roster = household_roster(app_engine, login_as("admin"), code)
    raw = db_conn.execute(
        text("SELECT r.id_number, r.phone FROM residents r JOIN households h ON h.id = r.household_id WHERE h.grid_code = :c"),
        {"c": code},
    ).all()
    assert len(roster) >= len(raw) > 0
    ids = [v for v in roster["id_number"] if v]
    phones = [v for v in roster["phone"] if v]
    assert ids and all(re.fullmatch(r"\d{6}\*{8}[\dX]{4}", v) for v in ids), ids[:3]
    assert phones and all(re.fullmatch(r"\d{3}\*{4}\d{4}", v) for v in phones), phones[:3]
    text_dump = roster.to_csv()
    for id_number, phone in raw:
        if id_number:
            assert id_number not in text_dump
        if phone:
            assert phone not in text_dump


def test_due_visits_counts_the_shanghai_month(db_conn: Connection) -> None:
    row = db_conn.execute(
        text("SELECT h.id, h.grid_code FROM households h WHERE cardinality(h.special_kinds) > 0 AND h.grid_code IS NOT NULL "
             "ORDER BY h.id LIMIT 1")
    ).one()
    staff_id = db_conn.execute(text("SELECT id FROM staff ORDER BY id LIMIT 1")).scalar_one()
    # "now" is 1 March 00:30 in Shanghai (still 28 February in UTC)
    now = dt.datetime(2031, 3, 1, 0, 30, tzinfo=SHANGHAI)
    before = queries.due_visits(db_conn, row.grid_code, now=now)
    assert before.month == "2031-03"
    assert row.id in set(before.households["household_id"])
    special = _scalar(db_conn, "SELECT count(*) FROM households WHERE grid_code = :c AND cardinality(special_kinds) > 0", c=row.grid_code)
    assert len(before.households) == special  # nobody visited in 2031 yet
    assert before.visits_done == 0 and before.still_needed == 10

    def visit(at: dt.datetime) -> None:
        db_conn.execute(
            text("INSERT INTO visits (household_id, staff_id, visited_at, grid_code) VALUES (:h, :s, :at, :g)"),
            {"h": row.id, "s": staff_id, "at": at, "g": row.grid_code},
        )

    visit(dt.datetime(2031, 2, 28, 15, 50, tzinfo=dt.timezone.utc))  # 23:50 on 28 Feb in Shanghai: February
    assert queries.due_visits(db_conn, row.grid_code, now=now).visits_done == 0
    visit(dt.datetime(2031, 2, 28, 16, 10, tzinfo=dt.timezone.utc))  # 00:10 on 1 March in Shanghai: March
    after = queries.due_visits(db_conn, row.grid_code, now=now)
    assert after.visits_done == 1 and after.still_needed == 9
    assert row.id not in set(after.households["household_id"])
    assert len(after.households) == special - 1
    # the parent grid sees the same visit
    parent = SCHEME.parent_of(row.grid_code)
    assert queries.due_visits(db_conn, parent, now=now).visits_done == 1


# -- incidents: every figure agrees with a SQL count ------------------------------------------


def _filters(conn: Connection) -> list[IncidentFilter]:
    cats = [c for (c,) in conn.execute(text("SELECT DISTINCT category FROM incidents ORDER BY 1")).all()]
    first, last = conn.execute(
        text("SELECT min((reported_at AT TIME ZONE 'Asia/Shanghai')::date), max((reported_at AT TIME ZONE 'Asia/Shanghai')::date) FROM incidents")
    ).one()
    mid = first + (last - first) / 2
    return [
        IncidentFilter(),
        IncidentFilter(start=first + dt.timedelta(days=30), end=mid),
        IncidentFilter(categories=tuple(cats[:2])),
        IncidentFilter(statuses=("closed",)),
        IncidentFilter(start=mid, end=last, categories=tuple(cats[1:3]), statuses=("reported", "accepted", "dispatched", "closed")),
    ]


def _sql_count(conn: Connection, f: IncidentFilter, *, extra: str = "TRUE") -> int:
    where = [extra]
    params: dict = {}
    if f.start:
        where.append("(reported_at AT TIME ZONE 'Asia/Shanghai')::date >= :s")
        params["s"] = f.start
    if f.end:
        where.append("(reported_at AT TIME ZONE 'Asia/Shanghai')::date <= :e")
        params["e"] = f.end
    if f.categories:
        where.append("category = ANY(:c)")
        params["c"] = list(f.categories)
    if f.statuses:
        where.append("status = ANY(:st)")
        params["st"] = list(f.statuses)
    return _scalar(conn, "SELECT count(*) FROM incidents WHERE " + " AND ".join(where), **params)


def test_incident_figures_agree_with_sql_counts(db_conn: Connection) -> None:
    assert _scalar(db_conn, "SELECT count(*) FROM incidents") > 100
    for f in _filters(db_conn):
        expected = _sql_count(db_conn, f)
        closed = _sql_count(db_conn, f, extra="status = 'closed'")
        unassigned = _sql_count(db_conn, f, extra="grid_code IS NULL")
        frame = queries.incidents_frame(db_conn, f)
        total = queries.incident_total(db_conn, f)
        trend = queries.incident_monthly_trend(db_conn, f)
        assert len(frame) == expected == total["incidents"], f
        assert total["closed"] == closed and total["unassigned"] == unassigned
        assert int(trend["incidents"].sum()) == expected and int(trend["closed"].sum()) == closed
        assert (frame["month"].value_counts().sort_index().to_numpy() == trend.set_index("month")["incidents"].to_numpy()).all()
        for level in (1, 2, 3):
            counts = queries.incident_counts_by_grid(db_conn, f, level=level)
            assert len(counts) == _scalar(db_conn, "SELECT count(*) FROM grids WHERE level = :l", l=level)
            assert int(counts["incidents"].sum()) == expected - unassigned, (f, level)
            assert int(counts["closed"].sum()) == _sql_count(db_conn, f, extra="status = 'closed' AND grid_code IS NOT NULL")
            nonzero = counts[counts["incidents"] > 0]
            assert np.allclose(nonzero["closure_rate"], nonzero["closed"] / nonzero["incidents"])
            assert counts["closure_rate"][counts["incidents"] == 0].isna().all()
            assert list(counts["incidents"]) == sorted(counts["incidents"], reverse=True)
        # one grid, checked by hand
        top = queries.incident_counts_by_grid(db_conn, f, level=3).iloc[0]
        if top["incidents"]:
            assert top["incidents"] == _sql_count(db_conn, f, extra=f"grid_code = '{top['code']}'")


def test_incident_dates_are_local_days(db_conn: Connection) -> None:
    point = db_conn.execute(text("SELECT ST_AsText(ST_PointOnSurface(geom)), code FROM grids WHERE level = 3 LIMIT 1")).one()
    # 31 Jan 2031 16:30 UTC = 1 Feb 00:30 in Shanghai
    db_conn.execute(
        text("INSERT INTO incidents (geom, reported_at, category, description, grid_code) "
             "VALUES (ST_GeomFromText(:wkt, 4490), :at, 'test-cat', :d, :g)"),
        {"wkt": point[0], "at": dt.datetime(2031, 1, 31, 16, 30, tzinfo=dt.timezone.utc), "d": XSS, "g": point[1]},
    )
    jan = IncidentFilter(start=dt.date(2031, 1, 1), end=dt.date(2031, 1, 31), categories=("test-cat",))
    feb = IncidentFilter(start=dt.date(2031, 2, 1), end=dt.date(2031, 2, 1), categories=("test-cat",))
    assert queries.incident_total(db_conn, jan)["incidents"] == 0
    frame = queries.incidents_frame(db_conn, feb)
    assert len(frame) == 1 and frame["month"].iloc[0] == "2031-02"
    # the query returns the raw text; escaping is the map's job (gis.webmap)
    assert frame["description"].iloc[0] == XSS
    assert "test-cat" in queries.incident_options(db_conn)["categories"]


def test_incident_map_of_real_data_escapes_and_stays_offline(db_conn: Connection) -> None:
    from app_pages import maps
    from app_pages.i18n import translate

    point = db_conn.execute(text("SELECT ST_AsText(ST_PointOnSurface(geom)), code FROM grids WHERE level = 3 LIMIT 1")).one()
    db_conn.execute(
        text("INSERT INTO incidents (geom, reported_at, category, description, address, grid_code) "
             "VALUES (ST_GeomFromText(:wkt, 4490), now(), 'xss', :d, :d, :g)"),
        {"wkt": point[0], "d": XSS, "g": point[1]},
    )
    f = IncidentFilter()
    incidents = queries.incidents_frame(db_conn, f)
    counts = queries.incident_counts_by_grid(db_conn, f, level=3)
    fmap, _ = maps.incident_map(incidents, counts, tr=lambda k, /, **kw: translate(k, "zh", **kw))
    html = fmap.get_root().render()
    decoded = re.sub(r"\\u([0-9a-fA-F]{4})", lambda m: chr(int(m.group(1), 16)), html)
    assert "<img src=x" not in decoded and "&lt;img src=x onerror=alert(1)&gt;" in decoded
    grid_map = maps.grid_map(queries.grids_frame(db_conn), tr=lambda k, /, **kw: translate(k, "zh", **kw),
                             incidents=incidents, households=queries.households_frame(db_conn))
    assert grid_map.get_root().render().count('"gg-level-3"') == 1  # one GeoJson layer holds all micro-grids


def test_data_version_changes_on_write(db_conn: Connection) -> None:
    before = queries.data_version(db_conn)
    assert before == queries.data_version(db_conn)
    point = db_conn.execute(text("SELECT ST_AsText(ST_PointOnSurface(geom)) FROM grids LIMIT 1")).scalar_one()
    db_conn.execute(
        text("INSERT INTO incidents (geom, reported_at, category) VALUES (ST_GeomFromText(:wkt, 4490), now(), 'x')"),
        {"wkt": point},
    )
    assert queries.data_version(db_conn) != before


def test_grid_geometry(db_conn: Connection) -> None:
    code = db_conn.execute(text("SELECT code FROM grids WHERE level = 3 LIMIT 1")).scalar_one()
    one = queries.grid_geometry(db_conn, code)
    assert len(one) == 1 and one.crs.to_epsg() == 4490 and shapely.area(one.geometry.iloc[0]) > 0
    from gis.errors import NotFoundError

    with pytest.raises(NotFoundError, match="999"):
        queries.grid_geometry(db_conn, "430603003999999999")
    with pytest.raises(NotFoundError):
        queries.grid_geometry(db_conn, code, scope=["1"])


def test_open_incidents_of_a_grid(db_conn: Connection) -> None:
    code = db_conn.execute(
        text("SELECT left(grid_code, 15) FROM incidents WHERE status NOT IN ('closed', 'rejected') AND grid_code IS NOT NULL "
             "GROUP BY 1 ORDER BY count(*) DESC LIMIT 1")
    ).scalar_one()
    rows = queries.open_incidents(db_conn, code)
    assert len(rows) == _scalar(
        db_conn, "SELECT count(*) FROM incidents WHERE grid_code LIKE :p AND status NOT IN ('closed', 'rejected')", p=code + "%"
    ) > 0
    assert not set(rows["status"]) & {"closed", "rejected"}
    assert rows["grid_code"].str.startswith(code).all()
    assert list(rows["reported_at"]) == sorted(rows["reported_at"], reverse=True)
