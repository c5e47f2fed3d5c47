"""QGIS (Debian's python3-qgis, headless) loads GridGov's grids over the OGC API and, as a database
login of a read-only account, straight from PostGIS; both give every micro-grid."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest
from sqlalchemy import create_engine, make_url, text

from tests.db.api_server import create_token, serve
from testdb import demo_copy

pytestmark = pytest.mark.db

CLIENT = Path(__file__).with_name("qgis_client.py")
ARTIFACTS = Path(__file__).resolve().parents[2] / "var" / "artifacts"


def test_qgis_loads_the_ogc_layer_and_the_postgis_layer(throwaway_databases, demo_data) -> None:
    from gis.settings import Settings
    from store.engine import local_cluster

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    url = demo_copy(throwaway_databases, demo_data)
    owner = create_engine(url)
    with owner.connect() as db:
        codes = sorted(r[0] for r in db.execute(text(
            "SELECT code FROM grid_versions WHERE level = 3 AND valid_to IS NULL")))
    with serve(url) as server:
        token = create_token(server.env, "--user", "leader-001", "--read-only")["token"]
        login = create_token(server.env, "--user", "leader-001", "--database", "--expires", "1")
        if not login["role_created"]:  # the owner may not create roles: what an administrator would run
            su = create_engine(local_cluster(Settings.from_env()).url(make_url(url).database, role="superuser"))
            with su.begin() as db:
                for statement in login["sql"]:
                    db.exec_driver_sql(statement)
            su.dispose()
        env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "OGC_URL": f"{server.url}/ogc", "OGC_TOKEN": token,
               "PG_HOST": str(login["host"]), "PG_PORT": str(login["port"]), "PG_DB": login["database"],
               "PG_USER": login["role"], "PG_PASSWORD": login["password"],
               "QGIS_RENDER_PNG": str(ARTIFACTS / "qgis_postgis_grids.png")}
        done = subprocess.run(["/usr/bin/python3", str(CLIENT)], env=env, capture_output=True, text=True, timeout=300)
    owner.dispose()
    assert done.returncode == 0, done.stderr[-2000:]
    [line] = [x for x in done.stdout.splitlines() if x.startswith("RESULT ")]
    result = json.loads(line[len("RESULT "):])
    assert result["oapif_valid"] and result["oapif_codes"] == codes and result["oapif_count"] == len(codes)
    assert result["pg_valid"] and result["pg_codes"] == codes and result["pg_count"] == len(codes)
    assert result["png_saved"]
