"""Shared page plumbing: the cached engine, cached loaders, language switch, grid card widget.

This is the only module with ``st.cache_resource`` / ``st.cache_data``. Query results are
keyed by every argument that changes the answer, including the user's ``scope`` and a
data-version token (:func:`store.queries.data_version`, re-read every few seconds), so a
write anywhere (CLI import, boundary editor, workflow) invalidates them; pages that write
call :func:`clear_caches` right after.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass
from typing import Any

import geopandas as gpd
import pandas as pd
import streamlit as st
from sqlalchemy import Engine

from access.actor import Actor
from access.scope import Scope
from app_pages.folium_view import RenderedMap
from app_pages.i18n import CATALOGUE, LANGUAGES, describe, t, translate
from store import lookup, queries
from store import tiles as tile_store

from gis import clock, webmap
from gis.errors import ConfigurationError
from gis.settings import get_settings

__all__ = [
    "error_text",
    "get_engine",
    "data_token",
    "clear_caches",
    "user_scope",
    "current_actor",
    "authenticate",
    "connect",
    "require_actor",
    "show_login_prompt",
    "show_refusal",
    "logout",
    "go_to",
    "ViewerScope",
    "current_basemap",
    "language_switch",
    "load_summary",
    "load_grids",
    "load_display_grids",
    "load_grid_map",
    "load_grid_extent",
    "uses_tiles",
    "load_incident_map",
    "load_incident_time_map",
    "current_language",
    "warm_up",
    "load_households",
    "load_card",
    "load_lookup_point",
    "load_roster",
    "load_due_visits",
    "load_search",
    "load_find_staff",
    "load_incident_options",
    "load_open_incidents",
    "load_incidents",
    "load_incident_total",
    "load_counts_by_grid",
    "load_trend",
    "show_grid_card",
    "map_tolerance_m",
    "load_contact_card",
    "load_contact_card_html",
    "load_edit_points",
    "load_history",
    "load_plan_as_of",
    "load_changed_areas",
    "load_history_map",
]

logger = logging.getLogger(__name__)

#: Above this many grids the map sends coverage-simplified geometries.
SIMPLIFY_ABOVE = 2000
_TOKEN_TTL_S = 5


def error_text(exc: BaseException) -> str:
    """A domain error as the page words it: a grid outside the person's grids in their language,
    anything else by its message."""
    from access.scope import OutsideScopeError

    if isinstance(exc, OutsideScopeError):
        return t("card.outside_scope", code=exc.code)
    return describe(exc)


def show_failure(exc: BaseException) -> None:
    """A failure a page did not handle, as one message in the reader's language (never a traceback).

    Domain errors and what the database's errors mean (the server gone, a value it cannot store,
    a deadlock that outlived its retries: :func:`store.session.database_error`) are worded by their
    code (:func:`i18n.describe_error`); anything else is one short message with an error id, logged
    on the server with that id and its traceback.
    """
    import uuid

    from gis.errors import GridGovError
    from store.session import database_error

    known = exc if isinstance(exc, GridGovError) else database_error(exc)
    if known is not None:
        logger.warning("page refused: %s", known)
        st.error(t("app.failed", error=known))
        return
    error_id = uuid.uuid4().hex[:8]
    logger.error("page failed (error id %s)", error_id, exc_info=exc)
    st.error(t("app.internal_error", id=error_id))


@st.cache_resource(show_spinner=False)
def get_engine() -> Engine:
    """The process-wide engine of the application role (owns nothing, under row-level security).

    Every transaction on it runs in the session of the person this script run belongs to
    (:func:`authenticate` binds it), so a forgotten filter still returns only their rows.
    """
    from store.engine import APP, make_engine

    return make_engine(role=APP, settings=get_settings())


#: The cookie the login route sets (``api.login``).
SESSION_COOKIE = "gridgov_session"


@dataclass(frozen=True)
class ViewerScope(Scope):
    """The scope of the person looking, with their role and account: the key every cached loader
    takes, so a result computed for one person is never shown to another who may see other rows."""

    role: str = ""
    account: str = ""


def _session_token() -> str | None:
    token = st.session_state.get("auth.token")
    if token:
        return str(token)
    try:
        cookie = st.context.cookies.get(SESSION_COOKIE)
    except Exception:  # outside a browser session (bare script runs)
        cookie = None
    return str(cookie) if cookie else None


def authenticate() -> Actor | None:
    """The logged-in person of this script run (``None``: nobody), bound to every query it makes.

    The session token comes from the HttpOnly cookie of the login route (or, with single sign-on,
    from this browser session); the database checks it at every run, so a logout, a disabled
    account or a changed password ends every open tab at its next interaction.
    """
    from services.auth import actor_for_token, session_end_reason
    from store.engine import CURRENT_ACTOR_NAME, CURRENT_SESSION

    token = _session_token()
    actor = actor_for_token(get_engine(), token) if token else None
    if actor is None and token:
        # this tab's session has ended (idle time, a logout in another tab, disabled, new password):
        # the login prompt says why
        st.session_state["auth.ended"] = session_end_reason(get_engine(), token) or "unknown"
        st.session_state.pop("auth.token", None)
    if actor is None and get_settings().oidc_enabled:
        actor = _oidc_actor()
    CURRENT_SESSION.set(actor.session_token if actor else None)
    CURRENT_ACTOR_NAME.set(actor.name if actor else None)
    return actor


def _oidc_actor() -> Actor | None:
    """With single sign-on: a GridGov session for the account the verified identity names."""
    try:
        user = st.user
        logged_in = bool(user.is_logged_in)
    except Exception:
        return None
    if not logged_in:
        return None
    from services.auth import LoginRefused, login_oidc

    claim = get_settings().oidc_account_claim
    name = str(user.get(claim) or "")
    try:
        result = login_oidc(get_engine(), name, token=_oidc_session_token(user))
    except LoginRefused as exc:
        st.session_state["auth.refused"] = f"session.ended.{exc.ended}" if exc.reason == "ended" else f"login.{exc.reason}"
        st.session_state.pop("auth.ended", None)
        return None
    st.session_state["auth.token"] = result.token
    return result.actor


def _oidc_session_token(user: Any) -> str:
    """The GridGov session token of this sign-in: the same in every tab of the browser (one ID token:
    issuer, subject, nonce, issue time), derived with the server's identity-cookie secret."""
    from access.passwords import derived_token

    secret = str(st.secrets["auth"]["cookie_secret"])
    return derived_token(secret, user.get("iss"), user.get("sub"), user.get("nonce"), user.get("iat"))


def connect():  # noqa: ANN202 - a Connection context manager
    """A connection of the application engine, its transactions bound to this run's person.

    Widget callbacks run before the page's own code; the binding is made here too, so a loader
    called from a callback reads as the logged-in person (nobody, if nobody is: fail closed).
    """
    from store.engine import CURRENT_SESSION

    if CURRENT_SESSION.get() is None:
        authenticate()
    return get_engine().connect()


def require_actor() -> Actor:
    """The logged-in person, or the login prompt and the end of this run (nothing else renders)."""
    actor = authenticate()
    if actor is None:
        show_login_prompt()
        st.stop()
    return actor


def show_login_prompt() -> None:
    """What a person who is not logged in sees: a way to log in, and nothing of the data."""
    st.title(t("login.title"))
    refused = st.session_state.pop("auth.refused", None)
    ended = st.session_state.pop("auth.ended", None)
    if refused or ended:
        st.error(t(refused or f"session.ended.{ended}"))
    if get_settings().oidc_enabled:
        st.button(t("login.sso"), key="auth.sso", type="primary", on_click=st.login)
        return
    st.info(t("login.needed"))
    lang = "en" if st.session_state.get("ui.lang", get_settings().language) == "en" else "zh"
    st.link_button(t("login.go"), f"/login?lang={lang}", type="primary")
    go_to(f"/login?lang={lang}" + (f"&ended={ended}" if ended else ""))


def show_refusal(title_key: str, permission: str) -> None:
    """What the address of a page the person's role may not open shows: its title and why, nothing of its data."""
    from access.permissions import PermissionDenied

    actor = require_actor()
    st.title(t(title_key))
    st.error(t("page.refused", page=t(title_key), error=PermissionDenied(actor.role, permission)))


def go_to(path: str) -> None:
    """Send the browser to ``path`` of this server (the login and logout routes beside the app)."""
    import json

    if not path.startswith("/") or path.startswith("//"):
        raise ValueError(f"path was {path!r} but is expected to be a path on this server, like /login")
    st.html(f"<script>window.location.href = {json.dumps(path)};</script>", unsafe_allow_javascript=True)


def logout() -> None:
    """End this person's session (in every tab) and leave: to ``/logout``, which clears the cookie,
    or with single sign-on through ``st.logout()`` (the provider's logout, then back to the app)."""
    from services.auth import logout as end_session

    end_session(get_engine(), _session_token())
    st.session_state.pop("auth.token", None)
    if get_settings().oidc_enabled:
        st.logout()
    else:
        go_to("/logout")


@st.cache_data(ttl=_TOKEN_TTL_S, show_spinner=False)
def data_token() -> str:
    """Changes whenever the data changes (re-read at most every 5 s)."""
    with connect() as conn:
        return queries.data_version(conn)


def clear_caches() -> None:
    """Drop every cached query result (call after a write)."""
    st.cache_data.clear()


def user_scope() -> ViewerScope:
    """What the logged-in person may see, as a cache key (role, account and grid-code prefixes).

    It comes from the database at every run, never from the page: URL parameters or session-state
    edits cannot widen it, and row-level security applies the same scope again below it.
    """
    actor = require_actor()
    return ViewerScope(prefixes=actor.scope.prefixes, everything=actor.scope.everything, role=actor.role or "",
                       account=actor.name)


def current_actor() -> Actor:
    """The logged-in person: the actor of every write on the page."""
    return require_actor()


def current_basemap() -> webmap.Basemap:
    """The basemap from the settings; a misconfigured one is reported and replaced by none."""
    try:
        return webmap.basemap_for(get_settings())
    except ConfigurationError as exc:
        st.warning(t("app.basemap_error", error=exc))
        return webmap.Basemap("none")


def map_tolerance_m(n_grids: int) -> float:
    """Display simplification tolerance (m) for a map of ``n_grids`` grids (0 = none)."""
    return 2.0 if n_grids > SIMPLIFY_ABOVE else 0.0


def language_switch() -> str:
    """Sidebar language switch (zh default, from ``GRIDGOV_LANG``); returns the language."""
    if "ui.lang" not in st.session_state:
        st.session_state["ui.lang"] = get_settings().language
    st.sidebar.radio(
        t("app.language"),
        options=list(LANGUAGES),
        format_func=lambda v: translate(f"lang.{v}", v),
        key="ui.lang",
        horizontal=True,
    )
    return st.session_state["ui.lang"]


# -- cached loaders (every argument is part of the key) ------------------------------------


@st.cache_data(show_spinner=False, max_entries=32)
def load_summary(token: str, scope: ViewerScope) -> dict[str, int]:
    with connect() as conn:
        return queries.summary_counts(conn, scope=scope)


@st.cache_data(show_spinner=False, max_entries=32)
def load_grids(token: str, scope: ViewerScope) -> gpd.GeoDataFrame:
    with connect() as conn:
        return queries.grids_frame(conn, scope=scope)


@st.cache_data(show_spinner=False, max_entries=8)
def load_display_grids(token: str, scope: ViewerScope) -> gpd.GeoDataFrame:
    """Grids for the map: coverage-simplified when there are many (see :func:`map_tolerance_m`)."""
    from app_pages.maps import simplify_grids

    grids = load_grids(token, scope)
    return simplify_grids(grids, tolerance_m=map_tolerance_m(len(grids)))


def current_language() -> str:
    """The session's UI language (``zh``/``en``)."""
    return str(st.session_state.get("ui.lang", "zh"))


@st.cache_data(show_spinner=False, max_entries=32)
def load_grid_extent(token: str, scope: ViewerScope) -> tile_store.GridExtent:
    """How many grids the person may see, their levels and box (EPSG:4490), per data version."""
    with connect() as conn:
        return tile_store.grid_extent(conn)


def uses_tiles(extent: tile_store.GridExtent) -> bool:
    """Whether a map of ``extent``'s grids is drawn from vector tiles (more grids than
    ``GRIDGOV_TILE_THRESHOLD``; 0 always) instead of sending every grid's GeoJSON."""
    return extent.count > get_settings().tile_threshold or get_settings().tile_threshold == 0


@st.cache_data(show_spinner=False, max_entries=16)
def load_grid_map(
    token: str,
    scope: ViewerScope,
    basemap: webmap.Basemap,
    lang: str,
    *,
    labels: bool = True,
    households: bool = False,
    incidents: bool = False,
    under: str | None = None,
    finest_level: bool = True,
) -> RenderedMap:
    """A grid map, rendered once per data version, scope, basemap, language and options.

    The electronic map is the default (every grid); ``under`` keeps one grid and its
    descendants (with their households when ``households``); ``finest_level=False`` leaves
    out the finest level (an overview to click a point on). Above ``GRIDGOV_TILE_THRESHOLD``
    grids a whole-street (``under`` None) map is drawn from vector tiles (:func:`uses_tiles`):
    no grid GeoJSON and no household points are sent, incidents show as a density layer.
    Rendering the folium map is the
    slow part of a map page (see :mod:`app_pages.folium_view`); pages show the cached
    rendering on every run. Every map gets the phone behaviour (:mod:`app_pages.field_map`).
    """
    from app_pages import field_map, folium_view, maps

    tr = lambda key, **kwargs: translate(key, lang, **kwargs)  # noqa: E731
    if under is None:
        extent = load_grid_extent(token, scope)
        if uses_tiles(extent):
            levels = list(extent.levels)
            if not finest_level and len(levels) > 1:
                levels = levels[:-1]
            fmap = maps.tile_grid_map(
                extent.bounds, levels, tr=tr, basemap=basemap, labels=labels, density=incidents,
                density_visible=incidents,
            )
            return folium_view.render(field_map.add_phone_controls(fmap, phone_words(tr), layer_control=False))
    grids = load_display_grids(token, scope)
    if under is not None:
        grids = grids[grids["code"].str.startswith(under)]
    if not finest_level and grids["level"].nunique() > 1:
        grids = grids[grids["level"] < grids["level"].max()]
    fmap = maps.grid_map(
        grids,
        tr=tr,
        basemap=basemap,
        households=load_households(token, under, scope) if households else None,
        incidents=load_incidents(token, None, None, (), (), scope) if incidents else None,
        labels=labels,
        layer_control=False,
    )
    return folium_view.render(field_map.add_phone_controls(fmap, phone_words(tr)))


@st.cache_data(show_spinner=False, max_entries=16)
def load_incident_map(
    token: str,
    start: dt.date | None,
    end: dt.date | None,
    categories: tuple[str, ...],
    statuses: tuple[str, ...],
    level: int,
    scope: ViewerScope,
    basemap: webmap.Basemap,
    lang: str,
) -> tuple[RenderedMap, list[float]]:
    """The leaders' incident map for one filter, rendered once; and its choropleth class edges."""
    from app_pages import folium_view, maps

    fmap, edges = maps.incident_map(
        load_incidents(token, start, end, categories, statuses, scope),
        load_counts_by_grid(token, start, end, categories, statuses, level, scope),
        tr=lambda key, **kwargs: translate(key, lang, **kwargs),
        basemap=basemap,
    )
    return folium_view.render(fmap), list(edges)


@st.cache_data(show_spinner=False, max_entries=16)
def load_incident_time_map(
    token: str,
    start: dt.date | None,
    end: dt.date | None,
    categories: tuple[str, ...],
    statuses: tuple[str, ...],
    scope: ViewerScope,
    basemap: webmap.Basemap,
) -> RenderedMap:
    """The monthly incident animation for one filter, over the level-1 outlines, rendered once."""
    from app_pages import folium_view, maps

    grids = load_grids(token, scope)
    outline = grids[grids["level"] == 1] if (grids["level"] == 1).any() else grids
    fmap = maps.incident_time_map(load_incidents(token, start, end, categories, statuses, scope), outline, basemap=basemap)
    return folium_view.render(fmap)


def warm_up() -> RenderedMap:
    """Fill the caches the default page reads (the electronic map in the default language).

    Called once at server start (``serve.py``), before the first visitor, so the first visit
    after a restart is as fast as any other. Raises what the loaders raise (e.g.
    DatabaseUnavailableError, ConfigurationError); the caller logs it and serves anyway.
    Returns the map as the page will find it in the cache.
    """
    settings = get_settings()
    token = data_token()
    return load_grid_map(
        token, map_scope(Scope.all()), webmap.basemap_for(settings), settings.language, labels=True,
        households=False, incidents=False,
    )


def map_scope(scope: Scope, *, personal: bool = False) -> Scope:
    """The part of a viewer's scope a map depends on: the grids only (shared by everyone who may
    see the same grids, and warmed at start-up for the whole street), or — when the map shows
    households or incidents — the whole viewer (role and account)."""
    if personal:
        return scope
    return Scope(prefixes=scope.prefixes, everything=scope.everything)


@st.cache_data(show_spinner=False, max_entries=32)
def load_households(token: str, grid_prefix: str | None, scope: ViewerScope) -> gpd.GeoDataFrame:
    with connect() as conn:
        return queries.households_frame(conn, grid_prefix=grid_prefix, scope=scope)


@st.cache_data(show_spinner=False, max_entries=256)
def load_card(token: str, code: str, scope: ViewerScope) -> lookup.GridCard:
    """The card of ``code``; :class:`access.scope.OutsideScopeError` when it is outside the viewer's scope."""
    from access.scope import OutsideScopeError
    from services.overview import disclose_card

    if not Scope.coerce(scope).overlaps(code):
        raise OutsideScopeError(code)
    with connect() as conn:
        card = lookup.grid_card(conn, code)
    return disclose_card(card, current_actor())  # small special-household counts: the grid's own people only


@st.cache_data(show_spinner=False, max_entries=256)
def load_lookup_point(token: str, lon: float, lat: float, scope: ViewerScope) -> list[lookup.GridCard]:
    with connect() as conn:
        return lookup.lookup_point(conn, lon, lat)


@st.cache_data(show_spinner=False, max_entries=64)
def load_roster(token: str, code: str, scope: ViewerScope) -> pd.DataFrame:
    """The households of ``code`` as this viewer may see them (masked by role; unmasked reads audited)."""
    from services.households import household_roster

    return household_roster(get_engine(), current_actor(), code)


@st.cache_data(show_spinner=False, max_entries=64)
def load_due_visits(token: str, code: str, month: str, scope: ViewerScope) -> queries.DueVisits:
    # ``month`` keys the cache so a new month recomputes; the query uses the current time.
    with connect() as conn:
        return queries.due_visits(conn, code, scope=scope)


@st.cache_data(show_spinner=False, max_entries=128)
def load_search(token: str, query: str, scope: ViewerScope) -> list[queries.SearchHit]:
    with connect() as conn:
        return queries.search(conn, query, scope=scope)


@st.cache_data(show_spinner=False, max_entries=128)
def load_find_staff(token: str, query: str, scope: ViewerScope) -> pd.DataFrame:
    with connect() as conn:
        return queries.find_staff(conn, query, scope=scope)


@st.cache_data(show_spinner=False, max_entries=64)
def load_open_incidents(token: str, code: str, scope: ViewerScope) -> pd.DataFrame:
    with connect() as conn:
        return queries.open_incidents(conn, code, scope=scope)


@st.cache_data(show_spinner=False, max_entries=16)
def load_incident_options(token: str, scope: ViewerScope) -> dict[str, Any]:
    with connect() as conn:
        return queries.incident_options(conn, scope=scope)


def _filter(start: dt.date | None, end: dt.date | None, categories: tuple[str, ...], statuses: tuple[str, ...]):
    return queries.IncidentFilter(start=start, end=end, categories=tuple(categories), statuses=tuple(statuses))


@st.cache_data(show_spinner=False, max_entries=32)
def load_incidents(
    token: str, start: dt.date | None, end: dt.date | None, categories: tuple[str, ...], statuses: tuple[str, ...],
    scope: ViewerScope,
) -> gpd.GeoDataFrame:
    with connect() as conn:
        return queries.incidents_frame(conn, _filter(start, end, categories, statuses), scope=scope)


@st.cache_data(show_spinner=False, max_entries=32)
def load_incident_total(
    token: str, start: dt.date | None, end: dt.date | None, categories: tuple[str, ...], statuses: tuple[str, ...],
    scope: ViewerScope,
) -> dict[str, int]:
    with connect() as conn:
        return queries.incident_total(conn, _filter(start, end, categories, statuses), scope=scope)


@st.cache_data(show_spinner=False, max_entries=32)
def load_counts_by_grid(
    token: str, start: dt.date | None, end: dt.date | None, categories: tuple[str, ...], statuses: tuple[str, ...],
    level: int, scope: ViewerScope,
) -> gpd.GeoDataFrame:
    with connect() as conn:
        return queries.incident_counts_by_grid(conn, _filter(start, end, categories, statuses), level=level, scope=scope)


@st.cache_data(show_spinner=False, max_entries=32)
def load_trend(
    token: str, start: dt.date | None, end: dt.date | None, categories: tuple[str, ...], statuses: tuple[str, ...],
    scope: ViewerScope,
) -> pd.DataFrame:
    with connect() as conn:
        return queries.incident_monthly_trend(conn, _filter(start, end, categories, statuses), scope=scope)


# -- widgets ---------------------------------------------------------------------------------


def shown_count(value: object) -> object:
    """A count as a page shows it: the number, or the catalogue's "fewer than 5" where it is suppressed."""
    from access.disclosure import SMALL_COUNT

    return t("count.suppressed", n=SMALL_COUNT) if value is None or pd.isna(value) else value


def shown_counts(frame: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
    """``frame`` with each of ``columns`` that holds a suppressed count (``pd.NA``) as text: the numbers, and
    the catalogue's "fewer than 5" where suppressed (so a table never shows an empty cell or ``None``)."""
    out = frame.copy()
    for column in columns:
        if column in out.columns and out[column].isna().any():
            out[column] = out[column].map(lambda v: str(shown_count(v)))
    return out


def local_time(value: object, fmt: str = "%Y-%m-%d %H:%M") -> str:
    """A stored (timezone-aware) moment as the street's local time (``clock.zone()``, Asia/Shanghai
    by default) in ``fmt``; nothing (None, NaT, NaN) as the empty string. A naive value is taken as
    already local."""
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return ""
    stamp = pd.Timestamp(value)
    if pd.isna(stamp):
        return ""
    return (stamp.tz_convert(clock.zone()) if stamp.tzinfo else stamp).strftime(fmt)


def dataframe(frame: pd.DataFrame | None, /, *, empty: str = "table.empty", **kwargs: Any) -> Any:
    """``st.dataframe(frame, **kwargs)``; a frame without rows shows the catalogue's empty-state text
    (``empty``, a key) instead, as Streamlit's grid would draw the English word "empty"."""
    if frame is None or len(frame) == 0:
        st.caption(t(empty))
        return None
    return st.dataframe(frame, **kwargs)


def widget_words() -> None:
    """Streamlit's own words (the file uploader's "Upload" and "200MB per file", the skip link), which
    Streamlit has no setting for, replaced by the catalogue's in the session language (every run)."""
    limit = int(_streamlit_option("server.maxUploadSize", 200))
    words = {"button": t("upload.button"), "limit": t("upload.limit", mb=limit)}
    css = {k: v.replace("\\", "").replace('"', "") for k, v in words.items()}
    st.html(
        "<style>"
        "[data-testid=stFileUploaderDropzone] button [data-testid=stMarkdownContainer]{display:none}"
        f'[data-testid=stFileUploaderDropzone] button::after{{content:"{css["button"]}"}}'
        "[data-testid=stFileUploaderDropzoneInstructions] span{display:none}"
        f'[data-testid=stFileUploaderDropzoneInstructions] > div::after{{content:"{css["limit"]}";font-size:0.875rem}}'
        "</style>"
    )
    import json

    # The keyboard's skip link ("Skip to main content"): its text, for eyes and screen readers alike.
    # Streamlit (re)mounts the link when it likes, before or after this script runs, so the text is
    # set now and again whenever the page's elements change (one observer per browser tab; the
    # wanted text is read at each change, so switching the language takes effect too).
    st.html(
        "<script>(() => {"
        f"window.__gridgovSkipText = {json.dumps(t('a11y.skip'))};"
        "const fix = () => document.querySelectorAll('[data-testid=stSkipToContent]').forEach(a => {"
        " if (a.textContent !== window.__gridgovSkipText) a.textContent = window.__gridgovSkipText; });"
        "fix();"
        "if (!window.__gridgovSkipObserver) { let queued = false;"
        " window.__gridgovSkipObserver = new MutationObserver(() => { if (queued) return; queued = true;"
        "  setTimeout(() => { queued = false; fix(); }, 50); });"
        " window.__gridgovSkipObserver.observe(document.body, {childList: true, subtree: true}); }"
        "})();</script>",
        unsafe_allow_javascript=True,
    )


def _streamlit_option(name: str, default: Any) -> Any:
    """A Streamlit configuration option (``server.maxUploadSize`` …), or ``default`` outside a server."""
    try:
        return st.get_option(name)
    except Exception:  # noqa: BLE001 - an option Streamlit does not know in this version
        return default


def show_grid_card(card: lookup.GridCard) -> None:
    """Render a grid card: code, name, parent chain, staff with roles and phones, counts."""
    st.subheader(t("card.title", code=card.code, name=card.name))
    if card.parents:
        st.markdown(
            f"**{t('card.parents')}**: "
            + " › ".join(f"`{code}` {_md_text(name)}" for code, name in card.parents)
        )
    cols = st.columns(4)
    cols[0].metric(t("card.households"), card.households)
    cols[1].metric(t("card.special"), shown_count(card.special_households))
    cols[2].metric(t("card.residents"), card.residents)
    cols[3].metric(t("card.open_incidents"), card.open_incidents)
    st.caption(f"{t('card.area')}: {card.area_m2:,.0f}")
    st.markdown(f"**{t('card.staff')}**")
    if card.staff:
        staff = pd.DataFrame(
            {
                t("field.role"): [t(f"role.{s.role}") for s in card.staff],
                t("field.staff"): [s.name for s in card.staff],
                t("field.phone"): [s.phone or "" for s in card.staff],
                t("field.grid"): [s.grid_code for s in card.staff],
            }
        )
        dataframe(staff, hide_index=True, width="stretch")
    else:
        st.info(t("card.no_staff"))
    if card.open_incidents:
        with st.expander(f"{t('card.open_incidents')} ({card.open_incidents})"):
            rows = load_open_incidents(data_token(), card.code, user_scope())
            dataframe(
                pd.DataFrame(
                    {
                        t("field.reported_at"): rows["reported_at"],
                        t("field.category"): rows["category"].map(lambda v: t(f"category.{v}") if f"category.{v}" in CATALOGUE else v),
                        t("field.status"): rows["status"].map(lambda v: t(f"status.{v}") if f"status.{v}" in CATALOGUE else v),
                        t("field.address"): rows["address"],
                        t("field.description"): rows["description"],
                    }
                ),
                hide_index=True, width="stretch",
            )
    from app_pages.street_panels import grid_cameras

    grid_cameras(card.code)  # 雪亮工程: count and list (stream addresses only for roles that may see them)
    if card.children:
        with st.expander(f"{t('card.children')} ({len(card.children)})"):
            dataframe(
                pd.DataFrame(card.children, columns=[t("field.code"), t("field.name")]), hide_index=True, width="stretch"
            )


def _md_text(value: str) -> str:
    """Escape user text for st.markdown (no HTML is rendered, but Markdown syntax is)."""
    specials = "\\`*_{}[]()#+-.!|<>"
    return "".join("\\" + ch if ch in specials else ch for ch in str(value))


@st.cache_data(show_spinner=False, max_entries=64)
def load_contact_card(token: str, code: str, lang: str, fmt: str, scope: ViewerScope) -> bytes:
    """The printable contact card of grid ``code`` as PNG or PDF bytes."""
    from etl.cards import contact_card_image

    with connect() as conn:
        card = lookup.grid_card(conn, code)
        geometry = queries.grid_geometry(conn, code)
    return contact_card_image(card, geometry.geometry, language=lang, fmt=fmt)


@st.cache_data(show_spinner=False, max_entries=64)
def load_contact_card_html(token: str, code: str, lang: str, day: dt.date, scope: ViewerScope) -> tuple[Any, str]:
    """The card of grid ``code`` on ``day`` and its printable HTML page."""
    from etl.cards import contact_card_html

    with connect() as conn:
        card = lookup.grid_card(conn, code, as_of=day)
    return card, contact_card_html(card, language=lang)


# -- editor and history loaders (boundary editor helper) --------------------------------------


@st.cache_data(show_spinner=False, max_entries=4)
def load_edit_points(token: str, scope: ViewerScope) -> dict[str, Any]:
    """Households, open incidents and active staff assignments for edit previews (EPSG:4490)."""
    from services.editing import load_points_for_impact

    with connect() as conn:
        return load_points_for_impact(conn)


@st.cache_data(show_spinner=False, max_entries=32)
def load_history(token: str, code: str | None, scope: ViewerScope) -> pd.DataFrame:
    """Changesets newest first (all, or those touching ``code``), as the viewer may read them."""
    from services.editing import history_frame

    with connect() as conn:
        return history_frame(conn, code=code)


@st.cache_data(show_spinner=False, max_entries=16)
def load_plan_as_of(token: str, as_of: dt.datetime | None) -> gpd.GeoDataFrame:
    """The grid plan valid at ``as_of`` (tz-aware; ``None`` = now), EPSG:4490."""
    from store.grids import load_plan

    with connect() as conn:
        return load_plan(conn, as_of=as_of)


@st.cache_data(show_spinner=False, max_entries=16)
def load_changed_areas(
    token: str, as_of_a: dt.datetime | None, as_of_b: dt.datetime | None
) -> tuple[Any, gpd.GeoDataFrame]:
    """What changed between the plans valid at two moments, and where (:func:`services.editing.changed_areas`)."""
    from services.editing import changed_areas

    return changed_areas(load_plan_as_of(token, as_of_a), load_plan_as_of(token, as_of_b))


@st.cache_data(show_spinner=False, max_entries=16)
def load_history_map(
    token: str,
    as_of: dt.datetime | None,
    basemap: webmap.Basemap,
    lang: str,
    *,
    other: dt.datetime | None = None,
    side: str | None = None,
) -> RenderedMap:
    """The plan valid at ``as_of``, rendered once.

    With ``side`` (``"a"`` or ``"b"``) it is one side of a comparison with the plan at
    ``other``: side a (``as_of`` is version A) shows the changed areas except the added grids,
    side b (``as_of`` is version B) all but the retired ones.
    """
    from app_pages import folium_view, maps

    changes = None
    if side is not None:
        first, second = (as_of, other) if side == "a" else (other, as_of)
        _diff, changed = load_changed_areas(token, first, second)
        changes = changed[changed["change"] != ("added" if side == "a" else "retired")]
    fmap = maps.changes_map(
        load_plan_as_of(token, as_of), changes, tr=lambda key, **kwargs: translate(key, lang, **kwargs),
        basemap=basemap,
    )
    return folium_view.render(fmap)


# -- governance pages (roster, incident handling, visits, assessment) ------------------------
# Detail reads that feed an optimistic-lock token (an incident's version) stay uncached.


@st.cache_data(show_spinner=False, max_entries=16)
def load_governance_frames(token: str, month: str, scope: ViewerScope) -> dict[str, Any]:
    """Households, visits, assignments, incidents, grids and staff for a month (visits, assessment)."""
    from store import governance as repository

    with connect() as conn:
        return repository.load_frames(conn, month=month, scope=scope)


@st.cache_data(show_spinner=False, max_entries=16)
def load_roster_tables(token: str, scope: ViewerScope) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Grids and the staff roster (roster page)."""
    from store import governance as repository

    with connect() as conn:
        return repository.load_grids(conn, scope=scope), repository.load_roster(conn, scope=scope)


@st.cache_data(show_spinner=False, max_entries=16)
def load_workflow_tables(token: str, scope: ViewerScope) -> tuple[pd.DataFrame, pd.DataFrame, dict[int, str]]:
    """Incidents, the roster and staff names (incident handling page)."""
    from store import governance as repository

    with connect() as conn:
        incidents = repository.load_incidents(conn, scope=scope)
        roster = repository.load_roster(conn)
        staff = repository.load_staff(conn)
    return incidents, roster, dict(zip(staff["id"].astype(int), staff["name"]))


#: Phone layout (390×844, touch): nothing scrolls sideways, tap targets of at least 44 px,
#: tighter page margins; maps set their own touch behaviour (:mod:`app_pages.field_map`).
_PHONE_CSS = """
<style>
@media (max-width: 640px) {
  html, body, [data-testid="stApp"], [data-testid="stAppViewContainer"], [data-testid="stMain"] { overflow-x: hidden !important; max-width: 100vw; }
  [data-testid="stMainBlockContainer"] { padding: 3.5rem 0.75rem 2rem 0.75rem !important; max-width: 100vw; }
  .stButton button, .stFormSubmitButton button, .stDownloadButton button, [data-baseweb="tab"],
  [data-testid="stSidebarNav"] a, [data-baseweb="select"] > div { min-height: 44px; }
  [data-testid="stExpandSidebarButton"], [data-testid="stSidebarCollapseButton"] button, [data-testid="stHeader"] button { min-height: 44px; min-width: 44px; }
  [data-testid="stHorizontalBlock"] { flex-wrap: wrap; }
  /* more tap targets of at least 44 px: inputs, toggles, radio options, segments, expanders */
  [data-baseweb="input"], [data-baseweb="textarea"], [data-testid="stCheckbox"] label,
  [data-testid="stRadio"] label[data-baseweb="radio"], [data-testid="stButtonGroup"] button,
  [data-testid="stExpander"] summary, [data-testid="stExpandSidebarButton"],
  [data-testid="stSidebarCollapseButton"] button { min-height: 44px; }
  [data-testid="stCheckbox"] label, [data-testid="stRadio"] label[data-baseweb="radio"] { align-items: center; }
  [data-testid="stExpandSidebarButton"], [data-testid="stSidebarCollapseButton"] button { min-width: 44px; }
  [data-baseweb="input"] input, [data-baseweb="select"] input, [data-testid="stNumberInputField"],
  [data-testid="stTextInputField"] { min-height: 44px !important; }
  [data-testid="stNumberInputStepDown"], [data-testid="stNumberInputStepUp"],
  [data-baseweb="select"] button { min-width: 44px !important; min-height: 44px !important; }
  /* headings' hover-only link anchors: nothing to hover on a phone, too small to tap */
  [data-testid="stHeaderActionElements"] { display: none !important; }
  /* a map beside its card (containers keyed "cardfirst-…"): the card above the map on a phone */
  [class*="st-key-cardfirst"] [data-testid="stHorizontalBlock"]:not([data-testid="stColumn"] *) {
    flex-direction: column-reverse; }
  /* a card appearing there takes the map's place on screen (the browser does not scroll it away) */
  [class*="st-key-cardfirst"] { overflow-anchor: none; }
  [data-testid="stMetricValue"] { font-size: 1.5rem; }
  iframe { max-width: 100%; }
}
</style>
"""


#: On a narrow screen the navigation folds once a page is chosen (Streamlit folds it only for a
#: mobile user agent; a phone showing the desktop site or a narrow window kept it over the page).
_FOLD_NAV_JS = """
<script>
(function () {
  if (window.ggFoldNav) { return; }
  window.ggFoldNav = true;
  document.addEventListener('click', function (event) {
    var link = event.target.closest && event.target.closest('[data-testid=stSidebarNavLink]');
    if (!link || window.innerWidth > 640) { return; }
    setTimeout(function () {
      var sidebar = document.querySelector('[data-testid=stSidebar]');
      var fold = document.querySelector('[data-testid=stSidebarCollapseButton] button');
      if (sidebar && fold && sidebar.getAttribute('data-collapsed') === 'false') { fold.click(); }
    }, 50);
  }, true);
})();
</script>
"""


def phone_layout() -> None:
    """Add the phone layout's CSS to the page and fold the navigation after a choice on a narrow
    screen (every run: Streamlit drops what a run did not write)."""
    st.html(_PHONE_CSS)
    st.sidebar.html(_FOLD_NAV_JS, unsafe_allow_javascript=True)


#: Height (px) of the maps a person may use on a phone: under 60 % of a 844-px screen, so the
#: page scrolls past the map (the worker's home uses a smaller one; the editor keeps its own).
MAP_HEIGHT = 460


def phone_words(tr, *, gps: bool = False) -> dict[str, str]:  # noqa: ANN001 - a translate function
    """The catalogue words of :class:`app_pages.field_map.FieldControls` in ``tr``'s language."""
    if gps:
        return {k: tr(f"home.gps.{k}") for k in ("gps", "locating", "denied", "unavailable", "here")}
    return {"here": tr("phone.picked")}


@st.cache_data(show_spinner=False, max_entries=32)
def load_home_map(token: str, scope: ViewerScope, basemap: webmap.Basemap, lang: str, code: str) -> RenderedMap:
    """My grid (and the grids under it) with its households, the GPS button, phone touch behaviour."""
    import folium

    from app_pages import field_map, folium_view, maps

    tr = lambda key, **kw: translate(key, lang, **kw)  # noqa: E731
    grids = load_display_grids(token, scope)
    mine = grids[grids["code"].str.startswith(code)]
    fmap = maps.grid_map(mine, tr=tr, basemap=basemap, households=load_households(token, code, scope),
                         labels=False, layer_control=False)
    field_map.add_phone_controls(fmap, phone_words(tr, gps=True), gps=True, layer_control=False)
    folium.LayerControl(collapsed=True).add_to(fmap)
    return folium_view.render(fmap)


@st.cache_data(show_spinner=False, max_entries=16)
def load_special_map(token: str, level: int, scope: ViewerScope, basemap: webmap.Basemap,
                     lang: str) -> tuple[RenderedMap, int, int]:
    """The per-grid special-household layer of grids of ``level`` as this viewer may see it (small counts
    suppressed unless they are the grid's own people), rendered once; and how many grids, how many suppressed."""
    from access.disclosure import SMALL_COUNT
    from app_pages import folium_view, maps
    from services.overview import special_households_by_grid

    counts = special_households_by_grid(get_engine(), current_actor(), level=level)
    grids = load_grids(token, scope)
    shaded = grids[["code", "geometry"]].merge(counts[["code", "name", "households", "special_households"]], on="code")
    fmap = maps.special_households_map(gpd.GeoDataFrame(shaded, geometry="geometry", crs=grids.crs),
                                       tr=lambda key, **kw: translate(key, lang, **kw), basemap=basemap,
                                       suppressed=translate("count.suppressed", lang, n=SMALL_COUNT))
    return folium_view.render(fmap), len(shaded), int(shaded["special_households"].isna().sum())


@st.cache_data(show_spinner=False, max_entries=16)
def load_overview_tables(token: str, scope: ViewerScope) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Incidents, grids and the roster of the street overview."""
    from store import governance as repository

    with connect() as conn:
        return (repository.load_incidents(conn, scope=scope), repository.load_grids(conn, scope=scope),
                repository.load_roster(conn))


# -- street practice pages (issue #17) --------------------------------------------------------


@st.cache_data(show_spinner=False, max_entries=16)
def load_three_in_one(token: str, period: str, weights: tuple[float, float, float], scope: ViewerScope) -> tuple[Any, Any]:
    """The three-in-one assessment of ``period`` with ``weights`` (daily points, evaluation, leader's
    rating; they sum to 1) as the viewer may see it: :func:`services.three_in_one.compute`."""
    from governance.three_in_one import ThreeInOneConfig, ThreeInOneWeights
    from services.three_in_one import compute

    return compute(get_engine(), current_actor(), period, config=ThreeInOneConfig(weights=ThreeInOneWeights(*weights)))


@st.cache_data(show_spinner=False, max_entries=32)
def load_completeness(token: str, scope: ViewerScope, mine: bool) -> tuple[pd.DataFrame, Any]:
    """The completeness to-dos (``mine``: the viewer's own) and the quarter's verification report of
    the viewer's grids (:mod:`services.completeness`)."""
    from services.completeness import todos, verification

    actor = current_actor()
    return todos(get_engine(), actor, mine=mine), verification(get_engine(), actor)


@st.cache_data(show_spinner=False, max_entries=16)
def load_overview_heat_map(token: str, scope: ViewerScope, first: dt.date, last: dt.date, hour: str,
                           basemap: webmap.Basemap, lang: str) -> RenderedMap:
    """街道总览's incident heatmap for the period ``first``..``last`` (local dates): every reported
    incident, the unresolved ones and the overdue ones as three layers shown one at a time, over the
    level-1 and level-2 outlines. ``hour`` (local ``YYYY-MM-DDTHH``) keys "overdue" to the hour."""
    from app_pages import field_map, folium_view, maps
    from gis import clock
    from governance.overview import in_period, overdue_list
    from governance.vocab import TERMINAL_STATUSES
    from store import governance as repository

    tr = lambda key, **kw: translate(key, lang, **kw)  # noqa: E731
    incidents, _grids, _roster = load_overview_tables(token, scope)
    shown = in_period(incidents, first, last)
    late = overdue_list(shown, now=clock.utc_now())

    def points(frame: pd.DataFrame) -> gpd.GeoDataFrame:
        return repository.incident_points(frame[["lon", "lat"]].dropna())

    layers = [(tr("ov.heat.reported"), points(shown)),
              (tr("ov.heat.open"), points(shown[~shown["status"].isin(TERMINAL_STATUSES)])),
              (tr("ov.heat.overdue"), points(late))]
    grids = load_grids(token, scope)
    outlines = grids[grids["level"] <= min(2, int(grids["level"].min()) + 1)] if len(grids) else grids
    fmap = maps.incident_heat_map(layers, outlines, basemap=basemap)
    return folium_view.render(field_map.add_phone_controls(fmap, phone_words(tr)))
