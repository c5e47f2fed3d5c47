"""The public, login-free pages' use cases: an incident's status by its reference code, and a
grid's public contact card (公示卡) with its current notices.

No account: every transaction runs on the application role with nobody bound to it
(:func:`store.session.acting_as` ``None``, fail closed), so row-level security hides every
personal and operational row, and the pages see only what the SECURITY DEFINER doors of
migration 0003 return (:mod:`store.public`, :func:`store.notices.public_notices`). Grids are
public (boundary tables). The resident evaluation's own use cases are
:func:`services.evaluation.find_code` and :func:`services.evaluation.submit_response`.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import Connection, Engine

from boundaries.coding import default_scheme
from gis import clock
from gis.errors import NotFoundError
from governance.cards import ContactEntry, contact_entries
from governance.feedback import PublicIncidentStatus, ReferenceCodeError, parse_reference, public_status
from governance.notices import Notice
from store import governance as gov_store
from store import public as public_store
from store.session import acting_as, read_only

__all__ = ["PUBLIC_PREFIX", "PublicCard", "incident_status", "contact_card", "evaluation_link", "status_link", "card_link"]


#: Where the public pages are served (:mod:`api.public`).
PUBLIC_PREFIX = "/public"


def _tz() -> str:
    from gis.settings import get_settings

    return get_settings().timezone


@dataclass(frozen=True)
class PublicCard:
    """A grid's public contact card: code, name, the (code, name) of the grids above it (level 1
    first), the contact lines (:func:`governance.cards.contact_entries`) and its current public
    notices (newest first)."""

    code: str
    name: str
    parents: list[tuple[str, str]]
    contacts: list[ContactEntry]
    notices: list[Notice]
    on: dt.date


def incident_status(bind: Engine | Connection, reference_text: object) -> PublicIncidentStatus:
    """The public view of the incident with this reference code (no personal data).

    Raises
    ------
    ReferenceCodeError
        ``malformed`` (a typo: the check character does not match) or ``unknown``.
    """
    reference = parse_reference(reference_text)
    with acting_as(None), read_only(bind) as db:
        record = public_store.public_incident(db, reference)
    if record is None:
        raise ReferenceCodeError("unknown", "no incident with this reference code")
    return public_status(record, timezone=_tz())


def contact_card(
    bind: Engine | Connection, code: str, *, language: str = "zh", at: dt.datetime | None = None,
) -> PublicCard:
    """Grid ``code``'s public contact card as of ``at`` (default now), in ``language``.

    Raises
    ------
    InvalidGridCodeError
        ``code`` is not a grid code of the configured scheme.
    NotFoundError
        No current grid has the code.
    """
    from services.notices import public_notices_for_grid

    scheme = default_scheme()
    scheme.validate(code)
    at = at or clock.utc_now()
    day = clock.local_date(at, _tz())
    ancestors = scheme.ancestors_of(code)
    with acting_as(None), read_only(bind) as db:
        grids = gov_store.load_grids(db)
        names = dict(zip(grids["code"].astype(str), grids["name"].astype(str)))
        if code not in names:
            raise NotFoundError(f"no grid has the code {code}", code="grid.not_found", params={"code": code})
        people = public_store.public_contacts(db, code, ancestors, day)
    parents = [(a, names.get(a, "")) for a in ancestors if a in names]
    own = [p for p in people if p.grid_code == code]
    above = [p for p in people if p.grid_code != code]
    notices = public_notices_for_grid(bind, code, at=at)
    return PublicCard(code=code, name=names[code], parents=parents,
                      contacts=contact_entries(code, names[code], parents, own, above, language=language),
                      notices=notices, on=day)


def _base(base_url: str | None) -> str:
    from gis.settings import get_settings

    return (base_url or get_settings().public_base_url).rstrip("/") + PUBLIC_PREFIX


def evaluation_link(round_id: int, code: str | None = None, *, base_url: str | None = None) -> str:
    """The address a slip's QR code opens: the evaluation page of round ``round_id`` with ``code``
    (``GRIDGOV_PUBLIC_URL`` unless ``base_url``); without a code, the page asks for it."""
    from governance.evaluation import evaluation_url

    return evaluation_url(f"{_base(base_url)}/evaluate?round={int(round_id)}", code)


def status_link(reference: str, *, base_url: str | None = None) -> str:
    """The address of an incident's public status page (for the reporter's receipt)."""
    from governance.feedback import format_reference, parse_reference

    return f"{_base(base_url)}/status/{format_reference(parse_reference(reference))}"


def card_link(code: str, *, base_url: str | None = None) -> str:
    """The address of grid ``code``'s public contact card (its QR on the printed card)."""
    return f"{_base(base_url)}/grid/{default_scheme().validate(code)}"
