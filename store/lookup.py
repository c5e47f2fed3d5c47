"""Read-side lookups shared by the CLI and the app: which grid is here, and its card.

All geometry is EPSG:4490; distances are metres on the CGCS2000 ellipsoid (geography).
Lookups run against ``grid_versions`` so the same query answers "now" (``as_of=None``)
and "as it was on a date". Households and incidents are counted by their assigned
micro-grid code, so a grid of any level counts the micro-grids below it (code prefix).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import text

import shapely

from boundaries.assign import ancestor_at_level
from boundaries.coding import CodeScheme, default_scheme
from governance.cards import LEADER_ROLES, GridCard, StaffMember
from governance.vocab import STAFF_ROLES, TERMINAL_STATUSES
from gis import clock
from gis.errors import NotFoundError
from store.grids import assign_points_at
from store.sql import SRID, Executor, as_of_param, valid_at

__all__ = [
    "StaffMember",
    "GridCard",
    "NearestGrid",
    "GridNotFoundAtPoint",
    "grid_card",
    "grid_at_point",
    "nearest_grid",
    "lookup_point",
    "subdistrict_stats",
]



@dataclass(frozen=True)
class NearestGrid:
    code: str
    name: str
    distance_m: float


class GridNotFoundAtPoint(NotFoundError):
    """No grid covers the point; ``nearest`` says which grid is closest and how far (m)."""

    def __init__(self, lon: float, lat: float, nearest: NearestGrid | None) -> None:
        self.lon, self.lat, self.nearest = lon, lat, nearest
        where = f"({lon:.6f}, {lat:.6f})"
        if nearest is None:
            msg = f"no grid covers the point {where}, and there are no grids at all"
            super().__init__(msg, code="point.outside_no_grids")
        else:
            msg = (
                f"no grid covers the point {where}; the nearest is {nearest.code} {nearest.name} "
                f"at {nearest.distance_m:.0f} m"
            )
            super().__init__(msg, code="point.outside", params={"code": nearest.code, "name": nearest.name,
                                                                "distance": nearest.distance_m})


def grid_at_point(
    db: Executor, lon: float, lat: float, *, level: int | None = None, as_of: dt.datetime | dt.date | None = None,
    scheme: CodeScheme | None = None,
) -> str | None:
    """Code of the grid at ``level`` (default: the finest) covering (lon, lat) in EPSG:4490.

    The one rule of :mod:`boundaries.assign` (the leaf covering the point; on a shared
    boundary the smallest code wins), so a single lookup always agrees with bulk assignment;
    a coarser ``level`` is the leaf's ancestor at that level.
    """
    scheme = scheme or default_scheme()
    level = level or scheme.finest_level
    [leaf] = assign_points_at(db, [shapely.Point(float(lon), float(lat))], as_of=as_of)
    return ancestor_at_level(leaf, level, scheme)


def nearest_grid(
    db: Executor, lon: float, lat: float, *, level: int | None = None, as_of: dt.datetime | dt.date | None = None,
    scheme: CodeScheme | None = None,
) -> NearestGrid | None:
    """The grid at ``level`` nearest to (lon, lat), with its distance in metres (geography)."""
    scheme = scheme or default_scheme()
    level = level or scheme.finest_level
    row = db.execute(
        text(
            f"""
            WITH p AS (SELECT ST_SetSRID(ST_MakePoint(:lon, :lat), {SRID}) AS g)
            SELECT gv.code, gv.name,
                   ST_Distance(gv.geom::geography, p.g::geography) AS d
            FROM grid_versions gv, p
            WHERE gv.level = :level AND {valid_at('gv')}
            ORDER BY gv.geom <-> p.g, gv.code
            LIMIT 5
            """
        ),
        {"lon": lon, "lat": lat, "level": level, "as_of": as_of_param(as_of)},
    ).all()
    if not row:
        return None
    # The index orders by planar degrees; re-rank the few candidates by true distance.
    code, name, distance = min(row, key=lambda r: (r[2], r[0]))
    return NearestGrid(code=code, name=name, distance_m=float(distance))


def grid_card(
    db: Executor, code: str, *, as_of: dt.datetime | dt.date | None = None, scheme: CodeScheme | None = None
) -> GridCard:
    """The card of grid ``code`` (any level), as now or as of a date.

    Raises
    ------
    InvalidGridCodeError
        ``code`` does not follow the code scheme.
    NotFoundError
        No grid has that code (at that date).
    """
    scheme = scheme or default_scheme()
    scheme.parse(code)
    when = as_of_param(as_of)
    params = {"code": code, "as_of": when}
    row = db.execute(
        text(
            f"""
            SELECT gv.code, gv.name, gv.level, gv.parent_code, gv.version,
                   ST_Area(gv.geom::geography) AS area_m2
            FROM grid_versions gv WHERE gv.code = :code AND {valid_at('gv')}
            """
        ),
        params,
    ).first()
    if row is None:
        retired = db.execute(
            text("SELECT status FROM grid_codes WHERE code = :code"), {"code": code}
        ).scalar()
        if retired == "retired":
            raise NotFoundError(f"grid {code} is retired; see its lineage for the grids that replaced it", code="grid.retired", params={"code": code})
        raise NotFoundError(f"no grid has the code {code}" + (f" on {as_of}" if as_of else ""), code="grid.not_found", params={"code": code})
    ancestors = scheme.ancestors_of(code)
    names = dict(
        db.execute(
            text(f"SELECT gv.code, gv.name FROM grid_versions gv WHERE gv.code = ANY(:codes) AND {valid_at('gv')}"),
            {"codes": ancestors, "as_of": when},
        ).all()
    ) if ancestors else {}
    staff_date = clock.local_date(when) if when else clock.today()
    people = [
        StaffMember(name=r.name, role=r.role, phone=r.phone, grid_code=r.grid_code, building_no=r.building_no,
                    staff_id=int(r.staff_id))
        for r in db.execute(
            text(
                """
                SELECT s.id AS staff_id, s.name, sa.role, s.phone, sa.grid_code, sa.building_no
                FROM staff_assignments sa JOIN staff s ON s.id = sa.staff_id
                WHERE (sa.grid_code = :code OR (sa.grid_code = ANY(:ancestors) AND sa.role = ANY(:leader_roles)))
                  AND sa.start_date <= :d AND (sa.end_date IS NULL OR sa.end_date >= :d)
                ORDER BY array_position(CAST(:roles AS text[]), sa.role), s.name
                """
            ),
            {"code": code, "ancestors": ancestors, "leader_roles": list(LEADER_ROLES), "d": staff_date,
             "roles": list(STAFF_ROLES)},
        ).all()
    ]
    staff = [m for m in people if m.grid_code == code]
    leaders = [m for m in people if m.grid_code != code]
    counts = db.execute(
        text(
            """
            SELECT count(*) AS households,
                   count(*) FILTER (WHERE cardinality(special_kinds) > 0) AS special,
                   coalesce(sum(members), 0) AS residents
            FROM households WHERE grid_code LIKE :prefix
            """
        ),
        {"prefix": code + "%"},
    ).one()
    open_incidents = db.execute(
        text("SELECT count(*) FROM incidents WHERE grid_code LIKE :prefix AND status <> ALL(:done)"),
        {"prefix": code + "%", "done": list(TERMINAL_STATUSES)},
    ).scalar_one()
    children: list[tuple[str, str]] = []
    if row.level < scheme.finest_level:
        children = [
            (c, n)
            for c, n in db.execute(
                text(
                    f"SELECT gv.code, gv.name FROM grid_versions gv WHERE gv.parent_code = :code AND {valid_at('gv')} ORDER BY gv.code"
                ),
                params,
            ).all()
        ]
    return GridCard(
        code=row.code,
        name=row.name,
        level=int(row.level),
        parent_code=row.parent_code,
        parents=[(c, names.get(c, "")) for c in ancestors],
        staff=staff,
        households=int(counts.households),
        special_households=int(counts.special),
        residents=int(counts.residents),
        open_incidents=int(open_incidents),
        area_m2=float(row.area_m2),
        children=children,
        version=int(row.version),
        leaders=leaders,
        on=staff_date,
    )


def lookup_point(
    db: Executor, lon: float, lat: float, *, as_of: dt.datetime | dt.date | None = None,
    scheme: CodeScheme | None = None,
) -> list[GridCard]:
    """Cards of the finest grid covering (lon, lat) and of all its parents (finest first).

    Raises
    ------
    GridNotFoundAtPoint
        No grid covers the point; carries the nearest grid and its distance in metres.
    """
    scheme = scheme or default_scheme()
    code = grid_at_point(db, lon, lat, as_of=as_of, scheme=scheme)
    if code is None:
        raise GridNotFoundAtPoint(lon, lat, nearest_grid(db, lon, lat, as_of=as_of, scheme=scheme))
    chain = [code, *reversed(scheme.ancestors_of(code))]
    return [grid_card(db, c, as_of=as_of, scheme=scheme) for c in chain]


def subdistrict_stats(db: Executor) -> dict[str, Any]:
    """Headline counts: grids per level, households, residents, staff, incidents by status, unassigned."""
    grids = {
        int(level): int(n)
        for level, n in db.execute(text("SELECT level, count(*) FROM grids GROUP BY level ORDER BY level")).all()
    }
    by_status = {
        status: int(n)
        for status, n in db.execute(text("SELECT status, count(*) FROM incidents GROUP BY status ORDER BY status")).all()
    }
    row = db.execute(
        text(
            """
            SELECT (SELECT count(*) FROM households) AS households,
                   (SELECT count(*) FROM households WHERE cardinality(special_kinds) > 0) AS special_households,
                   (SELECT count(*) FROM residents) AS residents,
                   (SELECT count(*) FROM staff) AS staff,
                   (SELECT count(*) FROM incidents) AS incidents,
                   (SELECT count(*) FROM households WHERE grid_code IS NULL) AS unassigned_households,
                   (SELECT count(*) FROM incidents WHERE grid_code IS NULL) AS unassigned_incidents
            """
        )
    ).one()
    return {
        "grids_by_level": grids,
        "households": int(row.households),
        "special_households": int(row.special_households),
        "residents": int(row.residents),
        "staff": int(row.staff),
        "incidents": int(row.incidents),
        "incidents_by_status": by_status,
        "unassigned_households": int(row.unassigned_households),
        "unassigned_incidents": int(row.unassigned_incidents),
    }
