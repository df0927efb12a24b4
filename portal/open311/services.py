"""The services a portal offers (its request types, one per code) and their attributes.

A service is a request-type code: where several bodies offer the same code, the report is
routed at its point to the most local one (`portal.reports.routing`), so a client needs only
the code. The name and description shown are the most local body's.

Attributes are the request type's extra questions (`request_types[].questions` in a body's
`body.json`), each a dict:
`{"code": "depth", "datatype": "number", "required": true, "order": 1,
  "description": {"en": "How deep is it?"}, "datatype_description": {"en": "centimetres"},
  "values": [{"key": "small", "name": {"en": "Small"}}]}`
with the datatypes of the spec: string, number, datetime, text, singlevaluelist,
multivaluelist. An entry without a valid code or datatype is not offered.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.core import geo, text_fields
from portal.core.errors import N_, Message
from portal.core.localized import localized
from portal.models import Body, RequestType, Tenant
from portal.open311 import dates

DATATYPES = ("string", "number", "datetime", "text", "singlevaluelist", "multivaluelist")
MAX_ANSWER = 500  # as `portal.reports.reporting.MAX_ANSWER`: the answers are stored alike


@dataclass(frozen=True)
class Attribute:
    code: str
    datatype: str
    required: bool
    order: int
    description: dict
    datatype_description: dict
    values: tuple[tuple[str, dict], ...] = ()


@dataclass
class Service:
    code: str
    request_type: RequestType
    body: Body
    attributes: list[Attribute] = field(default_factory=list)


def attributes_of(request_type: RequestType) -> list[Attribute]:
    """The request type's questions that make valid attributes, in their order."""
    found = []
    for position, raw in enumerate(request_type.questions or []):
        if not isinstance(raw, dict):
            continue
        code, datatype = str(raw.get("code", "")), str(raw.get("datatype", "string"))
        if not code or text_fields.form_key_problem(code) or datatype not in DATATYPES:
            continue
        values = tuple((str(v.get("key", "")), v.get("name") or {}) for v in raw.get("values", [])
                       if isinstance(v, dict) and v.get("key") not in (None, ""))
        description = raw.get("description") or raw.get("label") or {}
        found.append(Attribute(
            code=code, datatype=datatype, required=bool(raw.get("required", False)),
            order=int(raw.get("order", position + 1)),
            description=description if isinstance(description, dict) else {"en": description},
            datatype_description=raw.get("datatype_description") or {}, values=values))
    return sorted(found, key=lambda a: a.order)


def portal_services(session: Session, tenant: Tenant) -> list[Service]:
    """One service per request-type code offered somewhere in the portal's area."""
    bodies = session.scalars(select(Body).where(
        Body.max_lon >= tenant.min_lon, Body.min_lon <= tenant.max_lon,
        Body.max_lat >= tenant.min_lat, Body.min_lat <= tenant.max_lat))
    chosen: dict[str, Service] = {}
    for body in sorted(bodies, key=lambda b: (b.area_size, b.id)):
        # Sharing an edge is not serving the area: the overlap must have an area of its own.
        if geo.area(body.area_geojson).intersection(geo.area(tenant.area_geojson)).area <= 0:
            continue
        for rt in body.request_types:
            if rt.active and tenant.offers(rt) and rt.code not in chosen:
                chosen[rt.code] = Service(rt.code, rt, body, attributes_of(rt))
    return sorted(chosen.values(), key=lambda s: s.code)


def find_service(session: Session, tenant: Tenant, code: str) -> Service | None:
    return next((s for s in portal_services(session, tenant) if s.code == code.strip()), None)


def _text(texts: dict, locale: str, fallback: str) -> str:
    return localized(texts, locale, fallback) if texts else ""


def service_item(service: Service, locale: str) -> dict:
    rt, body = service.request_type, service.body
    return {
        "service_code": service.code,
        "service_name": localized(rt.name, locale, body.language or "en"),
        "description": _text(rt.help, locale, body.language or "en"),
        "metadata": bool(service.attributes),
        "type": "realtime",
        "keywords": "",
        "group": localized(body.name, locale, body.language or "en"),
    }


def definition_item(service: Service, locale: str) -> dict:
    fallback = service.body.language or "en"
    return {
        "service_code": service.code,
        "attributes": [{
            "variable": True,
            "code": a.code,
            "datatype": a.datatype,
            "required": a.required,
            "datatype_description": _text(a.datatype_description, locale, fallback) or None,
            "order": a.order,
            "description": _text(a.description, locale, fallback),
            "values": [{"key": key, "name": _text(name, locale, fallback) or key}
                       for key, name in a.values],
        } for a in service.attributes],
    }


def check_attributes(service: Service, given: dict[str, list[str]]
                     ) -> tuple[dict[str, str], dict[str, Message]]:
    """The answers to store (code -> text) and the errors, keyed `attribute[code]`.

    Codes the service does not define are ignored, as the spec lets a client send what it
    has; a multivaluelist's keys are stored comma-separated.
    """
    answers: dict[str, str] = {}
    errors: dict[str, Message] = {}
    for a in service.attributes:
        values = [v.strip() for v in given.get(a.code, []) if v.strip()]
        name = f"attribute[{a.code}]"
        if not values:
            if a.required:
                errors[name] = Message(N_("This attribute is required."))
            continue
        if a.datatype != "multivaluelist" and len(values) > 1:
            errors[name] = Message(N_("Give one value only."))
            continue
        problem = _value_problem(a, values)
        if problem is not None:
            errors[name] = problem
            continue
        answers[a.code] = ", ".join(values)
    return answers, errors


def _value_problem(a: Attribute, values: list[str]) -> Message | None:
    keys = [key for key, _ in a.values]
    for value in values:
        if len(value) > MAX_ANSWER:
            return Message(N_("Keep this under %(max)s characters."), {"max": MAX_ANSWER})
        if a.datatype == "text":
            problem = text_fields.text_problem(value)
        else:
            problem = text_fields.line_problem(value)
        if problem is not None:
            return problem
        if a.datatype == "number":
            try:
                if not math.isfinite(float(value)):
                    raise ValueError
            except ValueError:
                return Message(N_("Enter a number, like 12.5."))
        elif a.datatype == "datetime" and dates.parse(value) is None:
            return Message(N_("Enter a date and time with its zone, like "
                              "2024-05-01T14:30:00Z."))
        elif a.datatype in ("singlevaluelist", "multivaluelist") and value not in keys:
            return Message(N_("Choose one of: %(keys)s."), {"keys": ", ".join(keys)})
    return None
