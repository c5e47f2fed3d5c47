"""Incidents as the HTTP API reports them (Open311 service requests), and what an API report adds.

* :func:`add_submission` / :func:`add_contact` write, in the reporting transaction, how the
  incident came in (service code, ``attribute[...]`` values, media URL) and the reporter's
  contact details (personal data: ``incident_contacts``, row-level security by the ``residents``
  access of the role; nothing in the API ever reads it back);
* :func:`incident_records` reads incidents with their grid, the worker responsible and their
  submission — never the reporter's name or contact details;
* :func:`locate_address` finds the point of an address (``address_string``) among the
  household addresses the account may see.

Every read runs under the acting account's row-level security: an incident out of its scope
is simply not found. Locations are EPSG:4490 lon/lat.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Mapping, Sequence
from typing import Any, TypeVar

from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from gis import clock
from gis.errors import GridGovError
from governance.feedback import new_reference, new_references
from store.sql import Executor

T = TypeVar("T")

__all__ = ["CONTACT_FIELDS", "add_submission", "add_contact", "incident_records", "locate_address", "with_reference",
           "fill_references", "reference_of"]

#: The contact columns of ``incident_contacts`` (all optional).
CONTACT_FIELDS = ("first_name", "last_name", "email", "phone", "device_id", "external_account_id")


def add_submission(db: Executor, incident_id: int, *, service_code: str, attributes: Mapping[str, str],
                   media_url: str | None, submitted_by: str, channel: str = "open311") -> None:
    """Record how incident ``incident_id`` came in through the API."""
    db.execute(
        text("INSERT INTO incident_submissions (incident_id, channel, service_code, attributes, media_url, submitted_by) "
             "VALUES (:i, :c, :s, CAST(:a AS jsonb), :m, :b)"),
        {"i": incident_id, "c": channel, "s": service_code, "a": json.dumps(dict(attributes), ensure_ascii=False),
         "m": media_url, "b": submitted_by},
    )


def add_contact(db: Executor, incident_id: int, contact: Mapping[str, str | None]) -> bool:
    """Store the reporter's contact details of incident ``incident_id``; ``False`` (nothing stored) when empty."""
    values = {k: (contact.get(k) or None) for k in CONTACT_FIELDS}
    if not any(values.values()):
        return False
    db.execute(
        text(f"INSERT INTO incident_contacts (incident_id, {', '.join(CONTACT_FIELDS)}) "
             f"VALUES (:incident_id, {', '.join(':' + k for k in CONTACT_FIELDS)})"),
        {"incident_id": incident_id, **values},
    )
    return True


def incident_records(
    db: Executor,
    *,
    ids: Sequence[int] | None = None,
    categories: Sequence[str] | None = None,
    statuses: Sequence[str] | None = None,
    start: dt.datetime | None = None,
    end: dt.datetime | None = None,
    limit: int = 1000,
    on: dt.date | None = None,
) -> list[dict[str, Any]]:
    """Incidents the account may see, newest first (at most ``limit``).

    Keys: id, category, status, disposition, description, address, reported_at, updated_at,
    deadline, closed_at, version, grid_code, grid_name, worker_name (the staff member it is
    dispatched to, else the micro-grid's worker on duty on ``on``, default today), lon, lat
    (EPSG:4490), service_code, media_url, attributes.
    """
    where, params = ["TRUE"], {"limit": int(limit), "on": on or clock.today()}
    if ids is not None:
        where.append("i.id = ANY(:ids)")
        params["ids"] = [int(i) for i in ids]
    if categories:
        where.append("i.category = ANY(:categories)")
        params["categories"] = list(categories)
    if statuses:
        where.append("i.status = ANY(:statuses)")
        params["statuses"] = list(statuses)
    if start is not None:
        where.append("i.reported_at >= :start")
        params["start"] = start
    if end is not None:
        where.append("i.reported_at <= :end")
        params["end"] = end
    rows = db.execute(
        text(
            f"""
            SELECT i.id, i.category, i.status, i.disposition, i.description, i.address, i.reported_at, i.updated_at,
                   i.deadline, i.closed_at, i.version, i.grid_code, g.name AS grid_name,
                   coalesce(assignee.name, duty.name) AS worker_name,
                   ST_X(i.geom) AS lon, ST_Y(i.geom) AS lat,
                   s.service_code, s.media_url, s.attributes
            FROM incidents i
            LEFT JOIN grids g ON g.code = i.grid_code
            LEFT JOIN staff assignee ON assignee.id = i.assigned_to
            LEFT JOIN LATERAL (
                SELECT st.name FROM staff_assignments sa JOIN staff st ON st.id = sa.staff_id
                WHERE sa.grid_code = i.grid_code AND sa.role = 'micro_worker'
                  AND sa.start_date <= :on AND (sa.end_date IS NULL OR sa.end_date >= :on)
                ORDER BY sa.start_date, sa.staff_id LIMIT 1) duty ON true
            LEFT JOIN incident_submissions s ON s.incident_id = i.id
            WHERE {' AND '.join(where)}
            ORDER BY i.reported_at DESC, i.id DESC
            LIMIT :limit
            """
        ),
        params,
    ).mappings().all()
    return [dict(r) for r in rows]


def locate_address(db: Executor, address: str) -> tuple[float, float] | None:
    """The point (lon, lat EPSG:4490) of ``address`` when the account's visible households with exactly
    that address (spaces ignored) stand at one place; ``None`` when none or several places match."""
    key = "".join(address.split())
    if not key:
        return None
    rows = db.execute(
        text("SELECT DISTINCT round(ST_X(geom)::numeric, 7) AS lon, round(ST_Y(geom)::numeric, 7) AS lat "
             "FROM households WHERE regexp_replace(address, '\\s+', '', 'g') = :key AND geom IS NOT NULL LIMIT 2"),
        {"key": key},
    ).all()
    if len(rows) != 1:
        return None
    return float(rows[0].lon), float(rows[0].lat)


# -- reference codes (feedback to residents, issue #17 point 7) -------------------------------------
#: The unique constraint on ``incidents.reference`` (migration 0003).
REFERENCE_CONSTRAINT = "uq_incidents_reference"
#: Fresh codes tried before giving up (55 random bits: a second try is already practically never needed).
REFERENCE_ATTEMPTS = 5


def _reference_clash(exc: IntegrityError) -> bool:
    diag = getattr(getattr(exc, "orig", None), "diag", None)
    return getattr(diag, "constraint_name", None) == REFERENCE_CONSTRAINT


def with_reference(db: Executor, write: Callable[[str], T], *, draw: Callable[[], str] = new_reference) -> tuple[T, str]:
    """``write(reference)`` with a fresh reference code (:func:`governance.feedback.new_reference`), in a
    savepoint; on a clash with an existing code (the unique constraint) a new code is drawn and the
    write retried. Returns ``(write's result, the reference)``."""
    for _attempt in range(REFERENCE_ATTEMPTS):
        reference = draw()
        try:
            with db.begin_nested():
                return write(reference), reference
        except IntegrityError as exc:
            if not _reference_clash(exc):
                raise
    raise GridGovError(f"no unused reference code was found in {REFERENCE_ATTEMPTS} attempts; try again",
                       code="incident.reference_exhausted")


def fill_references(db: Executor, ids: Sequence[int]) -> dict[int, str]:
    """Give each incident of ``ids`` that has none a reference code (imports); ``id`` → code written."""
    wanted = [int(i) for i in ids]
    if not wanted:
        return {}
    missing = [int(r[0]) for r in db.execute(
        text("SELECT id FROM incidents WHERE id = ANY(:ids) AND reference IS NULL ORDER BY id"), {"ids": wanted}).all()]
    if not missing:
        return {}

    def write(_first: str) -> dict[int, str]:
        codes = dict(zip(missing, new_references(len(missing))))
        db.execute(text("UPDATE incidents i SET reference = v.ref FROM unnest(CAST(:ids AS bigint[]), "
                        "CAST(:refs AS text[])) AS v(id, ref) WHERE i.id = v.id AND i.reference IS NULL"),
                   {"ids": list(codes), "refs": list(codes.values())})
        return codes

    return with_reference(db, write)[0]


def reference_of(db: Executor, incident_id: int) -> str | None:
    """The reference code of an incident the account may see (``None``: none, or not visible)."""
    return db.execute(text("SELECT reference FROM incidents WHERE id = :i"), {"i": int(incident_id)}).scalar()


