"""审计与账号 Audit and accounts: the audit trail and the accounts (administrators and inspectors).

Reads through the database's own checks (``gridgov.audit_entries``, ``gridgov.account_list``): an
account without the ``view_audit`` permission gets a refusal from PostgreSQL, whatever the page does.
Accounts are created and changed with ``gridgov user …`` on the server (owner commands).
"""

from __future__ import annotations

import datetime as dt

import pandas as pd
import streamlit as st

from access.permissions import require
from app_pages import common
from app_pages.i18n import CATALOGUE, label_of, t
from gis import clock
from store import accounts, audit


def render() -> None:
    actor = common.require_actor()
    require(actor.role, "view_audit")
    st.title(t("admin.title"))
    tab_audit, tab_accounts = st.tabs([t("admin.audit"), t("admin.accounts")])
    with tab_audit:
        cols = st.columns(3)
        who = cols[0].text_input(t("admin.account"), key="admin.account").strip() or None
        actions = sorted((key.removeprefix("audit_action.") for key in CATALOGUE
                          if key.startswith("audit_action.") and key != "audit_action.any"), key=lambda a: t(f"audit_action.{a}"))
        action = cols[1].selectbox(t("admin.action"), options=[None, *actions], key="admin.action",
                                   format_func=lambda a: t("audit_action.any") if a is None else label_of("audit_action", a))
        since_day = cols[2].date_input(t("admin.since"), value=clock.today() - dt.timedelta(days=7), key="admin.since")
        with common.connect() as db:
            entries = audit.entries(db, since=clock.start_of_day(since_day), account=who, action=action, limit=500)
        st.caption(t("admin.count", count=len(entries)))
        common.dataframe(
            pd.DataFrame({
                t("admin.at"): entries["at"].map(lambda v: v.astimezone(clock.zone()).strftime("%Y-%m-%d %H:%M:%S")),
                t("admin.account"): entries["account_name"],
                t("admin.action"): entries["action"].map(lambda a: label_of("audit_action", a)),
                t("admin.object"): entries["object_type"].map(lambda o: label_of("audit_object", o)),
                t("admin.rows"): entries["row_count"],
            }),
            empty="table.empty_filtered", hide_index=True, width="stretch",
        )
    with tab_accounts:
        with common.connect() as db:
            frame = accounts.account_list(db)
        common.dataframe(
            pd.DataFrame({
                t("admin.account"): frame["name"],
                t("field.name"): frame["display_name"],
                t("field.role"): frame["role"].map(lambda r: label_of("account_role", r)),
                t("admin.grids"): [t("admin.street_wide") if wide else t("list.sep").join(g) for wide, g in
                                   zip(frame["street_wide"], frame["grants"])],
                t("admin.disabled"): frame["disabled"].map(lambda d: t("admin.yes") if d else ""),
            }),
            hide_index=True, width="stretch",
        )
        st.caption(t("admin.manage_hint"))
