"""Supervision spot checks: a stratified draw reproducible from its seed, outcomes, follow-up."""

from __future__ import annotations

import datetime as dt
import json
from collections import Counter
from zoneinfo import ZoneInfo

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from governance.spotcheck import (
    CheckResult,
    SpotCheckError,
    TaskError,
    check_summary,
    complete_task,
    draw_sample,
    reminder_task,
    repeated_failures,
    responsible_leader,
    validate_result,
    verify_sample,
)

SH = ZoneInfo("Asia/Shanghai")
NOV = "2026-11"
L2 = "110101001001001"
A, B = L2 + "001", L2 + "002"


def at(day: int, hour: int = 10) -> pd.Timestamp:
    return pd.Timestamp(2026, 11, day, hour, tz=SH)


def visits() -> pd.DataFrame:
    """Worker 1: visits 1–8 (household 1 special, visited twice); worker 2: 11–15; worker 3: 21 (one visit)."""
    rows = [(i, 100 + i, 1, at(i)) for i in range(1, 9)]
    rows[3] = (4, 101, 1, at(4))  # second visit to special household 101
    rows += [(10 + i, 200 + i, 2, at(i)) for i in range(1, 6)]
    rows += [(21, 301, 3, at(20))]
    rows += [(30, 102, 1, pd.Timestamp("2026-10-31 15:59", tz="UTC")), (31, 102, 1, pd.Timestamp("2026-10-31 16:00", tz="UTC"))]
    frame = pd.DataFrame(rows, columns=["id", "household_id", "staff_id", "visited_at"])
    frame["grid_code"] = frame["staff_id"].map({1: A, 2: B, 3: B})
    return frame


def households() -> pd.DataFrame:
    ids = sorted(set(visits()["household_id"]))
    return pd.DataFrame({"id": ids, "special_kinds": [["empty_nest"] if h in (101, 203) else [] for h in ids]})


def test_due_visits_plus_k_per_worker():
    sample = draw_sample(visits(), households(), month=NOV, per_worker=2, seed=20261130)
    s = sample.visits
    assert set(s.loc[s["reason"] == "special_due", "visit_id"]) == {1, 4, 13}  # every visit to 101 and 203
    counts = s.loc[s["reason"] == "random"].groupby("staff_id").size().to_dict()
    assert counts == {1: 2, 2: 2, 3: 1}  # worker 3 has one visit only
    assert s["visit_id"].is_unique
    assert s["order"].tolist() == list(range(1, len(s) + 1))
    assert s["staff_id"].is_monotonic_increasing
    assert set(s.columns) == {"visit_id", "staff_id", "household_id", "grid_code", "visited_at", "reason", "order"}


def test_months_are_counted_in_shanghai():
    sample = draw_sample(visits(), households(), month=NOV, per_worker=50, seed=1)
    assert 31 in set(sample.visits["visit_id"]) and 30 not in set(sample.visits["visit_id"])
    assert sample.population == 15


def test_same_seed_same_sample_any_row_order():
    first = draw_sample(visits(), households(), month=NOV, seed=99)
    shuffled = visits().sample(frac=1, random_state=4).reset_index(drop=True)
    second = draw_sample(shuffled, households(), month=NOV, seed=99)
    pd.testing.assert_frame_equal(first.visits, second.visits)
    assert first.fingerprint == second.fingerprint


def test_other_workers_do_not_change_a_workers_draw():
    base = draw_sample(visits(), households(), month=NOV, seed=5).visits
    more = pd.concat([visits(), pd.DataFrame({"id": [90, 91], "household_id": [900, 901], "staff_id": [4, 4],
                                              "visited_at": [at(9), at(10)], "grid_code": [B, B]})])
    extended = draw_sample(more, households(), month=NOV, seed=5).visits
    pd.testing.assert_frame_equal(base, extended.loc[extended["staff_id"] != 4].reset_index(drop=True))


def test_different_seeds_draw_differently():
    draws = {tuple(draw_sample(visits(), households(), month=NOV, seed=s).visits["visit_id"]) for s in range(20)}
    assert len(draws) > 5


def test_a_fresh_seed_is_recorded_and_reproduces():
    sample = draw_sample(visits(), households(), month=NOV)
    assert 0 <= sample.parameters.seed < 2**63
    again = draw_sample(visits(), households(), month=NOV, seed=sample.parameters.seed)
    pd.testing.assert_frame_equal(sample.visits, again.visits)


def test_the_draw_is_uniform_within_a_worker():
    """Worker 2 has 5 visits, one due (13): each of the other 4 is drawn with probability 2/4."""
    counts = Counter()
    for seed in range(300):
        s = draw_sample(visits(), households(), month=NOV, seed=seed).visits
        counts.update(s.loc[(s["staff_id"] == 2) & (s["reason"] == "random"), "visit_id"])
    assert set(counts) == {11, 12, 14, 15}
    assert all(0.38 < n / 300 < 0.62 for n in counts.values())  # p = 0.5, sd ≈ 0.029


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(st.integers(1, 4), st.integers(1, 30)), min_size=1, max_size=40, unique_by=lambda v: v), st.integers(0, 4),
       st.integers(0, 2**63 - 1))
def test_stratification_property(cells, k, seed):
    frame = pd.DataFrame({"id": range(1, len(cells) + 1), "household_id": [h for _, h in cells],
                          "staff_id": [w for w, _ in cells], "visited_at": [at(1 + i % 28) for i in range(len(cells))]})
    hh = pd.DataFrame({"id": sorted(set(frame["household_id"])), "special_kinds": [[]] * frame["household_id"].nunique()})
    sample = draw_sample(frame, hh, month=NOV, per_worker=k, seed=seed)
    per_worker = frame.groupby("staff_id").size()
    drawn = sample.visits.groupby("staff_id").size().reindex(per_worker.index, fill_value=0)
    assert (drawn == per_worker.clip(upper=k)).all()
    assert verify_sample(sample, frame) == []


def test_audit_record_is_json_and_verifiable():
    sample = draw_sample(visits(), households(), month=NOV, seed=7)
    record = json.loads(sample.to_json())
    assert record["seed"] == 7 and record["month"] == NOV and record["per_worker"] == 2
    assert record["due_households"] == [101, 203] and record["due_rule"] == "special_kinds"
    assert record["visit_ids"] == sample.visits["visit_id"].tolist()
    assert record["algorithm"].startswith("gridgov-spotcheck-1")
    assert verify_sample(sample, visits()) == []  # re-drawn from the recorded due set, whatever the households say now


def test_audit_detects_changed_visits_and_a_tampered_sample():
    sample = draw_sample(visits(), households(), month=NOV, seed=7)
    fewer = visits().loc[lambda f: f["id"] != 6]
    assert any("changed since the draw" in p for p in verify_sample(sample, fewer))
    forged = type(sample)(sample.parameters, sample.visits.assign(visit_id=sample.visits["visit_id"][::-1].to_numpy()),
                          sample.population, sample.fingerprint)
    assert verify_sample(forged, visits()) == ["the re-drawn visits differ from the recorded sample"]


def test_listed_due_households():
    sample = draw_sample(visits(), households(), month=NOV, seed=7, due_households=[205])
    assert sample.visits.loc[sample.visits["reason"] == "special_due", "visit_id"].tolist() == [15]
    assert sample.parameters.due_rule == "listed"


def test_bad_draw_requests():
    with pytest.raises(SpotCheckError, match="per_worker"):
        draw_sample(visits(), households(), month=NOV, per_worker=-1)
    with pytest.raises(SpotCheckError, match="seed"):
        draw_sample(visits(), households(), month=NOV, seed=-3)


# -- outcomes ------------------------------------------------------------------------------------------


def result(**kw) -> CheckResult:
    base = dict(visit_id=4, staff_id=1, outcome="confirmed", method="phone", checked_at=dt.datetime(2026, 12, 2, 10, tzinfo=SH),
                inspector="督查员 周五", note="")
    base.update(kw)
    return CheckResult(**base)


def test_outcomes_and_methods_parse_from_labels():
    r = validate_result(result(outcome="群众反映未走访", method="入户", note="住户称本月无人来访"))
    assert (r.outcome, r.method, r.failed) == ("not_visited", "door", True)
    assert not validate_result(result()).failed
    assert not validate_result(result(outcome="unreachable", note="三次无人接听")).failed


def test_results_list_every_problem():
    sample = draw_sample(visits(), households(), month=NOV, seed=7)
    with pytest.raises(SpotCheckError) as info:
        validate_result(result(visit_id=999, outcome="maybe", method="carrier pigeon", inspector=" "), sample=sample)
    assert {f["field"] for f in info.value.findings} == {"outcome", "method", "inspector", "visit_id"}
    with pytest.raises(SpotCheckError, match="note is required"):
        validate_result(result(outcome="details_wrong"))
    with pytest.raises(SpotCheckError, match="made by staff 1"):
        validate_result(result(staff_id=2), sample=sample)
    with pytest.raises(SpotCheckError, match="future"):
        validate_result(result(), now=dt.datetime(2026, 12, 1, tzinfo=SH))
    with pytest.raises(SpotCheckError, match="time zone"):
        validate_result(result(checked_at=dt.datetime(2026, 12, 2, 10)))


def test_a_failed_check_opens_a_reminder_talk_until_done():
    failed = validate_result(result(outcome="not_visited", note="住户称未走访"))
    task = reminder_task(failed, leader_id=9, leader_name="包联领导 陈", at=failed.checked_at)
    assert (task.staff_id, task.leader_id, task.status) == (1, 9, "open")
    assert reminder_task(validate_result(result()), leader_id=9, leader_name="陈", at=failed.checked_at) is None
    with pytest.raises(TaskError, match="no leader"):
        reminder_task(failed, leader_id=None, leader_name=None, at=failed.checked_at)
    with pytest.raises(TaskError, match="note is required"):
        complete_task(task, note=" ", at=failed.checked_at)
    with pytest.raises(TaskError, match="before the task was created"):
        complete_task(task, note="已谈话", at=failed.checked_at - dt.timedelta(days=1))
    done = complete_task(task, note="已提醒谈话，承诺如实登记", at=failed.checked_at + dt.timedelta(days=2))
    assert (done.status, done.note) == ("done", "已提醒谈话，承诺如实登记")
    with pytest.raises(TaskError, match="already marked done"):
        complete_task(done, note="again", at=done.done_at)


def test_responsible_leader_is_the_nearest():
    assignments = pd.DataFrame({
        "staff_id": [9, 8, 7, 6], "grid_code": [L2, A, L2[:12], B],
        "role": ["liaison_leader", "grid_head", "liaison_leader", "grid_head"],
        "start_date": [dt.date(2026, 1, 1)] * 3 + [dt.date(2027, 1, 1)], "end_date": [None] * 4,
    })
    assert responsible_leader(A, assignments, on=dt.date(2026, 11, 5)) == 9  # liaison leader first, the nearer one
    assert responsible_leader(A, assignments, on=dt.date(2026, 11, 5), roles=("grid_head",)) == 8
    assert responsible_leader(B, assignments, on=dt.date(2026, 11, 5), roles=("grid_head",)) is None  # starts in 2027


def checks() -> pd.DataFrame:
    return pd.DataFrame({
        "staff_id": [1, 1, 1, 2, 2, 3],
        "visit_id": [1, 2, 3, 11, 12, 21],
        "outcome": ["not_visited", "details_wrong", "confirmed", "not_visited", "unreachable", "not_visited"],
        "checked_at": [pd.Timestamp(2026, 9, 30, 23, tz=SH), pd.Timestamp(2026, 11, 3, tz=SH), pd.Timestamp(2026, 11, 4, tz=SH),
                       pd.Timestamp(2026, 10, 1, 1, tz=SH), pd.Timestamp(2026, 12, 1, tz=SH), pd.Timestamp(2026, 12, 1, tz=SH)],
    })


def test_repeated_failures_within_three_months():
    as_of = dt.datetime(2026, 12, 10, tzinfo=SH)  # window: October, November, December
    out = repeated_failures(checks(), as_of=as_of)
    assert out.empty  # worker 1's September failure is outside; worker 2 has one failure
    out = repeated_failures(checks(), as_of=as_of, months=4)
    assert out["staff_id"].tolist() == [1] and out["visit_ids"].tolist() == [(1, 2)]
    assert repeated_failures(checks(), as_of=as_of, min_failures=1)["staff_id"].tolist() == [1, 2, 3]


def test_check_summary():
    out = check_summary(checks(), start=dt.datetime(2026, 11, 1, tzinfo=SH), end=dt.datetime(2026, 12, 2, tzinfo=SH))
    assert out.set_index("staff_id")[["checks", "confirmed", "failed", "unreachable"]].to_dict("index") == {
        1: {"checks": 2, "confirmed": 1, "failed": 1, "unreachable": 0},
        2: {"checks": 1, "confirmed": 0, "failed": 0, "unreachable": 1},
        3: {"checks": 1, "confirmed": 0, "failed": 1, "unreachable": 0},
    }
