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


def main() -> None:
    st.set_page_config(page_title=t("app.title"), layout="wide")
    common.language_switch()
    pages = [
        st.Page(_page("electronic_map"), title=t("nav.map"), url_path="map", default=True),
        st.Page(_page("my_grid"), title=t("nav.my_grid"), url_path="my_grid"),
        st.Page(_page("incidents"), title=t("nav.incidents"), url_path="incidents"),
        st.Page(_page("editor"), title=t("nav.editor"), url_path="editor"),
        st.Page(_page("history"), title=t("nav.history"), url_path="history"),
    ]
    work = [
        st.Page(_page("incidents_workflow"), title=t("nav.workflow"), url_path="workflow"),
        st.Page(_page("visits"), title=t("nav.visits"), url_path="visits"),
        st.Page(_page("roster"), title=t("nav.roster"), url_path="roster"),
        st.Page(_page("assessment"), title=t("nav.assessment"), url_path="assessment"),
    ]
    navigation = st.navigation({t("nav.section"): pages, t("nav.work_section"): work})
    try:
        common.get_engine()
    except GridGovError as exc:  # DatabaseUnavailableError, PostGISMissingError, ConfigurationError
        st.error(t("app.db_error", error=exc))
        st.stop()
    if st.sidebar.button(t("app.refresh"), key="app.refresh"):
        common.clear_caches()
    try:
        navigation.run()
    except Exception as exc:  # noqa: BLE001 - st.rerun/st.stop are BaseExceptions and pass through
        common.show_failure(exc)


if __name__ == "__main__":
    main()
