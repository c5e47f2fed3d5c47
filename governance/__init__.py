"""Governance workflows: staff roster, the incident closed loop, visits, assessment, reports.

Pure rules live in :mod:`governance.workflow`, :mod:`governance.deadlines`,
:mod:`governance.visits`, :mod:`governance.assessment` and :mod:`governance.roster`;
:mod:`store.governance` reads and writes PostGIS; :mod:`governance.report` builds the
monthly joint-meeting report; :mod:`cli.governance` is the ``gridgov
incident|report|roster|visit`` command group. Import direction:
app pages → governance → etl → boundaries → gis.
"""

from __future__ import annotations

from governance.assessment import Assessment, ScoreWeights, assess_month, rank
from governance.deadlines import DeadlinePolicy, overdue_incidents, overdue_mask
from governance.cards import GridCard, StaffMember
from governance.roster import TEAM_ROLES, check_roster, roster_gaps, validate_roster
from governance.visits import VisitPlan, VisitRecord, visit_plan
from governance.workflow import ACTIONS, TRANSITIONS, IncidentState, allowed_actions, apply_transition

__all__ = [
    "ACTIONS",
    "TRANSITIONS",
    "IncidentState",
    "allowed_actions",
    "apply_transition",
    "DeadlinePolicy",
    "overdue_mask",
    "overdue_incidents",
    "VisitPlan",
    "VisitRecord",
    "visit_plan",
    "Assessment",
    "ScoreWeights",
    "assess_month",
    "rank",
    "TEAM_ROLES",
    "GridCard",
    "StaffMember",
    "roster_gaps",
    "check_roster",
    "validate_roster",
]
