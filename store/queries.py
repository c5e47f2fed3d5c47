"""Read-side queries the app pages call. All SQL of the pages lives here.

Every function takes a SQLAlchemy ``Connection`` or ``Session`` first and, keyword-only,
``scope``: ``None`` (everything) or a sequence of grid-code prefixes the user may see
(an empty sequence sees nothing). Geometries come back in EPSG:4490 (storage CRS) as
GeoDataFrames; areas are m² (geography), times are timezone-aware, and calendar months
and dates are counted in the configured zone (``GRIDGOV_TIMEZONE``, Asia/Shanghai).

Personal data (names, ID numbers, phones of residents) leaves this module as stored: the services
mask it by the viewer's role (:func:`access.masking.mask_for_viewer`) before anyone sees it.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

import geopandas as gpd
import pandas as pd
from sqlalchemy import text

from access.scope import Scope
from governance.vocab import OPEN_EXCLUDED_STATUSES
from gis import clock
from gis.errors import NotFoundError
from store.sql import Executor, geo_frame, like_escape, scope_filter

__all__ = [
    "Scope",
    "IncidentFilter",
    "DueVisits",
    "SearchHit",
    "grids_frame",
    "grid_geometry",
    "households_frame",
    "household_roster",
    "special_household_counts",
    "due_visits",
    "find_staff",
    "search",
    "incident_options",
    "open_incidents",
    "incidents_frame",
    "incident_total",
    "incident_counts_by_grid",
    "incident_monthly_trend",
    "data_version",
    "summary_counts",
    "VISIT_TARGET",
]


#: Visits a micro-grid worker is expected to make each month.
VISIT_TARGET = 10



# -- helpers ----------------------------------------------------------------------------------


def _tz_name() -> str:
    from gis.settings import get_settings

    return get_settings().timezone




# -- grids ------------------------------------------------------------------------------------


def grids_frame(db: Executor, *, levels: Sequence[int] | None = None, scope: Scope | Sequence[str] | None = None) -> gpd.GeoDataFrame:
    """Current grids (``code``, ``name``, ``level``, ``parent_code``, geometry EPSG:4490), by code.

    With a ``scope``, grids inside it plus their ancestors (for context) are returned.
    """
    params: dict[str, Any] = {}
    where = ["TRUE"]
    if levels is not None:
        params["levels"] = [int(v) for v in levels]
        where.append("level = ANY(:levels)")
    scope = None if scope is None else Scope.coerce(scope)
    if scope is not None and not scope.everything:
        inside = scope_filter("code", scope, params)
        ancestors = ("EXISTS (SELECT 1 FROM unnest(CAST(:scope_patterns AS text[])) p WHERE p LIKE code || '%')"
                     if scope.prefixes else "FALSE")
        where.append(f"({inside} OR {ancestors})")
    sql = (
        "SELECT code, name, level, parent_code, ST_AsBinary(geom) AS geom FROM grids WHERE "
        + " AND ".join(where)
        + " ORDER BY level, code"
    )
    frame = geo_frame(db, sql, params)
    frame["level"] = frame["level"].astype("int64")
    return frame


def grid_geometry(db: Executor, code: str, *, scope: Scope | Sequence[str] | None = None) -> gpd.GeoDataFrame:
    """One current grid (same columns as :func:`grids_frame`); NotFoundError if absent or out of scope."""
    params: dict[str, Any] = {"code": code}
    sql = (
        "SELECT code, name, level, parent_code, ST_AsBinary(geom) AS geom FROM grids WHERE code = :code AND "
        + scope_filter("code", scope, params)
    )
    frame = geo_frame(db, sql, params)
    if frame.empty:
        raise NotFoundError(f"no current grid has the code {code!r} (or it is outside your grids)", code="grid.not_found_in_scope", params={"code": code})
    return frame


# -- households and visits --------------------------------------------------------------------


def households_frame(db: Executor, *, grid_prefix: str | None = None, scope: Scope | Sequence[str] | None = None) -> gpd.GeoDataFrame:
    """Households (id, household_key, address, members, special_kinds as text, grid_code; points EPSG:4490)."""
    params: dict[str, Any] = {}
    where = [scope_filter("grid_code", scope, params)]
    if grid_prefix:
        params["prefix"] = grid_prefix + "%"
        where.append("grid_code LIKE :prefix")
    sql = (
        "SELECT id, household_key, address, members, array_to_string(special_kinds, ',') AS special_kinds, "
        "grid_code, ST_AsBinary(geom) AS geom FROM households WHERE " + " AND ".join(where) + " ORDER BY grid_code, id"
    )
    return geo_frame(db, sql, params)


def household_roster(db: Executor, code: str, *, scope: Scope | Sequence[str] | None = None) -> pd.DataFrame:
    """Households in grid ``code`` (and below) with their residents, personal data as stored.

    Show it only through :func:`services.households.household_roster`, which masks it as the
    viewer's role says and audits unmasked reads.

    One row per resident (a household without residents has one row with empty person
    fields). Columns: household_id, address, special_kinds, members, name, relation,
    id_number, phone, grid_code.
    """
    params: dict[str, Any] = {"prefix": code + "%"}
    sql = (
        "SELECT h.id AS household_id, h.address, array_to_string(h.special_kinds, ',') AS special_kinds, "
        "h.members, r.name, r.relation, r.id_number, r.phone, h.grid_code "
        "FROM households h LEFT JOIN residents r ON r.household_id = h.id "
        "WHERE h.grid_code LIKE :prefix AND " + scope_filter("h.grid_code", scope, params) + " ORDER BY h.grid_code, h.id, r.id"
    )
    result = db.execute(text(sql), params)
    table = pd.DataFrame([dict(r) for r in result.mappings().all()], columns=list(result.keys()))
    return table


@dataclass(frozen=True)
class DueVisits:
    """This month's visiting work in a grid.

    ``households``: special households with no visit this month (household_id, address,
    special_kinds, last_visit). ``visits_done``: visits recorded this month in the grid;
    ``still_needed``: ``max(0, target - visits_done)``.
    """

    month: str
    households: pd.DataFrame
    visits_done: int
    target: int = VISIT_TARGET
    still_needed: int = field(default=0)


def due_visits(
    db: Executor, code: str, *, now: dt.datetime | None = None, target: int = VISIT_TARGET, scope: Scope | Sequence[str] | None = None,
    tz: str | None = None,
) -> DueVisits:
    """Special households in grid ``code`` (and below) not yet visited this calendar month.

    The month is the one containing ``now`` (default: the current time) in ``tz``
    (default ``GRIDGOV_TIMEZONE``, Asia/Shanghai): a visit at 23:30 UTC on the last day of
    a month counts for the next month in Shanghai.
    """
    month, start, end = clock.month_of(now, tz)
    params: dict[str, Any] = {"prefix": code + "%", "start": start, "end": end}
    scope_h = scope_filter("h.grid_code", scope, params)
    sql = f"""
        SELECT h.id AS household_id, h.address, array_to_string(h.special_kinds, ',') AS special_kinds,
               h.grid_code, (SELECT max(v.visited_at) FROM visits v WHERE v.household_id = h.id) AS last_visit
        FROM households h
        WHERE h.grid_code LIKE :prefix AND cardinality(h.special_kinds) > 0 AND {scope_h}
          AND NOT EXISTS (SELECT 1 FROM visits v WHERE v.household_id = h.id
                          AND v.visited_at >= :start AND v.visited_at < :end)
        ORDER BY h.grid_code, h.id
    """
    result = db.execute(text(sql), params)
    households = pd.DataFrame([dict(r) for r in result.mappings().all()], columns=list(result.keys()))
    params_v: dict[str, Any] = {"prefix": code + "%", "start": start, "end": end}
    done = db.execute(
        text(
            "SELECT count(*) FROM visits v LEFT JOIN households h ON h.id = v.household_id "
            "WHERE coalesce(v.grid_code, h.grid_code) LIKE :prefix AND v.visited_at >= :start AND v.visited_at < :end AND "
            + scope_filter("coalesce(v.grid_code, h.grid_code)", scope, params_v)
        ),
        params_v,
    ).scalar_one()
    return DueVisits(
        month=month, households=households, visits_done=int(done), target=target, still_needed=max(0, target - int(done))
    )


# -- staff and search -------------------------------------------------------------------------


def find_staff(db: Executor, query: str, *, scope: Scope | Sequence[str] | None = None, on: dt.date | None = None) -> pd.DataFrame:
    """Current assignments of staff whose name contains ``query`` or whose phone equals it (digits).

    Columns: staff_id, name, phone, role, grid_code, grid_name.
    """
    q = query.strip()
    if not q:
        return pd.DataFrame(columns=["staff_id", "name", "phone", "role", "grid_code", "grid_name"])
    digits = re.sub(r"\D", "", q)
    params: dict[str, Any] = {
        "name": f"%{like_escape(q)}%",
        "phone": digits if len(digits) >= 7 else None,
        "d": on or clock.today(),
    }
    sql = (
        "SELECT s.id AS staff_id, s.name, s.phone, sa.role, sa.grid_code, g.name AS grid_name "
        "FROM staff s JOIN staff_assignments sa ON sa.staff_id = s.id LEFT JOIN grids g ON g.code = sa.grid_code "
        "WHERE (s.name ILIKE :name ESCAPE '\\' OR (CAST(:phone AS text) IS NOT NULL AND regexp_replace(coalesce(s.phone, ''), '\\D', '', 'g') = :phone)) "
        "AND sa.start_date <= :d AND (sa.end_date IS NULL OR sa.end_date >= :d) AND "
        + scope_filter("sa.grid_code", scope, params)
        + " ORDER BY s.name, sa.grid_code, sa.role"
    )
    result = db.execute(text(sql), params)
    return pd.DataFrame([dict(r) for r in result.mappings().all()], columns=list(result.keys()))




@dataclass(frozen=True)
class SearchHit:
    """One search result: what matched, the grid to zoom to, and its bounds (EPSG:4490 degrees)."""

    kind: str  # "grid" | "staff" | "household"
    label: str
    code: str
    bounds: tuple[float, float, float, float]


def search(db: Executor, query: str, *, scope: Scope | Sequence[str] | None = None, limit: int = 20) -> list[SearchHit]:
    """Grids by code (prefix) or name, staff by name (their grids), households by address.

    Results are ordered grids first, then staff, then households; at most ``limit``.
    """
    q = query.strip()
    if not q:
        return []
    params: dict[str, Any] = {"like": f"%{like_escape(q)}%", "limit": int(limit)}
    scope_g = scope_filter("g.code", scope, params)
    code_clause = "g.code LIKE :code_prefix" if q.isdigit() else "FALSE"
    if q.isdigit():
        params["code_prefix"] = q + "%"
    sql = f"""
        (SELECT 'grid' AS kind, g.code || ' ' || g.name AS label, g.code, 0 AS rank, g.level AS sub,
                ST_XMin(g.geom) AS minx, ST_YMin(g.geom) AS miny, ST_XMax(g.geom) AS maxx, ST_YMax(g.geom) AS maxy
         FROM grids g WHERE ({code_clause} OR g.name ILIKE :like ESCAPE '\\') AND {scope_g}
         ORDER BY g.level, g.code LIMIT :limit)
        UNION ALL
        (SELECT DISTINCT 'staff', s.name || ' · ' || sa.role || ' · ' || g.code, g.code, 1, 0,
                ST_XMin(g.geom), ST_YMin(g.geom), ST_XMax(g.geom), ST_YMax(g.geom)
         FROM staff s JOIN staff_assignments sa ON sa.staff_id = s.id JOIN grids g ON g.code = sa.grid_code
         WHERE s.name ILIKE :like ESCAPE '\\' AND (sa.end_date IS NULL OR sa.end_date >= CURRENT_DATE) AND {scope_g}
         LIMIT :limit)
        UNION ALL
        (SELECT 'household', h.address, g.code, 2, 0,
                ST_X(h.geom) - 0.0005, ST_Y(h.geom) - 0.0005, ST_X(h.geom) + 0.0005, ST_Y(h.geom) + 0.0005
         FROM households h JOIN grids g ON g.code = h.grid_code
         WHERE h.address ILIKE :like ESCAPE '\\' AND {scope_g}
         ORDER BY h.address LIMIT :limit)
    """
    rows = db.execute(text(sql), params).all()
    rows = sorted(rows, key=lambda r: (r.rank, r.sub, r.code, r.label))[:limit]
    return [
        SearchHit(kind=r.kind, label=r.label, code=r.code, bounds=(float(r.minx), float(r.miny), float(r.maxx), float(r.maxy)))
        for r in rows
    ]


# -- incidents --------------------------------------------------------------------------------


@dataclass(frozen=True)
class IncidentFilter:
    """Which incidents a leader looks at.

    ``start``/``end``: reporting dates, inclusive, in the local zone (None: open).
    ``categories``/``statuses``: empty means all.
    """

    start: dt.date | None = None
    end: dt.date | None = None
    categories: tuple[str, ...] = ()
    statuses: tuple[str, ...] = ()


def _incident_where(filt: IncidentFilter, scope: Scope, params: dict[str, Any], *, alias: str = "i") -> str:
    zone = ZoneInfo(_tz_name())
    where = []
    if filt.start is not None:
        params["start"] = dt.datetime.combine(filt.start, dt.time(), tzinfo=zone)
        where.append(f"{alias}.reported_at >= :start")
    if filt.end is not None:
        params["end"] = dt.datetime.combine(filt.end + dt.timedelta(days=1), dt.time(), tzinfo=zone)
        where.append(f"{alias}.reported_at < :end")
    if filt.categories:
        params["categories"] = list(filt.categories)
        where.append(f"{alias}.category = ANY(:categories)")
    if filt.statuses:
        params["statuses"] = list(filt.statuses)
        where.append(f"{alias}.status = ANY(:statuses)")
    if scope is not None:
        where.append(scope_filter(f"{alias}.grid_code", scope, params))
    return " AND ".join(where) or "TRUE"


def open_incidents(db: Executor, code: str, *, scope: Scope | Sequence[str] | None = None, limit: int = 200) -> pd.DataFrame:
    """Incidents in grid ``code`` (and below) not closed or rejected, newest first.

    Columns: id, reported_at, category, status, address, description, grid_code.
    """
    params: dict[str, Any] = {"prefix": code + "%", "limit": int(limit), "done": list(OPEN_EXCLUDED_STATUSES)}
    sql = (
        "SELECT id, reported_at, category, status, address, description, grid_code FROM incidents "
        "WHERE grid_code LIKE :prefix AND status <> ALL(:done) AND " + scope_filter("grid_code", scope, params)
        + " ORDER BY reported_at DESC, id DESC LIMIT :limit"
    )
    result = db.execute(text(sql), params)
    return pd.DataFrame([dict(r) for r in result.mappings().all()], columns=list(result.keys()))


def incident_options(db: Executor, *, scope: Scope | Sequence[str] | None = None) -> dict[str, Any]:
    """Filter choices: categories and statuses present, and the first/last reporting date (local)."""
    params: dict[str, Any] = {"tz": _tz_name()}
    where = scope_filter("grid_code", scope, params)
    row = db.execute(
        text(
            "SELECT min((reported_at AT TIME ZONE :tz)::date) AS first, max((reported_at AT TIME ZONE :tz)::date) AS last, "
            f"array_agg(DISTINCT category) AS categories, array_agg(DISTINCT status) AS statuses FROM incidents WHERE {where}"
        ),
        params,
    ).one()
    return {
        "first": row.first,
        "last": row.last,
        "categories": sorted(c for c in (row.categories or []) if c is not None),
        "statuses": sorted(s for s in (row.statuses or []) if s is not None),
    }


def incidents_frame(db: Executor, filt: IncidentFilter = IncidentFilter(), *, scope: Scope | Sequence[str] | None = None) -> gpd.GeoDataFrame:
    """Incidents matching ``filt`` (id, reported_at, month 'YYYY-MM' local, category, status,
    description, address, grid_code; points EPSG:4490), oldest first."""
    params: dict[str, Any] = {"tz": _tz_name()}
    where = _incident_where(filt, scope, params)
    sql = (
        "SELECT i.id, i.reported_at, to_char(i.reported_at AT TIME ZONE :tz, 'YYYY-MM') AS month, i.category, i.status, "
        "i.description, i.address, i.grid_code, ST_AsBinary(i.geom) AS geom FROM incidents i WHERE "
        + where
        + " ORDER BY i.reported_at, i.id"
    )
    return geo_frame(db, sql, params)


def incident_total(db: Executor, filt: IncidentFilter = IncidentFilter(), *, scope: Scope | Sequence[str] | None = None) -> dict[str, int]:
    """``{"incidents": n, "closed": n, "unassigned": n}`` over the filter (one SQL count)."""
    params: dict[str, Any] = {}
    where = _incident_where(filt, scope, params)
    row = db.execute(
        text(
            "SELECT count(*) AS incidents, count(*) FILTER (WHERE i.status = 'closed') AS closed, "
            f"count(*) FILTER (WHERE i.grid_code IS NULL) AS unassigned FROM incidents i WHERE {where}"
        ),
        params,
    ).one()
    return {"incidents": int(row.incidents), "closed": int(row.closed), "unassigned": int(row.unassigned)}


def incident_counts_by_grid(
    db: Executor, filt: IncidentFilter = IncidentFilter(), *, level: int, scope: Scope | Sequence[str] | None = None
) -> gpd.GeoDataFrame:
    """Per current grid at ``level``: incidents, closed, closure_rate (closed/incidents, NaN if 0).

    Incidents count towards the grid whose code prefixes their micro-grid code; grids with
    no incident are included with 0. Sorted by incidents descending, then code.
    """
    params: dict[str, Any] = {"level": int(level)}
    where = _incident_where(filt, scope, params)
    scope_g = scope_filter("g.code", scope, params)
    sql = f"""
        WITH i AS (SELECT i.grid_code, i.status FROM incidents i WHERE {where} AND i.grid_code IS NOT NULL)
        SELECT g.code, g.name, g.level, count(i.grid_code) AS incidents,
               count(i.grid_code) FILTER (WHERE i.status = 'closed') AS closed,
               ST_AsBinary(g.geom) AS geom
        FROM grids g LEFT JOIN i ON left(i.grid_code, length(g.code)) = g.code
        WHERE g.level = :level AND {scope_g}
        GROUP BY g.code, g.name, g.level, g.geom
        ORDER BY count(i.grid_code) DESC, g.code
    """
    frame = geo_frame(db, sql, params)
    frame["incidents"] = frame["incidents"].astype("int64")
    frame["closed"] = frame["closed"].astype("int64")
    frame["closure_rate"] = (frame["closed"] / frame["incidents"].where(frame["incidents"] > 0)).astype("float64")
    return frame


def incident_monthly_trend(db: Executor, filt: IncidentFilter = IncidentFilter(), *, scope: Scope | Sequence[str] | None = None) -> pd.DataFrame:
    """month ('YYYY-MM', local zone), incidents, closed — one row per month with incidents."""
    params: dict[str, Any] = {"tz": _tz_name()}
    where = _incident_where(filt, scope, params)
    result = db.execute(
        text(
            "SELECT to_char(i.reported_at AT TIME ZONE :tz, 'YYYY-MM') AS month, count(*) AS incidents, "
            f"count(*) FILTER (WHERE i.status = 'closed') AS closed FROM incidents i WHERE {where} "
            "GROUP BY 1 ORDER BY 1"
        ),
        params,
    )
    table = pd.DataFrame([dict(r) for r in result.mappings().all()], columns=list(result.keys()))
    return table.astype({"incidents": "int64", "closed": "int64"})


def summary_counts(db: Executor, *, scope: Scope | Sequence[str] | None = None) -> dict[str, int]:
    """``{"grids": n, "households": n, "incidents": n}`` inside the scope (one round trip)."""
    params: dict[str, Any] = {}
    row = db.execute(
        text(
            f"SELECT (SELECT count(*) FROM grids WHERE {scope_filter('code', scope, params)}) AS grids, "
            f"(SELECT count(*) FROM households WHERE {scope_filter('grid_code', scope, params)}) AS households, "
            f"(SELECT count(*) FROM incidents WHERE {scope_filter('grid_code', scope, params)}) AS incidents"
        ),
        params,
    ).one()
    return {"grids": int(row.grids), "households": int(row.households), "incidents": int(row.incidents)}


def data_version(db: Executor) -> str:
    """A token that changes whenever any data changes (grids, households, staff, visits, incidents …).

    Cached loaders key on it, so a write elsewhere (CLI import, editor) invalidates them.
    """
    # Every write to a data table leaves an audit entry (database triggers), so the newest write
    # entry's id is the version; the same for every account, whatever it may see.
    return str(db.execute(text("SELECT gridgov.data_version()")).scalar_one())


def points_for_impact(db: Executor) -> dict[str, Any]:
    """Households, open incidents and active staff assignments for an edit's impact preview.

    ``households``: household_key, members, special (bool), points EPSG:4490; ``incidents``:
    incident_key (``id:N`` when it has none), points; ``staff_assignments``: staff_key, name,
    role, grid_code of the assignments active today (local date).
    """
    households = geo_frame(
        db,
        "SELECT household_key, members, cardinality(special_kinds) > 0 AS special, ST_AsBinary(geom) AS geom "
        "FROM households ORDER BY id",
    )
    households["members"] = households["members"].astype("int64")
    households["special"] = households["special"].astype(bool)
    incidents = geo_frame(
        db,
        "SELECT coalesce(incident_key, 'id:' || id) AS incident_key, ST_AsBinary(geom) AS geom FROM incidents "
        "WHERE status <> ALL(:done) ORDER BY id",
        {"done": list(OPEN_EXCLUDED_STATUSES)},
    )
    result = db.execute(
        text(
            "SELECT s.staff_key, s.name, sa.role, sa.grid_code FROM staff_assignments sa JOIN staff s ON s.id = sa.staff_id "
            "WHERE sa.start_date <= :d AND (sa.end_date IS NULL OR sa.end_date >= :d) ORDER BY sa.id"
        ),
        {"d": clock.today()},
    )
    staff = pd.DataFrame([tuple(r) for r in result.all()], columns=["staff_key", "name", "role", "grid_code"])
    return {"households": households, "incidents": incidents, "staff_assignments": staff}


def special_household_counts(db: Executor, *, level: int, scope: Scope | Sequence[str] | None = None) -> pd.DataFrame:
    """Households and special households per grid of ``level`` (current plan), exact.

    Columns: code, name, households, special_households and one ``special_<kind>`` per special kind
    (:data:`governance.vocab.SPECIAL_KINDS`; a household of two kinds counts in both). Grids outside
    ``scope`` are left out; households are those the connection may read (row-level security).
    The services suppress small counts for viewers who are not the grid's own people
    (:mod:`access.disclosure`).
    """
    from governance.vocab import SPECIAL_KINDS

    params: dict[str, Any] = {"level": int(level)}
    kinds = ", ".join(
        f"count(h.id) FILTER (WHERE :kind_{i} = ANY(h.special_kinds)) AS special_{kind}"
        for i, kind in enumerate(SPECIAL_KINDS)
    )
    params.update({f"kind_{i}": kind for i, kind in enumerate(SPECIAL_KINDS)})
    result = db.execute(
        text(
            f"""
            SELECT g.code, g.name, count(h.id) AS households,
                   count(h.id) FILTER (WHERE cardinality(h.special_kinds) > 0) AS special_households, {kinds}
            FROM grids g LEFT JOIN households h ON left(h.grid_code, length(g.code)) = g.code
            WHERE g.level = :level AND {scope_filter('g.code', scope, params)}
            GROUP BY g.code, g.name ORDER BY g.code
            """
        ),
        params,
    )
    frame = pd.DataFrame([tuple(r) for r in result.all()], columns=list(result.keys()))
    counts = [c for c in frame.columns if c not in ("code", "name")]
    return frame.astype({c: "int64" for c in counts})
