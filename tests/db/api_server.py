"""A real HTTP server of the API for the tests: uvicorn on 127.0.0.1 serving :func:`api.routes.routes`
(and the vector tiles of :func:`api.tiles.routes`) over a committed demo copy, and the tokens the tests call it with (made by ``gridgov token create``).

Not the Streamlit server: the routes are the same objects ``serve.py`` mounts beside the UI
(``tests/db/test_api.py`` checks that ``serve._routes()`` includes them), served by the same
ASGI server Streamlit uses, so GDAL and QGIS can connect over TCP.
"""

from __future__ import annotations

import json
import os
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import httpx

from tests.db._cli import run
from testdb import database_env


@dataclass
class ApiServer:
    url: str
    owner_url: str
    env: dict[str, str]

    def client(self, token: str | None = None, **headers: str) -> httpx.Client:
        all_headers = dict(headers)
        if token:
            all_headers["Authorization"] = f"Bearer {token}"
        return httpx.Client(base_url=self.url, headers=all_headers, timeout=60)


def create_token(env: dict[str, str], *args: str) -> dict:
    """``gridgov token create ARGS --json`` → its JSON (the token is shown once, here)."""
    code, out, err = run(["token", "create", *args, "--json"], env=env)
    assert code == 0, err
    return json.loads(out)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def serve(owner_url: str, extra_env: dict[str, str] | None = None) -> Iterator[ApiServer]:
    """Serve the API over ``owner_url``'s database until the block ends (with ``extra_env`` set,
    e.g. the ``GRIDGOV_OIDC_*`` settings of single sign-on)."""
    import uvicorn
    from starlette.applications import Starlette

    from api import runtime, tiles
    from api.routes import routes
    from gis.settings import get_settings

    # the tests' own tokens make hundreds of calls a second; rate limits are tested with --rate
    env = {**database_env(owner_url, actor=None), "GRIDGOV_API_RATE": "1000000", "GRIDGOV_API_BURST": "1000000",
           **(extra_env or {})}
    saved = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    get_settings.cache_clear()
    runtime.reset()
    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(Starlette(routes=[*routes(), *tiles.routes()]), host="127.0.0.1", port=port,
                                           log_level="warning", lifespan="off"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the API server did not start")
        time.sleep(0.05)
    try:
        yield ApiServer(f"http://127.0.0.1:{port}", owner_url, env)
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        runtime.reset()
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        get_settings.cache_clear()
