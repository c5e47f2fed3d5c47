"""Topology-safe edits: examples for every operation, then hypothesis properties over random
valid plans (any valid plan in → a valid plan or EditRefused out; households conserved;
code rules hold)."""

from __future__ import annotations

import os
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from hypothesis import HealthCheck, assume, event, given, settings
from hypothesis import strategies as st
from shapely.geometry import LineString, box

from boundaries.coding import CodeScheme, resolve_code
from boundaries.edits import (
    EditRefused,
    EditResult,
    merge_grids,
    replace_children,
    reshape_boundary,
    split_grid,
    transfer_area,
)
from boundaries.assign import assign_to_leaves
from boundaries.model import leaf_mask, make_plan, rectangular_plan
from boundaries.validation import validate_plan
from gis.errors import GridGovError
from gis.measure import area_m2

TESTDATA = Path(__file__).resolve().parents[1] / "data" / "real"
SCHEME = CodeScheme()
LON0, LAT0 = 113.3, 29.5
L1 = "420102001001"
L2 = L1 + "001"
A, B, C, D = (L2 + s for s in ("001", "002", "003", "004"))  # 2×2 micro-grids of L2
E = L1 + "002001"  # first micro-grid of the level-2 grid east of L2


def by_code(plan: gpd.GeoDataFrame) -> dict[str, shapely.Geometry]:
    return dict(zip(plan["code"], plan.geometry))


def check_invariants(before: gpd.GeoDataFrame, result: EditResult, retired: set[str] = frozenset()) -> None:
    """What every successful edit must guarantee."""
    after = result.plan
    assert after.crs.to_epsg() == 4490
    report = validate_plan(after)
    assert report.ok, report.summary()
    # the leaves still cover exactly the same territory
    u0 = shapely.union_all(before.geometry[leaf_mask(before)].values)
    u1 = shapely.union_all(after.geometry[leaf_mask(after)].values)
    assert float(area_m2([u0.symmetric_difference(u1)])[0]) < 0.01
    # code rules
    codes = list(after["code"])
    assert len(set(codes)) == len(codes)
    for code, parent in zip(after["code"], after["parent_code"]):
        assert SCHEME.parent_of(code) == parent
    new = set(codes) - set(before["code"])
    assert new == set(result.added)
    assert not new & set(retired), "a retired code was reused"
    gone = set(before["code"]) - set(codes)
    assert gone == set(result.retired)
    for old, new_code, kind in result.lineage:
        assert kind in ("split", "merge", "renumber", "transfer", "reshape", "replace")
        assert new_code in codes or new_code in gone
    for code in gone:  # every retired code still resolves to today's grid(s)
        assert resolve_code(code, result.lineage, codes), code
    # the input frame is untouched
    assert before.crs.to_epsg() == 4490


# --- examples ----------------------------------------------------------------------------
def test_split_retires_code_and_allocates_next_free_codes() -> None:
    plan = rectangular_plan()
    before = plan.copy()
    retired = {L2 + "007"}  # a code retired in an earlier changeset
    result = split_grid(plan, A, LineString([(113.3004, 29.4995), (113.3006, 29.5015)]), retired_codes=retired)
    check_invariants(plan, result, retired)
    assert result.retired == [A]
    assert result.added == [L2 + "008", L2 + "009"]  # after the highest ever used, 007
    assert [(o, n, k) for o, n, k in result.lineage] == [(A, L2 + "008", "split"), (A, L2 + "009", "split")]
    geoms = by_code(result.plan)
    assert geoms[L2 + "008"].area >= geoms[L2 + "009"].area  # largest part first
    # the neighbour B gained the split vertex on the shared edge: edges stay shared
    assert shapely.coverage_is_valid(np.array([geoms[L2 + "008"], geoms[L2 + "009"], geoms[B], geoms[C]]))
    pd.testing.assert_frame_equal(plan.drop(columns="geometry"), before.drop(columns="geometry"))
    # the index of untouched rows is kept; added rows continue it (or use the code)
    assert set(plan.index[plan["code"] != A]) <= set(result.plan.index)
    assert list(result.plan.index[-2:]) == [len(plan), len(plan) + 1]
    by_code_index = split_grid(plan.set_index("code", drop=False), A, LineString([(113.3004, 29.4995), (113.3006, 29.5015)]))
    assert list(by_code_index.plan.index[-2:]) == [L2 + "005", L2 + "006"]


def test_split_refusals() -> None:
    plan = rectangular_plan()
    with pytest.raises(EditRefused, match="does not cross"):
        split_grid(plan, A, LineString([(113.31, 29.6), (113.32, 29.61)]))
    with pytest.raises(EditRefused, match="two or more parts") as info:
        split_grid(plan, A, LineString([(113.3005, 29.4995), (113.3005, 29.5005)]))  # stops inside
    assert info.value.findings[0].rule == "line_does_not_split"
    # a cut 1 cm from the edge would leave a sliver: refused with the validation finding
    with pytest.raises(EditRefused) as info:
        split_grid(plan, A, LineString([(113.3000001, 29.4995), (113.3000001, 29.5015)]), snap_m=0)
    assert {f.rule for f in info.value.findings} & {"sliver"}
    with pytest.raises(EditRefused, match="official codes"):
        split_grid(plan, L1, LineString([(113.3011, 29.4995), (113.3011, 29.5045)]))
    with pytest.raises(EditRefused, match="cannot allocate") as info:  # sequence 999 used once
        split_grid(plan, A, LineString([(113.3005, 29.4995), (113.3005, 29.5015)]), retired_codes=[L2 + "999"])
    assert info.value.findings[0].rule == "codes_exhausted"
    with pytest.raises(EditRefused, match="not in the plan"):
        split_grid(plan, "420102001001009001", LineString([(0, 0), (1, 1)]))


def test_split_level1_with_explicit_codes_and_children_renumbered() -> None:
    plan = rectangular_plan()
    line = LineString([(113.3021, 29.4995), (113.3019, 29.5045)])  # near the level-2 boundary x=113.302
    result = split_grid(plan, L1, line, new_codes=["420102001003", "420102001004"])
    check_invariants(plan, result)
    assert set(result.added) >= {"420102001003", "420102001004"}
    renumbered = [(o, n) for o, n, k in result.lineage if k == "renumber"]
    assert len(renumbered) == 4 + 16  # 4 level-2 grids and their 16 micro-grids
    with pytest.raises(EditRefused, match="in use or retired"):
        split_grid(plan, L1, line, new_codes=["420102001002", "420102001004"])


def test_merge_keeps_largest_code_and_renumbers_children() -> None:
    plan = rectangular_plan()
    small = transfer_area(plan, A, B, box(113.3008, 29.4999, 113.30101, 29.5011)).plan  # B now larger than A
    result = merge_grids(small, [A, B])
    check_invariants(small, result)
    assert result.retired == [A] and (A, B, "merge") in result.lineage
    # merging two level-2 grids: children of the retired one move under the kept one
    result = merge_grids(plan, [L2, L1 + "002"])
    check_invariants(plan, result)
    kept = L2  # equal areas: the smallest code is kept
    assert result.retired[-1] == L1 + "002" or L1 + "002" in result.retired
    kids = result.plan[result.plan["parent_code"] == kept]
    assert len(kids) == 8
    assert {n for o, n, k in result.lineage if k == "renumber"} == set(kids["code"]) - {A, B, C, D}


def test_merge_refusals() -> None:
    plan = rectangular_plan()
    with pytest.raises(EditRefused, match="adjacent"):
        merge_grids(plan, [A, D])  # diagonal: they only touch at a corner
    with pytest.raises(EditRefused, match="sibling"):
        merge_grids(plan, [B, E])  # neighbours, but different parents
    with pytest.raises(EditRefused, match="at least two"):
        merge_grids(plan, [A, A])


def test_transfer_across_a_level2_boundary_moves_the_parents_too() -> None:
    plan = rectangular_plan()
    # B (x 113.301–113.302) gives a 40 m strip to E (x 113.302–113.303), a different parent
    area = box(113.3016, 29.5002, 113.3025, 29.5006)
    result = transfer_area(plan, B, E, area)
    check_invariants(plan, result)
    geoms0, geoms1 = by_code(plan), by_code(result.plan)
    moved = geoms0[B].intersection(area)
    assert geoms1[E].area == pytest.approx(geoms0[E].area + moved.area, rel=1e-9)
    assert geoms1[L2].area == pytest.approx(geoms0[L2].area - moved.area, rel=1e-9)  # parents follow
    assert set(result.reshaped) >= {B, E, L2, L1 + "002"}
    assert result.lineage == [(B, E, "transfer")]


def test_transfer_refusals() -> None:
    plan = rectangular_plan()
    with pytest.raises(EditRefused, match="does not touch"):
        transfer_area(plan, A, D, box(113.3002, 29.5002, 113.3004, 29.5004))
    with pytest.raises(EditRefused, match="does not overlap"):
        transfer_area(plan, A, B, box(113.31, 29.51, 113.32, 29.52))
    with pytest.raises(EditRefused, match="merge_grids"):
        transfer_area(plan, A, B, box(113.2999, 29.4999, 113.3011, 29.5011))
    with pytest.raises(EditRefused, match="children"):
        transfer_area(plan, L2, L1 + "002", box(113.3019, 29.5, 113.3021, 29.501))
    # taking a band through the middle splits the giver in two: not contiguous → refused
    with pytest.raises(EditRefused) as info:
        transfer_area(plan, A, B, box(113.2999, 29.5004, 113.3011, 29.5006))
    assert "multipart" in {f.rule for f in info.value.findings}


def test_reshape_with_a_line_and_with_an_area() -> None:
    plan = rectangular_plan()
    line = LineString([(113.3013, 29.4995), (113.3013, 29.5015)])  # A|B boundary moves east 30 m
    result = reshape_boundary(plan, A, B, line)
    check_invariants(plan, result)
    geoms = by_code(result.plan)
    assert geoms[A].bounds[2] == pytest.approx(113.3013)
    assert result.lineage == [(B, A, "reshape")]
    area = box(113.2999, 29.4999, 113.3007, 29.5011)  # new extent of A: only the west 70 %
    result = reshape_boundary(plan, A, B, area)
    check_invariants(plan, result)
    assert by_code(result.plan)[A].bounds[2] == pytest.approx(113.3007)
    with pytest.raises(EditRefused, match="share no boundary"):
        reshape_boundary(plan, A, D, line)
    with pytest.raises(EditRefused, match="leaves nothing"):
        reshape_boundary(plan, A, B, LineString([(113.2995, 29.4995), (113.2995, 29.5015)]).buffer(0.0001))


def test_reshape_snaps_to_existing_vertices() -> None:
    plan = rectangular_plan()
    # the line ends 20 cm from the corner vertices of A/B: snapped onto them (snap_m=0.5)
    line = LineString([(113.301, 29.5 - 0.000002), (113.3008, 29.5005), (113.301, 29.501 + 0.000002)])
    result = reshape_boundary(plan, A, B, line)
    check_invariants(plan, result)
    coords = {tuple(np.round(c, 7)) for c in shapely.get_coordinates(by_code(result.plan)[A])}
    assert (113.3008, 29.5005) in coords


def test_replace_children() -> None:
    plan = rectangular_plan()
    xs = [113.2999, 113.3007, 113.3013, 113.3021]  # strips overhang the parent: clipped
    kids = [box(xs[i], 29.4999, xs[i + 1], 29.5021) for i in range(3)]
    result = replace_children(plan, L2, kids, names=["西", "中", "东"])
    check_invariants(plan, result)
    assert sorted(result.retired) == [A, B, C, D]
    assert result.added == [L2 + "005", L2 + "006", L2 + "007"]
    assert list(result.plan.set_index("code").loc[result.added, "name"]) == ["西", "中", "东"]
    assert (A, L2 + "005", "replace") in result.lineage and (A, L2 + "007", "replace") not in result.lineage
    # a 2 m wide gap between two new children is refused; a 1 cm one (2.2 m²) is absorbed when tolerated
    gap = 2 / 97_000
    with pytest.raises(EditRefused) as info:
        replace_children(plan, L2, [box(113.2999, 29.4999, 113.301, 29.5021),
                                    box(113.301 + gap, 29.4999, 113.3021, 29.5021)])
    assert info.value.findings[0].rule == "gap" and info.value.findings[0].area_m2 > 1
    ok = replace_children(plan, L2, [box(113.2999, 29.4999, 113.301, 29.5021),
                                     box(113.3010001, 29.4999, 113.3021, 29.5021)], snap_m=0, tolerance_m2=5)
    check_invariants(plan, ok)
    with pytest.raises(EditRefused, match="finest level"):
        replace_children(plan, A, kids)


def test_edit_on_real_municipalities() -> None:
    path = TESTDATA / "li_liechtenstein_osm" / "liechtenstein-2013-08-03.osm.pbf"
    towns = gpd.read_file(path, layer="multipolygons", where="boundary='administrative' AND admin_level='8'")
    codes = towns["other_tags"].str.extract(r'"bfs:OBJECTVAL"=>"(\d+)"')[0]
    plan = make_plan(
        {"code": c, "level": 1, "parent_code": None, "name": n, "geometry": g}
        for c, n, g in zip(codes, towns["name"], towns.to_crs(4490).geometry)
    )
    scheme = CodeScheme((4,))
    geoms = by_code(plan)
    # Vaduz (7001) gives Schaan (7005) a 200 m box on their shared boundary
    shared = geoms["7001"].boundary.intersection(geoms["7005"].boundary)
    centre = shapely.line_interpolate_point(shapely.get_parts(shapely.line_merge(shared))[0], 0.5, normalized=True)
    area = centre.buffer(0.0015)
    result = transfer_area(plan, "7001", "7005", area, scheme=scheme, validate_options={"allow_multipart": True})
    after = by_code(result.plan)
    gained = float(area_m2([after["7005"]])[0] - area_m2([geoms["7005"]])[0])
    lost = float(area_m2([geoms["7001"]])[0] - area_m2([after["7001"]])[0])
    assert gained == pytest.approx(lost, rel=1e-6) and gained > 10_000
    assert validate_plan(result.plan, scheme=scheme, allow_multipart=True).ok


# --- properties over random valid plans ---------------------------------------------------
def _voronoi_plan(
    seeds: list[tuple[float, float]], groups: int, width: int, height: int, *, middle: int = 0
) -> gpd.GeoDataFrame:
    """A plan whose leaves are the Voronoi cells of ``seeds`` (cell units of 0.001°) in a
    ``width × height`` rectangle. Two levels: cells grouped into ``groups`` level-1 grids by
    nearest group seed. With ``middle > 0``, three levels: cells grouped into ``middle``
    level-2 grids, each level-2 grid under the level-1 seed nearest to its own seed."""
    d = 0.001
    rect = box(LON0, LAT0, round(LON0 + width * d, 7), round(LAT0 + height * d, 7))
    xy = np.array([(LON0 + x * d, LAT0 + y * d) for x, y in seeds])
    cells = shapely.get_parts(shapely.voronoi_polygons(shapely.multipoints(xy), extend_to=rect))
    lines = shapely.union_all(np.concatenate([[rect.boundary], shapely.boundary(shapely.intersection(cells, rect))]))
    lines = shapely.set_precision(lines, 1e-7)
    faces = shapely.get_parts(shapely.polygonize(shapely.get_parts(shapely.union_all(shapely.get_parts(lines)))))
    faces = faces[shapely.area(faces) > 0]
    reps = shapely.point_on_surface(faces)
    centres = np.column_stack([shapely.get_x(reps), shapely.get_y(reps)])

    def nearest(points: np.ndarray, targets: np.ndarray) -> np.ndarray:
        return np.argmin(((points[:, None, :] - targets[None, :, :]) ** 2).sum(axis=2), axis=1)

    rows = []
    if middle <= 0:
        group = nearest(centres, xy[:groups])
        for g in range(groups):
            members = faces[group == g]
            if not len(members):
                continue
            code1 = f"420102001{g + 1:03d}"
            rows.append({"code": code1, "level": 1, "parent_code": None, "name": code1,
                         "geometry": shapely.coverage_union_all(members)})
            for k, f in enumerate(members, start=1):
                rows.append({"code": f"{code1}{k:03d}", "level": 2, "parent_code": code1, "name": "", "geometry": f})
    else:
        middle = max(middle, groups)
        mid = nearest(centres, xy[:middle])
        top = nearest(xy[:middle], xy[:groups])
        for g in range(groups):
            code1 = f"420102001{g + 1:03d}"
            level2 = [m for m in range(middle) if top[m] == g and (mid == m).any()]
            if not level2:
                continue
            rows.append({"code": code1, "level": 1, "parent_code": None, "name": code1,
                         "geometry": shapely.coverage_union_all(faces[np.isin(mid, level2)])})
            for j, m in enumerate(level2, start=1):
                code2 = f"{code1}{j:03d}"
                members = faces[mid == m]
                rows.append({"code": code2, "level": 2, "parent_code": code1, "name": "",
                             "geometry": shapely.coverage_union_all(members)})
                for k, f in enumerate(members, start=1):
                    rows.append({"code": f"{code2}{k:03d}", "level": 3, "parent_code": code2, "name": "",
                                 "geometry": f})
    plan = make_plan(rows)
    plan["geometry"] = [shapely.MultiPolygon([g]) if g.geom_type == "Polygon" else g for g in plan.geometry]
    return plan


coord = st.floats(min_value=0.05, max_value=0.95, allow_nan=False)


@st.composite
def plans(draw: st.DrawFn) -> gpd.GeoDataFrame:
    if draw(st.booleans()):
        splits = (
            (draw(st.integers(1, 3)), draw(st.integers(1, 2))),
            (draw(st.integers(1, 3)), draw(st.integers(1, 2))),
            (draw(st.integers(1, 2)), draw(st.integers(1, 3))),
        )
        return rectangular_plan(splits=splits)
    width, height = draw(st.integers(2, 4)), draw(st.integers(2, 3))
    n = draw(st.integers(4, 14))
    seeds = draw(st.lists(st.tuples(coord, coord), min_size=n, max_size=n, unique=True))
    seeds = [(x * width, y * height) for x, y in seeds]
    groups = draw(st.integers(1, 3))
    middle = draw(st.sampled_from([0, 0, 3, 5]))  # two levels, or three with level-2 groups
    plan = _voronoi_plan(seeds, groups, width, height, middle=min(middle, n))
    assume(validate_plan(plan).ok)
    return plan


def _random_point_in(geom: shapely.Geometry, u: float, v: float) -> shapely.Point:
    x0, y0, x1, y1 = geom.bounds
    p = shapely.Point(x0 + u * (x1 - x0), y0 + v * (y1 - y0))
    return p if geom.contains(p) else geom.representative_point()


def _neighbours(plan: gpd.GeoDataFrame, code: str, *, siblings: bool = False) -> list[str]:
    geoms = by_code(plan)
    parent = dict(zip(plan["code"], plan["parent_code"]))
    leaves = set(plan["code"][leaf_mask(plan)])
    out = []
    for other in sorted(leaves - {code}):
        if siblings and parent[other] != parent[code]:
            continue
        if geoms[code].boundary.intersection(geoms[other].boundary).length > 0:
            out.append(other)
    return out


@st.composite
def edits(draw: st.DrawFn, plan: gpd.GeoDataFrame) -> tuple[str, dict]:
    leaves = sorted(plan["code"][leaf_mask(plan)])
    code = draw(st.sampled_from(leaves))
    geom = by_code(plan)[code]
    u, v = draw(coord), draw(coord)
    p = _random_point_in(geom, u, v)
    kind = draw(st.sampled_from(["split", "merge", "transfer", "reshape_line", "reshape_area", "replace",
                                 "split_parent", "merge_parents"]))
    parent_of = dict(zip(plan["code"], plan["parent_code"]))
    if kind in ("split_parent", "merge_parents"):
        # the same operations one level up: children move whole and are re-coded
        parent = parent_of[code]
        if parent is None:
            return "none", {}
        if kind == "merge_parents":
            geoms = by_code(plan)
            same = [c for c, p in parent_of.items() if p == parent_of[parent] and c != parent
                    and geoms[c].boundary.intersection(geoms[parent].boundary).length > 0]
            return (kind, {"codes": [parent, draw(st.sampled_from(same))]}) if same else ("none", {})
        code = parent  # a level-1 parent cannot get codes allocated: refused (level1_code_needed)
        p = _random_point_in(by_code(plan)[code], u, v)
    if kind in ("split", "split_parent"):
        angle = draw(st.floats(0, np.pi))
        dx, dy = 0.01 * np.cos(angle), 0.01 * np.sin(angle)
        line = LineString([(p.x - dx, p.y - dy), (p.x + dx, p.y + dy)])
        return kind, {"code": code, "line": line}
    if kind == "merge":
        nbrs = _neighbours(plan, code, siblings=True)
        other = draw(st.sampled_from(nbrs)) if nbrs else draw(st.sampled_from(leaves))
        return kind, {"codes": [code, other]}
    nbrs = _neighbours(plan, code)
    if not nbrs:
        return "none", {}
    other = draw(st.sampled_from(nbrs))
    shared = by_code(plan)[code].boundary.intersection(by_code(plan)[other].boundary)
    lines = [g for g in shapely.get_parts(shapely.line_merge(shapely.union_all(
        [g for g in shapely.get_parts(shared) if g.geom_type in ("LineString", "MultiLineString")])))]
    q = shapely.line_interpolate_point(lines[0], draw(coord), normalized=True) if lines else p
    size = draw(st.floats(0.00005, 0.0008))
    if kind == "transfer":
        return kind, {"from_code": code, "to_code": other, "area": q.buffer(size, quad_segs=2)}
    if kind == "reshape_area":
        return kind, {"code_a": code, "code_b": other, "new": by_code(plan)[code].union(q.buffer(size, quad_segs=2))}
    if kind == "reshape_line":
        angle = draw(st.floats(0, np.pi))
        dx, dy = 0.01 * np.cos(angle), 0.01 * np.sin(angle)
        return kind, {"code_a": code, "code_b": other, "new": LineString([(q.x - dx, q.y - dy), (q.x + dx, q.y + dy)])}
    # replace: the parent of the chosen leaf gets 1–4 Voronoi children
    parent = dict(zip(plan["code"], plan["parent_code"]))[code]
    if parent is None:
        return "none", {}
    pgeom = by_code(plan)[parent]
    n = draw(st.integers(1, 4))
    pts = [_random_point_in(pgeom, draw(coord), draw(coord)) for _ in range(n)]
    cells = shapely.get_parts(shapely.voronoi_polygons(shapely.MultiPoint(pts), extend_to=pgeom.envelope.buffer(0.001)))
    return kind, {"parent_code": parent, "geoms": list(cells)}


def _apply(plan: gpd.GeoDataFrame, kind: str, args: dict, retired: set[str]) -> EditResult:
    if kind in ("split", "split_parent"):
        return split_grid(plan, args["code"], args["line"], retired_codes=retired)
    if kind in ("merge", "merge_parents"):
        return merge_grids(plan, args["codes"], retired_codes=retired)
    if kind == "transfer":
        return transfer_area(plan, args["from_code"], args["to_code"], args["area"], retired_codes=retired)
    if kind in ("reshape_line", "reshape_area"):
        return reshape_boundary(plan, args["code_a"], args["code_b"], args["new"], retired_codes=retired)
    if kind == "replace":
        return replace_children(plan, args["parent_code"], args["geoms"], retired_codes=retired)
    raise EditRefused("nothing to do")


def _households(plan: gpd.GeoDataFrame, n: int, seed: int) -> gpd.GeoDataFrame:
    x0, y0, x1, y1 = plan.total_bounds
    rng = np.random.default_rng(seed)
    xs = np.round(rng.uniform(x0 - 0.0002, x1 + 0.0002, n), 7)
    ys = np.round(rng.uniform(y0 - 0.0002, y1 + 0.0002, n), 7)
    return gpd.GeoDataFrame({"household_key": [f"h{i}" for i in range(n)], "members": rng.integers(1, 6, n)},
                            geometry=shapely.points(xs, ys), crs=4490)


@settings(max_examples=int(os.environ.get("GRIDGOV_HYPOTHESIS_EXAMPLES", "40")), deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
@given(data=st.data())
def test_any_edit_on_a_valid_plan_gives_a_valid_plan_or_a_refusal(data: st.DataObject) -> None:
    plan = data.draw(plans())
    households = _households(plan, 200, data.draw(st.integers(0, 2**16)))
    assigned0 = assign_to_leaves(households, plan)
    # pretend the next free code under the first level-1 grid was used and retired long ago
    first = sorted(plan["code"])[0]
    retired: set[str] = {SCHEME.next_free_code(first, plan["code"])}
    current = plan
    for _ in range(data.draw(st.integers(1, 3))):
        kind, args = data.draw(edits(current))
        try:
            result = _apply(current, kind, args, retired)
        except EditRefused as refused:
            event(f"{kind}: refused ({refused.findings[0].rule if refused.findings else '-'})")
            assert isinstance(refused, GridGovError) and isinstance(refused, ValueError)
            if kind != "none":
                assert refused.findings, "a refusal must say why"
            continue
        event(f"{kind}: ok")
        check_invariants(current, result, retired)
        retired |= set(result.retired)
        current = result.plan
    assigned1 = assign_to_leaves(households, current)
    inside0 = np.array([a is not None for a in assigned0])
    inside1 = np.array([a is not None for a in assigned1])
    assert inside0.sum() == inside1.sum()  # household counts conserved
    assert (inside1[inside0]).all()  # every household assigned before is assigned after
    assert not set(assigned1[inside1]) & retired
