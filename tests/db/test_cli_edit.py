"""Issue 6 CLI mirror: gridgov edit split/merge/transfer with --dry-run, history, rollback, validate."""

from __future__ import annotations

import json

import pytest
import shapely
from sqlalchemy import create_engine, text

from etl.cli import main


@pytest.fixture()
def demo_url(throwaway_databases, demo_data, monkeypatch):
    """A committed copy of the demo in its own database, used through DATABASE_URL."""
    from etl.demo import load_demo
    from gis.settings import get_settings

    url = throwaway_databases.create()
    engine = create_engine(url)
    with engine.begin() as conn:
        load_demo(conn, demo_data)
    engine.dispose()
    monkeypatch.setenv("DATABASE_URL", url)
    get_settings.cache_clear()
    yield url
    get_settings.cache_clear()


def _counts(url: str) -> dict[str, int]:
    engine = create_engine(url)
    with engine.connect() as conn:
        out = {t: conn.execute(text(f"SELECT count(*) FROM {t}")).scalar() for t in
               ("grids", "households", "incidents", "changesets", "grid_versions")}
        out["assigned"] = conn.execute(text("SELECT count(*) FROM households WHERE grid_code IS NOT NULL")).scalar()
    engine.dispose()
    return out


def _split_line(url: str, code: str) -> str:
    engine = create_engine(url)
    with engine.connect() as conn:
        wkb = conn.execute(text("SELECT ST_AsBinary(geom) FROM grids WHERE code = :c"), {"c": code}).scalar()
    engine.dispose()
    geom = shapely.from_wkb(bytes(wkb))
    minx, miny, maxx, maxy = geom.bounds
    y = geom.centroid.y
    return shapely.LineString([(minx - 0.001, y), (maxx + 0.001, y)]).wkt


def test_split_dry_run_save_history_rollback(demo_url, capsys) -> None:
    code = "430603003001001001"
    before = _counts(demo_url)
    line = _split_line(demo_url, code)

    assert main(["edit", "split", code, "--line", line, "--dry-run"]) == 0
    preview = json.loads(capsys.readouterr().out)
    assert preview["can_save"] and preview["retired"] == [code] and len(preview["added"]) >= 2
    assert all(c.startswith(code[:15]) and len(c) == 18 for c in preview["added"])
    assert _counts(demo_url) == before, "a dry run wrote something"
    moved_preview = sum(f["households"] for f in preview["impact"]["flows"])

    assert main(["edit", "split", code, "--line", line]) == 2  # no reason: refused
    assert "--reason" in capsys.readouterr().err

    assert main(["edit", "split", code, "--line", line, "--reason", "new estate", "--author", "planner", "--json"]) == 0
    saved = json.loads(capsys.readouterr().out)
    assert sum(m["count"] for m in saved["households_moved"]) == moved_preview
    after = _counts(demo_url)
    assert after["households"] == before["households"] and after["assigned"] == before["assigned"]
    assert after["grids"] == before["grids"] + len(preview["added"]) - 1

    assert main(["validate", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["ok"] is True

    assert main(["history", code, "--json"]) == 0
    history = json.loads(capsys.readouterr().out)
    assert history[0]["id"] == saved["changeset_id"] and history[0]["reason"] == "new estate"

    assert main(["resolve", code, "--json"]) == 0
    assert sorted(json.loads(capsys.readouterr().out)["current"]) == sorted(preview["added"])

    assert main(["rollback", str(saved["changeset_id"]), "--json"]) == 0
    capsys.readouterr()
    restored = _counts(demo_url)
    assert restored["grids"] == before["grids"] and restored["assigned"] == before["assigned"]
    assert main(["lookup", "--code", code, "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["code"] == code
    # The split-off codes are retired now and never come back.
    assert main(["lookup", "--code", preview["added"][0]]) == 1
    assert "retired" in capsys.readouterr().err


def test_merge_refused_for_non_neighbours(demo_url, capsys) -> None:
    before = _counts(demo_url)
    assert main(["edit", "merge", "430603003001001001", "430603003201004001", "--reason", "x"]) == 1
    err = capsys.readouterr().err
    assert "refused" in err and "Traceback" not in err
    assert _counts(demo_url) == before
