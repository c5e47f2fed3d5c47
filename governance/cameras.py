"""Cameras of the 雪亮工程 (public video network): row rules for imports, stream-URL visibility (pure).

A camera file (CSV, XLSX or GeoJSON, read by :mod:`etl.readers`) has one row per camera::

    camera_key (or id), name, type, status, stream_url (optional), and a point location

:func:`check_cameras` checks and normalizes the attribute columns and collects every problem
as a :class:`gis.problems.RowProblem`; the location is checked by the one coordinate check
(:func:`etl.transform.coordinate_problems`) and the camera is assigned to its micro-grid by
the one assignment rule (:mod:`boundaries.assign`), exactly like households.

Stream URLs often carry credentials (``rtsp://admin:12345@10.0.0.8:554/…``). Only roles that
may see streams get the URL at all (:func:`visible_stream_url`, the role decision is the
permission matrix's); even then screens and exports show it redacted
(:func:`redact_stream_url`), and only the player receives it with credentials.
"""

from __future__ import annotations

from urllib.parse import parse_qsl, urlsplit, urlunsplit

import pandas as pd

from gis.errors import ValidationError
from gis.problems import ERROR, WARNING, RowProblem
from governance.vocab import CAMERA_STATUS_TERMS, CAMERA_TYPE_TERMS

__all__ = [
    "CAMERA_COLUMNS",
    "STREAM_SCHEMES",
    "check_cameras",
    "check_stream_url",
    "redact_stream_url",
    "visible_stream_url",
]

CAMERA_COLUMNS = ("camera_key", "name", "type", "status", "stream_url")
#: URL schemes a stream may use.
STREAM_SCHEMES = ("rtsp", "rtsps", "http", "https")
NAME_MAX_CHARS = 100
#: Query parameters whose values are secrets (compared in lower case).
SECRET_PARAMETERS = frozenset({
    "user", "username", "usr", "password", "pwd", "passwd", "pass", "token", "access_token", "key",
    "apikey", "api_key", "secret", "auth", "sign", "signature", "session",
})
REDACTED = "***"


def _text(value: object) -> str | None:
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    text = str(value).strip()
    return text or None


def check_stream_url(url: str) -> tuple[str | None, list[tuple[str, str, str]]]:
    """Check one stream URL: ``(url or None, [(severity, rule, message), …])``.

    Errors (``bad_stream_url``): not a URL, a scheme outside :data:`STREAM_SCHEMES`, no host.
    Warning (``stream_url_credentials``): the URL carries a user name or password — kept, but
    shown only redacted.
    """
    problems: list[tuple[str, str, str]] = []
    try:
        parts = urlsplit(url)
        host = parts.hostname
        parts.port  # noqa: B018 - raises ValueError for a bad port
    except ValueError as exc:
        return None, [(ERROR, "bad_stream_url", f"stream URL {redact_stream_url(url)!r} cannot be read ({exc})")]
    if parts.scheme.lower() not in STREAM_SCHEMES:
        problems.append((ERROR, "bad_stream_url",
                         f"stream URL {redact_stream_url(url)!r} uses {parts.scheme or 'no scheme'!r}; expected one of {', '.join(STREAM_SCHEMES)}"))
    elif not host:
        problems.append((ERROR, "bad_stream_url", f"stream URL {redact_stream_url(url)!r} has no host"))
    if parts.username or parts.password or any(k.lower() in SECRET_PARAMETERS for k, _ in parse_qsl(parts.query)):
        problems.append((WARNING, "stream_url_credentials",
                         "the stream URL carries credentials; it is kept but shown only redacted, to roles that may see streams"))
    return (None if any(p[0] == ERROR for p in problems) else url), problems


def check_cameras(cameras: pd.DataFrame) -> tuple[pd.DataFrame, list[RowProblem]]:
    """Normalize and check camera rows; return ``(cameras, problems)`` with every problem collected.

    The result is a copy of ``cameras`` (same index and rows, other columns such as the
    geometry kept) whose :data:`CAMERA_COLUMNS` are normalized: text trimmed, ``type`` and
    ``status`` as codes of :data:`governance.vocab.CAMERA_TYPE_TERMS` /
    :data:`CAMERA_STATUS_TERMS` (codes, Chinese or English labels, aliases), ``stream_url``
    ``None`` when empty. The caller drops rows with an ``error`` problem.

    Rules: ``missing_key``, ``duplicate_key``, ``missing_name``, ``name_too_long``,
    ``unknown_type``, ``unknown_status``, ``bad_stream_url`` (errors);
    ``stream_url_credentials`` (warning). ``row`` is the 0-based position of the row.
    """
    frame = cameras.copy()
    if "camera_key" not in frame.columns and "id" in frame.columns:
        frame = frame.rename(columns={"id": "camera_key"})
    missing = [c for c in ("camera_key", "name", "type", "status") if c not in frame.columns]
    if missing:
        raise ValidationError(
            f"camera file lacks columns {missing}; expected {list(CAMERA_COLUMNS)} (stream_url optional)",
            findings=[{"column": c, "problem": "missing column"} for c in missing],
            code="camera.columns_missing", params={"columns": missing},
        )
    if "stream_url" not in frame.columns:
        frame["stream_url"] = None
    problems: list[RowProblem] = []
    keys = [_text(v) for v in frame["camera_key"]]
    names = [_text(v) for v in frame["name"]]
    types: list[str | None] = []
    statuses: list[str | None] = []
    urls: list[str | None] = []
    first_row: dict[str, int] = {}
    for row, (key, name, kind, status, url) in enumerate(
        zip(keys, names, frame["type"], frame["status"], frame["stream_url"])
    ):
        def bad(rule: str, message: str, severity: str = ERROR) -> None:
            problems.append(RowProblem(row, key, rule, message, severity=severity))  # noqa: B023

        if key is None:
            bad("missing_key", "the camera has no id")
        elif key in first_row:
            bad("duplicate_key", f"camera id {key!r} occurs more than once (first at row {first_row[key]})")
        else:
            first_row[key] = row
        if name is None:
            bad("missing_name", "the camera has no name")
        elif len(name) > NAME_MAX_CHARS:
            bad("name_too_long", f"the name has {len(name)} characters; at most {NAME_MAX_CHARS}")
        type_code = CAMERA_TYPE_TERMS.parse(_text(kind))
        if type_code is None:
            bad("unknown_type", f"camera type {_text(kind)!r} is unknown; expected {CAMERA_TYPE_TERMS.accepted()}")
        status_code = CAMERA_STATUS_TERMS.parse(_text(status))
        if status_code is None:
            bad("unknown_status", f"camera status {_text(status)!r} is unknown; expected {CAMERA_STATUS_TERMS.accepted()}")
        text_url = _text(url)
        checked = None
        if text_url is not None:
            checked, found = check_stream_url(text_url)
            for severity, rule, message in found:
                bad(rule, message, severity)
        types.append(type_code)
        statuses.append(status_code)
        urls.append(checked)
    frame["camera_key"] = pd.Series(keys, index=frame.index, dtype=object)
    frame["name"] = pd.Series(names, index=frame.index, dtype=object)
    frame["type"] = pd.Series(types, index=frame.index, dtype=object)
    frame["status"] = pd.Series(statuses, index=frame.index, dtype=object)
    frame["stream_url"] = pd.Series(urls, index=frame.index, dtype=object)
    return frame, problems


def redact_stream_url(url: str | None) -> str | None:
    """``url`` with its user name and password replaced by ``***``, and its query too when it
    holds a secret parameter (``pwd``, ``token`` …); the fragment is dropped.

    ``rtsp://admin:12345@10.0.0.8:554/h264?channel=1&pwd=x`` → ``rtsp://***@10.0.0.8:554/h264?***``.
    Text that is not a URL, or that a password with unencoded ``/ ? #`` splits oddly, is
    fully redacted (``***``).
    """
    if url is None or (not isinstance(url, str) and pd.isna(url)):
        return None
    try:
        parts = urlsplit(str(url).strip())
        host = parts.hostname
        port = parts.port
    except ValueError:
        return REDACTED
    if not parts.scheme or not host or "@" in parts.path + parts.query + parts.fragment:
        return REDACTED  # an unencoded '/', '?' or '#' in a password splits the URL in odd places: show nothing
    netloc = host if ":" not in host else f"[{host}]"
    if port is not None:
        netloc = f"{netloc}:{port}"
    if parts.username is not None or parts.password is not None:
        netloc = f"{REDACTED}@{netloc}"
    keys = [k.lower() for k, _ in parse_qsl(parts.query, keep_blank_values=True)]
    # a secret may itself hold an unencoded '&' or '=': once one is present, hide the whole query
    query = REDACTED if any(k in SECRET_PARAMETERS for k in keys) else parts.query
    return urlunsplit((parts.scheme, netloc, parts.path, query, ""))


def visible_stream_url(url: str | None, *, may_see: bool, with_credentials: bool = False) -> str | None:
    """What a person is given of a camera's stream URL.

    ``None`` unless ``may_see`` (the person's role may see streams — decided by the permission
    matrix); for those, the redacted URL (:func:`redact_stream_url`), or with
    ``with_credentials`` the URL as stored (for the video player only, never for display).
    """
    if not may_see or url is None or (not isinstance(url, str) and pd.isna(url)):
        return None
    return str(url) if with_credentials else redact_stream_url(url)
