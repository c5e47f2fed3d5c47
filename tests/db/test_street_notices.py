"""Notices (信息推送, issue #17) against the real PostGIS through the application role: a grid head
publishes to their grid, a worker below sees it and reads it, the receipts say who read, the public
page shows it without an account, publishing outside one's grids or with bad input is refused."""

from __future__ import annotations

import datetime as dt

import pytest

from _street import street_db

pytestmark = pytest.mark.db


@pytest.fixture(scope="module")
def street(throwaway_databases, demo_data):
    db = street_db(throwaway_databases, demo_data)
    yield db
    db.dispose()


def _head_and_worker(street) -> tuple[str, str, str]:
    """A grid head's account, their grid, and a worker account in a micro-grid below it."""
    for head, grid in street.rows(
            "SELECT a.name, s.grid_code FROM accounts a JOIN staff_assignments s ON s.staff_id = a.staff_id "
            "WHERE a.role = 'grid_head' AND s.end_date IS NULL ORDER BY a.name"):
        worker = street.scalar(
            "SELECT a.name FROM accounts a JOIN staff_assignments s ON s.staff_id = a.staff_id "
            "WHERE a.role = 'worker' AND s.end_date IS NULL AND s.grid_code LIKE :p ORDER BY a.name LIMIT 1", p=grid + "%")
        if worker:
            return head, grid, worker
    raise AssertionError("the demo has a grid head with a worker below")


def _notice(grid: str, **changes):
    from governance.notices import Notice

    now = dt.datetime.now(dt.UTC)
    values = dict(id=None, kind="policy", title="医保缴费提醒", body="请于月底前完成2027年度城乡居民医保缴费。",
                  valid_from=now - dt.timedelta(minutes=5), valid_to=now + dt.timedelta(days=7), grid_codes=(grid,))
    values.update(changes)
    return Notice(**values)


def test_publish_read_and_receipts(street):
    from services import notices

    head, grid, worker = _head_and_worker(street)
    notice_id = notices.publish(street.app, street.login(head), _notice(grid))
    assert street.scalar("SELECT author FROM notices WHERE id = :n", n=notice_id) == head
    me = street.login(worker)
    mine = notices.worker_notices(street.app, me)
    assert [w.notice.id for w in mine if w.notice.id == notice_id] and \
        next(w for w in mine if w.notice.id == notice_id).read_at is None
    assert notices.mark_read(street.app, me, notice_id) is True
    assert notices.mark_read(street.app, me, notice_id) is False  # one receipt per person
    receipts = notices.receipts(street.app, street.login(head), notice_id)
    row = receipts.loc[receipts["staff_id"] == me.staff_id]
    assert len(row) == 1 and bool(row["read"].iloc[0])
    assert (~receipts["read"].astype(bool)).sum() == len(receipts) - 1
    audited = street.scalar("SELECT count(*) FROM audit_log WHERE object_type IN ('notices', 'notice_reads') "
                            "AND :n = ANY(object_ids)", n=str(notice_id))
    assert audited >= 2
    # the public page of the worker's micro-grid shows it, without an account
    micro = street.scalar("SELECT s.grid_code FROM staff_assignments s JOIN accounts a ON a.staff_id = s.staff_id "
                          "WHERE a.name = :w AND s.end_date IS NULL LIMIT 1", w=worker)
    public = notices.public_notices_for_grid(street.app, micro)
    assert notice_id in {n.id for n in public}


def test_publishing_is_checked(street):
    from access.permissions import PermissionDenied
    from governance.notices import NoticeValidationError
    from services import notices

    head, grid, worker = _head_and_worker(street)
    other = street.scalar("SELECT code FROM grids WHERE level = 1 AND code NOT LIKE :p ORDER BY code LIMIT 1",
                          p=grid[:12] + "%") or street.scalar(
        "SELECT code FROM grids WHERE level = 2 AND code NOT LIKE :p ORDER BY code LIMIT 1", p=grid + "%")
    before = street.scalar("SELECT count(*) FROM notices")
    with pytest.raises((NoticeValidationError, PermissionDenied)):
        notices.publish(street.app, street.login(head), _notice(other))
    with pytest.raises(NoticeValidationError) as bad:
        notices.publish(street.app, street.login(head), _notice(grid, title="", body="<script>x</script>",
                                                                valid_to=dt.datetime.now(dt.UTC) - dt.timedelta(days=1)))
    assert {f["field"] for f in bad.value.findings} >= {"title", "body"}
    with pytest.raises(PermissionDenied):
        notices.publish(street.app, street.login(worker), _notice(grid))
    assert street.scalar("SELECT count(*) FROM notices") == before
