"""The demo street's practices (issue #17, last paragraph) as loaded into the session's demo database:
a finished evaluation round with responses and suppressed groups, a quarter of spot checks whose draws
reproduce from their seeds with reminder talks open and done, current and expired notices with read
receipts, about 60 cameras each in its micro-grid, verification stamps that leave some grids overdue,
and the planted completeness problems found by the checks. Read through the use cases as the demo's
accounts (application role, row-level security)."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest
from sqlalchemy import text

pytestmark = pytest.mark.db


@pytest.fixture(scope="module")
def demo_now(demo_data) -> dt.datetime:
    """The demo's "today": 18:00 Asia/Shanghai on its ``until`` date."""
    return pd.Timestamp(dt.datetime.combine(demo_data.until, dt.time(18)), tz="Asia/Shanghai").to_pydatetime()


def _scalar(engine, sql: str, **params):
    with engine.connect() as conn:
        return conn.execute(text(sql), params).scalar()


def test_one_finished_round_with_responses_and_suppressed_groups(app_engine, engine, login_as, demo_data):
    from services import evaluation

    plan = demo_data.practices.evaluation
    leader = login_as("leader")
    rounds = [r for r in evaluation.list_rounds(app_engine, leader) if r.period == plan.period]
    assert len(rounds) == 1
    row = rounds[0]
    assert row.status == "closed" and row.closed_at is not None and row.created_by == "planner"
    assert row.period == "2026-Q3" and row.opens_at == plan.opens_at
    results = evaluation.round_results(app_engine, leader, row.id)
    households = _scalar(engine, "SELECT count(*) FROM households")
    assert int(results.issued["issued"].sum()) == households  # one code per household of the street
    total = results.report.total.iloc[0]
    assert int(total["responses"]) == len(plan.responses)
    assert 0.30 <= float(total["response_rate"]) <= 0.40
    assert 4.0 <= float(total["service"]) <= 4.7  # mostly satisfied
    scores = plan.responses["service"]
    assert (scores <= 2).sum() > 20 and (scores == 5).mean() > 0.4  # ... and a few low
    workers = results.report.workers
    small = workers.loc[workers["responses"] < row.min_group]
    assert len(small) >= 3 and small["suppressed"].all() and small["score"].isna().all()
    assert (~workers["suppressed"]).sum() > 100
    comments = results.report.worker_comments["comment"]
    assert len(comments) > 50 and all(any("\u4e00" <= ch <= "\u9fff" for ch in c) for c in comments)
    # the codes are spent: every response used one, no more
    used = _scalar(engine, "SELECT count(*) FROM evaluation_codes WHERE round_id = :r AND used", r=row.id)
    assert used == len(plan.responses)


def test_spot_check_draws_reproduce_and_talks_are_open_and_done(app_engine, engine, login_as, demo_data, demo_now):
    from services import spotchecks

    plan = demo_data.practices.spot_checks
    inspector = login_as("inspector")
    draws = spotchecks.list_draws(app_engine, inspector)
    ours = draws.loc[draws["month"].isin(plan.months)].sort_values("month")
    assert list(ours["month"]) == list(plan.months) and [int(s) for s in ours["seed"]] == list(plan.seeds)
    for draw_id in ours["id"]:
        assert spotchecks.verify_draw(app_engine, inspector, int(draw_id)) == []
        items = spotchecks.draw_items(app_engine, inspector, int(draw_id))
        per_worker = items.loc[items["reason"] == "random"].groupby("staff_id").size()
        assert len(per_worker) >= 130 and per_worker.max() == plan.per_worker
        assert (items["reason"] == "special_due").sum() > 100
    with engine.connect() as conn:
        outcomes = dict(conn.execute(text("SELECT outcome, count(*) FROM spot_check_outcomes GROUP BY 1")).all())
        talks = dict(conn.execute(text("SELECT status, count(*) FROM reminder_talks GROUP BY 1")).all())
        done_by = set(conn.execute(text("SELECT done_by FROM reminder_talks WHERE status = 'done'")).scalars())
        drawn_by = set(conn.execute(text("SELECT drawn_by FROM spot_check_draws")).scalars())
        notes = conn.execute(text("SELECT count(*) FROM reminder_talks WHERE status = 'done' AND note = ''")).scalar()
    assert set(outcomes) == {"confirmed", "not_visited", "details_wrong", "unreachable"}
    assert outcomes["confirmed"] > 0.8 * sum(outcomes.values())
    assert talks.get("open", 0) > 0 and talks.get("done", 0) > 0 and notes == 0
    assert done_by == {"leader-001"} and drawn_by == {"inspector"}
    repeated = spotchecks.repeated(app_engine, inspector, as_of=demo_now)
    repeat_id = _scalar(engine, "SELECT id FROM staff WHERE staff_key = :k", k=plan.repeat_worker)
    assert repeat_id in set(repeated["staff_id"].astype(int))
    leader = login_as("leader-001")
    mine = spotchecks.list_talks(app_engine, leader, mine=True)
    assert len(mine) and set(mine["status"]) <= {"open", "done"}


def test_notices_current_and_expired_with_receipts(app_engine, engine, login_as, demo_data, demo_now):
    from services import notices

    leader = login_as("leader")
    every = notices.list_notices(app_engine, leader)
    current = notices.list_notices(app_engine, leader, current_only=True, at=demo_now)
    assert len(every) == len(demo_data.practices.notices) == 12
    assert 0 < len(current) < len(every)
    assert {n.kind for n in every} == {"policy", "police_alert", "public_safety", "jobs", "street_work"}
    assert any(n.grid_codes for n in every) and any(n.levels and not n.grid_codes for n in every)
    authors = set(_scalar(engine, "SELECT array_agg(DISTINCT author) FROM notices"))
    assert {"leader", "admin", "head-001"} <= authors
    street_wide = next(n for n in every if n.levels == (3,) and n.id in {c.id for c in current})
    receipts = notices.receipts(app_engine, leader, street_wide.id, on=demo_now.date())
    read = receipts["read"].astype(bool)
    assert read.sum() >= 10 and (~read).sum() > 100  # who has read it, and who has not yet
    worker = login_as("worker-001")
    seen = notices.worker_notices(app_engine, worker, at=demo_now)
    assert seen and all(n.notice.valid_from <= demo_now < n.notice.valid_to for n in seen)


def test_about_sixty_cameras_each_in_its_micro_grid(app_engine, engine, login_as, demo_data):
    from governance.vocab import CAMERA_STATUS_TERMS, CAMERA_TYPE_TERMS
    from services import cameras

    layer = cameras.camera_layer(app_engine, login_as("leader"))
    assert 55 <= len(layer) <= 65 and layer["grid_code"].notna().all()
    assert set(layer["type"]) <= set(CAMERA_TYPE_TERMS.codes) and len(set(layer["type"])) >= 4
    assert set(layer["status"]) <= set(CAMERA_STATUS_TERMS.codes) and "online" in set(layer["status"])
    with engine.connect() as conn:
        outside = conn.execute(text(
            "SELECT count(*) FROM cameras c WHERE NOT EXISTS (SELECT 1 FROM grids g WHERE g.code = c.grid_code "
            "AND g.level = 3 AND ST_Covers(g.geom, c.geom))")).scalar()
        streams = conn.execute(text("SELECT count(*) FROM cameras WHERE stream_url IS NOT NULL")).scalar()
        seen = conn.execute(text("SELECT count(*) FROM incidents WHERE camera_id IS NOT NULL")).scalar()
        author = conn.execute(text("SELECT author FROM changesets WHERE kind = 'import'")).scalars().all()
    assert outside == 0 and 0 < streams < len(layer)
    assert seen == int(demo_data.incidents["camera_key"].notna().sum()) > 0
    assert author == ["admin"]  # the admin imported them


def test_verification_leaves_most_grids_verified_and_some_overdue(app_engine, login_as, demo_now):
    from services import completeness

    report = completeness.verification(app_engine, login_as("leader"), at=demo_now)
    assert report.quarter == "2026-Q4"
    grids = report.grids
    assert len(grids) == 133
    assert (grids["households_share"] >= 0.6).mean() > 0.8  # most grids verified this quarter
    assert (grids["households_share"] < 0.5).sum() >= 3  # ... and some far behind
    assert (grids["households_overdue"] > 0).sum() >= 5 and len(report.overdue) > 100
    assert report.records["verified_by"].notna().mean() > 0.9


def test_completeness_check_finds_the_planted_problems(db_conn, login_as, demo_data, demo_now):
    from services import completeness

    counts = completeness.check_grid(db_conn, login_as("admin"), at=demo_now)  # rolled back after the test
    planted = demo_data.planted
    assert set(planted) == {"id_check_digit", "category_age", "id_duplicate", "household_no_residents"}
    for rule in planted:
        assert rule in counts.columns and int(counts[rule].sum()) >= 1, rule
    found = db_conn.execute(text(
        "SELECT t.rule, h.household_key FROM completeness_todos t JOIN households h ON h.id = t.household_id")).all()
    by_rule: dict[str, set[str]] = {}
    for rule, key in found:
        by_rule.setdefault(rule, set()).add(key)
    for rule, keys in planted.items():
        households = {k.split(":")[0] for k in keys}
        assert households <= by_rule.get(rule, set()), (rule, households)
