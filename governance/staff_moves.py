"""A redraw carries its people: where the staff of the grids an edit touches go (pure, no database).

A boundary edit (split, merge, transfer, reshape, …) retires codes and adds new ones; the staff
assigned to a retired code must move with it in the same changeset, or the worker is locked out
of her grid and the team gaps (岗位缺口) jump. :func:`propose_staff_moves` proposes, for every
assignment on an affected grid, the grid(s) it goes to:

* **merge** (one successor): the whole team of every merged grid goes to the kept grid — a merge
  keeps both teams;
* **split** (several successors): the team goes to the part with the most households (its
  primary grid) and also covers the other parts for now, so no part is left without its roles;
  :func:`role_flags` flags those roles of the other parts (``shared``: covered only by the team of
  another part; staff them) — and any role no one covers (``missing``) once the planner changes
  the proposal;
* a grid that keeps its code (transfer, reshape) keeps its team (``stays``).

The planner may change any row (:func:`with_choices`); the service applies the final moves in
the changeset's transaction. Frames are plain pandas; codes are strings.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import pandas as pd

from boundaries.coding import resolve_code
from governance.vocab import TEAM_ROLES

__all__ = ["MOVE_COLUMNS", "FLAG_COLUMNS", "propose_staff_moves", "with_choices", "role_flags", "moves_that_change"]

#: Columns of a moves frame. ``to_codes`` is a tuple of codes (primary first); ``rule`` one of
#: ``stays`` | ``merge`` | ``successor`` | ``split_largest`` | ``no_successor`` | ``planner``.
MOVE_COLUMNS = ("assignment_id", "staff_key", "name", "role", "from_code", "to_codes", "options", "rule")
#: Columns of :func:`role_flags`: ``status`` is ``shared`` or ``missing``; ``staff`` names joined with "、".
FLAG_COLUMNS = ("grid_code", "role", "status", "staff")


def _successors(code: str, links: Sequence[tuple[str, str, str]], after: set[str]) -> tuple[list[str], str]:
    direct = [n for o, n, _k in links if o == code and n in after]
    kinds = {k for o, _n, k in links if o == code}
    targets = sorted(dict.fromkeys(direct)) or [c for c in resolve_code(code, list(links), after) if c in after]
    kind = "merge" if "merge" in kinds else ("split" if "split" in kinds or len(targets) > 1 else "successor")
    return targets, kind


def propose_staff_moves(
    assignments: pd.DataFrame,
    *,
    lineage: Iterable[Any],
    after_codes: Iterable[str],
    households_after: Mapping[str, int],
    retired: Iterable[str],
    affected: Iterable[str] = (),
) -> pd.DataFrame:
    """Where each assignment on an affected grid goes (one row per assignment, :data:`MOVE_COLUMNS`).

    Parameters
    ----------
    assignments:
        Assignments not yet ended: ``assignment_id``, ``staff_key``, ``name``, ``role``, ``grid_code``.
    lineage:
        The edit's ``(old_code, new_code, kind)`` links.
    after_codes:
        Codes of the plan after the edit.
    households_after:
        Households per grid after the edit (the split rule's "part with most households").
    retired:
        Codes the edit retires: their staff must move.
    affected:
        Other grids the edit reshapes or adds: their staff are listed and stay.
    """
    links = [tuple(link) for link in lineage]
    after = set(after_codes)
    gone = set(retired)
    listed = gone | set(affected)
    rows: list[tuple[Any, ...]] = []
    frame = assignments.loc[assignments["grid_code"].isin(listed)] if len(assignments) else assignments
    new_codes = sorted({n for _o, n, _k in links if n in after} | (set(affected) & after))
    for rec in frame.itertuples(index=False):
        code = str(rec.grid_code)
        if code not in gone:
            to, rule = (code,), "stays"
            options = tuple(dict.fromkeys([code, *new_codes]))
        else:
            targets, kind = _successors(code, links, after)
            options = tuple(targets)
            if not targets:
                to, rule = (), "no_successor"
            elif len(targets) == 1:
                to, rule = (targets[0],), ("merge" if kind == "merge" else "successor")
            else:
                main = sorted(targets, key=lambda c: (-int(households_after.get(c, 0)), c))[0]
                to, rule = (main, *[t for t in targets if t != main]), "split_largest"
        rows.append((int(rec.assignment_id), str(rec.staff_key), "" if rec.name is None else str(rec.name),
                     str(rec.role), code, to, options, rule))
    return pd.DataFrame(rows, columns=list(MOVE_COLUMNS))


def with_choices(moves: pd.DataFrame, choices: Mapping[int, Sequence[str]]) -> pd.DataFrame:
    """``moves`` with the planner's choices: ``{assignment_id: codes}`` (primary first).

    Raises
    ------
    ValueError
        A choice names an assignment that is not in ``moves``, no code, or a code outside that
        row's ``options`` (message names the assignment and the codes it may go to).
    """
    out = moves.copy()
    by_id = {int(a): i for i, a in zip(out.index, out["assignment_id"])}
    for assignment, codes in choices.items():
        codes = tuple(dict.fromkeys(str(c) for c in codes))
        if int(assignment) not in by_id:
            raise ValueError(f"assignment {assignment} is not one of the staff this edit moves")
        i = by_id[int(assignment)]
        allowed = out.at[i, "options"]
        bad = [c for c in codes if c not in allowed]
        if not codes or bad:
            raise ValueError(f"assignment {assignment} ({out.at[i, 'name']}) may go to {', '.join(allowed) or '-'}, "
                             f"not {', '.join(bad) or 'nowhere'}")
        if codes != tuple(out.at[i, "to_codes"]):
            out.at[i, "to_codes"] = codes
            out.at[i, "rule"] = "planner"
    return out


def moves_that_change(moves: pd.DataFrame) -> pd.DataFrame:
    """Rows whose assignment really changes (it leaves its grid or gains another)."""
    if not len(moves):
        return moves
    keep = [tuple(t) != (f,) for f, t in zip(moves["from_code"], moves["to_codes"])]
    return moves.loc[keep]


def role_flags(moves: pd.DataFrame, new_codes: Iterable[str], *, roles: Sequence[str] = TEAM_ROLES) -> pd.DataFrame:
    """Roles of the new grids ``new_codes`` that have no own staff after ``moves`` (:data:`FLAG_COLUMNS`).

    A role is ``shared`` when only people whose primary grid is another one cover it, and
    ``missing`` when no one does. Roles a grid has its own person for are not listed.
    """
    primary: dict[tuple[str, str], list[str]] = defaultdict(list)
    cover: dict[tuple[str, str], list[str]] = defaultdict(list)
    for name, role, to in zip(moves["name"], moves["role"], moves["to_codes"]) if len(moves) else ():
        to = tuple(to)
        for k, code in enumerate(to):
            (primary if k == 0 else cover)[(code, role)].append(str(name))
    rows = []
    for code in sorted(set(new_codes)):
        for role in roles:
            if primary.get((code, role)):
                continue
            staff = cover.get((code, role), [])
            rows.append((code, role, "shared" if staff else "missing", "、".join(sorted(staff))))
    return pd.DataFrame(rows, columns=list(FLAG_COLUMNS))
