"""Supervision spot checks (督查, issue #17) against the real PostGIS through the application role:
a month's draw stored with its seed and reproduced from it, outcomes recorded, a failed check giving
the worker's leader a reminder talk only that leader may close, audit, and who may draw."""

from __future__ import annotations

import pytest

from _street import street_db

pytestmark = pytest.mark.db


@pytest.fixture(scope="module")
def street(throwaway_databases, demo_data):
    db = street_db(throwaway_databases, demo_data)
    yield db
    db.dispose()


@pytest.fixture(scope="module")
def drawn(street):
    from services import spotchecks

    month = street.scalar("SELECT to_char(max(visited_at) AT TIME ZONE 'Asia/Shanghai', 'YYYY-MM') FROM visits")
    result = spotchecks.draw(street.app, street.login("inspector"), month, per_worker=1, seed=20261201)
    return month, result


def test_draw_is_stored_with_its_seed_and_reproduces(street, drawn):
    from services import spotchecks

    month, result = drawn
    inspector = street.login("inspector")
    items = spotchecks.draw_items(street.app, inspector, result.draw_id)
    assert len(items) == len(result.sample.visits) > 0
    seed, fingerprint, drawn_by = street.rows("SELECT seed, fingerprint, drawn_by FROM spot_check_draws WHERE id = :d",
                                              d=result.draw_id)[0]
    assert seed == 20261201 and fingerprint and drawn_by == "inspector"
    # every sampled visit is a visit of that month by the worker named
    bad = street.scalar(
        "SELECT count(*) FROM spot_check_items i JOIN visits v ON v.id = i.visit_id WHERE i.draw_id = :d "
        "AND (to_char(v.visited_at AT TIME ZONE 'Asia/Shanghai', 'YYYY-MM') <> :m OR v.staff_id <> i.staff_id)",
        d=result.draw_id, m=month)
    assert bad == 0
    assert spotchecks.verify_draw(street.app, inspector, result.draw_id) == []
    again = spotchecks.draw(street.app, inspector, month, per_worker=1, seed=20261201)
    assert list(again.sample.visits["visit_id"]) == list(result.sample.visits["visit_id"])
    audit = street.rows("SELECT account_name, details FROM audit_log WHERE action = 'spot_check_draw' "
                        "AND :d = ANY(object_ids)", d=str(result.draw_id))
    assert audit and audit[0][0] == "inspector" and audit[0][1].get("seed") == 20261201


def test_failed_check_gives_the_leader_a_talk_only_they_close(street, drawn):
    from access.permissions import PermissionDenied
    from services import spotchecks

    _month, result = drawn
    inspector = street.login("inspector")
    items = spotchecks.draw_items(street.app, inspector, result.draw_id)
    first, second = (int(i) for i in items["item_id"].iloc[:2])
    ok = spotchecks.record_outcome(street.app, inspector, first, outcome="confirmed", method="phone")
    assert not ok["failed"] and ok["talk_id"] is None
    failed = spotchecks.record_outcome(street.app, inspector, second, outcome="not_visited", method="door",
                                       note="住户说本月无人上门")
    assert failed["failed"] and failed["talk_id"] and failed["leader_id"]
    leader_account = street.scalar("SELECT name FROM accounts WHERE staff_id = :s ORDER BY name LIMIT 1",
                                   s=failed["leader_id"])
    assert leader_account, "the responsible leader has an account in the demo"
    other = street.scalar("SELECT name FROM accounts WHERE role IN ('grid_head', 'leader') AND "
                          "(staff_id IS DISTINCT FROM :s) ORDER BY name LIMIT 1", s=failed["leader_id"])
    with pytest.raises(PermissionDenied):
        spotchecks.complete_talk(street.app, street.login(other), failed["talk_id"], note="不是我的")
    leader = street.login(leader_account)
    mine = spotchecks.list_talks(street.app, leader, mine=True)
    assert failed["talk_id"] in set(mine["id"].astype(int))
    spotchecks.complete_talk(street.app, leader, failed["talk_id"], note="已谈话，要求如实走访")
    status, done_by = street.rows("SELECT status, done_by FROM reminder_talks WHERE id = :t", t=failed["talk_id"])[0]
    assert status == "done" and done_by == leader_account
    inspector_name = street.scalar("SELECT inspector FROM spot_check_outcomes WHERE id = :o", o=failed["outcome_id"])
    assert inspector_name == "inspector"
    # one outcome per item: a second is refused, the first stays
    from gis.errors import ValidationError

    with pytest.raises(ValidationError, match="already has an outcome"):
        spotchecks.record_outcome(street.app, inspector, second, outcome="confirmed", method="phone")
    assert street.scalar("SELECT outcome FROM spot_check_outcomes WHERE item_id = :i", i=second) == "not_visited"


def test_bad_outcome_is_refused_and_only_inspectors_draw(street, drawn):
    from access.permissions import PermissionDenied
    from gis.errors import ValidationError
    from services import spotchecks

    month, result = drawn
    inspector = street.login("inspector")
    item = int(spotchecks.draw_items(street.app, inspector, result.draw_id)["item_id"].iloc[3])
    before = street.scalar("SELECT count(*) FROM spot_check_outcomes")
    with pytest.raises(ValidationError):
        spotchecks.record_outcome(street.app, inspector, item, outcome="maybe", method="phone")
    assert street.scalar("SELECT count(*) FROM spot_check_outcomes") == before
    for name in ("worker-001", "head-001", "planner"):
        with pytest.raises(PermissionDenied):
            spotchecks.draw(street.app, street.login(name), month)
