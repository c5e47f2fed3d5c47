"""The deterministic demo street (demo.generate.generate_demo), without a database.

The incidents are checked against governance.workflow itself: every event sequence must replay
through the real state machine to exactly the stored state.
"""

from __future__ import annotations

import datetime as dt

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from geopandas.testing import assert_geodataframe_equal
from pandas.testing import assert_frame_equal

from boundaries.coding import CodeScheme, InvalidGridCodeError
from demo import generate as demo_generate
from demo import names as demo_names
from demo.generate import COMMUNITIES, DemoData, generate_demo
from demo.names import chinese_numeral, id_check_digit
from governance.deadlines import DeadlinePolicy
from governance.vocab import (
    DISPOSITIONS,
    INCIDENT_CATEGORIES,
    INCIDENT_STATUSES,
    SPECIAL_KINDS,
    STAFF_ROLES,
    TEAM_ROLES,
    VISIT_KINDS,
)
from governance.workflow import ACTIONS, TRANSITIONS, EventRecord, IncidentState, apply_transition, report_event

METRIC = 4547  # CGCS2000 / 3-degree GK CM 114E, metres
UNTIL = dt.date(2026, 11, 20)
NOW = pd.Timestamp("2026-11-20 18:00", tz="Asia/Shanghai")
SCHEME = CodeScheme()


@pytest.fixture(scope="module")
def demo() -> DemoData:
    return generate_demo()  # its speed is measured by bench/validate_demo.py, not asserted here


@pytest.fixture(scope="module")
def micro_metric(demo: DemoData) -> gpd.GeoSeries:
    micro = demo.grids[demo.grids["level"] == 3]
    return micro.set_index("code").geometry.to_crs(METRIC)


def _level(grids: gpd.GeoDataFrame, level: int) -> gpd.GeoDataFrame:
    return grids[grids["level"] == level]


def _distance_inside(points: gpd.GeoSeries, codes: pd.Series, micro_metric: gpd.GeoSeries) -> np.ndarray:
    """Metres from each point to the boundary of its micro-grid, negative when outside."""
    pts = points.to_crs(METRIC).to_numpy()
    polys = micro_metric.loc[codes.to_numpy()].to_numpy()
    dist = shapely.distance(pts, shapely.boundary(polys))
    return np.where(shapely.within(pts, polys), dist, -dist)


# -- grids -----------------------------------------------------------------------------
def test_grid_counts_codes_and_names(demo: DemoData) -> None:
    grids = demo.grids
    assert grids.crs.to_epsg() == 4490
    assert list(grids.columns) == ["code", "level", "parent_code", "name", "geometry"]
    assert grids.groupby("level").size().to_dict() == {1: 6, 2: 25, 3: 133}
    assert grids["code"].is_unique
    level1 = _level(grids, 1).set_index("code")["name"].to_dict()
    assert level1 == {
        "430603003001": "杨树港社区",
        "430603003002": "擂鼓台社区",
        "430603003003": "菱泊湖社区",
        "430603003004": "茅岭头社区",
        "430603003200": "东风村",
        "430603003201": "滨湖村",
    }
    names = grids.set_index("code")["name"]
    for code, level, parent in zip(grids["code"], grids["level"], grids["parent_code"], strict=True):
        assert SCHEME.level_of(code) == level
        assert parent == SCHEME.parent_of(code)
        if level == 2:
            seq = int(code[-3:])
            assert code == SCHEME.child_code(parent, seq)
            assert names[code] == f"{names[parent]}第{chinese_numeral(seq)}网格"
        if level == 3:
            assert names[code] == f"{names[parent]}{int(code[-3:])}号微网格"
    # sequences are 1..n under every parent (no gaps)
    for parent, children in grids.dropna(subset=["parent_code"]).groupby("parent_code")["code"]:
        assert sorted(int(c[len(parent):]) for c in children) == list(range(1, len(children) + 1))
    # the configured split: 25 level-2, 133 micro, per community
    for community in COMMUNITIES:
        l2 = grids[grids["parent_code"] == community.code]
        assert len(l2) == len(community.micro_counts)
        counts = [int((grids["parent_code"] == code).sum()) for code in sorted(l2["code"])]
        assert counts == list(community.micro_counts)


def test_grids_are_valid_single_part_multipolygons_in_the_street(demo: DemoData) -> None:
    geoms = demo.grids.geometry.to_numpy()
    assert (shapely.get_type_id(geoms) == 6).all()  # MultiPolygon
    assert shapely.is_valid(geoms).all()
    assert (shapely.get_num_geometries(geoms) == 1).all()
    assert (shapely.get_num_interior_rings(shapely.get_geometry(geoms, 0)) == 0).all()  # no enclaves
    # on the 1e-7 degree grid already
    scaled = shapely.get_coordinates(geoms) * 1e7
    assert np.abs(scaled - np.round(scaled)).max() < 1e-3
    minx, miny, maxx, maxy = demo.grids.total_bounds
    assert 113.2 <= minx < maxx <= 113.35
    assert 29.42 <= miny < maxy <= 29.55


@pytest.mark.parametrize("level", [1, 2, 3])
def test_each_level_is_a_coverage_of_the_street(demo: DemoData, level: int) -> None:
    grids = demo.grids
    geoms = _level(grids, level).geometry.to_numpy()
    assert shapely.coverage_is_valid(geoms)
    assert shapely.is_empty(shapely.coverage_invalid_edges(geoms)).all()
    street = shapely.union_all(_level(grids, 1).geometry.to_numpy())
    union = shapely.union_all(geoms)
    assert union.equals(street)
    assert shapely.symmetric_difference(union, street).area == 0.0
    # no overlaps: areas add up (metres)
    metric = _level(grids, level).to_crs(METRIC)
    assert metric.area.sum() == pytest.approx(gpd.GeoSeries([union], crs=4490).to_crs(METRIC).area[0], rel=1e-9)


def test_parents_are_exactly_the_union_of_their_children(demo: DemoData) -> None:
    grids = demo.grids.set_index("code")
    children = demo.grids.dropna(subset=["parent_code"]).groupby("parent_code")["code"].agg(list)
    assert len(children) == 6 + 25
    for parent, kids in children.items():
        parent_geom = grids.geometry[parent]
        kid_geoms = grids.geometry[kids].to_numpy()
        assert shapely.covered_by(kid_geoms, parent_geom).all()
        union = shapely.coverage_union_all(kid_geoms)
        assert parent_geom.equals(union), parent
        assert shapely.symmetric_difference(parent_geom, union).area == 0.0
        # every vertex of the parent is a vertex of a child (built from them, not re-noded)
        parent_xy = {tuple(c) for c in shapely.get_coordinates(parent_geom)}
        kid_xy = {tuple(c) for c in shapely.get_coordinates(kid_geoms)}
        assert parent_xy <= kid_xy


def test_neighbours_share_edges_vertex_for_vertex(demo: DemoData) -> None:
    micro = _level(demo.grids, 3).geometry.to_numpy()
    tree = shapely.STRtree(micro)
    left, right = tree.query(micro, predicate="intersects")
    pairs = [(a, b) for a, b in zip(left.tolist(), right.tolist(), strict=True) if a < b]
    assert len(pairs) > 200
    for a, b in pairs:
        common = shapely.intersection(micro[a], micro[b])
        assert shapely.area(common) == 0.0  # touch only
        near_b = shapely.get_coordinates(micro[a])
        on_b = shapely.distance(shapely.points(near_b), shapely.boundary(micro[b])) < 1e-9
        b_xy = {tuple(c) for c in shapely.get_coordinates(micro[b])}
        # a vertex of A on B's boundary is a vertex of B (no T-junctions, no slivers)
        assert all(tuple(c) in b_xy for c in near_b[on_b])


def test_boundaries_are_irregular_not_rectangles(demo: DemoData) -> None:
    metric = demo.grids.to_crs(METRIC).geometry.to_numpy()
    vertices = shapely.get_num_coordinates(metric)
    assert vertices.min() >= 30
    rectangularity = shapely.area(metric) / shapely.area(shapely.minimum_rotated_rectangle(metric))
    assert rectangularity.max() < 0.97
    assert np.median(rectangularity) < 0.85
    # edges wiggle: a simplified (5 m) outline keeps far fewer vertices than the real one
    simplified = shapely.get_num_coordinates(shapely.simplify(metric, 0.5))
    assert np.median(simplified / vertices) > 0.5


def test_layout_urban_dense_villages_large_binhu_on_the_lake(demo: DemoData) -> None:
    level1 = _level(demo.grids, 1).to_crs(METRIC).set_index("name")
    area = level1.area
    urban = area[["杨树港社区", "擂鼓台社区", "菱泊湖社区", "茅岭头社区"]]
    villages = area[["东风村", "滨湖村"]]
    assert urban.max() < villages.min()
    micro = _level(demo.grids, 3).to_crs(METRIC)
    micro_area = micro.area.to_numpy()
    is_village = micro["code"].str[:12].isin(["430603003200", "430603003201"]).to_numpy()
    assert np.median(micro_area[~is_village]) * 2 < np.median(micro_area[is_village])
    # the lake edge is the street's south-east: its south-easternmost boundary point is Binhu's
    street = shapely.union_all(level1.geometry.to_numpy())
    xy = shapely.get_coordinates(street)
    se = shapely.Point(xy[np.argmax(xy[:, 0] - xy[:, 1])])
    assert level1.geometry["滨湖村"].boundary.distance(se) < 1e-6


# -- households and residents ------------------------------------------------------------
def test_households_inside_their_micro_grid_clear_of_edges(demo: DemoData, micro_metric: gpd.GeoSeries) -> None:
    households = demo.households
    assert len(households) == 6297
    assert households.crs.to_epsg() == 4490
    assert households["household_key"].is_unique
    assert (shapely.get_type_id(households.geometry.to_numpy()) == 0).all()
    inside = _distance_inside(households.geometry, households["grid_code"], micro_metric)
    assert inside.min() >= 2.0
    # an independent point-in-polygon join agrees with grid_code
    joined = gpd.sjoin(households, _level(demo.grids, 3)[["code", "geometry"]], predicate="within")
    assert len(joined) == len(households)
    assert (joined["grid_code"] == joined["code"]).all()
    per_grid = households.groupby("grid_code").size()
    assert len(per_grid) == 133
    assert per_grid.min() >= 15


def test_households_are_clustered(demo: DemoData) -> None:
    pts = demo.households.to_crs(METRIC).geometry.to_numpy()
    tree = shapely.STRtree(pts)
    _, nn = tree.query_nearest(pts, exclusive=True, all_matches=False, return_distance=True)
    street_area = shapely.union_all(_level(demo.grids, 1).to_crs(METRIC).geometry.to_numpy()).area
    expected_random = 0.5 * np.sqrt(street_area / len(pts))  # Clark-Evans
    assert nn.mean() / expected_random < 0.3


def _empty_household(demo: DemoData) -> str:
    """The household planted without residents (a completeness problem for the checks to find)."""
    (key,) = demo.planted["household_no_residents"]
    return key


def test_household_attributes(demo: DemoData) -> None:
    households = demo.households
    empty = households["household_key"] == _empty_household(demo)
    assert households.loc[~empty, "members"].between(1, 6).all() and (households.loc[empty, "members"] == 0).all()
    kinds = households["special_kinds"]
    assert all(isinstance(k, list) and set(k) <= set(SPECIAL_KINDS) for k in kinds)
    special_share = (kinds.map(len) > 0).mean()
    assert 0.06 <= special_share <= 0.10
    for kind in SPECIAL_KINDS:
        assert kinds.map(lambda k, kind=kind: kind in k).sum() > 20
    names = demo.grids.set_index("code")["name"]
    community = households["grid_code"].str[:12].map(names)
    assert all(a.startswith("松杨湖街道" + c) for a, c in zip(households["address"], community, strict=True))
    urban = community.str.endswith("社区")
    assert households.loc[urban, "address"].str.contains(r"(?:栋\d单元\d{3}|号)$").all()
    assert households.loc[~urban, "address"].str.contains(r"村\d+组\d+号$").all()
    assert households.loc[urban, "address"].str.contains("单元").mean() > 0.5
    refreshed = households["refreshed_at"]
    assert str(refreshed.dt.tz) == "Asia/Shanghai"
    assert (refreshed <= NOW).all()
    recent = refreshed >= NOW - pd.Timedelta(days=90)
    assert 0.6 < recent.mean() < 0.95  # most refreshed last quarter, some due for update


def test_residents_match_households(demo: DemoData) -> None:
    residents = demo.residents
    households = demo.households
    assert len(residents) == households["members"].sum()
    counts = residents.groupby("household_key").size()
    assert counts.reindex(households["household_key"]).fillna(0).astype(int).tolist() == households["members"].tolist()
    heads = residents[residents["relation"] == "户主"]
    assert heads["household_key"].is_unique and len(heads) == len(households) - 1  # the planted empty household
    assert _empty_household(demo) not in set(residents["household_key"])
    assert set(residents["relation"]) <= {"户主", "配偶", "子女", "父母", "孙子女", "兄弟姐妹"}
    assert set(residents["gender"]) == {"男", "女"}
    assert residents["name"].str.fullmatch(r"[\u4e00-\u9fff]{2,4}").all()


def test_resident_identity_numbers(demo: DemoData) -> None:
    residents = demo.residents
    ids = residents["id_number"]
    # planted on purpose: one person in two households, one wrong check character
    assert len(demo.planted["id_duplicate"]) == 2 and ids.duplicated().sum() == 1
    (wrong,) = demo.planted["id_check_digit"]
    key, relation = wrong.split(":")
    bad = residents.index[(residents["household_key"] == key) & (residents["relation"] == relation)]
    assert ids.str.fullmatch(r"430603\d{11}[\dX]").all()
    for i, (number, birth, gender) in enumerate(zip(ids, residents["birth_date"], residents["gender"], strict=True)):
        assert (id_check_digit(number[:17]) == number[17]) != (i in bad), number
        assert number[6:14] == birth.strftime("%Y%m%d")
        assert (int(number[16]) % 2 == 1) == (gender == "男")
    births = pd.to_datetime(residents["birth_date"])
    assert births.max() <= pd.Timestamp(UNTIL)
    ages = (pd.Timestamp(UNTIL) - births).dt.days / 365.25
    phones = residents["phone"]
    adults = ages >= 14
    assert phones[adults].str.fullmatch(r"1[3-9]\d{9}").all()
    assert phones[~adults].isna().all()


def test_id_check_digit_known_value() -> None:
    # the published GB 11643-1999 example: 11010519491231002X
    assert id_check_digit("11010519491231002") == "X"
    with pytest.raises(ValueError, match="17 digits"):
        id_check_digit("123")


# -- staff -------------------------------------------------------------------------------
def test_staff_roster(demo: DemoData) -> None:
    staff, assignments = demo.staff, demo.staff_assignments
    assert staff["staff_key"].is_unique
    assert set(assignments["staff_key"]) <= set(staff["staff_key"])
    assert set(assignments["role"]) == set(STAFF_ROLES)
    assert assignments["end_date"].isna().all()
    assert (assignments["start_date"] <= UNTIL).all()
    assert assignments.duplicated(["staff_key", "grid_code", "role"]).sum() == 0
    grids = demo.grids
    level1, level2, micro = (set(_level(grids, k)["code"]) for k in (1, 2, 3))
    by_role = {role: frame for role, frame in assignments.groupby("role")}
    # liaison leader per level-1, grid head per level-1 and level-2
    assert sorted(by_role["liaison_leader"]["grid_code"]) == sorted(level1)
    assert sorted(by_role["grid_head"]["grid_code"]) == sorted(level1 | level2)
    # 131 micro-grid workers for 133 micro-grids, exactly one per micro-grid
    workers = by_role["micro_worker"]
    assert sorted(workers["grid_code"]) == sorted(micro)
    assert workers["staff_key"].nunique() == 131
    assert sorted(workers.groupby("staff_key").size().value_counts().to_dict().items()) == [(1, 129), (2, 2)]
    # every micro-grid has its "one grid, five roles" team; the four per-level-2 roles also sit on the level-2 grid
    parent = grids.set_index("code")["parent_code"]
    for role in ("grid_police", "family_doctor", "supervisor", "coordinator"):
        frame = by_role[role]
        on_l2 = frame[frame["grid_code"].isin(level2)]
        assert sorted(on_l2["grid_code"]) == sorted(level2)
        on_micro = frame[frame["grid_code"].isin(micro)]
        assert sorted(on_micro["grid_code"]) == sorted(micro)
        l2_person = on_l2.set_index("grid_code")["staff_key"]
        assert (on_micro["staff_key"].to_numpy() == l2_person[parent[on_micro["grid_code"]].to_numpy()].to_numpy()).all()
    # building heads look after multi-storey buildings of the urban communities
    heads = by_role["building_head"]
    assert len(heads) > 50
    assert heads["grid_code"].isin(micro).all()
    assert heads["grid_code"].str[:12].isin([c.code for c in COMMUNITIES if c.urban]).all()
    buildings = set(zip(demo.households["grid_code"], demo.households["building_no"], strict=True))
    assert all(pair in buildings for pair in zip(heads["grid_code"], heads["building_no"], strict=True))
    assert heads["building_no"].str.endswith("栋").all()
    assert staff["phone"].dropna().str.fullmatch(r"1[3-9]\d{9}").all()


# -- incidents -----------------------------------------------------------------------------
def test_incidents_basic(demo: DemoData, micro_metric: gpd.GeoSeries) -> None:
    incidents = demo.incidents
    assert 2000 <= len(incidents) <= 3000
    assert incidents.crs.to_epsg() == 4490
    assert incidents["incident_key"].is_unique
    assert str(incidents["reported_at"].dt.tz) == "UTC"
    assert incidents["reported_at"].max() <= NOW
    span = incidents["reported_at"].max() - incidents["reported_at"].min()
    assert pd.Timedelta(days=340) < span <= pd.Timedelta(days=366)
    assert set(incidents["category"]) == set(INCIDENT_CATEGORIES)
    assert set(incidents["status"]) == set(INCIDENT_STATUSES)
    assert set(incidents["disposition"].dropna()) == set(DISPOSITIONS)
    inside = _distance_inside(incidents.geometry, incidents["grid_code"], micro_metric)
    assert inside.min() >= 2.0
    assert incidents["description"].str.contains(r"[\u4e00-\u9fff]").all()
    assert incidents["address"].str.startswith("松杨湖街道").all()


def test_incident_statuses_follow_age(demo: DemoData) -> None:
    incidents = demo.incidents
    age = NOW - incidents["reported_at"]
    old = incidents[age > pd.Timedelta(days=60)]
    recent = incidents[age < pd.Timedelta(days=3)]
    assert old["status"].isin(["closed", "rejected"]).mean() > 0.9
    assert (old["status"] == "dispatched").any()  # a few stuck: the overdue list is not empty
    assert recent["status"].isin(["closed", "rejected"]).mean() < 0.6
    in_progress = ~incidents["status"].isin(["reported", "accepted", "rejected"])
    assert incidents.loc[in_progress, "disposition"].notna().all()
    assert incidents.loc[~in_progress, "disposition"].isna().all()
    dispatched = incidents["status"].isin(["dispatched", "handled", "closed"])
    assert incidents.loc[dispatched, "assigned_to"].notna().all()
    assert incidents.loc[~dispatched, "assigned_to"].isna().all()
    # the workflow sets the deadline when an incident is classified: a local midnight in Shanghai
    assert incidents.loc[in_progress, "deadline"].notna().all()
    assert incidents.loc[~in_progress, "deadline"].isna().all()
    local = incidents["deadline"].dropna().dt.tz_convert("Asia/Shanghai")
    assert (local == local.dt.normalize()).all()
    closed = incidents["status"] == "closed"
    assert incidents.loc[closed, "closed_at"].notna().all()
    assert incidents.loc[~closed, "closed_at"].isna().all()
    assert (incidents.loc[closed, "closed_at"] > incidents.loc[closed, "reported_at"]).all()


def test_incidents_are_reported_mostly_by_their_micro_worker(demo: DemoData) -> None:
    incidents = demo.incidents
    workers = demo.staff_assignments.query("role == 'micro_worker'").set_index("grid_code")["staff_key"]
    by_own = (incidents["reported_by"].to_numpy() == workers[incidents["grid_code"]].to_numpy()).mean()
    assert by_own > 0.75
    names = demo.staff.set_index("staff_key")["name"]
    assert (incidents["reporter_name"].to_numpy() == names[incidents["reported_by"]].to_numpy()).all()
    assert set(incidents["assigned_to"].dropna()) <= set(demo.staff["staff_key"])


def test_incidents_have_hotspots_and_seasons(demo: DemoData) -> None:
    incidents = demo.incidents.to_crs(METRIC)
    hotspots = demo.hotspots.to_crs(METRIC)
    assert {"market", "school", "old_estate"} <= set(hotspots["kind"])
    near = incidents.geometry.distance(shapely.union_all(hotspots.geometry.to_numpy())) < 200
    street = shapely.union_all(_level(demo.grids, 1).to_crs(METRIC).geometry.to_numpy())
    hot_area = shapely.union_all(hotspots.buffer(200).to_numpy()).area / street.area
    assert hot_area < 0.03
    assert near.mean() > 10 * hot_area  # far denser than an even spread
    local_month = demo.incidents["reported_at"].dt.tz_convert("Asia/Shanghai").dt.month
    sanitation = demo.incidents["category"] == "sanitation"
    assert (sanitation & local_month.isin([7, 8])).sum() > 1.3 * (sanitation & local_month.isin([1, 2])).sum()


def test_incident_events_form_valid_chains(demo: DemoData) -> None:
    events = demo.incident_events
    incidents = demo.incidents.set_index("incident_key")
    assert set(events["incident_key"]) == set(incidents.index)
    assert str(events["at"].dt.tz) == "UTC"
    names = demo.staff.set_index("staff_key")["name"]
    assert (events["actor"].to_numpy() == names[events["actor_staff_key"]].to_numpy()).all()
    assert (events["note"].str.len() > 0).all()
    assert (events["at"] <= NOW).all()
    for key, chain in events.groupby("incident_key", sort=False):
        rows = list(zip(chain["action"], chain["from_status"], chain["to_status"], chain["at"], strict=True))
        action, src, dst, at = rows[0]
        assert (action, src, dst) == ("report", None, "reported")
        assert at == incidents.at[key, "reported_at"]
        status, last = dst, at
        for action, src, dst, at in rows[1:]:
            assert src == status and TRANSITIONS[action].get(src) == dst, (key, action, src, dst)
            assert at > last
            status, last = dst, at
        assert status == incidents.at[key, "status"]
        if status == "closed":
            assert last == incidents.at[key, "closed_at"]
    assert (events["action"] == "reopen").any()
    assert set(events["action"]) <= {"report", *ACTIONS}


def _replay(data: DemoData, policy: DeadlinePolicy) -> int:
    """Replay every incident's events through governance.workflow; assert the stored state; return the count.

    The event log does not carry the disposition and the assignee: the stored ones are the
    arguments of ``classify`` and ``dispatch`` (the demo classifies and dispatches each incident
    at most once; a reopened incident goes back to the same worker).
    """
    number = {key: i for i, key in enumerate(data.staff["staff_key"], start=1)}
    incidents = data.incidents.set_index("incident_key")
    replayed = 0
    for key, chain in data.incident_events.groupby("incident_key", sort=False):
        incident = incidents.loc[key]
        rows = chain.to_dict("records")
        assert sum(r["action"] == "dispatch" for r in rows) <= 1 and sum(r["action"] == "classify" for r in rows) <= 1
        first = rows[0]
        expected = report_event(actor=first["actor"], at=first["at"], note=first["note"],
                                actor_staff_id=number[first["actor_staff_key"]])
        assert (first["action"], first["from_status"], first["to_status"]) == (
            expected.action, expected.from_status, expected.to_status)
        state = IncidentState(id=None)
        for row in rows[1:]:
            result = apply_transition(
                state,
                row["action"],
                actor=row["actor"],
                at=row["at"],
                note=row["note"],
                disposition=incident["disposition"] if row["action"] == "classify" else None,
                assignee=number[incident["assigned_to"]] if row["action"] == "dispatch" else None,
                actor_staff_id=number[row["actor_staff_key"]],
                policy=policy,
            )
            event = result.event
            assert event == EventRecord(row["action"], row["actor"], row["at"], row["from_status"], row["to_status"],
                                        row["note"], number[row["actor_staff_key"]]), (key, row)
            state = result.state
        assert state.status == incident["status"], key
        assert state.version == incident["version"] == len(rows), key
        assert state.disposition == incident["disposition"], key
        assigned = None if incident["assigned_to"] is None else number[incident["assigned_to"]]
        assert state.assigned_to == assigned, key
        for column in ("deadline", "closed_at"):
            stored = incident[column]
            if pd.isna(stored):
                assert getattr(state, column) is None, (key, column)
            else:
                assert getattr(state, column) == stored, (key, column)
        replayed += 1
    return replayed


def test_every_incident_replays_through_the_workflow(demo: DemoData) -> None:
    """Status, version, disposition, assignee, deadline and closed_at are what the real state machine makes
    of the stored events, with the default policy (3/30/7 days counted in Asia/Shanghai)."""
    assert _replay(demo, DeadlinePolicy()) == len(demo.incidents)
    # the replay can fail: a deadline policy other than the one the demo was played with disagrees
    with pytest.raises(AssertionError):
        _replay(demo, DeadlinePolicy(days={"solve_now": 4, "research_assign": 30, "explain_respond": 7}))


def test_demo_data_is_keyed_by_the_vocabulary() -> None:
    """The demo's own tables (weights, texts) use the codes of governance.vocab, no private ones."""
    assert tuple(demo_generate._CATEGORIES) == INCIDENT_CATEGORIES
    assert set(demo_names.INCIDENT_TEMPLATES) == set(INCIDENT_CATEGORIES)
    assert set(demo_generate._DISPOSITION_WEIGHTS) == set(DISPOSITIONS) == set(demo_generate._HANDLE_HOURS)
    assert set(demo_generate._SPECIAL_KIND_WEIGHTS) == set(SPECIAL_KINDS)
    assert set(demo_generate._STALL_AT) <= set(INCIDENT_STATUSES)
    assert set(demo_names.EVENT_NOTES) == {"report", *ACTIONS}
    assert set(demo_names.VISIT_NOTES) <= set(VISIT_KINDS)
    assert set(demo_names.ORGANISATIONS) <= set(STAFF_ROLES)
    assert set(demo_generate._LEVEL2_TEAM_ROLES) | {"micro_worker"} == set(TEAM_ROLES)


# -- visits ------------------------------------------------------------------------------
def test_visits(demo: DemoData) -> None:
    visits = demo.visits
    assert set(visits["kind"]) == {"routine", "special", "data_refresh"}
    assert set(visits["kind"]) <= set(VISIT_KINDS)
    assert str(visits["visited_at"].dt.tz) == "Asia/Shanghai"
    assert visits["visited_at"].max() <= NOW
    assert visits["visited_at"].min() >= NOW - pd.Timedelta(days=125)
    households = demo.households.set_index("household_key")
    assert (visits["grid_code"].to_numpy() == households.loc[visits["household_key"], "grid_code"].to_numpy()).all()
    workers = demo.staff_assignments.query("role == 'micro_worker'").set_index("grid_code")["staff_key"]
    assert (visits["staff_key"].to_numpy() == workers[visits["grid_code"]].to_numpy()).all()
    # full months: most workers visit >= 10 households, a few fall short
    month = visits["visited_at"].dt.strftime("%Y-%m")
    full = month.isin(["2026-08", "2026-09", "2026-10"])
    distinct = visits[full].groupby([visits["staff_key"], month]).household_key.nunique()
    per_month = distinct.groupby(level=1)
    assert (per_month.apply(lambda s: (s >= 10).mean()) > 0.85).all()
    short = distinct[distinct < 10].index.get_level_values(0).unique()
    assert 3 <= len(short) <= 20
    # special households are visited monthly (except by the few laggards)
    special = households.index[households["special_kinds"].map(len) > 0]
    seen = visits[full & visits["household_key"].isin(special) & (visits["kind"] == "special")]
    coverage = seen.groupby(month).household_key.nunique() / len(special)
    assert (coverage > 0.85).all()
    # every refresh in the window is a data_refresh visit
    updates = visits[visits["kind"] == "data_refresh"].set_index("household_key")["visited_at"]
    assert (updates == households.loc[updates.index, "refreshed_at"]).all()


# -- determinism and options -----------------------------------------------------------------
def test_same_seed_gives_identical_frames(demo: DemoData) -> None:
    again = generate_demo(7)
    for name in ("grids", "households", "incidents", "hotspots"):
        assert_geodataframe_equal(getattr(again, name), getattr(demo, name), check_less_precise=False)
    for name in ("residents", "staff", "staff_assignments", "incident_events", "visits"):
        assert_frame_equal(getattr(again, name), getattr(demo, name))
    # the practices too: cameras, the evaluation's answers, the spot checks and notices, the planted problems
    assert_geodataframe_equal(again.cameras, demo.cameras, check_less_precise=False)
    assert_frame_equal(again.practices.evaluation.responses, demo.practices.evaluation.responses)
    assert again.practices.spot_checks == demo.practices.spot_checks
    assert again.practices.notices == demo.practices.notices and again.planted == demo.planted


# -- the practices of issue #17 ----------------------------------------------------------------
def test_cameras_inside_their_micro_grid(demo: DemoData, micro_metric: gpd.GeoSeries) -> None:
    from governance.vocab import CAMERA_STATUS_TERMS, CAMERA_TYPE_TERMS

    cameras = demo.cameras
    assert len(cameras) == 60 and cameras["camera_key"].is_unique and cameras.crs.to_epsg() == 4490
    assert _distance_inside(cameras.geometry, cameras["grid_code"], micro_metric).min() >= 2.5
    assert set(cameras["type"]) <= set(CAMERA_TYPE_TERMS.codes) and set(cameras["status"]) <= set(CAMERA_STATUS_TERMS.codes)
    assert 0 < cameras["stream_url"].notna().sum() < len(cameras)
    seen = demo.incidents["camera_key"].dropna()
    assert 0 < len(seen) <= 15 and set(seen) <= set(cameras["camera_key"])


def test_evaluation_plan_is_plausible(demo: DemoData) -> None:
    plan = demo.practices.evaluation
    assert plan.period == "2026-Q3" and plan.opens_at < plan.closes_at < NOW
    answers = plan.responses
    assert 0.30 <= len(answers) / len(demo.households) <= 0.40
    assert answers["submitted_at"].map(lambda t: plan.opens_at <= t < plan.closes_at).all()
    assert (answers["service"] >= 4).mean() > 0.75 and (answers["service"] <= 2).sum() > 20
    assert 0.05 < (answers["comment"] != "").mean() < 0.2
    per_grid = answers.groupby("grid_code").size().reindex(list(plan.quiet_grids)).fillna(0)
    assert len(per_grid) >= 3 and (per_grid < 5).all()  # suppressed when the results are shown


def test_verification_stamps_leave_some_grids_overdue(demo: DemoData) -> None:
    from governance.verification import verification_status

    households = demo.households
    status = verification_status(households["last_verified_at"], as_of=NOW.to_pydatetime())
    share = (status == "verified").groupby(households["grid_code"]).mean()
    assert (share >= 0.6).mean() > 0.8 and (share < 0.5).sum() >= 3
    assert (status == "overdue").groupby(households["grid_code"]).any().sum() >= 5
    assert households.loc[households["last_verified_at"].notna(), "verified_by"].notna().all()
    # a refresh this quarter was the verification
    refreshed = households["refreshed_at"] >= pd.Timestamp("2026-10-01", tz="Asia/Shanghai")
    assert (households.loc[refreshed, "last_verified_at"] == households.loc[refreshed, "refreshed_at"]).all()


def test_other_seed_date_and_policy_change_the_street() -> None:
    policy = DeadlinePolicy(days={"solve_now": 1, "research_assign": 10, "explain_respond": 2})
    other = generate_demo(8, until=dt.date(2025, 6, 30), policy=policy)
    assert other.grids.groupby("level").size().to_dict() == {1: 6, 2: 25, 3: 133}
    assert len(other.households) == 6297
    end = pd.Timestamp("2025-06-30 18:00", tz="Asia/Shanghai")
    assert other.incidents["reported_at"].max() <= end
    assert other.incidents["reported_at"].min() >= end - pd.Timedelta(days=366)
    assert other.visits["visited_at"].max() <= end
    assert shapely.coverage_is_valid(_level(other.grids, 3).geometry.to_numpy())
    # the incidents were played with the policy given
    assert _replay(other, policy) == len(other.incidents)


def test_scheme_must_carry_the_statistical_codes() -> None:
    with pytest.raises(InvalidGridCodeError, match="12-digit statistical codes"):
        generate_demo(scheme=CodeScheme((12, 3)))
    with pytest.raises(InvalidGridCodeError, match="widths"):
        generate_demo(scheme=CodeScheme((9, 3, 3)))
