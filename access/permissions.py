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
    "BASE_RESOURCES",
    "PRACTICE_RESOURCES",
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
    # -- the street's practices (issue #17) --
    "manage_evaluation",   # open and close evaluation rounds, issue codes (民主测评)
    "view_evaluation",     # evaluation results (anonymous, small groups suppressed)
    "rate_workers",        # the leader's overall rating (领导评价) and publishing the three-in-one results
    "spot_check",          # draw and record supervision spot checks (督查)
    "hold_talks",          # reminder talks (提醒谈话) assigned to oneself
    "publish_notice",      # notices to grids and levels (信息推送), read receipts
    "view_camera_streams", # camera stream addresses (雪亮工程)
    "verify_records",      # mark a household and its residents verified this quarter
    "check_completeness",  # completeness to-dos and verification shares
)

_BASE_PERMISSIONS: dict[str, frozenset[str]] = {
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

#: What each role may do of the street's practices (issue #17), added to the actions above.
_PRACTICE_PERMISSIONS: dict[str, frozenset[str]] = {
    "admin": frozenset(),  # every permission already
    "leader": frozenset({"view_evaluation", "rate_workers", "hold_talks", "publish_notice", "view_camera_streams",
                         "check_completeness"}),
    "planner": frozenset({"manage_evaluation", "view_evaluation"}),
    "grid_head": frozenset({"view_evaluation", "rate_workers", "hold_talks", "publish_notice", "verify_records",
                            "check_completeness"}),
    "worker": frozenset({"verify_records", "check_completeness"}),
    "police": frozenset({"view_camera_streams"}),
    "doctor": frozenset(),
    "supervisor": frozenset(),
    "coordinator": frozenset(),
    "inspector": frozenset({"view_evaluation", "spot_check", "check_completeness"}),
}

ROLE_PERMISSIONS: dict[str, frozenset[str]] = {
    role: perms | _PRACTICE_PERMISSIONS.get(role, frozenset()) for role, perms in _BASE_PERMISSIONS.items()
}

#: Tables holding personal or operational data, under row-level security (migration 0002).
BASE_RESOURCES = ("households", "residents", "incidents", "incident_events", "visits", "staff_assignments")
#: The street's practices' tables under the same grid-code row-level security (migration 0003).
PRACTICE_RESOURCES = (
    "evaluation_responses", "leader_ratings", "assessment_results", "spot_check_items", "spot_check_outcomes",
    "reminder_talks", "notice_targets", "cameras", "completeness_todos", "houses",
)
RESOURCES = (*BASE_RESOURCES, *PRACTICE_RESOURCES)


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
    return {resource: Access(r, w) for resource, r, w in zip(BASE_RESOURCES, reads, writes)}


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


def _practice(**access: str) -> dict[str, Access]:
    """``resource="read/write"`` for the practice resources; a resource not named: none/none."""
    out = {}
    for resource in PRACTICE_RESOURCES:
        read, write = access.get(resource, "none/none").split("/")
        out[resource] = Access(read, write)
    return out


_ALL_ALL = {r: "all/all" for r in PRACTICE_RESOURCES}
#: role → practice table → Access. Evaluation responses are read by those who see results (never by
#: workers: they are anonymous to them) and written by nobody directly (``gridgov.evaluation_submit``);
#: a worker reads their own ratings, results and reminder talks by a policy of its own (``staff_id``).
_PRACTICE_ACCESS: dict[str, dict[str, Access]] = {
    "admin": _practice(**{**_ALL_ALL, "evaluation_responses": "all/none"}),
    "leader": _practice(evaluation_responses="scope/none", leader_ratings="scope/scope", assessment_results="scope/scope",
                        spot_check_items="scope/none", spot_check_outcomes="scope/none", reminder_talks="scope/scope",
                        notice_targets="all/scope", cameras="scope/none", completeness_todos="scope/scope",
                        houses="scope/none"),
    "planner": _practice(evaluation_responses="all/none", assessment_results="all/none", notice_targets="all/none",
                         cameras="all/none", houses="all/none"),
    "grid_head": _practice(evaluation_responses="scope/none", leader_ratings="scope/scope",
                           assessment_results="scope/scope", spot_check_items="scope/none",
                           spot_check_outcomes="scope/none", reminder_talks="scope/scope", notice_targets="all/scope",
                           cameras="scope/none", completeness_todos="scope/scope", houses="scope/none"),
    "worker": _practice(notice_targets="all/none", cameras="scope/none", completeness_todos="scope/scope",
                        houses="scope/none"),
    "police": _practice(notice_targets="all/none", cameras="scope/none"),
    "doctor": _practice(notice_targets="all/none", cameras="scope/none"),
    "supervisor": _practice(notice_targets="all/none", cameras="scope/none"),
    "coordinator": _practice(notice_targets="all/none", cameras="scope/none"),
    "inspector": _practice(evaluation_responses="all/none", leader_ratings="all/none", assessment_results="all/none",
                           spot_check_items="all/all", spot_check_outcomes="all/all", reminder_talks="all/all",
                           notice_targets="all/none", cameras="all/none", completeness_todos="all/none",
                           houses="all/none"),
}
for _role, _tables in _PRACTICE_ACCESS.items():
    TABLE_ACCESS[_role].update(_tables)


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
