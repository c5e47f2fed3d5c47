"""Completeness checks of the household and resident records (pure; frames in, findings out).

Each finding is a to-do for the worker of the record's grid (:func:`assign_todos`), counted
per grid and rule by :func:`completeness_counts`. Rules (codes of
:data:`governance.vocab.COMPLETENESS_RULE_TERMS`):

``household_no_residents``
    a household with no resident record.
``missing_name``, ``missing_id_number``, ``missing_relation``
    a resident without a name, an ID number or a relation to the head (与户主关系).
``missing_phone``
    a resident aged ``phone_min_age`` (18) or more — or of unknown age — without a phone.
``id_malformed``, ``id_check_digit``, ``id_birth_date_invalid``
    the ID number is not 18 characters / 15 digits, its GB 11643 check character is wrong, or
    its birth date is no date (:mod:`governance.idcard`).
``id_birth_mismatch``, ``id_age_mismatch``, ``id_gender_mismatch``
    the recorded birth date differs from the ID's; the recorded age differs from the ID's age
    on ``as_of`` by more than ``age_tolerance`` years (1: an age noted earlier in the year);
    the recorded gender differs from the ID's (odd sequence = male).
``category_age``
    a category that does not fit the age: a resident marked 留守儿童 (left-behind child) aged
    ``child_max_age`` (16) or more, a resident marked 空巢老人 (empty-nest elderly) under
    ``elderly_min_age`` (60); and a household marked with one of these kinds where no member
    (all ages known) fits it. Ages come from the ID number, else the recorded birth date, else
    the recorded age. The thresholds follow the usual definitions (留守儿童: under 16 with both
    parents working away; 空巢老人: 60 or older) and are configurable (:class:`CompletenessRules`).
``id_duplicate``
    one ID number on two or more resident records, in one household or several (compared by
    the first 17 digits, so the 15- and 18-character forms of one number, and a number with a
    mistyped check character, match).
``address_no_household``
    a known house (an ``addresses`` row, e.g. from the building register) that no household
    record lives at: matched by ``address_key`` when both frames have it, else by the address
    text (NFKC, spaces removed, case folded).

Findings name records by id and carry no personal data: no names, no ID numbers, no phones.
"""

from __future__ import annotations

import datetime as dt
import unicodedata
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from governance._frames import has_special, match_prefix, require_columns
from governance.idcard import check_id_numbers
from governance.visits import worker_grids
from governance.vocab import COMPLETENESS_RULE_TERMS

#: Rules in display order.
COMPLETENESS_RULE_ORDER = COMPLETENESS_RULE_TERMS.codes

__all__ = [
    "FINDING_COLUMNS",
    "COMPLETENESS_RULE_ORDER",
    "CompletenessRules",
    "check_completeness",
    "completeness_counts",
    "assign_todos",
]

FINDING_COLUMNS = ("rule", "household_id", "resident_id", "grid_code", "address", "message_key", "params", "message")
_GENDER = {"男": "male", "male": "male", "m": "male", "男性": "male", "女": "female", "female": "female", "f": "female", "女性": "female"}


@dataclass(frozen=True)
class CompletenessRules:
    """The configurable numbers of the checks (see the module docstring)."""

    #: A 留守儿童 is younger than this (years).
    child_max_age: int = 16
    #: A 空巢老人 is this old or older (years).
    elderly_min_age: int = 60
    #: Years a recorded age may differ from the ID's age.
    age_tolerance: int = 1
    #: Residents of this age or more need a phone (``None``: everyone).
    phone_min_age: int | None = 18
    #: The special kinds checked against ages.
    child_kind: str = "left_behind_child"
    elderly_kind: str = "empty_nest"
    rules: tuple[str, ...] = field(default=())  # empty: every rule

    def wants(self, rule: str) -> bool:
        return not self.rules or rule in self.rules


def _blank(series: pd.Series) -> pd.Series:
    return series.map(lambda v: v is None or (not isinstance(v, str) and pd.isna(v)) or not str(v).strip()).astype(bool)


def _address_key(series: pd.Series) -> pd.Series:
    return series.map(
        lambda v: None if v is None or (not isinstance(v, str) and pd.isna(v))
        else "".join(unicodedata.normalize("NFKC", str(v)).split()).casefold() or None
    )


def _finding(rows: pd.DataFrame, rule: str, message: str, *, key: str | None = None, params: object = None) -> pd.DataFrame:
    if not len(rows):
        return pd.DataFrame(columns=list(FINDING_COLUMNS))
    out = pd.DataFrame({
        "rule": rule,
        "household_id": rows["household_id"].to_numpy(dtype=object) if "household_id" in rows else None,
        "resident_id": rows["resident_id"].to_numpy(dtype=object) if "resident_id" in rows else None,
        "grid_code": rows["grid_code"].to_numpy(dtype=object),
        "address": rows["address"].to_numpy(dtype=object) if "address" in rows else None,
        "message_key": key or f"todo.{rule}",
    })
    if callable(params):
        out["params"] = [params(r) for r in rows.to_dict("records")]
    else:
        out["params"] = [dict(params or {}) for _ in range(len(rows))]
    out["message"] = [message.format(**p) for p in out["params"]]
    return out


def _ages(residents: pd.DataFrame, ids: pd.DataFrame, as_of: dt.date) -> pd.Series:
    """Age in completed years on ``as_of``: from the ID, else the birth date, else the recorded age."""
    birth = ids["birth_date"]
    if "birth_date" in residents:
        recorded = pd.to_datetime(residents["birth_date"], errors="coerce").map(lambda t: None if pd.isna(t) else t.date())
        birth = birth.where(birth.notna(), recorded)
    born = pd.to_datetime(birth, errors="coerce")
    years = as_of.year - born.dt.year
    before_birthday = (born.dt.month > as_of.month) | ((born.dt.month == as_of.month) & (born.dt.day > as_of.day))
    ages = (years - before_birthday.astype(int)).astype(float)
    if "age" in residents:
        ages = ages.fillna(pd.to_numeric(residents["age"], errors="coerce").astype(float))
    return ages


def check_completeness(
    households: pd.DataFrame,
    residents: pd.DataFrame,
    *,
    as_of: dt.date,
    addresses: pd.DataFrame | None = None,
    rules: CompletenessRules | None = None,
) -> pd.DataFrame:
    """Every finding of every rule, as a frame with :data:`FINDING_COLUMNS`.

    Parameters
    ----------
    households:
        ``id``, ``grid_code``; optionally ``special_kinds`` (list), ``address``, ``address_key``.
    residents:
        ``id``, ``household_id``, ``name``, ``relation``, ``id_number``, ``phone``; optionally
        ``birth_date``, ``age`` (years), ``gender`` (男/女, male/female), ``special_kinds`` (list).
    as_of:
        The day ages are counted on (local date).
    addresses:
        Known houses: ``address`` and/or ``address_key``, ``grid_code`` (optional check).

    ``message_key`` is the catalogue key of the to-do text and ``params`` its placeholders;
    ``message`` is the same in English (logs, the CLI). Rows are ordered by grid, household,
    resident and rule.
    """
    rules = rules or CompletenessRules()
    require_columns(households, ("id", "grid_code"), name="households")
    require_columns(residents, ("id", "household_id", "name", "relation", "id_number", "phone"), name="residents")
    hh = households.reset_index(drop=True).rename(columns={"id": "household_id"})
    hh["household_id"] = hh["household_id"].astype("int64")
    res = residents.reset_index(drop=True).rename(columns={"id": "resident_id"})
    res["household_id"] = pd.to_numeric(res["household_id"], errors="coerce").astype("Int64")
    grid_of = hh.set_index("household_id")["grid_code"]
    res["grid_code"] = res["household_id"].map(grid_of)
    ids = check_id_numbers(res["id_number"], today=as_of)
    ages = _ages(res, ids, as_of)
    found: list[pd.DataFrame] = []

    def add(rule: str, rows: pd.DataFrame, message: str, **kw: object) -> None:
        if rules.wants(rule):
            found.append(_finding(rows, rule, message, **kw))

    add("household_no_residents", hh.loc[~hh["household_id"].isin(set(res["household_id"].dropna()))],
        "the household has no resident records")
    add("missing_name", res.loc[_blank(res["name"])], "the resident has no name")
    add("missing_id_number", res.loc[ids["status"] == "missing"], "the resident has no ID number")
    add("missing_relation", res.loc[_blank(res["relation"])], "the resident's relation to the head is missing")
    needs_phone = ages.isna() | (ages >= rules.phone_min_age) if rules.phone_min_age is not None else pd.Series(True, index=res.index)
    add("missing_phone", res.loc[_blank(res["phone"]) & needs_phone], "the resident has no phone number")

    lengths = ids["number"].str.len()
    add("id_malformed", res.assign(_len=lengths).loc[ids["status"] == "malformed"],
        "the ID number is malformed ({length} characters)", params=lambda r: {"length": int(r["_len"])})
    add("id_check_digit", res.assign(_want=ids["expected_check"]).loc[ids["status"] == "check_digit"],
        "the ID number's check character is wrong; the first 17 digits give {expected}",
        params=lambda r: {"expected": r["_want"]})
    add("id_birth_date_invalid", res.loc[ids["status"] == "birth_date"], "the birth date inside the ID number is not a date")

    valid = ids["status"] == "valid"
    if "birth_date" in res:
        recorded = pd.to_datetime(res["birth_date"], errors="coerce").map(lambda t: None if pd.isna(t) else t.date())
        differs = valid & recorded.notna() & (recorded != ids["birth_date"])
        add("id_birth_mismatch", res.loc[differs], "the recorded birth date differs from the ID number's")
    if "age" in res:
        id_age = _ages(res.drop(columns=[c for c in ("birth_date", "age") if c in res]), ids, as_of)
        recorded_age = pd.to_numeric(res["age"], errors="coerce")
        differs = valid & recorded_age.notna() & ((recorded_age - id_age).abs() > rules.age_tolerance)
        add("id_age_mismatch", res.assign(_rec=recorded_age, _id=id_age).loc[differs],
            "the recorded age {recorded} differs from the ID number's age {from_id}",
            params=lambda r: {"recorded": int(r["_rec"]), "from_id": int(r["_id"])})
    if "gender" in res:
        recorded_gender = res["gender"].map(lambda v: _GENDER.get(str(v).strip().lower()) if isinstance(v, str) else None)
        differs = valid & recorded_gender.notna() & (recorded_gender != ids["gender"])
        add("id_gender_mismatch", res.loc[differs], "the recorded gender differs from the ID number's")

    # categories and ages
    if "special_kinds" in res:
        kinds = res["special_kinds"].map(lambda v: set(v) if isinstance(v, (list, tuple, set, np.ndarray)) else set())
        child = kinds.map(lambda k: rules.child_kind in k) & (ages >= rules.child_max_age)
        elderly = kinds.map(lambda k: rules.elderly_kind in k) & (ages < rules.elderly_min_age)
        add("category_age", res.assign(_age=ages).loc[child], "marked {kind} but aged {age} (limit: under {limit})",
            key="todo.category_age.child",
            params=lambda r: {"kind": rules.child_kind, "age": int(r["_age"]), "limit": rules.child_max_age})
        add("category_age", res.assign(_age=ages).loc[elderly], "marked {kind} but aged {age} (limit: {limit} or older)",
            key="todo.category_age.elderly",
            params=lambda r: {"kind": rules.elderly_kind, "age": int(r["_age"]), "limit": rules.elderly_min_age})
    if "special_kinds" in hh and len(res):
        flagged = hh.loc[has_special(hh["special_kinds"])]
        member_ages = pd.DataFrame({"household_id": res["household_id"], "age": ages})
        stats = member_ages.groupby("household_id")["age"].agg(
            known=lambda a: bool(a.notna().all()), youngest="min", oldest="max"
        )
        kinds = flagged["special_kinds"].map(set)
        joined = flagged.assign(_kinds=kinds).join(stats, on="household_id", how="inner")
        joined = joined.loc[joined["known"].astype(bool)]
        no_child = joined["_kinds"].map(lambda k: rules.child_kind in k) & (joined["youngest"] >= rules.child_max_age)
        no_elder = joined["_kinds"].map(lambda k: rules.elderly_kind in k) & (joined["oldest"] < rules.elderly_min_age)
        add("category_age", joined.loc[no_child], "marked {kind} but no member is under {limit}",
            key="todo.category_age.no_child", params={"kind": rules.child_kind, "limit": rules.child_max_age})
        add("category_age", joined.loc[no_elder], "marked {kind} but no member is {limit} or older",
            key="todo.category_age.no_elderly", params={"kind": rules.elderly_kind, "limit": rules.elderly_min_age})

    # the same ID number on several records
    # the first 17 digits are the person (the 18th is derived): a mistyped check character still matches
    comparable = ids["status"].isin(["valid", "check_digit", "birth_date"])
    numbers = ids["number"].where(comparable).str[:17]
    repeated = numbers.notna() & numbers.duplicated(keep=False)
    if repeated.any():
        group = pd.DataFrame({"number": numbers[repeated], "household_id": res.loc[repeated, "household_id"]})
        count = group.groupby("number")["household_id"].transform("size")
        homes = group.groupby("number")["household_id"].transform("nunique")
        add("id_duplicate", res.assign(_n=count, _h=homes).loc[repeated],
            "the ID number appears on {count} resident records in {households} household(s)",
            params=lambda r: {"count": int(r["_n"]), "households": int(r["_h"])})

    if addresses is not None and rules.wants("address_no_household"):
        require_columns(addresses, ("grid_code",), name="addresses")
        use_key = "address_key" in addresses and "address_key" in hh
        if not use_key:
            require_columns(addresses, ("address",), name="addresses")
            require_columns(hh, ("address",), name="households")
        known = (hh["address_key"].astype(object) if use_key else _address_key(hh["address"]))
        wanted = (addresses["address_key"].astype(object) if use_key else _address_key(addresses["address"]))
        empty_houses = addresses.loc[wanted.notna() & ~wanted.isin(set(known.dropna()))].copy()
        if "address" not in empty_houses:
            empty_houses["address"] = empty_houses["address_key"]
        add("address_no_household", empty_houses, "no household lives at {address}",
            params=lambda r: {"address": str(r["address"])})

    frames = [f for f in found if len(f)]
    if not frames:
        return pd.DataFrame({c: pd.Series(dtype=object) for c in FINDING_COLUMNS})
    findings = pd.concat(frames, ignore_index=True)[list(FINDING_COLUMNS)]
    for column in ("household_id", "resident_id"):
        findings[column] = pd.to_numeric(findings[column], errors="coerce").astype("Int64")
    order = list(COMPLETENESS_RULE_ORDER)
    findings["_rule"] = findings["rule"].map({r: i for i, r in enumerate(order)})
    findings = findings.sort_values(["grid_code", "household_id", "resident_id", "_rule", "address"],
                                    kind="stable", na_position="last")
    return findings.drop(columns="_rule").reset_index(drop=True)


def completeness_counts(findings: pd.DataFrame) -> pd.DataFrame:
    """Findings per ``grid_code`` and rule: one row per grid, one column per rule that occurs, and ``total``."""
    require_columns(findings, ("grid_code", "rule"), name="findings")
    table = pd.crosstab(findings["grid_code"].fillna(""), findings["rule"])
    table = table.reindex(columns=[r for r in COMPLETENESS_RULE_ORDER if r in table.columns])
    table["total"] = table.sum(axis=1)
    return table.reset_index().rename_axis(columns=None)


def assign_todos(findings: pd.DataFrame, assignments: pd.DataFrame, *, on: dt.date) -> pd.DataFrame:
    """``findings`` with the ``staff_id`` of the micro-grid worker of each finding's grid on ``on``
    (the deepest assignment covering it; ``NA`` when the grid has no worker)."""
    pairs = worker_grids(assignments, on=on)
    out = findings.reset_index(drop=True).copy()
    out["staff_id"] = pd.Series(pd.NA, index=out.index, dtype="Int64")
    if len(pairs) and len(out):
        match = match_prefix(out["grid_code"], pairs["grid_code"]).merge(pairs, left_on="target", right_on="grid_code")
        match = match.assign(_depth=match["target"].str.len()).sort_values(
            ["row", "_depth", "staff_id"], ascending=[True, False, True], kind="stable").drop_duplicates("row")
        out.loc[match["row"].to_numpy(), "staff_id"] = match["staff_id"].to_numpy()
    return out

