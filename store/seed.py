"""The demo street in the database: loading it, and telling its rows from everybody else's.

:func:`load_demo` writes the frames of a generated demo (:class:`demo.generate.DemoData`, or
anything shaped like :class:`DemoFrames`) into the tables of :mod:`store.models`: one
``changesets`` row of kind ``demo``, then every table through a temporary staging table
filled with COPY and one ``INSERT … SELECT`` that resolves the natural keys (household,
staff and incident keys) to database ids. Everything runs on the caller's transaction.

:func:`foreign_data` says what the database holds that the demo load did not write, so that
``gridgov demo`` never deletes somebody's data by surprise.

How demo rows are recognised
----------------------------
PostgreSQL stamps every row version with the id of the transaction that wrote it (the
``xmin`` system column). :func:`load_demo` writes its changeset and every one of its rows in
one transaction, so **a row is the demo's when its xmin equals the xmin of the demo
changeset**. Anything written later — an import, a boundary edit (which also rewrites the
grids it touches), an incident reported or moved on in the app (a new event, an updated
incident), a visit, a roster change, even an in-place update of a demo row — carries another
transaction id and counts as foreign; so does every changeset written in another transaction
(the demo's own camera import, played in its transaction, is the demo's). No column or trigger
is needed, and nothing can forget to mark its rows. The use cases the demo plays run without
savepoints (:func:`store.session.inline_units`): a row written in a savepoint carries a
subtransaction's id.

The rule errs on the side of keeping data: a database restored from a dump in several
transactions, or a migration that rewrites a table, makes demo rows look foreign, and the
demo then refuses until it is told to replace everything. (Transaction ids wrap around only
after about four billion transactions.) Rows the demo wrote and someone deleted are not
reported: nothing but demo data would be lost.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import math
from dataclasses import dataclass, field
from typing import Any, Protocol

import geopandas as gpd
import pandas as pd
from sqlalchemy import Connection, Table, text

from gis.crs import STORAGE_EPSG
from gis.errors import CRSError
from governance.feedback import new_references
from store.bulk import _ewkb, _stage, _text_array
from store.models import SECURITY_TABLES, Base

__all__ = ["DEMO_KIND", "DemoFrames", "ForeignData", "delete_all", "foreign_data", "load_demo", "lock_tables"]

logger = logging.getLogger(__name__)

#: ``changesets.kind`` of the demo load.
DEMO_KIND = "demo"


class DemoFrames(Protocol):
    """What :func:`load_demo` reads (the attributes of :class:`demo.generate.DemoData`).

    Geometries in EPSG:4490; times aware. Columns are documented on ``DemoData``.
    """

    grids: gpd.GeoDataFrame
    households: gpd.GeoDataFrame
    residents: pd.DataFrame
    staff: pd.DataFrame
    staff_assignments: pd.DataFrame
    incidents: gpd.GeoDataFrame
    incident_events: pd.DataFrame
    visits: pd.DataFrame
    valid_from: dt.datetime
    accounts: pd.DataFrame
    password: str

    @property
    def reason(self) -> str: ...

    @property
    def details(self) -> dict[str, Any]: ...


def _tables() -> list[Table]:
    """Every data table of the metadata (not the permission matrix or the audit trail), parents first."""
    return [t for t in Base.metadata.sorted_tables if t.name not in SECURITY_TABLES]


@dataclass(frozen=True)
class ForeignData:
    """What the database holds besides the last demo load.

    Attributes
    ----------
    demo_changeset_id:
        The demo load's changeset (the latest of kind ``demo``), ``None`` if there is none.
    grid_codes:
        Rows in ``grid_codes`` of any origin (0: no grid was ever loaded).
    changesets:
        Changesets other than the demo load's, counted by kind (``{"import": 1, "edit": 3}``).
    rows:
        Per table (``changesets`` excepted), rows the demo load did not write; tables with
        none are left out. In table order (parents first).
    """

    demo_changeset_id: int | None = None
    grid_codes: int = 0
    changesets: dict[str, int] = field(default_factory=dict)
    rows: dict[str, int] = field(default_factory=dict)

    @property
    def found(self) -> bool:
        """Whether anything but the demo's own data is present."""
        return bool(self.changesets or self.rows)

    @property
    def empty(self) -> bool:
        """Nothing at all: no grid, no demo, nothing else."""
        return not self.found and self.grid_codes == 0 and self.demo_changeset_id is None

    def to_dict(self) -> dict[str, Any]:
        return {"demo_changeset_id": self.demo_changeset_id, "grid_codes": self.grid_codes,
                "changesets": dict(self.changesets), "rows": dict(self.rows)}


def foreign_data(conn: Connection) -> ForeignData:
    """Summarise the data the demo load did not write (see the module docstring for the rule).

    Reads every table of :mod:`store.models` once (sequential counts; about 50 ms on the demo).
    """
    demo = conn.execute(text(
        "SELECT id, xmin::text AS xid FROM changesets WHERE kind = :kind ORDER BY id DESC LIMIT 1"
    ), {"kind": DEMO_KIND}).first()
    demo_id, xid = (int(demo.id), demo.xid) if demo is not None else (None, None)
    changesets = {
        str(kind): int(n)
        for kind, n in conn.execute(text(
            "SELECT kind, count(*) FROM changesets WHERE xmin IS DISTINCT FROM CAST(:xid AS xid) "
            "GROUP BY kind ORDER BY kind"
        ), {"xid": xid})
    }
    tables = [t.name for t in _tables() if t.name != "changesets"]
    # Table names come from the metadata, never from input.
    counts = " UNION ALL ".join(
        f"SELECT {i} AS pos, count(*) AS n FROM {name} t WHERE t.xmin IS DISTINCT FROM CAST(:xid AS xid)"
        for i, name in enumerate(tables)
    )
    found = dict(conn.execute(text(counts), {"xid": xid}).all())
    rows = {name: int(found[i]) for i, name in enumerate(tables) if found.get(i)}
    grid_codes = int(conn.execute(text("SELECT count(*) FROM grid_codes")).scalar_one())
    return ForeignData(demo_changeset_id=demo_id, grid_codes=grid_codes, changesets=changesets, rows=rows)


def lock_tables(conn: Connection) -> None:
    """Lock every table against writers until the transaction ends (readers carry on).

    Taken before :func:`foreign_data` and :func:`load_demo` in one transaction, it makes the
    check and the replacement see the same data: a concurrent import waits, then finds the demo.
    """
    names = ", ".join(t.name for t in _tables())
    conn.execute(text(f"LOCK TABLE {names} IN EXCLUSIVE MODE"))


def delete_all(conn: Connection) -> dict[str, int]:
    """Delete every row of every table of :mod:`store.models` (children first); rows per table."""
    deleted: dict[str, int] = {}
    for table in reversed(_tables()):
        deleted[table.name] = int(conn.execute(text(f"DELETE FROM {table.name}")).rowcount or 0)
    return deleted


# ---------------------------------------------------------------------------------------
# load
# ---------------------------------------------------------------------------------------
def _geoms(frame: gpd.GeoDataFrame | gpd.GeoSeries, what: str) -> list[str | None]:
    """Hex EWKB (SRID 4490) of each geometry; refuses any other CRS."""
    crs = frame.crs
    if crs is None or crs.to_epsg() != STORAGE_EPSG:
        raise CRSError(f"{what} must be in EPSG:{STORAGE_EPSG} to be stored, but their CRS is {crs!r}", code="crs.mismatch")
    geoms = frame.geometry if isinstance(frame, gpd.GeoDataFrame) else frame
    return _ewkb(geoms.to_numpy())


def _plain(values: pd.Series) -> list[Any]:
    """Python values COPY can write: ``None`` for missing, builtin ints, ISO text for times."""
    out: list[Any] = []
    for value in values.tolist():
        if value is None or value is pd.NaT or (isinstance(value, float) and math.isnan(value)):
            out.append(None)
        elif isinstance(value, (dt.datetime, dt.date)):
            out.append(value.isoformat())
        else:
            out.append(value)
    return out


def _copy(
    conn: Connection, frame: pd.DataFrame, columns: dict[str, str], *, given: dict[str, list[Any]] | None = None
) -> str:
    """COPY ``frame``'s ``columns`` (name → SQL type; ``given`` supplies ready values for some of
    them) into a staging table with an ``ord`` column (the frame's row order); returns its name."""
    given = given or {}
    data = [given[c] if c in given else _plain(frame[c]) for c in columns]
    rows = [(i, *row) for i, row in enumerate(zip(*data, strict=True))]
    return _stage(conn, {"ord": "integer", **columns}, rows)


def _insert(conn: Connection, sql: str, **params: Any) -> int:
    """Run one ``INSERT … SELECT``; the rows it wrote."""
    return int(conn.execute(text(sql), params).rowcount or 0)


def load_demo(conn: Connection, data: DemoFrames, *, replace: bool = True) -> dict[str, int]:
    """Write a generated demo into the database on ``conn`` (the caller's transaction).

    Parameters
    ----------
    conn:
        A connection inside a transaction (``with engine.begin() as conn``); commit or roll
        back around the call. Write it all in that one transaction (no savepoint in between):
        :func:`foreign_data` recognises the demo's rows by it.
    data:
        From :func:`demo.generate.generate_demo`.
    replace:
        First delete every row of every table (:func:`delete_all`, same transaction). With
        ``False`` the rows are added, and a clash with existing keys raises the database's
        ``IntegrityError``. Checking that nothing else would be lost is the caller's job
        (:func:`services.demo.load_demo`).

    When ``data`` has a ``play(conn)`` method (:meth:`demo.generate.DemoData.play`), it is called last,
    on ``conn``: the street's people use the practices through the use cases (cameras imported, an
    evaluation round, spot checks, notices) in the same transaction; then incidents with a
    ``camera_key`` get that camera's id.

    Returns
    -------
    dict
        Rows written per table.

    Raises
    ------
    CRSError
        If a geometry frame is not in EPSG:4490.
    """
    if replace:
        delete_all(conn)
    counts: dict[str, int] = {}
    changeset_id = int(conn.execute(
        text("INSERT INTO changesets (author, reason, kind, details) "
             "VALUES ('demo', :reason, :kind, CAST(:details AS jsonb)) RETURNING id"),
        {"reason": data.reason, "kind": DEMO_KIND, "details": json.dumps(data.details, ensure_ascii=False)},
    ).scalar_one())
    counts["changesets"] = 1

    grids = data.grids
    stage = _copy(conn, grids, {"code": "text", "level": "smallint", "parent_code": "text", "name": "text",
                                "geom": f"geometry(MultiPolygon, {STORAGE_EPSG})"},
                  given={"geom": _geoms(grids, "grids")})
    counts["grid_codes"] = _insert(conn, f"""
        INSERT INTO grid_codes (code, level, status, created_changeset_id)
        SELECT code, level, 'active', :cs FROM {stage} ORDER BY ord""", cs=changeset_id)
    counts["grids"] = _insert(conn, f"""
        INSERT INTO grids (code, level, parent_code, name, geom, version, changeset_id)
        SELECT code, level, parent_code, name, geom, 1, :cs FROM {stage} ORDER BY ord""", cs=changeset_id)
    counts["grid_versions"] = _insert(conn, f"""
        INSERT INTO grid_versions (code, version, level, parent_code, name, geom, valid_from, valid_to, changeset_id)
        SELECT code, 1, level, parent_code, name, geom, :valid_from, NULL, :cs FROM {stage} ORDER BY ord""",
        cs=changeset_id, valid_from=data.valid_from)

    households = data.households
    stage = _copy(conn, households, {
        "household_key": "text", "address": "text", "building_no": "text", "house_no": "text", "members": "smallint",
        "special_kinds": "text[]", "grid_code": "text", "refreshed_at": "timestamptz",
        "last_verified_at": "timestamptz", "verified_by": "text", "geom": f"geometry(Point, {STORAGE_EPSG})"},
        given={"special_kinds": [_text_array(k) for k in households["special_kinds"]],
               "geom": _geoms(households, "households"), **_verification(households)})
    # staff first: the verification stamps name the staff member who verified
    staff_stage = _copy(conn, data.staff, {"staff_key": "text", "name": "text", "phone": "text", "organisation": "text"})
    staff_count = _insert(conn, f"""
        INSERT INTO staff (staff_key, name, phone, organisation)
        SELECT staff_key, name, phone, organisation FROM {staff_stage} ORDER BY ord""")
    counts["households"] = _insert(conn, f"""
        INSERT INTO households (household_key, address, building_no, house_no, members, special_kinds, grid_code,
                                refreshed_at, last_verified_at, verified_by, geom)
        SELECT s.household_key, s.address, s.building_no, s.house_no, s.members, s.special_kinds, s.grid_code,
               s.refreshed_at, s.last_verified_at, v.id, s.geom
        FROM {stage} s LEFT JOIN staff v ON v.staff_key = s.verified_by ORDER BY s.ord""")

    stage = _copy(conn, data.residents, {
        "household_key": "text", "name": "text", "relation": "text", "gender": "text", "birth_date": "date",
        "id_number": "text", "phone": "text", "last_verified_at": "timestamptz", "verified_by": "text"},
        given=_verification(data.residents))
    counts["residents"] = _insert(conn, f"""
        INSERT INTO residents (household_id, name, relation, gender, birth_date, id_number, phone, last_verified_at,
                               verified_by)
        SELECT h.id, s.name, s.relation, s.gender, s.birth_date, s.id_number, s.phone, s.last_verified_at, v.id
        FROM {stage} s LEFT JOIN households h USING (household_key) LEFT JOIN staff v ON v.staff_key = s.verified_by
        ORDER BY s.ord""")
    counts["staff"] = staff_count
    stage = _copy(conn, data.staff_assignments, {
        "staff_key": "text", "grid_code": "text", "role": "text", "start_date": "date", "end_date": "date",
        "building_no": "text"})
    counts["staff_assignments"] = _insert(conn, f"""
        INSERT INTO staff_assignments (staff_id, grid_code, role, start_date, end_date, building_no)
        SELECT t.id, s.grid_code, s.role, s.start_date, s.end_date, s.building_no
        FROM {stage} s LEFT JOIN staff t USING (staff_key) ORDER BY s.ord""")

    # every demo incident has its public reference code, drawn now (not from the seed: unguessable)
    incidents = data.incidents.assign(reference=new_references(len(data.incidents)))
    stage = _copy(conn, incidents, {
        "reference": "text", "incident_key": "text", "address": "text", "reported_at": "timestamptz", "category": "text",
        "description": "text", "status": "text", "disposition": "text", "grid_code": "text", "reported_by": "text",
        "reporter_name": "text", "assigned_to": "text", "deadline": "timestamptz", "closed_at": "timestamptz",
        "version": "integer", "geom": f"geometry(Point, {STORAGE_EPSG})"},
        given={"geom": _geoms(incidents, "incidents")})
    counts["incidents"] = _insert(conn, f"""
        INSERT INTO incidents (reference, incident_key, address, reported_at, category, description, status, disposition,
                               grid_code, grid_code_at_report, reported_by, reporter_name, assigned_to, deadline,
                               closed_at, version, geom)
        SELECT s.reference, s.incident_key, s.address, s.reported_at, s.category, s.description, s.status, s.disposition,
               s.grid_code, s.grid_code, r.id, s.reporter_name, a.id, s.deadline, s.closed_at, s.version, s.geom
        FROM {stage} s LEFT JOIN staff r ON r.staff_key = s.reported_by LEFT JOIN staff a ON a.staff_key = s.assigned_to
        ORDER BY s.ord""")
    events = data.incident_events
    stage = _copy(conn, events, {
        "incident_key": "text", "at": "timestamptz", "action": "text", "actor": "text", "actor_staff_key": "text",
        "from_status": "text", "to_status": "text", "note": "text"})
    counts["incident_events"] = _insert(conn, f"""
        INSERT INTO incident_events (incident_id, at, action, actor, actor_staff_id, from_status, to_status, note)
        SELECT i.id, s.at, s.action, s.actor, t.id, s.from_status, s.to_status, s.note
        FROM {stage} s LEFT JOIN incidents i USING (incident_key) LEFT JOIN staff t ON t.staff_key = s.actor_staff_key
        ORDER BY s.ord""")

    visits = data.visits
    stage = _copy(conn, visits, {
        "household_key": "text", "staff_key": "text", "visited_at": "timestamptz", "kind": "text", "note": "text",
        "grid_code": "text"})
    counts["visits"] = _insert(conn, f"""
        INSERT INTO visits (household_id, staff_id, visited_at, kind, note, grid_code, geom)
        SELECT h.id, t.id, s.visited_at, s.kind, s.note, s.grid_code, h.geom
        FROM {stage} s LEFT JOIN households h USING (household_key) LEFT JOIN staff t USING (staff_key)
        ORDER BY s.ord""")
    counts["accounts"] = _load_accounts(conn, data)
    play = getattr(data, "play", None)
    if play is not None:  # what the street's people did, through the use cases (demo.practices)
        counts.update(play(conn))
        _link_cameras(conn, incidents)
    logger.info("demo street loaded: %s", counts)
    return counts


def _verification(frame: pd.DataFrame) -> dict[str, list[Any]]:
    """The ``last_verified_at`` / ``verified_by`` (staff key) values of a frame, ``None`` where it has none."""
    if "last_verified_at" in frame:
        return {"last_verified_at": _plain(frame["last_verified_at"]), "verified_by": _plain(frame["verified_by"])}
    return {"last_verified_at": [None] * len(frame), "verified_by": [None] * len(frame)}


def _link_cameras(conn: Connection, incidents: pd.DataFrame) -> None:
    """Incidents seen on a camera (``camera_key`` column) get its id, once the cameras are imported."""
    if "camera_key" not in incidents:
        return
    seen = incidents.loc[incidents["camera_key"].notna(), ["incident_key", "camera_key"]]
    if not len(seen):
        return
    stage = _copy(conn, seen, {"incident_key": "text", "camera_key": "text"})
    conn.execute(text(f"""
        UPDATE incidents i SET camera_id = c.id FROM {stage} s JOIN cameras c ON c.camera_key = s.camera_key
        WHERE i.incident_key = s.incident_key"""))


def _load_accounts(conn: Connection, data: DemoFrames) -> int:
    """The demo's accounts, all with the demo password (hashed once: argon2id).

    Accounts of the same names are replaced (their sessions end); other accounts are kept.
    """
    from access.passwords import hash_password
    from store.accounts import create_accounts_bulk

    accounts = getattr(data, "accounts", None)
    if accounts is None or not len(accounts):
        return 0
    password_hash = hash_password(data.password)
    keys = sorted({k for k in accounts["staff_key"] if isinstance(k, str) and k})
    ids = dict(conn.execute(text("SELECT staff_key, id FROM staff WHERE staff_key = ANY(:k)"), {"k": keys}).all())
    names = [r.name for r in accounts.itertuples(index=False)]
    conn.execute(text("DELETE FROM accounts WHERE name = ANY(:n)"), {"n": names})
    rows = [
        {"name": r.name, "display_name": r.display_name, "role": r.role,
         "staff_id": ids.get(r.staff_key) if isinstance(r.staff_key, str) else None,
         "street_wide": bool(r.street_wide), "password_hash": password_hash, "grants": list(r.grants)}
        for r in accounts.itertuples(index=False)
    ]
    return create_accounts_bulk(conn, rows)
