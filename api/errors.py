"""Errors of the HTTP API: ``{"error": code, "message": ...}`` in the caller's language.

The message comes from :mod:`i18n.catalogue` (``api.error.<code>`` unless a more specific key is
given) in the language of ``Accept-Language`` (Chinese unless English is preferred); ``detail``
carries the domain error's own (English) sentence for the developer reading the logs of their
integration. :func:`from_exception` says what a GridGov error means in HTTP.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse

from i18n import translate

__all__ = ["ApiError", "language", "from_exception", "error_payload", "error_response"]


@dataclass
class ApiError(Exception):
    """An answer other than success: HTTP ``status``, machine ``code``, catalogue ``key`` and its params."""

    status: int
    code: str
    key: str | None = None
    params: dict[str, Any] = field(default_factory=dict)
    detail: str = ""
    headers: dict[str, str] = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict)

    def message(self, lang: str) -> str:
        return translate(self.key or f"api.error.{self.code}", lang, **self.params)


def language(request: Request | Any) -> str:
    """``zh`` or ``en`` from ``Accept-Language`` (quality values honoured; ``zh`` unless English is preferred)."""
    header = request.headers.get("accept-language", "") if hasattr(request, "headers") else ""
    best, best_q = "zh", 0.0
    for part in header.split(","):
        tag, _, params = part.strip().partition(";")
        tag = tag.strip().lower()
        q = 1.0
        for param in params.split(";"):
            name, _, value = param.strip().partition("=")
            if name == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = 0.0
        if not math.isfinite(q):
            q = 0.0
        lang = "zh" if tag.startswith("zh") else "en" if tag.startswith("en") else None
        if lang is not None and q > best_q:
            best, best_q = lang, q
    return best


def from_exception(exc: BaseException) -> ApiError:
    """The HTTP meaning of an exception raised by a service (an unknown one is a 500)."""
    from access.permissions import PermissionDenied
    from boundaries.coding import InvalidGridCodeError
    from gis.errors import (
        CRSError,
        DatabaseUnavailableError,
        GridGovError,
        NotFoundError,
        StaleVersionError,
        ValidationError,
    )
    from store.lookup import GridNotFoundAtPoint
    from store.session import ConcurrentWriteError, RefusedByDatabase, database_error

    if isinstance(exc, ApiError):
        return exc
    if not isinstance(exc, GridGovError):
        mapped = database_error(exc)
        if mapped is None:
            return ApiError(500, "internal", detail=type(exc).__name__)
        exc = mapped
    detail = str(exc)
    if isinstance(exc, GridNotFoundAtPoint):
        if exc.nearest is None:
            return ApiError(400, "outside_grids", "api.error.no_grids", detail=detail)
        return ApiError(400, "outside_grids", params={"code": exc.nearest.code, "name": exc.nearest.name,
                                                      "distance": f"{exc.nearest.distance_m:.0f}"}, detail=detail,
                        extra={"nearest": {"code": exc.nearest.code, "name": exc.nearest.name,
                                           "distance_m": round(exc.nearest.distance_m, 1)}})
    if isinstance(exc, PermissionDenied):
        return ApiError(403, "forbidden", detail=detail)
    if isinstance(exc, RefusedByDatabase):
        return ApiError(403, "refused_scope", detail=detail)
    if isinstance(exc, NotFoundError):
        return ApiError(404, "not_found", detail=detail)
    if isinstance(exc, InvalidGridCodeError):
        return ApiError(400, "invalid_code", params={"code": ""}, detail=detail)
    if isinstance(exc, CRSError):
        return ApiError(400, "bad_coordinates", detail=detail)
    if isinstance(exc, (StaleVersionError, ConcurrentWriteError)):
        return ApiError(409, "conflict", detail=detail)
    if isinstance(exc, DatabaseUnavailableError):
        return ApiError(503, "unavailable", detail=detail)
    if isinstance(exc, (ValidationError, ValueError)):
        return ApiError(400, "invalid", detail=detail)
    return ApiError(500, "internal", detail=type(exc).__name__)


def error_payload(error: ApiError, lang: str) -> dict[str, Any]:
    """The JSON body of an error."""
    body: dict[str, Any] = {"error": error.code, "message": error.message(lang)}
    if error.detail and error.status < 500:
        body["detail"] = error.detail
    body.update(error.extra)
    return body


def error_response(request: Request, error: ApiError) -> JSONResponse:
    """``error`` as a JSON response in the caller's language."""
    return JSONResponse(error_payload(error, language(request)), status_code=error.status,
                        headers={"Cache-Control": "no-store", **error.headers})
