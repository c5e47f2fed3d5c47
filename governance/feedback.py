"""Feedback to residents: an incident's reference code and its public status view (pure).

Whoever reports an incident is given a short **reference code** (:func:`new_reference`: 11
random Crockford base-32 characters, 55 bits, plus a check character, shown as
``XXXX-XXXX-XXXX``). A public, login-free page takes the code and shows
:func:`public_status` of the incident: where it stands (a public step, not the internal
status), the disposition, the reply written for the reporter, and dates.

The code is a locator, not a credential: the page shows nothing personal, so a code that
leaks reveals only that *some* incident of a category is in progress. It is stored as is
(canonical form, unique) so staff can read it out again to a reporter who lost it. 55 bits
with the page's rate limit (:mod:`governance.ratelimit`) make finding *any* incident by
guessing hopeless: with 10⁶ incidents, one guess in 3.6·10¹⁰ hits.

What the public view contains — and only this (:data:`PUBLIC_FIELDS`, a whitelist: the
builder reads nothing else from the record): the reference, the category, the public step
and the steps passed, the disposition, the public reply, and the *dates* it was reported,
is due, was closed and last changed. Not shown: the reporter (name, phone, account), the
address and location (they often point at the reporter's home), the description (residents
write names, phone numbers and door numbers into it), internal notes of the event log, the
grid, and who handles it. The reply is text staff write *for the public*; as a safety net
any run of digits that looks like a mobile or ID number is blanked (:func:`redact_numbers`).
"""

from __future__ import annotations

import datetime as dt
import re
import secrets
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass

import pandas as pd

from gis.clock import local_date
from governance.codes import (
    PublicCodeError,
    code_bits,
    format_code,
    generate_code,
    normalize_code,
)

__all__ = [
    "REFERENCE_DATA_CHARS",
    "REFERENCE_BITS",
    "PUBLIC_FIELDS",
    "STEP_OF_STATUS",
    "ReferenceCodeError",
    "new_reference",
    "new_references",
    "parse_reference",
    "format_reference",
    "PublicIncidentStatus",
    "public_status",
    "redact_numbers",
]

#: Random characters of a reference code (55 bits), plus one check character.
REFERENCE_DATA_CHARS = 11
REFERENCE_BITS = code_bits(REFERENCE_DATA_CHARS)
REPLY_MAX_CHARS = 1000

#: Internal status → the step a resident sees.
STEP_OF_STATUS: dict[str, str] = {
    "reported": "received",
    "accepted": "accepted",
    "classified": "accepted",
    "dispatched": "in_progress",
    "handled": "handled",
    "closed": "closed",
    "rejected": "rejected",
}
#: The steps of the normal path, in order.
PATH = ("received", "accepted", "in_progress", "handled", "closed")

#: The record keys the public view reads (nothing else is looked at).
READ_KEYS = ("reference", "category", "status", "disposition", "public_reply", "reported_at", "deadline", "closed_at", "updated_at")
#: The fields of the public view.
PUBLIC_FIELDS = ("reference", "category", "step", "steps_done", "disposition", "reply", "reported_on", "due_on", "closed_on", "updated_on")

# 11-digit mainland mobiles (optionally +86), 15/18-character ID numbers, other runs of 7+ digits
_NUMBERS = re.compile(r"(?<![0-9A-Za-z])(?:\+?86[-\s]?)?(?:\d[-\s]?){6,}\d[Xx]?(?![0-9A-Za-z])")


class ReferenceCodeError(PublicCodeError):
    """A reference code cannot be used: ``malformed`` (typo) or ``unknown`` (no such incident); i18n ``feedback.error.<reason>``."""

    key_prefix = "feedback.error"


def new_reference(*, randbits: Callable[[int], int] = secrets.randbits) -> str:
    """A new reference code (canonical, 12 characters)."""
    return generate_code(REFERENCE_DATA_CHARS, randbits=randbits)


def new_references(count: int, *, randbits: Callable[[int], int] = secrets.randbits) -> list[str]:
    """``count`` new reference codes, all different (for a batch: an import, the demo)."""
    made: list[str] = []
    seen: set[str] = set()
    while len(made) < count:
        code = new_reference(randbits=randbits)
        if code not in seen:
            seen.add(code)
            made.append(code)
    return made


def parse_reference(text: object) -> str:
    """The canonical reference code typed by a resident, or :class:`ReferenceCodeError` ``malformed``."""
    return normalize_code(text, data_chars=REFERENCE_DATA_CHARS, error=ReferenceCodeError)


def format_reference(code: str) -> str:
    """``XXXX-XXXX-XXXX``."""
    return format_code(code)


def redact_numbers(text: str) -> str:
    """``text`` with every run of 7 or more digits (phones, ID numbers, door codes) replaced by ``***``."""
    return _NUMBERS.sub("***", text)


@dataclass(frozen=True)
class PublicIncidentStatus:
    """What the public page shows of an incident (:data:`PUBLIC_FIELDS`; codes are labelled by the page)."""

    reference: str
    category: str | None
    step: str
    steps_done: tuple[str, ...]
    disposition: str | None
    reply: str
    reported_on: dt.date | None
    due_on: dt.date | None
    closed_on: dt.date | None
    updated_on: dt.date | None

    def to_dict(self) -> dict[str, object]:
        out = asdict(self)
        out["steps_done"] = list(self.steps_done)
        for key in ("reported_on", "due_on", "closed_on", "updated_on"):
            out[key] = None if out[key] is None else out[key].isoformat()
        return out


def _day(value: object, timezone: str) -> dt.date | None:
    if value is None or (not isinstance(value, (str, dt.datetime)) and pd.isna(value)):
        return None
    if isinstance(value, dt.datetime) and value.tzinfo is not None:
        return local_date(value, timezone)
    stamp = pd.Timestamp(value)
    if pd.isna(stamp) or stamp.tzinfo is None:
        return None  # a naive time has no zone: show no date rather than a wrong one
    return local_date(stamp.to_pydatetime(), timezone)


def public_status(incident: Mapping[str, object], *, timezone: str = "Asia/Shanghai") -> PublicIncidentStatus:
    """The public view of one incident record (a mapping with :data:`READ_KEYS`; other keys are ignored).

    Raises
    ------
    ReferenceCodeError
        ``unknown`` when the record has no reference code or an unknown status (the page
        then says the code was not found).
    """
    get = {key: incident.get(key) for key in READ_KEYS}
    status = get["status"]
    reference = get["reference"]
    if not reference or status not in STEP_OF_STATUS:
        raise ReferenceCodeError("unknown", "no incident with this reference code")
    step = STEP_OF_STATUS[str(status)]
    done = ("received", "rejected") if step == "rejected" else PATH[: PATH.index(step) + 1]
    reply = redact_numbers(str(get["public_reply"] or "").strip())[:REPLY_MAX_CHARS]
    closed = step == "closed"
    return PublicIncidentStatus(
        reference=format_reference(str(reference)),
        category=None if get["category"] is None else str(get["category"]),
        step=step,
        steps_done=tuple(done),
        disposition=None if get["disposition"] is None or step in ("received", "rejected") else str(get["disposition"]),
        reply=reply,
        reported_on=_day(get["reported_at"], timezone),
        due_on=None if closed or step == "rejected" else _day(get["deadline"], timezone),
        closed_on=_day(get["closed_at"], timezone) if closed else None,
        updated_on=_day(get["updated_at"], timezone),
    )
