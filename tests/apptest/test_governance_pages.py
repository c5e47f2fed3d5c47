"""The governance pages (incident handling, visits, roster, assessment) render on the demo data."""

from __future__ import annotations

import pytest
from apptest_support import logged_in
from streamlit.testing.v1 import AppTest

pytestmark = pytest.mark.db

TIMEOUT = 90


def _workflow() -> None:
    from app_pages import incidents_workflow

    incidents_workflow.render()


def _visits() -> None:
    from app_pages import visits

    visits.render()


def _roster() -> None:
    from app_pages import roster

    roster.render()


def _assessment() -> None:
    from app_pages import assessment

    assessment.render()


@pytest.mark.parametrize(
    ("page", "title_key"),
    [(_workflow, "wf.title"), (_visits, "visit.title"), (_roster, "roster.title"), (_assessment, "assess.title")],
)
@pytest.mark.parametrize("lang", ["zh", "en"])
def test_governance_page_renders_in_both_languages(app_db, page, title_key, lang) -> None:
    from app_pages.i18n import translate

    at = logged_in(AppTest.from_function(page, default_timeout=TIMEOUT))
    at.session_state["ui.lang"] = lang
    at.run()
    assert not at.exception, [e.message for e in at.exception]
    assert at.title and at.title[0].value == translate(title_key, lang)
