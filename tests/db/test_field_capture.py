"""A worker's phone saves: one visit or incident per form (request keys), photos kept with EXIF,
and the home's counters and lists read back what was saved — as the worker, under row-level security."""

from __future__ import annotations

import datetime as dt
import io
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import create_engine, text

pytestmark = pytest.mark.db

SH = ZoneInfo("Asia/Shanghai")


@pytest.fixture(scope="module")
def field(throwaway_databases, demo_data):
    from services.auth import owner_session
    from store.engine import make_engine
    from testdb import demo_copy

    url = demo_copy(throwaway_databases, demo_data)
    owner = create_engine(url)
    app = make_engine(throwaway_databases.app_url(url))
    worker = owner_session(owner, app, "worker-001")
    yield owner, app, worker
    app.dispose()
    owner.dispose()


def _jpeg_with_exif() -> bytes:
    from PIL import Image

    image = Image.new("RGB", (32, 24), (10, 120, 40))
    exif = Image.Exif()
    exif.get_ifd(0x8769)[0x9003] = "2026:11:30 08:00:00"
    exif.get_ifd(0x8769)[0x9011] = "+08:00"
    gps = exif.get_ifd(0x8825)
    gps[1], gps[2], gps[3], gps[4] = "N", (29.0, 30.0, 0.0), "E", (113.0, 0.0, 0.0)
    out = io.BytesIO()
    image.save(out, "JPEG", exif=exif)
    return out.getvalue()


def test_a_double_tap_records_one_visit_and_the_counter_moves_once(field) -> None:
    from etl.photos import read_photo
    from governance.capture import new_request_key
    from governance.visits import VisitRecord
    from services.home import load_worker_day
    from services.visits import record_visit

    owner, app, worker = field
    before = load_worker_day(app, worker)
    assert before.grids["code"].tolist(), "worker-001 holds a grid"
    visited = set()
    with owner.connect() as conn:
        month_start = dt.datetime.now(SH).replace(day=1, hour=0, minute=0, second=0, microsecond=0)
        visited = {r[0] for r in conn.execute(text(
            "SELECT household_id FROM visits WHERE staff_id = :s AND visited_at >= :m"),
            {"s": worker.staff_id, "m": month_start})}
    household = next(int(h) for h in before.households["id"] if int(h) not in visited)
    key = new_request_key()
    record = VisitRecord(household_id=household, staff_id=int(worker.staff_id),
                         visited_at=dt.datetime.now(SH) - dt.timedelta(minutes=1), kind="routine", note="入户")
    photo = read_photo(_jpeg_with_exif())
    first = record_visit(app, worker, record, request_key=key, photo=photo)
    second = record_visit(app, worker, record, request_key=key, photo=photo)
    assert first == second
    with owner.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM visits WHERE request_key = :k"), {"k": key}).scalar_one() == 1
        row = conn.execute(text("SELECT count(*), min(stored_by), min(taken_at), min(exif_lat) FROM photos "
                                "WHERE visit_id = :v"), {"v": first}).one()
    assert row[0] == 1 and row[1] == "worker-001"
    assert row[2] == dt.datetime(2026, 11, 30, 0, 0, tzinfo=dt.UTC)
    assert row[3] == pytest.approx(29.5)
    after = load_worker_day(app, worker)
    assert after.visited == before.visited + 1
    assert int(after.recent_visits.iloc[0]["id"]) == first
    # another form (a new key) is another visit
    third = record_visit(app, worker, record, request_key=new_request_key())
    assert third != first


def test_a_resubmitted_report_is_one_incident_whose_detail_and_photo_the_worker_sees(field) -> None:
    from etl.photos import read_photo
    from governance.capture import new_request_key
    from services.home import incident_panel, photo
    from services.incidents import report_incident

    owner, app, worker = field
    with owner.connect() as conn:
        code = conn.execute(text("SELECT grid_code FROM staff_assignments WHERE staff_id = :s AND end_date IS NULL "
                                 "ORDER BY id LIMIT 1"), {"s": worker.staff_id}).scalar_one()
        lon, lat = conn.execute(text("SELECT ST_X(ST_PointOnSurface(geom)), ST_Y(ST_PointOnSurface(geom)) FROM grids "
                                     "WHERE code = :c"), {"c": code}).one()
    key = new_request_key()
    picture = read_photo(_jpeg_with_exif())
    reports = {report_incident(app, worker, lon=lon, lat=lat, category="环境卫生", description="路灯不亮",
                               request_key=key, photo=picture) for _ in range(2)}
    assert len(reports) == 1  # the same id and the same reference code both times
    (reported,) = reports
    incident_id = reported.id
    assert reported.reference
    detail = incident_panel(app, worker, incident_id)
    assert detail["id"] == incident_id and detail["description"] == "路灯不亮" and detail["grid_code"] == code
    assert len(detail["photos"]) == 1
    media_type, content = photo(app, worker, detail["photos"][0].id)
    assert media_type == "image/jpeg" and content == picture.content
    with owner.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM incidents WHERE request_key = :k"), {"k": key}).scalar_one() == 1
        assert conn.execute(text("SELECT count(*) FROM audit_log WHERE action = 'view_photo'")).scalar_one() >= 1
