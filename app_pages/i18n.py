"""The pages' access to the string catalogue (:mod:`i18n`): words in the session's language.

The language is chosen in the sidebar and kept in ``st.session_state["ui.lang"]``.
"""

from __future__ import annotations

from i18n.catalogue import CATALOGUE, LANGUAGES, _check, describe_error, label, translate

__all__ = ["LANGUAGES", "CATALOGUE", "t", "translate", "label_of", "current_language", "describe", "draw_local", "_check"]


def current_language() -> str:
    import streamlit as st

    return st.session_state.get("ui.lang", "zh")


def t(key: str, /, **kwargs: object) -> str:
    """The text of ``key`` in the current session language (``st.session_state['ui.lang']``).

    An exception given as a parameter (``t("wf.refused", error=exc)``) is worded by its code
    (:func:`describe`), never by its English message.
    """
    lang = current_language()
    words = {k: describe_error(v, lang).rstrip("。.") if isinstance(v, BaseException) else v for k, v in kwargs.items()}
    return translate(key, lang, **words)


def describe(exc: BaseException, /) -> str:
    """A domain error in the session language (:func:`i18n.describe_error`: its code and params)."""
    return describe_error(exc, current_language())


def label_of(prefix: str, value: object, /) -> str:
    """Label of a domain value (``role``, ``status``, ``special`` …) in the session language, or the value itself."""
    return label(prefix, value, current_language())


def draw_local() -> dict:
    """leaflet-draw's ``L.drawLocal`` words in the session language (catalogue keys ``drawlocal.<path>``)."""
    lang = current_language()
    words: dict = {}
    for key in CATALOGUE:
        if key.startswith("drawlocal."):
            *path, leaf = key.removeprefix("drawlocal.").split(".")
            node = words
            for part in path:
                node = node.setdefault(part, {})
            node[leaf] = translate(key, lang)
    return words
