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
