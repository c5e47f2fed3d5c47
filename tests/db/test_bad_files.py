"""Bad files through the CLI: each exits 1, names the broken rule, and leaves the database as it was.

Every test works on a fresh migrated database holding a small valid plan (one community,
one level-2 grid, four micro-grids of 0.01° × 0.01° near Changsha, EPSG:4490) and a few
households. "As it was" means: the row count of every table in the ``public`` schema and an
md5 checksum of every grid's code, version and geometry (EWKB) are identical before and after.
"""

from __future__ import annotations

from testdb import use_database, database_env

import json
import os
import signal
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from sqlalchemy.engine import make_url
from sqlalchemy import Engine, create_engine, text

from tests.db._cli import command

pytestmark = pytest.mark.db

PROJECT_ROOT = Path(__file__).resolve().parents[2]
L1 = "430104001001"
L2 = L1 + "001"
MICRO = [L2 + f"{i:03d}" for i in (1, 2, 3, 4)]
COMMUNITY = shapely.box(112.90, 28.20, 112.92, 28.22)
QUADRANTS = [  # SW, SE, NW, NE
    shapely.box(112.90, 28.20, 112.91, 28.21), shapely.box(112.91, 28.20, 112.92, 28.21),
    shapely.box(112.90, 28.21, 112.91, 28.22), shapely.box(112.91, 28.21, 112.92, 28.22),
]


def _plan(micro: list[shapely.Geometry] | None = None, *, codes: list[str] | None = None) -> gpd.GeoDataFrame:
    micro = QUADRANTS if micro is None else micro
    codes = MICRO if codes is None else codes
    return gpd.GeoDataFrame(
        {"网格编码": [L1, L2, *codes], "网格名称": ["桃子湖社区", "第一网格", *[f"微网格{i + 1}" for i in range(len(codes))]]},
        geometry=[COMMUNITY, COMMUNITY, *micro], crs=4490,
    )


def _write(frame: gpd.GeoDataFrame, path: Path) -> Path:
    frame.to_file(path, driver="GPKG" if path.suffix == ".gpkg" else None)
    return path


def _snapshot(engine: Engine) -> dict[str, object]:
    """Row counts of every public table plus a checksum of the grids' geometries."""
    with engine.connect() as conn:
        tables = conn.execute(text(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public' AND tablename <> 'spatial_ref_sys' "
            # a command's own login session and the audit trail of its attempt are not data
            "AND tablename NOT IN ('sessions', 'audit_log') ORDER BY tablename")).scalars().all()
        state: dict[str, object] = {t: conn.execute(text(f'SELECT count(*) FROM "{t}"')).scalar_one() for t in tables}
        state["grids.md5"] = conn.execute(text(
            "SELECT md5(coalesce(string_agg(code || ':' || version || ':' || encode(ST_AsEWKB(geom), 'hex'), ',' "
            "ORDER BY code), '')) FROM grids")).scalar_one()
        state["households.md5"] = conn.execute(text(
            "SELECT md5(coalesce(string_agg(household_key || ':' || coalesce(grid_code, '-') || ':' "
            "|| encode(ST_AsEWKB(geom), 'hex'), ',' ORDER BY household_key), '')) FROM households")).scalar_one()
    assert {"grids", "households", "changesets", "grid_versions"} <= set(state)
    return state


@pytest.fixture()
def loaded(empty_database_url: str, tmp_path: Path, monkeypatch, capsys) -> Iterator[Engine]:
    """DATABASE_URL → a fresh database holding the valid plan and three households."""
    from tests.db._cli import main
    from gis.settings import get_settings

    use_database(monkeypatch, empty_database_url)
    get_settings.cache_clear()
    engine = create_engine(empty_database_url)
    try:
        assert main(["import", "grids", str(_write(_plan(), tmp_path / "plan.gpkg"))]) == 0
        households = tmp_path / "hh.csv"
        households.write_text("户号,地址,经度,纬度\nH1,一号,112.905,28.205\nH2,二号,112.915,28.215\n"
                              "H3,区外,112.95,28.21\n", encoding="utf-8")
        assert main(["import", "households", str(households), "--crs", "4490"]) == 0
        capsys.readouterr()
        yield engine
    finally:
        engine.dispose()
        get_settings.cache_clear()


# --------------------------------------------------------------------------------------
# the bad files
# --------------------------------------------------------------------------------------
def _bowtie(tmp: Path) -> tuple[list[str], str]:
    bowtie = shapely.Polygon([(112.90, 28.20), (112.91, 28.21), (112.91, 28.20), (112.90, 28.21), (112.90, 28.20)])
    assert not bowtie.is_valid
    return ["grids", str(_write(_plan([bowtie, *QUADRANTS[1:]]), tmp / "bowtie.gpkg"))], "invalid_geometry"


def _overlap(tmp: Path) -> tuple[list[str], str]:
    wider = shapely.box(112.90, 28.20, 112.915, 28.21)  # reaches half-way into its eastern neighbour
    return ["grids", str(_write(_plan([wider, *QUADRANTS[1:]]), tmp / "overlap.gpkg"))], "overlap"


def _gap(tmp: Path) -> tuple[list[str], str]:
    narrower = shapely.box(112.90, 28.20, 112.905, 28.21)  # leaves ~490 m × 1.1 km of the parent uncovered
    return ["grids", str(_write(_plan([narrower, *QUADRANTS[1:]]), tmp / "gap.gpkg"))], "gap"


def _duplicate(tmp: Path) -> tuple[list[str], str]:
    codes = [MICRO[0], MICRO[1], MICRO[2], MICRO[2]]
    return ["grids", str(_write(_plan(codes=codes), tmp / "duplicate.gpkg"))], "duplicate_key"


def _child_outside(tmp: Path) -> tuple[list[str], str]:
    sticking_out = shapely.box(112.91, 28.21, 112.93, 28.22)  # NE quadrant pushed 1 km east of the community
    return ["grids", str(_write(_plan([*QUADRANTS[:3], sticking_out]), tmp / "outside.gpkg"))], "child_outside"


def _swapped(tmp: Path) -> tuple[list[str], str]:
    frame = _plan()
    frame = frame.set_geometry(shapely.transform(frame.geometry.values, lambda xy: xy[:, ::-1]))
    return ["grids", str(_write(frame, tmp / "swapped.gpkg"))], "swapped_lon_lat"


def _swapped_households(tmp: Path) -> tuple[list[str], str]:
    path = tmp / "swapped.csv"
    path.write_text("户号,地址,经度,纬度\nH9,九号,28.205,112.905\n", encoding="utf-8")
    return ["households", str(path), "--crs", "4490"], "swapped_lon_lat"


def _empty(tmp: Path) -> tuple[list[str], str]:
    features = [
        {"type": "Feature", "properties": {"网格编码": code, "网格名称": code},
         "geometry": shapely.geometry.mapping(geom)}
        for code, geom in zip([L1, L2, *MICRO], [COMMUNITY, COMMUNITY, *QUADRANTS])
    ]
    features[-1]["geometry"] = {"type": "Polygon", "coordinates": []}
    path = tmp / "empty.geojson"
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features}), encoding="utf-8")
    return ["grids", str(path)], "empty_geometry"


def _truncated(tmp: Path) -> tuple[list[str], str]:
    frame = _plan().rename(columns={"网格编码": "code", "网格名称": "name"})  # dBASE: short ASCII field names
    path = _write(frame, tmp / "truncated.shp")
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    return ["grids", str(path)], "truncated"


BAD_FILES: dict[str, Callable[[Path], tuple[list[str], str]]] = {
    "bowtie": _bowtie,
    "overlap": _overlap,
    "gap": _gap,
    "duplicate_code": _duplicate,
    "child_outside_parent": _child_outside,
    "swapped_lat_lon": _swapped,
    "swapped_lat_lon_households": _swapped_households,
    "empty_geometry": _empty,
    "truncated_file": _truncated,
}


@pytest.mark.parametrize("case", list(BAD_FILES))
def test_bad_file_exits_1_names_the_rule_and_changes_nothing(case, loaded, tmp_path, capsys):
    from tests.db._cli import main

    args, rule = BAD_FILES[case](tmp_path)
    before = _snapshot(loaded)
    assert main(["import", *args]) == 1
    err = capsys.readouterr().err
    assert rule in err, err
    assert "Traceback" not in err
    assert _snapshot(loaded) == before


def test_bad_file_also_fails_with_json_and_dry_run(loaded, tmp_path, capsys):
    from tests.db._cli import main

    args, rule = _overlap(tmp_path)
    before = _snapshot(loaded)
    assert main(["import", *args, "--dry-run"]) == 1
    assert rule in capsys.readouterr().err
    assert main(["import", *args, "--json"]) == 1
    assert rule in capsys.readouterr().err
    assert _snapshot(loaded) == before


def test_reimporting_the_same_files_changes_nothing(loaded, tmp_path, capsys):
    from tests.db._cli import main

    before = _snapshot(loaded)
    assert main(["import", "grids", str(_write(_plan(), tmp_path / "again.gpkg")), "--json"]) == 0
    grids = json.loads(capsys.readouterr().out)
    assert (grids["read"], grids["written"], grids["unchanged"], grids["changeset_id"]) == (6, 0, 6, None)
    households = tmp_path / "hh_again.csv"
    households.write_text("户号,地址,经度,纬度\nH1,一号,112.905,28.205\nH2,二号,112.915,28.215\n"
                          "H3,区外,112.95,28.21\n", encoding="utf-8")
    assert main(["import", "households", str(households), "--crs", "4490", "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert (summary["read"], summary["written"], summary["unchanged"], summary["changeset_id"]) == (3, 0, 3, None)
    assert (summary["fixed"], summary["rejected"], summary["unassigned"]) == (0, 0, 1)
    assert summary["seconds"] > 0
    assert _snapshot(loaded) == before


def test_summary_line_counts_fixed_and_rejected(loaded, tmp_path, capsys):
    """--fix repairs the bowtie (counted as fixed); --skip-invalid rejects an unfixable row."""
    from tests.db._cli import main

    args, _ = _bowtie(tmp_path)
    # the repaired bowtie is two triangles that leave half the quadrant uncovered: the repair
    # is reported and the coverage check still refuses the plan.
    assert main(["import", *args, "--fix"]) == 1
    err = capsys.readouterr().err
    assert "made_valid" in err and "gap" in err
    fixed = tmp_path / "fixable.geojson"
    ring = [(112.90, 28.20), (112.91, 28.20), (112.91, 28.21), (112.905, 28.205), (112.91, 28.21),
            (112.90, 28.21), (112.90, 28.20)]  # an inward spike from a corner: invalid, make_valid removes it
    frame = _plan([shapely.Polygon(ring), *QUADRANTS[1:]])
    frame.to_file(fixed)
    assert not shapely.Polygon(ring).is_valid
    assert main(["import", "grids", str(fixed), "--fix", "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["fixed"] == 1 and summary["rejected"] == 0 and summary["read"] == 6
    assert main(["import", "grids", str(fixed), "--fix"]) == 0
    line = capsys.readouterr().out
    for word in ("read 6", "written 0", "fixed 1", "rejected 0", " s"):
        assert word in line, line

    households = tmp_path / "mixed.csv"
    households.write_text("户号,地址,经度,纬度\nH1,一号,112.905,28.205\nH7,七号,28.205,112.905\n", encoding="utf-8")
    assert main(["import", "households", str(households), "--crs", "4490", "--skip-invalid"]) == 0
    line = capsys.readouterr().out
    for word in ("read 2", "written 0", "fixed 0", "rejected 1", "unassigned 0"):
        assert word in line, line


# --------------------------------------------------------------------------------------
# a killed import
# --------------------------------------------------------------------------------------
def _big_households(path: Path, n: int) -> Path:
    rng = np.random.default_rng(42)
    pd.DataFrame({
        "户号": [f"B{i:07d}" for i in range(n)],
        "地址": "测试路",
        "经度": rng.uniform(112.90, 112.92, n).round(6),
        "纬度": rng.uniform(28.20, 28.22, n).round(6),
    }).to_csv(path, index=False)
    return path


def test_killed_import_leaves_the_database_as_it_was(loaded, empty_database_url, throwaway_databases, tmp_path):
    big = _big_households(tmp_path / "big.csv", 200_000)
    before = _snapshot(loaded)
    env = {**os.environ, **database_env(empty_database_url), "PYTHONPATH": str(PROJECT_ROOT)}
    process = subprocess.Popen(
        command(["import", "households", str(big), "--crs", "4490"]),
        cwd=PROJECT_ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )
    seen = None
    try:
        deadline = time.monotonic() + 60
        # the superuser sees every session's query (the import runs as the application role)
        watcher = create_engine(make_url(throwaway_databases.superuser_url).set(database=make_url(empty_database_url).database))
        with watcher.connect() as conn:
            conn.execute(text("SET application_name = 'bad-files-watcher'"))
            conn.commit()
            while time.monotonic() < deadline and process.poll() is None:
                seen = conn.execute(text(
                    "SELECT pid, left(query, 60) FROM pg_stat_activity WHERE datname = current_database() "
                    "AND pid <> pg_backend_pid() AND state = 'active' "
                    "AND (query ILIKE 'COPY stage_%' OR query ILIKE '%INSERT INTO households%')")).first()
                conn.commit()
                if seen is not None:
                    break
                time.sleep(0.02)
        assert seen is not None, f"the import never reached COPY/INSERT (exit {process.poll()})"
        process.send_signal(signal.SIGKILL)
    finally:
        if process.poll() is None:
            process.kill()
        process.wait(timeout=30)
    assert process.returncode == -signal.SIGKILL
    # the server notices the dropped client and rolls its transaction back
    with watcher.connect() as conn:
        deadline = time.monotonic() + 30
        while conn.execute(text("SELECT count(*) FROM pg_stat_activity WHERE pid = :p"), {"p": seen[0]}).scalar():
            assert time.monotonic() < deadline, "the killed import's backend is still alive"
            conn.commit()
            time.sleep(0.05)
    watcher.dispose()
    assert _snapshot(loaded) == before


# --------------------------------------------------------------------------------------
# the expected region: GRIDGOV_REGION, or --region for one file
# --------------------------------------------------------------------------------------
def test_region_setting_and_option(loaded, tmp_path, monkeypatch, capsys):
    from tests.db._cli import main
    from gis.settings import get_settings

    households = tmp_path / "region.csv"
    households.write_text("户号,地址,经度,纬度\nH8,八号,112.915,28.205\n", encoding="utf-8")
    before = _snapshot(loaded)
    assert main(["import", "households", str(households), "--crs", "4490", "--region", "100,20,110,25"]) == 1
    err = capsys.readouterr().err
    assert "outside_region" in err and "100,20,110,25" in err and "GRIDGOV_REGION" in err and "--region" in err
    assert _snapshot(loaded) == before

    monkeypatch.setenv("GRIDGOV_REGION", "100,20,110,25")  # the setting refuses it …
    get_settings.cache_clear()
    assert main(["import", "households", str(households), "--crs", "4490", "--dry-run"]) == 1
    assert "100,20,110,25" in capsys.readouterr().err
    plan = _write(_plan(), tmp_path / "plan_region.gpkg")
    assert main(["validate", str(plan), "--json"]) == 1
    assert "outside_region" in capsys.readouterr().out
    assert main(["validate", str(plan), "--region", "112,28,113,29", "--json"]) == 0
    capsys.readouterr()
    assert _snapshot(loaded) == before
    # … and --region widens it for this one file
    assert main(["import", "households", str(households), "--crs", "4490", "--region", "112,28,113,29", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["inserted"] == 1
    assert main(["import", "households", str(households), "--region", "112,28"]) == 2
    assert capsys.readouterr().err.startswith("error: --region was '112,28'")
    monkeypatch.delenv("GRIDGOV_REGION")
    get_settings.cache_clear()
