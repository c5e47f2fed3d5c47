"""Figures about special households as the person looking may see them: per grid, small counts suppressed.

The one rule is :mod:`access.disclosure` (counts of 1–4 suppressed unless the viewer is the grid's
own micro-grid worker or grid head). This module applies it where such figures leave the
application: the per-grid counts behind leaders' heatmaps and choropleths
(:func:`special_households_by_grid`), the grid card (:func:`disclose_card`: the map's card, ``gridgov
lookup``) and the assessment tables (:func:`disclose_assessment`: ``special_households``,
``special_covered`` per worker and per grid).
"""

from __future__ import annotations

import dataclasses

import pandas as pd
from sqlalchemy import Connection, Engine

from access.actor import Actor
from access.disclosure import disclose_counts, keeps_exact_counts, suppress_count, suppress_small_counts
from access.permissions import require
from boundaries.coding import default_scheme
from governance.cards import GridCard
from store import queries
from store.session import unit_of_work

__all__ = ["special_households_by_grid", "disclose_card", "disclose_assessment", "SPECIAL_COUNT_COLUMNS"]

#: Columns of per-grid and per-worker tables that count special households.
SPECIAL_COUNT_COLUMNS = ("special_households", "special_covered", "special_pending")


def _own(actor: Actor) -> tuple[str, ...]:
    return () if actor.scope.everything else actor.scope.prefixes


def special_households_by_grid(bind: Engine | Connection, actor: Actor, *, level: int | None = None) -> pd.DataFrame:
    """Households and special households (in total and per kind) per grid of ``level`` (default: the
    finest), aggregated in the database, as ``actor`` may see them.

    Columns: code, name, households, special_households, ``special_<kind>`` … Every special count of
    1–4 is ``pd.NA`` unless ``actor`` is the grid's own worker or grid head; the number of
    households per grid is not sensitive and is kept. Needs ``view_households``.
    """
    require(actor.role, "view_households")
    level = level or default_scheme().finest_level
    with unit_of_work(bind, actor) as db:
        counts = queries.special_household_counts(db, level=level, scope=actor.scope)
    special = [c for c in counts.columns if c.startswith("special_")]
    return disclose_counts(counts, special, role=actor.role, own_prefixes=_own(actor),
                           street_wide=actor.scope.everything)


def disclose_card(card: GridCard, actor: Actor) -> GridCard:
    """``card`` with its special-household count suppressed (``None``) when small and ``actor`` is not
    the grid's own worker or grid head."""
    if keeps_exact_counts(actor.role, _own(actor), card.code, street_wide=actor.scope.everything):
        return card
    return dataclasses.replace(card, special_households=suppress_count(card.special_households))


def disclose_assessment(frame: pd.DataFrame, actor: Actor, *, code_column: str) -> pd.DataFrame:
    """An assessment table (per worker: ``code_column="grid_codes"``, comma-separated; per grid: ``"grid_code"``)
    with its special-household counts suppressed where ``actor`` does not keep exact counts.

    A worker's row is exact for the viewer when every one of the worker's grids is.
    """
    columns = [c for c in SPECIAL_COUNT_COLUMNS if c in frame.columns]
    if not columns or code_column not in frame.columns:
        return frame
    own, wide = _own(actor), actor.scope.everything
    if code_column == "grid_code":
        return disclose_counts(frame, columns, role=actor.role, own_prefixes=own, street_wide=wide,
                               code_column=code_column)
    exact = frame[code_column].map(
        lambda codes: isinstance(codes, str) and bool(codes)
        and all(keeps_exact_counts(actor.role, own, c.strip(), street_wide=wide) for c in codes.split(","))
    ).astype(bool)
    out = frame.copy()
    for column in columns:
        values = pd.to_numeric(frame[column]).astype("Int64")
        out[column] = values.where(exact, suppress_small_counts(values))
    return out
