"""The HTTP API accepts OpenID Connect access tokens of a real provider (issue 15, point 1).

The provider is the test deployment of django-oauth-toolkit (``oidc_provider/``), started here
twice: issuing opaque access tokens (GridGov checks them by RFC 7662 introspection with its own
client's credentials at the endpoint ``GRIDGOV_OIDC_INTROSPECTION_URL`` names: this provider does
not list it in its discovery document) and issuing RS256 JWT access tokens (checked against the provider's keys).
A hotline system's client (``hotline``, resource-owner password grant, listed in
``GRIDGOV_OIDC_API_CLIENTS``) gets a token for a GridGov account and calls the API with it: the
call runs as that account (its row-level security, audited with ``auth: oidc``). Refused: a token
for an identity without a GridGov account, a token of a client GridGov does not accept, a token
of a disabled account, and garbage.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator

import httpx
import pytest
from harness import artifacts
from oidc_provider.run_op import Provider
from sqlalchemy import create_engine, text

from tests.db.api_server import serve
from testdb import demo_copy

pytestmark = [pytest.mark.e2e, pytest.mark.db]

PASSWORD = "provider-pw-" + secrets.token_hex(4)
WEB = {"client_id": "gridgov-web", "client_secret": "web-" + secrets.token_hex(8),
       "redirect_uris": ["http://127.0.0.1:9/oauth2callback"]}
HOTLINE = {"client_id": "hotline", "client_secret": "hotline-" + secrets.token_hex(8), "grant_type": "password"}
STRANGER = {"client_id": "stranger", "client_secret": "stranger-" + secrets.token_hex(8), "grant_type": "password"}


@pytest.fixture(scope="module", params=["opaque", "jwt"])
def api(request, throwaway_databases, demo_data, tmp_path_factory) -> Iterator[dict]:
    url = demo_copy(throwaway_databases, demo_data)
    users = [{"username": n, "password": PASSWORD} for n in ("worker-001", "worker-002", "mallory")]
    jwt = request.param == "jwt"
    with Provider(users=users, clients=[WEB, HOTLINE, STRANGER], jwt_access_tokens=jwt,
                  workdir=tmp_path_factory.mktemp(f"op-{request.param}"),
                  log_path=artifacts() / f"e2e-oidc-api-{request.param}.log") as op:
        env = {"GRIDGOV_OIDC_ISSUER": op.issuer, "GRIDGOV_OIDC_CLIENT_ID": WEB["client_id"],
               "GRIDGOV_OIDC_CLIENT_SECRET": WEB["client_secret"],
               "GRIDGOV_OIDC_REDIRECT_URI": WEB["redirect_uris"][0],
               "GRIDGOV_OIDC_COOKIE_SECRET": secrets.token_urlsafe(32),
               "GRIDGOV_OIDC_API_CLIENTS": HOTLINE["client_id"],
               # django-oauth-toolkit serves RFC 7662 introspection without listing it in its discovery
               "GRIDGOV_OIDC_INTROSPECTION_URL": f"{op.issuer}/introspect/"}
        with serve(url, extra_env=env) as server:
            owner = create_engine(server.owner_url)
            yield {"server": server, "op": op, "owner": owner, "kind": request.param}
            owner.dispose()


def access_token(op: Provider, client: dict, username: str) -> str:
    """An access token from the provider's token endpoint (resource-owner password grant)."""
    answer = httpx.post(f"{op.issuer}/token/", data={"grant_type": "password", "username": username,
                                                     "password": PASSWORD, "scope": "openid"},
                        auth=(client["client_id"], client["client_secret"]), timeout=30)
    assert answer.status_code == 200, answer.text
    return answer.json()["access_token"]


def test_an_access_token_calls_the_api_as_its_account(api) -> None:
    token = access_token(api["op"], HOTLINE, "worker-001")
    assert (token.count(".") == 2) == (api["kind"] == "jwt")
    with api["owner"].connect() as db:
        own = db.execute(text(
            "SELECT g.grid_code FROM account_grants g JOIN accounts a ON a.id = g.account_id "
            "WHERE a.name = 'worker-001' ORDER BY g.grid_code LIMIT 1")).scalar_one()
    with api["server"].client(token) as c:
        mine = c.get(f"/api/area/{own}")
        theirs = c.get("/api/open311/v2/requests.json")
    assert mine.status_code == 200 and mine.json()["codes"]["gridgov"] == own
    assert theirs.status_code == 200
    with api["owner"].connect() as db:
        visible = {str(r[0]) for r in db.execute(text(
            "SELECT id FROM incidents WHERE grid_code LIKE :p || '%'"), {"p": own})}
        calls = [r[0] for r in db.execute(text(
            "SELECT details FROM audit_log WHERE action = 'api_call' AND account_name = 'worker-001' "
            "AND details->>'path' = :p ORDER BY id"), {"p": f"/api/area/{own}"})]
    assert {r["service_request_id"] for r in theirs.json()} <= visible, "a worker's token saw another grid's incidents"
    assert calls and calls[-1]["auth"] == "oidc" and calls[-1]["status"] == 200


def test_tokens_gridgov_does_not_accept_are_refused(api) -> None:
    refused = {
        "no GridGov account": access_token(api["op"], HOTLINE, "mallory"),
        "another client's token": access_token(api["op"], STRANGER, "worker-002"),
        "garbage": "not-a-token-" + secrets.token_hex(8),
        "forged JWT": "eyJhbGciOiJub25lIn0." + "eyJwcmVmZXJyZWRfdXNlcm5hbWUiOiJhZG1pbiJ9" + ".",
    }
    for what, token in refused.items():
        with api["server"].client(token) as c:
            answer = c.get("/api/area/430603003001")
        assert answer.status_code == 401, f"{what}: {answer.status_code} {answer.text}"
        assert answer.json()["error"] == "unauthorized"


def test_a_disabled_account_loses_its_access_token(api) -> None:
    from tests.db._cli import run

    token = access_token(api["op"], HOTLINE, "worker-002")
    with api["server"].client(token) as c:
        assert c.get("/api/area/430603003001").status_code == 200
    code, out, err = run(["user", "disable", "worker-002"], env=api["server"].env)
    assert code == 0, err
    try:
        with api["server"].client(token) as c:
            answer = c.get("/api/area/430603003001")
        assert answer.status_code == 401, answer.text
    finally:
        code, out, err = run(["user", "enable", "worker-002"], env=api["server"].env)
        assert code == 0, err
