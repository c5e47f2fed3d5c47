"""Notices (信息推送) as use cases: publish, list, read receipts, a worker's current notices, the
public page's notices, the WeChat text.

The rules are :mod:`governance.notices` (validation, reach by grid subtree and level, audience,
current notices, receipts). Publishing needs ``publish_notice`` (leaders, grid heads, admins): a
publisher who does not see the whole street must name grids inside their own (the database refuses
targets outside the publisher's grids anyway), and a street-wide notice (levels only) needs a
street-wide account. Publishing and every receipt are audited (triggers).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, replace

import pandas as pd
from sqlalchemy import Connection, Engine

from access.actor import Actor
from access.permissions import PermissionDenied, require
from gis import clock
from gis.errors import NotFoundError
from governance.notices import (
    Notice,
    NoticeValidationError,
    notice_audience,
    notices_for_grid,
    notices_for_staff,
    read_receipts,
    validate_notice,
    wechat_text,
)
from i18n import translate
from store import notices as notice_store
from store import governance as gov_store
from store.session import acting_as, read_only, run_in_transaction, unit_of_work

__all__ = [
    "WorkerNotice",
    "publish",
    "list_notices",
    "receipts",
    "mark_read",
    "worker_notices",
    "public_notices_for_grid",
    "wechat",
]


def _tz() -> str:
    from gis.settings import get_settings

    return get_settings().timezone


@dataclass(frozen=True)
class WorkerNotice:
    """A current notice on a worker's home, and when they read it (``None``: not yet)."""

    notice: Notice
    read_at: dt.datetime | None


def publish(bind: Engine | Connection, actor: Actor, notice: Notice) -> int:
    """Validate and publish ``notice`` (author: the acting account); its id."""
    require(actor.role, "publish_notice")
    clean = validate_notice(replace(notice, author=actor.name))
    if not actor.scope.everything:
        if not clean.grid_codes:
            raise PermissionDenied(actor.role, "publish_notice")
        outside = [c for c in clean.grid_codes if not actor.scope.covers(c)]
        if outside:
            raise NoticeValidationError(
                f"grid(s) {', '.join(outside)} are outside the grids you may publish to ({actor.scope})",
                findings=[{"field": "grid_codes", "message": f"{c} is outside your grids"} for c in outside],
                code="notice.grids_outside", params={"codes": outside})

    def work(db: Connection) -> int:
        known = set(gov_store.load_grids(db)["code"].astype(str))
        missing = [c for c in clean.grid_codes if c not in known]
        if missing:
            raise NoticeValidationError(f"grid(s) {', '.join(missing)} do not exist",
                                        findings=[{"field": "grid_codes", "message": f"{c} does not exist"} for c in missing],
                                        code="notice.grids_unknown", params={"codes": missing})
        return notice_store.insert_notice(db, clean, street_wide=not clean.grid_codes)

    return run_in_transaction(bind, actor, work)


def list_notices(bind: Engine | Connection, actor: Actor, *, current_only: bool = False,
                 at: dt.datetime | None = None) -> list[Notice]:
    """Notices (newest first); ``current_only``: those valid now (or at ``at``)."""
    with read_only(bind, actor) as db:
        return notice_store.load_notices(db, current_at=(at or clock.utc_now()) if current_only else None)


def receipts(bind: Engine | Connection, actor: Actor, notice_id: int, *, on: dt.date | None = None) -> pd.DataFrame:
    """Who the notice reaches and whether they read it (unread first): ``staff_id``, ``name``,
    ``grid_codes``, ``roles``, ``read``, ``read_at``."""
    require(actor.role, "publish_notice")
    with unit_of_work(bind, actor) as db:
        item = notice_store.notice(db, notice_id)
        grids = gov_store.load_grids(db)
        assignments = gov_store.load_assignments(db)
        staff = gov_store.load_staff(db)
        reads = notice_store.reads(db, [notice_id])
    audience = notice_audience(item, grids, assignments, on=on or clock.today(_tz()))
    out = read_receipts(audience, reads, notice_id=int(notice_id))
    return out.assign(name=out["staff_id"].map(staff.set_index("id")["name"]))


def mark_read(bind: Engine | Connection, actor: Actor, notice_id: int) -> bool:
    """Record that the actor read the notice (their own receipt only); True when it was new."""
    if actor.staff_id is None:
        return False

    def work(db: Connection) -> bool:
        notice_store.notice(db, notice_id)
        return notice_store.mark_read(db, notice_id, int(actor.staff_id))

    return run_in_transaction(bind, actor, work)


def worker_notices(bind: Engine | Connection, actor: Actor, *, at: dt.datetime | None = None) -> list[WorkerNotice]:
    """The current notices that reach the actor (their home page), each with the actor's read time."""
    if actor.staff_id is None:
        return []
    at = at or clock.utc_now()
    with read_only(bind, actor) as db:
        current = notice_store.load_notices(db, current_at=at)
        grids = gov_store.load_grids(db)
        assignments = gov_store.load_assignments(db)
        reads = notice_store.reads(db, [n.id for n in current if n.id is not None])
    mine = notices_for_staff(current, int(actor.staff_id), grids, assignments, at=at, timezone=_tz())
    own = reads.loc[reads["staff_id"] == int(actor.staff_id)].set_index("notice_id")["read_at"]
    return [WorkerNotice(n, None if n.id not in own.index else own[n.id].to_pydatetime()) for n in mine]


def public_notices_for_grid(bind: Engine | Connection, code: str, *, at: dt.datetime | None = None) -> list[Notice]:
    """The current public notices of grid ``code`` (sent to it, an ancestor, or the street), for the
    public page and the contact card (no account).

    Raises :class:`NotFoundError` when there is no such grid.
    """
    from boundaries.coding import default_scheme

    scheme = default_scheme()
    scheme.validate(code)
    at = at or clock.utc_now()
    with acting_as(None), read_only(bind) as db:
        grids = gov_store.load_grids(db)
        if code not in set(grids["code"].astype(str)):
            raise NotFoundError(f"no grid has the code {code}", code="grid.not_found", params={"code": code})
        found = notice_store.public_notices(db, [*scheme.ancestors_of(code), code])
    return notices_for_grid(found, code, grids, at=at, scheme=scheme)


def wechat(notice: Notice, *, lang: str = "zh", grid_names: dict[str, str] | None = None) -> str:
    """The notice as text to paste into a WeChat group."""
    return wechat_text(notice, translate=translate, lang=lang, grid_names=grid_names, timezone=_tz())


def grid_names(bind: Engine | Connection, actor: Actor | None, codes: Sequence[str]) -> dict[str, str]:
    """``code`` → name of current grids (for the WeChat text and the pages)."""
    with read_only(bind, actor) as db:
        grids = gov_store.load_grids(db)
    return dict(zip(grids["code"].astype(str), grids["name"].astype(str)))
