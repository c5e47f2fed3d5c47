"""Plan versions: the plan as of a date, and differences between plans."""

from __future__ import annotations

import datetime as dt
import json
from zoneinfo import ZoneInfo

import geopandas as gpd
import pandas as pd
import pytest
import shapely

from boundaries.edits import merge_grids, split_grid
from boundaries.model import rectangular_plan
from boundaries.versions import diff_plans, plan_as_of
from gis.errors import CRSError, ValidationError

SH = ZoneInfo("Asia/Shanghai")
T0 = dt.datetime(2024, 1, 1, tzinfo=SH)
T1 = dt.datetime(2025, 3, 1, tzinfo=SH)
A = "420102001001001001"
B = "420102001001001002"


def _versions() -> gpd.GeoDataFrame:
    """Version 1 of every grid from T0; at T1 grid A is split (retired) and B renamed."""
    plan = rectangular_plan()
    result = split_grid(plan, A, shapely.LineString([(113.3005, 29.4995), (113.3005, 29.5015)]))
    v1 = plan.assign(version=1, valid_from=pd.Timestamp(T0), valid_to=pd.NaT)
    v1["valid_to"] = pd.Series(pd.NaT, index=v1.index, dtype="datetime64[ns, Asia/Shanghai]")
    ended = v1["code"].isin(result.retired + [B])
    v1.loc[ended, "valid_to"] = pd.Timestamp(T1)
    new = result.plan[result.plan["code"].isin(result.added + [B])].copy()
    new.loc[new["code"] == B, "name"] = "新名字"
    new = new.assign(version=[2 if c == B else 1 for c in new["code"]], valid_from=pd.Timestamp(T1))
    new["valid_to"] = pd.Series(pd.NaT, index=new.index, dtype="datetime64[ns, Asia/Shanghai]")
    return gpd.GeoDataFrame(pd.concat([v1, new], ignore_index=True), geometry="geometry", crs=4490)


def test_plan_as_of_before_and_after_a_change() -> None:
    versions = _versions()
    before = plan_as_of(versions, T0 + dt.timedelta(days=10))
    after = plan_as_of(versions, T1)  # valid_from inclusive, valid_to exclusive
    assert len(before) == 42 and A in set(before["code"])
    assert len(after) == 43 and A not in set(after["code"])
    assert after.loc[after["code"] == B, "name"].item() == "新名字"
    assert after.loc[after["code"] == B, "version"].item() == 2
    assert list(after.columns[:5]) == ["code", "level", "parent_code", "name", "geometry"]
    assert after.crs.to_epsg() == 4490
    assert len(plan_as_of(versions, T0 - dt.timedelta(seconds=1))) == 0


def test_plan_as_of_needs_tz_aware_times() -> None:
    with pytest.raises(ValidationError, match="no time zone"):
        plan_as_of(_versions(), dt.datetime(2025, 1, 1))
    versions = _versions()
    versions["valid_from"] = versions["valid_from"].dt.tz_localize(None)
    with pytest.raises(ValidationError, match="naive"):
        plan_as_of(versions, T1)


def test_plan_as_of_refuses_overlapping_versions_and_bad_crs() -> None:
    versions = _versions()
    versions.loc[versions["code"] == B, "valid_to"] = pd.NaT
    with pytest.raises(ValidationError, match="more than one version"):
        plan_as_of(versions, T1)
    with pytest.raises(CRSError):
        plan_as_of(_versions().set_crs(4326, allow_override=True), T1)


def test_diff_plans_split_merge_rename() -> None:
    plan = rectangular_plan()
    split = split_grid(plan, A, shapely.LineString([(113.3005, 29.4995), (113.3005, 29.5015)]))
    diff = diff_plans(plan, split.plan)
    assert diff.added == sorted(split.added) and diff.retired == [A]
    assert diff.reshaped.empty  # the neighbours only gained a vertex: not a reshape
    merged = merge_grids(plan, [A, B])
    new = merged.plan.copy()
    new.loc[new["code"] == "420102001001001003", "name"] = "改名"
    diff = diff_plans(plan, new)
    assert diff.retired == [B] and diff.added == []
    row = diff.reshaped.set_index("code").loc[A]
    assert row["area_after_m2"] == pytest.approx(2 * row["area_before_m2"], rel=1e-3)
    assert row["area_change_m2"] == pytest.approx(row["area_after_m2"] - row["area_before_m2"])
    assert row["changed_area_m2"] == pytest.approx(row["area_change_m2"], rel=1e-6)
    assert diff.renamed.to_dict(orient="records") == [
        {"code": "420102001001001003", "old_name": "网格420102001001001003", "new_name": "改名"}
    ]
    assert A in diff.touched and B in diff.touched
    json.dumps(diff.to_records())
    assert not diff.is_empty
    assert diff_plans(plan, plan.copy()).is_empty


def test_diff_tolerance() -> None:
    plan = rectangular_plan()
    moved = plan.copy()
    moved["geometry"] = moved.geometry.translate(1e-8, 0)  # ~1 mm
    assert len(diff_plans(plan, moved).reshaped) == len(plan)
    assert diff_plans(plan, moved, tolerance_m2=1.0).reshaped.empty
