"""Loading the demo street as a use case: never over data the demo did not create.

:func:`load_demo` is what ``gridgov demo`` (and ``make run``'s ``gridgov demo --if-empty``)
does. It calls ``generate`` for the street (``demo/`` sits above ``services/``, so the caller
passes e.g. ``lambda: generate_demo(seed, policy=...)``; it is only called when the demo will
be loaded) and writes it with :func:`store.seed.load_demo`, replacing what is there, but only
when that is the demo's own data:

* an empty database, or one holding only the last demo load → the demo is (re)loaded;
* anything else — an import, a boundary edit, an incident reported or handled, a visit, a
  roster change (:func:`store.seed.foreign_data` says how that is recognised) — →
  :class:`ForeignDataError` naming what was found, and nothing changes; unless
  ``replace_all_data``, which deletes everything first;
* ``if_empty``: load only into an empty database; otherwise say so and change nothing
  (never an error, never a deletion).

The check is made twice: before generating (to refuse quickly), and again in the load's
transaction after locking every table against writers, so nothing written in between is lost.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Engine

from gis.errors import GridGovError, ValidationError
from gis.progress import Stopwatch
from store.seed import DemoFrames, ForeignData, foreign_data, lock_tables
from store.seed import load_demo as write_demo

__all__ = ["DemoLoadResult", "ForeignDataError", "describe_foreign", "load_demo"]

logger = logging.getLogger(__name__)

#: How a table's rows are named in messages (singular, plural), in the order they are listed;
#: other tables come last as "rows in <table>".
_NOUNS: dict[str, tuple[str, str]] = {
    "grid_codes": ("grid code", "grid codes"),
    "grids": ("grid", "grids"),
    "grid_versions": ("grid version", "grid versions"),
    "code_lineage": ("code lineage link", "code lineage links"),
    "households": ("household", "households"),
    "residents": ("resident", "residents"),
    "staff": ("staff member", "staff members"),
    "staff_assignments": ("staff assignment", "staff assignments"),
    "incidents": ("incident", "incidents"),
    "incident_events": ("incident event", "incident events"),
    "visits": ("visit", "visits"),
}


def _count(n: int, singular: str, plural: str) -> str:
    return f"{n} {singular if n == 1 else plural}"


def describe_foreign(found: ForeignData) -> str:
    """``1 import changeset, 3 edit changesets, 12 households, 40 incident events``."""
    parts = [_count(n, f"{kind} changeset", f"{kind} changesets") for kind, n in found.changesets.items()]
    order = list(_NOUNS)
    for table, n in sorted(found.rows.items(), key=lambda item: order.index(item[0]) if item[0] in _NOUNS else len(order)):
        singular, plural = _NOUNS.get(table, (f"row in {table}", f"rows in {table}"))
        parts.append(_count(n, singular, plural))
    return ", ".join(parts)


class ForeignDataError(GridGovError, RuntimeError):
    """The database holds data the demo did not create, and replacing it was not asked for."""

    def __init__(self, found: ForeignData) -> None:
        self.found = found
        super().__init__(
            f"the database holds data the demo did not create: {describe_foreign(found)}; nothing was changed",
            code="demo.foreign_data",
        )


@dataclass(frozen=True)
class DemoLoadResult:
    """What :func:`load_demo` did.

    Attributes
    ----------
    loaded:
        Whether the demo was written.
    details:
        The demo's changeset details (seed, date, street) when loaded.
    counts:
        Rows written per table (empty when not loaded).
    replaced:
        The foreign data that ``replace_all_data`` deleted along with the old demo (empty
        when there was none, or nothing was loaded).
    reason:
        Why the demo was not loaded (``if_empty`` on a database that is not empty).
    seconds:
        Wall-clock time, generation included.
    """

    loaded: bool
    details: dict[str, Any] = field(default_factory=dict)
    counts: dict[str, int] = field(default_factory=dict)
    replaced: ForeignData = field(default_factory=ForeignData)
    reason: str | None = None
    seconds: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        return {
            "loaded": self.loaded, "details": dict(self.details), "counts": dict(self.counts),
            "replaced": {"changesets": dict(self.replaced.changesets), "rows": dict(self.replaced.rows)},
            "reason": self.reason, "seconds": round(self.seconds, 3),
        }


def _decide(found: ForeignData, *, if_empty: bool, replace_all_data: bool) -> str | None:
    """Why not to load (``if_empty`` on a database that is not empty), or ``None`` to go ahead.

    Raises :class:`ForeignDataError` when loading would delete foreign data unasked.
    """
    if if_empty:
        if found.empty:
            return None
        if found.grid_codes:
            return f"the database already has grids ({found.grid_codes} grid codes)"
        return f"the database already holds data ({describe_foreign(found) or 'an earlier demo load'})"
    if found.found and not replace_all_data:
        raise ForeignDataError(found)
    return None


def load_demo(
    engine: Engine,
    generate: Callable[[], DemoFrames],
    *,
    if_empty: bool = False,
    replace_all_data: bool = False,
) -> DemoLoadResult:
    """Generate the demo street and load it, replacing only the demo's own data.

    Parameters
    ----------
    engine:
        The database (migrated).
    generate:
        Returns the street to load (:func:`demo.generate.generate_demo` with its seed and
        deadline policy); called once, only when the demo is going to be loaded.
    if_empty:
        Load only into an empty database (no grids, no data of any kind); otherwise return
        ``loaded=False`` with the reason and change nothing.
    replace_all_data:
        Delete everything first, whatever it is (what was deleted besides the demo is in
        ``replaced``).

    Raises
    ------
    ForeignDataError
        The database holds data the demo did not create and ``replace_all_data`` is false
        (nothing was changed).
    ValidationError
        Both ``if_empty`` and ``replace_all_data``.
    """
    if if_empty and replace_all_data:
        raise ValidationError("if_empty and replace_all_data contradict each other; give one of them",
                              code="demo.contradiction")
    clock = Stopwatch()
    with engine.connect() as conn:
        reason = _decide(foreign_data(conn), if_empty=if_empty, replace_all_data=replace_all_data)
    if reason is not None:
        logger.info("demo not loaded: %s", reason)
        return DemoLoadResult(False, reason=reason, seconds=clock.seconds)
    data = generate()
    with engine.begin() as conn:
        lock_tables(conn)
        found = foreign_data(conn)  # again: something may have been written while generating
        reason = _decide(found, if_empty=if_empty, replace_all_data=replace_all_data)
        if reason is not None:
            return DemoLoadResult(False, reason=reason, seconds=clock.seconds)
        counts = write_demo(conn, data, replace=True)
    replaced = found if replace_all_data else ForeignData()
    logger.info("demo loaded (%s): %s; replaced %s", data.details, counts, replaced.to_dict())
    return DemoLoadResult(True, details=dict(data.details), counts=counts, replaced=replaced, seconds=clock.seconds)


def demo_accounts(owner_engine: Engine) -> list[dict[str, Any]]:
    """One entry per role that has accounts, in :data:`access.permissions.ROLES` order: ``role``,
    ``example`` (the first account name of the role), ``count``, ``street_wide`` — what ``gridgov demo``
    prints beside the demo password (:data:`demo.generate.DEMO_PASSWORD`, which ``services`` does not import)."""
    from access.permissions import ROLES
    from store.accounts import list_accounts

    with owner_engine.connect() as db:
        frame = list_accounts(db)
    out = []
    for role in ROLES:
        rows = frame.loc[(frame["role"] == role) & ~frame["disabled"].astype(bool)].sort_values("name")
        if len(rows):
            out.append({"role": role, "example": str(rows["name"].iloc[0]), "count": int(len(rows)),
                        "street_wide": bool(rows["street_wide"].iloc[0])})
    return out
