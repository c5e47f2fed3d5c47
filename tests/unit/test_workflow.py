"""The incident state machine and the deadline policy, without a database."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from governance.vocab import DISPOSITIONS, INCIDENT_STATUSES
from gis.errors import ConfigurationError, ValidationError
from governance.workflow import TransitionError
from gis.clock import month_bounds, parse_month
from governance.deadlines import DeadlinePolicy, overdue_incidents, overdue_mask
from governance.workflow import (
    ACTIONS,
    TRANSITIONS,
    IncidentState,
    allowed_actions,
    apply_transition,
    report_event,
)

SH = ZoneInfo("Asia/Shanghai")
T0 = dt.datetime(2026, 11, 2, 15, 0, tzinfo=SH)  # a Monday afternoon

#: Every (action, from, to) the closed loop allows, written out by hand.
EXPECTED_ALLOWED = {
    ("accept", "reported"): "accepted",
    ("reject", "reported"): "rejected",
    ("classify", "accepted"): "classified",
    ("dispatch", "classified"): "dispatched",
    ("dispatch", "dispatched"): "dispatched",
    ("handle", "dispatched"): "handled",
    ("close", "handled"): "closed",
    ("reopen", "closed"): "dispatched",
    ("reopen", "rejected"): "reported",
}


def _kwargs(action: str, state: IncidentState) -> dict:
    kw: dict = {"actor": "王网格", "at": T0, "note": "ok"}
    if action == "classify":
        kw["disposition"] = "solve_now"
    if action == "dispatch":
        kw["assignee"] = (state.assigned_to or 0) + 7
    return kw


def _state(status: str) -> IncidentState:
    disposition = None if status in ("reported", "accepted", "rejected") else "research_assign"
    assigned = 3 if status in ("dispatched", "handled", "closed") else None
    closed = T0 - dt.timedelta(days=1) if status == "closed" else None
    return IncidentState(id=42, status=status, disposition=disposition, assigned_to=assigned, closed_at=closed, version=5)


def test_transition_table_matches_the_closed_loop():
    table = {(a, f): t for a, moves in TRANSITIONS.items() for f, t in moves.items()}
    assert table == EXPECTED_ALLOWED
    assert set(ACTIONS) == {"accept", "reject", "classify", "dispatch", "handle", "close", "reopen"}
    for (action, source), target in EXPECTED_ALLOWED.items():
        assert source in INCIDENT_STATUSES and target in INCIDENT_STATUSES


@pytest.mark.parametrize(("action", "status"), sorted(EXPECTED_ALLOWED))
def test_every_allowed_transition(action, status):
    state = _state(status)
    result = apply_transition(state, action, **_kwargs(action, state))
    assert result.state.status == EXPECTED_ALLOWED[(action, status)]
    assert result.state.version == state.version + 1
    event = result.event
    assert (event.action, event.from_status, event.to_status) == (action, status, result.state.status)
    assert event.actor == "王网格" and event.at == T0 and event.note == "ok"


REFUSED = sorted((a, s) for a in TRANSITIONS for s in INCIDENT_STATUSES if (a, s) not in EXPECTED_ALLOWED)


@pytest.mark.parametrize(("action", "status"), REFUSED)
def test_every_refused_transition(action, status):
    state = _state(status)
    with pytest.raises(TransitionError, match=rf"cannot {action} incident 42: it is '{status}'") as info:
        apply_transition(state, action, **_kwargs(action, state))
    # the message tells what can be done instead
    allowed = allowed_actions(status)
    if allowed:
        assert "allowed now: " + ", ".join(allowed) in str(info.value)
    else:
        assert "no action is allowed" in str(info.value)


def test_refused_count_is_complete():
    assert len(REFUSED) + len(EXPECTED_ALLOWED) == len(TRANSITIONS) * len(INCIDENT_STATUSES)


def test_unknown_action_is_refused():
    with pytest.raises(TransitionError, match="'escalate' but is expected to be in"):
        apply_transition(_state("reported"), "escalate", actor="a", at=T0)


def test_full_loop_sets_disposition_deadline_assignee_and_closed_at():
    s = IncidentState(id=1)
    s = apply_transition(s, "accept", actor="a", at=T0).state
    s = apply_transition(s, "classify", actor="a", at=T0, disposition="solve_now").state
    assert s.disposition == "solve_now"
    # classified Monday 2 Nov 15:00 → 3 days → due by end of Thursday 5 Nov = Fri 6 Nov 00:00 Shanghai
    assert s.deadline == dt.datetime(2026, 11, 6, 0, 0, tzinfo=SH)
    s = apply_transition(s, "dispatch", actor="a", at=T0, assignee=9).state
    assert s.assigned_to == 9
    s = apply_transition(s, "dispatch", actor="a", at=T0, assignee=11, note="reassigned").state
    assert s.assigned_to == 11 and s.status == "dispatched"
    s = apply_transition(s, "handle", actor="b", at=T0, note="fixed the lamp").state
    t_close = T0 + dt.timedelta(hours=5)
    s = apply_transition(s, "close", actor="a", at=t_close).state
    assert s.status == "closed" and s.closed_at == t_close and s.version == 7
    t_reopen = dt.datetime(2026, 11, 20, 9, 0, tzinfo=SH)
    s = apply_transition(s, "reopen", actor="c", at=t_reopen, note="lamp broken again").state
    assert s.status == "dispatched" and s.closed_at is None and s.assigned_to == 11
    assert s.deadline == dt.datetime(2026, 11, 24, 0, 0, tzinfo=SH)


@pytest.mark.parametrize("action", ["reject", "handle", "reopen"])
def test_reason_or_feedback_is_required(action):
    status = {"reject": "reported", "handle": "dispatched", "reopen": "closed"}[action]
    with pytest.raises(ValidationError, match="needs a note"):
        apply_transition(_state(status), action, actor="a", at=T0, note="  ")


def test_classify_needs_a_known_disposition():
    with pytest.raises(ValidationError, match="needs a disposition"):
        apply_transition(_state("accepted"), "classify", actor="a", at=T0)
    with pytest.raises(ValidationError, match="'urgent' but is expected"):
        apply_transition(_state("accepted"), "classify", actor="a", at=T0, disposition="urgent")


def test_dispatch_needs_an_assignee_and_a_new_one_when_reassigning():
    with pytest.raises(ValidationError, match="needs the staff id"):
        apply_transition(_state("classified"), "dispatch", actor="a", at=T0)
    with pytest.raises(TransitionError, match="already dispatched to staff 3"):
        apply_transition(_state("dispatched"), "dispatch", actor="a", at=T0, assignee=3)
    with pytest.raises(ValidationError, match="only given when dispatching"):
        apply_transition(_state("reported"), "accept", actor="a", at=T0, assignee=3)


def test_naive_time_and_empty_actor_are_refused():
    with pytest.raises(ValidationError, match="no time zone"):
        apply_transition(_state("reported"), "accept", actor="a", at=dt.datetime(2026, 11, 2, 8))
    with pytest.raises(ValidationError, match="actor is empty"):
        apply_transition(_state("reported"), "accept", actor=" ", at=T0)
    with pytest.raises(ValidationError, match="no time zone"):
        report_event(actor="a", at=dt.datetime(2026, 11, 2, 8))


def test_report_event_starts_the_log():
    event = report_event(actor="居民张三", at=T0, note="路灯不亮")
    assert (event.action, event.from_status, event.to_status) == ("report", None, "reported")


def test_input_state_is_not_mutated():
    state = _state("reported")
    apply_transition(state, "accept", actor="a", at=T0)
    assert state.status == "reported" and state.version == 5


# -- deadlines -----------------------------------------------------------------------


def test_deadline_counts_calendar_days_in_shanghai():
    policy = DeadlinePolicy()
    # 2 Nov 23:30 Shanghai is 2 Nov 15:30 UTC; still Monday locally
    start_utc = dt.datetime(2026, 11, 2, 15, 30, tzinfo=dt.UTC)
    assert policy.deadline_for("explain_respond", start_utc) == dt.datetime(2026, 11, 10, tzinfo=SH)
    # 16:30 UTC is 00:30 Tuesday in Shanghai: one day later
    start_utc = dt.datetime(2026, 11, 2, 16, 30, tzinfo=dt.UTC)
    assert policy.deadline_for("explain_respond", start_utc) == dt.datetime(2026, 11, 11, tzinfo=SH)
    assert policy.deadline_for("research_assign", T0) == dt.datetime(2026, 12, 3, tzinfo=SH)


def test_deadline_policy_from_settings_and_errors():
    from gis.settings import Settings

    policy = DeadlinePolicy.from_settings(Settings.from_env({"GRIDGOV_DEADLINE_DAYS": "solve_now=1, explain_respond=2"}))
    assert policy.days == {"solve_now": 1, "research_assign": 30, "explain_respond": 2}
    with pytest.raises(ConfigurationError, match="'solve_now:1'"):
        Settings.from_env({"GRIDGOV_DEADLINE_DAYS": "solve_now:1"})
    with pytest.raises(ConfigurationError, match="unknown \\['fast'\\]"):
        DeadlinePolicy.from_settings(Settings.from_env({"GRIDGOV_DEADLINE_DAYS": "fast=1"}))
    with pytest.raises(ConfigurationError, match="missing \\['research_assign'\\]"):
        DeadlinePolicy(days={"solve_now": 1, "explain_respond": 2})
    with pytest.raises(ConfigurationError, match="Mars/Olympus"):
        DeadlinePolicy(timezone="Mars/Olympus")


@settings(max_examples=60, deadline=None)
@given(
    start=st.datetimes(min_value=dt.datetime(2000, 1, 1), max_value=dt.datetime(2090, 1, 1), timezones=st.just(dt.UTC)),
    disposition=st.sampled_from(DISPOSITIONS),
)
def test_deadline_is_local_midnight_after_start(start, disposition):
    policy = DeadlinePolicy()
    deadline = policy.deadline_for(disposition, start)
    local = deadline.astimezone(SH)
    assert (local.hour, local.minute, local.second) == (0, 0, 0)
    days = policy.days[disposition]
    assert dt.timedelta(days=days) < deadline - start <= dt.timedelta(days=days + 1)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.sampled_from(ACTIONS), max_size=12))
def test_any_action_sequence_keeps_a_consistent_state(actions):
    state = IncidentState(id=1)
    log = []
    for action in actions:
        try:
            result = apply_transition(state, action, **_kwargs(action, state))
        except TransitionError:
            assert state.status not in {s for s, _ in TRANSITIONS[action].items()}
            continue
        log.append(result.event)
        state = result.state
    assert state.version == 1 + len(log)
    # the log chains: each event starts where the previous one ended
    previous = "reported"
    for event in log:
        assert event.from_status == previous
        previous = event.to_status
    assert state.status == previous
    assert (state.closed_at is not None) == (state.status == "closed")


def test_month_helpers():
    assert parse_month("2026-02") == dt.date(2026, 2, 1)
    start, end = month_bounds("2026-12")
    assert start == dt.datetime(2026, 12, 1, tzinfo=SH) and end == dt.datetime(2027, 1, 1, tzinfo=SH)
    with pytest.raises(ValidationError, match="YYYY-MM"):
        parse_month("2026/02")


def test_overdue_list():
    incidents = pd.DataFrame(
        {
            "id": [1, 2, 3, 4, 5],
            "status": ["dispatched", "closed", "handled", "classified", "dispatched"],
            "deadline": pd.to_datetime(
                ["2026-11-05T16:00Z", "2026-11-01T00:00Z", "2026-11-09T00:00Z", None, "2026-11-03T00:00Z"], utc=True
            ),
        },
        index=[10, 11, 12, 13, 14],
    )
    now = dt.datetime(2026, 11, 8, tzinfo=dt.UTC)
    assert overdue_mask(incidents, now=now).tolist() == [True, False, False, False, True]
    overdue = overdue_incidents(incidents, now=now)
    assert overdue["id"].tolist() == [5, 1]
    assert overdue.loc[14, "overdue_hours"] == pytest.approx(5 * 24)
    assert "overdue_hours" not in incidents.columns
