"""What every Open311 test checks a response against, written from the GeoReport v2 text
(open311/open311.github.io, GeoReport/v2/index.md and Service_Discovery): JSON Schemas of
each document, and an XML checker for the same documents (no namespace, UTF-8 declaration,
the spec's element names, W3C dates with a zone, open|closed).

`checked(response)` runs the right one on every response a test reads.
"""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import jsonschema

from portal.core.settings import REPO_ROOT

SHARED_DATA = REPO_ROOT.parent.parent / "shared" / "data"  # ../shared/data beside the checkout
W3C = r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$"

_date = {"type": "string", "pattern": W3C}
_optional_date = {"anyOf": [_date, {"type": "null"}]}
_text = {"type": ["string", "null"]}
# The spec's own JSON examples write codes and ids as numbers (001, 293944) and real servers
# do too (Bloomington's services): a client must take both. Ours are strings (see OURS).
_id = {"type": ["string", "integer"]}

SERVICE = {
    "type": "object",
    "required": ["service_code", "service_name", "metadata", "type"],
    "properties": {
        "service_code": _id, "service_name": {"type": "string"}, "description": _text,
        "metadata": {"type": "boolean"}, "type": {"enum": ["realtime", "batch", "blackbox"]},
        "keywords": _text, "group": _text,
    },
}
ATTRIBUTE = {
    "type": "object",
    "required": ["variable", "code", "datatype", "required", "order", "description"],
    "properties": {
        "variable": {"type": "boolean"}, "code": {"type": "string"},
        "datatype": {"enum": ["string", "number", "datetime", "text", "singlevaluelist",
                              "multivaluelist"]},
        "required": {"type": "boolean"}, "datatype_description": _text,
        "order": {"type": "integer"}, "description": {"type": "string"},
        "values": {"type": "array", "items": {
            "type": "object", "required": ["key", "name"],
            "properties": {"key": {"type": "string"}, "name": {"type": "string"}}}},
    },
}
REQUEST = {
    "type": "object",
    "required": ["service_request_id", "status", "service_code", "requested_datetime"],
    "properties": {
        "service_request_id": _id, "status": {"enum": ["open", "closed"]},
        "status_notes": _text, "service_name": _text, "service_code": _id,
        "description": {"type": ["string", "null"], "maxLength": 4000},
        "agency_responsible": _text, "service_notice": _text,
        "requested_datetime": _date, "updated_datetime": _optional_date,
        "expected_datetime": _optional_date, "address": _text, "address_id": _text,
        "zipcode": _text, "lat": {"type": "number", "minimum": -90, "maximum": 90},
        "long": {"type": "number", "minimum": -180, "maximum": 180},
        "media_url": {"anyOf": [{"type": "string", "pattern": "^https?://"}, {"type": "null"}]},
        "notes": {"type": "array", "items": {
            "type": "object", "required": ["datetime", "summary"],
            "properties": {"datetime": _date, "summary": {"type": "string"}}}},
        "extended_attributes": {"type": "object"},
    },
}
SCHEMAS = {
    "services": {"type": "array", "items": SERVICE},
    "service_definition": {"type": "object", "required": ["service_code", "attributes"],
                           "properties": {"service_code": _id,
                                          "attributes": {"type": "array", "items": ATTRIBUTE}}},
    "service_requests": {"type": "array", "items": REQUEST},
    "posted": {"type": "array", "minItems": 1, "items": {
        "type": "object", "anyOf": [{"required": ["service_request_id"]}, {"required": ["token"]}],
        "properties": {"service_request_id": _id, "token": _id, "service_notice": _text,
                       "account_id": _text}}},
    "tokens": {"type": "array", "items": {"type": "object",
                                          "required": ["service_request_id", "token"]}},
    "errors": {"type": "array", "minItems": 1, "items": {
        "type": "object", "required": ["code", "description"],
        "properties": {"code": {"type": "integer"}, "description": {"type": "string",
                                                                    "minLength": 1}}}},
    "discovery": {"type": "object", "required": ["changeset", "contact", "endpoints"],
                  "properties": {"changeset": _date, "endpoints": {"type": "array", "items": {
                      "type": "object",
                      "required": ["specification", "url", "changeset", "type", "formats"],
                      "properties": {"url": {"type": "string", "pattern": "^https?://"},
                                     "type": {"enum": ["production", "test"]},
                                     "formats": {"type": "array",
                                                 "items": {"type": "string"}}}}}}},
    "posted_update": {"type": "array", "minItems": 1, "items": {
        "type": "object", "required": ["update_id"], "properties": {"update_id": _id}}},
    "service_request_updates": {"type": "array", "items": {
        "type": "object",
        "required": ["update_id", "service_request_id", "status", "updated_datetime"],
        "properties": {"updated_datetime": _date, "status": {"type": "string"}}}},
}
OURS = {"service_request_id": {"type": "string"}, "service_code": {"type": "string"}}
"""What we promise beyond the spec: ids and codes are strings."""

XML_ITEMS = {"services": "service", "service_requests": "request", "errors": "error",
             "service_request_updates": "request_update", "posted": "request",
             "tokens": "request", "posted_update": "request_update"}
XML_ROOTS = {"posted": "service_requests", "tokens": "service_requests",
             "posted_update": "service_request_updates"}
XML_REQUIRED = {
    "service": ["service_code", "service_name", "description", "metadata", "type",
                "keywords", "group"],
    "request": ["service_request_id", "status", "service_name", "service_code", "description",
                "agency_responsible", "requested_datetime", "updated_datetime", "address",
                "lat", "long"],
    "error": ["code", "description"],
    "request_update": ["update_id", "service_request_id", "status", "updated_datetime"],
}
XML_DATES = ("requested_datetime", "updated_datetime", "expected_datetime", "changeset",
             "datetime")


def check_json(data: object, kind: str, ours: bool = True) -> None:
    jsonschema.validate(data, SCHEMAS[kind])
    if ours and kind in ("service_requests", "posted", "tokens", "services"):
        for item in data:
            for name, schema in OURS.items():
                if name in item:
                    jsonschema.validate(item[name], schema)


def check_xml(content: bytes, kind: str, ours: bool = True) -> ET.Element:
    """The parsed document; `ours` also asks for every field we always write."""
    assert content.startswith(b'<?xml version="1.0" encoding="utf-8"?>'), content[:60]
    root = ET.fromstring(content)
    assert "{" not in root.tag, "the spec's XML has no namespace"
    assert root.tag == XML_ROOTS.get(kind, kind), root.tag
    item = XML_ITEMS.get(kind)
    if item:
        assert all(child.tag == item for child in root), [c.tag for c in root]
        if kind in ("posted",):
            assert len(root) >= 1
            assert root.find("request/service_request_id") is not None or \
                root.find("request/token") is not None
        required = [] if kind in XML_ROOTS else XML_REQUIRED.get(item, [])
        if not ours:  # the spec's minimum, as in the JSON Schemas
            required = [n for n in required if n in SCHEMAS[kind]["items"].get("required", [])]
        for child in root:
            missing = [n for n in required if child.find(n) is None]
            assert not missing, f"{item} lacks {missing}"
            if kind == "service_requests":
                assert child.find("status").text in ("open", "closed")
    for element in root.iter():
        if element.tag in XML_DATES and element.text:
            assert re.match(W3C, element.text), element.text
        if element.tag == "metadata" or element.tag in ("required", "variable"):
            assert element.text in ("true", "false"), element.text
        if element.tag == "code" and kind == "errors":
            assert element.text.isdigit()
    return root


def checked(response, kind: str):  # noqa: ANN001, ANN201 - httpx Response -> data
    """The response's document, after checking its type and shape against the spec."""
    if response.request.url.path.endswith(".json"):
        assert response.headers["content-type"] == "application/json; charset=utf-8"
        data = response.json()
        check_json(data, kind)
        return data
    assert response.headers["content-type"] == "text/xml; charset=utf-8"
    return check_xml(response.content, kind)


def shared_file(name: str) -> Path | None:
    path = SHARED_DATA / name
    return path if path.exists() else None


def load_json(path: Path) -> object:
    return json.loads(path.read_text(encoding="utf-8"))
