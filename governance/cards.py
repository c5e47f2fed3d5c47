"""The grid card: everything a worker, a leader or a resident needs to know about one grid.

One card serves every use: the electronic map's click card, "my grid", ``gridgov lookup``, and the
public contact card (公示卡 / 公示栏) posted in the community, which lists the grid's own team and the
liaison leaders and grid heads of the grids above it. Pure data; :func:`store.lookup.grid_card`
fills it from the database and :mod:`etl.cards` prints it (HTML, PNG, PDF).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass, field
from typing import Any

from governance.vocab import STAFF_ROLE_TERMS, STAFF_ROLES

__all__ = ["StaffMember", "ContactEntry", "GridCard", "LEADER_ROLES", "contact_entries"]

#: Roles of an ancestor grid shown on a grid's public contact card.
LEADER_ROLES = ("liaison_leader", "grid_head")


@dataclass(frozen=True)
class StaffMember:
    """A person in a role on a grid (phones are work numbers, public on the contact card)."""

    name: str
    role: str
    phone: str | None
    grid_code: str
    building_no: str | None = None
    staff_id: int | None = None

    def role_label(self, language: str = "zh") -> str:
        return STAFF_ROLE_TERMS.label(self.role, language)


@dataclass(frozen=True)
class ContactEntry:
    """One line of the public contact card."""

    role: str
    role_label: str
    name: str
    phone: str
    grid_code: str
    grid_name: str
    building_no: str | None = None


@dataclass(frozen=True)
class GridCard:
    """One grid (any level) as now or as of a date.

    ``parents`` are (code, name) pairs from level 1 down to the parent; ``staff`` the people
    assigned to this grid on the card's day; ``leaders`` the liaison leaders and grid heads of the
    parents (for the contact card); ``area_m2`` in square metres on the CGCS2000 ellipsoid.
    """

    code: str
    name: str
    level: int
    parent_code: str | None
    parents: list[tuple[str, str]]
    staff: list[StaffMember]
    households: int
    special_households: int | None  # None: fewer than 5, suppressed for this viewer (access.disclosure)
    residents: int
    open_incidents: int
    area_m2: float
    children: list[tuple[str, str]] = field(default_factory=list)
    version: int = 1
    leaders: list[StaffMember] = field(default_factory=list)
    on: dt.date | None = None

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["parents"] = [{"code": c, "name": n} for c, n in self.parents]
        data["children"] = [{"code": c, "name": n} for c, n in self.children]
        return data

    def contact_entries(self, language: str = "zh") -> list[ContactEntry]:
        """The public card's lines: the parents' leaders (top down), then this grid's team by role."""
        return contact_entries(self.code, self.name, self.parents, self.staff, self.leaders, language=language)


def contact_entries(
    code: str, name: str, parents: list[tuple[str, str]], staff: list[StaffMember], leaders: list[StaffMember],
    *, language: str = "zh",
) -> list[ContactEntry]:
    """The lines of grid ``code``'s public contact card: the liaison leaders and grid heads of its
    ``parents`` ((code, name) pairs, level 1 first) top down, then its own ``staff`` by role."""
    names = dict(parents)
    names[code] = name
    order = {role: i for i, role in enumerate(STAFF_ROLES)}
    depth = {c: i for i, (c, _) in enumerate(parents)}
    chosen = sorted(
        (s for s in leaders if s.role in LEADER_ROLES),
        key=lambda s: (depth.get(s.grid_code, -1), order.get(s.role, 99), s.name),
    )
    team = sorted(staff, key=lambda s: (order.get(s.role, 99), s.name))
    return [
        ContactEntry(s.role, s.role_label(language), s.name, s.phone or "", s.grid_code,
                     names.get(s.grid_code, ""), s.building_no)
        for s in [*chosen, *team]
    ]
