"""The worker's and the leader's homes, pure parts: task order, overdue wording, periods, rankings,
the assessment month, request keys and photos (EXIF time and GPS)."""

from __future__ import annotations

import datetime as dt
import io
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd
import pytest

from gis.errors import ValidationError
from governance.capture import PhotoRefused, check_request_key, new_request_key
from governance.overview import (
    assessment_month,
    in_period,
    overdue_list,
    period_counts,
    preset_dates,
    unresolved_ranking,
)
from governance.tasks import hours_as_days_hours, my_reports, task_list

SH = ZoneInfo("Asia/Shanghai")
NOW = dt.datetime(2026, 12, 1, 10, 0, tzinfo=SH)


def _incidents(rows: list[dict]) -> pd.DataFrame:
    frame = pd.DataFrame(rows)
    for col in ("reported_at", "deadline", "closed_at"):
        frame[col] = pd.to_datetime(frame.get(col), utc=True)
    for col in ("assigned_to", "reported_by"):
        frame[col] = pd.array(frame.get(col, [None] * len(frame)), dtype="Int64")
    return frame


def test_hours_as_days_and_hours() -> None:
    assert hours_as_days_hours(53.9) == (2, 5)
    assert hours_as_days_hours(8629.6) == (359, 13)
    assert hours_as_days_hours(0.5) == (0, 0)
    assert hours_as_days_hours(-3) == (0, 0)
    assert hours_as_days_hours(float("nan")) == (0, 0)


def test_tasks_are_mine_and_overdue_first() -> None:
    frame = _incidents([
        {"id": 1, "status": "dispatched", "assigned_to": 8, "reported_at": NOW - dt.timedelta(days=9),
         "deadline": NOW + dt.timedelta(days=2)},
        {"id": 2, "status": "dispatched", "assigned_to": 8, "reported_at": NOW - dt.timedelta(days=5),
         "deadline": NOW - dt.timedelta(hours=30)},
        {"id": 3, "status": "dispatched", "assigned_to": 8, "reported_at": NOW - dt.timedelta(days=4),
         "deadline": NOW - dt.timedelta(hours=80)},
        {"id": 4, "status": "handled", "assigned_to": 8, "reported_at": NOW, "deadline": NOW - dt.timedelta(days=1)},
        {"id": 5, "status": "dispatched", "assigned_to": 9, "reported_at": NOW, "deadline": NOW - dt.timedelta(days=1)},
        {"id": 6, "status": "dispatched", "assigned_to": 8, "reported_at": NOW - dt.timedelta(days=1), "deadline": None},
        {"id": 7, "status": "dispatched", "assigned_to": 8, "reported_at": NOW - dt.timedelta(days=3),
         "deadline": NOW + dt.timedelta(hours=5)},
    ])
    tasks = task_list(frame, 8, now=NOW)
    assert tasks["id"].tolist() == [3, 2, 7, 1, 6]
    assert tasks["overdue"].tolist() == [True, True, False, False, False]
    assert tasks.loc[0, "overdue_hours"] == pytest.approx(80)
    assert tasks.loc[2, "due_in_hours"] == pytest.approx(5)
    assert np.isnan(tasks.loc[4, "due_in_hours"])
    assert task_list(frame, None, now=NOW).empty
    assert task_list(frame, 42, now=NOW).empty


def test_my_reports_are_open_newest_first() -> None:
    frame = _incidents([
        {"id": 1, "status": "reported", "reported_by": 8, "reported_at": NOW - dt.timedelta(days=2)},
        {"id": 2, "status": "closed", "reported_by": 8, "reported_at": NOW - dt.timedelta(days=1)},
        {"id": 3, "status": "dispatched", "reported_by": 8, "reported_at": NOW - dt.timedelta(hours=1)},
        {"id": 4, "status": "reported", "reported_by": 9, "reported_at": NOW},
    ])
    assert my_reports(frame, 8)["id"].tolist() == [3, 1]
    assert my_reports(frame, 8, limit=1)["id"].tolist() == [3]


def test_presets_as_of_the_first_of_a_month() -> None:
    today = dt.date(2026, 12, 1)
    assert preset_dates("this_month", today=today) == (dt.date(2026, 12, 1), today)
    assert preset_dates("last_month", today=today) == (dt.date(2026, 11, 1), dt.date(2026, 11, 30))
    assert preset_dates("this_quarter", today=today) == (dt.date(2026, 10, 1), today)
    assert preset_dates("last_month", today=dt.date(2026, 1, 15)) == (dt.date(2025, 12, 1), dt.date(2025, 12, 31))
    assert preset_dates("custom", today=today, custom=(dt.date(2026, 3, 1), dt.date(2026, 3, 5))) == (
        dt.date(2026, 3, 1), dt.date(2026, 3, 5))
    with pytest.raises(ValidationError, match="ends"):
        preset_dates("custom", today=today, custom=(dt.date(2026, 3, 5), dt.date(2026, 3, 1)))
    with pytest.raises(ValidationError, match="preset"):
        preset_dates("yesterday", today=today)


def test_period_is_local_days_and_counts() -> None:
    frame = _incidents([
        # 2026-11-01 00:30 Shanghai is still October in UTC: in November
        {"id": 1, "status": "closed", "reported_at": dt.datetime(2026, 11, 1, 0, 30, tzinfo=SH), "grid_code": "1001"},
        # 2026-12-01 00:10 Shanghai is 30 November UTC: not in November
        {"id": 2, "status": "reported", "reported_at": dt.datetime(2026, 12, 1, 0, 10, tzinfo=SH), "grid_code": "1001"},
        {"id": 3, "status": "rejected", "reported_at": dt.datetime(2026, 11, 15, tzinfo=SH), "grid_code": "1002"},
        {"id": 4, "status": "dispatched", "reported_at": dt.datetime(2026, 11, 20, tzinfo=SH), "grid_code": "1002",
         "deadline": dt.datetime(2026, 11, 25, tzinfo=SH)},
        {"id": 5, "status": "accepted", "reported_at": dt.datetime(2026, 11, 30, 23, 59, tzinfo=SH), "grid_code": "2001"},
    ])
    november = in_period(frame, dt.date(2026, 11, 1), dt.date(2026, 11, 30))
    assert november["id"].tolist() == [1, 3, 4, 5]
    counts = period_counts(november, now=NOW)
    assert (counts.reported, counts.open, counts.overdue, counts.closed, counts.rejected) == (4, 2, 1, 1, 1)
    assert counts.closure_rate == pytest.approx(1 / 3)
    assert np.isnan(period_counts(november.iloc[0:0], now=NOW).closure_rate)


def _roster(rows: list[tuple]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["grid_code", "role", "name", "phone", "start_date", "end_date", "staff_id"])


def test_ranking_names_the_nearest_grid_head_and_the_worker() -> None:
    grids = pd.DataFrame({
        "code": ["1", "2", "1001", "1002", "2001"], "name": ["A社区", "B社区", "A1", "A2", "B1"], "level": [1, 1, 3, 3, 3],
    })
    start = dt.date(2026, 1, 1)
    roster = _roster([
        ("1", "grid_head", "甲", "131", start, None, 1),
        ("2", "grid_head", "乙-旧", "132", start, dt.date(2026, 6, 30), 2),
        ("2", "grid_head", "乙", "133", dt.date(2026, 7, 1), None, 3),
        ("1001", "micro_worker", "丙", "134", start, None, 4),
        ("1002", "grid_head", "丁", "135", start, None, 5),
        ("2001", "micro_worker", "戊", "136", start, None, 6),
    ])
    frame = _incidents([
        {"id": 1, "status": "dispatched", "grid_code": "2001", "reported_at": NOW, "deadline": NOW - dt.timedelta(hours=1)},
        {"id": 2, "status": "reported", "grid_code": "2001", "reported_at": NOW},
        {"id": 3, "status": "reported", "grid_code": "1001", "reported_at": NOW},
        {"id": 4, "status": "closed", "grid_code": "1001", "reported_at": NOW},
        {"id": 5, "status": "reported", "grid_code": None, "reported_at": NOW},
    ])
    communities = unresolved_ranking(frame, grids, roster, level=1, on=dt.date(2026, 12, 1), now=NOW)
    assert communities[["code", "unresolved", "overdue", "head_name"]].values.tolist() == [
        ["2", 2, 1, "乙"], ["1", 1, 0, "甲"]]
    assert communities["worker_name"].isna().all()
    micro = unresolved_ranking(frame, grids, roster, level=3, on=dt.date(2026, 12, 1), now=NOW)
    assert micro["code"].tolist() == ["2001", "1001", "1002"]
    assert micro.set_index("code").loc["1002", "head_name"] == "丁"  # its own grid head beats the community's
    assert micro.set_index("code").loc["1001", "head_name"] == "甲"
    assert micro.set_index("code").loc["2001", "worker_name"] == "戊"
    assert micro.set_index("code").loc["1002", "worker_name"] is None


def test_overdue_list_in_whole_days() -> None:
    frame = _incidents([
        {"id": 1, "status": "dispatched", "reported_at": NOW, "deadline": NOW - dt.timedelta(hours=50)},
        {"id": 2, "status": "dispatched", "reported_at": NOW, "deadline": NOW - dt.timedelta(hours=3)},
        {"id": 3, "status": "closed", "reported_at": NOW, "deadline": NOW - dt.timedelta(hours=300)},
    ])
    late = overdue_list(frame, now=NOW)
    assert late["id"].tolist() == [1, 2]
    assert late["overdue_days"].tolist() == [2, 0]


def test_assessment_month_on_the_first_is_the_last_complete_month() -> None:
    first = dt.datetime(2026, 12, 1, 0, 30, tzinfo=SH)
    month = assessment_month(first)
    assert (month.month, month.complete, month.days_covered, month.days_in_month) == ("2026-11", True, 30, 30)
    current = assessment_month(first, current=True)
    assert (current.month, current.complete, current.days_covered, current.days_in_month) == ("2026-12", False, 1, 31)
    # 30 November 17:00 UTC is 1 December in Shanghai
    assert assessment_month(dt.datetime(2026, 11, 30, 17, 0, tzinfo=dt.UTC)).month == "2026-11"


def test_request_keys() -> None:
    key = new_request_key()
    assert check_request_key(key) == key and key != new_request_key()
    for bad in ("", "short", "x" * 65, "has space in it here!", None):
        with pytest.raises(ValidationError):
            check_request_key(bad)  # type: ignore[arg-type]


def _jpeg(*, exif: bool = True, when: str = "2026:11:30 09:15:00", offset: str | None = "+08:00") -> bytes:
    from PIL import Image

    image = Image.new("RGB", (64, 48), (200, 30, 30))
    data = Image.Exif()
    if exif:
        data.get_ifd(0x8769)[0x9003] = when
        if offset:
            data.get_ifd(0x8769)[0x9011] = offset
        gps = data.get_ifd(0x8825)
        gps[1], gps[2], gps[3], gps[4] = "N", (29.0, 20.0, 15.5), "E", (113.0, 10.0, 30.25)
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", exif=data)
    return buffer.getvalue()


def test_photo_exif_time_and_gps_are_read_and_the_bytes_kept() -> None:
    from etl.photos import read_photo

    content = _jpeg()
    photo = read_photo(content, timezone="Asia/Shanghai")
    assert photo.content == content  # EXIF and all: the file is kept as uploaded
    assert photo.media_type == "image/jpeg" and (photo.width, photo.height) == (64, 48)
    assert photo.taken_at == dt.datetime(2026, 11, 30, 9, 15, tzinfo=SH)
    assert photo.exif_lat == pytest.approx(29 + 20 / 60 + 15.5 / 3600)
    assert photo.exif_lon == pytest.approx(113 + 10 / 60 + 30.25 / 3600)
    # no offset recorded: the camera's wall clock is local time
    assert read_photo(_jpeg(offset=None), timezone="Asia/Shanghai").taken_at == dt.datetime(2026, 11, 30, 9, 15,
                                                                                           tzinfo=SH)
    # a camera's placeholder date is no date
    assert read_photo(_jpeg(when="0000:00:00 00:00:00")).taken_at is None
    bare = read_photo(_jpeg(exif=False))
    assert bare.taken_at is None and bare.exif_lon is None and bare.exif_lat is None


def test_photo_refusals_name_a_reason() -> None:
    from etl.photos import read_photo

    with pytest.raises(PhotoRefused) as empty:
        read_photo(b"")
    assert empty.value.reason == "empty"
    with pytest.raises(PhotoRefused) as text:
        read_photo(b"this is not an image at all")
    assert text.value.reason == "not_image"
    with pytest.raises(PhotoRefused) as large:
        read_photo(_jpeg(), max_bytes=100)
    assert large.value.reason == "too_large" and large.value.params["limit"] == 100
    from PIL import Image

    gif = io.BytesIO()
    Image.new("RGB", (8, 8)).save(gif, "GIF")
    with pytest.raises(PhotoRefused) as fmt:
        read_photo(gif.getvalue())
    assert fmt.value.reason == "format"
    truncated = _jpeg()[:200]
    with pytest.raises(PhotoRefused):
        read_photo(truncated)
