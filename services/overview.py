"""Figures about special households as the person looking may see them: per grid, small counts suppressed.

The one rule is :mod:`access.disclosure` (counts of 1–4 suppressed unless the viewer is the grid's
own micro-grid worker or grid head). This module applies it where such figures leave the
application: the per-grid counts behind leaders' heatmaps and choropleths
(:func:`special_households_by_grid`), the grid card (:func:`disclose_card`: the map's card, ``gridgov
lookup``) and the assessment tables (:func:`disclose_assessment`: ``special_households``,
``special_covered`` per worker and per grid), a boundary edit's impact preview (:func:`disclose_impact`,
:func:`disclose_worker_load`: the planner's editor and ``gridgov edit --dry-run``) and the monthly report.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable

import numpy as np
import pandas as pd
from sqlalchemy import Connection, Engine

from access.actor import Actor
from access.disclosure import disclose_counts, keeps_exact_counts, sees_families, suppress_count, suppress_small_counts
from access.permissions import require
from boundaries.coding import default_scheme
from boundaries.impact import ImpactReport
from governance.cards import GridCard
from store import queries
from store.session import unit_of_work

__all__ = ["special_households_by_grid", "disclose_card", "disclose_assessment", "disclose_impact", "disclose_worker_load",
           "sees_special_households", "SPECIAL_COUNT_COLUMNS"]

#: Columns of per-grid and per-worker tables that count special households.
SPECIAL_COUNT_COLUMNS = ("special_households", "special_covered", "special_pending")


def _own(actor: Actor) -> tuple[str, ...]:
    return () if actor.scope.everything else actor.scope.prefixes


def sees_special_households(actor: Actor, codes: Iterable[object]) -> bool:
    """Whether ``actor`` may see *which* households of the grids ``codes`` are special (the lists of
    families, not counts): :func:`access.disclosure.sees_families` — the people of those grids (worker,
    grid head, five-role team); leaders, planners and inspectors see counts, aggregated and suppressed."""
    return sees_families(actor.role, _own(actor), codes, street_wide=actor.scope.everything)


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


def _exact_for_all(actor: Actor, codes: Iterable[object]) -> bool:
    """Whether ``actor`` keeps exact counts for every grid of ``codes`` (``None``/NaN: outside every grid — no)."""
    own, wide = _own(actor), actor.scope.everything
    return all(isinstance(c, str) and keeps_exact_counts(actor.role, own, c, street_wide=wide) for c in codes)


def _suppress_balance(balance: pd.DataFrame, metric: str = "special_households") -> pd.DataFrame:
    """``balance`` (rows metrics, columns (before|after) × (min, max, mean, cv)) with the ``metric`` row's min
    and max — each one grid's (or worker's) exact count — NaN where they are 1–4; mean and cv are kept."""
    out = balance.copy()
    if metric not in out.index:
        return out
    for column in out.columns:
        if column[-1] in ("min", "max"):
            shown = suppress_count(out.at[metric, column]) if pd.notna(out.at[metric, column]) else None
            out.at[metric, column] = np.nan if shown is None else float(shown)
    return out


def disclose_impact(impact: ImpactReport, actor: Actor) -> ImpactReport:
    """An edit's impact as ``actor`` may see it: the special households it moves (in total, per from → to flow,
    per grid before and after, the balance's min and max) with counts of 1–4 suppressed (``pd.NA``; NaN in the
    float balance) unless ``actor`` is the own worker or grid head of every grid concerned. The flag of which
    moved household is special is dropped for such a viewer. Planners and admins (street-wide) always get
    the suppressed figures. The input is not changed; the preview keeps its exact impact for saving."""
    flows, before, after = impact.flows, impact.workload_before, impact.workload_after
    codes = {*before.index, *after.index}
    if len(flows):
        codes |= {*flows["from_code"], *flows["to_code"]}  # "(outside)": no grid's own people, never exact
    if _exact_for_all(actor, codes):
        return impact
    special = "special_households"

    def per_grid(load: pd.DataFrame) -> pd.DataFrame:
        if special not in load.columns:
            return load
        framed = disclose_counts(load.reset_index(names="code"), [special], role=actor.role, own_prefixes=_own(actor),
                                 street_wide=actor.scope.everything)
        return framed.set_index("code").rename_axis(load.index.name)

    if len(flows) and special in flows.columns:
        values = pd.to_numeric(flows[special]).astype("Int64")
        own_flow = (flows["from_code"].map(lambda c: _exact_for_all(actor, [c]))
                    & flows["to_code"].map(lambda c: _exact_for_all(actor, [c]))).astype(bool)
        flows = flows.assign(**{special: values.where(own_flow, suppress_small_counts(values))})
    counts = dict(impact.counts)
    if "special_households_moved" in counts:
        counts["special_households_moved"] = suppress_count(counts["special_households_moved"])
    households = impact.households.drop(columns=["special"], errors="ignore")
    return dataclasses.replace(impact, households=households, flows=flows, workload_before=per_grid(before),
                               workload_after=per_grid(after), balance=_suppress_balance(impact.balance), counts=counts)


def disclose_worker_load(table: pd.DataFrame, balance: pd.DataFrame, actor: Actor,
                         codes: Iterable[str]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The per-worker workload of an edit (:func:`services.editing.worker_workload`) as ``actor`` may see it:
    ``special_households_before`` / ``_after`` of 1–4 suppressed (``pd.NA``), and the balance's min and max, unless
    ``actor`` keeps exact counts for every grid of ``codes`` (the grids the edit touches)."""
    if _exact_for_all(actor, codes):
        return table, balance
    out = table.copy()
    for column in ("special_households_before", "special_households_after"):
        if column in out.columns:
            out[column] = suppress_small_counts(out[column]) if len(out) else out[column]
    return out, _suppress_balance(balance)
