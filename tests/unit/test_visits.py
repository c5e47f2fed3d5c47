"""The monthly visit plan, checked against figures worked out by hand on a small fixture."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

import _governance_data as data
from gis.errors import ValidationError
from governance.visits import VisitRecord, validate_visit, visit_plan


@pytest.fixture(scope="module")
def plan():
    return visit_plan(data.households(), data.visits(), data.assignments(), month=data.MONTH, as_of=data.AS_OF)


def test_workers_are_those_active_on_the_plan_date(plan):
    # staff 4 left C on 31 Oct; staff 3 is police, not a micro-grid worker
    assert plan.workers["staff_id"].tolist() == [1, 2]
    assert plan.workers["grid_codes"].tolist() == [data.A, data.B]


def test_worker_counts_by_hand(plan):
    w = plan.workers.set_index("staff_id")
    # worker 1: 12 households; visited h1 (twice), h4, h5, h8 (23:59 on 30 Nov) = 4;
    # h6 (31 Oct local) and h7 (1 Dec local) are other months
    assert w.loc[1, ["households", "visited", "remaining"]].tolist() == [12, 4, 6]
    # specials h1, h2, h3: h1 and h2 (by the police) visited; h3 pending
    assert w.loc[1, ["special_households", "special_pending"]].tolist() == [3, 1]
    # cut-off 30 Aug 20:00: h2 (15 Jul) and h3 (never) are due
    assert w.loc[1, "due_for_update"] == 2
    # worker 2: 3 households, so the minimum is 3; visited h14 only (h13 on 1 Dec)
    assert w.loc[2, ["households", "visited", "remaining"]].tolist() == [3, 1, 2]
    assert w.loc[2, ["special_households", "special_pending", "due_for_update"]].tolist() == [1, 1, 1]


def test_lists_by_hand(plan):
    assert plan.special_pending[["staff_id", "household_id"]].values.tolist() == [[1, 3], [2, 13]]
    assert plan.due_for_update[["staff_id", "household_id"]].values.tolist() == [[1, 2], [1, 3], [2, 13]]
    # the household's own columns are carried for the worker's list
    assert plan.special_pending["address"].tolist() == ["幸福路3号", "幸福路13号"]
    assert plan.month == "2026-11"


def test_inputs_are_not_mutated():
    households = data.households()
    before = households.copy()
    visit_plan(households, data.visits(), data.assignments(), month=data.MONTH, as_of=data.AS_OF)
    pd.testing.assert_frame_equal(households, before)


def test_more_visits_reduce_remaining_to_zero():
    extra = pd.DataFrame(
        {"staff_id": [1] * 9, "household_id": list(range(3, 12)), "visited_at": pd.Timestamp("2026-11-10T02:00Z")}
    )
    visits = pd.concat([data.visits(), extra], ignore_index=True)
    plan = visit_plan(data.households(), visits, data.assignments(), month=data.MONTH, as_of=data.AS_OF)
    w = plan.workers.set_index("staff_id")
    # h1, h4, h5, h8 plus h3..h11 = 10 distinct households
    assert w.loc[1, "visited"] == 10 and w.loc[1, "remaining"] == 0 and w.loc[1, "special_pending"] == 0


def test_early_plan_date_changes_active_workers():
    # on 5 Nov worker 2 has not started yet
    plan = visit_plan(
        data.households(), data.visits(), data.assignments(), month=data.MONTH,
        as_of=dt.datetime(2026, 11, 5, 12, tzinfo=data.SH),
    )
    assert plan.workers["staff_id"].tolist() == [1]


def test_missing_columns_and_naive_times_are_refused():
    with pytest.raises(ValidationError, match=r"households frame lacks columns \['special_kinds'\]"):
        visit_plan(data.households().drop(columns="special_kinds"), data.visits(), data.assignments(),
                   month=data.MONTH, as_of=data.AS_OF)
    naive = data.visits().assign(visited_at=pd.Timestamp("2026-11-03 09:00"))
    with pytest.raises(ValidationError, match="naive"):
        visit_plan(data.households(), naive, data.assignments(), month=data.MONTH, as_of=data.AS_OF)


def test_validate_visit_collects_every_problem():
    ok = VisitRecord(household_id=1, staff_id=2, visited_at=data.AS_OF, kind="routine", lon=116.4, lat=39.9)
    assert validate_visit(ok, now=data.AS_OF) is ok
    bad = VisitRecord(household_id=0, staff_id=2, visited_at=dt.datetime(2026, 11, 1), kind=" ", lon=116.4)
    with pytest.raises(ValidationError) as info:
        validate_visit(bad)
    assert len(info.value.findings) == 4
    future = VisitRecord(household_id=1, staff_id=2, visited_at=data.AS_OF + dt.timedelta(days=1))
    with pytest.raises(ValidationError, match="in the future"):
        validate_visit(future, now=data.AS_OF)


def test_worker_households_and_recent_months():
    from gis.clock import recent_months
    from governance.visits import worker_households

    households = data.households().set_index("id", drop=False)
    mine = worker_households(households, data.assignments(), 2, on=dt.date(2026, 11, 20))
    assert mine["id"].tolist() == [13, 14, 15]
    assert worker_households(households, data.assignments(), 2, on=dt.date(2026, 11, 1)).empty
    assert recent_months(3, now=dt.datetime(2026, 1, 1, 0, 30, tzinfo=data.SH)) == ["2026-01", "2025-12", "2025-11"]
    # 31 Dec 16:30 UTC is already January in Shanghai
    assert recent_months(1, now=dt.datetime(2025, 12, 31, 16, 30, tzinfo=dt.UTC)) == ["2026-01"]
