"""One server, one port: ``streamlit run serve.py`` (what ``gridgov app`` runs) serves the UI and the API."""

from __future__ import annotations

import httpx
import pytest

from tests.db.api_server import create_token
from tests.e2e.harness import running_app
from testdb import database_env, demo_copy

pytestmark = pytest.mark.db


def test_the_app_server_serves_ui_api_open311_and_ogc(throwaway_databases, demo_data) -> None:
    url = demo_copy(throwaway_databases, demo_data)
    token = create_token(database_env(url, actor=None), "--user", "worker-001")["token"]
    auth = {"Authorization": f"Bearer {token}"}
    with running_app(url, log_name="api_serve.log") as base, httpx.Client(base_url=base, timeout=60) as c:
        ui = c.get("/")
        doc = c.get("/api/openapi.json")
        refused = c.get("/api/area/430603003001")
        area = c.get("/api/area/430603003001", headers=auth)
        services = c.get("/api/open311/v2/services.json", headers=auth)
        landing = c.get("/ogc", headers=auth)
        collections = c.get("/ogc/collections", headers=auth)
        missing = c.get("/api/nothing-here", headers=auth)
    assert ui.status_code == 200 and "<html" in ui.text.lower()
    assert doc.status_code == 200 and "/api/point/{crs}/{coords}" in doc.json()["paths"]
    assert refused.status_code == 401 and refused.json()["error"] == "unauthorized"
    assert area.status_code == 200 and area.json()["id"] == "430603003001"
    assert services.status_code == 200 and services.json()[0]["service_code"]
    assert landing.status_code == 200 and landing.json()["links"]
    assert collections.status_code == 200 and collections.json()["collections"]
    assert missing.status_code == 404 and missing.json()["error"] == "not_found"
