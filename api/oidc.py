"""Single sign-on through an OpenID Connect provider (Keycloak, MaxKey …) with Streamlit's ``st.login``.

Login switches to the provider when ``GRIDGOV_OIDC_ISSUER`` is set. Streamlit's ``[auth]`` secrets are
built here from the ``GRIDGOV_OIDC_*`` settings and handed to ``st.App(secrets=...)``, so no secrets
file is kept in the checkout. The identity only names an account: the account must exist in GridGov,
whose role and grids apply (:func:`services.auth.login_oidc`); a token for an unknown account is
refused. The cookie secret is generated once into ``var/oidc-cookie-secret`` (mode 0600) unless
``GRIDGOV_OIDC_COOKIE_SECRET`` is given, so a restart keeps people logged in.

The HTTP API accepts the provider's access tokens too (:class:`AccessTokenValidator`).
"""

from __future__ import annotations

import datetime as dt
import os
import secrets

from gis.errors import ConfigurationError
from gis.settings import Settings, get_settings

__all__ = ["streamlit_auth_secrets", "cookie_secret", "check_oidc_settings", "AccessTokenValidator", "InvalidAccessToken"]


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


class InvalidAccessToken(Exception):
    """An OpenID Connect access token the API does not accept (the reason is for the log only)."""


class AccessTokenValidator:
    """Checks OpenID Connect access tokens for the HTTP API and names the GridGov account.

    * A JWT access token (Keycloak, MaxKey … issue these): its signature is checked with the
      provider's keys (``jwks_uri`` of the discovery document; fetched once and again for an
      unknown key), asymmetric algorithms only; then ``iss``, ``exp`` and that it was issued to
      GridGov's client or one of ``GRIDGOV_OIDC_API_CLIENTS`` (``azp``, else ``aud``). ID tokens
      are refused.
    * An opaque token: RFC 7662 introspection with GridGov's client credentials when the provider
      advertises ``introspection_endpoint`` (or ``GRIDGOV_OIDC_INTROSPECTION_URL`` names it):
      ``active`` and an accepted ``client_id`` are required.

    :meth:`account` returns the account name (the ``GRIDGOV_OIDC_ACCOUNT_CLAIM`` claim) and when the
    token expires. Whether that account exists, its role and grids are GridGov's business.
    """

    def __init__(self, settings: Settings) -> None:
        import httpx

        self.issuer = settings.oidc_issuer or ""
        self.client_id = settings.oidc_client_id or ""
        self.client_secret = settings.oidc_client_secret
        self.claim = settings.oidc_account_claim
        self.accepted = {self.client_id, *settings.oidc_api_clients}
        self.introspection_url = settings.oidc_introspection_url
        self._http = httpx.Client(timeout=10)
        self._metadata: dict | None = None
        self._keys = None

    def _meta(self) -> dict:
        if self._metadata is None:
            response = self._http.get(f"{self.issuer}/.well-known/openid-configuration")
            response.raise_for_status()
            self._metadata = response.json()
        return self._metadata

    def _keyset(self, refresh: bool = False):  # noqa: ANN202 - joserfc KeySet
        from joserfc.jwk import KeySet

        if self._keys is None or refresh:
            response = self._http.get(self._meta()["jwks_uri"])
            response.raise_for_status()
            self._keys = KeySet.import_key_set(response.json())
        return self._keys

    def _name(self, claims: dict) -> str:
        name = claims.get(self.claim) or claims.get("username")
        if not isinstance(name, str) or not name.strip():
            raise InvalidAccessToken(f"the token has no {self.claim!r} claim")
        return name.strip()

    def _jwt(self, token: str) -> tuple[str, dt.datetime]:
        from joserfc import jwt
        from joserfc.errors import JoseError
        from joserfc.jwt import JWTClaimsRegistry

        meta = self._meta()
        algorithms = [a for a in (meta.get("id_token_signing_alg_values_supported") or ["RS256"])
                      if a != "none" and not a.startswith("HS")] or ["RS256"]
        try:
            try:
                decoded = jwt.decode(token, self._keyset(), algorithms=algorithms)
            except JoseError:  # a rotated key: fetch the key set once more
                decoded = jwt.decode(token, self._keyset(refresh=True), algorithms=algorithms)
            JWTClaimsRegistry(iss={"essential": True, "value": meta["issuer"]}, exp={"essential": True}).validate(
                decoded.claims)
        except (JoseError, ValueError) as exc:
            raise InvalidAccessToken(f"JWT refused: {exc}") from None
        claims = decoded.claims
        if claims.get("typ") == "ID" or "nonce" in claims or "at_hash" in claims:
            raise InvalidAccessToken("an ID token is not an access token")
        aud = claims.get("aud")
        audiences = set(aud if isinstance(aud, list) else [aud] if aud else [])
        azp = claims.get("azp")
        if (azp not in self.accepted) if azp else not (audiences & self.accepted):
            raise InvalidAccessToken("the token was issued to another client")
        return self._name(claims), dt.datetime.fromtimestamp(int(claims["exp"]), dt.UTC)

    def _introspect(self, token: str) -> tuple[str, dt.datetime]:
        endpoint = self._meta().get("introspection_endpoint") or self.introspection_url
        if not endpoint or not self.client_secret:
            raise InvalidAccessToken("an opaque token and no introspection endpoint to check it")
        response = self._http.post(endpoint, data={"token": token}, auth=(self.client_id, self.client_secret))
        if response.status_code != 200:
            raise InvalidAccessToken(f"introspection answered {response.status_code}")
        data = response.json()
        if not data.get("active") or data.get("client_id") not in self.accepted:
            raise InvalidAccessToken("the token is not active or was issued to another client")
        exp = data.get("exp")
        expires = (dt.datetime.fromtimestamp(int(exp), dt.UTC) if exp
                   else dt.datetime.now(dt.UTC) + dt.timedelta(minutes=5))
        return self._name(data), expires

    def account(self, token: str) -> tuple[str, dt.datetime]:
        """(account name, expiry) of an access token; raises :class:`InvalidAccessToken`."""
        try:
            return self._jwt(token) if token.count(".") == 2 else self._introspect(token)
        except InvalidAccessToken:
            raise
        except Exception as exc:  # the provider unreachable, a malformed answer
            raise InvalidAccessToken(f"cannot check the token with {self.issuer}: {exc}") from None
