"""Reading households and their residents as the person looking may see them (masked by role, audited)."""

from __future__ import annotations

import pandas as pd
from sqlalchemy import Connection, Engine

from access.actor import Actor
from access.masking import RESIDENT_PERSONAL_COLUMNS, mask_for_viewer
from access.permissions import MASKING, require
from store import audit, queries
from store.session import unit_of_work

__all__ = ["household_roster"]


def household_roster(bind: Engine | Connection, actor: Actor, code: str) -> pd.DataFrame:
    """The households of grid ``code`` (and below) with their residents, as ``actor`` may see them.

    Row-level security keeps rows outside the actor's grids out; names, ID numbers and phones are
    shown as the actor's role says (:data:`access.permissions.MASKING`: a worker sees the phones of
    her own grid's households, to call them). A read that shows personal data unmasked is audited.
    """
    require(actor.role, "view_households")
    with unit_of_work(bind, actor) as db:
        raw = queries.household_roster(db, code, scope=actor.scope)
        policy = MASKING[actor.role or ""]
        own = () if actor.scope.everything else actor.scope.prefixes
        shown, unmasked = mask_for_viewer(raw, RESIDENT_PERSONAL_COLUMNS, policy, own_prefixes=own)
        if unmasked:
            audit.record(db, "read_personal", object_type="residents", row_count=unmasked, grid_code=code,
                         details={"fields": [k for k, v in (("name", policy.name == "full"),
                                                             ("phone", policy.phone == "own")) if v]})
    return shown
