"""Camera import rules (bad rows collected, good rows normalized) and stream-URL visibility."""

from __future__ import annotations

import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from gis.errors import ValidationError
from gis.problems import ERROR, WARNING
from governance.cameras import (
    check_cameras,
    check_stream_url,
    redact_stream_url,
    visible_stream_url,
)


def camera_file() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "camera_key": ["XL-001", "XL-002", "XL-001", None, "XL-005", "XL-006", " XL-007 ", "XL-008"],
            "name": ["幸福路东口", "小区北门", "重复", "无编号", "", "学校门口", "菜市场", "广场"],
            "type": ["枪机", "PTZ", "球机", "dome", "bullet", "热成像", "卡口", "半球"],
            "status": ["在线", "offline", "正常", "在线", "故障", "维修中", "on fire", "已拆除"],
            "stream_url": [
                "rtsp://admin:Hik12345@10.20.0.8:554/Streaming/Channels/101",
                None,
                "",
                "https://video.example.cn/live/4.m3u8",
                "ftp://10.0.0.5/x",
                "rtsp://10.20.0.9:99999/x",
                "http:///nohost",
                "http://10.0.0.7/live?user=admin&pwd=secret&channel=2",
            ],
            "lon": [113.1] * 8,
            "lat": [29.3] * 8,
        },
        index=[101, 102, 103, 104, 105, 106, 107, 108],
    )


def test_every_bad_row_is_reported():
    _, problems = check_cameras(camera_file())
    found = {(p.row, p.rule) for p in problems if p.severity == ERROR}
    assert found == {
        (2, "duplicate_key"),
        (3, "missing_key"),
        (4, "missing_name"),
        (4, "bad_stream_url"),  # ftp
        (5, "unknown_type"),  # 热成像 is not in the vocabulary
        (5, "bad_stream_url"),  # port 99999
        (6, "unknown_status"),
        (6, "bad_stream_url"),  # no host
    }
    warnings = {(p.row, p.rule) for p in problems if p.severity == WARNING}
    assert warnings == {(0, "stream_url_credentials"), (7, "stream_url_credentials")}
    assert next(p for p in problems if p.rule == "duplicate_key").message == "camera id 'XL-001' occurs more than once (first at row 0)"
    unknown = next(p for p in problems if p.rule == "unknown_type").message
    assert "'热成像'" in unknown and "bullet (枪机, Bullet camera)" in unknown


def test_good_rows_are_normalized_and_other_columns_kept():
    source = camera_file()
    cameras, _ = check_cameras(source)
    assert list(cameras.index) == list(source.index)
    assert cameras["type"].tolist() == ["bullet", "dome", "dome", "dome", "bullet", None, "vehicle", "hemisphere"]
    assert cameras["status"].tolist() == ["online", "offline", "online", "online", "fault", "maintenance", None, "removed"]
    assert cameras.loc[107, "camera_key"] == "XL-007"
    assert cameras.loc[103, "stream_url"] is None and cameras.loc[105, "stream_url"] is None
    assert cameras["lon"].tolist() == source["lon"].tolist()
    assert source.loc[101, "type"] == "枪机"  # the input is not changed


def test_messages_do_not_leak_credentials():
    _, problems = check_cameras(camera_file())
    assert not any("Hik12345" in p.message or "secret" in p.message for p in problems)
    _, found = check_stream_url("ftp://user:hunter2@10.0.0.5/x")
    assert "hunter2" not in found[0][2]


def test_an_id_column_is_accepted_and_missing_columns_are_named():
    cameras, problems = check_cameras(pd.DataFrame({"id": ["1"], "name": ["a"], "type": ["球机"], "status": ["在线"]}))
    assert cameras["camera_key"].tolist() == ["1"] and cameras["stream_url"].tolist() == [None] and problems == []
    with pytest.raises(ValidationError, match=r"lacks columns \['type', 'status'\]"):
        check_cameras(pd.DataFrame({"camera_key": ["1"], "name": ["a"]}))


@pytest.mark.parametrize(("url", "shown"), [
    ("rtsp://admin:Hik12345@10.20.0.8:554/Streaming/Channels/101", "rtsp://***@10.20.0.8:554/Streaming/Channels/101"),
    ("rtsp://admin@10.20.0.8/ch1", "rtsp://***@10.20.0.8/ch1"),
    ("http://10.0.0.7/live?user=admin&pwd=secret&channel=2", "http://10.0.0.7/live?***"),
    ("http://10.0.0.7/live?channel=2&fmt=h264", "http://10.0.0.7/live?channel=2&fmt=h264"),
    ("rtsp://admin:pa/ss@10.0.0.1/x", "***"),
    ("https://video.example.cn/live/4.m3u8", "https://video.example.cn/live/4.m3u8"),
    ("rtsp://u:p@[fe80::1]:554/x", "rtsp://***@[fe80::1]:554/x"),
    ("not a url", "***"),
    (None, None),
])
def test_redaction(url, shown):
    assert redact_stream_url(url) == shown


@given(st.text(alphabet="abcxyz0189!$%&=/?#@:;+", min_size=1, max_size=12), st.booleans())
def test_a_password_never_survives_redaction(text, in_query):
    password = "~" + text  # '~' appears nowhere else in the URL
    url = f"rtsp://10.0.0.1:554/live?channel=1&pwd={password}" if in_query else f"rtsp://admin:{password}@10.0.0.1:554/live"
    shown = redact_stream_url(url)
    assert shown in ("***", "rtsp://10.0.0.1:554/live?***", "rtsp://***@10.0.0.1:554/live")


def test_visibility_by_role():
    url = "rtsp://admin:Hik12345@10.20.0.8:554/101"
    assert visible_stream_url(url, may_see=False) is None
    assert visible_stream_url(url, may_see=True) == "rtsp://***@10.20.0.8:554/101"
    assert visible_stream_url(url, may_see=True, with_credentials=True) == url
    assert visible_stream_url(url, may_see=False, with_credentials=True) is None
    assert visible_stream_url(None, may_see=True) is None
