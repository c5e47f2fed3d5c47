"""``gridgov assign --engine dask``: the same grid codes as the single-process engine, computed on a real
dask.distributed LocalCluster of 2 workers, written back through staging + COPY + gridgov.apply_assignment."""

from __future__ import annotations

import json
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from sqlalchemy import text

from gis.join import _assign_points_strtree
from testdb import use_database

pytestmark = pytest.mark.db

L1 = "430104001001"


def _plan(tmp_path: Path) -> tuple[Path, np.ndarray, np.ndarray]:
    """A community, one grid, 16 micro-grids of 0.005° (shared edges and vertices)."""
    community = shapely.box(112.90, 28.20, 112.92, 28.22)
    codes, geoms = [], []
    for k, (i, j) in enumerate((i, j) for i in range(4) for j in range(4)):
        codes.append(f"{L1}001{k + 1:03d}")
        geoms.append(shapely.box(112.90 + 0.005 * i, 28.20 + 0.005 * j, 112.90 + 0.005 * (i + 1), 28.20 + 0.005 * (j + 1)))
    frame = gpd.GeoDataFrame({"网格编码": [L1, L1 + "001", *codes], "网格名称": ["社区", "网格", *[f"微网格{c[-3:]}" for c in codes]]},
                             geometry=[community, community, *geoms], crs=4490)
    path = tmp_path / "plan.gpkg"
    frame.to_file(path, driver="GPKG")
    return path, np.array(codes, dtype=object), np.array(geoms, dtype=object)


def _points(n: int = 3000) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(5)
    x = np.round(rng.uniform(112.899, 112.921, n), 6)
    y = np.round(rng.uniform(28.199, 28.221, n), 6)
    x[:300] = 112.90 + 0.005 * rng.integers(0, 5, 300)  # on shared edges and vertices
    y[:150] = 28.20 + 0.005 * rng.integers(0, 5, 150)
    return x, y


def test_dask_engine_gives_the_single_process_codes(empty_database_url, tmp_path, monkeypatch, capsys):
    from gis.settings import get_settings
    from store.engine import make_engine
    from tests.db._cli import main

    use_database(monkeypatch, empty_database_url)
    try:
        plan, codes, geoms = _plan(tmp_path)
        assert main(["import", "grids", str(plan)]) == 0
        x, y = _points()
        households = tmp_path / "hh.csv"
        pd.DataFrame({"户号": [f"H{i:05d}" for i in range(len(x))], "地址": "某路", "经度": x, "纬度": y,
                      "人口": 2}).to_csv(households, index=False)
        assert main(["import", "households", str(households), "--crs", "4490", "--json"]) == 0
        capsys.readouterr()
        owner = make_engine(empty_database_url)
        try:
            with owner.connect() as conn:  # the points as stored (the reader may normalise coordinates)
                rows = conn.execute(text("SELECT household_key, grid_code, ST_X(geom), ST_Y(geom) FROM households "
                                         "ORDER BY household_key")).all()
            assert [r[0] for r in rows] == [f"H{i:05d}" for i in range(len(x))]
            local = np.array([r[1] for r in rows], dtype=object)  # the single-process engine's codes
            x = np.array([r[2] for r in rows])
            y = np.array([r[3] for r in rows])
            with owner.connect() as conn:  # the leaf grids as stored
                leaves = conn.execute(text("SELECT code, ST_AsBinary(geom) FROM grids g WHERE NOT EXISTS "
                                           "(SELECT 1 FROM grids c WHERE c.parent_code = g.code) ORDER BY code")).all()
            assert sorted(codes) == [r[0] for r in leaves]
            stored_geoms = shapely.from_wkb([bytes(r[1]) for r in leaves])
            expected = _assign_points_strtree(shapely.points(x, y), stored_geoms,
                                              keys=np.array([r[0] for r in leaves], dtype=object))
            wrong = np.flatnonzero(local != expected)
            assert not len(wrong), (len(wrong), x[wrong[:5]], y[wrong[:5]], local[wrong[:5]], expected[wrong[:5]])
            assert (expected == None).sum() > 50 and len(set(expected) - {None}) == 16  # noqa: E711
            on_edges = np.isin(np.round((x - 112.90) / 0.005, 9) % 1, [0]) | np.isin(np.round((y - 28.20) / 0.005, 9) % 1, [0])
            assert on_edges.sum() >= 300  # ties are part of the comparison

            with owner.begin() as conn:  # forget every assignment: the dask engine must find them again
                assert conn.execute(text("UPDATE households SET grid_code = NULL WHERE grid_code IS NOT NULL")).rowcount > 0
            assert main(["assign", "--engine", "dask", "--workers", "2", "--partitions", "6", "--dry-run", "--json"]) == 0
            dry = json.loads(capsys.readouterr().out)
            with owner.connect() as conn:
                assert conn.execute(text("SELECT count(grid_code) FROM households")).scalar_one() == 0  # dry run

            assert main(["assign", "--engine", "dask", "--workers", "2", "--partitions", "6", "--json"]) == 0
            data = json.loads(capsys.readouterr().out)
            assert data["households"]["moved"] == dry["households"]["moved"] == int((expected != None).sum())  # noqa: E711
            assert data["dask"]["partitions"]["households"] == 6
            assert data["dask"]["partitioned_by"]["households"] == "morton"  # no household carries a code now
            per_worker = data["dask"]["points_per_worker"]["households"]
            assert len(per_worker) == 2 and sum(per_worker.values()) == len(x)
            with owner.connect() as conn:
                stored = dict(conn.execute(text("SELECT household_key, grid_code FROM households")).all())
            got = np.array([stored[f"H{i:05d}"] for i in range(len(x))], dtype=object)
            wrong = np.flatnonzero(got != expected)
            assert not len(wrong), (len(wrong), x[wrong[:5]], y[wrong[:5]], got[wrong[:5]], expected[wrong[:5]])

            # again: the codes the households carry now partition them; nothing moves
            assert main(["assign", "--engine", "dask", "--json"]) == 0
            again = json.loads(capsys.readouterr().out)
            assert again["households"]["moved"] == 0
            assert again["dask"]["partitioned_by"]["households"] == "admin_code_prefix"
        finally:
            owner.dispose()

        # a GeoParquet file of points: answers written to a Parquet file, the database untouched
        points = tmp_path / "points.parquet"
        gpd.GeoDataFrame({"id": np.arange(len(x))}, geometry=gpd.points_from_xy(x, y), crs=4490).to_parquet(points)
        out = tmp_path / "assigned.parquet"
        assert main(["assign", "--engine", "dask", "--points", str(points), "--out", str(out), "--json"]) == 0
        summary = json.loads(capsys.readouterr().out)
        assert summary["points"] == len(x) and summary["assigned"] == int((expected != None).sum())  # noqa: E711
        table = pd.read_parquet(out)
        assert table["row"].tolist() == list(range(len(x)))
        assert np.array_equal(table["grid_code"].astype(object).where(table["grid_code"].notna(), None).to_numpy(),
                              expected)

        assert main(["assign", "--points", str(points)]) == 2  # --points needs --engine dask
        assert "--engine dask" in capsys.readouterr().err
    finally:
        get_settings.cache_clear()
