"""Single sign-on through an OpenID Connect provider (Keycloak, MaxKey …) with Streamlit's ``st.login``.

Login switches to the provider when ``GRIDGOV_OIDC_ISSUER`` is set. Streamlit's ``[auth]`` secrets are
built here from the ``GRIDGOV_OIDC_*`` settings and handed to ``st.App(secrets=...)``, so no secrets
file is kept in the checkout. The identity only names an account: the account must exist in GridGov,
whose role and grids apply (:func:`services.auth.login_oidc`); a token for an unknown account is
refused. The cookie secret is generated once into ``var/oidc-cookie-secret`` (mode 0600) unless
``GRIDGOV_OIDC_COOKIE_SECRET`` is given, so a restart keeps people logged in.
"""

from __future__ import annotations

import os
import secrets

from gis.errors import ConfigurationError
from gis.settings import Settings, get_settings

__all__ = ["streamlit_auth_secrets", "cookie_secret", "check_oidc_settings"]


def check_oidc_settings(settings: Settings) -> None:
    """Refuse an incomplete single sign-on configuration, naming what is missing."""
    missing = [name for name, value in (("GRIDGOV_OIDC_CLIENT_ID", settings.oidc_client_id),
                                        ("GRIDGOV_OIDC_CLIENT_SECRET", settings.oidc_client_secret)) if not value]
    if missing:
        raise ConfigurationError(f"GRIDGOV_OIDC_ISSUER is set but {', '.join(missing)} is not: single sign-on "
                                 "needs GridGov's client id and secret at the provider")


def cookie_secret(settings: Settings) -> str:
    """The secret that signs Streamlit's identity cookie (kept across restarts)."""
    if settings.oidc_cookie_secret:
        return settings.oidc_cookie_secret
    path = settings.data_dir / "oidc-cookie-secret"
    if path.is_file():
        return path.read_text().strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    value = secrets.token_urlsafe(32)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(value)
    return value


def streamlit_auth_secrets(settings: Settings | None = None) -> dict | None:
    """``{"auth": {...}}`` for ``st.App(secrets=...)``, or ``None`` when single sign-on is off."""
    settings = settings or get_settings()
    if not settings.oidc_enabled:
        return None
    check_oidc_settings(settings)
    redirect = settings.oidc_redirect_uri or f"http://localhost:{settings.app_port}/oauth2callback"
    return {
        "auth": {
            "redirect_uri": redirect,
            "cookie_secret": cookie_secret(settings),
            "client_id": settings.oidc_client_id,
            "client_secret": settings.oidc_client_secret,
            "server_metadata_url": f"{settings.oidc_issuer}/.well-known/openid-configuration",
            "client_kwargs": {"scope": "openid profile email"},
        }
    }
