"""Quarterly refresh: verified / pending / overdue per record, shares per grid and worker, the overdue list.

As of 15 Nov 2026 (quarter 2026-Q4 from 1 Oct, previous quarter from 1 Jul), Shanghai:

households: 1 (A) verified 2 Nov by 1 → verified; 2 (A) 1 Aug → pending; 3 (B) never → overdue;
            4 (B) 30 Jun 23:59 → overdue (the quarter before last).
residents:  10 (h1) 1 Oct 00:00 by 2 → verified; 11 (h2) 30 Sep 16:00Z = 1 Oct 00:00 Shanghai → verified;
            12 (h3) 1 Dec (after as_of) → overdue; 13 (h4) 1 Jul 00:00 → pending.

grid A: households 2, verified 1 (share 0.5), pending 1; residents 2, verified 2 (share 1.0).
grid B: households 2, overdue 2 (share 0.0); residents 2, pending 1, overdue 1 (share 0.0).
worker 1 (grid A): same as A; verified by the worker themself this quarter: h1 and r11 (r10 was verified by 2) → 2.
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pandas as pd

from governance.verification import verification_report, verification_status

SH = ZoneInfo("Asia/Shanghai")
AS_OF = dt.datetime(2026, 11, 15, 12, 0, tzinfo=SH)
L2 = "110101001001001"
A, B = L2 + "001", L2 + "002"


def ts(text):
    if text is None:
        return pd.NaT
    stamp = pd.Timestamp(text)
    return stamp.tz_localize(SH) if stamp.tzinfo is None else stamp


def households() -> pd.DataFrame:
    return pd.DataFrame({
        "id": [1, 2, 3, 4], "grid_code": [A, A, B, B],
        "last_verified_at": pd.to_datetime([ts("2026-11-02 10:00"), ts("2026-08-01 10:00"), ts(None), ts("2026-06-30 23:59")], utc=True),
        "verified_by": [1, 1, None, 2],
    })


def residents() -> pd.DataFrame:
    return pd.DataFrame({
        "id": [10, 11, 12, 13], "household_id": [1, 2, 3, 4],
        "last_verified_at": pd.to_datetime([ts("2026-10-01 00:00"), ts("2026-09-30 16:00Z"), ts("2026-12-01 09:00"), ts("2026-07-01 00:00")], utc=True),
        "verified_by": [2, 1, 2, 2],
    })


def assignments() -> pd.DataFrame:
    return pd.DataFrame({"staff_id": [1, 2], "grid_code": [A, B], "role": ["micro_worker"] * 2,
                         "start_date": [dt.date(2026, 1, 1)] * 2, "end_date": [None, None]})


def test_status_of_each_record():
    report = verification_report(households(), residents(), assignments(), as_of=AS_OF)
    status = report.records.set_index(["kind", "id"])["status"].to_dict()
    assert status == {
        ("household", 1): "verified", ("household", 2): "pending", ("household", 3): "overdue", ("household", 4): "overdue",
        ("resident", 10): "verified", ("resident", 11): "verified", ("resident", 12): "overdue", ("resident", 13): "pending",
    }
    assert report.quarter == "2026-Q4"


def test_shares_per_grid_by_hand():
    grids = verification_report(households(), residents(), assignments(), as_of=AS_OF).grids.set_index("grid_code")
    assert grids.loc[A, ["households", "households_verified", "households_pending", "households_overdue"]].tolist() == [2, 1, 1, 0]
    assert grids.loc[A, "households_share"] == 0.5 and grids.loc[A, "residents_share"] == 1.0
    assert grids.loc[B, ["households_overdue", "residents_pending", "residents_overdue"]].tolist() == [2, 1, 1]
    assert grids.loc[B, "households_share"] == 0.0


def test_shares_per_worker_and_who_verified():
    workers = verification_report(households(), residents(), assignments(), as_of=AS_OF).workers.set_index("staff_id")
    assert workers.loc[1, ["households", "households_verified", "residents_verified", "verified_by_worker"]].tolist() == [2, 1, 2, 2]
    assert workers.loc[2, ["households_share", "residents_share", "verified_by_worker"]].tolist() == [0.0, 0.0, 0]


def test_overdue_list_names_the_worker():
    overdue = verification_report(households(), residents(), assignments(), as_of=AS_OF).overdue
    assert list(zip(overdue["kind"], overdue["id"], overdue["staff_id"])) == [
        ("household", 3, 2), ("household", 4, 2), ("resident", 12, 2)]


def test_a_new_quarter_turns_verified_into_pending_and_pending_into_overdue():
    early_q1 = dt.datetime(2027, 1, 2, tzinfo=SH)
    status = verification_status(households()["last_verified_at"], as_of=early_q1)
    assert status.tolist() == ["pending", "overdue", "overdue", "overdue"]


def test_without_assignments_there_are_no_worker_figures():
    report = verification_report(households(), residents(), None, as_of=AS_OF)
    assert report.workers.empty and report.overdue["staff_id"].isna().all()
