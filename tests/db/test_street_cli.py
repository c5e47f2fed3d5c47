"""The street's practices on the command line (issue #17), end to end against the real PostGIS through
the application role: ``gridgov evaluation|spotcheck|notice`` and ``gridgov report three-in-one|rate``,
human output and ``--json``, a refusal for a role that may not (one line, exit 1); and the reference
code every reported incident gets (app/CLI report, a doctor's report, an import, the demo), returned
to the reporter and read back by the public status use case with nothing personal."""

from __future__ import annotations

import csv
import datetime as dt
import json
import re

import pytest

from _street import street_db
from governance.evaluation import Answers
from tests.db._cli import run
from testdb import database_env

pytestmark = pytest.mark.db

#: The stored form (migration 0003's CHECK) and the form shown to reporters.
STORED = re.compile(r"^[0-9A-HJKMNP-TV-Z]{12}$")
SHOWN = re.compile(r"^[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}$")


@pytest.fixture(scope="module")
def street(throwaway_databases, demo_data):
    db = street_db(throwaway_databases, demo_data)
    yield db
    db.dispose()


def gridgov(street, account: str, *args: str) -> tuple[int, str, str]:
    """``gridgov --as ACCOUNT ARGS`` on the street's database."""
    return run(["--as", account, *args], env=database_env(street.url, actor=None))


def ok_json(street, account: str, *args: str):  # noqa: ANN201 - the parsed JSON
    code, out, err = gridgov(street, account, *args, "--json")
    assert code == 0, f"gridgov {' '.join(args)} as {account}: {code} {err}"
    return json.loads(out)


def refused(street, account: str, role: str, permission: str, *args: str) -> None:
    code, out, err = gridgov(street, account, *args)
    assert (code, err.strip().splitlines()) == (1, [f"error: the role {role} may not {permission.replace('_', ' ')}"])


def _micro_grids(street, *, least: int) -> list[str]:
    return [r[0] for r in street.rows(
        "SELECT grid_code FROM households WHERE grid_code IS NOT NULL GROUP BY grid_code "
        "HAVING count(*) >= :n ORDER BY grid_code", n=least)]


# -- evaluation --------------------------------------------------------------------------------------
def test_evaluation_round_from_the_command_line(street, tmp_path):
    from governance.evaluation import EvaluationCodeError
    from services import evaluation

    first, second, third = _micro_grids(street, least=7)[:3]
    refused(street, "worker-001", "worker", "manage_evaluation", "evaluation", "open", "--title", "x",
            "--period", "2026-Q4", "--grid", first)
    opened = ok_json(street, "planner", "evaluation", "open", "--title", "2026年第四季度民主测评", "--period", "2026-q4",
                     "--grid", first, "--grid", second, "--grid", third,
                     "--opens", (dt.date.today() - dt.timedelta(days=1)).isoformat(),
                     "--closes", (dt.date.today() + dt.timedelta(days=20)).isoformat())
    round_id = opened["id"]
    assert opened["period"] == "2026-Q4" and opened["status"] == "open"
    assert opened["grid_codes"] == sorted([first, second, third])
    assert opened["questions"] == ["service", "responsiveness", "resolution", "knows_worker", "comment"]
    assert round_id in [r["id"] for r in ok_json(street, "leader", "evaluation", "list")]

    # codes: HTML slips (a QR code each) for one grid, CSV for the others; never to an unusable file name
    code, _, err = gridgov(street, "planner", "evaluation", "codes", str(round_id), "--out", str(tmp_path / "s.txt"))
    assert code == 1 and ".csv or .html" in err
    assert street.scalar("SELECT count(*) FROM evaluation_codes WHERE round_id = :r", r=round_id) == 0
    base = "https://grid.example.cn"
    page = ok_json(street, "planner", "evaluation", "codes", str(round_id), "--grid", first, "--base-url", base,
                   "--out", str(tmp_path / "slips.html"))
    in_first = street.scalar("SELECT count(*) FROM households WHERE grid_code = :g", g=first)
    assert page["codes"] == in_first and page["per_grid"] == [{"grid_code": first, "codes": in_first}]
    html = (tmp_path / "slips.html").read_text(encoding="utf-8")
    assert html.count("<svg") == in_first and html.count('class="slip"') == in_first and "有效期至" in html
    urls = re.findall(r'class="url">([^<]+)<', html)
    assert len(urls) == in_first and all(
        u.startswith(f"{base}/public/evaluate?round={round_id}&amp;code=") for u in urls)
    sheet = ok_json(street, "planner", "evaluation", "codes", str(round_id), "--grid", second, "--grid", third,
                    "--base-url", base, "--out", str(tmp_path / "slips.csv"))
    with (tmp_path / "slips.csv").open(encoding="utf-8-sig") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == sheet["codes"] == street.scalar(
        "SELECT count(*) FROM households WHERE grid_code IN (:a, :b)", a=second, b=third)
    assert all(r["url"] == f"{base}/public/evaluate?round={round_id}&code={r['code']}" for r in rows)
    assert street.scalar("SELECT count(*) FROM evaluation_codes WHERE round_id = :r", r=round_id) == in_first + len(rows)
    code, _, err = gridgov(street, "planner", "evaluation", "codes", str(round_id), "--grid", first,
                           "--out", str(tmp_path / "again.csv"))
    assert code == 1 and "already issued" in err and not (tmp_path / "again.csv").exists()

    # the codes written are working one-time codes: 5 answers in the first grid, 6 in the second, 2 in the third
    def answer(code_text: str, service: int) -> None:
        evaluation.submit_response(street.app, code_text, Answers(service=service, responsiveness=4, resolution=3,
                                                                  knows_worker=True))

    for url in urls[:5]:
        answer(url.rsplit("code=", 1)[1], 5)
    second_codes = [r["code"] for r in rows if r["grid_code"] == second]
    third_codes = [r["code"] for r in rows if r["grid_code"] == third]
    for code_text in second_codes[:6]:
        answer(code_text, 4)
    for code_text in third_codes[:2]:
        answer(code_text, 1)

    refused(street, "worker-001", "worker", "view_evaluation", "evaluation", "results", str(round_id))
    results = ok_json(street, "leader", "evaluation", "results", str(round_id))
    grids = {r["grid_code"]: r for r in results["grids"]}
    assert results["min_group"] == 5
    assert grids[third]["suppressed"] and grids[third]["suppression"] == "small_group"  # 2 answers: under five
    assert grids[third]["service"] is None and grids[third]["score"] is None
    shown = [g for g in (first, second) if not grids[g]["suppressed"]]
    assert shown, "only the smallest other group may be hidden to protect the small one"
    for grid, count, service in ((first, 5, 5.0), (second, 6, 4.0)):
        if grid in shown:
            issued = street.scalar("SELECT count(*) FROM households WHERE grid_code = :g", g=grid)
            assert grids[grid]["responses"] == count and grids[grid]["issued"] == issued
            assert grids[grid]["service"] == pytest.approx(service) and grids[grid]["resolution"] == pytest.approx(3.0)
            assert grids[grid]["response_rate"] == pytest.approx(count / issued)
    code, out, _ = gridgov(street, "leader", "evaluation", "results", str(round_id))
    assert code == 0 and "suppressed" in out and third in out

    closed = ok_json(street, "planner", "evaluation", "close", str(round_id))
    assert closed["status"] == "closed"
    with pytest.raises(EvaluationCodeError):
        answer(second_codes[6], 3)


# -- spot checks -------------------------------------------------------------------------------------
def test_spotcheck_draw_record_talks_from_the_command_line(street):
    month = street.scalar("SELECT to_char(max(visited_at) AT TIME ZONE 'Asia/Shanghai', 'YYYY-MM') FROM visits")
    refused(street, "worker-001", "worker", "spot_check", "spotcheck", "draw", "--month", month)
    first = ok_json(street, "inspector", "spotcheck", "draw", "--month", month, "--per-worker", "1", "--seed", "4242")
    again = ok_json(street, "inspector", "spotcheck", "draw", "--month", month, "--per-worker", "1", "--seed", "4242")
    assert first["seed"] == again["seed"] == 4242 and first["draw_id"] != again["draw_id"]
    assert first["visit_ids"] == again["visit_ids"] and len(first["visit_ids"]) > 0  # reproduced from the seed
    other = ok_json(street, "inspector", "spotcheck", "draw", "--month", month, "--per-worker", "1", "--seed", "4243")
    assert other["visit_ids"] != first["visit_ids"]
    # stratified: every worker with visits that month is sampled, at most one random visit each
    workers = {int(r[0]) for r in street.rows(
        "SELECT DISTINCT staff_id FROM visits WHERE to_char(visited_at AT TIME ZONE 'Asia/Shanghai', 'YYYY-MM') = :m",
        m=month)}
    assert {int(k) for k in first["per_staff"]} == workers
    random_per = {}
    for item in first["items"]:
        if item["reason"] == "random":
            random_per[item["staff_id"]] = random_per.get(item["staff_id"], 0) + 1
    assert random_per and max(random_per.values()) == 1
    assert first["population"] == street.scalar(
        "SELECT count(*) FROM visits WHERE to_char(visited_at AT TIME ZONE 'Asia/Shanghai', 'YYYY-MM') = :m", m=month)
    verified = ok_json(street, "inspector", "spotcheck", "list", str(first["draw_id"]), "--verify")
    assert verified["reproduced"] and len(verified["items"]) == len(first["items"])

    item = first["items"][0]
    recorded = ok_json(street, "inspector", "spotcheck", "record", str(item["item_id"]), "--outcome", "not_visited",
                       "--method", "phone", "--note", "住户称本月无人上门")
    assert recorded["failed"] and recorded["talk_id"]
    code, _, err = gridgov(street, "inspector", "spotcheck", "record", str(item["item_id"]), "--outcome", "confirmed",
                           "--method", "door")
    assert code == 1 and "already has an outcome" in err
    draws = ok_json(street, "inspector", "spotcheck", "list")["draws"]
    assert next(d for d in draws if d["id"] == first["draw_id"])["failed"] == 1

    talks = ok_json(street, "inspector", "spotcheck", "talks", "--status", "open")
    talk = next(t for t in talks if t["id"] == recorded["talk_id"])
    assert talk["staff_id"] == item["staff_id"] and talk["outcome"] == "not_visited"
    refused(street, "worker-001", "worker", "spot_check", "spotcheck", "talks")
    leader = street.scalar("SELECT name FROM accounts WHERE staff_id = :s", s=talk["leader_id"]) or "admin"
    done = ok_json(street, leader, "spotcheck", "talks", "--done", str(talk["id"]), "--note", "已谈话提醒，要求如实走访")
    assert done["status"] == "done"
    assert street.rows("SELECT status, note FROM reminder_talks WHERE id = :t", t=talk["id"])[0] == (
        "done", "已谈话提醒，要求如实走访")
    code, _, err = gridgov(street, leader, "spotcheck", "talks", "--done", str(talk["id"]))
    assert code == 1 and "--note" in err


# -- notices -----------------------------------------------------------------------------------------
def test_notice_publish_list_receipts_from_the_command_line(street):
    from services import notices

    head, grid, worker = _head_and_worker(street)
    refused(street, worker, "worker", "publish_notice", "notice", "publish", "--kind", "policy", "--title", "x",
            "--body", "y", "--grid", grid)
    published = ok_json(street, head, "notice", "publish", "--kind", "政策宣传", "--title", "医保缴费提醒",
                        "--body", "请于月底前完成2027年度城乡居民医保缴费。", "--grid", grid)
    notice_id = published["id"]
    listed = ok_json(street, worker, "notice", "list", "--current")
    assert notice_id in [n["id"] for n in listed]
    mine = next(n for n in listed if n["id"] == notice_id)
    assert mine["kind"] == "policy" and mine["grid_codes"] == [grid] and mine["author"] == head
    receipts = ok_json(street, head, "notice", "receipts", str(notice_id))
    assert receipts["reached"] > 0 and receipts["read"] == 0
    notices.mark_read(street.app, street.login(worker), notice_id)
    after = ok_json(street, head, "notice", "receipts", str(notice_id))
    assert after["read"] == 1 and len(ok_json(street, head, "notice", "receipts", str(notice_id), "--unread")[
        "receipts"]) == after["reached"] - 1
    refused(street, worker, "worker", "publish_notice", "notice", "receipts", str(notice_id))
    code, out, _ = gridgov(street, head, "notice", "list", "--wechat")
    assert code == 0 and "医保缴费提醒" in out


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


# -- the three-in-one assessment -------------------------------------------------------------------------
def test_three_in_one_from_the_command_line(street):
    period = street.scalar("SELECT to_char(max(visited_at) AT TIME ZONE 'Asia/Shanghai', 'YYYY-MM') FROM visits")
    worker_staff = street.scalar("SELECT staff_id FROM accounts WHERE name = 'worker-001'")
    refused(street, "planner", "planner", "view_assessment", "report", "three-in-one", "--period", period)
    refused(street, "worker-001", "worker", "rate_workers", "report", "rate", str(worker_staff), "--period", period,
            "--rating", "80")
    rated = ok_json(street, "leader", "report", "rate", str(worker_staff), "--period", period, "--rating", "85",
                    "--note", "工作踏实")
    assert rated["version"] >= 1
    result = ok_json(street, "leader", "report", "three-in-one", "--period", period)
    assert result["config"]["weights"] == {"daily_points": 0.5, "evaluation": 0.3, "leader_rating": 0.2}
    assert result["config"]["thresholds"] == {"excellent": 90.0, "qualified": 75.0, "basic": 60.0}
    row = next(r for r in result["workers"] if r["staff_id"] == worker_staff)
    assert row["leader_rating"] == pytest.approx(85.0)
    breakdown = result["breakdowns"][str(worker_staff)]
    present = [c for c in breakdown["components"] if c["present"]]
    if row["total"] is not None:  # the total is the weighted sum of the present parts, less the deduction
        assert row["total"] == pytest.approx(max(0.0, sum(c["weight"] * c["scaled"] for c in present)
                                                 - breakdown["deduction"]), abs=0.01)
    weighted = ok_json(street, "leader", "report", "three-in-one", "--period", period, "--weights", "60,20,20")
    assert weighted["config"]["weights"] == {"daily_points": 0.6, "evaluation": 0.2, "leader_rating": 0.2}
    code, _, err = gridgov(street, "leader", "report", "three-in-one", "--period", period, "--weights", "60,30,20")
    assert code == 1 and "sum to" in err
    code, out, _ = gridgov(street, "leader", "report", "three-in-one", "--period", period)
    assert code == 0 and "总分 =" in out
    # publish (street-wide), then the worker sees their own published breakdown
    published = ok_json(street, "admin", "report", "three-in-one", "--period", period, "--publish")
    assert published["published"] == len(published["workers"]) > 0
    mine = ok_json(street, "worker-001", "report", "three-in-one", "--period", period)["mine"]
    assert mine is not None and mine["staff_id"] == worker_staff


# -- reference codes (feedback to residents) ----------------------------------------------------------------
def test_every_report_gets_its_own_reference_code(street, tmp_path):
    from services.incidents import report_incident
    from services.public import incident_status as public_status

    lon, lat, grid = street.rows(
        "SELECT ST_X(h.geom), ST_Y(h.geom), h.grid_code FROM households h JOIN staff_assignments s "
        "ON s.grid_code = h.grid_code JOIN accounts a ON a.staff_id = s.staff_id WHERE a.name = 'worker-001' "
        "AND s.end_date IS NULL ORDER BY h.id LIMIT 1")[0]
    one = ok_json(street, "worker-001", "incident", "report", "--lon", str(lon), "--lat", str(lat), "--category",
                  "环境卫生", "--description", "路灯不亮，张三 13912345678")
    two = ok_json(street, "worker-001", "incident", "report", "--lon", str(lon), "--lat", str(lat), "--category",
                  "环境卫生", "--description", "垃圾堆积")
    assert SHOWN.match(one["reference"]) and SHOWN.match(two["reference"]) and one["reference"] != two["reference"]
    stored = dict(street.rows("SELECT id, reference FROM incidents WHERE id IN (:a, :b)", a=one["id"], b=two["id"]))
    assert stored[one["id"]] == one["reference"].replace("-", "") and STORED.match(stored[two["id"]])
    code, out, _ = gridgov(street, "worker-001", "incident", "report", "--lon", str(lon), "--lat", str(lat),
                           "--category", "环境卫生")
    assert code == 0 and re.search(r"reference code [0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}", out)
    # a reporter who may not read incidents (a family doctor) is given the code too (in a grid of theirs)
    d_lon, d_lat = street.rows(
        "SELECT ST_X(h.geom), ST_Y(h.geom) FROM households h WHERE h.grid_code LIKE coalesce((SELECT min(g.grid_code) "
        "FROM account_grants g JOIN accounts a ON a.id = g.account_id WHERE a.name = 'doctor'), '') || '%' "
        "ORDER BY h.id LIMIT 1")[0]
    doctor = ok_json(street, "doctor", "incident", "report", "--lon", str(d_lon), "--lat", str(d_lat), "--category",
                     "环境卫生")
    assert SHOWN.match(doctor["reference"]) and set(doctor) == {"id", "reference", "status"}
    # the app's use case returns it; the public status shows the step and nothing personal, typed loosely
    reported = report_incident(street.app, street.login("worker-001"), lon=lon, lat=lat, category="环境卫生",
                               description="王五 13700001111 家门口积水")
    assert STORED.match(reported.reference) and SHOWN.match(reported.shown_reference)
    status = public_status(street.app, reported.shown_reference.lower().replace("-", " "))
    assert status.reference == reported.shown_reference and status.step == "received"
    shown = json.dumps(status.to_dict(), ensure_ascii=False)
    assert "13700001111" not in shown and "王五" not in shown and grid not in shown
    from governance.feedback import ReferenceCodeError

    from governance.feedback import new_reference

    with pytest.raises(ReferenceCodeError) as unknown:
        public_status(street.app, new_reference())
    typo = reported.reference[:-2] + ("0" if reported.reference[-2] != "0" else "1") + reported.reference[-1]
    with pytest.raises(ReferenceCodeError) as mistyped:
        public_status(street.app, typo)
    assert (unknown.value.reason, mistyped.value.reason) == ("unknown", "malformed")

    # the demo's incidents all carry codes, all different
    total, coded, distinct = street.rows("SELECT count(*), count(reference), count(DISTINCT reference) FROM incidents")[0]
    assert total == coded == distinct
    # an import gives each new incident one
    source = tmp_path / "inc.csv"
    source.write_text("事件编号,上报时间,类别,描述,状态,办结时间,经度,纬度\n"
                      f"CLI-E1,2026-01-10 09:00,环境卫生,垃圾,,,{lon},{lat}\n"
                      f"CLI-E2,2026-01-11 09:00,矛盾纠纷,噪音,已办结,2026-01-12 10:00,{lon},{lat}\n", encoding="utf-8")
    code, _, err = gridgov(street, "admin", "import", "incidents", str(source), "--crs", "4490")
    assert code == 0, err
    imported = [r[0] for r in street.rows("SELECT reference FROM incidents WHERE incident_key LIKE 'CLI-E%'")]
    assert len(imported) == 2 and all(STORED.match(r or "") for r in imported) and len(set(imported)) == 2


def test_a_clash_of_reference_codes_draws_another(street, monkeypatch):
    """The unique constraint is what guarantees different codes: a drawn code already taken is replaced."""
    import store.governance as governance_store
    from store import incident_records

    taken = street.scalar("SELECT reference FROM incidents WHERE reference IS NOT NULL ORDER BY id LIMIT 1")
    lon, lat = street.rows("SELECT ST_X(geom), ST_Y(geom) FROM households ORDER BY id LIMIT 1")[0]
    drawn = []

    def draw() -> str:  # the first two draws repeat a code in use
        drawn.append(taken if len(drawn) < 2 else incident_records.new_reference())
        return drawn[-1]

    monkeypatch.setattr(governance_store, "with_reference",
                        lambda db, write: incident_records.with_reference(db, write, draw=draw))
    with street.owner.connect() as db, db.begin() as transaction:
        _incident_id, created, reference = governance_store.report_incident_once(
            db, lon=float(lon), lat=float(lat), category="环境卫生", actor="test")
        transaction.rollback()
    assert created and len(drawn) == 3 and reference == drawn[-1] != taken and STORED.match(reference)
