"""A person's home page (我的工作台): their day, the incident they are looking at, its photos, the notices sent to them.

Reads only (the writes are :func:`services.visits.record_visit`, :func:`services.incidents.report_incident`
and :func:`services.incidents.act_on_incident`, with their request keys and photos). Each function
runs as ``actor`` under row-level security, so a person sees only what their grids hold.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Connection, Engine

from access.actor import Actor
from access.permissions import require
from gis import clock
from governance.tasks import WorkerDay, worker_day
from services.notices import WorkerNotice, worker_notices
from store import audit
from store import governance as repository
from store import photos as photo_store
from store.session import acting_as, read_only, unit_of_work

__all__ = ["load_worker_day", "incident_panel", "photo", "notices_for"]


@contextmanager
def _reading(bind: Engine | Connection, actor: Actor) -> Iterator[Connection]:
    """A read-only transaction bound to ``actor`` (its session decides what row-level security shows)."""
    with acting_as(actor), read_only(bind, actor) as db:
        yield db


def load_worker_day(bind: Engine | Connection, actor: Actor, *, now: dt.datetime | None = None) -> WorkerDay:
    """``actor``'s day (:func:`governance.tasks.worker_day`) read in one transaction."""
    require(actor.role, "view_map")
    now = now or clock.utc_now()
    month, _start, _end = clock.month_of(now)
    with _reading(bind, actor) as db:
        frames = repository.load_frames(db, month=month, scope=actor.scope)
    grants = () if actor.scope.everything else actor.scope.prefixes
    return worker_day(frames, actor.staff_id, now=now, grants=grants)


def incident_panel(bind: Engine | Connection, actor: Actor, incident_id: int) -> dict[str, Any]:
    """An incident's detail (:func:`store.governance.incident_detail`) with ``photos`` (their info, no bytes).

    Raises :class:`gis.errors.NotFoundError` when there is no such incident the actor may see.
    """
    require(actor.role, "report_incident")
    with _reading(bind, actor) as db:
        detail = repository.incident_detail(db, incident_id)
        detail["photos"] = photo_store.photos_of(db, incident_id=incident_id)
    return detail


def photo(bind: Engine | Connection, actor: Actor, photo_id: int) -> tuple[str, bytes]:
    """``(media_type, bytes)`` of a photo the actor may see (the view is audited: photos show people)."""
    require(actor.role, "view_map")
    with unit_of_work(bind, actor) as db:
        media_type, content = photo_store.photo_content(db, photo_id)
        audit.record(db, "view_photo", object_type="photos", object_ids=[photo_id], row_count=1)
    return media_type, content


def notices_for(bind: Engine | Connection, actor: Actor, *, at: dt.datetime | None = None) -> list[WorkerNotice]:
    """The current notices (信息推送) whose audience includes ``actor``, newest first, each with the
    actor's read time (``None``: not read yet) — :func:`services.notices.worker_notices`."""
    require(actor.role, "view_map")
    return worker_notices(bind, actor, at=at)
