"""The public pages' rendering without a database: escaped values, the catalogue's words, the form's
answers read as the one validation expects, the language chosen (api/public.py)."""

from __future__ import annotations

import ast
import datetime as dt
import re
from pathlib import Path

import pytest
from starlette.requests import Request

from api import public
from governance.cards import ContactEntry
from governance.evaluation import EvaluationAnswerError, EvaluationRound, validate_answers
from governance.feedback import public_status
from governance.notices import Notice
from i18n import CATALOGUE, translate

NOW = dt.datetime(2026, 12, 1, 8, tzinfo=dt.UTC)


def _request(query: bytes = b"", headers: dict[str, str] | None = None) -> Request:
    return Request({"type": "http", "method": "GET", "path": "/public/evaluate", "query_string": query,
                    "headers": [(k.lower().encode(), v.encode()) for k, v in (headers or {}).items()]})


def test_every_key_the_pages_use_is_in_the_catalogue():
    source = Path(public.__file__).read_text(encoding="utf-8")
    keys = set(re.findall(r"""(?:\bt|translate)\(\s*f?["']([a-z_]+\.[a-z_.]+)["']""", source))
    assert {"eval.title", "public.status.title", "public.card.title", "code.error.rate_limited"} <= keys
    assert sorted(k for k in keys if k not in CATALOGUE) == []
    tree = ast.parse(source)
    docstrings = {id(n.body[0].value) for n in ast.walk(tree)
                  if isinstance(n, (ast.Module, ast.FunctionDef, ast.AsyncFunctionDef)) and n.body
                  and isinstance(n.body[0], ast.Expr) and isinstance(n.body[0].value, ast.Constant)}
    shown = [n.value for n in ast.walk(tree) if isinstance(n, ast.Constant) and isinstance(n.value, str)
             and id(n) not in docstrings]
    assert not [s for s in shown if re.search(r"[\u4e00-\u9fff]", s)], "words belong in i18n/catalogue.py"


@pytest.mark.parametrize(("query", "headers", "lang"), [
    (b"", {}, "zh"),
    (b"lang=en", {}, "en"),
    (b"", {"Accept-Language": "en-GB,en;q=0.8"}, "en"),
    (b"", {"Accept-Language": "zh-CN,zh;q=0.9,en;q=0.5"}, "zh"),
    (b"lang=zh", {"Accept-Language": "en"}, "zh"),
    (b"lang=fr", {}, "zh"),
])
def test_language_from_the_query_then_accept_language(query, headers, lang):
    assert public._lang(_request(query, headers)) == lang


def test_answers_are_read_for_the_one_validation():
    answers = public._answers({"service": "5", "responsiveness": "", "resolution": "2", "knows_worker": "no",
                               "comment": " 好 "})
    assert (answers.service, answers.responsiveness, answers.resolution, answers.knows_worker) == (5, None, 2, False)
    assert validate_answers(answers).comment == "好"
    for bad in ("9", "abc", "-1", "55", "0"):
        with pytest.raises(EvaluationAnswerError):
            validate_answers(public._answers({"service": bad}))
    assert public._answers({"knows_worker": "maybe"}).knows_worker is None


def test_round_of_the_link():
    assert public._round_param(None) is None and public._round_param(" ") is None
    assert public._round_param("17") == 17
    assert public._round_param("7; DROP") is False and public._round_param("9" * 30) is False


def test_the_question_form_escapes_and_keeps_choices():
    round_ = EvaluationRound(id=3, title="<b>测评</b>", period="2026-Q4", grid_codes=("110101001001",),
                             opens_at=NOW, closes_at=NOW + dt.timedelta(days=3))
    form = public._question_form("zh", round_, '"><script>x</script>', chosen={"service": "4", "comment": "</textarea><i>"},
                                 problems={"service": "<请选择>"})
    assert "<script>" not in form and "&lt;script&gt;" in form
    assert "</textarea><i>" not in form and "&lt;/textarea&gt;&lt;i&gt;" in form
    assert "&lt;请选择&gt;" in form
    assert 'name="service" value="4" checked' in form and form.count(" checked") == 1
    assert 'method="post"' in form and 'name="round" value="3"' in form
    for question in ("service", "responsiveness", "resolution", "knows_worker", "comment"):
        assert translate(f"eval.q.{question}", "zh") in form


def test_status_view_shows_labels_and_only_the_public_fields():
    status = public_status({"reference": "0K41AK0DHPR6", "category": "sanitation", "status": "dispatched",
                            "disposition": "solve_now", "public_reply": "<已处理> 电话 13912345678",
                            "reported_at": NOW, "deadline": NOW + dt.timedelta(days=2), "closed_at": None,
                            "updated_at": NOW, "reporter_name": "王秀英", "address": "幸福路88号"})
    view = public._status_view("zh", status)
    for key in ("public_step.in_progress", "category.sanitation", "disposition.solve_now"):
        assert translate(key, "zh") in view
    assert "&lt;已处理&gt;" in view and "13912345678" not in view and "***" in view
    assert "王秀英" not in view and "幸福路" not in view
    assert 'class="current" aria-current="step"' in view


def test_card_view_escapes_names_and_notices():
    from services.public import PublicCard

    card = PublicCard(
        code="110101001001", name="<一>网格", parents=[("110101", "幸福社区")],
        contacts=[ContactEntry("micro_worker", "微网格员", "<张>", "138-0000 1111", "110101001001", "<一>网格", "3")],
        notices=[Notice(id=1, kind="jobs", title="<招聘>", body="a\n<b>", valid_from=NOW,
                        valid_to=dt.datetime(2026, 12, 10, 16, tzinfo=dt.UTC))],
        on=NOW.date())
    view = public._card_view("zh", card)
    assert "<一>" not in view and "&lt;一&gt;网格" in view and "&lt;张&gt;" in view and "&lt;招聘&gt;" in view
    assert 'href="tel:13800001111"' in view
    assert translate("public.card.valid_to", "zh", day="2026-12-10") in view  # valid_to is exclusive: midnight is the 10th's end
    assert translate("notice_kind.jobs", "zh") in view
    assert 'href="/public/evaluate?lang=zh"' in view


def test_the_style_sheet_is_local_and_sizes_tap_targets():
    css = public.CSS_PATH.read_text(encoding="utf-8")
    assert "http" not in css and "@import" not in css
    assert re.search(r"\.choice \{[^}]*min-height: 48px", css) and re.search(r"button, a\.button \{[^}]*min-height: 50px", css)


def test_links_printed_on_slips_receipts_and_cards_open_these_pages():
    from governance.codes import generate_code
    from governance.evaluation import CODE_DATA_CHARS
    from governance.feedback import new_reference
    from services.public import card_link, evaluation_link, status_link

    code = generate_code(CODE_DATA_CHARS)
    link = evaluation_link(12, code, base_url="https://grid.example.cn/")
    assert link.startswith("https://grid.example.cn/public/evaluate?round=12&code=") and link.count("-") == 3
    assert evaluation_link(12, base_url="https://grid.example.cn") == "https://grid.example.cn/public/evaluate?round=12"
    reference = new_reference()
    assert status_link(reference.lower(), base_url="https://g.cn").startswith("https://g.cn/public/status/")
    assert card_link("110101001001", base_url="https://g.cn") == "https://g.cn/public/grid/110101001001"
    routed = {r.path for r in public.routes()[0].routes}
    assert {"/evaluate", "/status/{reference}", "/grid/{code}"} <= routed
