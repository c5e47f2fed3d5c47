"""Monthly assessment figures, checked against values worked out by hand on a small fixture.

Hand computation for November 2026 (as of 30 Nov 20:00 Shanghai), see _governance_data:

worker 1 (grid A): visits_made 4 (h1, h4, h5, h8); required max(min(10, 12), 3) = 10;
special covered 2 (h1, h2); discovered 3 (i1, i2, i7; i4 is October); closed 2 (i1, i4);
median hours (48 + 288) / 2 = 168; closure rate: i1, i2 reported in Nov → i1 closed = 0.5;
overdue 1 (i2: due 9 Nov, still open; i1 and i4 on time); score 4 + 2·2 + 2·3 + 3·2 − 5·1 − 6 = 9.

worker 2 (grid B): visits 1 (h14), required max(3, 1) = 3, covered 0, discovered 1 (i3),
closed 1 (i3, 192 h), closure i3, i7 → 0.5, overdue 1 (i3 closed after its deadline);
score 1 + 0 + 2 + 3 − 5 − 2 = −1.

grid A: 12 households, 3 special, covered 2, visits_made 5 (h1, h2, h4, h5, h8), required 10,
discovered 4 (i1, i2, i6, i7), closed 2 (168 h), closure 1/4, overdue 1, score 5+4+8+6−5−5 = 13.
grid B: 3 households, 1 special, covered 0, visits 1, required 3, discovered 2 (i3, i5),
closed 1 (192 h), closure 1/1 (i5 rejected), overdue 1, score 1+0+4+3−5−2 = 1.
grid C: 1 household, 1 special, nothing else: required 1, score −1, closure/median NaN.
"""

from __future__ import annotations

import datetime as dt
import json
import math

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import _governance_data as data
from governance.assessment import ScoreWeights, assess_month, rank

COLUMNS = [
    "households", "special_households", "visits_made", "visits_required", "special_covered",
    "incidents_discovered", "incidents_closed", "closure_rate", "median_hours_to_close", "overdue", "score",
]


def _assess(**kw):
    base = dict(
        households=data.households(), visits=data.visits(), assignments=data.assignments(),
        incidents=data.incidents(), grids=data.grids(), staff=data.staff(), month=data.MONTH, as_of=data.AS_OF,
    )
    base.update(kw)
    return assess_month(**base)


def _row(frame: pd.DataFrame, key: str, value) -> list:
    return frame.set_index(key).loc[value, COLUMNS].tolist()


def test_worker_figures_by_hand():
    result = _assess()
    assert result.workers["staff_id"].tolist() == [1, 2]
    assert result.workers["name"].tolist() == ["王一", "李二"]
    assert _row(result.workers, "staff_id", 1) == [12, 3, 4, 10, 2, 3, 2, 0.5, 168.0, 1, 9.0]
    assert _row(result.workers, "staff_id", 2) == [3, 1, 1, 3, 0, 1, 1, 0.5, 192.0, 1, -1.0]


def test_grid_figures_by_hand():
    result = _assess()
    grids = result.grids
    assert grids["grid_code"].tolist() == [data.A, data.B, data.C]
    assert grids["name"].tolist() == ["一网格", "二网格", "三网格"]
    assert _row(grids, "grid_code", data.A) == [12, 3, 5, 10, 2, 4, 2, 0.25, 168.0, 1, 13.0]
    assert _row(grids, "grid_code", data.B) == [3, 1, 1, 3, 0, 2, 1, 1.0, 192.0, 1, 1.0]
    c = _row(grids, "grid_code", data.C)
    assert c[:7] == [1, 1, 0, 1, 0, 0, 0] and math.isnan(c[7]) and math.isnan(c[8]) and c[9:] == [0, -1.0]


def test_level2_grid_sums_its_micro_grids():
    level2 = pd.DataFrame({"code": [data.L2], "name": ["二级网格"], "level": [2]})
    row = _row(_assess(grids=level2).grids, "grid_code", data.L2)
    # 16 households, 5 special, covered 2, visits 6; discovered 6; closed 3 (48, 192, 288 h)
    assert row[:7] == [16, 5, 6, 10, 2, 6, 3]
    assert row[7] == pytest.approx(2 / 5)  # i1, i2, i3, i6, i7 reported in Nov; i1, i3 closed
    assert row[8] == 192.0 and row[9] == 2


def test_earlier_as_of_has_fewer_overdue():
    # on 8 Nov nothing was due yet except i1 (met): no overdue
    result = _assess(as_of=dt.datetime(2026, 11, 8, 12, tzinfo=data.SH))
    assert result.workers.set_index("staff_id")["overdue"].tolist() == [0]  # worker 2 starts 10 Nov


def test_weights_are_configurable_and_ranking():
    result = _assess(weights=ScoreWeights(visit=0, special_covered=0, incident_discovered=10,
                                          incident_closed=0, overdue=0, missed_visit=0))
    assert result.workers["score"].tolist() == [30.0, 10.0]
    ranked = rank(_assess().grids)
    assert ranked["grid_code"].tolist() == [data.A, data.B, data.C]
    assert ranked["rank"].tolist() == [1, 2, 3]


def test_json_form_is_plain_json():
    payload = _assess().to_json_dict()
    text = json.dumps(payload, ensure_ascii=False)
    back = json.loads(text)
    assert back["month"] == "2026-11"
    assert back["grids"][2]["closure_rate"] is None
    assert back["workers"][0]["score"] == 9.0


def test_inputs_are_not_mutated():
    incidents = data.incidents()
    before = incidents.copy()
    _assess(incidents=incidents)
    pd.testing.assert_frame_equal(incidents, before)


@st.composite
def _random_month(draw):
    """Random households, visits and incidents in grids A, B, C around November 2026."""
    n_h = draw(st.integers(0, 15))
    codes = [data.A, data.B, data.C]
    households = pd.DataFrame({
        "id": list(range(1, n_h + 1)),
        "grid_code": [draw(st.sampled_from(codes)) for _ in range(n_h)],
        "special_kinds": [draw(st.sampled_from([[], ["hardship"]])) for _ in range(n_h)],
        "refreshed_at": pd.to_datetime([None] * n_h, utc=True),
    })
    day = st.integers(-20, 50).map(lambda d: pd.Timestamp("2026-11-01T00:00+08:00") + pd.Timedelta(hours=12 * d))
    n_v = draw(st.integers(0, 20)) if n_h else 0
    visits = pd.DataFrame({
        "staff_id": [draw(st.sampled_from([1, 2, 3])) for _ in range(n_v)],
        "household_id": [draw(st.integers(1, max(n_h, 1))) for _ in range(n_v)],
        "visited_at": pd.to_datetime([draw(day) for _ in range(n_v)], utc=True),
    })
    rows = []
    for i in range(draw(st.integers(0, 12))):
        reported = draw(day)
        status = draw(st.sampled_from(["reported", "dispatched", "closed", "rejected"]))
        closed = reported + pd.Timedelta(hours=draw(st.integers(1, 400))) if status == "closed" else pd.NaT
        deadline = reported + pd.Timedelta(days=draw(st.sampled_from([3, 7, 30]))) if status != "reported" else pd.NaT
        rows.append((i + 1, draw(st.sampled_from(codes)), reported, draw(st.sampled_from([1, 2, None])),
                     draw(st.sampled_from([1, 2, None])), status, deadline, closed))
    incidents = pd.DataFrame(rows, columns=["id", "grid_code", "reported_at", "reported_by", "assigned_to", "status",
                                            "deadline", "closed_at"])
    for col in ("reported_at", "deadline", "closed_at"):
        incidents[col] = pd.to_datetime(incidents[col], utc=True)
    for col in ("reported_by", "assigned_to"):
        incidents[col] = incidents[col].astype("Int64")
    return households, visits, incidents


@settings(max_examples=25, deadline=None)
@given(_random_month())
def test_figures_are_consistent_on_random_months(month_data):
    households, visits, incidents = month_data
    result = assess_month(households=households, visits=visits, assignments=data.assignments(), incidents=incidents,
                          grids=data.grids(), month=data.MONTH, as_of=data.AS_OF)
    level2 = assess_month(households=households, visits=visits, assignments=data.assignments(), incidents=incidents,
                          grids=pd.DataFrame({"code": [data.L2]}), month=data.MONTH, as_of=data.AS_OF).grids
    for frame in (result.workers, result.grids):
        assert (frame["special_covered"] <= frame["special_households"]).all()
        assert (frame["visits_required"] >= frame["special_households"]).all()
        rate = frame["closure_rate"].dropna()
        assert ((rate >= 0) & (rate <= 1)).all()
        assert (frame["median_hours_to_close"].dropna() > 0).all()
    # micro-grid figures add up to their level-2 grid (counts are additive)
    for column in ("households", "special_households", "special_covered", "visits_made", "incidents_discovered",
                   "incidents_closed", "overdue"):
        assert result.grids[column].sum() == level2.loc[0, column], column
    assert result.grids["incidents_discovered"].sum() == int(
        ((incidents["reported_at"] >= pd.Timestamp("2026-11-01T00:00+08:00"))
         & (incidents["reported_at"] < pd.Timestamp("2026-12-01T00:00+08:00"))).sum()
    )
