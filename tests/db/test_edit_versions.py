"""Only grids that changed get new versions (issue #13, point 5), counted on the demo in PostGIS.

A split of one micro-grid writes versions of its new parts and of the ancestors whose outline
really changed — nothing else: no neighbour, no other community's grid, no drift of a parent
recomputed from its children. Counts of ``grid_versions`` rows before and after prove it.
"""

from __future__ import annotations

import geopandas as gpd
import pytest
import shapely
from sqlalchemy import Connection, text

from access.actor import Actor
from boundaries.versions import same_geometry
from services.editing import load_points_for_impact, preview_edit, save_edit, start_edit
from store.grids import load_plan

pytestmark = pytest.mark.db


def _cut(plan: gpd.GeoDataFrame, code: str) -> shapely.LineString:
    """A straight line through the middle of ``code`` across its shorter extent (EPSG:4490)."""
    g = plan.loc[plan["code"] == code, "geometry"].iloc[0]
    minx, miny, maxx, maxy = g.bounds
    c = g.centroid
    if (maxx - minx) >= (maxy - miny):
        return shapely.LineString([(c.x, miny - 0.001), (c.x, maxy + 0.001)])
    return shapely.LineString([(minx - 0.001, c.y), (maxx + 0.001, c.y)])


def _ancestors(plan: gpd.GeoDataFrame, code: str) -> list[str]:
    parent = dict(zip(plan["code"], plan["parent_code"]))
    out, p = [], parent.get(code)
    while isinstance(p, str) and p:
        out.append(p)
        p = parent.get(p)
    return out


def _version_counts(db: Connection) -> dict[str, int]:
    return {c: int(n) for c, n in db.execute(text("SELECT code, count(*) FROM grid_versions GROUP BY code")).all()}


def _micro_grids_in_different_communities(plan: gpd.GeoDataFrame, n: int) -> list[str]:
    micro = plan[plan["level"] == 3].sort_values("code")
    level = dict(zip(plan["code"], plan["level"]))
    picked, seen = [], set()
    for code in micro["code"]:
        community = next(a for a in _ancestors(plan, code) if level[a] == 1)
        if community not in seen:
            seen.add(community)
            picked.append(str(code))
    return picked[:n]


@pytest.mark.parametrize("which", range(3))
def test_a_split_versions_only_the_split_grid_its_parts_and_changed_ancestors(db_conn: Connection, which: int) -> None:
    draft = start_edit(db_conn)
    plan = draft.plan
    codes = _micro_grids_in_different_communities(plan, 3)
    assert len(codes) == 3, "the demo should have micro-grids in three level-1 grids"
    code = codes[which]
    preview = preview_edit(db_conn, draft, "split", points=load_points_for_impact(db_conn), code=code,
                           line=_cut(plan, code))
    assert preview.can_save, preview.report.summary()
    before_counts = _version_counts(db_conn)
    total_before = sum(before_counts.values())

    applied = save_edit(db_conn, preview, actor=Actor("planner", role="planner"), reason="split test")

    after_counts = _version_counts(db_conn)
    new_versions = {c for c in after_counts if after_counts[c] != before_counts.get(c, 0)}
    added = set(applied.changes.added)
    assert len(added) >= 2 and code in applied.changes.retired
    ancestors = set(_ancestors(plan, code))
    # nothing outside the split grid's parts and its parent chain got a version
    assert new_versions - added - ancestors == set(), f"unrelated grids versioned: {sorted(new_versions - added - ancestors)}"
    # and an ancestor only when its outline really changed
    old = plan.set_index("code").geometry
    new = load_plan(db_conn).set_index("code").geometry
    for a in sorted(ancestors):
        changed = not same_geometry(old[a], new[a])
        assert (a in new_versions) == changed, f"{a}: versioned={a in new_versions} changed={changed}"
    # a split inside a grid does not change its parent's outline
    for a in ancestors:
        assert shapely.equals(old[a], new[a])
    # one new row per new version, none elsewhere; every other grid's current version untouched
    assert sum(after_counts.values()) - total_before == len(new_versions) == len(added) + len(new_versions & ancestors)
    unchanged = db_conn.execute(
        text("SELECT count(*) FROM grid_versions WHERE changeset_id = :cs"), {"cs": applied.changeset_id}
    ).scalar_one()
    assert unchanged == len(new_versions)
    closed = db_conn.execute(
        text("SELECT array_agg(code ORDER BY code) FROM grid_versions WHERE valid_to = :t"), {"t": applied.at}
    ).scalar_one()
    assert set(closed) == {code} | (new_versions & ancestors)
