"""Passwords and tokens: argon2id hashes, the password rules, random session tokens.

Passwords are hashed with argon2id (``argon2-cffi``, its default parameters: 3 passes over 64 MiB);
only the hash is stored. Session and API tokens are 256-bit random strings given to the person
once; the database keeps only their SHA-256, so a copy of the database opens no session.
"""

from __future__ import annotations

import hashlib
import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from gis.errors import ValidationError

__all__ = [
    "MIN_PASSWORD_LENGTH",
    "WeakPasswordError",
    "check_password_rules",
    "hash_password",
    "verify_password",
    "new_token",
    "derived_token",
    "token_hash",
]

#: Shortest password accepted.
MIN_PASSWORD_LENGTH = 10
_HASHER = PasswordHasher()


class WeakPasswordError(ValidationError):
    """A new password breaks a rule (too short, the account's own name …)."""


def check_password_rules(name: str, password: str) -> None:
    """Refuse a password shorter than :data:`MIN_PASSWORD_LENGTH` or equal to (or containing) the account name."""
    problems = []
    if len(password) < MIN_PASSWORD_LENGTH:
        problems.append(f"it has {len(password)} characters; at least {MIN_PASSWORD_LENGTH} are needed")
    lowered = password.lower()
    if name and (lowered == name.lower() or name.lower() in lowered):
        problems.append("it contains the account name")
    if password.strip() != password:
        problems.append("it starts or ends with a space")
    if problems:
        raise WeakPasswordError("the password is refused: " + "; ".join(problems), code="password.weak")


def hash_password(password: str) -> str:
    """The argon2id hash of ``password`` (PHC string, salt included)."""
    return _HASHER.hash(password)


def verify_password(stored_hash: str | None, password: str) -> bool:
    """Whether ``password`` matches ``stored_hash`` (``False`` for a missing or malformed hash)."""
    if not stored_hash:
        # spend the same time as a real check, so timing does not tell which accounts exist
        _HASHER.hash(password)
        return False
    try:
        return _HASHER.verify(stored_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def new_token() -> str:
    """A new random session or API token (256 bits, URL-safe text)."""
    return secrets.token_urlsafe(32)


def derived_token(secret: str, *parts: object) -> str:
    """A session token derived from ``parts`` with the server's ``secret`` (HMAC-SHA-256, URL-safe text).

    Single sign-on uses it to give every tab of one sign-in (the same ID token: issuer, subject,
    nonce, issue time) the same server-side session; without the secret it cannot be computed.
    """
    import base64
    import hmac

    if not secret:
        raise ValueError("secret was empty but is expected to be the server's signing secret")
    message = "\x1f".join(["gridgov-session", *(str(p) for p in parts)]).encode("utf-8")
    digest = hmac.new(secret.encode("utf-8"), message, hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def token_hash(token: str) -> bytes:
    """SHA-256 of a token, as the database computes it (``sha256(convert_to(token, 'UTF8'))``)."""
    return hashlib.sha256(token.encode("utf-8")).digest()
