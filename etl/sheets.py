"""Text cells in spreadsheets (CSV, XLSX): written as text, never as formulas — the one home.

A spreadsheet program runs a cell that begins with ``=``, ``+``, ``-`` or ``@`` as a formula
(``=cmd|' /C calc'!A0`` starts a program on some systems; ``=HYPERLINK(...)`` sends data away),
and some treat a leading tab or carriage return the same way. Every CSV and XLSX file GridGov
writes (exports of grids, households, incidents and staff, the roster, the monthly report, the
problem reports of imports) goes through this module:

* **CSV**: a text cell that begins with one of :data:`FORMULA_TRIGGERS` gets a leading ``'``
  (the OWASP recommendation; spreadsheet programs show the apostrophe-prefixed value as text).
  :func:`unquote_text` takes it off again when GridGov reads its own files back.
* **XLSX** (openpyxl): such a cell is stored as a string (data type ``s``, never ``f``) with the
  cell style's ``quotePrefix`` set, so the text is kept exactly as it was and shown as text.

Numeric cells (ints, floats, dates) are never touched: ``-2`` the number stays a number; only
text that *begins* like a formula is protected. Missing values stay missing.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, BinaryIO

import pandas as pd

__all__ = [
    "FORMULA_TRIGGERS",
    "looks_like_formula",
    "csv_text",
    "unquote_text",
    "safe_csv_frame",
    "write_csv",
    "protect_workbook",
    "write_xlsx",
]

#: First characters that make a spreadsheet program read a cell as a formula.
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")


def looks_like_formula(value: object) -> bool:
    """Whether ``value`` is text that a spreadsheet would run as a formula (its first character)."""
    return isinstance(value, str) and value.startswith(FORMULA_TRIGGERS)


def csv_text(value: Any) -> Any:
    """A CSV cell value: formula-like text prefixed with ``'``; anything else unchanged."""
    return "'" + value if looks_like_formula(value) else value


def unquote_text(value: Any) -> Any:
    """The inverse of :func:`csv_text` for a cell read back: ``'=x`` → ``=x`` (other values unchanged)."""
    if isinstance(value, str) and len(value) > 1 and value[0] == "'" and value[1:].startswith(FORMULA_TRIGGERS):
        return value[1:]
    return value


def safe_csv_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``frame`` whose text cells are safe in CSV (:func:`csv_text`); the input is not changed.

    Only object and string columns are looked at; numeric, boolean and datetime columns are kept
    as they are. Column names are protected too (they are the header row).
    """
    out = frame.copy()
    for column in out.columns:
        series = out[column]
        if series.dtype == object or isinstance(series.dtype, pd.StringDtype):
            values = series.tolist()
            if any(looks_like_formula(v) for v in values):
                out[column] = pd.Series([csv_text(v) for v in values], index=series.index, dtype=object)
    out.columns = [csv_text(c) if isinstance(c, str) else c for c in out.columns]
    return out


def write_csv(frame: pd.DataFrame, target: str | Path | BinaryIO, **kwargs: Any) -> str | Path | BinaryIO:
    """Write ``frame`` as UTF-8 CSV with a BOM (Excel opens Chinese text correctly), text cells safe.

    Lines end in CRLF (RFC 4180), so a field holding a carriage return is quoted like one holding a
    line feed. ``kwargs`` go to :meth:`pandas.DataFrame.to_csv` (``index`` defaults to ``False``).
    """
    kwargs.setdefault("index", False)
    kwargs.setdefault("lineterminator", "\r\n")
    kwargs.setdefault("encoding", "utf-8-sig")
    safe_csv_frame(frame).to_csv(target, **kwargs)
    return target


def protect_workbook(workbook: Any) -> int:
    """Make every formula-like text cell of an openpyxl ``workbook`` a plain string; returns how many.

    A cell whose value is text beginning with :data:`FORMULA_TRIGGERS` (openpyxl has marked it a
    formula, data type ``f``, when it starts with ``=``) gets data type ``s`` and ``quotePrefix``.
    GridGov never writes formulas, so every such cell came from data.
    """
    changed = 0
    for sheet in workbook.worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                if looks_like_formula(cell.value):
                    cell.data_type = "s"
                    cell.quotePrefix = True
                    changed += 1
    return changed


def write_xlsx(
    sheets: dict[str, pd.DataFrame], target: str | Path | BinaryIO, *, index: bool | dict[str, bool] = False,
    before_save: Any = None,
) -> str | Path | BinaryIO:
    """Write frames as the sheets of one XLSX workbook (openpyxl), text cells safe.

    ``index``: write each frame's index (one value for all sheets, or per sheet name).
    ``before_save(workbook)`` may add to the workbook (images, formats) before it is protected
    and saved.
    """
    with pd.ExcelWriter(target, engine="openpyxl") as writer:
        for name, frame in sheets.items():
            with_index = index.get(name, False) if isinstance(index, dict) else index
            frame.to_excel(writer, sheet_name=name, index=with_index)
        if before_save is not None:
            before_save(writer.book)
        protect_workbook(writer.book)
    return target
