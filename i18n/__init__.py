"""The string catalogue of everything a person reads (zh default, en), and the words of domain errors."""

from i18n.catalogue import (
    CATALOGUE,
    LANGUAGES,
    describe_error,
    describe_finding,
    duration,
    error_key,
    label,
    translate,
)

__all__ = ["CATALOGUE", "LANGUAGES", "label", "translate", "duration", "describe_error", "describe_finding", "error_key"]
