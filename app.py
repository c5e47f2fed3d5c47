"""GridGov Streamlit app: page config, language switch, navigation. Nothing else.

Run with ``streamlit run app.py`` (or ``gridgov app``). The database comes from
``DATABASE_URL`` / the settings; front-end assets are served from ``static/vendor``.
"""

from __future__ import annotations

import streamlit as st

from app_pages import common
from app_pages.i18n import t
from gis.errors import GridGovError


def _page(module_name: str):
    def run() -> None:
        import importlib

        importlib.import_module(f"app_pages.{module_name}").render()

    run.__name__ = f"page_{module_name}"
    return run


#: (module, title key, url path, the permission that shows the page) — section by section.
PAGES = {
    "nav.section": (
        ("home", "nav.home", "home", "record_visit"),
        ("overview", "nav.overview", "overview", "make_report"),
        ("electronic_map", "nav.map", "map", "view_map"),
        ("my_grid", "nav.my_grid", "my_grid", "view_households"),
        ("incidents", "nav.incidents", "incidents", "view_incidents"),
        ("editor", "nav.editor", "editor", "edit_boundaries"),
        ("history", "nav.history", "history", "view_history"),
    ),
    "nav.work_section": (
        ("incidents_workflow", "nav.workflow", "workflow", "view_incidents"),
        ("visits", "nav.visits", "visits", "view_visits"),
        ("roster", "nav.roster", "roster", "manage_roster"),
        ("assessment", "nav.assessment", "assessment", "view_assessment"),
        # -- street practice pages (issue #17) --
        ("notices", "sp.nav.notices", "notices", "publish_notice"),
        ("talks", "sp.nav.talks", "talks", "hold_talks"),
        ("spotchecks", "sp.nav.spotchecks", "spotchecks", "spot_check"),
        ("evaluation", "sp.nav.evaluation", "evaluation", "manage_evaluation"),
        ("admin", "nav.admin", "admin", "view_audit"),
    ),
}


def pages_for(role: str | None) -> dict[str, list[tuple[str, str, str]]]:
    """The pages a role sees, by section: (module, title key, url path)."""
    from access.permissions import may

    return {
        section: [(module, title, path) for module, title, path, permission in entries if may(role, permission)]
        for section, entries in PAGES.items()
    }


def refused_pages_for(role: str | None) -> list[tuple[str, str, str, str]]:
    """The pages a role may not open: (module, title key, url path, permission). They are registered hidden and
    untitled, so their address (typed, bookmarked, from another account) shows the refusal and nothing of the
    page, and the navigation sent to the browser names none of them."""
    from access.permissions import may

    return [entry for entries in PAGES.values() for entry in entries if not may(role, entry[3])]


def _refused(title: str, permission: str):
    def run() -> None:
        common.show_refusal(title, permission)

    run.__name__ = f"refused_{permission}"
    return run


def home_path(role: str | None) -> str:
    """Where a role lands after login: a leader on 街道总览, field staff on 我的工作台, others on the map."""
    from access.permissions import may

    return "overview" if role == "leader" else "home" if role != "admin" and may(role, "record_visit") else "map"


def main() -> None:
    st.set_page_config(page_title=t("app.title"), layout="wide")
    common.language_switch()
    try:
        common.get_engine()
        actor = common.authenticate()
    except GridGovError as exc:  # DatabaseUnavailableError, PostGISMissingError, ConfigurationError
        st.error(t("app.db_error", error=exc))
        st.stop()
    if actor is None:  # nothing of the app renders before login: not a page, not a cached figure,
        # not the page list a tab kept from before its session ended (one hidden page replaces it)
        common.phone_layout()  # the sign-in button is a tap target on a phone too
        st.navigation([st.Page(common.show_login_prompt, title=t("login.title"), url_path="login-prompt",
                               default=True)], position="hidden").run()
        st.stop()
    common.phone_layout()
    common.widget_words()
    landing = home_path(actor.role)
    sections = {
        t(section): [st.Page(_page(module), title=t(title), url_path=path, default=(path == landing))
                     for module, title, path in entries]
        for section, entries in pages_for(actor.role).items() if entries
    }
    next(iter(sections.values())).extend(
        st.Page(_refused(title, permission), title=t("page.refused_title"), url_path=path, visibility="hidden")
        for _module, title, path, permission in refused_pages_for(actor.role))
    navigation = st.navigation(sections)
    st.sidebar.caption(t("app.account", name=actor.label, role=t(f"account_role.{actor.role}")))
    if st.sidebar.button(t("app.refresh"), key="app.refresh"):
        common.clear_caches()
    if st.sidebar.button(t("app.logout"), key="app.logout"):
        common.logout()
        st.stop()
    try:
        navigation.run()
    except Exception as exc:  # noqa: BLE001 - st.rerun/st.stop are BaseExceptions and pass through
        common.show_failure(exc)


if __name__ == "__main__":
    main()
