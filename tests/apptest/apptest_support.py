"""Helpers shared by the AppTest modules (pytest puts this folder on ``sys.path``)."""

from __future__ import annotations

from collections.abc import Callable

from streamlit.testing.v1 import AppTest


def run_page(fn: Callable[[], None], *, timeout: float) -> AppTest:
    """Run a page function once with AppTest; fail on any exception the page raised."""
    at = AppTest.from_function(fn, default_timeout=timeout)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def page_texts(at: AppTest) -> str:
    """Every markdown, caption, subheader and alert text of a run, one per line."""
    parts = [m.value for m in at.markdown] + [c.value for c in at.caption] + [s.value for s in at.subheader]
    parts += [e.value for e in at.success] + [e.value for e in at.info] + [e.value for e in at.error]
    parts += [e.value for e in at.warning]
    return "\n".join(str(p) for p in parts)


def map_components(at: AppTest) -> list[dict]:
    """The arguments of every streamlit-folium map of a run (what the browser receives), in order."""
    import json

    return [
        json.loads(element.proto.json_args)
        for element in at.get("component_instance")
        if element.proto.component_name.endswith("st_folium")
    ]
