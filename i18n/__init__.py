"""The string catalogue of everything a person reads (zh default, en)."""

from i18n.catalogue import CATALOGUE, LANGUAGES, label, translate

__all__ = ["CATALOGUE", "LANGUAGES", "label", "translate"]
