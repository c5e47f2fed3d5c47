"""The three-in-one assessment against cases worked out by hand.

Month 2026-11 (default weights 0.5 / 0.3 / 0.2, deduction 5 per failed check, best worker = 100):

worker 1: points 40 (best) → 100; evaluation 72.5; leader 85; one failed check →
          0.5·100 + 0.3·72.5 + 0.2·85 − 5 = 50 + 21.75 + 17 − 5 = 83.75 → qualified.
worker 2: points 20 → 50; evaluation suppressed → weights 5/7 and 2/7; leader 70 →
          (5/7)·50 + (2/7)·70 = 390/7 = 55.714… → 55.71 → unqualified.
worker 3: points −5 → 0; evaluation 50; no leader rating → pending (no total, no grade).
worker 4: points 36 → 90; evaluation 95; leader 92 → 45 + 28.5 + 18.4 = 91.9 → excellent.

Quarter 2026-Q4 (no evaluation: weights 5/7 and 2/7):

worker 1: Oct 30, Nov 40 → mean 35 (best) → 100; leader: the quarter's own rating 80 (not the
          October 60); failed checks: 3 Dec (in), 20 Sep (out) → 1 →
          (5/7)·100 + (2/7)·80 − 5 = 660/7 − 5 = 89.2857… → 89.29 → qualified.
worker 2: Nov 20 only → mean 20 → 100·20/35 = 400/7; leader: mean of Oct 70 and Nov 90 = 80 →
          (5/7)(400/7) + (2/7)·80 = 2000/49 + 160/7 = 3120/49 = 63.673… → 63.67 → basic.
"""

from __future__ import annotations

import inspect
import math
from zoneinfo import ZoneInfo

import _governance_data as data
import pandas as pd
import pytest

from gis.errors import ValidationError
from governance.assessment import assess_month
from governance.three_in_one import (
    GradeThresholds,
    ThreeInOneConfig,
    ThreeInOneWeights,
    award_ineligible,
    monthly_points,
    three_in_one,
)
from i18n.catalogue import translate

SH = ZoneInfo("Asia/Shanghai")


def t(text: str) -> pd.Timestamp:
    return pd.Timestamp(text, tz=SH)


def month_inputs():
    points = pd.DataFrame({"staff_id": [1, 2, 3, 4, 1], "month": ["2026-11"] * 4 + ["2026-10"], "points": [40, 20, -5, 36, 99]})
    ratings = pd.DataFrame({"staff_id": [1, 2, 4], "period": ["2026-11"] * 3, "rating": [85, 70, 92]})
    evaluation = pd.DataFrame({"staff_id": [1, 2, 3, 4], "score": [72.5, float("nan"), 50, 95],
                               "suppressed": [False, True, False, False]})
    checks = pd.DataFrame({"staff_id": [1, 1, 4], "checked_at": [t("2026-11-20 10:00"), t("2026-11-21 10:00"), t("2026-12-01 00:00")],
                           "outcome": ["not_visited", "confirmed", "details_wrong"]})
    staff = pd.DataFrame({"id": [1, 2, 3, 4], "name": ["王一", "李二", "张三", "赵四"]})
    return dict(daily_points=points, leader_ratings=ratings, evaluation=evaluation, spot_checks=checks, staff=staff)


def test_month_by_hand():
    result = three_in_one(period="2026-11", **month_inputs())
    rows = result.workers.set_index("staff_id")
    assert rows.loc[1, "total"] == 83.75 and rows.loc[1, "grade"] == "qualified"
    assert rows.loc[2, "total"] == 55.71 and rows.loc[2, "grade"] == "unqualified"
    assert math.isnan(rows.loc[3, "total"]) and rows.loc[3, "pending"] and pd.isna(rows.loc[3, "grade"])
    assert rows.loc[4, "total"] == 91.9 and rows.loc[4, "grade"] == "excellent"
    assert result.workers["staff_id"].tolist() == [4, 1, 2, 3]
    assert result.workers["rank"].tolist()[:3] == [1, 2, 3] and pd.isna(result.workers["rank"].iloc[3])
    assert rows.loc[1, "failed_checks"] == 1 and rows.loc[4, "failed_checks"] == 0  # 1 Dec is not November
    assert rows["award_eligible"].isna().all()  # only a year decides awards
    assert rows.loc[1, "name"] == "王一"


def test_breakdown_shows_each_component():
    b = three_in_one(period="2026-11", **month_inputs()).breakdown(2)
    daily, evaluation, leader = b.components
    assert (daily.raw, daily.scaled, daily.nominal_weight) == (20.0, 50.0, 0.5)
    assert daily.weight == pytest.approx(5 / 7) and leader.weight == pytest.approx(2 / 7)
    assert not evaluation.present and evaluation.weight == 0 and evaluation.contribution == 0
    assert daily.contribution + leader.contribution == pytest.approx(390 / 7)
    assert b.notes == ("evaluation_missing",)
    assert b.to_dict()["components"][0]["code"] == "daily_points"


def test_formula_text_in_both_languages():
    result = three_in_one(period="2026-11", **month_inputs())
    assert result.breakdown(1).formula(translate, "zh") == (
        "总分 = 0.50 × 日常积分 100.00 + 0.30 × 群众评价 72.50 + 0.20 × 领导评价 85.00 − 5.00 × 督查未通过 1 次 = 83.75"
    )
    assert result.breakdown(1).formula(translate, "en").startswith("Total = 0.50 × Daily points 100.00 + 0.30 × Residents' evaluation")
    two = result.breakdown(2).formula(translate, "zh").splitlines()
    assert two[0] == "总分 = 0.71 × 日常积分 50.00 + 0.29 × 领导评价 70.00 = 55.71"
    assert "群众评价" in two[1]
    assert result.breakdown(3).formula(translate, "zh").endswith("= 待定（缺少领导评价）")


def test_quarter_by_hand():
    points = pd.DataFrame({"staff_id": [1, 1, 2], "month": ["2026-10", "2026-11", "2026-11"], "points": [30, 40, 20]})
    ratings = pd.DataFrame({"staff_id": [1, 1, 2, 2], "period": ["2026-Q4", "2026-10", "2026-10", "2026-11"], "rating": [80, 60, 70, 90]})
    checks = pd.DataFrame({"staff_id": [1, 1], "checked_at": [t("2026-12-03 09:00"), t("2026-09-20 09:00")],
                           "outcome": ["details_wrong", "not_visited"]})
    result = three_in_one(period="2026-q4", daily_points=points, leader_ratings=ratings, spot_checks=checks)
    rows = result.workers.set_index("staff_id")
    assert result.period.label == "2026-Q4"
    assert rows.loc[1, "daily_points"] == 35 and rows.loc[1, "leader_rating"] == 80
    assert rows.loc[1, "total"] == 89.29 and rows.loc[1, "grade"] == "qualified"
    assert rows.loc[2, "daily_scaled"] == pytest.approx(400 / 7) and rows.loc[2, "leader_rating"] == 80
    assert rows.loc[2, "total"] == 63.67 and rows.loc[2, "grade"] == "basic"


def test_year_decides_award_eligibility():
    points = pd.DataFrame({"staff_id": [1, 2], "month": ["2026-03", "2026-07"], "points": [30, 3]})
    ratings = pd.DataFrame({"staff_id": [1, 2], "period": ["2026", "2026"], "rating": [90, 40]})
    result = three_in_one(period="2026", daily_points=points, leader_ratings=ratings)
    rows = result.workers.set_index("staff_id")
    # 1: (5/7)·100 + (2/7)·90 = 97.14 excellent; 2: (5/7)·10 + (2/7)·40 = 18.57 unqualified
    assert (rows.loc[1, "total"], rows.loc[1, "grade"], rows.loc[1, "award_eligible"]) == (97.14, "excellent", True)
    assert (rows.loc[2, "total"], rows.loc[2, "grade"], rows.loc[2, "award_eligible"]) == (18.57, "unqualified", False)
    assert award_ineligible(result) == {2}
    assert "award_ineligible" in result.breakdown(2).notes
    with pytest.raises(ValidationError, match="year"):
        award_ineligible(three_in_one(period="2026-11", **month_inputs()))


def test_fixed_full_points_and_weights():
    config = ThreeInOneConfig(weights=ThreeInOneWeights(0.6, 0.2, 0.2), daily_full_points=30, spot_check_deduction=0)
    rows = three_in_one(period="2026-11", config=config, **month_inputs()).workers.set_index("staff_id")
    # 1: min(40/30, 1)·100 = 100 → 60 + 14.5 + 17 = 91.5; 4: 36/30 → 100 → 60 + 19 + 18.4 = 97.4
    assert rows.loc[1, "total"] == 91.5 and rows.loc[4, "total"] == 97.4
    # 2: 20/30 → 66.67, evaluation missing → weights 0.75 / 0.25 → 50 + 17.5 = 67.5
    assert rows.loc[2, "total"] == 67.5


def test_total_is_never_negative():
    checks = pd.DataFrame({"staff_id": [2] * 20, "checked_at": [t("2026-11-10")] * 20, "outcome": ["not_visited"] * 20})
    inputs = month_inputs() | {"spot_checks": checks}
    assert three_in_one(period="2026-11", **inputs).workers.set_index("staff_id").loc[2, "total"] == 0


@pytest.mark.parametrize(("total", "grade"), [
    (100, "excellent"), (90, "excellent"), (89.99, "qualified"), (75, "qualified"), (74.99, "basic"),
    (60, "basic"), (59.99, "unqualified"), (0, "unqualified"),
])
def test_grade_thresholds(total, grade):
    assert GradeThresholds().grade(total) == grade


def test_grades_use_the_rounded_total():
    """0.5·100 + 0.3·66.65 + 0.2·100 = 89.995 → shown as 90.00 and graded 优秀 like it reads."""
    points = pd.DataFrame({"staff_id": [1], "month": ["2026-11"], "points": [10]})
    ratings = pd.DataFrame({"staff_id": [1], "period": ["2026-11"], "rating": [100]})
    evaluation = pd.DataFrame({"staff_id": [1], "score": [66.65]})
    row = three_in_one(period="2026-11", daily_points=points, leader_ratings=ratings, evaluation=evaluation).workers.iloc[0]
    assert (row["total"], row["grade"]) == (90.0, "excellent")


@pytest.mark.parametrize("weights", [(0.5, 0.3, 0.3), (0.5, 0.6, -0.1), (float("nan"), 0.5, 0.5)])
def test_weights_are_validated(weights):
    with pytest.raises(ValidationError, match="weights"):
        ThreeInOneWeights(*weights)


def test_configuration_is_validated():
    with pytest.raises(ValidationError, match="excellent > qualified > basic"):
        GradeThresholds(excellent=70, qualified=75)
    with pytest.raises(ValidationError, match="spot_check_deduction"):
        ThreeInOneConfig(spot_check_deduction=-1)
    with pytest.raises(ValidationError, match="daily_full_points"):
        ThreeInOneConfig(daily_full_points=0)


def test_bad_ratings_and_scores_are_refused():
    inputs = month_inputs()
    inputs["leader_ratings"] = pd.DataFrame({"staff_id": [1, 2], "period": ["2026-11", "2026-11"], "rating": [120, "好"]})
    with pytest.raises(ValidationError, match="0–100; 2 are not") as info:
        three_in_one(period="2026-11", **inputs)
    assert len(info.value.findings) == 2
    inputs = month_inputs() | {"evaluation": pd.DataFrame({"staff_id": [1], "score": [140]})}
    with pytest.raises(ValidationError, match="evaluation scores"):
        three_in_one(period="2026-11", **inputs)


def test_nothing_but_the_three_parts_and_spot_checks_can_count():
    """No parameter for check-ins, mileage, online time, likes or votes, and extra columns are ignored."""
    parameters = set(inspect.signature(three_in_one).parameters)
    assert parameters == {"period", "daily_points", "leader_ratings", "evaluation", "spot_checks", "staff", "config", "timezone"}
    plain = three_in_one(period="2026-11", **month_inputs()).workers
    inputs = month_inputs()
    inputs["daily_points"] = inputs["daily_points"].assign(checkins=[99] * 5, mileage_km=[500] * 5, online_hours=[300] * 5,
                                                           likes=[1000] * 5, votes=[50] * 5)
    padded = three_in_one(period="2026-11", **inputs).workers
    pd.testing.assert_frame_equal(plain, padded)


def test_monthly_points_from_assess_month():
    nov = assess_month(households=data.households(), visits=data.visits(), assignments=data.assignments(),
                       incidents=data.incidents(), month=data.MONTH, as_of=data.AS_OF)
    points = monthly_points([nov])
    assert points.set_index("staff_id")["points"].to_dict() == {1: 9.0, 2: -1.0}
    assert set(points["month"]) == {"2026-11"}
    assert monthly_points([]).empty


def test_the_hand_computed_checks_can_fail():
    """A different weight moves worker 1 off the hand-computed 83.75."""
    config = ThreeInOneConfig(weights=ThreeInOneWeights(0.4, 0.4, 0.2))
    total = three_in_one(period="2026-11", config=config, **month_inputs()).workers.set_index("staff_id").loc[1, "total"]
    assert total != 83.75 and total == 40 + 29 + 17 - 5
