"""The HTTP API over a real server and the real demo database: tokens, the gate, MapIt, Open311.

A uvicorn server on 127.0.0.1 serves the routes ``serve.py`` mounts (:mod:`tests.db.api_server`);
tokens come from ``gridgov token create``; every answer is checked against the database as the
owner sees it (row-level security decides what each token may see).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import time
import xml.etree.ElementTree as ET

import numpy as np
import pytest
import shapely
from sqlalchemy import create_engine, text

from tests.db._cli import run
from tests.db.api_server import create_token, serve
from testdb import demo_copy

pytestmark = pytest.mark.db


@pytest.fixture(scope="module")
def server(throwaway_databases, demo_data):
    url = demo_copy(throwaway_databases, demo_data)
    with serve(url) as s:
        yield s


@pytest.fixture(scope="module")
def owner(server):
    engine = create_engine(server.owner_url)
    yield engine
    engine.dispose()


@pytest.fixture(scope="module")
def tokens(server):
    env = server.env
    return {
        "admin": create_token(env, "--user", "admin", "--label", "tests")["token"],
        "worker": create_token(env, "--user", "worker-001")["token"],
        "leader": create_token(env, "--user", "leader-001", "--read-only", "--expires", "1")["token"],
    }


def _audit_calls(owner, path: str, at_least: int = 1) -> list[dict]:
    """The audit entries of calls to ``path`` (written once the answer is sent: waits up to 10 s for them)."""
    deadline = time.monotonic() + 10
    while True:
        with owner.connect() as db:
            found = [r[0] for r in db.execute(text(
                "SELECT details FROM audit_log WHERE action = 'api_call' AND details->>'path' = :p ORDER BY id"),
                {"p": path})]
        if len(found) >= at_least or time.monotonic() > deadline:
            return found
        time.sleep(0.1)


# -- tokens and the gate -----------------------------------------------------------------------------------
def test_serve_mounts_the_api_beside_the_ui() -> None:
    import serve as serve_module

    paths = {getattr(r, "path", None) for r in serve_module._routes()}
    assert {"/login", "/api", "/ogc", "/api/openapi.json"} <= paths


def test_token_is_stored_hashed_shown_once_listed_and_revoked(server, owner) -> None:
    made = create_token(server.env, "--user", "worker-002", "--read-only", "--expires", "2", "--label", "hotline")
    token = made["token"]
    with owner.connect() as db:
        row = db.execute(text("SELECT token_hash, read_only, expires_at FROM sessions WHERE id = :i"),
                         {"i": made["id"]}).one()
    assert bytes(row.token_hash) == hashlib.sha256(token.encode()).digest()
    assert row.read_only
    assert dt.timedelta(days=1, hours=23) < row.expires_at - dt.datetime.now(dt.UTC) <= dt.timedelta(days=2)
    code, listed, err = run(["token", "list"], env=server.env)
    assert code == 0, err
    assert token not in listed and "hotline" in listed and "read-only" in listed
    with server.client(token) as c:
        assert c.get("/api/area/430603003001").status_code == 200
        code, out, err = run(["token", "revoke", str(made["id"])], env=server.env)
        assert code == 0, err
        refused = c.get("/api/area/430603003001")
    assert refused.status_code == 401
    assert refused.headers["www-authenticate"].startswith("Bearer")


def test_unauthenticated_calls_get_401_in_the_callers_language_and_are_audited(server, owner) -> None:
    with server.client() as c:
        zh = c.get("/api/point/4490/113.1,29.35")
        en = c.get("/api/point/4490/113.1,29.35", headers={"Accept-Language": "en-GB,en;q=0.9,zh;q=0.5"})
        bad = c.get("/api/point/4490/113.1,29.35", headers={"Authorization": "Bearer not-a-token"})
    assert zh.status_code == en.status_code == bad.status_code == 401
    assert zh.json()["error"] == "unauthorized" and "令牌" in zh.json()["message"]
    assert en.json()["error"] == "unauthorized" and en.json()["message"].startswith("A valid access token")
    calls = _audit_calls(owner, "/api/point/4490/113.1,29.35", 3)
    assert [c["status"] for c in calls[-3:]] == [401, 401, 401]
    assert calls[-1]["refused"] == "unauthenticated"


def test_every_call_is_audited_as_the_account(server, owner, tokens) -> None:
    with server.client(tokens["worker"]) as c:
        assert c.get("/api/area/430603003002", params={"date": "2026-11-30"}).status_code == 200
    [entry] = _audit_calls(owner, "/api/area/430603003002")
    assert entry["query"] == "date=2026-11-30"
    assert entry["status"] == 200 and entry["method"] == "GET"
    with owner.connect() as db:
        actor = db.execute(text(
            "SELECT account_name FROM audit_log WHERE action = 'api_call' AND details->>'query' = 'date=2026-11-30'")).scalar_one()
    assert actor == "worker-001"


def test_rate_limit_answers_429_with_retry_after(server) -> None:
    token = create_token(server.env, "--user", "worker-003", "--rate", "2")["token"]
    with server.client(token) as c:
        answers = [c.get("/api/area/430603003001") for _ in range(3)]
    assert [a.status_code for a in answers[:2]] == [200, 200]
    assert answers[2].status_code == 429
    assert int(answers[2].headers["retry-after"]) >= 1
    assert answers[2].json()["error"] == "rate_limited"


def test_tiles_pass_the_same_gate_as_the_api(server, owner, tokens) -> None:
    """/tiles/ is behind the API's gate: a bearer token opens it, nothing else does (a JSON 401 in
    the caller's language, audited); a served tile is not audited call by call (the tile service
    writes one entry per account and minute)."""
    from gis.tiles import tile_at

    tile = tile_at(113.26, 29.48, 14)
    path = f"/tiles/grids-3/{tile.z}/{tile.x}/{tile.y}.mvt"
    with server.client() as c:
        refused = c.get(path)
        c.cookies.set("gridgov_session", "not-a-session")
        forged = c.get(path)
    assert refused.status_code == forged.status_code == 401
    assert refused.json()["error"] == "unauthorized" and "登录" in refused.json()["message"]
    assert [e["status"] for e in _audit_calls(owner, path, 2)[-2:]] == [401, 401]
    with server.client(tokens["worker"]) as c:
        served = c.get(path)
        unknown = c.get(f"/tiles/no-such-layer/{tile.z}/{tile.x}/{tile.y}.mvt")
        nowhere = c.get("/tiles/grids-3/whatever")
    assert served.status_code == 200 and served.headers["content-type"] == "application/vnd.mapbox-vector-tile"
    assert served.content, "the tile over the demo street is empty"
    assert unknown.status_code == 404 and unknown.json()["error"] == "not_found"
    assert nowhere.status_code == 404 and nowhere.json()["error"] == "not_found"
    time.sleep(0.5)
    assert len(_audit_calls(owner, path, 2)) == 2, "a served tile was audited call by call"
    with owner.connect() as db:
        tiles_entries = db.execute(text(
            "SELECT count(*) FROM audit_log WHERE action = 'tiles' AND account_name = 'worker-001'")).scalar_one()
    assert tiles_entries >= 1


def test_openapi_describes_every_route(server) -> None:
    from api.routes import routes

    with server.client() as c:
        doc = c.get("/api/openapi.json").json()
    assert doc["openapi"].startswith("3.")
    described = set(doc["paths"])
    mounted = set()
    for route in routes():
        for inner in getattr(getattr(route.app, "app", None), "routes", []) if hasattr(route, "app") else []:
            mounted.add(route.path + inner.path.rstrip("/"))
    mounted = {p.replace("{collection}/items/{fid:path}", "{collection}/items/{fid}") for p in mounted}
    mounted = {"/ogc" if p == "/ogc" else p for p in mounted}
    assert mounted and mounted <= described, mounted - described


def test_unknown_path_is_a_json_404(server, tokens) -> None:
    with server.client(tokens["admin"]) as c:
        answer = c.get("/api/no-such-thing")
    assert answer.status_code == 404 and answer.json()["error"] == "not_found"


# -- MapIt: point and area -----------------------------------------------------------------------------
def _plan(owner):
    from store.grids import load_plan

    with owner.connect() as db:
        return load_plan(db)


def test_point_lookup_is_the_bulk_assignment_rule_on_random_points(server, owner, tokens) -> None:
    from boundaries.assign import assign_to_leaves
    from store.grids import assign_points_at

    plan = _plan(owner)
    x0, y0, x1, y1 = plan.total_bounds
    rng = np.random.default_rng(15)
    # inside, on the edge of the coverage and outside it; plus shared vertices of the plan
    xs = rng.uniform(x0 - 0.002, x1 + 0.002, 60)
    ys = rng.uniform(y0 - 0.002, y1 + 0.002, 60)
    vertices = shapely.get_coordinates(shapely.get_exterior_ring(
        shapely.get_geometry(plan.geometry.to_numpy()[plan["level"].to_numpy() == 3][:5], 0)))[::3]
    points = [shapely.Point(x, y) for x, y in [*zip(xs, ys), *map(tuple, vertices)]]
    pure = assign_to_leaves(__import__("geopandas").GeoSeries(points, crs=4490), plan)
    with owner.connect() as db:
        bulk = assign_points_at(db, points)
    inside = outside = 0
    with server.client(tokens["worker"]) as c:
        for p, expected, by_db in zip(points, pure, bulk):
            assert expected == by_db
            answer = c.get(f"/api/point/4490/{p.x!r},{p.y!r}")
            assert answer.status_code == 200, answer.text
            body = answer.json()
            leaves = [k for k, v in body.items() if k != "nearest" and v["type"] == "L3"]
            if expected is None:
                outside += 1
                assert leaves == [] and body["nearest"]["distance_m"] > 0
            else:
                inside += 1
                assert leaves == [expected]
                assert set(body) == {expected, expected[:15], expected[:12]}
                assert body[expected]["parent_area"] == expected[:15]
                assert body[expected[:12]]["codes"] == {"gridgov": expected[:12], "stats": expected[:12]}
                assert body[expected]["generation"] >= 1 and "nearest" not in body
    assert inside > 20 and outside > 5


def test_point_in_other_coordinate_systems_and_filters(server, owner, tokens) -> None:
    from gis.crs import wgs84_to_bd09, wgs84_to_gcj02

    plan = _plan(owner)
    leaf = plan[plan["level"] == 3].iloc[7]
    inner = shapely.point_on_surface(leaf.geometry)
    gx, gy = wgs84_to_gcj02([inner.x], [inner.y])
    bx, by = wgs84_to_bd09([inner.x], [inner.y])
    with server.client(tokens["worker"], **{"Accept-Language": "en"}) as c:
        for crs, x, y in (("4490", inner.x, inner.y), ("4326", inner.x, inner.y),
                          ("gcj02", gx[0], gy[0]), ("bd09", bx[0], by[0])):
            body = c.get(f"/api/point/{crs}/{x},{y}").json()
            assert leaf["code"] in body, (crs, body)
        # the shifted coordinates taken as WGS 84 land hundreds of metres away: the conversion is applied
        assert shapely.Point(gx[0], gy[0]).distance(inner) > 0.002
        only = c.get(f"/api/point/4490/{inner.x},{inner.y}", params={"type": "L1,L3"}).json()
        assert sorted(only) == sorted([leaf["code"], leaf["code"][:12]])
        assert only[leaf["code"]]["type_name"] == "Micro-grid"
        before = c.get(f"/api/point/4490/{inner.x},{inner.y}", params={"date": "1990-01-01"}).json()
        assert leaf["code"] not in before
        bad = c.get("/api/point/4490/abc"), c.get("/api/point/xyz/1,2"), c.get(
            f"/api/point/4490/{inner.x},{inner.y}", params={"date": "31/12/2025"})
    assert [b.status_code for b in bad] == [400, 400, 400]
    assert [b.json()["error"] for b in bad] == ["bad_point", "bad_crs", "bad_date"]


def test_area_children_geometry_and_geojson(server, owner, tokens) -> None:
    from gis.measure import area_m2

    plan = _plan(owner).set_index("code")
    community = "430603003001"
    kids = sorted(plan.index[plan["parent_code"] == community])
    with server.client(tokens["leader"]) as c:
        one = c.get(f"/api/area/{community}").json()
        children = c.get(f"/api/area/{community}/children").json()
        geometry = c.get(f"/api/area/{community}/geometry").json()
        feature = c.get(f"/api/area/{community}.geojson")
        missing = c.get("/api/area/430603003099")
    assert one["name"] == plan.loc[community, "name"] and one["type"] == "L1"
    assert sorted(children) == kids and all(v["parent_area"] == community for v in children.values())
    expected = float(area_m2([plan.loc[community].geometry])[0])
    assert geometry["area"] == pytest.approx(expected, rel=1e-6)
    assert feature.headers["content-type"].startswith("application/geo+json")
    shape = shapely.geometry.shape(feature.json()["geometry"])
    assert shape.symmetric_difference(plan.loc[community].geometry).area < 1e-12
    assert missing.status_code == 404 and missing.json()["error"] == "not_found"
    assert "未找到" in missing.json()["message"]


# -- Open311 --------------------------------------------------------------------------------------------------
def test_open311_services_in_json_and_xml(server, tokens) -> None:
    from governance.vocab import INCIDENT_CATEGORY_TERMS

    with server.client(tokens["worker"]) as c:
        services = c.get("/api/open311/v2/services.json").json()
        xml = ET.fromstring(c.get("/api/open311/v2/services.xml").content)
        code = services[0]["service_code"]
        definition = c.get(f"/api/open311/v2/services/{code}.json").json()
        unknown = c.get("/api/open311/v2/services/nope.json")
    assert [s["service_code"] for s in services] == list(INCIDENT_CATEGORY_TERMS.codes)
    assert services[0]["service_name"] == INCIDENT_CATEGORY_TERMS.label(code, "zh")
    assert {"group", "metadata", "type"} <= set(services[0])
    assert xml.tag == "services" and [s.findtext("service_code") for s in xml.findall("service")] == [
        s["service_code"] for s in services]
    assert definition["service_code"] == code and {a["code"] for a in definition["attributes"]} >= {"urgency"}
    assert unknown.status_code == 404


def test_open311_post_files_an_incident_assigned_to_the_grid(server, owner, tokens) -> None:
    from store.grids import assign_points_at

    plan = _plan(owner)
    leaf = plan[plan["level"] == 3].iloc[3]
    p = shapely.point_on_surface(leaf.geometry)
    with owner.connect() as db:
        [expected] = assign_points_at(db, [p])
    form = {"service_code": "sanitation", "lat": str(p.y), "long": str(p.x), "description": "楼道堆放杂物",
            "attribute[urgency]": "urgent", "email": "caller@example.org", "phone": "13800001234",
            "first_name": "张", "media_url": "https://example.org/p.jpg"}
    with server.client(tokens["admin"]) as c:
        made = c.post("/api/open311/v2/requests.json", data=form)
        assert made.status_code == 201, made.text
        rid = made.json()[0]["service_request_id"]
        reference = made.json()[0]["reference"]  # the reporter's code for the public status page (an extension)
        one = c.get(f"/api/open311/v2/requests/{rid}.json")
        xml = c.get(f"/api/open311/v2/requests/{rid}.xml")
        listed = c.get("/api/open311/v2/requests.json", params={"status": "open", "service_code": "sanitation"})
    request = one.json()[0]
    assert request["status"] == "open" and request["extended_attributes"]["state"] == "reported"
    assert request["extended_attributes"]["grid_code"] == expected
    assert expected in request["agency_responsible"] and "第 1/7 步" in request["status_notes"]
    assert request["requested_datetime"].endswith("+08:00")
    assert request["media_url"] == "https://example.org/p.jpg"
    assert rid in [r["service_request_id"] for r in listed.json()]
    for text_ in (one.text, xml.text, listed.text):
        assert "caller@example.org" not in text_ and "13800001234" not in text_
    assert ET.fromstring(xml.content).find("request/service_request_id").text == rid
    with owner.connect() as db:
        row = db.execute(text("SELECT i.status, i.grid_code, i.deadline, c.email, c.phone, s.attributes FROM incidents i "
                              "JOIN incident_contacts c ON c.incident_id = i.id "
                              "JOIN incident_submissions s ON s.incident_id = i.id WHERE i.id = :i"),
                         {"i": int(rid)}).one()
        audited = db.execute(text("SELECT count(*) FROM audit_log WHERE object_type = 'incidents' "
                                  "AND :i = ANY(object_ids)"), {"i": rid}).scalar_one()
    assert (row.status, row.grid_code, row.email, row.phone) == ("reported", expected, "caller@example.org",
                                                                 "13800001234")
    assert row.attributes == {"urgency": "urgent"} and audited >= 1
    with owner.connect() as db:
        stored = db.execute(text("SELECT reference FROM incidents WHERE id = :i"), {"i": int(rid)}).scalar_one()
    assert re.fullmatch(r"[0-9A-HJKMNP-TV-Z]{4}(-[0-9A-HJKMNP-TV-Z]{4}){2}", reference)
    assert stored == reference.replace("-", "") and reference in made.json()[0]["service_notice"]
    expected_at = request["expected_datetime"]
    assert (expected_at and dt.datetime.fromisoformat(expected_at)) == (row.deadline and row.deadline.replace(microsecond=0))


def test_open311_refusals(server, owner, tokens) -> None:
    with owner.connect() as db:
        before = db.execute(text("SELECT count(*) FROM incidents")).scalar_one()
    with server.client(tokens["leader"]) as c:
        read_only = c.post("/api/open311/v2/requests.json", data={"service_code": "sanitation", "lat": "29.35",
                                                                  "long": "113.1"})
    with server.client(tokens["admin"], **{"Accept-Language": "en"}) as c:
        no_place = c.post("/api/open311/v2/requests.json", data={"service_code": "sanitation"})
        bad_code = c.post("/api/open311/v2/requests.json", data={"service_code": "nope", "lat": "1", "long": "2"})
        bad_attr = c.post("/api/open311/v2/requests.xml", data={"service_code": "sanitation", "lat": "29.35",
                                                                "long": "113.1", "attribute[urgency]": "panic"})
    assert read_only.status_code == 403 and read_only.json()[0]["error"] == "read_only"
    assert no_place.status_code == 400 and no_place.json()[0]["error"] == "location_needed"
    assert bad_code.status_code == 400 and bad_code.json()[0]["error"] == "unknown_service"
    assert bad_attr.status_code == 400 and ET.fromstring(bad_attr.content).find("error/error").text == "bad_attribute"
    with owner.connect() as db:
        assert db.execute(text("SELECT count(*) FROM incidents")).scalar_one() == before


def test_open311_requests_out_of_scope_are_404(server, owner, tokens) -> None:
    with owner.connect() as db:
        grants = [r[0] for r in db.execute(text(
            "SELECT g.grid_code FROM account_grants g JOIN accounts a ON a.id = g.account_id WHERE a.name = 'worker-001'"))]
        assert grants
        inside = db.execute(text("SELECT id FROM incidents WHERE grid_code LIKE ANY(:p) ORDER BY id LIMIT 1"),
                            {"p": [g + "%" for g in grants]}).scalar_one()
        outside = db.execute(text("SELECT id FROM incidents WHERE NOT grid_code LIKE ANY(:p) ORDER BY id LIMIT 1"),
                             {"p": [g + "%" for g in grants]}).scalar_one()
    with server.client(tokens["worker"]) as c:
        mine = c.get(f"/api/open311/v2/requests/{inside}.json")
        theirs = c.get(f"/api/open311/v2/requests/{outside}.json")
        listed = c.get("/api/open311/v2/requests.json", params={"start_date": "2000-01-01T00:00:00Z"}).json()
    with server.client(tokens["admin"]) as c:
        admin_sees = c.get(f"/api/open311/v2/requests/{outside}.json")
    assert mine.status_code == 200 and admin_sees.status_code == 200
    assert theirs.status_code == 404 and theirs.json()[0]["error"] == "not_found"
    assert listed and all(r["extended_attributes"]["grid_code"].startswith(tuple(grants)) for r in listed)
