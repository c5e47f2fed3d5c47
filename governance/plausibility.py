"""What is plausible in governance data: the bounds the readers and use cases check against.

The rules themselves are generic and live in :mod:`gis.plausibility` (control characters,
lengths, number ranges, moments between ``GRIDGOV_EARLIEST_DATE`` and now plus the clock
skew); this module says which bounds apply to GridGov's own columns:

* a household has :data:`MEMBERS_RANGE` people (1–50): a value outside is refused, never
  replaced;
* every text column has a kind (:data:`TEXT_KINDS`: its length limit and whether it may span
  lines, :data:`gis.plausibility.TEXT_LIMITS`);
* the visit rules (who may visit, how far from the household) are in :mod:`governance.visits`.
"""

from __future__ import annotations

__all__ = ["MEMBERS_RANGE", "TEXT_KINDS", "text_kind"]

#: Inclusive bounds of ``households.members``.
MEMBERS_RANGE: tuple[int, int] = (1, 50)

#: The text kind (:data:`gis.plausibility.TEXT_LIMITS`) of every stored text column, by role.
TEXT_KINDS: dict[str, str] = {
    # keys and codes
    "code": "key",
    "household_key": "key",
    "incident_key": "key",
    "staff_key": "key",
    "grid_code": "key",
    "camera_key": "key",
    "stream_url": "name",
    # names
    "name": "name",
    "staff_name": "name",
    "organisation": "name",
    "category": "name",
    "role": "name",
    "kind": "short",
    "status": "short",
    "disposition": "short",
    "building_no": "short",
    "house_no": "short",
    "special": "address",
    "phone": "phone",
    # free text
    "address": "address",
    "description": "text",
    "note": "text",
}


def text_kind(role: str) -> str:
    """The text kind of a column role (``"name"`` for a role this table does not list)."""
    return TEXT_KINDS.get(role, "name")
