"""Staff roster page: team gaps per grid, the public contact card, XLSX import/export.

Thin layer over :mod:`governance.roster` and :mod:`store.governance`; files go through the one
staff pipeline (:func:`etl.readers.read_staff` → :func:`store.bulk.load_staff`,
:func:`etl.export.write_staff`), the same as ``gridgov import staff`` / ``export staff``.
"""

from __future__ import annotations

import datetime as dt
import io

import pandas as pd
import streamlit as st

from app_pages import common
from app_pages.i18n import current_language, label_of, t
from i18n import describe_finding
from gis.errors import GridGovError, StaleVersionError
from gis import clock
from services.exports import export_roster
from etl.readers import read_staff
from etl.transform import ERROR, problems_frame
from governance.roster import active_assignments, roster_gaps
from services.imports import load_rows, roster_version
from services.three_in_one import ineligible
from app_pages.three_in_one import ineligible_mark


def _load(scope) -> tuple[pd.DataFrame, pd.DataFrame]:
    return common.load_roster_tables(common.data_token(), scope)


def _gaps(grids: pd.DataFrame, roster: pd.DataFrame, on: dt.date) -> None:
    gaps = roster_gaps(grids, roster, on=on)
    st.subheader(t("roster.gaps", count=len(gaps)))
    if gaps.empty:
        st.success(t("roster.no_gaps"))
        return
    common.dataframe(
        pd.DataFrame(
            {
                t("field.code"): gaps["grid_code"],
                t("field.name"): gaps["grid_name"],
                t("field.role"): gaps["role"].map(lambda r: label_of("role", r)),
                t("roster.problem"): gaps["problem"].map(lambda p: t(f"roster.problem.{p}")),
                t("field.staff"): gaps["staff"].fillna(""),
            }
        ),
        hide_index=True, width="stretch", height=300,
    )


def _day(value: object) -> str:
    """A date as ``YYYY-MM-DD``; no date (an open-ended assignment) as the empty string, never ``None``."""
    if value is None or (isinstance(value, float) and value != value) or pd.isna(value):
        return ""
    return value.isoformat() if hasattr(value, "isoformat") else str(value)


def _table(roster: pd.DataFrame, on: dt.date) -> None:
    st.subheader(t("roster.table"))
    only_active = st.toggle(t("roster.only_active"), value=True, key="roster.only_active")
    shown = roster
    if only_active:
        shown = active_assignments(roster, on)
    years = ineligible(common.get_engine(), common.current_actor())  # a 不合格 year: not eligible for awards
    common.dataframe(
        pd.DataFrame(
            {
                t("field.code"): shown["grid_code"],
                t("field.name"): shown["grid_name"],
                t("field.role"): shown["role"].map(lambda r: label_of("role", r)),
                t("field.staff"): shown["name"].fillna(""),
                t("field.phone"): shown["phone"].fillna(""),
                t("roster.start"): shown["start_date"].map(_day),
                t("roster.end"): shown["end_date"].map(_day),
                t("sp.tio.awards"): shown["staff_id"].map(lambda i: "" if pd.isna(i) else ineligible_mark(years.get(int(i)))),
            }
        ),
        hide_index=True, width="stretch", height=360,
    )


def _card(grids: pd.DataFrame, roster: pd.DataFrame, on: dt.date) -> None:
    st.subheader(t("roster.card"))
    codes = grids["code"].tolist()
    names = dict(zip(grids["code"], grids["name"]))
    code = st.selectbox(t("roster.card_grid"), options=codes, key="roster.card_code",
                        format_func=lambda c: f"{c} {names.get(c, '')}")
    if not code:
        return
    lang = st.session_state.get("ui.lang", "zh")
    card, page = common.load_contact_card_html(common.data_token(), code, lang, on, common.user_scope())
    entries = card.contact_entries(lang)
    if entries:
        common.dataframe(
            pd.DataFrame(
                {
                    t("field.role"): [e.role_label for e in entries],
                    t("field.staff"): [e.name for e in entries],
                    t("field.phone"): [e.phone for e in entries],
                    t("field.grid"): [e.grid_name or e.grid_code for e in entries],
                }
            ),
            hide_index=True, width="stretch",
        )
    else:
        st.info(t("card.no_staff"))
    st.download_button(
        t("roster.card_download"), page.encode("utf-8"),
        file_name=f"contact-card-{code}.html", mime="text/html", key="roster.card_download",
    )


def _import_export(roster: pd.DataFrame) -> None:
    st.subheader(t("roster.xlsx"))
    actor = common.current_actor()

    def roster_file() -> bytes:  # made when the button is pressed, as an audited export of what the actor sees
        buffer = io.BytesIO()
        export_roster(common.get_engine(), actor, buffer, fmt="xlsx", name="roster.xlsx")
        return buffer.getvalue()

    st.download_button(
        t("roster.export"), roster_file, file_name="roster.xlsx",
        mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", key="roster.export",
    )
    upload = st.file_uploader(t("roster.import"), type=["xlsx"], key="roster.upload")
    if upload is None:
        return
    try:
        incoming, problems = read_staff(io.BytesIO(upload.getvalue()), filename=upload.name)
    except GridGovError as exc:
        st.error(t("roster.invalid", error=exc))
        return
    errors = [p for p in problems if p.severity == ERROR]
    if errors:
        lang = current_language()
        worded = [describe_finding(p.rule, lang, codes=[p.id] if p.id else []) for p in errors]
        st.error(t("roster.invalid", error=t("list.problem_sep").join(
            t("roster.row_problem", line=p.row + 2, problem=w) for p, w in zip(errors[:3], worded))))
        frame = problems_frame(errors)
        common.dataframe(pd.DataFrame({t("roster.col.line"): frame["row"] + 2, t("roster.col.id"): frame["id"].fillna(""),
                                   t("editor.col.rule"): frame["rule"].map(lambda r: label_of("rule", r)),
                                   t("editor.col.message"): worded}), hide_index=True, width="stretch")
        return
    st.caption(t("roster.preview", count=len(incoming)))
    common.dataframe(incoming.head(50), hide_index=True, width="stretch")
    # The roster this preview showed (its version): saving is refused if someone changed these people since.
    shown_key = f"roster.shown.{upload.file_id}"
    if shown_key not in st.session_state:
        st.session_state[shown_key] = roster_version(common.get_engine(), list(incoming["staff_key"]))
    replace = st.checkbox(t("roster.replace"), key="roster.replace")
    if st.button(t("roster.save"), key="roster.save", type="primary"):
        try:
            report = load_rows(common.get_engine(), common.current_actor(), "staff", incoming, problems,
                               source=upload.name, replace_assignments=replace,
                               expected_roster=st.session_state[shown_key])
        except StaleVersionError as exc:
            st.session_state.pop(shown_key, None)
            st.error(t("roster.stale", error=exc))
            return
        except GridGovError as exc:
            st.error(t("roster.invalid", error=exc))
            return
        st.session_state.pop(shown_key, None)
        common.clear_caches()
        counts = report.assignments or {}
        st.success(t("roster.saved", staff=len(set(incoming["staff_key"])), added=counts.get("inserted", 0),
                     deleted=counts.get("deleted", 0)))


def render() -> None:
    st.title(t("roster.title"))
    scope = common.user_scope()
    on = st.date_input(t("roster.on"), value=clock.today(), key="roster.on")
    grids, roster = _load(scope)
    _gaps(grids, roster, on)
    left, right = st.columns([3, 2])
    with left:
        _table(roster, on)
    with right:
        _card(grids, roster, on)
    _import_export(roster)
