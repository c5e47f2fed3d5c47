"""Masking personal data (ID card numbers, phone numbers, names): the one implementation.

Every export, page and CLI output that shows residents' personal data passes it through these
functions, so the same value is masked the same way everywhere. A missing value (``None``,
NaN, ``pd.NA``, blank text) stays ``None``; pages show it as an empty cell.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import pandas as pd

if TYPE_CHECKING:
    from access.permissions import MaskingPolicy

__all__ = ["mask_id_number", "mask_phone", "mask_name", "mask_personal_data", "mask_for_viewer", "hide", "HIDDEN",
           "MASKERS", "RESIDENT_PERSONAL_COLUMNS"]

_ID_RE = re.compile(r"^\d{17}[\dXx]$|^\d{15}$")


def _missing(value: object) -> bool:
    if value is None or value is pd.NA:
        return True
    if isinstance(value, float) and value != value:
        return True
    return isinstance(value, str) and not value.strip()


def mask_id_number(value: str | None) -> str | None:
    """Keep the 6-digit region code and the last 4 characters of a resident ID number.

    ``'430603199001011234'`` → ``'430603********1234'``; a 15-digit (old) number keeps
    6 + 4 with 5 stars. Other text is masked except its first and last character;
    ``None`` stays ``None``.
    """
    if _missing(value):
        return None
    text = str(value).strip()
    if _ID_RE.match(text):
        return text[:6] + "*" * (len(text) - 10) + text[-4:]
    if len(text) <= 2:
        return "*" * len(text)
    return text[0] + "*" * (len(text) - 2) + text[-1]


def mask_phone(value: str | None) -> str | None:
    """``'13812345678'`` → ``'138****5678'`` (spaces and dashes dropped).

    Numbers of 8 or more digits keep their first 3 and last 4; shorter ones (a local landline
    such as ``'5551234'``) keep only their last 2 (``'*****34'``); 4 digits or fewer are all stars.
    """
    if _missing(value):
        return None
    text = re.sub(r"[\s\-]", "", str(value).strip())
    if len(text) >= 8:
        return text[:3] + "*" * (len(text) - 7) + text[-4:]
    if len(text) > 4:
        return "*" * (len(text) - 2) + text[-2:]
    return "*" * len(text)


def mask_name(value: str | None) -> str | None:
    """Chinese names keep the surname: ``'张三丰'`` → ``'张**'``; ``None`` stays ``None``."""
    if _missing(value):
        return None
    text = str(value).strip()
    return text[:1] + "*" * max(len(text) - 1, 1) if text else text


#: The personal-data columns of a resident record and their kind.
RESIDENT_PERSONAL_COLUMNS: dict[str, str] = {"name": "name", "id_number": "id_number", "phone": "phone"}

#: Masking function per kind of personal data.
MASKERS = {"id_number": mask_id_number, "phone": mask_phone, "name": mask_name}

_GUESS = {
    "id_number": ("id_number", "身份证", "身份证号", "证件号", "证件号码", "公民身份号码"),
    "phone": ("phone", "mobile", "tel", "电话", "手机", "手机号", "联系电话"),
    "name": ("name", "姓名", "reporter_name", "户主", "户主姓名"),
}


def _kind_of(column: str) -> str | None:
    lowered = column.strip().lower()
    for kind, names in _GUESS.items():
        if lowered in names:
            return kind
    return None


def mask_personal_data(
    frame: pd.DataFrame, columns: Sequence[str] | Mapping[str, str] | None = None
) -> pd.DataFrame:
    """Return a copy of ``frame`` with personal-data columns masked (the input is not changed).

    ``columns`` is either a mapping ``column → kind`` (``id_number``, ``phone``, ``name``),
    a list of columns whose kind is guessed from the name (身份证/证件号 → id_number,
    电话/手机 → phone, 姓名 → name), or ``None`` to mask every column recognised by name.

    Raises
    ------
    KeyError
        A named column is missing. ``ValueError``: a kind is unknown or cannot be guessed.
    """
    if columns is None:
        plan = {c: k for c in map(str, frame.columns) if (k := _kind_of(c)) is not None}
    elif isinstance(columns, Mapping):
        plan = dict(columns)
    else:
        plan = {}
        for column in columns:
            kind = _kind_of(str(column))
            if kind is None:
                raise ValueError(
                    f"cannot tell what personal data column {column!r} holds; pass a mapping to one of {sorted(MASKERS)}"
                )
            plan[column] = kind
    missing = [c for c in plan if c not in frame.columns]
    if missing:
        raise KeyError(f"columns {missing} are not in the frame; its columns are {list(frame.columns)}")
    unknown = {k for k in plan.values() if k not in MASKERS}
    if unknown:
        raise ValueError(f"mask kinds {sorted(unknown)} are unknown; expected one of {sorted(MASKERS)}")
    result = frame.copy()
    for column, kind in plan.items():
        masker = MASKERS[kind]
        result[column] = pd.Series([masker(v) for v in frame[column].tolist()], index=frame.index, dtype=object)
    return result


#: What a fully hidden value shows (never the value, never its length).
HIDDEN = "******"


def hide(value: object) -> str | None:
    """A hidden value: :data:`HIDDEN` where there was one, ``None`` where there was none."""
    return None if _missing(value) else HIDDEN


def mask_for_viewer(
    frame: pd.DataFrame,
    columns: Mapping[str, str],
    policy: "MaskingPolicy",
    *,
    own_prefixes: Sequence[str] = (),
    grid_column: str = "grid_code",
) -> tuple[pd.DataFrame, int]:
    """A copy of ``frame`` with its personal-data ``columns`` (column → kind) shown as ``policy`` says.

    ``policy`` is the viewer's role's :class:`access.permissions.MaskingPolicy`. A phone is shown in
    full (``phone="own"``) only on rows whose ``grid_column`` starts with one of ``own_prefixes`` (the
    viewer's own grants: a worker calls the households of her own grid). Returns the frame and the
    number of rows in which some value is shown unmasked (to audit).
    """
    result = frame.copy()
    shown = pd.Series(False, index=frame.index)
    own = pd.Series(False, index=frame.index)
    if own_prefixes and grid_column in frame.columns:
        codes = frame[grid_column].astype(object)
        own = codes.map(lambda c: isinstance(c, str) and any(c.startswith(p) for p in own_prefixes)).astype(bool)
    for column, kind in columns.items():
        values = frame[column].astype(object)
        present = pd.Series([not _missing(v) for v in values], index=frame.index, dtype=bool)

        def each(function: Any) -> pd.Series:  # element-wise; a missing value stays None, never NaN
            return pd.Series([function(v) for v in values], index=frame.index, dtype=object)

        if kind == "id_number":
            masked = each(mask_id_number if policy.id_number == "partial" else hide)
        elif kind == "phone":
            masked_all = each(mask_phone)
            masked = masked_all.where(~own, values) if policy.phone == "own" else masked_all
            if policy.phone == "own":
                shown |= own & present
        elif kind == "name":
            how = policy.name
            masked = values if how == "full" else each(mask_name if how == "masked" else hide)
            if how == "full":
                shown |= present
        else:
            raise ValueError(f"mask kind {kind!r} is unknown; expected one of {sorted(MASKERS)}")
        result[column] = pd.Series(list(masked), index=frame.index, dtype=object)
    return result, int(shown.sum())
