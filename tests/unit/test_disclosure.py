"""Small-count suppression of special-household figures (access.disclosure): the one rule and who is exempt."""

from __future__ import annotations

import pandas as pd
import pytest

from access.disclosure import (SMALL_COUNT, disclose_counts, keeps_exact_counts, suppress_count,
                               suppress_small_counts)

GRID = "430603001001001"   # a micro-grid (level 3)
OTHER = "430603001002001"  # a micro-grid of another level-2 grid


@pytest.mark.parametrize(("value", "shown"), [(0, 0), (1, None), (4, None), (5, 5), (17, 17), (None, None)])
def test_suppress_count(value, shown) -> None:  # noqa: ANN001
    assert suppress_count(value) == shown
    assert SMALL_COUNT == 5


def test_suppress_small_counts_is_vectorized_and_keeps_the_input() -> None:
    counts = pd.Series([0, 1, 2, 3, 4, 5, 6, 40], index=list("abcdefgh"))
    out = suppress_small_counts(counts)
    assert out.dtype == "Int64" and list(out.index) == list("abcdefgh")
    assert out.isna().tolist() == [False, True, True, True, True, False, False, False]
    assert out.dropna().tolist() == [0, 5, 6, 40]
    assert counts.tolist() == [0, 1, 2, 3, 4, 5, 6, 40]  # not mutated
    assert suppress_small_counts([2, 9], threshold=10).isna().tolist() == [True, True]
    with pytest.raises(ValueError):
        suppress_small_counts(pd.Series(["three"]))


def test_who_keeps_exact_counts() -> None:
    # the grid's own worker / grid head: their grant is the grid or an ancestor
    assert keeps_exact_counts("worker", [GRID], GRID)
    assert keeps_exact_counts("grid_head", [GRID[:9]], GRID)
    # another grid, another role, a street-wide account, no code: suppressed
    assert not keeps_exact_counts("worker", [GRID], OTHER)
    assert not keeps_exact_counts("worker", [GRID], GRID[:12])  # the level-2 grid above: not only her families
    for role in ("leader", "planner", "inspector", "admin", "police", "doctor", "supervisor", "coordinator", None):
        assert not keeps_exact_counts(role, [GRID], GRID), role
    assert not keeps_exact_counts("grid_head", [GRID[:9]], GRID, street_wide=True)
    assert not keeps_exact_counts("worker", [GRID], None)


def test_disclose_counts_per_row() -> None:
    frame = pd.DataFrame({"code": [GRID, OTHER, "430603001003001"], "households": [3, 2, 120],
                          "special_households": [2, 3, 12], "special_elderly": [0, 1, 4]})
    worker = disclose_counts(frame, ["special_households", "special_elderly"], role="worker", own_prefixes=[GRID])
    assert worker["special_households"].tolist()[0] == 2 and pd.isna(worker["special_households"].iloc[1])
    assert worker["special_households"].iloc[2] == 12 and pd.isna(worker["special_elderly"].iloc[2])
    assert worker["special_elderly"].iloc[0] == 0
    assert worker["households"].tolist() == [3, 2, 120]  # not a special count: untouched
    leader = disclose_counts(frame, ["special_households"], role="leader", own_prefixes=[GRID[:9]])
    assert leader["special_households"].isna().tolist() == [True, True, False]
    assert frame["special_households"].tolist() == [2, 3, 12]  # the input is not changed


# -- where the rule is applied: an edit's impact preview, the leaders' per-grid layer -------------
def _impact(special_moved: int, grid_special: tuple[int, int, int]):  # noqa: ANN202 - an ImpactReport
    from boundaries.impact import ImpactReport, balance_stats

    codes = [GRID, OTHER, "430603001003001"]
    load = pd.DataFrame({"households": [40, 30, 80], "special_households": list(grid_special),
                         "residents": [90, 70, 200]}, index=pd.Index(codes, name="code"))
    after = load.assign(special_households=[grid_special[0] - special_moved, grid_special[1] + special_moved,
                                            grid_special[2]])
    flows = pd.DataFrame({"from_code": [GRID], "to_code": [OTHER], "households": [12], "residents": [30],
                          "special_households": [special_moved]})
    moved = pd.DataFrame({"household_key": ["h1"], "from_code": [GRID], "to_code": [OTHER], "members": [3],
                          "special": [True]})
    return ImpactReport(households=moved, flows=flows, incidents=pd.DataFrame(), staff=pd.DataFrame(),
                        workload_before=load, workload_after=after,
                        balance=pd.concat({"before": balance_stats(load), "after": balance_stats(after)}, axis=1),
                        counts={"households_moved": 12, "special_households_moved": special_moved})


def test_an_edit_preview_never_shows_a_planner_a_small_special_count() -> None:
    from access.actor import Actor
    from access.scope import Scope
    from services.overview import disclose_impact, disclose_worker_load

    impact = _impact(3, (4, 1, 12))
    planner = Actor("planner", scope=Scope.all(), role="planner")
    shown = disclose_impact(impact, planner)
    assert shown.counts["special_households_moved"] is None and shown.counts["households_moved"] == 12
    assert shown.flows["special_households"].isna().all() and shown.flows["households"].tolist() == [12]
    assert shown.workload_before["special_households"].isna().tolist() == [True, True, False]
    assert pd.isna(shown.workload_after.loc[GRID, "special_households"])  # 4 - 3 = 1
    assert pd.isna(shown.workload_after.loc[OTHER, "special_households"])  # 1 + 3 = 4
    assert shown.workload_after.loc["430603001003001", "special_households"] == 12
    assert pd.isna(shown.balance.loc["special_households", ("before", "min")])  # the grid with 1
    assert shown.balance.loc["special_households", ("before", "max")] == 12
    assert shown.balance.loc["households", ("before", "min")] == 30  # not a special count
    assert "special" not in shown.households.columns  # which moved household is special: not for a planner
    records = shown.to_records()
    assert records["counts"]["special_households_moved"] is None and records["flows"][0]["special_households"] is None
    # the exact impact is kept (saving and the grid's own people use it)
    assert impact.counts["special_households_moved"] == 3 and impact.flows["special_households"].tolist() == [3]
    # five or more, and zero, are shown
    big = disclose_impact(_impact(7, (9, 0, 12)), planner)
    assert big.counts["special_households_moved"] == 7 and big.flows["special_households"].tolist() == [7]
    assert big.workload_before["special_households"].tolist() == [9, 0, 12]
    # the per-worker workload of the preview
    table = pd.DataFrame({"staff_key": ["w1", "w2"], "special_households_before": [3, 6],
                          "special_households_after": [0, 9]})
    balance = pd.concat({"before": pd.DataFrame({"min": [3.0], "max": [6.0], "mean": [4.5], "cv": [0.3]},
                                                index=["special_households"])}, axis=1)
    workers, stats = disclose_worker_load(table, balance, planner, [GRID])
    assert workers["special_households_before"].isna().tolist() == [True, False]
    assert workers["special_households_after"].tolist() == [0, 9]
    assert pd.isna(stats.loc["special_households", ("before", "min")])
    assert stats.loc["special_households", ("before", "mean")] == 4.5
    # the grids' own grid head (an edit inside her grids only) keeps the exact figures; a leader there does not
    own = Actor("head-1", scope=Scope(prefixes=(GRID[:9],)), role="grid_head")
    inside = _impact(3, (4, 1, 12))
    inside = inside.__class__(**{**inside.__dict__, "workload_before": inside.workload_before.iloc[:2],
                                 "workload_after": inside.workload_after.iloc[:2]})
    assert disclose_impact(inside, own).counts["special_households_moved"] == 3
    leader = Actor("leader-1", scope=Scope(prefixes=(GRID[:9],)), role="leader")
    assert disclose_impact(inside, leader).counts["special_households_moved"] is None


def test_the_leaders_layer_sends_only_shown_values() -> None:
    import json

    import geopandas as gpd
    import shapely

    from app_pages import folium_view, maps

    cells = [shapely.box(113.30 + i * 0.001, 29.50, 113.301 + i * 0.001, 29.501) for i in range(4)]
    counts = gpd.GeoDataFrame({"code": [GRID, OTHER, "430603001003001", "430603001004001"],
                               "name": ["甲", "乙", "丙", "丁"], "households": [41, 33, 80, 7],
                               "special_households": pd.array([pd.NA, 0, 12, pd.NA], dtype="Int64")},
                              geometry=cells, crs=4490)
    fmap = maps.special_households_map(counts, tr=lambda key, **kw: key, suppressed="少于5")
    script = folium_view.render(fmap).script
    assert script.count('"special_label": ' + json.dumps("少于5")) == 2  # the payload is JSON in the map's script
    assert '"special_label": "12"' in script and '"special_label": "0"' in script
    assert "gg-special-households" in script and "#bdbdbd" in script
    assert "special_households" not in script  # the raw column (exact values) never travels


def test_only_the_grids_own_people_see_which_families_are_special() -> None:
    """Lists of special households (which family is 困难家庭 …): the grid's worker, head and five-role team of
    *their own* grids only; a leader — street or community — planner, inspector or admin never."""
    from access.disclosure import sees_families

    grid = "430603003001001001"
    assert sees_families("worker", [grid], [grid])
    assert sees_families("grid_head", [grid[:12]], [grid, grid[:15] + "002"])
    assert sees_families("doctor", [grid[:15]], [grid])
    assert not sees_families("worker", [grid], [grid, "430603003002001001"])  # one grid of the list is not hers
    assert not sees_families("worker", [grid], [])  # nothing listed: nothing to show
    for role in ("leader", "planner", "inspector", "admin"):
        assert not sees_families(role, [grid[:9]], [grid]), role
    assert not sees_families("grid_head", [grid[:9]], [grid], street_wide=True)
