"""Start the test OpenID provider (django-oauth-toolkit) on 127.0.0.1 - as a library or a script.

As a library (what a pytest fixture does)::

    from run_op import Provider
    with Provider(port=0, users=[...], clients=[...], workdir=tmp_path) as op:
        op.issuer            # http://127.0.0.1:<port>/o
        op.metadata_url      # <issuer>/.well-known/openid-configuration
        op.started_in        # seconds from spawn to a served discovery document

As a script::

    python run_op.py --port 9000 --config op.json     # serves until killed

The provider is a child process: it migrates a fresh SQLite database in ``workdir``, loads the
users and clients of the JSON config, and serves Django (ASGI) with uvicorn. No network beyond
127.0.0.1 is touched; the RSA key that signs the ID tokens is generated at each start.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

HERE = Path(__file__).resolve().parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Provider:
    """A running test provider; a context manager that stops it on exit."""

    def __init__(
        self,
        *,
        users: list[dict],
        clients: list[dict],
        port: int = 0,
        workdir: str | os.PathLike | None = None,
        jwt_access_tokens: bool = False,
        extra_claims: dict[str, dict] | None = None,
        log_path: str | os.PathLike | None = None,
        timeout: float = 60.0,
    ) -> None:
        self.port = port or free_port()
        self.issuer = f"http://127.0.0.1:{self.port}/o"
        self.metadata_url = f"{self.issuer}/.well-known/openid-configuration"
        self._workdir = Path(workdir or tempfile.mkdtemp(prefix="op-"))
        self._workdir.mkdir(parents=True, exist_ok=True)
        self._config = {"users": users, "clients": clients}
        self._jwt = jwt_access_tokens
        self._extra_claims = extra_claims or {}
        self._log_path = Path(log_path) if log_path else self._workdir / "op.log"
        self._timeout = timeout
        self.proc: subprocess.Popen | None = None
        self.started_in: float | None = None

    def start(self) -> Provider:
        config_path = self._workdir / "op.json"
        config_path.write_text(json.dumps(self._config))
        db = self._workdir / "op.sqlite3"
        db.unlink(missing_ok=True)
        env = dict(os.environ, OP_DB=str(db), OP_ISSUER=self.issuer, OP_JWT_ACCESS_TOKENS="1" if self._jwt else "0",
                   OP_EXTRA_CLAIMS=json.dumps(self._extra_claims))
        log = open(self._log_path, "wb")  # noqa: SIM115 - kept open for the child's lifetime
        started = time.perf_counter()
        self.proc = subprocess.Popen(
            [sys.executable, str(HERE / "run_op.py"), "--port", str(self.port), "--config", str(config_path)],
            cwd=HERE,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        deadline = started + self._timeout
        while True:
            if self.proc.poll() is not None:
                raise RuntimeError(f"provider exited with {self.proc.returncode}; see {self._log_path}")
            try:
                with urllib.request.urlopen(self.metadata_url, timeout=2) as response:
                    if response.status == 200:
                        self.metadata = json.load(response)
                        break
            except OSError:
                pass
            if time.perf_counter() > deadline:
                self.stop()
                raise TimeoutError(f"provider not up in {self._timeout} s; see {self._log_path}")
            time.sleep(0.1)
        self.started_in = time.perf_counter() - started
        return self

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def __enter__(self) -> Provider:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


# --- the child process -------------------------------------------------------------------------


def _rsa_private_pem() -> str:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()


def _serve(port: int, config_path: str) -> None:
    t0 = time.perf_counter()
    os.environ.setdefault("OP_RSA_KEY", _rsa_private_pem())
    os.environ["DJANGO_SETTINGS_MODULE"] = "op.settings"
    sys.path.insert(0, str(HERE))
    import django

    django.setup()
    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from oauth2_provider.models import get_application_model

    call_command("migrate", verbosity=0, interactive=False)
    t1 = time.perf_counter()
    config = json.loads(Path(config_path).read_text())
    User = get_user_model()
    for user in config["users"]:
        User.objects.create_user(
            username=user["username"],
            password=user["password"],
            email=user.get("email", ""),
            first_name=user.get("first_name", ""),
            last_name=user.get("last_name", ""),
        )
    Application = get_application_model()
    for client in config["clients"]:
        Application.objects.create(
            name=client["client_id"],
            client_id=client["client_id"],
            client_secret=client["client_secret"],  # stored hashed by DOT
            client_type=Application.CLIENT_CONFIDENTIAL,
            authorization_grant_type=client.get("grant_type", Application.GRANT_AUTHORIZATION_CODE),
            redirect_uris=" ".join(client.get("redirect_uris", [])),
            post_logout_redirect_uris=" ".join(client.get("post_logout_redirect_uris", [])),
            algorithm=Application.RS256_ALGORITHM,
            skip_authorization=True,  # no consent page, as an intranet IdP is usually set up
        )
    t2 = time.perf_counter()
    print(f"op: migrate {t1 - t0:.2f} s, seed {t2 - t1:.2f} s; serving on 127.0.0.1:{port}", flush=True)

    import uvicorn
    from django.core.asgi import get_asgi_application

    uvicorn.run(get_asgi_application(), host="127.0.0.1", port=port, log_level="warning", lifespan="off")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--config", required=True, help="JSON with 'users' and 'clients'")
    args = parser.parse_args()
    _serve(args.port, args.config)
