"""The public, login-free pages (issue #17 points 1, 4, 7) over a real HTTP server and PostGIS.

A uvicorn server serves :func:`api.routes.routes` (what ``serve.py`` mounts beside the UI, the
``/public/`` pages included) over a committed demo copy; rounds, codes, notices and incidents are
made through the services as the planner, a leader and the admin would. Each test calls from a
loopback address of its own (127.0.0.x), so the per-address rate limit of one test does not spill
into another — and the limit is tested with the defaults the server ships with.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
import threading

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.exc import ProgrammingError

from _street import street_db
from governance.codes import code_hash, generate_code, normalize_code
from governance.evaluation import CODE_DATA_CHARS, RESPONSE_COLUMNS
from i18n import translate
from tests.db.api_server import serve

pytestmark = pytest.mark.db

_ADDRESSES = iter(range(10, 250))


@pytest.fixture(scope="module")
def street(throwaway_databases, demo_data):
    db = street_db(throwaway_databases, demo_data)
    yield db
    db.dispose()


@pytest.fixture(scope="module")
def server(street):
    with serve(street.url) as s:
        yield s


def _client(server, **headers: str) -> httpx.Client:
    """A client calling from a loopback address of its own (its own rate-limit bucket)."""
    address = f"127.0.0.{next(_ADDRESSES)}"
    return httpx.Client(base_url=server.url, headers=headers, timeout=60, follow_redirects=False,
                        transport=httpx.HTTPTransport(local_address=address))


def _words(page: str) -> str:
    """The text a person reads on ``page`` (tags removed, entities kept)."""
    return " ".join(re.sub(r"<[^>]+>", " ", page).split())


def _clean(page: str) -> None:
    """No raw catalogue keys, no None/nan, no traceback on a public page."""
    shown = _words(page)
    assert not re.search(r"\b(public|eval|feedback|code)\.[a-z_]+\.?[a-z_]*\b", shown), shown[:400]
    assert "None" not in shown and "nan" not in shown.split() and "Traceback" not in page


@pytest.fixture(scope="module")
def rounds(street):
    """An open round over two micro-grids with its slips, a closed round and one not open yet."""
    from services import evaluation

    grids = [r[0] for r in street.rows(
        "SELECT grid_code FROM households WHERE grid_code IS NOT NULL GROUP BY grid_code "
        "HAVING count(*) >= 8 ORDER BY grid_code LIMIT 4")]
    planner = street.login("planner")
    now = dt.datetime.now(dt.UTC)
    made = {}
    for name, grid, opens, closes in (("open", grids[0], -1, 14), ("closed", grids[1], -2, 14),
                                      ("later", grids[2], 24 * 3, 24 * 10)):
        row = evaluation.open_round(street.app, planner, title=f"2026年第四季度民主测评（{name}）", period="2026-Q4",
                                    grid_codes=[grid], opens_at=now + dt.timedelta(hours=opens),
                                    closes_at=now + dt.timedelta(days=closes) if name != "later"
                                    else now + dt.timedelta(hours=closes))
        issued = evaluation.issue_codes(street.app, planner, row.id)
        made[name] = (row, list(issued.slips))
    closed_row = made["closed"][0]
    evaluation.close_round(street.app, planner, closed_row.id, expected_version=closed_row.version)
    return made


def _responses(street, round_id: int) -> int:
    return street.scalar("SELECT count(*) FROM evaluation_responses WHERE round_id = :r", r=round_id)


def _used(street, round_id: int, code: str) -> bool:
    salt = bytes(street.scalar("SELECT salt FROM evaluation_rounds WHERE id = :r", r=round_id))
    hashed = code_hash(normalize_code(code, data_chars=CODE_DATA_CHARS), salt=salt)
    return street.scalar("SELECT used FROM evaluation_codes WHERE round_id = :r AND code_hash = :h", r=round_id, h=hashed)


# -- the evaluation -------------------------------------------------------------------------------------------


def test_qr_link_asks_the_questions_and_takes_one_response_per_code(server, street, rounds, caplog):
    row, slips = rounds["open"]
    slip = slips[0]
    before = _responses(street, row.id)
    audit_before = street.scalar("SELECT coalesce(max(id), 0) FROM audit_log")
    caplog.set_level(logging.DEBUG)
    with _client(server) as client:
        page = client.get("/public/evaluate", params={"round": row.id, "code": slip.code})
        assert page.status_code == 200, page.text
        _clean(page.text)
        shown = _words(page.text)
        for key in ("eval.q.service", "eval.q.responsiveness", "eval.q.knows_worker", "eval.q.comment", "eval.intro"):
            assert translate(key, "zh") in shown
        assert 'name="viewport"' in page.text and "/public/style.css" in page.text
        assert page.headers["cache-control"] == "no-store" and page.headers["referrer-policy"] == "no-referrer"
        assert re.search(r'<form method="post" action="/public/evaluate', page.text)
        answers = {"round": str(row.id), "code": slip.code, "service": "5", "responsiveness": "4", "resolution": "",
                   "knows_worker": "yes", "comment": "网格员很负责 <b>谢谢</b>"}
        done = client.post("/public/evaluate", data=answers)
        assert done.status_code == 303 and done.headers["location"].startswith("/public/evaluate/done")
        thanks = client.get(done.headers["location"])
        assert thanks.status_code == 200 and translate("eval.thanks", "zh") in _words(thanks.text)
        again = client.post("/public/evaluate", data={**answers, "service": "1"})
        assert again.status_code == 409
        assert translate("eval.error.used", "zh") in _words(again.text)
        _clean(again.text)
        reopened = client.get("/public/evaluate", params={"round": row.id, "code": slip.code})
        assert reopened.status_code == 409 and translate("eval.error.used", "zh") in _words(reopened.text)
    assert _responses(street, row.id) == before + 1
    stored = street.rows(f"SELECT {', '.join(RESPONSE_COLUMNS)} FROM evaluation_responses WHERE round_id = :r", r=row.id)
    assert [(r.grid_code, r.service, r.responsiveness, r.resolution, r.knows_worker, r.comment) for r in stored] == [
        (slip.grid_code, 5, 4, None, True, "网格员很负责 <b>谢谢</b>")]
    # audited by the database: the response's insert, by no account, with nothing of the code
    entries = street.rows("SELECT action, object_type, account_id, details::text AS details, object_ids FROM audit_log "
                          "WHERE id > :i", i=audit_before)
    assert [(e.action, e.object_type, e.account_id) for e in entries if e.object_type.startswith("evaluation")] == [
        ("insert", "evaluation_responses", None)]
    salt = bytes(street.scalar("SELECT salt FROM evaluation_rounds WHERE id = :r", r=row.id))
    canonical = normalize_code(slip.code, data_chars=CODE_DATA_CHARS)
    secrets_ = {canonical, slip.code, code_hash(canonical, salt=salt)}
    assert not any(s in e.details or s in " ".join(e.object_ids) for e in entries for s in secrets_)
    # the server logged nothing of the code (the client's own httpx lines aside)
    server_lines = [r.getMessage() for r in caplog.records if not r.name.startswith(("httpx", "httpcore"))]
    assert not any(s in line for line in server_lines for s in secrets_)


def test_a_get_never_submits(server, street, rounds):
    row, slips = rounds["open"]
    slip = slips[1]
    before = _responses(street, row.id)
    with _client(server) as client:
        page = client.get("/public/evaluate", params={"round": row.id, "code": slip.code, "service": "5",
                                                      "knows_worker": "yes"})
        assert page.status_code == 200
    assert _responses(street, row.id) == before and not _used(street, row.id, slip.code)


def test_two_submissions_of_one_code_at_once_give_one_response(server, street, rounds):
    row, slips = rounds["open"]
    slip = slips[2]
    before = _responses(street, row.id)
    barrier = threading.Barrier(2)
    statuses: list[int] = []

    def submit() -> None:
        with _client(server) as client:
            barrier.wait()
            statuses.append(client.post("/public/evaluate", data={"round": str(row.id), "code": slip.code,
                                                                  "service": "3"}).status_code)

    threads = [threading.Thread(target=submit) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(statuses) == [303, 409]
    assert _responses(street, row.id) == before + 1 and _used(street, row.id, slip.code)


def test_unknown_closed_not_open_and_mistyped_codes_get_their_sentence(server, rounds):
    open_row, _ = rounds["open"]
    closed_row, closed_slips = rounds["closed"]
    later_row, later_slips = rounds["later"]
    unknown = generate_code(CODE_DATA_CHARS)  # well formed (check character right), never issued
    cases = [
        ({"round": open_row.id, "code": unknown}, 404, "eval.error.unknown"),
        ({"code": unknown}, 404, "eval.error.unknown"),
        ({"round": closed_row.id, "code": closed_slips[0].code}, 410, "eval.error.expired"),
        ({"code": closed_slips[1].code}, 410, "eval.error.expired"),
        ({"round": later_row.id, "code": later_slips[0].code}, 403, "eval.error.not_open"),
        ({"round": open_row.id, "code": unknown[:-1] + ("0" if unknown[-1] != "0" else "1")}, 400, "eval.error.malformed"),
        ({"round": "7; DROP", "code": unknown}, 404, "eval.error.unknown"),
    ]
    for params, status, key in cases:
        with _client(server) as client:  # a fresh address each: a miss costs three of the burst's tokens
            page = client.get("/public/evaluate", params=params)
        assert page.status_code == status, (params, page.status_code)
        assert translate(key, "zh") in _words(page.text), params
        _clean(page.text)
    with _client(server) as client:
        posted = client.post("/public/evaluate", data={"round": str(closed_row.id), "code": closed_slips[2].code,
                                                       "service": "4"})
        assert posted.status_code == 410 and translate("eval.error.expired", "zh") in _words(posted.text)
        english = client.get("/public/evaluate", params={"round": closed_row.id, "code": closed_slips[0].code},
                             headers={"Accept-Language": "en-US,en;q=0.9"})
        assert translate("eval.error.expired", "en") in _words(english.text)
        assert client.get("/public/evaluate", params={"code": unknown, "lang": "en"}).text.count(
            translate("eval.error.unknown", "en")) == 1


def test_bad_answers_are_refused_in_words_and_the_code_stays_usable(server, street, rounds):
    row, slips = rounds["open"]
    slip = slips[3]
    before = _responses(street, row.id)
    with _client(server) as client:
        empty = client.post("/public/evaluate", data={"round": str(row.id), "code": slip.code, "comment": "  "})
        assert empty.status_code == 422 and translate("public.eval.problem.empty", "zh") in _words(empty.text)
        wrong = client.post("/public/evaluate", data={"round": str(row.id), "code": slip.code, "service": "9",
                                                      "responsiveness": "2", "comment": "x" * 501})
        assert wrong.status_code == 422
        shown = _words(wrong.text)
        assert translate("public.eval.problem.choice", "zh") in shown
        assert translate("public.eval.problem.too_long", "zh", n=500) in shown
        assert 'value="2" checked' in wrong.text  # what was chosen stays chosen
        _clean(wrong.text)
        assert _responses(street, row.id) == before and not _used(street, row.id, slip.code)
        ok = client.post("/public/evaluate", data={"round": str(row.id), "code": slip.code, "responsiveness": "2"})
        assert ok.status_code == 303
        assert client.put("/public/evaluate").status_code == 405
    assert _responses(street, row.id) == before + 1


def test_lookups_are_rate_limited_per_address(server, rounds):
    row, _ = rounds["open"]
    with _client(server) as client:
        statuses = []
        for _ in range(14):
            page = client.get("/public/evaluate", params={"round": row.id, "code": generate_code(CODE_DATA_CHARS)})
            statuses.append(page.status_code)
            if page.status_code == 429:
                break
        assert statuses[-1] == 429 and set(statuses[:-1]) == {404}, statuses
        assert int(page.headers["retry-after"]) >= 1
        minutes = max(1, -(-int(page.headers["retry-after"]) // 60))
        assert translate("code.error.rate_limited", "zh", minutes=minutes) in _words(page.text)
        _clean(page.text)
        assert client.get("/public/status", params={"ref": "ABCD-EFGH-JKMN"}).status_code == 429
    with _client(server) as other:  # another address is not affected
        assert other.get("/public/evaluate", params={"round": row.id,
                                                     "code": generate_code(CODE_DATA_CHARS)}).status_code == 404


def test_responses_are_anonymous_to_a_leader(street, rounds):
    """No query a leader can run pairs a response with a code or a household: the code records and the
    audit trail are unreadable, and a response carries no code, hash, household or time of day."""
    from store.session import unit_of_work

    leader = street.login("leader")
    for sql in ("SELECT * FROM evaluation_codes", "SELECT code_hash, grid_code FROM evaluation_codes",
                "SELECT salt FROM evaluation_rounds", "SELECT * FROM audit_log"):
        with pytest.raises(ProgrammingError, match="permission denied"):
            with unit_of_work(street.app, leader) as db:
                db.execute(text(sql))
    with unit_of_work(street.app, leader) as db:
        columns = set(db.execute(text("SELECT * FROM evaluation_responses LIMIT 0")).keys())
    assert columns <= {"id", *RESPONSE_COLUMNS}
    assert not columns & {"code", "code_hash", "household_id", "address", "submitted_at", "created_at"}


# -- an incident's status -------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def incident(street):
    """An incident reported through the API path with a reporter's name, phone, e-mail and address,
    dispatched, with a reference code and a public reply (which mentions a phone number)."""
    from governance.feedback import format_reference
    from services.incidents import Submission, report_incident

    grid, lon, lat = street.rows(
        "SELECT code, ST_X(p), ST_Y(p) FROM (SELECT code, ST_PointOnSurface(geom) AS p FROM grids g "
        "WHERE NOT EXISTS (SELECT 1 FROM grids c WHERE c.parent_code = g.code) ORDER BY code LIMIT 1) s")[0]
    reported = report_incident(
        street.app, street.login("admin"), lon=float(lon), lat=float(lat), category="sanitation",
        description="楼下垃圾三天没人清运，请联系王秀英 13912345678", address="幸福路88号3单元502室",
        reporter_name="王秀英",
        submission=Submission("sanitation", contact={"first_name": "秀英", "last_name": "王", "phone": "13912345678",
                                                     "email": "wangxy@example.cn"}))
    incident_id, reference = reported.id, reported.reference  # the reporter's code, given by the report
    with street.owner.begin() as db:  # test set-up: the incident dispatched with a public reply
        db.execute(text("UPDATE incidents SET public_reply = :p, status = 'dispatched', "
                        "disposition = 'solve_now', deadline = now() + interval '2 days' WHERE id = :i"),
                   {"p": "已安排环卫人员清运，如有问题请拨打 13800001111。", "i": incident_id})
    return {"id": incident_id, "reference": reference, "formatted": format_reference(reference), "grid": grid,
            "lon": float(lon), "lat": float(lat)}


def test_status_page_shows_the_step_and_reply_and_no_personal_data(server, street, incident):
    with _client(server) as client:
        page = client.get(f"/public/status/{incident['formatted']}")
        typed = client.get("/public/status", params={"ref": incident["reference"].lower()})
    assert page.status_code == 200 and typed.status_code == 200
    _clean(page.text)
    shown = _words(page.text)
    for expected in (translate("public_step.in_progress", "zh"), translate("category.sanitation", "zh"),
                     translate("disposition.solve_now", "zh"), "已安排环卫人员清运", incident["formatted"]):
        assert expected in shown
    assert "***" in shown  # the phone number in the reply is blanked
    assigned = street.rows("SELECT s.name, s.phone FROM incidents i JOIN staff s ON s.id IN (i.assigned_to, i.reported_by) "
                           "WHERE i.id = :i", i=incident["id"])
    personal = ["王秀英", "秀英", "13912345678", "wangxy@example.cn", "幸福路", "3单元502室", "垃圾三天", "13800001111",
                incident["grid"], f"{incident['lon']:.4f}", f"{incident['lat']:.4f}",
                *[v for row in assigned for v in row if v]]
    for body in (page.text, typed.text):
        assert not [p for p in personal if p in body]


def test_unknown_and_mistyped_references(server):
    from governance.feedback import format_reference, new_reference

    with _client(server) as client:
        unknown = client.get(f"/public/status/{format_reference(new_reference())}")
        mistyped = client.get("/public/status", params={"ref": "ABCD-EFGH-JKMN"})
        english = client.get("/public/status", params={"ref": new_reference(), "lang": "en"})
        form = client.get("/public/status")
    assert unknown.status_code == 404 and translate("feedback.error.unknown", "zh") in _words(unknown.text)
    assert mistyped.status_code == 400 and translate("feedback.error.malformed", "zh") in _words(mistyped.text)
    assert english.status_code == 404 and translate("feedback.error.unknown", "en") in _words(english.text)
    assert form.status_code == 200 and translate("public.status.code_label", "zh") in _words(form.text)
    for page in (unknown, mistyped, english, form):
        _clean(page.text)


# -- a grid's contact card -------------------------------------------------------------------------------------


def test_grid_card_lists_the_team_and_current_public_notices(server, street):
    from governance.notices import Notice
    from services import notices

    grid, name = street.rows(
        "SELECT g.code, g.name FROM grids g JOIN staff_assignments a ON a.grid_code = g.code "
        "WHERE a.role = 'micro_worker' AND a.end_date IS NULL ORDER BY g.code LIMIT 1")[0]
    team = street.rows("SELECT s.name, s.phone FROM staff_assignments a JOIN staff s ON s.id = a.staff_id "
                       "WHERE a.grid_code = :g AND a.end_date IS NULL", g=grid)
    now = dt.datetime.now(dt.UTC)
    leader = street.login("leader")
    shown_title = '防范"冒充客服" & 电信诈骗提醒'  # plain text (tags are refused at publishing), escaped when shown
    notices.publish(street.app, leader, Notice(
        id=None, kind="police_alert", title=shown_title, body="近期有冒充客服退款的诈骗电话，请勿转账。",
        valid_from=now - dt.timedelta(hours=1), valid_to=now + dt.timedelta(days=7), grid_codes=(grid,)))
    notices.publish(street.app, leader, Notice(
        id=None, kind="street_work", title="内部工作安排（不公开）", body="仅工作人员可见。",
        valid_from=now - dt.timedelta(hours=1), valid_to=now + dt.timedelta(days=7), grid_codes=(grid,), public=False))
    with _client(server) as client:
        page = client.get(f"/public/grid/{grid}")
        english = client.get(f"/public/grid/{grid}", headers={"Accept-Language": "en"})
        missing = client.get("/public/grid/999999999999999999")
    assert page.status_code == 200, page.text
    _clean(page.text)
    shown = _words(page.text)
    assert name in shown and grid in shown
    for person, phone in team:
        assert person in shown and (not phone or phone in shown)
    assert "防范&quot;冒充客服&quot; &amp; 电信诈骗提醒" in page.text and shown_title not in page.text
    assert translate("notice_kind.police_alert", "zh") in shown
    assert "内部工作安排" not in shown
    assert 'href="/public/evaluate' in page.text and 'href="/public/status' in page.text
    assert english.status_code == 200 and translate("public.card.title", "en") in _words(english.text)
    assert missing.status_code == 404
    assert translate("public.error.grid_not_found", "zh", code="999999999999999999") in _words(missing.text)


def test_public_pages_need_no_login_and_unknown_paths_answer_in_words(server):
    with _client(server) as client:
        for path in ("/public/", "/public/evaluate", "/public/status", "/public/style.css"):
            assert client.get(path).status_code == 200, path
        nowhere = client.get("/public/nowhere")
    assert nowhere.status_code == 404 and translate("public.error.not_found", "zh") in _words(nowhere.text)
