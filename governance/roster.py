"""Staff roster rules: gaps in the "one grid, five roles" teams, contact cards, XLSX in/out.

Pure functions over frames; :mod:`store.governance` loads and saves them. The roster
frame has one row per assignment::

    staff_key, name, phone, organisation, grid_code, role, start_date, end_date, building_no

(``end_date`` inclusive, ``None`` = open). Grid codes are strings (leading zeros matter).
Staff phones are work numbers shown on the public card (公示栏); residents' personal data
never appear here (masking of residents' data lives in :mod:`access.masking`).
"""

from __future__ import annotations

import datetime as dt
import html
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

import pandas as pd

from boundaries.coding import CodeScheme, default_scheme
from governance.vocab import STAFF_ROLES
from gis.errors import DataSourceError, ValidationError
from boundaries.coding import InvalidGridCodeError

__all__ = [
    "ROSTER_COLUMNS",
    "ROLE_LABELS",
    "TEAM_ROLES",
    "validate_roster",
    "roster_gaps",
    "active_assignments",
    "ContactEntry",
    "ContactCard",
    "contact_card",
    "contact_card_html",
    "read_roster_xlsx",
    "write_roster_xlsx",
]

ROSTER_COLUMNS = (
    "staff_key",
    "name",
    "phone",
    "organisation",
    "grid_code",
    "role",
    "start_date",
    "end_date",
    "building_no",
)
#: Chinese headers accepted on import (and written as a second header line is not needed:
#: the export uses the English keys so files round-trip exactly).
_ZH_HEADERS = {
    "工号": "staff_key",
    "人员编号": "staff_key",
    "姓名": "name",
    "电话": "phone",
    "联系电话": "phone",
    "单位": "organisation",
    "网格编码": "grid_code",
    "网格代码": "grid_code",
    "角色": "role",
    "职责": "role",
    "开始日期": "start_date",
    "结束日期": "end_date",
    "楼栋号": "building_no",
}
#: role → (zh, en) label.
ROLE_LABELS: dict[str, tuple[str, str]] = {
    "liaison_leader": ("包联领导", "Liaison leader"),
    "grid_head": ("网格长", "Grid head"),
    "micro_worker": ("微网格员", "Micro-grid worker"),
    "grid_police": ("网格民警", "Grid police"),
    "family_doctor": ("家庭医生", "Family doctor"),
    "supervisor": ("网格监督员", "Supervisor"),
    "coordinator": ("网格协调员", "Coordinator"),
    "building_head": ("楼栋长", "Building head"),
}
#: The "one grid, five roles" team every micro-grid needs.
TEAM_ROLES = ("micro_worker", "grid_police", "family_doctor", "supervisor", "coordinator")
_ROLE_BY_LABEL = {label: role for role, (zh, en) in ROLE_LABELS.items() for label in (zh, en, en.lower())}


def _date(value: object) -> dt.date | None:
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return None
    if isinstance(value, str) and not value.strip():
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    return pd.Timestamp(str(value).strip()).date()


def _text(value: object) -> str | None:
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return None
    text = str(value).strip()
    if text.endswith(".0") and text[:-2].isdigit():  # numbers read from a sheet cell
        text = text[:-2]
    return text or None


def validate_roster(roster: pd.DataFrame, *, scheme: CodeScheme | None = None) -> pd.DataFrame:
    """Normalize and check a roster frame; return a new frame with exactly :data:`ROSTER_COLUMNS`.

    Accepts Chinese headers and role labels (``微网格员``...). Every problem is collected
    (with the spreadsheet row number: header is row 1) and raised once.

    Raises
    ------
    ValidationError
        ``findings`` lists ``{"row", "column", "problem"}`` dicts.
    """
    scheme = scheme or default_scheme()
    frame = roster.rename(columns={c: _ZH_HEADERS.get(str(c).strip(), str(c).strip()) for c in roster.columns})
    missing = [c for c in ("staff_key", "name", "grid_code", "role", "start_date") if c not in frame.columns]
    if missing:
        raise ValidationError(
            f"roster lacks columns {missing}; expected {list(ROSTER_COLUMNS)} (or the Chinese headers)",
            findings=[{"row": 1, "column": c, "problem": "missing column"} for c in missing],
        )
    findings: list[dict] = []
    rows = []
    names_by_key: dict[str, str] = {}
    for position, record in enumerate(frame.to_dict("records")):
        excel_row = position + 2

        def bad(column: str, problem: str) -> None:
            findings.append({"row": excel_row, "column": column, "problem": problem})

        out = {c: _text(record.get(c)) for c in ("staff_key", "name", "phone", "organisation", "grid_code", "building_no")}
        for col in ("staff_key", "name"):
            if not out[col]:
                bad(col, "empty")
        code = out["grid_code"]
        if not code:
            bad("grid_code", "empty")
        else:
            try:
                scheme.parse(code)
            except InvalidGridCodeError as exc:
                bad("grid_code", str(exc))
        role_raw = _text(record.get("role")) or ""
        role = role_raw if role_raw in STAFF_ROLES else _ROLE_BY_LABEL.get(role_raw, _ROLE_BY_LABEL.get(role_raw.lower()))
        if role is None:
            bad("role", f"{role_raw!r} is not one of {list(STAFF_ROLES)} (or their Chinese names)")
        out["role"] = role
        for col in ("start_date", "end_date"):
            try:
                out[col] = _date(record.get(col))
            except (ValueError, TypeError):
                out[col] = None
                bad(col, f"{record.get(col)!r} is not a date (YYYY-MM-DD)")
        if out["start_date"] is None and not any(f["row"] == excel_row and f["column"] == "start_date" for f in findings):
            bad("start_date", "empty")
        if out["start_date"] and out["end_date"] and out["end_date"] < out["start_date"]:
            bad("end_date", f"{out['end_date']} is before the start date {out['start_date']}")
        key, name = out["staff_key"], out["name"]
        if key and name:
            if names_by_key.setdefault(key, name) != name:
                bad("name", f"staff {key} is named {names_by_key[key]!r} on another row")
        rows.append(out)
    if findings:
        head = "; ".join(f"row {f['row']} {f['column']}: {f['problem']}" for f in findings[:5])
        more = f" (and {len(findings) - 5} more)" if len(findings) > 5 else ""
        raise ValidationError(f"roster has {len(findings)} problem(s): {head}{more}", findings=findings)
    result = pd.DataFrame(rows, columns=list(ROSTER_COLUMNS))
    return result.astype({c: object for c in ROSTER_COLUMNS})


def active_assignments(roster: pd.DataFrame, on: dt.date) -> pd.DataFrame:
    """Rows of ``roster`` whose ``[start_date, end_date]`` (inclusive; open end) contains ``on``."""
    return _active(roster, on)


def _active(roster: pd.DataFrame, on: dt.date) -> pd.DataFrame:
    start = roster["start_date"].map(_date)
    end = roster["end_date"].map(_date)
    mask = start.map(lambda d: d is not None and d <= on) & end.map(lambda d: d is None or d >= on)
    return roster.loc[mask.astype(bool)]


def roster_gaps(grids: pd.DataFrame, roster: pd.DataFrame, *, on: dt.date, scheme: CodeScheme | None = None) -> pd.DataFrame:
    """Missing or doubled roles on ``on`` (one row per problem).

    Rules: every finest-level grid needs each of :data:`TEAM_ROLES` and exactly one
    ``micro_worker``; level-1 grids need a ``liaison_leader`` and a ``grid_head``; grids of
    the levels in between need a ``grid_head``. Assignments on codes that are not current
    grids are reported as ``not_a_current_grid``.

    Parameters
    ----------
    grids:
        Current grids: ``code``, ``name``, ``level``.
    roster:
        Roster frame (``grid_code``, ``role``, ``start_date``, ``end_date``, ``name``).

    Returns
    -------
    DataFrame
        ``grid_code``, ``grid_name``, ``level``, ``role``, ``problem`` (``missing`` |
        ``more_than_one`` | ``not_a_current_grid``), ``active`` (count), ``staff`` (names).
    """
    scheme = scheme or default_scheme()
    finest = scheme.finest_level
    active = _active(roster, on)
    counts = active.groupby(["grid_code", "role"]).agg(active=("name", "size"), staff=("name", lambda s: "、".join(sorted(s))))
    needed = []
    for code, name, level in grids[["code", "name", "level"]].itertuples(index=False):
        level = int(level)
        if level == finest:
            roles = TEAM_ROLES
        elif level == 1:
            roles = ("liaison_leader", "grid_head")
        else:
            roles = ("grid_head",)
        needed.extend((code, name, level, role) for role in roles)
    need = pd.DataFrame(needed, columns=["grid_code", "grid_name", "level", "role"])
    need = need.merge(counts.reset_index(), on=["grid_code", "role"], how="left")
    need["active"] = need["active"].fillna(0).astype("int64")
    need["staff"] = need["staff"].fillna("")
    need["problem"] = None
    need.loc[need["active"] == 0, "problem"] = "missing"
    need.loc[(need["role"] == "micro_worker") & (need["active"] > 1), "problem"] = "more_than_one"
    gaps = need.loc[need["problem"].notna()]
    stray = counts.reset_index()
    stray = stray.loc[~stray["grid_code"].isin(set(grids["code"]))]
    if len(stray):
        stray = stray.assign(grid_name="", level=stray["grid_code"].map(lambda c: len(scheme.parse(c))), problem="not_a_current_grid")
        gaps = pd.concat([gaps, stray], ignore_index=True)
    columns = ["grid_code", "grid_name", "level", "role", "problem", "active", "staff"]
    return gaps[columns].sort_values(["grid_code", "role"], kind="stable").reset_index(drop=True)


@dataclass(frozen=True)
class ContactEntry:
    role: str
    role_label: str
    name: str
    phone: str
    grid_code: str
    grid_name: str
    building_no: str | None = None


@dataclass(frozen=True)
class ContactCard:
    """The public contact card (公示栏) of one grid: its team and the leaders above it."""

    grid_code: str
    grid_name: str
    parents: list[tuple[str, str]]
    entries: list[ContactEntry] = field(default_factory=list)
    on: dt.date | None = None


def contact_card(
    grid_code: str, grids: pd.DataFrame, roster: pd.DataFrame, *, on: dt.date, language: str = "zh",
    scheme: CodeScheme | None = None,
) -> ContactCard:
    """Card of ``grid_code``: people active on ``on`` in it and in its ancestors (leaders/heads only)."""
    scheme = scheme or default_scheme()
    scheme.parse(grid_code)
    names = dict(zip(grids["code"], grids["name"]))
    if grid_code not in names:
        from gis.errors import NotFoundError

        raise NotFoundError(f"no current grid has the code {grid_code}")
    ancestors = scheme.ancestors_of(grid_code)
    active = _active(roster, on)
    order = {role: i for i, role in enumerate(STAFF_ROLES)}
    entries = []
    for code in [*ancestors, grid_code]:
        here = active.loc[active["grid_code"] == code]
        if code != grid_code:
            here = here.loc[here["role"].isin(["liaison_leader", "grid_head"])]
        here = here.assign(_o=here["role"].map(order)).sort_values(["_o", "name"], kind="stable")
        for r in here.itertuples(index=False):
            label = ROLE_LABELS[r.role][0 if language == "zh" else 1]
            entries.append(
                ContactEntry(r.role, label, r.name, _text(getattr(r, "phone", None)) or "", code, names.get(code, ""),
                             _text(getattr(r, "building_no", None)))
            )
    return ContactCard(grid_code, names[grid_code], [(c, names.get(c, "")) for c in ancestors], entries, on)


def contact_card_html(card: ContactCard, *, language: str = "zh") -> str:
    """A printable A4 HTML page for the card (user text escaped)."""
    zh = language == "zh"
    title = "网格公示栏" if zh else "Grid contact card"
    head = ("职责", "姓名", "联系电话", "所在网格") if zh else ("Role", "Name", "Phone", "Grid")
    path = " › ".join(html.escape(n or c) for c, n in card.parents)
    rows = "\n".join(
        "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>".format(
            html.escape(e.role_label + (f" ({e.building_no})" if e.building_no else "")),
            html.escape(e.name),
            html.escape(e.phone),
            html.escape(e.grid_name or e.grid_code),
        )
        for e in card.entries
    )
    on = card.on.isoformat() if card.on else ""
    return f"""<!doctype html>
<html lang="{'zh-CN' if zh else 'en'}"><head><meta charset="utf-8">
<title>{title} {html.escape(card.grid_code)}</title>
<style>
@page {{ size: A4; margin: 18mm; }}
body {{ font-family: "Noto Sans CJK SC", "Noto Sans", sans-serif; }}
h1 {{ font-size: 22pt; margin: 0 0 4pt 0; }}
.sub {{ color: #444; margin-bottom: 12pt; }}
table {{ border-collapse: collapse; width: 100%; font-size: 14pt; }}
th, td {{ border: 1px solid #333; padding: 6pt 8pt; text-align: left; }}
th {{ background: #eee; }}
</style></head><body>
<h1>{title}: {html.escape(card.grid_name)}</h1>
<div class="sub">{html.escape(card.grid_code)}{' · ' + path if path else ''} · {on}</div>
<table><thead><tr>{''.join(f'<th>{h}</th>' for h in head)}</tr></thead>
<tbody>
{rows}
</tbody></table>
</body></html>
"""


def read_roster_xlsx(source: str | Path | BinaryIO, *, sheet: str | int = 0, scheme: CodeScheme | None = None) -> pd.DataFrame:
    """Read and validate a roster workbook (a path or an open binary file; first sheet by default).

    Codes and phones are read as text.

    Raises
    ------
    DataSourceError
        The file is missing or not an XLSX workbook.
    ValidationError
        The rows do not make a valid roster (every problem listed).
    """
    name = getattr(source, "name", source)
    if isinstance(source, (str, Path)):
        source = Path(source)
        if not source.is_file():
            raise DataSourceError(f"roster file {source} does not exist")
    try:
        frame = pd.read_excel(source, sheet_name=sheet, dtype=object, engine="openpyxl")
    except Exception as exc:  # zipfile.BadZipFile, KeyError, ValueError from openpyxl
        raise DataSourceError(f"cannot read {name} as an XLSX workbook: {exc}") from exc
    return validate_roster(frame, scheme=scheme)


def write_roster_xlsx(roster: pd.DataFrame, target: str | Path | BinaryIO) -> str | Path | BinaryIO:
    """Write the roster (columns :data:`ROSTER_COLUMNS`) to a path or binary file; codes and phones stay text."""
    from openpyxl import Workbook

    if isinstance(target, (str, Path)):
        target = Path(target)
        target.parent.mkdir(parents=True, exist_ok=True)
    wb = Workbook()
    ws = wb.active
    ws.title = "roster"
    ws.append(list(ROSTER_COLUMNS))
    for record in roster.reindex(columns=list(ROSTER_COLUMNS)).to_dict("records"):
        row = []
        for col in ROSTER_COLUMNS:
            value = record[col]
            if col in ("start_date", "end_date"):
                value = _date(value)
            elif value is None or (not isinstance(value, str) and pd.isna(value)):
                value = None
            else:
                value = str(value)
            row.append(value)
        ws.append(row)
    for cells in ws.iter_cols(min_row=2):
        for cell in cells:
            if isinstance(cell.value, str):
                cell.number_format = "@"
            elif isinstance(cell.value, dt.date):
                cell.number_format = "yyyy-mm-dd"
    for col, width in zip("ABCDEFGHI", (12, 10, 14, 16, 22, 16, 12, 12, 10)):
        ws.column_dimensions[col].width = width
    wb.save(target)
    return target
