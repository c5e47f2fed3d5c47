"""One masking: a household's personal data reads the same on the page, in an export and from the CLI,
for each role, as that role's masking policy says (access.permissions.MASKING)."""

from __future__ import annotations

import csv

import pytest
from sqlalchemy import create_engine, text

from access.permissions import MASKING, TABLE_ACCESS, may
from services.auth import owner_session
from services.exports import export_to_file
from services.households import household_roster
from store.engine import make_engine
from tests.db._cli import main
from testdb import DATABASES


def _worker_of(engine, code: str) -> str:
    """The demo worker account whose grants cover grid ``code``."""
    with engine.connect() as conn:
        return conn.execute(text(
            "SELECT a.name FROM accounts a JOIN account_grants g ON g.account_id = a.id "
            "WHERE a.role = 'worker' AND :c LIKE g.grid_code || '%' ORDER BY a.name LIMIT 1"), {"c": code}).scalar_one()


@pytest.mark.parametrize("who", ["admin", "leader", "planner", "worker"])
def test_a_household_is_masked_the_same_everywhere(who, demo_url, tmp_path, capsys) -> None:
    owner = create_engine(demo_url)
    app = make_engine(DATABASES[-1].app_url(demo_url))
    with owner.connect() as conn:
        key, code, name, id_number, phone = conn.execute(text(
            "SELECT h.household_key, h.grid_code, r.name, r.id_number, r.phone FROM households h "
            "JOIN residents r ON r.household_id = h.id WHERE r.relation = '户主' AND r.id_number IS NOT NULL "
            "AND r.phone IS NOT NULL AND h.grid_code IS NOT NULL ORDER BY h.id LIMIT 1")).one()
    account = _worker_of(owner, code) if who == "worker" else who
    actor = owner_session(owner, app, account)
    policy = MASKING[actor.role]

    with owner.connect() as conn:
        household_id = conn.execute(text("SELECT id FROM households WHERE household_key = :k"), {"k": key}).scalar_one()
    roster = household_roster(app, actor, code)
    rows = roster[roster["household_id"] == household_id]
    assert len(rows), "the household is in the role's view"
    if TABLE_ACCESS[actor.role]["residents"].read == "none":  # row-level security keeps the residents out
        assert rows[["name", "id_number", "phone"]].isna().all().all(), rows
        page_values = (None, None, None)
    else:
        head = rows[rows["relation"] == "户主"].iloc[0]
        page_values = (head["name"], head["id_number"], head["phone"])

    if not may(actor.role, "export"):
        assert main(["--as", account, "export", "households", "--out", str(tmp_path / "x.csv")]) == 1
        assert "may not export" in capsys.readouterr().err
        assert not (tmp_path / "x.csv").exists()
        views = [page_values]
    else:
        service_file = tmp_path / "service.csv"
        export_to_file(app, actor, "households", service_file)
        cli_file = tmp_path / "cli.csv"
        assert main(["--as", account, "export", "households", "--out", str(cli_file)]) == 0
        capsys.readouterr()
        views = [page_values]
        for path in (service_file, cli_file):
            with path.open(encoding="utf-8-sig") as handle:
                row = next(r for r in csv.DictReader(handle) if r["household_key"] == key)
            views.append(tuple(row[c] or None for c in ("householder_name", "householder_id_number",
                                                        "householder_phone")))
    owner.dispose()
    app.dispose()

    assert all(v == views[0] for v in views), views
    shown_name, shown_id, shown_phone = views[0]
    if page_values == (None, None, None):
        return
    assert (shown_name == name) == (policy.name == "full")
    assert shown_id != id_number  # an ID number is never shown whole on a page or in a plain export
    if policy.id_number == "partial":
        assert shown_id[:6] == id_number[:6] and shown_id[-4:] == id_number[-4:] and "*" in shown_id
    else:
        assert id_number[:6] not in (shown_id or "")
    own_grid = who == "worker"
    assert (shown_phone == phone) == (policy.phone == "own" and own_grid)
    if shown_phone != phone:
        assert shown_phone[:3] == phone[:3] and shown_phone[-4:] == phone[-4:]
