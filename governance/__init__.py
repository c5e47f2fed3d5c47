"""Governance rules, pure (no database, no files, no UI): the vocabularies, the incident closed loop,
deadlines, visits, assessment, roster rules, the grid card and the monthly report's figures, and
the street's other practices (issue #17): resident evaluation (:mod:`governance.evaluation`), the
three-in-one assessment (:mod:`governance.three_in_one`), supervision spot checks
(:mod:`governance.spotcheck`), notices (:mod:`governance.notices`), cameras
(:mod:`governance.cameras`), ID numbers and completeness checks (:mod:`governance.idcard`,
:mod:`governance.completeness`), the quarterly refresh (:mod:`governance.verification`) and
feedback to residents (:mod:`governance.feedback`), with their public codes
(:mod:`governance.codes`) and rate limiter (:mod:`governance.ratelimit`). Import those modules
directly; this package only re-exports the older names below.

:mod:`governance.vocab` is the one catalogue of roles, statuses, dispositions, special kinds,
categories and visit kinds with their zh/en labels. The database side is :mod:`store.governance`,
the use cases are in :mod:`services`. Imports: :mod:`gis` and :mod:`boundaries` only.
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
