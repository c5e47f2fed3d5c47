"""End-to-end single sign-on (issue 12, point 2): a real OpenID provider, GridGov with ``GRIDGOV_OIDC_*``,
headless Chromium.

The provider is django-oauth-toolkit (PyPI) in a minimal Django deployment (``oidc_provider/``:
its settings, Django's own login form, the claim mapping), started by the fixture on 127.0.0.1 —
discovery, authorization code with PKCE, RS256 ID tokens and RP-initiated logout are its own.
GridGov logs in through Streamlit's ``st.login`` (Authlib). The identity only names the account:
role and grids come from GridGov (the provider here also asserts ``role: admin`` and a street-wide
grid for the worker, which must change nothing), and an identity without a GridGov account is
refused.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator

import pytest
from harness import artifacts, free_port, offline_tab, running_app, settle
from oidc_provider.run_op import Provider
from sqlalchemy import create_engine, text
from test_auth_browser import LABELS, alert, click_refresh, gridgov, in_app

pytestmark = [pytest.mark.e2e, pytest.mark.db]

CLIENT = {"client_id": "gridgov-web", "client_secret": "gridgov-web-" + secrets.token_hex(8)}
PASSWORD = "provider-pw-" + secrets.token_hex(4)
#: What the provider asserts beyond the account name; GridGov must ignore it.
FORGED = {"role": "admin", "grids": ["430603003"], "groups": ["admin"]}


@pytest.fixture(scope="module")
def sso_db(throwaway_databases, database_url) -> Iterator[str]:
    yield throwaway_databases.copy(database_url)


@pytest.fixture(scope="module")
def sql(sso_db: str):
    engine = create_engine(sso_db)

    def run(query: str, **params):
        with engine.begin() as conn:
            result = conn.execute(text(query), params)
            return result.all() if result.returns_rows else []

    LABELS.update({name: label for name, label in run("SELECT name, coalesce(nullif(display_name, ''), name) "
                                                      "FROM accounts")})
    yield run
    engine.dispose()


@pytest.fixture(scope="module")
def sso(sso_db: str, sql, tmp_path_factory) -> Iterator[dict]:
    """The provider (users worker-006 and leader, known to GridGov, and mallory, who is not) and the app
    signed in through it."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    callback = f"{base}/oauth2callback"
    users = [{"username": name, "password": PASSWORD} for name in ("worker-006", "worker-007", "mallory")]
    clients = [dict(CLIENT, redirect_uris=[callback], post_logout_redirect_uris=[callback])]
    with Provider(users=users, clients=clients, workdir=tmp_path_factory.mktemp("oidc-provider"),
                  log_path=artifacts() / "e2e-oidc-provider.log",
                  extra_claims={"worker-006": FORGED, "mallory": FORGED}) as op:
        env = {
            "GRIDGOV_OIDC_ISSUER": op.issuer,
            "GRIDGOV_OIDC_CLIENT_ID": CLIENT["client_id"],
            "GRIDGOV_OIDC_CLIENT_SECRET": CLIENT["client_secret"],
            "GRIDGOV_OIDC_REDIRECT_URI": callback,
            "GRIDGOV_OIDC_COOKIE_SECRET": secrets.token_urlsafe(32),
        }
        with running_app(sso_db, log_name="e2e-oidc-streamlit.log", env=env, port=port) as url:
            assert url == base
            yield {"app": base, "op": op.issuer.rsplit("/o", 1)[0], "issuer": op.issuer}


def sign_in(page, sso: dict, name: str, password: str = PASSWORD) -> None:
    """As a person would: open GridGov, choose 统一身份认证登录, sign in on the provider's own form."""
    page.goto(sso["app"] + "/")
    settle(page)
    assert page.get_by_role("heading", name="请登录").is_visible()
    page.get_by_role("button", name="统一身份认证登录").click()
    page.wait_for_url(f"{sso['op']}/accounts/login/**", timeout=30_000)
    page.fill("#username", name)
    page.fill("#password", password)
    page.click("#kc-login")
    page.wait_for_url(f"{sso['app']}/**", timeout=30_000)
    settle(page)


def live_sessions(sql, name: str) -> int:
    return sql("SELECT count(*) FROM sessions s JOIN accounts a ON a.id = s.account_id "
               "WHERE a.name = :n AND s.revoked_at IS NULL AND s.expires_at > now()", n=name)[0][0]


def test_the_password_form_is_replaced_by_single_sign_on(sso: dict) -> None:
    import urllib.error
    import urllib.request

    with urllib.request.urlopen(sso["app"] + "/login") as response:  # GET /login: back to the app's sign-in
        assert response.url.rstrip("/") == sso["app"]
    request = urllib.request.Request(sso["app"] + "/login", data=b"name=worker-006&password=x", method="POST")
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(request)
    assert refused.value.code == 403


def test_sign_in_through_the_provider_role_and_grids_from_gridgov(browser, sso: dict, sql) -> None:
    with offline_tab(browser) as tab:
        page = tab.page
        sign_in(page, sso, "worker-006")
        assert in_app(page, "worker-006")
        sidebar = page.locator("[data-testid=stSidebar]").inner_text()
        assert "（网格员）" in sidebar or "网格员" in sidebar, sidebar
        for admin_only in ("审计与账号", "编辑网格边界", "变更历史"):
            assert admin_only not in sidebar, (admin_only, sidebar)
        page.screenshot(path=str(artifacts() / "oidc-signed-in.png"))
        assert live_sessions(sql, "worker-006") == 1
        (method,) = sql("SELECT details->>'method' FROM audit_log WHERE account_name = 'worker-006' "
                        "AND action = 'login' ORDER BY id DESC LIMIT 1")[0]
        assert method == "oidc"
        # the grids are GridGov's: the worker's one micro-grid, not the street the token names
        grants = {r[0] for r in sql("SELECT g.grid_code FROM account_grants g JOIN accounts a ON a.id = g.account_id "
                                    "WHERE a.name = 'worker-006'")}
        assert len(grants) == 1 and FORGED["grids"][0] not in grants
        (role,) = sql("SELECT role FROM accounts WHERE name = 'worker-006'")[0]
        assert role == "worker"
        # a second tab of the same browser: signed in by the identity cookie, the same GridGov session
        second = page.context.new_page()
        second.goto(sso["app"] + "/")
        settle(second)
        assert in_app(second, "worker-006")
        assert live_sessions(sql, "worker-006") == 1
        # logging out in the first ends the session in the second at its next request
        page.get_by_role("button", name="退出登录").click()
        page.wait_for_url(f"{sso['app']}/**", timeout=30_000)
        settle(page)
        page.get_by_role("heading", name="请登录").wait_for(timeout=30_000)
        assert live_sessions(sql, "worker-006") == 0
        click_refresh(second)
        settle(second)
        second.get_by_role("heading", name="请登录").wait_for(timeout=30_000)
        assert "您已退出登录" in alert(second)
        assert second.locator("iframe").count() == 0
        # nor the page list the tab showed before
        assert second.locator("[data-testid=stSidebarNav]").count() == 0
        second.screenshot(path=str(artifacts() / "oidc-ended-logout.png"))
        # the provider's session ended too: signing in again asks for the password
        page.get_by_role("button", name="统一身份认证登录").click()
        page.wait_for_url(f"{sso['op']}/accounts/login/**", timeout=30_000)
        assert not tab.external and not tab.dialogs


def test_an_identity_without_a_gridgov_account_is_refused(browser, sso: dict, sql) -> None:
    with offline_tab(browser) as tab:
        page = tab.page
        sign_in(page, sso, "mallory")
        page.get_by_role("heading", name="请登录").wait_for(timeout=30_000)
        assert "账号在本系统中不存在" in alert(page)
        assert page.locator("[data-testid=stSidebarNav]").count() == 0 and page.locator("iframe").count() == 0
        assert "当前账号" not in page.content()
        page.screenshot(path=str(artifacts() / "oidc-refused.png"))
        assert sql("SELECT count(*) FROM accounts WHERE name = 'mallory'")[0][0] == 0
        (unknown,) = sql("SELECT count(*) FROM audit_log WHERE action = 'login_failed' "
                         "AND details->>'unknown_name' = 'mallory'")[0]
        assert unknown >= 1
        assert not tab.external and not tab.dialogs


def test_user_disable_ends_a_single_sign_on_session(browser, sso: dict, sso_db: str, sql) -> None:
    with offline_tab(browser) as tab:
        page = tab.page
        sign_in(page, sso, "worker-007")
        assert in_app(page, "worker-007")
        gridgov(sso_db, "user", "disable", "worker-007")
        click_refresh(page)
        settle(page)
        page.get_by_role("heading", name="请登录").wait_for(timeout=30_000)
        assert "停用" in alert(page)
        assert page.locator("iframe").count() == 0 and page.locator("[data-testid=stSidebarNav]").count() == 0
        # signing in again at the provider does not bring the disabled account back
        page.get_by_role("button", name="统一身份认证登录").click()
        page.wait_for_url(f"{sso['app']}/**", timeout=30_000)
        settle(page)
        page.get_by_role("heading", name="请登录").wait_for(timeout=30_000)
        assert "停用" in alert(page)
        assert live_sessions(sql, "worker-007") == 0
        assert not tab.external and not tab.dialogs


def test_single_sign_on_on_a_phone(browser, sso: dict) -> None:
    """At 390×844 (touch) the sign-in page of single sign-on fits (nothing scrolls sideways, the button is at
    least 44 px high) and signing in through the provider lands in the app."""
    from harness import PHONE, phone_problems

    with offline_tab(browser, **PHONE) as tab:
        page = tab.page
        page.goto(sso["app"] + "/")
        settle(page)
        page.get_by_role("heading", name="请登录").wait_for(timeout=30_000)
        button = page.get_by_role("button", name="统一身份认证登录")
        assert button.bounding_box()["height"] >= 44
        page.screenshot(path=str(artifacts() / "phone-sso-prompt.png"), full_page=True)
        assert not phone_problems(page), phone_problems(page)
        button.tap()
        page.wait_for_url(f"{sso['op']}/accounts/login/**", timeout=30_000)
        page.fill("#username", "worker-006")
        page.fill("#password", PASSWORD)
        page.click("#kc-login")
        page.wait_for_url(f"{sso['app']}/**", timeout=30_000)
        settle(page)
        assert in_app(page, "worker-006")
        page.screenshot(path=str(artifacts() / "phone-sso-signed-in.png"))
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
        assert not tab.external and not tab.dialogs
