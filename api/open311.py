"""Incidents as Open311 GeoReport v2 service requests (``/api/open311/v2/``), JSON and XML.

A 12345 hotline or a 综治中心 platform files an incident with ``POST requests.json``
(``application/x-www-form-urlencoded``, as the specification says): ``service_code`` (an incident
category of :mod:`governance.vocab`), ``lat`` + ``long`` in WGS 84 or an ``address_string``
GridGov can locate, ``description``, ``attribute[...]``, ``media_url`` and the reporter's contact
fields (``email``, ``phone``, ``first_name``, ``last_name``, ``device_id``, ``account_id``). It
enters the closed loop as 上报 (reported), assigned to the micro-grid at that point
(:func:`services.incidents.report_incident`, audited by the database); the contact fields are
stored as personal data and never returned by any GET.

``GET requests.json`` / ``requests/{id}.json`` report each incident the account may see:
``status`` ``open``/``closed``, the seven-step state and the disposition in ``status_notes`` and
in ``extended_attributes`` (GeoReport v2's extension member), ``agency_responsible`` (the grid and
its worker), ``requested_datetime``, ``updated_datetime`` and ``expected_datetime`` (the
deadline), in the Asia/Shanghai offset. Every document is also served as XML (``.xml``), which
the specification requires. Errors follow the specification's shape (a list of ``code`` and
``description``) and carry GridGov's ``error``/``message`` as well.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
import logging
import xml.etree.ElementTree as ET
from collections.abc import Callable, Mapping
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from api import runtime
from api.errors import ApiError, from_exception, language
from governance.vocab import DISPOSITION_TERMS, INCIDENT_CATEGORY_TERMS, INCIDENT_STATUS_TERMS, TERMINAL_STATUSES
from i18n import translate

__all__ = ["routes", "ATTRIBUTES", "to_xml", "service_request", "services_list", "service_definition"]

logger = logging.getLogger(__name__)

#: The attributes every service takes: code → (datatype, values). Labels: ``open311.attr.<code>``.
ATTRIBUTES: dict[str, tuple[str, tuple[str, ...]]] = {
    "location_detail": ("string", ()),
    "urgency": ("singlevaluelist", ("normal", "urgent")),
}
#: Contact fields of the specification → the columns they are stored in (personal data).
CONTACT_PARAMS = {"first_name": "first_name", "last_name": "last_name", "email": "email", "phone": "phone",
                  "device_id": "device_id", "account_id": "external_account_id"}
_MAX_LIST = 1000
_DEFAULT_DAYS = 90
_STATES = INCIDENT_STATUS_TERMS.codes
_LIST_TAGS = {"services": "service", "service_requests": "request", "attributes": "attribute", "values": "value",
              "errors": "error"}


# -- documents (pure) -------------------------------------------------------------------------------------
def services_list(lang: str) -> list[dict[str, Any]]:
    """``services.json``: one service per incident category."""
    return [{
        "service_code": term.code,
        "service_name": term.label(lang),
        "description": translate("open311.description", lang, name=term.label(lang)),
        "metadata": True,
        "type": "realtime",
        "keywords": ",".join(term.aliases),
        "group": translate("open311.group", lang),
    } for term in INCIDENT_CATEGORY_TERMS]


def service_definition(code: str, lang: str) -> dict[str, Any]:
    """``services/{code}.json``: the attributes of a service."""
    attributes = []
    for order, (name, (datatype, values)) in enumerate(ATTRIBUTES.items(), start=1):
        attributes.append({
            "variable": True, "code": name, "datatype": datatype, "required": False, "datatype_description": "",
            "order": order, "description": translate(f"open311.attr.{name}", lang),
            "values": [{"key": v, "name": translate(f"open311.attr.{name}.{v}", lang)} for v in values],
        })
    return {"service_code": code, "attributes": attributes}


def _stamp(value: dt.datetime | None) -> str | None:
    if value is None:
        return None
    from gis import clock

    return value.astimezone(clock.zone()).isoformat(timespec="seconds")


def service_request(record: Mapping[str, Any], lang: str) -> dict[str, Any]:
    """One incident (:func:`store.incident_records.incident_records`) as a GeoReport v2 service request."""
    status = str(record["status"])
    step = _STATES.index(status) + 1 if status in _STATES else 0
    status_label = INCIDENT_STATUS_TERMS.label(status, lang)
    disposition = record.get("disposition")
    params = {"status": status_label, "step": step, "steps": len(_STATES)}
    if disposition:
        notes = translate("open311.status_notes_disposition", lang,
                          disposition=DISPOSITION_TERMS.label(disposition, lang), **params)
    else:
        notes = translate("open311.status_notes", lang, **params)
    grid_code, worker = record.get("grid_code"), record.get("worker_name")
    agency = ""
    if grid_code:
        key = "open311.agency" if worker else "open311.agency_no_worker"
        agency = translate(key, lang, grid_name=record.get("grid_name") or "", grid_code=grid_code, worker=worker or "")
    category = str(record["category"])
    return {
        "service_request_id": str(record["id"]),
        "status": "closed" if status in TERMINAL_STATUSES else "open",
        "status_notes": notes,
        "service_name": INCIDENT_CATEGORY_TERMS.label(category, lang),
        "service_code": record.get("service_code") or category,
        "description": record.get("description") or "",
        "agency_responsible": agency,
        "service_notice": "",
        "requested_datetime": _stamp(record.get("reported_at")),
        "updated_datetime": _stamp(record.get("updated_at")),
        "expected_datetime": _stamp(record.get("deadline")),
        "address": record.get("address") or "",
        "address_id": "",
        "zipcode": "",
        "lat": round(float(record["lat"]), 7),
        "long": round(float(record["lon"]), 7),
        "media_url": record.get("media_url") or "",
        "extended_attributes": {
            "state": status, "state_label": status_label, "step": step, "steps": len(_STATES),
            "disposition": disposition, "disposition_label": DISPOSITION_TERMS.label(disposition, lang) if disposition else "",
            "grid_code": grid_code, "grid_name": record.get("grid_name"), "worker": worker,
            "version": int(record["version"]), "closed_datetime": _stamp(record.get("closed_at")),
        },
    }


def _xml_value(parent: ET.Element, tag: str, value: Any) -> None:
    element = ET.SubElement(parent, tag)
    if isinstance(value, Mapping):
        for key, inner in value.items():
            _xml_value(element, key, inner)
    elif isinstance(value, list):
        child_tag = _LIST_TAGS.get(tag, "item")
        for item in value:
            _xml_value(element, child_tag, item)
    elif isinstance(value, bool):
        element.text = "true" if value else "false"
    elif value is not None:
        element.text = str(value)


def to_xml(root: str, value: Any) -> bytes:
    """A GeoReport v2 document as XML: ``root`` holds a list (each item under its singular tag) or a mapping."""
    element = ET.Element(root)
    if isinstance(value, list):
        for item in value:
            _xml_value(element, _LIST_TAGS.get(root, "item"), item)
    else:
        for key, inner in value.items():
            _xml_value(element, key, inner)
    return b'<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(element, encoding="utf-8")


# -- HTTP -----------------------------------------------------------------------------------------------
def _respond(fmt: str, root: str, value: Any, status: int = 200) -> Response:
    if fmt == "xml":
        return Response(to_xml(root, value), status_code=status, media_type="text/xml; charset=utf-8")
    return Response(json.dumps(value, ensure_ascii=False), status_code=status, media_type="application/json; charset=utf-8")


def _error(request: Request, fmt: str, error: ApiError) -> Response:
    lang = language(request)
    message = error.message(lang)
    item: dict[str, Any] = {"code": error.status, "description": message, "error": error.code, "message": message}
    if error.detail and error.status < 500:
        item["detail"] = error.detail
    item.update(error.extra)
    response = _respond(fmt, "errors", [item], status=error.status)
    response.headers.update(error.headers)
    return response


def _format(request: Request) -> str:
    fmt = request.path_params.get("fmt", "json")
    if fmt not in ("json", "xml"):
        raise ApiError(404, "not_found")
    return fmt


def _answers(fn: Callable[..., Any]) -> Callable[[Request], Any]:
    """Run an (async) route; every failure becomes an Open311 error in the caller's language and format."""

    @functools.wraps(fn)
    async def run(request: Request) -> Response:
        fmt = request.path_params.get("fmt", "json")
        fmt = fmt if fmt in ("json", "xml") else "json"
        try:
            return await fn(request)
        except Exception as exc:  # noqa: BLE001 - every failure is answered in words
            error = from_exception(exc)
            if error.status >= 500:
                logger.exception("%s failed", request.url.path)
            return _error(request, fmt, error)

    return run


@_answers
async def services(request: Request) -> Response:
    """``GET services.{json,xml}``."""
    return _respond(_format(request), "services", services_list(language(request)))


@_answers
async def service(request: Request) -> Response:
    """``GET services/{code}.{json,xml}``."""
    fmt, code = _format(request), request.path_params["code"]
    if code not in INCIDENT_CATEGORY_TERMS:
        raise ApiError(404, "unknown_service", "open311.error.unknown_service", {"code": code[:60]})
    return _respond(fmt, "service_definition", service_definition(code, language(request)))


def _float(form: Mapping[str, str], name: str) -> float | None:
    value = (form.get(name) or "").strip()
    if not value:
        return None
    try:
        return float(value)
    except ValueError:
        raise ApiError(400, "bad_parameter", params={"name": name, "value": value[:40]}) from None


def _submission(form: Mapping[str, str], service_code: str):  # noqa: ANN202 - services.incidents.Submission
    from services.incidents import Submission

    attributes: dict[str, str] = {}
    for key, value in form.items():
        if key.startswith("attribute[") and key.endswith("]"):
            name = key[len("attribute["):-1]
            if name not in ATTRIBUTES:
                raise ApiError(400, "unknown_attribute", "open311.error.unknown_attribute", {"name": name[:40]})
            allowed = ATTRIBUTES[name][1]
            if allowed and value not in allowed:
                raise ApiError(400, "bad_attribute", "open311.error.bad_attribute", {"name": name, "value": value[:40]})
            if value:
                attributes[name] = value
    contact = {column: (form.get(param) or "").strip() or None for param, column in CONTACT_PARAMS.items()}
    return Submission(service_code=service_code, attributes=attributes,
                      media_url=(form.get("media_url") or "").strip() or None, contact=contact)


@_answers
async def post_request(request: Request) -> Response:
    """``POST requests.{json,xml}`` (form-encoded): file an incident into the closed loop."""
    from services.incidents import locate_address, report_incident

    fmt = _format(request)
    caller = runtime.caller()
    if caller.actor.read_only:
        raise ApiError(403, "read_only")
    form = {k: str(v) for k, v in (await request.form(max_files=0, max_fields=60)).items()}
    code = (form.get("service_code") or "").strip()
    if not code:
        raise ApiError(400, "missing_parameter", params={"name": "service_code"})
    if code not in INCIDENT_CATEGORY_TERMS:
        raise ApiError(400, "unknown_service", "open311.error.unknown_service", {"code": code[:60]})
    lat, lon = _float(form, "lat"), _float(form, "long")
    address = (form.get("address_string") or "").strip()
    submission = _submission(form, code)
    engine, actor = runtime.engine(), caller.actor
    if lat is None or lon is None:
        if not address:
            raise ApiError(400, "location_needed", "open311.error.location_needed")
        found = await run_in_threadpool(locate_address, engine, actor, address)
        if found is None:
            raise ApiError(400, "address_not_found", "open311.error.address_not_found", {"address": address[:80]})
        lon, lat = found
    reported = await run_in_threadpool(
        functools.partial(report_incident, engine, actor, lon=lon, lat=lat, category=code,
                          description=form.get("description") or "", address=address, submission=submission))
    incident_id = reported.id
    from access.permissions import may
    from services.incidents import incident_records

    records = []
    if may(actor.role, "view_incidents"):  # an account that may report but not read gets the plain notice
        records = await run_in_threadpool(functools.partial(incident_records, engine, actor, ids=[incident_id]))
    lang = language(request)
    if records and records[0].get("grid_code"):
        notice = translate("open311.service_notice", lang, id=incident_id, grid=records[0]["grid_code"])
    else:
        notice = translate("open311.service_notice_plain", lang, id=incident_id)
    if reported.reference:  # the reporter's reference code for the public status page (an extension field)
        notice += translate("feedback.reference_notice", lang, reference=reported.shown_reference)
    return _respond(fmt, "service_requests",
                    [{"service_request_id": str(incident_id), "service_notice": notice, "account_id": None,
                      "reference": reported.shown_reference}], status=201)


def _moment(request: Request, name: str) -> dt.datetime | None:
    value = request.query_params.get(name)
    if not value:
        return None
    from gis import clock

    try:
        moment = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise ApiError(400, "bad_datetime", "open311.error.bad_datetime", {"value": value[:40]}) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=clock.zone())


@_answers
async def list_requests(request: Request) -> Response:
    """``GET requests.{json,xml}``: ``service_request_id``, ``service_code``, ``start_date``, ``end_date``,
    ``status`` (``open``/``closed``); without ids or dates the last 90 days, at most 1000."""
    from services.incidents import incident_records

    fmt = _format(request)
    params = request.query_params
    ids = None
    if params.get("service_request_id"):
        try:
            ids = [int(v) for v in params["service_request_id"].split(",") if v.strip()]
        except ValueError:
            raise ApiError(400, "bad_parameter", params={"name": "service_request_id",
                                                         "value": params["service_request_id"][:40]}) from None
    codes = [c for c in (params.get("service_code") or "").split(",") if c] or None
    statuses = None
    if params.get("status"):
        wanted = {s.strip() for s in params["status"].split(",") if s.strip()}
        if not wanted <= {"open", "closed"}:
            raise ApiError(400, "bad_status", "open311.error.bad_status")
        statuses = [s for s in _STATES if (s in TERMINAL_STATUSES and "closed" in wanted)
                    or (s not in TERMINAL_STATUSES and "open" in wanted)]
    start, end = _moment(request, "start_date"), _moment(request, "end_date")
    if ids is None and start is None and end is None:
        start = dt.datetime.now(dt.UTC) - dt.timedelta(days=_DEFAULT_DAYS)
    records = await run_in_threadpool(functools.partial(
        incident_records, runtime.engine(), runtime.caller().actor, ids=ids, categories=codes, statuses=statuses,
        start=start, end=end, limit=_MAX_LIST))
    lang = language(request)
    return _respond(fmt, "service_requests", [service_request(r, lang) for r in records])


@_answers
async def get_request(request: Request) -> Response:
    """``GET requests/{id}.{json,xml}``: one service request (404 when absent or out of the account's scope)."""
    from services.incidents import incident_records

    fmt = _format(request)
    raw = request.path_params["id"]
    if not raw.isdigit() or len(raw) > 18:
        raise ApiError(404, "not_found")
    records = await run_in_threadpool(functools.partial(incident_records, runtime.engine(), runtime.caller().actor,
                                                        ids=[int(raw)]))
    if not records:
        raise ApiError(404, "not_found")
    return _respond(fmt, "service_requests", [service_request(records[0], language(request))])


def routes() -> list[Route]:
    """The GeoReport v2 routes, relative to ``/api``."""
    base = "/open311/v2"
    return [
        Route(base + "/services.{fmt}", services, methods=["GET"]),
        Route(base + "/services/{code}.{fmt}", service, methods=["GET"]),
        Route(base + "/requests.{fmt}", list_requests, methods=["GET"]),
        Route(base + "/requests.{fmt}", post_request, methods=["POST"]),
        Route(base + "/requests/{id}.{fmt}", get_request, methods=["GET"]),
    ]
