"""Completeness and the quarterly refresh (issue #17) against the real PostGIS through the application
role: a grid head's check writes to-dos in their grids only (given to the grid's worker), a worker
verifies a household in their grid (stamped from the session) and the quarter's share rises; a
household outside their grid is refused; each step audited."""

from __future__ import annotations

import pytest

from _street import street_db

pytestmark = pytest.mark.db


@pytest.fixture(scope="module")
def street(throwaway_databases, demo_data):
    db = street_db(throwaway_databases, demo_data)
    yield db
    db.dispose()


def test_check_writes_todos_in_the_checkers_grids(street):
    from services import completeness

    head = street.login("head-001")
    counts = completeness.check_grid(street.app, head)
    stored = street.rows("SELECT grid_code, staff_id FROM completeness_todos")
    assert len(stored) == int(counts["total"].sum()) if len(counts) else len(stored) == 0
    assert all(any(g.startswith(p) for p in head.scope.prefixes) for g, _s in stored)
    if stored:
        assert any(s is not None for _g, s in stored)  # given to the grid's worker
    assert street.scalar("SELECT count(*) FROM audit_log WHERE action = 'completeness_check' "
                         "AND account_name = 'head-001'") == 1
    # checking again replaces, never duplicates
    completeness.check_grid(street.app, head)
    assert street.scalar("SELECT count(*) FROM completeness_todos") == len(stored)


def test_worker_verifies_own_households_only(street):
    from services import completeness
    from store.session import RefusedByDatabase
    from gis.errors import NotFoundError

    worker = street.login("worker-001")
    mine = worker.scope.prefixes[0]
    household = street.scalar("SELECT id FROM households WHERE grid_code LIKE :p ORDER BY id LIMIT 1", p=mine + "%")
    before = completeness.verification(street.app, worker)
    residents = completeness.verify_household(street.app, worker, household)
    assert residents == street.scalar("SELECT count(*) FROM residents WHERE household_id = :h", h=household)
    account, staff = street.rows("SELECT verified_account, verified_by FROM households WHERE id = :h", h=household)[0]
    assert account == "worker-001" and staff == worker.staff_id
    after = completeness.verification(street.app, worker)
    grid = street.scalar("SELECT grid_code FROM households WHERE id = :h", h=household)
    b = before.grids.set_index("grid_code") if "grid_code" in before.grids else before.grids
    a = after.grids.set_index("grid_code") if "grid_code" in after.grids else after.grids
    assert int(a.loc[grid, "households_verified"]) >= int(b.loc[grid, "households_verified"])
    assert street.scalar("SELECT count(*) FROM audit_log WHERE action = 'verify_household' "
                         "AND :h = ANY(object_ids)", h=str(household)) == 1
    outside = street.scalar("SELECT id FROM households WHERE grid_code NOT LIKE :p ORDER BY id LIMIT 1", p=mine + "%")
    with pytest.raises((NotFoundError, RefusedByDatabase)):
        completeness.verify_household(street.app, worker, outside)
    assert street.scalar("SELECT verified_account FROM households WHERE id = :h", h=outside) != "worker-001"
