"""Resident evaluation (民主测评, issue #17) against the real PostGIS, through the application role
under row-level security: a round opened and its one-time codes issued (≥64 bits, only keyed hashes
stored), one response per code (also when two arrive at once), no link from a response to a code or
household, groups under five suppressed, every step audited, and who may do what."""

from __future__ import annotations

import datetime as dt
import threading

import pytest
from sqlalchemy import text
from sqlalchemy.exc import ProgrammingError

from _street import street_db
from governance.codes import code_hash, normalize_code
from governance.evaluation import CODE_BITS, CODE_DATA_CHARS, Answers, EvaluationCodeError

pytestmark = pytest.mark.db


@pytest.fixture(scope="module")
def street(throwaway_databases, demo_data):
    db = street_db(throwaway_databases, demo_data)
    yield db
    db.dispose()


def _micro_grids(street, *, least: int) -> list[str]:
    """Micro-grids with at least ``least`` households, smallest code first."""
    return [r[0] for r in street.rows(
        "SELECT grid_code FROM households WHERE grid_code IS NOT NULL GROUP BY grid_code "
        "HAVING count(*) >= :n ORDER BY grid_code", n=least)]


@pytest.fixture(scope="module")
def opened(street):
    """A round over two micro-grids, open now, with its codes issued by the planner."""
    from services import evaluation

    big, other, small = _micro_grids(street, least=7)[:3]
    planner = street.login("planner")
    now = dt.datetime.now(dt.UTC)
    row = evaluation.open_round(street.app, planner, title="2026年第四季度网格员民主测评", period="2026-Q4",
                                grid_codes=[big, other, small], opens_at=now - dt.timedelta(hours=1),
                                closes_at=now + dt.timedelta(days=14))
    issued = evaluation.issue_codes(street.app, planner, row.id)
    street.other = other
    return row, issued, big, small


def test_codes_are_long_random_and_stored_only_as_keyed_hashes(street, opened):
    row, issued, big, small = opened
    assert CODE_BITS >= 64
    households = dict(street.rows("SELECT grid_code, count(*) FROM households WHERE grid_code IN (:a, :b, :c) "
                                  "GROUP BY 1", a=big, b=small, c=street.other))
    assert {s.grid_code for s in issued.slips} == {big, small, street.other}
    assert len(issued.slips) == sum(households.values())  # one code per household
    codes = [normalize_code(s.code, data_chars=CODE_DATA_CHARS) for s in issued.slips]
    assert len(set(codes)) == len(codes)
    stored = street.rows("SELECT code_hash, grid_code, used FROM evaluation_codes WHERE round_id = :r", r=row.id)
    assert len(stored) == len(codes) and not any(used for _h, _g, used in stored)
    salt = street.scalar("SELECT salt FROM evaluation_rounds WHERE id = :r", r=row.id)
    assert len(salt) >= 16
    hashes = {h for h, _g, _u in stored}
    assert hashes == {code_hash(c, salt=bytes(salt)) for c in codes}
    assert not hashes & set(codes)  # the code text is stored nowhere
    columns = {r[0] for r in street.rows(
        "SELECT column_name FROM information_schema.columns WHERE table_name = 'evaluation_codes'")}
    assert not columns & {"household_id", "created_at", "issued_at", "code"}
    # issuing the same grid again is refused (the codes of a grid are its households' count)
    from gis.errors import ValidationError
    from services import evaluation

    with pytest.raises(ValidationError, match="already issued"):
        evaluation.issue_codes(street.app, street.login("planner"), row.id, grids=[big])


def test_application_role_cannot_read_codes_or_salt(street, opened):
    row, _issued, _big, _small = opened
    from store.session import unit_of_work

    admin = street.login("admin")
    for sql in ("SELECT code_hash FROM evaluation_codes", "SELECT salt FROM evaluation_rounds",
                "UPDATE evaluation_codes SET used = false"):
        with pytest.raises(ProgrammingError, match="permission denied"):
            with unit_of_work(street.app, admin) as db:
                db.execute(text(sql))


def test_one_response_per_code_and_no_link_to_the_code(street, opened):
    from services import evaluation

    row, issued, big, _small = opened
    slip = next(s for s in issued.slips if s.grid_code == big)
    response = evaluation.submit_response(street.app, slip.code.lower(), Answers(service=5, responsiveness=4,
                                                                                  knows_worker=True, comment="很好"))
    assert response.grid_code == big and response.round_id == row.id
    with pytest.raises(EvaluationCodeError) as again:
        evaluation.submit_response(street.app, slip.code, Answers(service=1))
    assert again.value.reason == "used"
    with pytest.raises(EvaluationCodeError) as unknown:
        evaluation.submit_response(street.app, "A" * 15 + "0", Answers(service=1))
    assert unknown.value.reason in ("malformed", "unknown")
    # the response table holds no code, hash, household or time of day
    columns = {r[0] for r in street.rows(
        "SELECT column_name FROM information_schema.columns WHERE table_name = 'evaluation_responses'")}
    assert not columns & {"code", "code_hash", "household_id", "submitted_at", "created_at"}
    assert street.scalar("SELECT count(*) FROM evaluation_responses WHERE round_id = :r", r=row.id) == 1
    # the code flip is never audited (an audit row's time would pair the code with the response)
    assert street.scalar("SELECT count(*) FROM audit_log WHERE object_type = 'evaluation_codes' "
                         "AND action LIKE '%update%'") == 0


def test_two_submissions_of_one_code_at_once_give_one_response(street, opened):
    from services import evaluation

    row, issued, big, _small = opened
    slip = [s for s in issued.slips if s.grid_code == big][1]
    before = street.scalar("SELECT count(*) FROM evaluation_responses WHERE round_id = :r", r=row.id)
    outcomes: list[str] = []
    barrier = threading.Barrier(2)

    def submit() -> None:
        barrier.wait()
        try:
            evaluation.submit_response(street.app, slip.code, Answers(service=3))
            outcomes.append("ok")
        except EvaluationCodeError as exc:
            outcomes.append(exc.reason)

    threads = [threading.Thread(target=submit) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes) == ["ok", "used"]
    assert street.scalar("SELECT count(*) FROM evaluation_responses WHERE round_id = :r", r=row.id) == before + 1


def test_results_suppress_groups_under_five_and_need_the_permission(street, opened):
    from access.permissions import PermissionDenied
    from services import evaluation

    row, issued, big, small = opened
    done = street.scalar("SELECT count(*) FROM evaluation_responses WHERE round_id = :r AND grid_code = :g",
                         r=row.id, g=big)
    for slip in [s for s in issued.slips if s.grid_code == big][2:2 + max(0, 6 - done)]:
        evaluation.submit_response(street.app, slip.code, Answers(service=4, resolution=5, knows_worker=False))
    for slip in [s for s in issued.slips if s.grid_code == street.other][:5]:
        evaluation.submit_response(street.app, slip.code, Answers(service=2, knows_worker=True))
    for slip in [s for s in issued.slips if s.grid_code == small][:2]:
        evaluation.submit_response(street.app, slip.code, Answers(service=1, comment="只有两人回答"))
    results = evaluation.round_results(street.app, street.login("planner"), row.id)
    grids = results.report.grids.set_index("grid_code") if "grid_code" in results.report.grids else results.report.grids
    assert int(grids.loc[big, "responses"]) >= 6 and not bool(grids.loc[big, "suppressed"])
    # the total is published: hiding the small grid alone would give it away by subtraction
    assert bool(grids.loc[street.other, "suppressed"]) and grids.loc[street.other, "suppression"] == "complementary"
    assert float(results.report.total["service"].iloc[0]) > 0
    assert bool(grids.loc[small, "suppressed"]) and grids.loc[small, "suppression"] == "small_group"
    assert grids.loc[small, ["service", "score"]].isna().all()
    comments = results.to_dict()["grid_comments"]
    assert "只有两人回答" not in {c["comment"] for c in comments}
    assert int(grids.loc[big, "issued"]) == sum(1 for s in issued.slips if s.grid_code == big)
    with pytest.raises(PermissionDenied):
        evaluation.round_results(street.app, street.login("worker-001"), row.id)


def test_only_managers_open_rounds_and_every_step_is_audited(street, opened):
    from access.permissions import PermissionDenied
    from services import evaluation

    row, _issued, big, _small = opened
    now = dt.datetime.now(dt.UTC)
    for name in ("worker-001", "head-001", "inspector"):
        with pytest.raises(PermissionDenied):
            evaluation.open_round(street.app, street.login(name), title="x", period="2026-12", grid_codes=[big],
                                  opens_at=now, closes_at=now + dt.timedelta(days=1))
    closed = evaluation.close_round(street.app, street.login("planner"), row.id, expected_version=row.version)
    assert closed.status == "closed" and closed.created_by
    unused = next(s for s in _issued.slips if s.grid_code == _small and
                  street.scalar("SELECT NOT used FROM evaluation_codes WHERE code_hash = :h",
                                h=code_hash(normalize_code(s.code, data_chars=CODE_DATA_CHARS),
                                            salt=bytes(street.scalar("SELECT salt FROM evaluation_rounds "
                                                                     "WHERE id = :r", r=row.id)))))
    with pytest.raises(EvaluationCodeError) as late:
        evaluation.submit_response(street.app, unused.code, Answers(service=5))
    assert late.value.reason == "expired"
    actions = {r[0]: r[1] for r in street.rows(
        "SELECT action, account_name FROM audit_log WHERE object_type = 'evaluation_rounds' "
        "AND :r = ANY(object_ids) AND action LIKE 'evaluation_%'", r=str(row.id))}
    assert {"evaluation_open", "evaluation_codes", "evaluation_close"} <= set(actions)
    assert actions["evaluation_open"] == "planner"
