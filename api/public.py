"""The public, login-free pages under ``/public/``: server-rendered HTML, no JavaScript, phone first.

* ``/public/evaluate`` — the resident evaluation (民主测评): type a one-time code or follow the
  slip's QR link (``?round=N&code=XXXX-…``), answer the round's questions, submit once
  (:func:`services.evaluation.find_code`, :func:`services.evaluation.submit_response`). Only a POST
  submits; a used, expired, not yet open or unknown code gets its sentence of the catalogue
  (``eval.error.<reason>``).
* ``/public/status`` (``?ref=`` or ``/public/status/{reference}``) — an incident's public step,
  disposition and reply (:func:`services.public.incident_status`: no personal data).
* ``/public/grid/{code}`` — the grid's public contact card (公示卡) with its current notices
  (:func:`services.public.contact_card`).

Every request runs on the application role with **no account** (the services bind nobody: row-
level security shows nothing) and reads only through the SECURITY DEFINER functions of migration
0003. Requests that reach the database are counted per client address
(:func:`api.runtime.public_limiter`, :func:`governance.ratelimit.address_key`; a code or reference
that is not found costs three): beyond ``GRIDGOV_PUBLIC_RATE`` / ``GRIDGOV_PUBLIC_BURST`` the page
answers 429 in words with ``Retry-After``. Behind a reverse proxy, let the server take the client
address from ``X-Forwarded-For`` (uvicorn's ``--forwarded-allow-ips``), or every resident shares
the proxy's bucket. Nothing here logs a code, a reference or an address; the pages are
``no-store``, send no referrer and allow no script (``Content-Security-Policy``).

A submission is audited by the database (the audit trigger of ``evaluation_responses``: the
response's id, no account, no code); the code's flip to used is not (an audit row's time would
pair the code with the response; see migration 0003). Words come from :mod:`i18n.catalogue` in
the language of ``?lang=`` or ``Accept-Language`` (Chinese by default), and every value shown is
escaped.
"""

from __future__ import annotations

import datetime as dt
import html
import logging
import math
from collections.abc import Callable, Mapping
from pathlib import Path
from urllib.parse import parse_qs, urlencode

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Mount, Route, Router

from api import runtime
from api.errors import language
from governance.ratelimit import address_key
from i18n import LANGUAGES, label, translate
from services.public import PUBLIC_PREFIX as PREFIX

__all__ = ["routes", "PREFIX", "CSS_PATH"]

logger = logging.getLogger(__name__)

CSS_PATH = Path(__file__).resolve().parents[1] / "static" / "public.css"
#: Largest form body accepted (bytes): the answers and a 500-character comment fit many times.
MAX_FORM_BYTES = 16_384
#: Extra tokens a code or reference that is not found (or mistyped) costs: guessing is slowed.
MISS_COST = 2.0
_SCORED = ("service", "responsiveness", "resolution")
_HEADERS = {
    "Cache-Control": "no-store",
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
    "X-Robots-Tag": "noindex",
    "Content-Security-Policy": "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; "
                               "base-uri 'none'; frame-ancestors 'none'",
}


# -- the page frame -----------------------------------------------------------------------------------


def _lang(request: Request) -> str:
    """``?lang=`` when it names a language, else ``Accept-Language`` (Chinese unless English is preferred)."""
    asked = request.query_params.get("lang", "")
    if asked in LANGUAGES:
        return asked
    if request.headers.get("accept-language"):
        return language(request)
    from gis.settings import get_settings

    return get_settings().language


def _words(lang: str) -> Callable[..., str]:
    """``t(key, **params)``: the catalogue's text, escaped for HTML."""
    return lambda key, **kw: html.escape(translate(key, lang, **kw))


def _e(value: object) -> str:
    return html.escape("" if value is None else str(value))


def _href(path: str, params: Mapping[str, object]) -> str:
    kept = {k: str(v) for k, v in params.items() if v not in (None, "")}
    return html.escape(path + ("?" + urlencode(kept) if kept else ""))


def _page(request: Request, lang: str, title: str, body: str, *, status: int = 200,
          switch: Mapping[str, object] | None = None, headers: Mapping[str, str] | None = None) -> HTMLResponse:
    """A complete page: the header (site, language switch), ``body`` (already escaped HTML), the footer.

    ``switch``: the query of the language switch's link (default: this request's query).
    """
    t = _words(lang)
    other = "en" if lang == "zh" else "zh"
    query = dict(request.query_params if switch is None else switch)
    query["lang"] = other
    document = f"""<!doctype html>
<html lang="{'zh-CN' if lang == 'zh' else 'en'}"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>{html.escape(title)} · {t('public.site')}</title>
<link rel="stylesheet" href="{PREFIX}/style.css">
</head><body>
<header class="top"><span class="site">{t('public.site')}</span>
<a href="{_href(request.url.path, query)}" hreflang="{other}" lang="{'zh-CN' if other == 'zh' else 'en'}">{t('lang.' + other)}</a></header>
<main>
{body}
</main>
<footer>{t('public.no_login')}</footer>
</body></html>
"""
    return HTMLResponse(document, status_code=status, headers={**_HEADERS, **dict(headers or {})})


def _message(request: Request, lang: str, text: str, *, status: int, title: str | None = None,
             extra: str = "", headers: Mapping[str, str] | None = None,
             switch: Mapping[str, object] | None = None) -> HTMLResponse:
    heading = title or translate("public.error.title", lang)
    body = (f'<section class="card"><h1>{html.escape(heading)}</h1>'
            f'<p class="alert" role="alert">{html.escape(text)}</p>{extra}</section>')
    return _page(request, lang, heading, body, status=status, headers=headers, switch=switch)


# -- rate limit and failures -----------------------------------------------------------------------------


def _client_key(request: Request) -> str:
    return address_key(request.client.host if request.client else None)


def _limited(request: Request, lang: str) -> Response | None:
    """``None`` when this address may make the request (one token taken), else the 429 page."""
    limiter = runtime.public_limiter()
    key = _client_key(request)
    if limiter.allow(key):
        return None
    seconds = max(1, math.ceil(limiter.retry_after(key)))
    return _message(request, lang, translate("code.error.rate_limited", lang, minutes=max(1, math.ceil(seconds / 60))),
                    status=429, headers={"Retry-After": str(seconds)}, switch={})


def _charge_miss(request: Request) -> None:
    """A code or reference that was mistyped or not found: it costs more (guessing is slowed)."""
    runtime.public_limiter().allow(_client_key(request), cost=MISS_COST)


def _failure(request: Request, lang: str, exc: BaseException) -> HTMLResponse:
    """An unexpected failure (the database down …) in words; only the error's type is logged."""
    from gis.errors import DatabaseUnavailableError
    from store.session import database_error

    mapped = exc if isinstance(exc, DatabaseUnavailableError) else database_error(exc)
    if isinstance(mapped, DatabaseUnavailableError):
        logger.warning("public page %s: database unavailable", (request.url.path.split("/") + ["", "", ""])[2])
        return _message(request, lang, translate("public.error.unavailable", lang), status=503, switch={})
    logger.error("public page failed with %s", type(exc).__name__)
    return _message(request, lang, translate("error.failed", lang), status=500, switch={})


async def _form(request: Request) -> dict[str, str] | None:
    """The urlencoded form of a POST (first value of each field), ``None`` when it is too large."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > MAX_FORM_BYTES:
        return None
    body = b""
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_FORM_BYTES:
            return None
    fields = parse_qs(body.decode("utf-8", errors="replace"), keep_blank_values=True)
    return {k: v[0] for k, v in fields.items()}


def _method_not_allowed(request: Request, allowed: str) -> HTMLResponse:
    lang = _lang(request)
    return _message(request, lang, translate("public.error.method", lang), status=405, headers={"Allow": allowed},
                    switch={})


# -- the evaluation ----------------------------------------------------------------------------------------

_CODE_STATUS = {"malformed": 400, "unknown": 404, "used": 409, "not_open": 403, "expired": 410}


def _round_param(value: str | None) -> int | None | bool:
    """The ``round`` of the QR link: an id, ``None`` (not given) or ``False`` (not a round number)."""
    text = (value or "").strip()
    if not text:
        return None
    return int(text) if text.isdigit() and len(text) < 19 else False


def _code_form(lang: str, *, round_id: int | None = None, code: str = "") -> str:
    t = _words(lang)
    hidden = f'<input type="hidden" name="round" value="{round_id}">' if round_id else ""
    return f"""<form method="get" action="{PREFIX}/evaluate">
<input type="hidden" name="lang" value="{lang}">{hidden}
<label class="field" for="code">{t('eval.code_label')}</label>
<input type="text" id="code" name="code" class="code" required autocomplete="off" autocapitalize="characters"
 spellcheck="false" inputmode="text" maxlength="40" value="{_e(code)}">
<p class="muted">{t('public.eval.code_hint')}</p>
<button type="submit">{t('public.eval.start')}</button>
</form>"""


def _question_form(lang: str, round_, code: str, *, chosen: Mapping[str, str] | None = None,
                   problems: Mapping[str, str] | None = None) -> str:
    """The round's questions as one form (radio buttons and a text area), ``chosen`` pre-selected."""
    from governance.evaluation import COMMENT_MAX_CHARS

    t = _words(lang)
    chosen = chosen or {}
    problems = problems or {}
    parts: list[str] = []
    for question in round_.questions:
        note = f'<p class="alert" role="alert">{html.escape(problems[question])}</p>' if question in problems else ""
        if question in _SCORED:
            options = "".join(
                f'<label class="choice"><input type="radio" name="{question}" value="{v}"'
                f'{" checked" if chosen.get(question) == str(v) else ""}><span>{t(f"eval.scale.{v}")}</span></label>'
                for v in (5, 4, 3, 2, 1)
            )
            options += (f'<label class="choice skip"><input type="radio" name="{question}" value=""'
                        f'{" checked" if chosen.get(question, "") == "" and question in chosen else ""}>'
                        f'<span>{t("eval.skip")}</span></label>')
            parts.append(f'<fieldset><legend>{t(f"eval.q.{question}")}</legend>{note}'
                         f'<div class="choices">{options}</div></fieldset>')
        elif question == "knows_worker":
            options = "".join(
                f'<label class="choice"><input type="radio" name="knows_worker" value="{v}"'
                f'{" checked" if chosen.get("knows_worker") == v else ""}><span>{t(f"eval.{v}")}</span></label>'
                for v in ("yes", "no")
            )
            parts.append(f'<fieldset><legend>{t("eval.q.knows_worker")}</legend>{note}'
                         f'<div class="choices">{options}</div></fieldset>')
        elif question == "comment":
            parts.append(f'<fieldset><legend><label for="comment">{t("eval.q.comment")}</label></legend>{note}'
                         f'<textarea id="comment" name="comment" maxlength="{COMMENT_MAX_CHARS}">'
                         f'{_e(chosen.get("comment", ""))}</textarea>'
                         f'<p class="muted">{t("public.eval.comment_limit", n=COMMENT_MAX_CHARS)}</p></fieldset>')
    return f"""<form method="post" action="{PREFIX}/evaluate?lang={lang}">
<input type="hidden" name="round" value="{int(round_.id)}">
<input type="hidden" name="code" value="{_e(code)}">
{''.join(parts)}
<button type="submit">{t('eval.submit')}</button>
</form>"""


def _questions_page(request: Request, lang: str, round_, code: str, *, status: int = 200,
                    chosen: Mapping[str, str] | None = None, problems: Mapping[str, str] | None = None,
                    alert: str = "") -> HTMLResponse:
    from governance.codes import format_code

    t = _words(lang)
    shown = format_code(code)
    banner = f'<p class="alert" role="alert">{html.escape(alert)}</p>' if alert else ""
    body = (f'<section class="card"><h1>{t("eval.title")}</h1>'
            f'<p>{t("public.eval.round", title=round_.title)}</p>'
            f'<p class="muted">{t("eval.intro")}</p></section>'
            f'<section class="card">{banner}{_question_form(lang, round_, shown, chosen=chosen, problems=problems)}</section>')
    return _page(request, lang, translate("eval.title", lang), body, status=status,
                 switch={"round": round_.id, "code": shown})


def _code_error_page(request: Request, lang: str, exc, *, round_id: int | None, code: str) -> HTMLResponse:
    t = _words(lang)
    reason = getattr(exc, "reason", "unknown")
    retry = reason in ("malformed", "unknown")
    if retry:
        _charge_miss(request)
    extra = _code_form(lang, round_id=round_id, code=code if retry else "") if retry else ""
    body = (f'<section class="card"><h1>{t("eval.title")}</h1>'
            f'<p class="alert" role="alert">{t(exc.i18n_key)}</p>{extra}</section>')
    return _page(request, lang, translate("eval.title", lang), body, status=_CODE_STATUS.get(reason, 400), switch={})


def _answers(fields: Mapping[str, str]):  # noqa: ANN202 - governance.evaluation.Answers
    """The form's answers; a value that is not one of the options is passed on as out of the scale
    (0), so the one validation (:func:`governance.evaluation.validate_answers`) refuses it."""
    from governance.evaluation import Answers

    def score(name: str) -> int | None:
        value = fields.get(name, "").strip()
        if not value:
            return None
        return int(value) if value.isdigit() and len(value) == 1 else 0

    knows = {"yes": True, "no": False}.get(fields.get("knows_worker", "").strip())
    return Answers(service=score("service"), responsiveness=score("responsiveness"), resolution=score("resolution"),
                   knows_worker=knows, comment=fields.get("comment", ""))


def _problem_words(lang: str, findings: list[dict[str, str]]) -> tuple[dict[str, str], str]:
    """Per question the sentence of its problem, and the banner above the form."""
    from governance.evaluation import COMMENT_MAX_CHARS

    per: dict[str, str] = {}
    banner = translate("eval.error.answers", lang)
    for finding in findings:
        problem, question = finding.get("problem", ""), finding.get("question", "")
        if problem == "empty":
            banner = translate("public.eval.problem.empty", lang)
        elif problem == "too_long":
            per[question] = translate("public.eval.problem.too_long", lang, n=COMMENT_MAX_CHARS)
        elif question:
            per[question] = translate("public.eval.problem.choice", lang)
    return per, banner


async def _evaluate(request: Request) -> Response:
    if request.method in ("GET", "HEAD"):
        return await _evaluate_get(request)
    if request.method == "POST":
        return await _evaluate_post(request)
    return _method_not_allowed(request, "GET, POST")


async def _evaluate_get(request: Request) -> Response:
    from governance.evaluation import EvaluationCodeError
    from services.evaluation import find_code

    lang = _lang(request)
    t = _words(lang)
    round_id = _round_param(request.query_params.get("round"))
    code = request.query_params.get("code", "").strip()
    if not code:
        body = (f'<section class="card"><h1>{t("eval.title")}</h1><p class="muted">{t("eval.intro")}</p>'
                f'{_code_form(lang, round_id=round_id or None)}</section>')
        return _page(request, lang, translate("eval.title", lang), body)
    refused = _limited(request, lang)
    if refused is not None:
        return refused
    try:
        if round_id is False:
            raise EvaluationCodeError("unknown", "the round of the link is not a round number")
        round_, canonical = await run_in_threadpool(find_code, runtime.engine(), code, round_id=round_id)
    except EvaluationCodeError as exc:
        return _code_error_page(request, lang, exc, round_id=round_id or None, code=code)
    except Exception as exc:  # noqa: BLE001 - the database down: a page in words, never a traceback
        return _failure(request, lang, exc)
    return _questions_page(request, lang, round_, canonical)


async def _evaluate_post(request: Request) -> Response:
    from governance.evaluation import EvaluationAnswerError, EvaluationCodeError
    from services.evaluation import find_code, submit_response

    lang = _lang(request)
    fields = await _form(request)
    if fields is None:
        return _message(request, lang, translate("eval.error.answers", lang), status=413, switch={})
    refused = _limited(request, lang)
    if refused is not None:
        return refused
    round_id = _round_param(fields.get("round"))
    code = fields.get("code", "").strip()
    try:
        if round_id is False:
            raise EvaluationCodeError("unknown", "the round of the form is not a round number")
        await run_in_threadpool(submit_response, runtime.engine(), code, _answers(fields), round_id=round_id)
    except EvaluationCodeError as exc:
        return _code_error_page(request, lang, exc, round_id=round_id or None, code=code)
    except EvaluationAnswerError as exc:
        try:
            round_, canonical = await run_in_threadpool(find_code, runtime.engine(), code, round_id=round_id)
        except EvaluationCodeError as again:
            return _code_error_page(request, lang, again, round_id=round_id or None, code=code)
        except Exception as failure:  # noqa: BLE001
            return _failure(request, lang, failure)
        per, banner = _problem_words(lang, list(exc.findings or []))
        return _questions_page(request, lang, round_, canonical, status=422, chosen=fields, problems=per, alert=banner)
    except Exception as exc:  # noqa: BLE001
        return _failure(request, lang, exc)
    return RedirectResponse(f"{PREFIX}/evaluate/done?lang={lang}", status_code=303, headers=_HEADERS)


async def _evaluate_done(request: Request) -> Response:
    if request.method not in ("GET", "HEAD"):
        return _method_not_allowed(request, "GET")
    lang = _lang(request)
    t = _words(lang)
    body = (f'<section class="card"><h1>{t("eval.title")}</h1>'
            f'<p class="ok" role="status">{t("eval.thanks")}</p><p>{t("public.eval.thanks_note")}</p>'
            f'<a class="button secondary" href="{PREFIX}/evaluate?lang={lang}">{t("public.eval.other_code")}</a></section>')
    return _page(request, lang, translate("eval.thanks", lang), body)


# -- an incident's status ---------------------------------------------------------------------------------


def _status_form(lang: str, reference: str = "") -> str:
    t = _words(lang)
    return f"""<form method="get" action="{PREFIX}/status">
<input type="hidden" name="lang" value="{lang}">
<label class="field" for="ref">{t('public.status.code_label')}</label>
<input type="text" id="ref" name="ref" class="code" required autocomplete="off" autocapitalize="characters"
 spellcheck="false" maxlength="30" value="{_e(reference)}">
<p class="muted">{t('public.status.hint')}</p>
<button type="submit">{t('public.status.submit')}</button>
</form>"""


def _status_view(lang: str, status) -> str:  # noqa: ANN001 - governance.feedback.PublicIncidentStatus
    from governance.feedback import PATH

    t = _words(lang)
    path = ("received", "rejected") if status.step == "rejected" else PATH
    current = ' aria-current="step"'
    steps = "".join(
        f'<li class="{"current" if s == status.step else "done" if s in status.steps_done else "todo"}"'
        f'{current if s == status.step else ""}>{_e(label("public_step", s, lang))}</li>'
        for s in path
    )
    facts = [("public.status.category", label("category", status.category, lang) if status.category else ""),
             ("public.status.step", label("public_step", status.step, lang))]
    if status.disposition:
        facts.append(("public.status.disposition", label("disposition", status.disposition, lang)))
    for key, day in (("reported_on", status.reported_on), ("due_on", status.due_on),
                     ("closed_on", status.closed_on), ("updated_on", status.updated_on)):
        if day is not None:
            facts.append((f"public.status.{key}", day.isoformat()))
    rows = "".join(f"<dt>{t(k)}</dt><dd>{_e(v)}</dd>" for k, v in facts if v)
    reply = (f'<div class="reply">{_e(status.reply)}</div>' if status.reply
             else f'<p class="muted">{t("public.status.no_reply")}</p>')
    return (f'<section class="card"><h1>{t("public.status.title")}</h1>'
            f'<p>{t("feedback.reference", reference=status.reference)}</p><dl class="facts">{rows}</dl></section>'
            f'<section class="card"><h2>{t("public.status.steps")}</h2><ol class="steps">{steps}</ol></section>'
            f'<section class="card"><h2>{t("public.status.reply")}</h2>{reply}</section>'
            f'<a class="button secondary" href="{PREFIX}/status?lang={lang}">{t("public.status.another")}</a>')


async def _status(request: Request) -> Response:
    from governance.feedback import ReferenceCodeError
    from services.public import incident_status

    if request.method not in ("GET", "HEAD"):
        return _method_not_allowed(request, "GET")
    lang = _lang(request)
    t = _words(lang)
    reference = (request.path_params.get("reference") or request.query_params.get("ref", "")).strip()
    if not reference:
        body = f'<section class="card"><h1>{t("public.status.title")}</h1>{_status_form(lang)}</section>'
        return _page(request, lang, translate("public.status.title", lang), body)
    refused = _limited(request, lang)
    if refused is not None:
        return refused
    try:
        status = await run_in_threadpool(incident_status, runtime.engine(), reference)
    except ReferenceCodeError as exc:
        _charge_miss(request)
        body = (f'<section class="card"><h1>{t("public.status.title")}</h1>'
                f'<p class="alert" role="alert">{t(exc.i18n_key)}</p>{_status_form(lang, reference)}</section>')
        return _page(request, lang, translate("public.status.title", lang), body,
                     status=400 if exc.reason == "malformed" else 404, switch={})
    except Exception as exc:  # noqa: BLE001
        return _failure(request, lang, exc)
    return _page(request, lang, translate("public.status.title", lang), _status_view(lang, status))


# -- a grid's public contact card -------------------------------------------------------------------------


def _card_view(lang: str, card) -> str:  # noqa: ANN001 - services.public.PublicCard
    from gis import clock

    t = _words(lang)
    path = " › ".join(_e(name) for _code, name in card.parents if name)
    people = "".join(
        f'<li><div class="role">{_e(e.role_label)}'
        f'{" · " + _e(e.grid_name) if e.grid_code != card.code and e.grid_name else ""}'
        f'{" · " + t("public.card.building", building=e.building_no) if e.building_no else ""}</div>'
        f'<div class="name">{_e(e.name)}</div>'
        + (f'<a class="tel" href="tel:{_e("".join(ch for ch in e.phone if ch.isdigit() or ch == "+"))}">{_e(e.phone)}</a>'
           if e.phone else "")
        + "</li>"
        for e in card.contacts
    )
    contacts = f'<ul class="contacts">{people}</ul>' if people else f'<p class="muted">{t("public.card.no_contacts")}</p>'
    items = []
    for notice in card.notices:
        until = clock.local_date(notice.valid_to - dt.timedelta(microseconds=1)) if notice.valid_to else None  # exclusive end
        files = ", ".join(a.name for a in notice.attachments if a.name)
        items.append(
            f'<li><div><span class="kind">{_e(label("notice_kind", notice.kind, lang))}</span>'
            f'<strong>{_e(notice.title)}</strong></div><div class="notice-body">{_e(notice.body)}</div>'
            + (f'<div class="muted">{t("public.card.attachments", names=files)}</div>' if files else "")
            + (f'<div class="muted">{t("public.card.valid_to", day=until.isoformat())}</div>' if until else "")
            + "</li>")
    notices = f'<ul class="notices">{"".join(items)}</ul>' if items else f'<p class="muted">{t("public.card.no_notices")}</p>'
    return (f'<section class="card"><h1>{t("public.card.title")}</h1>'
            f'<p><strong>{_e(card.name)}</strong></p>'
            + (f'<p class="muted">{path}</p>' if path else "")
            + f'<p class="muted">{t("public.card.code", code=card.code)}</p></section>'
            f'<section class="card"><h2>{t("public.card.contacts")}</h2>{contacts}</section>'
            f'<section class="card"><h2>{t("public.card.notices")}</h2>{notices}</section>'
            f'<a class="button" href="{PREFIX}/evaluate?lang={lang}">{t("public.card.evaluate")}</a>'
            f'<a class="button secondary" href="{PREFIX}/status?lang={lang}">{t("public.card.status")}</a>')


async def _grid(request: Request) -> Response:
    from boundaries.coding import InvalidGridCodeError
    from gis.errors import NotFoundError
    from services.public import contact_card

    if request.method not in ("GET", "HEAD"):
        return _method_not_allowed(request, "GET")
    lang = _lang(request)
    code = request.path_params["code"].strip()
    refused = _limited(request, lang)
    if refused is not None:
        return refused
    try:
        card = await run_in_threadpool(contact_card, runtime.engine(), code, language=lang)
    except (InvalidGridCodeError, NotFoundError):
        return _message(request, lang, translate("public.error.grid_not_found", lang, code=code[:40]), status=404)
    except Exception as exc:  # noqa: BLE001
        return _failure(request, lang, exc)
    return _page(request, lang, f"{translate('public.card.title', lang)} · {card.name}", _card_view(lang, card))


# -- the rest ---------------------------------------------------------------------------------------------


async def _index(request: Request) -> Response:
    if request.method not in ("GET", "HEAD"):
        return _method_not_allowed(request, "GET")
    lang = _lang(request)
    t = _words(lang)
    body = (f'<section class="card"><h1>{t("public.site")}</h1>'
            f'<a class="button" href="{PREFIX}/evaluate?lang={lang}">{t("public.card.evaluate")}</a>'
            f'<a class="button secondary" href="{PREFIX}/status?lang={lang}">{t("public.card.status")}</a></section>')
    return _page(request, lang, translate("public.card.title", lang), body)


_CSS: dict[str, bytes] = {}
_EVERY_METHOD = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")


async def _css(request: Request) -> Response:
    if "css" not in _CSS:
        _CSS["css"] = CSS_PATH.read_bytes()
    return Response(_CSS["css"], media_type="text/css; charset=utf-8",
                    headers={"Cache-Control": "public, max-age=3600", "X-Content-Type-Options": "nosniff"})


async def _not_found(scope, receive, send) -> None:  # noqa: ANN001 - ASGI
    if scope["type"] != "http":
        return
    request = Request(scope, receive)
    lang = _lang(request)
    await _message(request, lang, translate("public.error.not_found", lang), status=404, switch={})(scope, receive, send)


def routes() -> list[BaseRoute]:
    """The public pages, to mount beside the UI and the API (no gate: nobody logs in here)."""
    every = _EVERY_METHOD  # each page answers a method it does not take with a 405 page in words
    inner = [
        Route("/", _index, methods=every),
        Route("/style.css", _css, methods=["GET"]),
        Route("/evaluate", _evaluate, methods=every),
        Route("/evaluate/done", _evaluate_done, methods=every),
        Route("/status", _status, methods=every),
        Route("/status/{reference}", _status, methods=every),
        Route("/grid/{code}", _grid, methods=every),
    ]
    router = Router(routes=inner, redirect_slashes=False)
    router.default = _not_found
    return [Mount(PREFIX, app=router)]
