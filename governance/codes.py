"""Public codes: one-time evaluation codes and incident reference codes (pure, no storage).

A code is a string over the Crockford base-32 alphabet ``0123456789ABCDEFGHJKMNPQRSTVWXYZ``
(no ``I L O U``: nothing to confuse with ``1`` / ``0`` or to spell words with), made of
``data_chars`` random characters drawn with :mod:`secrets` (5 bits each) followed by one
**check character** (Luhn mod 32 over the same alphabet). The check character catches every
single mistyped character and most swaps of two neighbours before any lookup is made, so a
typo gets "check the code you typed" instead of "unknown code".

Reading is forgiving, like Crockford's decoding: case, spaces, hyphens and full-width forms
are ignored, ``O`` reads as ``0`` and ``I``/``L`` as ``1``. Codes are shown in groups of four
(``7KQ2-M9XD-...``).

==========================  ===========  ===========  ========================================
use                         data chars   entropy      shown as
==========================  ===========  ===========  ========================================
evaluation one-time code    15           75 bits      ``XXXX-XXXX-XXXX-XXXX`` (16 characters)
incident reference code     11           55 bits      ``XXXX-XXXX-XXXX`` (12 characters)
==========================  ===========  ===========  ========================================

Only a keyed hash of an evaluation code is stored (:func:`code_hash`, HMAC-SHA-256 with the
round's random salt); the code itself exists on the printed slip only.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import unicodedata
from collections.abc import Callable

from gis.errors import ValidationError

__all__ = [
    "ALPHABET",
    "PublicCodeError",
    "code_bits",
    "check_character",
    "is_well_formed",
    "generate_code",
    "normalize_code",
    "format_code",
    "code_hash",
    "new_salt",
]

#: Crockford's base-32 alphabet (digits and upper-case letters without I, L, O, U).
ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
_BASE = len(ALPHABET)
_VALUE = {ch: i for i, ch in enumerate(ALPHABET)}
#: Crockford's reading aliases: letters a person may type for a digit.
_ALIASES = {"O": "0", "I": "1", "L": "1"}
_IGNORED = " -_.\t"


class PublicCodeError(ValidationError):
    """A code typed by a resident cannot be used.

    Attributes
    ----------
    reason:
        Machine-readable reason (``malformed``, ``unknown``, ``used``, ``expired`` …).
    i18n_key:
        Catalogue key of the sentence shown to the resident (``eval.error.used`` …).
    params:
        Placeholders of that sentence.
    """

    #: Catalogue prefix of the subclass (``eval.error`` or ``feedback.error``).
    key_prefix = "code.error"

    def __init__(self, reason: str, message: str, *, params: dict[str, object] | None = None) -> None:
        super().__init__(message, findings=[{"reason": reason}], code=f"public_code.{reason}", params=params)
        self.reason = reason

    @property
    def i18n_key(self) -> str:
        return f"{self.key_prefix}.{self.reason}"


def code_bits(data_chars: int) -> int:
    """Entropy of a code with ``data_chars`` random characters, in bits (5 per character)."""
    return 5 * int(data_chars)


def _luhn_sum(values: list[int], *, double_first: bool) -> int:
    """Luhn mod-N sum over ``values`` read from the right."""
    total = 0
    double = double_first
    for value in reversed(values):
        addend = value * 2 if double else value
        total += addend // _BASE + addend % _BASE
        double = not double
    return total


def check_character(body: str) -> str:
    """The Luhn mod 32 check character of ``body`` (canonical characters of :data:`ALPHABET`)."""
    values = [_VALUE[ch] for ch in body]
    return ALPHABET[(-_luhn_sum(values, double_first=True)) % _BASE]


def _canonical(text: object) -> str:
    """Upper case, NFKC (full-width → ASCII), separators removed, Crockford aliases applied."""
    folded = unicodedata.normalize("NFKC", str(text)).upper()
    kept = "".join(ch for ch in folded if ch not in _IGNORED)
    return "".join(_ALIASES.get(ch, ch) for ch in kept)


def is_well_formed(code: str) -> bool:
    """True when ``code`` (canonical, check character last) has a matching check character."""
    if len(code) < 2 or any(ch not in _VALUE for ch in code):
        return False
    return _luhn_sum([_VALUE[ch] for ch in code], double_first=False) % _BASE == 0


def generate_code(data_chars: int, *, randbits: Callable[[int], int] = secrets.randbits) -> str:
    """A new code: ``data_chars`` random characters plus the check character (canonical form).

    ``randbits`` is :func:`secrets.randbits` (a CSPRNG); tests may inject another source.
    """
    if int(data_chars) < 1:
        raise ValueError(f"data_chars was {data_chars!r} but is expected to be at least 1")
    number = randbits(5 * data_chars)
    body = "".join(ALPHABET[(number >> (5 * i)) & 31] for i in range(data_chars))
    return body + check_character(body)


def normalize_code(text: object, *, data_chars: int, error: type[PublicCodeError] = PublicCodeError) -> str:
    """The canonical form of a typed code, or ``error('malformed', …)``.

    Accepts any case, spaces, hyphens, full-width characters and ``O``/``I``/``L`` for
    ``0``/``1``. The message says what is wrong (length, a character, the check character)
    without echoing the code.
    """
    if text is None:
        raise error("malformed", "no code was given")
    code = _canonical(text)
    expected = data_chars + 1
    if len(code) != expected:
        raise error(
            "malformed",
            f"the code has {len(code)} characters but is expected to have {expected} (letters and digits)",
            params={"length": expected},
        )
    bad = [ch for ch in code if ch not in _VALUE]
    if bad:
        raise error(
            "malformed",
            f"the code contains {bad[0]!r}; codes use digits and the letters A–Z without I, L, O, U",
            params={"length": expected},
        )
    if not is_well_formed(code):
        raise error("malformed", "the check character does not match: a character was mistyped", params={"length": expected})
    return code


def format_code(code: str, *, group: int = 4) -> str:
    """``code`` in hyphen-separated groups of ``group`` characters, for print and screen."""
    canonical = _canonical(code)
    return "-".join(canonical[i : i + group] for i in range(0, len(canonical), group))


def code_hash(code: str, *, salt: bytes) -> str:
    """HMAC-SHA-256 (hex) of the canonical ``code`` keyed with ``salt`` (the round's random salt).

    The salt makes the hashes of two rounds unrelated, and with 75 bits of code entropy a
    stolen table of hashes cannot be inverted by trying codes.
    """
    if not isinstance(salt, (bytes, bytearray)) or len(salt) < 16:
        raise ValueError("salt is expected to be at least 16 random bytes (new_salt())")
    return hmac.new(bytes(salt), _canonical(code).encode("ascii"), hashlib.sha256).hexdigest()


def new_salt() -> bytes:
    """32 random bytes (:func:`secrets.token_bytes`) to key :func:`code_hash`."""
    return secrets.token_bytes(32)
