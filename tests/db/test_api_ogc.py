"""OGC API – Features over a real server and the demo database, with GDAL's OAPIF driver as a real client."""

from __future__ import annotations

import json
import os
import subprocess

import pytest
import shapely
import shapely.ops
from sqlalchemy import create_engine, text

from tests.db.api_server import create_token, serve
from testdb import demo_copy

pytestmark = pytest.mark.db

CRS_4490 = "http://www.opengis.net/def/crs/EPSG/0/4490"


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
def token(server):
    return create_token(server.env, "--user", "leader-001", "--read-only")["token"]


def _micro_grids(owner) -> dict[str, shapely.Geometry]:
    with owner.connect() as db:
        rows = db.execute(text("SELECT code, ST_AsBinary(geom) FROM grid_versions WHERE level = 3 AND valid_to IS NULL"))
        return {r[0]: shapely.from_wkb(bytes(r[1])) for r in rows}


def test_landing_conformance_collections_and_paging(server, owner, token) -> None:
    grids = _micro_grids(owner)
    with server.client(token) as c:
        assert c.get("/ogc").json()["links"]
        assert "http://www.opengis.net/spec/ogcapi-features-2/1.0/conf/crs" in c.get("/ogc/conformance").json()[
            "conformsTo"]
        ids = [x["id"] for x in c.get("/ogc/collections").json()["collections"]]
        assert {"grids-level-1", "grids-level-3", "incident-counts-level-3"} <= set(ids)
        assert not any("household" in i or "resident" in i for i in ids)
        seen, url = [], "/ogc/collections/grids-level-3/items?limit=25"
        while url:
            page = c.get(url)
            assert page.headers["content-crs"] == "<http://www.opengis.net/def/crs/OGC/1.3/CRS84>"
            body = page.json()
            assert body["numberMatched"] == len(grids)
            seen += [f["id"] for f in body["features"]]
            url = next((link["href"] for link in body["links"] if link["rel"] == "next"), None)
        assert sorted(seen) == sorted(grids)
        code = sorted(grids)[0]
        plain = c.get(f"/ogc/collections/grids-level-3/items/{code}").json()
        flipped = c.get(f"/ogc/collections/grids-level-3/items/{code}", params={"crs": CRS_4490})
        assert flipped.headers["content-crs"] == f"<{CRS_4490}>"
        a = shapely.geometry.shape(plain["geometry"])
        b = shapely.geometry.shape(flipped.json()["geometry"])
        assert a.symmetric_difference(grids[code]).area < 1e-12
        assert shapely.ops.transform(lambda x, y: (y, x), b).symmetric_difference(grids[code]).area < 1e-12
        # bbox in EPSG:4490 is latitude first
        x0, y0, x1, y1 = grids[code].bounds
        lat_first = c.get("/ogc/collections/grids-level-3/items", params={
            "bbox": f"{y0},{x0},{y1},{x1}", "bbox-crs": CRS_4490, "limit": 1000}).json()
        assert code in [f["id"] for f in lat_first["features"]]
        assert len(lat_first["features"]) < len(grids)
        old = c.get("/ogc/collections/grids-level-3/items", params={"datetime": "1990-01-01"}).json()
        assert old["numberMatched"] == 0
        assert c.get("/ogc/collections/households/items").status_code == 404
        assert c.get("/ogc/collections/grids-level-3/items/000").status_code == 404
    with server.client() as anonymous:
        assert anonymous.get("/ogc/collections").status_code == 401


def _items(c, collection: str, **params) -> list[dict]:  # noqa: ANN001
    """Every feature of ``collection`` for ``params`` (following the next links)."""
    features, url, query = [], f"/ogc/collections/{collection}/items", {"limit": 500, **params}
    while url:
        page = c.get(url, params=query)
        assert page.status_code == 200, page.text
        body = page.json()
        features += body["features"]
        url, query = next((link["href"] for link in body["links"] if link["rel"] == "next"), None), None
    return features


def test_datetime_intervals_answer_every_version_valid_in_them(server, owner, token) -> None:
    """``datetime=start/end`` (OGC API – Features Part 1, open ends ``..``): every version valid at some
    moment of the interval, each as ``CODE@VERSION``; an instant answers the plan of that moment."""
    import datetime as dt

    from tests.db._cli import run

    with owner.connect() as db:
        code, wkb = db.execute(text(
            "SELECT code, ST_AsBinary(geom) FROM grids WHERE level = 3 ORDER BY code LIMIT 1")).one()
    geom = shapely.from_wkb(bytes(wkb))
    minx, _, maxx, _ = geom.bounds
    line = shapely.LineString([(minx - 0.001, geom.centroid.y), (maxx + 0.001, geom.centroid.y)]).wkt
    before_split = dt.datetime.now(dt.UTC)
    status, out, err = run(["--as", "planner", "edit", "split", code, "--line", line, "--reason", "OGC interval test",
                            "--json"], env=server.env)
    assert status == 0, err
    added = json.loads(out)["added"]
    with owner.connect() as db:
        expected_all = {f"{r[0]}@{r[1]}" for r in db.execute(text("SELECT code, version FROM grid_versions WHERE level = 3"))}
        current = {r[0] for r in db.execute(text("SELECT code FROM grid_versions WHERE level = 3 AND valid_to IS NULL"))}
        retired = {f"{r[0]}@{r[1]}" for r in db.execute(text(
            "SELECT code, version FROM grid_versions WHERE code = :c AND valid_to >= :t"), {"c": code, "t": before_split})}
    assert retired, "the split did not retire the grid's current version"
    week_ago = (dt.date.today() - dt.timedelta(days=7)).isoformat()
    with server.client(token) as c:
        everything = {f["id"] for f in _items(c, "grids-level-3", datetime="../..")}
        since = {f["id"] for f in _items(c, "grids-level-3", datetime=f"{week_ago}/..")}
        long_ago = {f["id"] for f in _items(c, "grids-level-3", datetime="../1990-01-01")}
        now = {f["id"] for f in _items(c, "grids-level-3", datetime=dt.datetime.now(dt.UTC).isoformat())}
        then = {f["id"] for f in _items(c, "grids-level-3", datetime=before_split.isoformat())}
        bad = c.get("/ogc/collections/grids-level-3/items", params={"datetime": "last week/.."})
    assert everything == expected_all
    assert retired <= since and {a.split("@")[0] for a in since} >= set(added), \
        "the split grid's old and new versions are all valid in an interval spanning the split"
    assert long_ago == set()
    assert now == current and code not in now and set(added) <= now
    assert code in then and not set(added) & then
    assert bad.status_code == 400 and bad.json()["error"] == "bad_parameter"


def test_cameras_are_a_collection_in_the_accounts_scope_without_stream_urls(server, owner, tmp_path) -> None:
    """Cameras (雪亮工程) imported with ``gridgov import cameras`` are published as ``cameras``: each in
    its grid, seen by the accounts whose scope covers that grid; the stream URL (it carries
    credentials) is never a property."""
    from tests.db._cli import run

    with owner.connect() as db:
        own = db.execute(text(
            "SELECT g.grid_code FROM account_grants g JOIN accounts a ON a.id = g.account_id "
            "WHERE a.name = 'worker-001' ORDER BY g.grid_code LIMIT 1")).scalar_one()
        points = db.execute(text(
            "SELECT code, ST_X(ST_PointOnSurface(geom)), ST_Y(ST_PointOnSurface(geom)) FROM grids "
            "WHERE level = 3 AND (code = :own OR left(code, 12) <> left(:own, 12)) ORDER BY code = :own DESC, code "
            "LIMIT 3"), {"own": own}).all()
    assert points[0][0] == own and len(points) == 3
    rows = ["id,name,type,status,stream_url,lon,lat"] + [
        f"OGC-CAM-{i},路口{i}号,球机,在线,rtsp://user:secret@10.0.0.{i}/live,{x},{y}" for i, (_, x, y) in enumerate(points)]
    path = tmp_path / "cameras.csv"
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    status, out, err = run(["--as", "admin", "import", "cameras", str(path), "--crs", "4490", "--json"], env=server.env)
    assert status == 0, err
    worker = create_token(server.env, "--user", "worker-001")["token"]
    admin = create_token(server.env, "--user", "admin")["token"]
    seen = {}
    for name, tok in (("worker", worker), ("admin", admin)):
        with server.client(tok) as c:
            assert "cameras" in [x["id"] for x in c.get("/ogc/collections").json()["collections"]]
            seen[name] = {f["id"]: f for f in _items(c, "cameras") if f["id"].startswith("OGC-CAM-")}
            one = c.get("/ogc/collections/cameras/items/OGC-CAM-0")
            assert one.status_code == 200 and one.json()["properties"]["grid_code"] == own
    assert set(seen["admin"]) == {"OGC-CAM-0", "OGC-CAM-1", "OGC-CAM-2"}
    assert set(seen["worker"]) == {"OGC-CAM-0"}, "a worker's token saw cameras of other grids"
    assert {f["properties"]["grid_code"] for f in seen["admin"].values()} == {p[0] for p in points}
    for feature in seen["admin"].values():
        assert "stream_url" not in feature["properties"] and "secret" not in json.dumps(feature)
        assert feature["properties"]["type"] == "dome" and feature["properties"]["status"] == "online"
    with server.client(worker) as c:
        assert c.get("/ogc/collections/cameras/items/OGC-CAM-1").status_code == 404


def test_incident_counts_follow_the_accounts_scope(server, owner) -> None:
    worker = create_token(server.env, "--user", "worker-001")["token"]
    admin = create_token(server.env, "--user", "admin")["token"]
    with owner.connect() as db:
        total = db.execute(text("SELECT count(*) FROM incidents WHERE grid_code IS NOT NULL")).scalar_one()
    counts = {}
    for name, tok in (("worker", worker), ("admin", admin)):
        with server.client(tok) as c:
            body = c.get("/ogc/collections/incident-counts-level-3/items", params={"limit": 1000}).json()
        counts[name] = sum(f["properties"]["incidents"] for f in body["features"])
    assert counts["admin"] == total
    assert 0 < counts["worker"] < total


def test_gdal_ogr_reads_every_micro_grid(server, owner, token, tmp_path) -> None:
    grids = _micro_grids(owner)
    env = {**os.environ, "GDAL_HTTP_HEADERS": f"Authorization: Bearer {token}"}
    listing = subprocess.run(["ogrinfo", "-ro", "-q", f"OAPIF:{server.url}/ogc"], env=env, capture_output=True,
                             text=True, timeout=120)
    assert listing.returncode == 0, listing.stderr
    assert "grids-level-3" in listing.stdout and "incident-counts-level-1" in listing.stdout
    out = tmp_path / "grids.geojson"
    copied = subprocess.run(["ogr2ogr", "-f", "GeoJSON", str(out), f"OAPIF:{server.url}/ogc", "grids-level-3"],
                            env=env, capture_output=True, text=True, timeout=300)
    assert copied.returncode == 0, copied.stderr
    features = json.loads(out.read_text())["features"]
    assert sorted(f["properties"]["code"] for f in features) == sorted(grids)
    for f in features:
        shape = shapely.geometry.shape(f["geometry"])
        assert shape.symmetric_difference(grids[f["properties"]["code"]]).area < 1e-10
    refused = subprocess.run(["ogrinfo", "-ro", "-q", f"OAPIF:{server.url}/ogc"],
                             env={**os.environ, "GDAL_HTTP_HEADERS": "Authorization: Bearer wrong"},
                             capture_output=True, text=True, timeout=60)
    assert refused.returncode != 0


def test_bench_api_point_runs_at_small_size(server) -> None:
    """bench/api_point.py works (2 clients, 1 s); the real measurement is the integrator's, on an idle machine."""
    import sys
    from pathlib import Path

    token = create_token(server.env, "--user", "worker-001", "--rate", "10000000")["token"]
    root = Path(__file__).resolve().parents[2]
    done = subprocess.run([sys.executable, str(root / "bench" / "api_point.py"), "--url", server.url, "--token", token,
                           "--clients", "2", "--seconds", "1"], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    header, _, row = done.stdout.strip().splitlines()
    assert "requests/s" in header and int(row.split("|")[3]) > 0 and row.split("|")[8].strip() == "0"
