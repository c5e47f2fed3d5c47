"""Acting on incidents: report one, move it through the closed loop. Shared by the app, the CLI and the API.

Each function is one use case in one transaction (:func:`store.session.unit_of_work`) for the acting
person, whose name is recorded on the incident's event. The rules are
:mod:`governance.workflow` (transitions) and :mod:`governance.deadlines` (deadlines by disposition,
counted in the local zone); the rows are written by :mod:`store.governance` with optimistic locking.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, Engine

from access.actor import Actor
from access.permissions import require
from governance.capture import PhotoFile
from governance.deadlines import DeadlinePolicy
from governance.workflow import IncidentState
from store import governance as incident_store
from store import photos as photo_store
from store import incident_records as record_store
from store.session import read_only, run_in_transaction

__all__ = ["Submission", "ReportedIncident", "report_incident", "act_on_incident", "incident_version", "incident_records",
           "locate_address"]


@dataclass(frozen=True)
class Submission:
    """How a report came in through the API: the Open311 service code, its ``attribute[...]`` values,
    a media URL, and the reporter's contact details (personal data, stored apart and never returned:
    keys of :data:`store.incident_records.CONTACT_FIELDS`)."""

    service_code: str
    attributes: Mapping[str, str] = field(default_factory=dict)
    media_url: str | None = None
    contact: Mapping[str, str | None] = field(default_factory=dict, repr=False)


@dataclass(frozen=True)
class ReportedIncident:
    """What the reporter is given: the incident's id and its public reference code
    (:mod:`governance.feedback`; ``None`` only for a resubmitted form whose incident the reporter may
    not read). :attr:`shown_reference` is the ``XXXX-XXXX-XXXX`` form to show and print."""

    id: int
    reference: str | None

    @property
    def shown_reference(self) -> str | None:
        from governance.feedback import format_reference

        return None if self.reference is None else format_reference(self.reference)

    def to_dict(self) -> dict[str, object]:
        return {"id": self.id, "reference": self.shown_reference}


def report_incident(
    bind: Engine | Connection,
    actor: Actor,
    *,
    lon: float,
    lat: float,
    category: str,
    description: str = "",
    address: str = "",
    reported_at: dt.datetime | None = None,
    reporter_name: str | None = None,
    incident_key: str | None = None,
    allow_outside: bool = False,
    reported_by: int | None = None,
    request_key: str | None = None,
    photo: PhotoFile | None = None,
    submission: Submission | None = None,
) -> ReportedIncident:
    """Report an incident at (lon, lat) EPSG:4490 (status 上报 reported); returns its id and the public
    reference code the reporter is given (:class:`ReportedIncident`).

    The incident is assigned to the micro-grid covering the point (:mod:`boundaries.assign`).
    Raises :class:`store.lookup.GridNotFoundAtPoint` (naming the nearest grid and its distance in
    metres) when no grid covers the point, unless ``allow_outside``. ``reported_by`` is the
    reporter's staff id (default: the actor's). ``reported_at`` must lie between
    ``GRIDGOV_EARLIEST_DATE`` and now (:func:`gis.plausibility.check_moment`).
    ``request_key`` is the form's idempotency key (:mod:`governance.capture`): saving the same form
    twice (a double tap, a resubmission) reports one incident and returns its id both times.
    ``photo`` (checked by :func:`etl.photos.read_photo`) is stored with the incident in the same
    transaction, with the server's time and its EXIF time and position. A ``submission``
    (an API report) is stored in the same transaction, its contact details as personal data.
    """
    require(actor.role, "report_incident")
    if submission is not None:
        _check_submission(submission)

    def work(db: Connection) -> ReportedIncident:
        incident_id, created, reference = incident_store.report_incident_once(
            db, lon=lon, lat=lat, category=category, description=description, address=address, actor=actor.name,
            reported_at=reported_at, reported_by=reported_by if reported_by is not None else actor.staff_id,
            reporter_name=reporter_name, incident_key=incident_key, allow_outside=allow_outside,
            request_key=request_key,
        )
        if created and photo is not None:
            photo_store.add_photo(db, photo, incident_id=incident_id)
        if created and submission is not None:
            record_store.add_submission(db, incident_id, service_code=submission.service_code,
                                        attributes=submission.attributes, media_url=submission.media_url,
                                        submitted_by=actor.name)
            record_store.add_contact(db, incident_id, submission.contact)
        return ReportedIncident(int(incident_id), reference)

    return run_in_transaction(bind, actor, work)


def _check_submission(submission: Submission) -> None:
    """Refuse implausible text in an API report (control characters, lengths), naming the field."""
    from urllib.parse import urlsplit

    from gis.errors import ValidationError
    from gis.plausibility import check_text
    from store.incident_records import CONTACT_FIELDS

    check_text(submission.service_code, what="service_code", kind="key")
    for key, value in submission.attributes.items():
        check_text(key, what="an attribute name", kind="key")
        check_text(value, what=f"attribute[{key}]", kind="address")
    for key, value in submission.contact.items():
        if key not in CONTACT_FIELDS:
            raise ValidationError(f"{key!r} is not a contact field; expected one of {', '.join(CONTACT_FIELDS)}",
                                  code="incident.contact_field", params={"field": key, "fields": list(CONTACT_FIELDS)})
        check_text(value, what=key, kind="phone" if key == "phone" else "name")
    if submission.media_url:
        check_text(submission.media_url, what="media_url", kind="address")
        parts = urlsplit(submission.media_url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ValidationError(f"media_url {submission.media_url[:80]!r} is expected to be an http(s) URL",
                                  code="incident.media_url", params={"url": submission.media_url[:80]})


def act_on_incident(
    bind: Engine | Connection,
    actor: Actor,
    incident_id: int,
    action: str,
    *,
    note: str = "",
    disposition: str | None = None,
    assignee: int | None = None,
    expected_version: int | None = None,
    at: dt.datetime | None = None,
    policy: DeadlinePolicy | None = None,
) -> IncidentState:
    """Apply ``action`` (accept, reject, classify, dispatch, handle, close, reopen) to an incident.

    ``expected_version`` is the version the person saw (the app: the version it showed; the CLI:
    the version it read when the command started); when someone else changed the incident since,
    :class:`gis.errors.StaleVersionError` names the newer event and nothing is written. A deadlock
    with a concurrent write is retried (:func:`store.session.run_in_transaction`).
    """
    require(actor.role, "handle_incident" if action == "handle" else "act_on_incident")
    policy = policy or DeadlinePolicy.from_settings()
    return run_in_transaction(bind, actor, lambda db: incident_store.transition_incident(
        db, incident_id, action, actor=actor.name, actor_staff_id=actor.staff_id, note=note,
        disposition=disposition, assignee=assignee, expected_version=expected_version, at=at, policy=policy,
    ))


def incident_version(bind: Engine | Connection, incident_id: int, actor: Actor | None = None) -> int:
    """The incident's current version: what a write made without a version seen is checked against.

    Raises :class:`gis.errors.NotFoundError` when there is no such incident.
    """
    with read_only(bind, actor) as db:
        return incident_store.load_incident_state(db, incident_id).version


def incident_records(
    bind: Engine | Connection,
    actor: Actor,
    *,
    ids: Sequence[int] | None = None,
    categories: Sequence[str] | None = None,
    statuses: Sequence[str] | None = None,
    start: dt.datetime | None = None,
    end: dt.datetime | None = None,
    limit: int = 1000,
) -> list[dict[str, Any]]:
    """Incidents the actor may see (``view_incidents``), newest first, with grid, responsible worker and
    submission; never the reporter's contact details (:func:`store.incident_records.incident_records`)."""
    require(actor.role, "view_incidents")
    with read_only(bind, actor) as db:
        return record_store.incident_records(db, ids=ids, categories=categories, statuses=statuses,
                                                 start=start, end=end, limit=limit)


def locate_address(bind: Engine | Connection, actor: Actor, address: str) -> tuple[float, float] | None:
    """The point (lon, lat EPSG:4490) of a household address the actor may see, if it names one place."""
    require(actor.role, "report_incident")
    with read_only(bind, actor) as db:
        return record_store.locate_address(db, address)


