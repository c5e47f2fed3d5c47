"""Resident ID numbers (公民身份号码, GB 11643-1999): the one parser and check-digit rule (pure).

An 18-character number is ``RRRRRR YYYYMMDD SSS C``: a 6-digit region code, the birth date,
a 3-digit sequence (odd for men, even for women) and a check character computed from the
first 17 digits with the ISO 7064 MOD 11-2 weights ``7 9 10 5 8 4 2 1 6 3 7 9 10 5 8 4 2``:
``C = "10X98765432"[Σ dᵢ·wᵢ mod 11]``.

A 15-digit number (issued before 1999) is ``RRRRRR YYMMDD SSS`` with a 19xx birth year and no
check digit; :func:`upgrade_15` converts it to the 18-character form (insert ``19``, append
the check character), so both forms of one person compare equal.

:func:`check_id_numbers` checks a whole column at once (vectorized); :func:`parse_id_number`
one number.
"""

from __future__ import annotations

import datetime as dt
import unicodedata
from dataclasses import dataclass

import numpy as np
import pandas as pd

from gis.clock import today as local_today
from gis.errors import ValidationError

__all__ = [
    "WEIGHTS",
    "CHECK_CHARACTERS",
    "EARLIEST_BIRTH",
    "IdNumberError",
    "IdNumber",
    "check_digit",
    "normalize_id_number",
    "upgrade_15",
    "parse_id_number",
    "check_id_numbers",
    "age_on",
]

#: GB 11643-1999 weights of the first 17 digits.
WEIGHTS = np.array([7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2], dtype=np.int64)
#: Check character by ``Σ dᵢ·wᵢ mod 11``.
CHECK_CHARACTERS = "10X98765432"
#: Birth dates before this are refused as implausible.
EARLIEST_BIRTH = dt.date(1890, 1, 1)


class IdNumberError(ValidationError):
    """An ID number is not valid; ``reason`` is ``malformed``, ``check_digit`` or ``birth_date``."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message, findings=[{"reason": reason}], code=f"id_number.{reason}")
        self.reason = reason


@dataclass(frozen=True)
class IdNumber:
    """A parsed ID number: ``number`` is the 18-character form (upgraded from 15 digits if so)."""

    number: str
    region: str
    birth_date: dt.date
    sequence: str
    gender: str  # "male" | "female"
    legacy_15: bool = False


def check_digit(first17: str) -> str:
    """The GB 11643 check character of 17 digits."""
    if len(first17) != 17 or not first17.isascii() or not first17.isdigit():
        raise IdNumberError("malformed", f"expected 17 digits to compute a check character, got {len(first17)} characters")
    total = int(np.dot(np.frombuffer(first17.encode("ascii"), dtype=np.uint8).astype(np.int64) - 48, WEIGHTS))
    return CHECK_CHARACTERS[total % 11]


def normalize_id_number(value: object) -> str | None:
    """Trimmed, full-width folded (NFKC), spaces removed, ``x`` upper-cased; ``None`` when empty."""
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return None
    text = unicodedata.normalize("NFKC", str(value)).strip().replace(" ", "").upper()
    return text or None


def upgrade_15(number: str) -> str:
    """A 15-digit number in its 18-character form (``19`` inserted before the year, check appended)."""
    if len(number) != 15 or not number.isascii() or not number.isdigit():
        raise IdNumberError("malformed", f"expected a 15-digit number, got {len(number)} characters")
    first17 = number[:6] + "19" + number[6:]
    return first17 + check_digit(first17)


def parse_id_number(value: object, *, today: dt.date | None = None) -> IdNumber:
    """Parse and check one ID number.

    Raises
    ------
    IdNumberError
        ``malformed`` (not 18 characters ``17 digits + digit/X`` nor 15 digits),
        ``check_digit`` (the 18th character disagrees with the first 17),
        ``birth_date`` (no such date, before 1890 or after ``today``).
    """
    result = check_id_numbers(pd.Series([value], dtype=object), today=today).iloc[0]
    if result["status"] != "valid":
        raise IdNumberError(str(result["status"]), str(result["message"]))
    return IdNumber(
        number=result["number"], region=result["number"][:6], birth_date=result["birth_date"],
        sequence=result["number"][14:17], gender=result["gender"], legacy_15=bool(result["legacy_15"]),
    )


def check_id_numbers(values: pd.Series, *, today: dt.date | None = None) -> pd.DataFrame:
    """Check a column of ID numbers at once.

    Returns a frame with the index of ``values`` and columns ``number`` (normalized, the
    18-character form for valid 15-digit numbers; ``None`` when empty), ``status`` (``missing``,
    ``valid``, ``malformed``, ``check_digit``, ``birth_date``), ``birth_date`` (a date where the
    birth date could be read), ``gender`` (``male``/``female`` from the sequence's parity),
    ``legacy_15``, ``expected_check`` (what the check character should be) and ``message``
    (English, naming what is wrong but not repeating the number).
    """
    today = today or local_today()
    text = pd.Series([normalize_id_number(v) for v in values], index=values.index, dtype=object)
    present = text.notna()
    is18 = present & text.str.fullmatch(r"\d{17}[\dX]").fillna(False).astype(bool)
    is15 = present & text.str.fullmatch(r"\d{15}").fillna(False).astype(bool)
    first17 = pd.Series(None, index=values.index, dtype=object)
    first17[is18] = text[is18].str[:17]
    first17[is15] = text[is15].str[:6] + "19" + text[is15].str[6:]
    usable = is18 | is15

    expected = pd.Series(None, index=values.index, dtype=object)
    if usable.any():
        digits = np.frombuffer("".join(first17[usable]).encode("ascii"), dtype=np.uint8).reshape(-1, 17).astype(np.int64) - 48
        remainders = (digits @ WEIGHTS) % 11
        expected[usable] = np.array(list(CHECK_CHARACTERS), dtype=object)[remainders]
    number = text.copy()
    number[is15] = first17[is15] + expected[is15]
    birth = pd.to_datetime(first17.where(usable).str[6:14], format="%Y%m%d", errors="coerce")
    birth_date = pd.Series([d.date() if not pd.isna(d) else None for d in birth], index=values.index, dtype=object)
    plausible = birth.notna() & (birth >= pd.Timestamp(EARLIEST_BIRTH)) & (birth <= pd.Timestamp(today))
    check_ok = is15 | (is18 & (text.str[17] == expected))
    sequence_digit = pd.to_numeric(first17.str[16], errors="coerce")

    status = pd.Series("missing", index=values.index, dtype=object)
    status[present] = "malformed"
    status[usable & ~check_ok] = "check_digit"
    status[usable & check_ok & ~plausible] = "birth_date"
    status[usable & check_ok & plausible] = "valid"

    message = pd.Series("", index=values.index, dtype=object)
    lengths = text.str.len()
    message[status == "missing"] = "no ID number"
    message[status == "malformed"] = [
        f"an ID number has 18 characters (17 digits and a digit or X) or 15 digits; this one has {n} characters"
        + ("" if t.isascii() and t[:-1].isdigit() else " and not only digits")
        for n, t in zip(lengths[status == "malformed"], text[status == "malformed"])
    ]
    message[status == "check_digit"] = [
        f"the check character is {got!r} but the first 17 digits give {want!r} (a digit was mistyped)"
        for got, want in zip(text[status == "check_digit"].str[17], expected[status == "check_digit"])
    ]
    message[status == "birth_date"] = [
        f"the birth date digits {b!r} are not a plausible date ({EARLIEST_BIRTH:%Y-%m-%d} to {today:%Y-%m-%d})"
        for b in first17[status == "birth_date"].str[6:14]
    ]
    return pd.DataFrame({
        "number": number.where(present, None),
        "status": status,
        "birth_date": birth_date.where(usable & plausible, None),
        "gender": pd.Series(np.where(sequence_digit % 2 == 1, "male", "female"), index=values.index, dtype=object).where(usable & plausible, None),
        "legacy_15": is15,
        "expected_check": expected,
        "message": message,
    }, index=values.index)


def age_on(birth: dt.date, day: dt.date) -> int:
    """Completed years of a person born on ``birth`` at ``day`` (29 Feb birthdays: 1 March in common years)."""
    years = day.year - birth.year
    if (day.month, day.day) < (birth.month, birth.day):
        years -= 1
    return years
