"""Roles and what each may do: the one permission matrix.

Three tables of one matrix, all pure data:

* :data:`ROLE_PERMISSIONS` — actions (report an incident, edit boundaries, export with personal
  data …) each role may take; checked by the use cases in ``services/``.
* :data:`TABLE_ACCESS` — which rows of each table holding personal or operational data a role may
  read and write: ``all`` (the whole street), ``scope`` (the grids granted to the account: its
  micro-grid for a worker, the subtree for a grid head or a community leader), or ``none``. The
  database enforces it with row-level security: ``gridgov init`` writes this table into
  ``role_access``, which the policies read (see ``store/security.py``).
* :data:`MASKING` — how each role sees personal data (:mod:`access.masking`).

``docs/security.md`` shows the matrix as tables; ``tests/db/test_permissions.py`` walks every role
through every page, command and export.
"""

from __future__ import annotations

from dataclasses import dataclass

from gis.errors import GridGovError

__all__ = [
    "ROLES",
    "ROLE_LABELS",
    "PERMISSIONS",
    "ROLE_PERMISSIONS",
    "RESOURCES",
    "TABLE_ACCESS",
    "Access",
    "MaskingPolicy",
    "MASKING",
    "STREET_WIDE_ROLES",
    "PermissionDenied",
    "may",
    "require",
]

#: Roles in the order the docs list them.
ROLES = (
    "admin", "leader", "planner", "grid_head", "worker",
    "police", "doctor", "supervisor", "coordinator", "inspector",
)
#: zh / en labels of the roles (accounts), shown on pages.
ROLE_LABELS: dict[str, tuple[str, str]] = {
    "admin": ("系统管理员", "Administrator"),
    "leader": ("领导", "Leader"),
    "planner": ("网格规划员", "Planner"),
    "grid_head": ("网格长", "Grid head"),
    "worker": ("微网格员", "Micro-grid worker"),
    "police": ("网格民警", "Grid police officer"),
    "doctor": ("家庭医生", "Family doctor"),
    "supervisor": ("网格督导员", "Supervisor"),
    "coordinator": ("网格协调员", "Coordinator"),
    "inspector": ("纪工委督查员", "Inspector"),
}
#: Roles whose accounts see the whole street by default (no grants needed).
STREET_WIDE_ROLES = frozenset({"admin", "planner", "inspector"})

#: Every action a role may be allowed.
PERMISSIONS = (
    "view_map",            # the electronic map, grid cards
    "view_incidents",      # incident lists, maps, details
    "report_incident",     # 上报
    "act_on_incident",     # accept, reject, classify, dispatch, close, reopen
    "handle_incident",     # 处置反馈 of an incident dispatched to oneself
    "view_households",     # household lists (masked as the role's masking says)
    "record_visit",        # 入户走访
    "view_visits",
    "edit_boundaries",     # split, merge, reshape … and their save
    "view_history",        # changesets, the map on a date
    "rollback",
    "assign",              # re-assign households and incidents to grids
    "manage_roster",       # staff and assignments
    "import",              # file imports
    "export",              # exports without personal data
    "export_personal",     # exports with personal data
    "view_assessment",
    "make_report",         # the monthly joint-meeting report
    "manage_accounts",     # accounts, grants, passwords
    "view_audit",          # the audit trail
)

ROLE_PERMISSIONS: dict[str, frozenset[str]] = {
    "admin": frozenset(PERMISSIONS),
    "leader": frozenset({"view_map", "view_incidents", "report_incident", "act_on_incident", "view_households",
                         "view_visits", "view_history", "manage_roster", "export", "view_assessment", "make_report"}),
    "planner": frozenset({"view_map", "view_incidents", "view_households", "edit_boundaries", "view_history",
                          "rollback", "assign", "manage_roster", "export"}),
    "grid_head": frozenset({"view_map", "view_incidents", "report_incident", "act_on_incident", "handle_incident",
                            "view_households", "record_visit", "view_visits", "manage_roster", "export",
                            "view_assessment", "make_report"}),
    "worker": frozenset({"view_map", "view_incidents", "report_incident", "handle_incident", "view_households",
                         "record_visit", "view_visits", "view_assessment"}),
    "police": frozenset({"view_map", "view_incidents", "report_incident", "handle_incident", "view_households"}),
    "doctor": frozenset({"view_map", "report_incident", "view_households", "record_visit", "view_visits"}),
    "supervisor": frozenset({"view_map", "view_incidents", "report_incident", "handle_incident", "view_households",
                             "view_visits", "view_assessment"}),
    "coordinator": frozenset({"view_map", "view_incidents", "report_incident", "handle_incident"}),
    "inspector": frozenset({"view_map", "view_incidents", "view_households", "view_visits", "view_history",
                            "export", "view_assessment", "view_audit"}),
}

#: Tables holding personal or operational data, under row-level security.
RESOURCES = ("households", "residents", "incidents", "incident_events", "visits", "staff_assignments")


@dataclass(frozen=True)
class Access:
    """Which rows of one table a role reads and writes: ``all``, ``scope`` or ``none``."""

    read: str
    write: str

    def __post_init__(self) -> None:
        for value in (self.read, self.write):
            if value not in ("all", "scope", "none"):
                raise ValueError(f"access was {value!r} but is expected to be 'all', 'scope' or 'none'")


def _row(households: str, residents: str, incidents: str, events: str, visits: str, assignments: str,
         writes: tuple[str, str, str, str, str, str]) -> dict[str, Access]:
    reads = (households, residents, incidents, events, visits, assignments)
    return {resource: Access(r, w) for resource, r, w in zip(RESOURCES, reads, writes)}


_NONE6 = ("none",) * 6
#: role → table → Access. Writes to households/incidents grid codes after a boundary edit go
#: through a checked database function (``assign`` permission), not through these rights.
TABLE_ACCESS: dict[str, dict[str, Access]] = {
    #                  households residents incidents events  visits  assignments   writes (same order)
    "admin": _row("all", "all", "all", "all", "all", "all", ("all",) * 6),
    "leader": _row("scope", "scope", "scope", "scope", "scope", "all",
                   ("none", "none", "scope", "scope", "none", "scope")),
    "planner": _row("all", "none", "all", "all", "none", "all", ("none", "none", "none", "none", "none", "all")),
    "grid_head": _row("scope", "scope", "scope", "scope", "scope", "all", ("scope",) * 6),
    "worker": _row("scope", "scope", "scope", "scope", "scope", "all",
                   ("scope", "scope", "scope", "scope", "scope", "none")),
    "police": _row("scope", "scope", "scope", "scope", "none", "all",
                   ("none", "none", "scope", "scope", "none", "none")),
    "doctor": _row("scope", "scope", "none", "none", "scope", "all",
                   ("none", "none", "scope", "scope", "scope", "none")),
    "supervisor": _row("scope", "none", "scope", "scope", "scope", "all",
                       ("none", "none", "scope", "scope", "none", "none")),
    "coordinator": _row("scope", "none", "scope", "scope", "none", "all",
                        ("none", "none", "scope", "scope", "none", "none")),
    "inspector": _row("all", "all", "all", "all", "all", "all", _NONE6),
}


@dataclass(frozen=True)
class MaskingPolicy:
    """How a role sees residents' personal data.

    ``id_number``: ``partial`` (first 6 + last 4) or ``hidden``; ``phone``: ``own`` (in full for
    households in the account's own grants, masked elsewhere), ``masked``; ``name``: ``full``,
    ``masked`` (surname kept) or ``hidden``.
    """

    id_number: str
    phone: str
    name: str


MASKING: dict[str, MaskingPolicy] = {
    "admin": MaskingPolicy("partial", "masked", "full"),
    "leader": MaskingPolicy("hidden", "masked", "masked"),
    "planner": MaskingPolicy("hidden", "masked", "hidden"),
    "grid_head": MaskingPolicy("partial", "own", "full"),
    "worker": MaskingPolicy("partial", "own", "full"),
    "police": MaskingPolicy("partial", "masked", "full"),
    "doctor": MaskingPolicy("partial", "masked", "full"),
    "supervisor": MaskingPolicy("hidden", "masked", "masked"),
    "coordinator": MaskingPolicy("hidden", "masked", "masked"),
    "inspector": MaskingPolicy("partial", "masked", "full"),
}


class PermissionDenied(GridGovError, PermissionError):
    """The acting account's role may not do this. ``permission`` names the action."""

    def __init__(self, role: str | None, permission: str) -> None:
        self.role, self.permission = role, permission
        who = f"the role {role}" if role else "an account that is not logged in"
        message = f"{who} may not {permission.replace('_', ' ')}"
        if role:
            super().__init__(message, code="permission.denied", params={"role": role, "permission": permission})
        else:
            super().__init__(message, code="permission.not_logged_in", params={"permission": permission})


def may(role: str | None, permission: str) -> bool:
    """Whether ``role`` may take ``permission`` (an unknown permission is a programming error)."""
    if permission not in PERMISSIONS:
        raise ValueError(f"permission {permission!r} is not one of {PERMISSIONS}")
    return role is not None and permission in ROLE_PERMISSIONS.get(role, frozenset())


def require(role: str | None, permission: str) -> None:
    """Raise :class:`PermissionDenied` unless ``role`` may take ``permission``."""
    if not may(role, permission):
        raise PermissionDenied(role, permission)
