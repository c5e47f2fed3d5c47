"""ASGI entry point: the Streamlit app of ``app.py``, warmed up before the first visitor.

``streamlit run serve.py`` (what ``gridgov app`` and ``make run`` do) serves ``app.py`` exactly
as ``streamlit run app.py`` would, on the same Starlette server, with the login routes beside it
(``/login``, ``/logout``: :mod:`api.login`), the HTTP API (``/api``, ``/ogc``:
:mod:`api.routes`), vector tiles (``/tiles/``: :mod:`api.tiles`) and, when single sign-on is configured, Streamlit's own
OpenID Connect login (:mod:`api.oidc`). At start-up,
before it accepts connections, the server imports every page module and renders the electronic
map into the cache (:func:`app_pages.common.warm_up`), so the first visit after a restart draws the map
as fast as any later one (``docs/performance.md``). A failed warm-up (database down,
misconfigured basemap) is logged and the app is served anyway: its pages report the problem.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sys
import time
from collections.abc import AsyncIterator

import streamlit as st


def _warm_up() -> None:
    started = time.perf_counter()
    # Streamlit warns about cache calls outside a script run; the warm-up is one on purpose.
    context_logger = logging.getLogger("streamlit.runtime.scriptrunner_utils.script_run_context")
    level = context_logger.level
    context_logger.setLevel(logging.ERROR)
    import importlib
    import pkgutil

    import app_pages
    from app_pages import common, folium_view

    try:
        for module in pkgutil.iter_modules(app_pages.__path__):
            importlib.import_module(f"app_pages.{module.name}")
        common.warm_up()
    except Exception as exc:  # the pages report it to the user; here it is only logged
        print(f"gridgov: warm-up skipped: {exc}", file=sys.stderr, flush=True)
    else:
        print(f"gridgov: warm-up done in {time.perf_counter() - started:.1f} s", file=sys.stderr, flush=True)
    finally:
        context_logger.setLevel(level)
        # imported outside a script run, the map component must be registered by hand
        folium_view.register_component()


@contextlib.asynccontextmanager
async def _lifespan(_app: st.App) -> AsyncIterator[None]:
    await asyncio.to_thread(_warm_up)
    yield


def _routes() -> list:
    """HTTP routes served beside the UI by the same server: login and logout (``api.login``),
    the HTTP API under ``/api`` and ``/ogc`` (``api.routes``) and vector tiles under ``/tiles``
    (``api.tiles``)."""
    from api import login, tiles
    from api import routes as api

    return [*login.routes(), *api.routes(), *tiles.routes()]


def _secrets() -> dict | None:
    """Streamlit's ``[auth]`` secrets for single sign-on, from the GRIDGOV_OIDC_* settings (no file).

    The sign-in round trip keeps its state in a cookie signed with ``server.cookieSecret``, which is
    random per process unless set and is read when the server is built — before st.App merges
    these secrets. It gets the same kept secret, so a restart (or a second replica) between
    "log in" and the provider's redirect back does not lose the sign-in.
    """
    from streamlit import config

    from api.oidc import streamlit_auth_secrets

    secrets = streamlit_auth_secrets()
    if secrets and not config.is_manually_set("server.cookieSecret"):
        config.set_option("server.cookieSecret", secrets["auth"]["cookie_secret"], "serve.py")
    return secrets


app = st.App("app.py", lifespan=_lifespan, routes=_routes(), secrets=_secrets())
