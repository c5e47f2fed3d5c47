"""The login and logout routes: a plain HTML form (zh/en) served beside the Streamlit app.

``GET /login`` shows the form; ``POST /login`` checks the name and password
(:func:`services.auth.login`) and sets the session cookie — a random token, ``HttpOnly``,
``SameSite=Strict``, ``Secure`` when the request came over HTTPS — then sends the browser to the
app. ``GET /logout`` ends the session in the database and clears the cookie. The form carries a
per-visit anti-forgery token (double-submit cookie). Nothing of the app renders without a valid
session: the Streamlit script checks the cookie's session at every run (``app_pages.common``).
"""

from __future__ import annotations

import html
import secrets
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import Route

from i18n import translate

__all__ = ["SESSION_COOKIE", "routes", "login_page"]

#: The session cookie's name.
SESSION_COOKIE = "gridgov_session"
_CSRF_COOKIE = "gridgov_login_form"
_ENGINE: dict[str, Any] = {}


def _engine():  # noqa: ANN202 - sqlalchemy Engine
    if "app" not in _ENGINE:
        from store.engine import APP, make_engine

        _ENGINE["app"] = make_engine(role=APP, check=False)
    return _ENGINE["app"]


def _lang(request: Request) -> str:
    value = request.query_params.get("lang") or request.cookies.get("gridgov_lang") or ""
    if value in ("zh", "en"):
        return value
    from gis.settings import get_settings

    return get_settings().language


def _secure(request: Request) -> bool:
    """Whether the browser reached us over HTTPS: Streamlit's own TLS (``server.sslCertFile``) or a
    TLS-terminating proxy in front (``X-Forwarded-Proto: https``; the first value of a chain)."""
    forwarded = request.headers.get("x-forwarded-proto", "").split(",")[0].strip().lower()
    return request.url.scheme == "https" or forwarded == "https"


def _ended_message(request: Request, lang: str) -> str:
    """Why the app sent the browser here (``?ended=``: the session ended at its last request)."""
    from store.accounts import SESSION_END_REASONS

    reason = request.query_params.get("ended", "")
    return translate(f"session.ended.{reason}", lang) if reason in SESSION_END_REASONS else ""


def login_page(lang: str, *, message: str = "", name: str = "", csrf: str = "") -> str:
    """The login form as a complete HTML page (no external assets; works on a phone)."""
    t = lambda key, **kw: html.escape(translate(key, lang, **kw))  # noqa: E731
    other = "en" if lang == "zh" else "zh"
    alert = f'<p class="alert" role="alert">{html.escape(message)}</p>' if message else ""
    return f"""<!doctype html>
<html lang="{'zh-CN' if lang == 'zh' else 'en'}"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{t('login.title')}</title>
<style>
body {{ font-family: "Noto Sans CJK SC", "Noto Sans", sans-serif; background: #f4f6f8; margin: 0; }}
main {{ box-sizing: border-box; max-width: 360px; margin: 12vh auto; background: #fff; padding: 28px 24px;
        border-radius: 8px; box-shadow: 0 1px 4px rgba(0,0,0,.15); }}
@media (max-width: 400px) {{ main {{ margin: 6vh 12px; padding: 24px 18px; }} }}
h1 {{ font-size: 22px; margin: 0 0 4px; }} p.sub {{ color: #555; margin: 0 0 20px; }}
label {{ display: block; margin: 12px 0 4px; }}
input {{ width: 100%; box-sizing: border-box; min-height: 48px; font-size: 17px; padding: 10px; border: 1px solid #bbb;
         border-radius: 6px; }}
button {{ margin-top: 20px; width: 100%; min-height: 48px; font-size: 17px; border: 0; border-radius: 6px;
          background: #c0392b; color: #fff; }}
.alert {{ background: #fdecea; color: #8a1c12; padding: 10px; border-radius: 6px; }}
nav {{ margin-top: 16px; text-align: right; }} a {{ color: #1a5fb4; display: inline-block; min-height: 44px;
                                                      line-height: 44px; padding: 0 8px; }}
</style></head><body><main>
<h1>{t('app.title')}</h1><p class="sub">{t('login.title')}</p>
{alert}
<form method="post" action="/login?lang={lang}">
<input type="hidden" name="csrf" value="{html.escape(csrf)}">
<label for="name">{t('login.name')}</label>
<input id="name" name="name" autocomplete="username" autocapitalize="none" required value="{html.escape(name)}">
<label for="password">{t('login.password')}</label>
<input id="password" name="password" type="password" autocomplete="current-password" required>
<button type="submit">{t('login.submit')}</button>
</form>
<nav><a href="/login?lang={other}">{t('lang.' + other)}</a></nav>
</main></body></html>
"""


def _form(request: Request, lang: str, *, message: str = "", name: str = "", status: int = 200) -> Response:
    csrf = secrets.token_urlsafe(16)
    response = HTMLResponse(login_page(lang, message=message, name=name, csrf=csrf), status_code=status)
    response.set_cookie(_CSRF_COOKIE, csrf, httponly=True, samesite="strict", secure=_secure(request), path="/login")
    response.set_cookie("gridgov_lang", lang, samesite="strict", secure=_secure(request), path="/")
    response.headers["Cache-Control"] = "no-store"
    return response


def _sso_only() -> bool:
    from gis.settings import get_settings

    return get_settings().oidc_enabled


async def _get(request: Request) -> Response:
    from services.auth import actor_for_token

    if _sso_only():  # single sign-on replaces the password form: the app offers it
        return RedirectResponse("/", status_code=303)
    token = request.cookies.get(SESSION_COOKIE)
    if token and await run_in_threadpool(actor_for_token, _engine(), token) is not None:
        return RedirectResponse("/", status_code=303)  # logged in already (e.g. again, in another tab)
    lang = _lang(request)
    return _form(request, lang, message=_ended_message(request, lang))


async def _post(request: Request) -> Response:
    from services.auth import LoginRefused, login

    lang = _lang(request)
    if _sso_only():
        return HTMLResponse(login_page(lang, message=translate("login.sso_only", lang)), status_code=403)
    form = await request.form()
    name = str(form.get("name", ""))[:64]
    password = str(form.get("password", ""))[:256]
    if not form.get("csrf") or form.get("csrf") != request.cookies.get(_CSRF_COOKIE):
        return _form(request, lang, message=translate("login.expired", lang), name=name, status=400)
    try:
        result = await run_in_threadpool(login, _engine(), name, password)
    except LoginRefused as exc:
        if exc.reason == "locked" and exc.until is not None:
            from gis import clock

            from gis.settings import get_settings

            settings = get_settings()
            message = translate("login.locked", lang, attempts=settings.login_attempts,
                                minutes=settings.lockout_minutes,
                                until=exc.until.astimezone(clock.zone()).strftime("%H:%M"))
        else:
            message = translate(f"login.{exc.reason}", lang)
        return _form(request, lang, message=message, name=name, status=401)
    response = RedirectResponse("/", status_code=303)
    response.set_cookie(SESSION_COOKIE, result.token, httponly=True, samesite="strict", secure=_secure(request),
                        path="/")
    response.delete_cookie(_CSRF_COOKIE, path="/login")
    return response


async def _logout(request: Request) -> Response:
    from services.auth import logout

    token = request.cookies.get(SESSION_COOKIE)
    if token:
        await run_in_threadpool(logout, _engine(), token)
    response = RedirectResponse(f"/login?lang={_lang(request)}", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


def routes() -> list[Route]:
    """The routes to mount beside the app."""
    return [
        Route("/login", _get, methods=["GET"]),
        Route("/login", _post, methods=["POST"]),
        Route("/logout", _logout, methods=["GET"]),
    ]
