"""PostGIS reads and writes for the governance workflows (SQLAlchemy Core).

Every function takes an open ``Connection`` or ``Session`` (``db``) and runs inside the
caller's transaction: the caller commits (``with engine.begin() as conn`` or
:func:`store.engine.session_scope`). Geometries are EPSG:4490; times are stored aware.

Optimistic locking: a transition reads the incident, applies the pure rule
(:func:`governance.workflow.apply_transition`) and writes with
``UPDATE incidents ... WHERE id = :id AND version = :read_version``. When two people act on
the same incident at once, the second ``UPDATE`` waits for the first transaction's row lock,
then matches no row, and :class:`gis.errors.StaleVersionError` names the incident and the
newer event. The event log only ever receives the winner's event.
"""

from __future__ import annotations

import datetime as dt
import logging
import math
from collections.abc import Iterable, Sequence
from typing import Any

import pandas as pd
from sqlalchemy import bindparam, func, insert, select, text, update
from sqlalchemy.dialects.postgresql import insert as pg_insert

from boundaries.coding import CodeScheme, default_scheme
from access.scope import Scope
from governance.vocab import TERMINAL_STATUSES
from store.incident_records import reference_of, with_reference
from store.sql import SRID, Executor, scope_filter
from store.models import (
    GridCode,
    Household,
    Incident,
    IncidentEvent,
    Staff,
    StaffAssignment,
    Visit,
)
from gis.errors import CoordinateRangeError, NotFoundError, StaleVersionError, ValidationError

from gis import clock
from gis.clock import month_bounds, require_aware
from gis.plausibility import check_moment, check_text
from governance.deadlines import DeadlinePolicy
from governance.capture import check_request_key
from governance.visits import VisitContext, VisitRecord, validate_visit
from governance.vocab import VISIT_KIND_TERMS
from governance.workflow import EventRecord, IncidentState, apply_transition, report_event

__all__ = [
    "Executor",
    "report_incident",
    "load_incident_state",
    "transition_incident",
    "incident_detail",
    "proposed_assignee",
    "record_visit",
    "record_visit_once",
    "report_incident_once",
    "load_frames",
    "load_incidents",
    "incident_points",
    "load_staff",
    "load_grids",
    "load_assignments",
    "load_roster",
    "staff_id_by_key",
    "staff_table",
    "staff_exists",
]

logger = logging.getLogger(__name__)


_incidents = Incident.__table__
_events = IncidentEvent.__table__
_staff = Staff.__table__
_assignments = StaffAssignment.__table__
_households = Household.__table__
_visits = Visit.__table__
_codes = GridCode.__table__








def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _point(lon: float, lat: float):  # noqa: ANN202 - SQL expression
    return func.ST_SetSRID(func.ST_MakePoint(lon, lat), SRID)


def _check_lonlat(lon: float, lat: float) -> None:
    if not (math.isfinite(lon) and math.isfinite(lat)):
        raise CoordinateRangeError(f"point ({lon}, {lat}) is not a finite lon/lat in degrees (EPSG:4490)", code="location.not_finite")
    if not (-180.0 <= lon <= 180.0 and -90.0 <= lat <= 90.0):
        raise CoordinateRangeError(
            f"point ({lon}, {lat}) is not lon/lat in degrees (EPSG:4490); expected lon in [-180, 180], "
            "lat in [-90, 90] (are they swapped or projected metres?)", code="location.range", params={"lon": lon, "lat": lat}
        )


# -- incidents ----------------------------------------------------------------------------------
def _grid_at(db: Executor, lon: float, lat: float, *, as_of: dt.datetime | None, scheme: CodeScheme) -> str | None:
    from store.lookup import grid_at_point

    return grid_at_point(db, lon, lat, as_of=as_of, scheme=scheme)


def report_incident(
    db: Executor,
    *,
    lon: float,
    lat: float,
    category: str,
    description: str = "",
    address: str = "",
    actor: str,
    reported_at: dt.datetime | None = None,
    reported_by: int | None = None,
    reporter_name: str | None = None,
    incident_key: str | None = None,
    allow_outside: bool = False,
    scheme: CodeScheme | None = None,
    request_key: str | None = None,
) -> int:
    """Insert a reported incident at (lon, lat) EPSG:4490 with its ``report`` event; return its id.

    ``request_key`` (:mod:`governance.capture`): the form's idempotency key; when an incident was
    already reported with it, nothing is inserted and that incident's id is returned
    (:func:`report_incident_once` also says which happened).

    ``grid_code`` is the current micro-grid covering the point, ``grid_code_at_report`` the
    micro-grid valid at ``reported_at`` (the same for a report made now); on a shared
    boundary the smallest code wins.

    Raises
    ------
    CoordinateRangeError
        If the point is not lon/lat degrees.
    store.lookup.GridNotFoundAtPoint
        If no grid covers the point (the message names the nearest grid and its distance),
        unless ``allow_outside``.
    """
    return report_incident_once(
        db, lon=lon, lat=lat, category=category, description=description, address=address, actor=actor,
        reported_at=reported_at, reported_by=reported_by, reporter_name=reporter_name, incident_key=incident_key,
        allow_outside=allow_outside, scheme=scheme, request_key=request_key,
    )[0]


def _existing(db: Executor, table, request_key: str | None) -> int | None:  # noqa: ANN001 - a Table
    """The id of the row of ``table`` (visits, incidents) stored with ``request_key``, if any."""
    if request_key is None:
        return None
    found = db.execute(select(table.c.id).where(table.c.request_key == request_key)).scalar()
    return None if found is None else int(found)


def report_incident_once(
    db: Executor,
    *,
    lon: float,
    lat: float,
    category: str,
    description: str = "",
    address: str = "",
    actor: str,
    reported_at: dt.datetime | None = None,
    reported_by: int | None = None,
    reporter_name: str | None = None,
    incident_key: str | None = None,
    allow_outside: bool = False,
    scheme: CodeScheme | None = None,
    request_key: str | None = None,
) -> tuple[int, bool, str | None]:
    """:func:`report_incident`, returning ``(id, created, reference)``: ``created`` is False when an
    incident was already reported with ``request_key`` (a double tap or resubmitted form), whose id it
    is; ``reference`` is the incident's public reference code (:mod:`governance.feedback`), drawn here
    for a new incident (:func:`store.incident_records.with_reference`)."""
    from store.lookup import GridNotFoundAtPoint, nearest_grid

    if request_key is not None:
        check_request_key(request_key)
        existing = _existing(db, _incidents, request_key)
        if existing is not None:
            return existing, False, reference_of(db, existing)
    _check_lonlat(lon, lat)
    if not (category or "").strip():
        raise ValidationError("incident category is empty; give one (--category)", code="incident.category_missing")
    check_text(category, what="incident category", kind="name", field="field.category")
    check_text(description or "", what="incident description", kind="text", field="field.description")
    check_text(address or "", what="incident address", kind="address", field="field.address")
    if incident_key is not None:
        check_text(incident_key, what="incident key", kind="key", field="field.incident_key")
    at = require_aware(reported_at or _now(), name="reported_at")
    if reported_at is not None:
        check_moment(at, what="report time", now=_now(), field="field.reported_at")
    scheme = scheme or default_scheme()
    current = _grid_at(db, lon, lat, as_of=None, scheme=scheme)
    # The plan valid when it was reported; an incident older than every plan version takes the current grid.
    at_report = current if reported_at is None else (_grid_at(db, lon, lat, as_of=at, scheme=scheme) or current)
    if current is None and at_report is None and not allow_outside:
        raise GridNotFoundAtPoint(lon, lat, nearest_grid(db, lon, lat, scheme=scheme))
    event = report_event(actor=actor, at=at, note=description, actor_staff_id=reported_by)
    # the id first, not INSERT … RETURNING: RETURNING needs the row to be readable, and a reporter may have
    # the right to report without the right to read incidents (a family doctor: access.permissions.TABLE_ACCESS)
    incident_id = db.execute(text("SELECT nextval(pg_get_serial_sequence('incidents', 'id'))")).scalar_one()
    def insert_row(reference: str):  # noqa: ANN202 - the INSERT statement
        return pg_insert(_incidents).values(
            id=incident_id,
            reference=reference,
            incident_key=incident_key,
            geom=_point(lon, lat),
            address=address or "",
            reported_at=at,
            category=category.strip(),
            description=description or "",
            status="reported",
            grid_code=current,
            grid_code_at_report=at_report,
            reported_by=reported_by,
            reporter_name=reporter_name,
            version=1,
            request_key=request_key,
        )

    def write(reference: str) -> int:
        statement = insert_row(reference)
        if request_key is not None:  # ON CONFLICT only with a key: a reporter who may not read incidents can still insert
            statement = statement.on_conflict_do_nothing(index_elements=["request_key"])
        return db.execute(statement).rowcount

    inserted, reference = with_reference(db, write)  # a clash of reference codes draws another
    if not inserted:  # the same form was saved concurrently and committed first
        twin = _twin(db, _incidents, request_key)
        return twin, False, reference_of(db, twin)
    _insert_event(db, incident_id, event)
    logger.info("incident %s reported in grid %s", incident_id, current)
    return int(incident_id), True, reference


def _twin(db: Executor, table, request_key: str | None) -> int:  # noqa: ANN001 - a Table
    existing = _existing(db, table, request_key)
    if existing is None:  # a conflict on a key whose row this account cannot see
        raise ValidationError(f"this form was already saved (request key {request_key}); reload the page",
                              code="request.already_saved")
    return existing


def _insert_event(db: Executor, incident_id: int, event: EventRecord) -> None:
    # an explicit id: SQLAlchemy would otherwise add RETURNING id, which needs the row to be readable
    event_id = db.execute(text("SELECT nextval(pg_get_serial_sequence('incident_events', 'id'))")).scalar_one()
    db.execute(
        insert(_events).values(
            id=event_id,
            incident_id=incident_id,
            at=event.at,
            action=event.action,
            actor=event.actor,
            actor_staff_id=event.actor_staff_id,
            from_status=event.from_status,
            to_status=event.to_status,
            note=event.note,
        )
    )


def load_incident_state(db: Executor, incident_id: int, *, for_update: bool = False) -> IncidentState:
    """The workflow state of an incident (``FOR UPDATE`` locks the row until commit)."""
    query = select(
        _incidents.c.id,
        _incidents.c.status,
        _incidents.c.disposition,
        _incidents.c.assigned_to,
        _incidents.c.deadline,
        _incidents.c.closed_at,
        _incidents.c.version,
    ).where(_incidents.c.id == incident_id)
    if for_update:
        query = query.with_for_update()
    row = db.execute(query).first()
    if row is None:
        raise NotFoundError(f"incident {incident_id} does not exist", code="incident.not_found", params={"id": incident_id})
    return IncidentState(**row._asdict())


def _latest_event(db: Executor, incident_id: int) -> dict[str, Any] | None:
    row = db.execute(
        select(_events.c.id, _events.c.action, _events.c.actor, _events.c.at, _events.c.to_status)
        .where(_events.c.incident_id == incident_id)
        .order_by(_events.c.id.desc())
        .limit(1)
    ).first()
    return None if row is None else row._asdict()


def _stale(db: Executor, incident_id: int, read_version: int) -> StaleVersionError:
    current = db.execute(select(_incidents.c.version).where(_incidents.c.id == incident_id)).scalar()
    latest = _latest_event(db, incident_id)
    newer = ""
    if latest is not None:
        newer = (
            f": {latest['actor']} did '{latest['action']}' (now {latest['to_status']}) at "
            f"{latest['at'].isoformat()} [event {latest['id']}]"
        )
    message = (
        f"incident {incident_id} was changed by someone else since you read it at version {read_version} "
        f"(now version {current}){newer}; nothing was saved — reload it (gridgov incident show {incident_id}) and "
        "try again"
    )
    if latest is None:
        return StaleVersionError(message, code="incident.stale_plain", params={"id": incident_id})
    return StaleVersionError(message, code="incident.stale", params={
        "id": incident_id, "actor": latest["actor"], "action": latest["action"], "status": latest["to_status"],
        "at": latest["at"]})


def transition_incident(
    db: Executor,
    incident_id: int,
    action: str,
    *,
    actor: str,
    at: dt.datetime | None = None,
    note: str = "",
    disposition: str | None = None,
    assignee: int | None = None,
    actor_staff_id: int | None = None,
    expected_version: int | None = None,
    policy: DeadlinePolicy | None = None,
) -> IncidentState:
    """Apply a workflow action to an incident and append its event; return the new state.

    Parameters
    ----------
    expected_version:
        The version the user saw (the app passes it); ``None`` means "the version read now"
        (the CLI). Either way the write only succeeds if nobody changed the incident since.

    Raises
    ------
    NotFoundError
        No such incident.
    TransitionError
        The action is not allowed from the current state.
    StaleVersionError
        Someone else changed the incident first (names the newer event).
    """
    state = load_incident_state(db, incident_id)
    if expected_version is not None and state.version != expected_version:
        raise _stale(db, incident_id, expected_version)
    if action == "dispatch" and assignee is not None:
        exists = db.execute(select(_staff.c.id).where(_staff.c.id == assignee)).scalar()
        if exists is None:
            raise NotFoundError(f"staff {assignee} does not exist; cannot dispatch incident {incident_id} to them", code="staff.not_found", params={"id": assignee})
    result = apply_transition(
        state,
        action,
        actor=actor,
        at=at or _now(),
        note=note,
        disposition=disposition,
        assignee=assignee,
        actor_staff_id=actor_staff_id,
        policy=policy,
    )
    new = result.state
    written = db.execute(
        update(_incidents)
        .where(_incidents.c.id == incident_id, _incidents.c.version == state.version)
        .values(
            status=new.status,
            disposition=new.disposition,
            assigned_to=new.assigned_to,
            deadline=new.deadline,
            closed_at=new.closed_at,
            version=new.version,
            updated_at=func.now(),
        )
        .returning(_incidents.c.version)
    ).first()
    if written is None:
        raise _stale(db, incident_id, state.version)
    _insert_event(db, incident_id, result.event)
    logger.info("incident %s: %s by %s → %s (v%s)", incident_id, action, actor, new.status, new.version)
    return new


def incident_detail(db: Executor, incident_id: int) -> dict[str, Any]:
    """An incident with its location (lon/lat EPSG:4490), people and full event log."""
    row = db.execute(
        select(
            _incidents,
            func.ST_X(_incidents.c.geom).label("lon"),
            func.ST_Y(_incidents.c.geom).label("lat"),
        ).where(_incidents.c.id == incident_id)
    ).mappings().first()
    if row is None:
        raise NotFoundError(f"incident {incident_id} does not exist", code="incident.not_found", params={"id": incident_id})
    data = {k: v for k, v in row.items() if k != "geom"}
    names = dict(db.execute(select(_staff.c.id, _staff.c.name)).all()) if data["assigned_to"] or data["reported_by"] else {}
    data["assigned_to_name"] = names.get(data["assigned_to"])
    data["reported_by_name"] = names.get(data["reported_by"])
    events = db.execute(
        select(_events).where(_events.c.incident_id == incident_id).order_by(_events.c.id)
    ).mappings().all()
    data["events"] = [dict(e) for e in events]
    return data


def proposed_assignee(db: Executor, grid_code: str | None, *, on: dt.date | None = None) -> int | None:
    """The active micro-grid worker of ``grid_code`` on ``on`` (default today): the default dispatch target.

    With several active workers (a roster gap) the longest-serving one is proposed.
    """
    if not grid_code:
        return None
    on = on or clock.today()
    row = db.execute(
        select(_assignments.c.staff_id)
        .where(
            _assignments.c.grid_code == grid_code,
            _assignments.c.role == "micro_worker",
            _assignments.c.start_date <= on,
            (_assignments.c.end_date.is_(None)) | (_assignments.c.end_date >= on),
        )
        .order_by(_assignments.c.start_date, _assignments.c.staff_id)
        .limit(1)
    ).first()
    return None if row is None else int(row[0])


def load_incidents(db: Executor, *, since: dt.datetime | None = None, scope: Scope | Sequence[str] | None = None) -> pd.DataFrame:
    """Incidents as a frame (times aware UTC, ``lon``/``lat`` EPSG:4490, ``Int64`` staff ids).

    ``since`` keeps incidents reported, closed or due since then, or still open; ``scope``
    keeps those whose ``grid_code`` starts with one of the prefixes.
    """
    query = select(
        _incidents.c.id,
        _incidents.c.incident_key,
        _incidents.c.category,
        _incidents.c.description,
        _incidents.c.address,
        _incidents.c.status,
        _incidents.c.disposition,
        _incidents.c.grid_code,
        _incidents.c.grid_code_at_report,
        _incidents.c.reported_at,
        _incidents.c.reported_by,
        _incidents.c.reporter_name,
        _incidents.c.assigned_to,
        _incidents.c.deadline,
        _incidents.c.closed_at,
        _incidents.c.version,
        func.ST_X(_incidents.c.geom).label("lon"),
        func.ST_Y(_incidents.c.geom).label("lat"),
    ).order_by(_incidents.c.id)
    if since is not None:
        query = query.where(
            (_incidents.c.reported_at >= since)
            | (_incidents.c.closed_at >= since)
            | (_incidents.c.deadline >= since)
            | _incidents.c.status.notin_(list(TERMINAL_STATUSES))
        )
    if scope is not None:
        params: dict[str, Any] = {}
        query = query.where(text(scope_filter("incidents.grid_code", scope, params)).bindparams(**params))
    return _frame(db, query, times=("reported_at", "deadline", "closed_at"), ints=("reported_by", "assigned_to"))


def incident_points(incidents: pd.DataFrame):  # noqa: ANN201 - GeoDataFrame
    """The incidents frame as a GeoDataFrame of points (EPSG:4490) from its ``lon``/``lat``."""
    import geopandas as gpd

    return gpd.GeoDataFrame(
        incidents.drop(columns=["lon", "lat"]),
        geometry=gpd.points_from_xy(incidents["lon"], incidents["lat"]),
        crs=SRID,
    )


def load_staff(db: Executor) -> pd.DataFrame:
    """Every staff member: ``id``, ``staff_key``, ``name``, ``phone``, ``organisation``."""
    return _frame(db, text("SELECT id, staff_key, name, phone, organisation FROM staff ORDER BY id"))


def _frame(
    db: Executor, query, params: dict[str, Any] | None = None, *, times: Sequence[str] = (),  # noqa: ANN001
    ints: Sequence[str] = (), dates: Sequence[str] = (),
) -> pd.DataFrame:
    result = db.execute(query, params or {})
    frame = pd.DataFrame(result.all(), columns=list(result.keys()))
    for col in times:
        frame[col] = pd.to_datetime(frame[col], utc=True)
    for col in ints:
        frame[col] = pd.array(frame[col].tolist(), dtype="Int64") if len(frame) else pd.Series([], dtype="Int64")
    for col in dates:
        frame[col] = frame[col].astype(object).where(frame[col].notna(), None)
    return frame


def load_grids(db: Executor, *, level: int | None = None, with_geometry: bool = False, scope: Scope | Sequence[str] | None = None):  # noqa: ANN201
    """Current grids (``code``, ``name``, ``level``, ``parent_code``); a GeoDataFrame (EPSG:4490) with geometry."""
    params: dict[str, Any] = {"level": level}
    where = "WHERE (CAST(:level AS int) IS NULL OR level = :level) AND " + scope_filter("code", scope, params)
    cols = "code, name, level, parent_code" + (", ST_AsBinary(geom) AS wkb" if with_geometry else "")
    result = db.execute(text(f"SELECT {cols} FROM grids {where} ORDER BY code"), params)
    frame = pd.DataFrame(result.all(), columns=list(result.keys()))
    if not with_geometry:
        return frame
    import geopandas as gpd
    import shapely

    geometry = shapely.from_wkb([bytes(b) for b in frame.pop("wkb")]) if len(frame) else []
    return gpd.GeoDataFrame(frame, geometry=list(geometry), crs=SRID)


def load_frames(
    db: Executor, *, month: str | dt.date | None = None, timezone: str = "Asia/Shanghai", scope: Scope | Sequence[str] | None = None
) -> dict[str, pd.DataFrame]:
    """Frames the pure modules need: households, visits, assignments, incidents, staff, grids.

    With ``month``, visits are limited to the month and incidents to those that matter for
    it (reported, closed or due since the month started, or still open). ``scope`` limits
    every frame to grid codes starting with one of the prefixes.
    """
    since = None
    params: dict[str, Any] = {}
    visit_filter = scope_filter("coalesce(v.grid_code, h.grid_code)", scope, params)
    if month is not None:
        since, until = month_bounds(month, timezone)
        visit_filter += " AND v.visited_at >= :since AND v.visited_at < :until"
        params.update(since=since, until=until)
    hh_params: dict[str, Any] = {}
    households = _frame(
        db,
        text(
            "SELECT id, household_key, address, building_no, grid_code, members, special_kinds, refreshed_at "
            f"FROM households WHERE {scope_filter('grid_code', scope, hh_params)} ORDER BY id"
        ),
        hh_params,
        times=("refreshed_at",),
    )
    result = db.execute(
        text(
            "SELECT v.id, v.household_id, v.staff_id, v.visited_at, v.kind, v.note, v.grid_code "
            f"FROM visits v LEFT JOIN households h ON h.id = v.household_id WHERE {visit_filter} ORDER BY v.id"
        ),
        params,
    )
    visits = pd.DataFrame(result.all(), columns=list(result.keys()))
    visits["visited_at"] = pd.to_datetime(visits["visited_at"], utc=True)
    assignments = load_assignments(db, scope=scope)
    staff = load_staff(db)
    return {
        "households": households,
        "visits": visits,
        "assignments": assignments,
        "incidents": load_incidents(db, since=since, scope=scope),
        "staff": staff,
        "grids": load_grids(db, scope=scope),
    }


def load_assignments(db: Executor, *, scope: Scope | Sequence[str] | None = None) -> pd.DataFrame:
    """Staff assignments: ``id``, ``staff_id``, ``grid_code``, ``role``, ``start_date``, ``end_date``
    (``None`` when open), ``building_no``."""
    params: dict[str, Any] = {}
    return _frame(
        db,
        text(
            "SELECT id, staff_id, grid_code, role, start_date, end_date, building_no FROM staff_assignments "
            f"WHERE {scope_filter('grid_code', scope, params)} ORDER BY id"
        ),
        params,
        dates=("end_date",),
    )


# -- visits ------------------------------------------------------------------------------------
def record_visit(db: Executor, record: VisitRecord, *, request_key: str | None = None) -> int:
    """Store a visit (grid code taken from the household's current micro-grid); return its id.

    The household and the visitor's assignments are read ``FOR SHARE`` (held until commit), then
    the visit is checked by :func:`governance.visits.validate_visit` against them: the visitor is
    assigned that day to the household's grid (or oversees it), a location is near the household.
    ``request_key`` (:mod:`governance.capture`): the form's idempotency key; when a visit was
    already recorded with it, nothing is inserted and that visit's id is returned
    (:func:`record_visit_once` also says which happened).
    """
    return record_visit_once(db, record, request_key=request_key)[0]


def record_visit_once(db: Executor, record: VisitRecord, *, request_key: str | None = None) -> tuple[int, bool]:
    """:func:`record_visit`, returning ``(id, created)``: ``created`` is False when a visit was
    already recorded with ``request_key`` (a double tap or resubmitted form), whose id it is."""
    if request_key is not None:
        check_request_key(request_key)
        existing = _existing(db, _visits, request_key)
        if existing is not None:
            return existing, False
    validate_visit(record, now=_now())
    household = db.execute(
        select(_households.c.grid_code, func.ST_X(_households.c.geom).label("lon"),
               func.ST_Y(_households.c.geom).label("lat"))
        .where(_households.c.id == record.household_id).with_for_update(read=True)
    ).first()
    if household is None:
        raise NotFoundError(f"household {record.household_id} does not exist", code="household.not_found", params={"id": record.household_id})
    if db.execute(select(_staff.c.id).where(_staff.c.id == record.staff_id)).scalar() is None:
        raise NotFoundError(f"staff {record.staff_id} does not exist", code="staff.not_found", params={"id": record.staff_id})
    held_query = (
        select(_assignments.c.grid_code, _assignments.c.role, _assignments.c.start_date, _assignments.c.end_date)
        .where(_assignments.c.staff_id == record.staff_id)
    )
    # FOR SHARE applies the table's write policy too: it locks the rows the session may write
    # (a grid head's team) and returns none of a worker's own rows, which the worker only reads.
    # So the lock is taken where it can be, and the assignments are checked as the session reads them.
    db.execute(held_query.with_for_update(read=True)).all()
    held = db.execute(held_query).all()
    context = VisitContext(household.grid_code, household.lon, household.lat,
                           tuple((r.grid_code, r.role, r.start_date, r.end_date) for r in held))
    validate_visit(record, now=_now(), context=context)
    geom = None if record.lon is None else _point(record.lon, record.lat)
    visit_id = db.execute(
        pg_insert(_visits)
        .values(
            household_id=record.household_id,
            staff_id=record.staff_id,
            visited_at=record.visited_at,
            kind=VISIT_KIND_TERMS.parse(record.kind.strip()) or record.kind.strip(),
            note=record.note or "",
            geom=geom,
            grid_code=household.grid_code,
            request_key=request_key,
        )
        .on_conflict_do_nothing(index_elements=["request_key"])
        .returning(_visits.c.id)
    ).scalar()
    if visit_id is None:  # the same form was saved concurrently and committed first
        return _twin(db, _visits, request_key), False
    return int(visit_id), True


# -- roster ------------------------------------------------------------------------------------
def staff_id_by_key(db: Executor, keys: Iterable[str]) -> dict[str, int]:
    keys = list(keys)
    if not keys:
        return {}
    rows = db.execute(select(_staff.c.staff_key, _staff.c.id).where(_staff.c.staff_key.in_(bindparam("k", expanding=True))), {"k": keys})
    return {k: int(i) for k, i in rows.all()}


def load_roster(db: Executor, *, on: dt.date | None = None, scope: Scope | Sequence[str] | None = None) -> pd.DataFrame:
    """One row per assignment with the person: the roster as exported (``on``: only active that day)."""
    params: dict[str, Any] = {}
    where = "WHERE " + scope_filter("a.grid_code", scope, params)
    if on is not None:
        where += " AND a.start_date <= :on AND (a.end_date IS NULL OR a.end_date >= :on)"
        params["on"] = on
    result = db.execute(
        text(
            f"""
            SELECT s.staff_key, s.name, s.phone, s.organisation, a.grid_code, g.name AS grid_name,
                   a.role, a.start_date, a.end_date, a.building_no, s.id AS staff_id, a.id AS assignment_id
            FROM staff_assignments a JOIN staff s ON s.id = a.staff_id
            LEFT JOIN grids g ON g.code = a.grid_code
            {where}
            ORDER BY a.grid_code, a.role, a.start_date, s.staff_key
            """
        ),
        params,
    )
    frame = pd.DataFrame(result.all(), columns=list(result.keys()))
    frame["end_date"] = frame["end_date"].astype(object).where(frame["end_date"].notna(), None)
    return frame


def staff_table(db: Executor) -> pd.DataFrame:
    """Every person with each of their assignments (one row each; a person without any gets one
    row with empty assignment columns): :data:`governance.roster.ROSTER_COLUMNS`, the table that
    ``gridgov export staff`` writes and ``gridgov import staff`` reads back.

    The roster is written by :func:`store.bulk.load_staff` (the one staff import).
    """
    result = db.execute(text(
        """
        SELECT s.staff_key, s.name, s.phone, s.organisation, a.grid_code, a.role, a.start_date, a.end_date,
               a.building_no
        FROM staff s LEFT JOIN staff_assignments a ON a.staff_id = s.id
        ORDER BY s.staff_key, a.grid_code, a.role, a.start_date, a.id
        """
    ))
    frame = pd.DataFrame(result.all(), columns=list(result.keys()))
    return frame.astype(object).where(frame.notna(), None)


def staff_exists(db: Executor, staff_id: int) -> bool:
    """Whether a staff member has the id ``staff_id``."""
    return db.execute(select(_staff.c.id).where(_staff.c.id == staff_id)).scalar() is not None
