"""The incident closed loop as a pure state machine.

States (``store.models.INCIDENT_STATUSES``)::

    reported ──accept──▶ accepted ──classify──▶ classified ──dispatch──▶ dispatched
        │                                                          ▲  │ (dispatch again = reassign)
        └─reject─▶ rejected                                        └──┘
                     │                                                 │ handle (feedback)
                     └─reopen─▶ reported                               ▼
                                               closed ◀──close── handled
                                                 │
                                                 └─reopen─▶ dispatched (same disposition and worker,
                                                                         new deadline)

Every transition is made by someone (``actor``) at an aware time with a note; the result is
the new :class:`IncidentState` plus the :class:`EventRecord` to append to the event log.
A transition not allowed from the current state raises :class:`TransitionError`
naming the incident, the state and the actions that are allowed. Persisting (and optimistic
locking on ``incidents.version``) is done by :mod:`store.governance`.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace

from gis.errors import GridGovError, ValidationError

from gis.clock import require_aware
from governance import vocab
from governance.deadlines import DeadlinePolicy

__all__ = [
    "TransitionError",
    "ACTIONS",
    "TRANSITIONS",
    "TERMINAL_STATUSES",
    "IncidentState",
    "EventRecord",
    "TransitionResult",
    "allowed_actions",
    "apply_transition",
    "report_event",
]


class TransitionError(GridGovError, ValueError):
    """A workflow transition is not allowed from the current state."""

    code = "incident.transition"

#: action → {from_status: to_status}.
TRANSITIONS: dict[str, dict[str, str]] = {
    "accept": {"reported": "accepted"},
    "reject": {"reported": "rejected"},
    "classify": {"accepted": "classified"},
    "dispatch": {"classified": "dispatched", "dispatched": "dispatched"},
    "handle": {"dispatched": "handled"},
    "close": {"handled": "closed"},
    "reopen": {"closed": "dispatched", "rejected": "reported"},
}
#: Every action a user can take, in workflow order.
ACTIONS: tuple[str, ...] = tuple(TRANSITIONS)
#: States in which an incident no longer needs work (until reopened).
TERMINAL_STATUSES: frozenset[str] = frozenset(vocab.TERMINAL_STATUSES)

#: Actions whose note is the reason/feedback and must not be empty.
_NOTE_REQUIRED = {"reject": "the reason for rejecting", "handle": "the handling feedback", "reopen": "the reason for reopening"}


@dataclass(frozen=True)
class IncidentState:
    """Where an incident stands (the workflow-relevant columns of ``incidents``).

    ``deadline`` and ``closed_at`` are aware datetimes; ``assigned_to`` is a ``staff.id``.
    """

    id: int | None
    status: str = "reported"
    disposition: str | None = None
    assigned_to: int | None = None
    deadline: dt.datetime | None = None
    closed_at: dt.datetime | None = None
    version: int = 1

    @property
    def label(self) -> str:
        return f"incident {self.id}" if self.id is not None else "the new incident"


@dataclass(frozen=True)
class EventRecord:
    """One line of an incident's event log (a row of ``incident_events``)."""

    action: str
    actor: str
    at: dt.datetime
    from_status: str | None
    to_status: str
    note: str = ""
    actor_staff_id: int | None = None


@dataclass(frozen=True)
class TransitionResult:
    """The state after a transition and the event that records it."""

    state: IncidentState
    event: EventRecord


def allowed_actions(status: str) -> list[str]:
    """Actions allowed from ``status``, in workflow order."""
    return [action for action, moves in TRANSITIONS.items() if status in moves]


def report_event(*, actor: str, at: dt.datetime, note: str = "", actor_staff_id: int | None = None) -> EventRecord:
    """The first event of every incident: ``report`` (no state → ``reported``)."""
    require_aware(at, name="at")
    _check_actor(actor)
    return EventRecord("report", actor.strip(), at, None, "reported", note or "", actor_staff_id)


def _check_actor(actor: str) -> None:
    if not isinstance(actor, str) or not actor.strip():
        raise ValidationError("actor is empty; say who makes the change (--by NAME)", code="actor.missing")


def apply_transition(
    state: IncidentState,
    action: str,
    *,
    actor: str,
    at: dt.datetime,
    note: str = "",
    disposition: str | None = None,
    assignee: int | None = None,
    actor_staff_id: int | None = None,
    policy: DeadlinePolicy | None = None,
) -> TransitionResult:
    """Apply ``action`` to ``state``; return the new state (version + 1) and its event.

    Parameters
    ----------
    state:
        Current state, as read (its ``version`` is the one the caller saw).
    action:
        One of :data:`ACTIONS`.
    actor, actor_staff_id:
        Who acts (a name, and their ``staff.id`` when known).
    at:
        When (aware datetime).
    note:
        Free text; required for ``reject`` (reason), ``handle`` (feedback) and ``reopen`` (reason).
    disposition:
        Required for ``classify``: ``solve_now`` | ``research_assign`` | ``explain_respond``.
    assignee:
        Required for ``dispatch``: the ``staff.id`` who handles it.
    policy:
        Deadline policy (default :class:`DeadlinePolicy` with 3/30/7 days, Asia/Shanghai).
        ``classify`` and ``reopen`` (from closed) set ``deadline`` from ``at``.

    Raises
    ------
    TransitionError
        If ``action`` is not allowed from ``state.status`` (the message lists what is allowed).
    ValidationError
        If a required argument is missing or malformed (naive time, empty actor, missing reason).
    """
    if action not in TRANSITIONS:
        raise TransitionError(f"action was {action!r} but is expected to be in {list(ACTIONS)}",
                              code="incident.unknown_action", params={"action": str(action)})
    moves = TRANSITIONS[action]
    if state.status not in moves:
        allowed = allowed_actions(state.status)
        message = f"cannot {action} {state.label}: it is {state.status!r}; "
        if not allowed:
            raise TransitionError(message + "no action is allowed from this state", code="incident.no_action",
                                  params={"id": state.id, "action": action, "status": state.status})
        raise TransitionError(message + f"allowed now: {', '.join(allowed)}", code="incident.not_allowed",
                              params={"id": state.id, "action": action, "status": state.status, "allowed": allowed})
    _check_actor(actor)
    require_aware(at, name="at")
    note = (note or "").strip()
    if action in _NOTE_REQUIRED and not note:
        raise ValidationError(f"{action} of {state.label} needs a note with {_NOTE_REQUIRED[action]} (--note)",
                              code=f"incident.note_required.{action}", params={"id": state.id})
    policy = policy or DeadlinePolicy()
    to_status = moves[state.status]
    new = replace(state, status=to_status, version=state.version + 1)

    if action == "classify":
        if disposition is None:
            raise ValidationError(
                f"classify of {state.label} needs a disposition, one of {list(policy.days)} (--disposition)",
                code="incident.disposition_required", params={"id": state.id},
            )
        if disposition not in policy.days:
            raise ValidationError(f"disposition was {disposition!r} but is expected to be in {list(policy.days)}",
                                  code="incident.unknown_disposition", params={"disposition": str(disposition)})
        new = replace(new, disposition=disposition, deadline=policy.deadline_for(disposition, at))
    elif disposition is not None:
        raise ValidationError(f"a disposition is only given when classifying, not to {action}",
                              code="incident.disposition_not_expected", params={"action": action})

    if action == "dispatch":
        if assignee is None:
            raise ValidationError(f"dispatch of {state.label} needs the staff id of the person who handles it (--to)",
                                  code="incident.assignee_required", params={"id": state.id})
        if isinstance(assignee, bool) or not isinstance(assignee, int):
            raise ValidationError(f"assignee was {assignee!r} but is expected to be a staff id (integer)",
                                  code="incident.assignee_invalid", params={"assignee": str(assignee)})
        if state.status == "dispatched" and assignee == state.assigned_to:
            raise TransitionError(f"{state.label} is already dispatched to staff {assignee}",
                                  code="incident.already_dispatched", params={"id": state.id})
        new = replace(new, assigned_to=assignee)
    elif assignee is not None:
        raise ValidationError(f"an assignee is only given when dispatching, not to {action}",
                              code="incident.assignee_not_expected", params={"action": action})

    if action == "close":
        new = replace(new, closed_at=at)
    elif action == "reopen":
        new = replace(new, closed_at=None)
        if state.status == "closed" and state.disposition is not None:
            new = replace(new, deadline=policy.deadline_for(state.disposition, at))

    event = EventRecord(action, actor.strip(), at, state.status, to_status, note, actor_staff_id)
    return TransitionResult(new, event)
