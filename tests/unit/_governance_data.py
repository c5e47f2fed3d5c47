"""A small hand-made governance fixture whose figures are worked out by hand in the tests.

Three micro-grids A, B, C of one level-2 grid; workers 1 (A, all year) and 2 (B, from
10 November); staff 3 is A's grid police; staff 4 worked C until 31 October. Every time is
Asia/Shanghai unless written with Z. Used by tests/unit/test_visits.py,
tests/unit/test_assessment.py and tests/db/test_governance.py (loaded by path there).
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pandas as pd

SH = ZoneInfo("Asia/Shanghai")
MONTH = "2026-11"
AS_OF = dt.datetime(2026, 11, 30, 20, 0, tzinfo=SH)

L2 = "110101001001001"
A, B, C = L2 + "001", L2 + "002", L2 + "003"


def t(text: str) -> pd.Timestamp:
    """'2026-11-02 09:00' in Shanghai, or an ISO string with its own offset/Z."""
    ts = pd.Timestamp(text)
    return ts.tz_localize(SH) if ts.tzinfo is None else ts


def households() -> pd.DataFrame:
    rows = []
    for i in range(1, 13):  # h1..h12 in A; h1-h3 special
        rows.append((i, A, ["empty_nest"] if i in (1, 2, 3) else [], "2026-09-01 10:00"))
    rows[0] = (1, A, ["empty_nest"], "2026-10-01 10:00")
    rows[1] = (2, A, ["disabled", "hardship"], "2026-07-15 10:00")
    rows[2] = (3, A, ["left_behind_child"], None)
    rows += [
        (13, B, ["hardship"], "2026-08-29 10:00"),
        (14, B, [], "2026-11-01 10:00"),
        (15, B, [], "2026-11-01 10:00"),
        (16, C, ["empty_nest"], None),
    ]
    frame = pd.DataFrame(rows, columns=["id", "grid_code", "special_kinds", "refreshed_at"])
    frame["refreshed_at"] = pd.to_datetime(
        [t(v) if v else pd.NaT for v in frame["refreshed_at"]], utc=True
    )
    frame["address"] = [f"幸福路{i}号" for i in frame["id"]]
    return frame


def visits() -> pd.DataFrame:
    rows = [
        (1, 1, "2026-11-03 09:00"),
        (1, 1, "2026-11-05 09:00"),  # same household again: still one household
        (1, 4, "2026-11-06 09:00"),
        (1, 5, "2026-11-07 09:00"),
        (1, 6, "2026-10-31 23:30"),  # October in Shanghai
        (1, 8, "2026-11-30T15:59:00Z"),  # 23:59 on 30 Nov in Shanghai: counts
        (1, 7, "2026-11-30T16:30:00Z"),  # 00:30 on 1 Dec in Shanghai: does not
        (3, 2, "2026-11-08 10:00"),  # the police visit special household 2
        (2, 14, "2026-11-15 10:00"),
        (2, 13, "2026-12-01 00:10"),
    ]
    frame = pd.DataFrame(rows, columns=["staff_id", "household_id", "when"])
    frame["visited_at"] = pd.to_datetime([t(v) for v in frame.pop("when")], utc=True)
    frame["kind"] = "routine"
    return frame


def staff() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "id": [1, 2, 3, 4],
            "staff_key": ["W1", "W2", "P1", "W4"],
            "name": ["王一", "李二", "张警官", "赵四"],
            "phone": ["13800000001", "13800000002", "13800000003", "13800000004"],
        }
    )


def assignments() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "staff_id": [1, 2, 3, 4],
            "grid_code": [A, B, A, C],
            "role": ["micro_worker", "micro_worker", "grid_police", "micro_worker"],
            "start_date": [dt.date(2026, 1, 1), dt.date(2026, 11, 10), dt.date(2026, 1, 1), dt.date(2025, 1, 1)],
            "end_date": [None, None, None, dt.date(2026, 10, 31)],
        }
    )


def incidents() -> pd.DataFrame:
    rows = [
        # id grid reported reported_by assigned status disposition deadline closed category
        (1, A, "2026-11-02 09:00", 1, 1, "closed", "solve_now", "2026-11-06 00:00", "2026-11-04 09:00", "环境卫生"),
        (2, A, "2026-11-05 10:00", 1, 1, "dispatched", "solve_now", "2026-11-09 00:00", None, "环境卫生"),
        (3, B, "2026-11-12 08:00", 2, 2, "closed", "solve_now", "2026-11-20 00:00", "2026-11-20 08:00", "治安隐患"),
        (4, A, "2026-10-20 10:00", 1, 1, "closed", "research_assign", "2026-11-19 00:00", "2026-11-01 10:00", "邻里纠纷"),
        (5, B, "2026-11-25 10:00", None, None, "rejected", None, None, None, "邻里纠纷"),
        (6, A, "2026-11-28 10:00", 3, None, "reported", None, None, None, "治安隐患"),
        (7, A, "2026-11-29 10:00", 1, 2, "dispatched", "research_assign", "2026-12-31 00:00", None, "环境卫生"),
    ]
    frame = pd.DataFrame(
        rows,
        columns=["id", "grid_code", "reported_at", "reported_by", "assigned_to", "status", "disposition",
                 "deadline", "closed_at", "category"],
    )
    for col in ("reported_at", "deadline", "closed_at"):
        frame[col] = pd.to_datetime([t(v) if v else pd.NaT for v in frame[col]], utc=True)
    for col in ("reported_by", "assigned_to"):
        frame[col] = frame[col].astype("Int64")
    frame["grid_code_at_report"] = frame["grid_code"]
    frame["lon"] = [116.40 + 0.001 * i for i in frame["id"]]
    frame["lat"] = [39.90 + 0.001 * i for i in frame["id"]]
    return frame


def grids() -> pd.DataFrame:
    return pd.DataFrame({"code": [A, B, C], "name": ["一网格", "二网格", "三网格"], "level": [3, 3, 3]})
