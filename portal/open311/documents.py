"""The two formats of every Open311 document: XML (required) and JSON (the Spark mapping).

A document is a root name and a list of items (dicts); JSON is then the list itself (one
request is a list of one), and XML the root element with one child per item. Inside an
item, a list becomes a wrapper holding one element per entry (`attributes` -> `attribute`),
a dict nested elements, a bool `true`/`false`, None an empty element (JSON null).

XML is written by hand, not through ElementTree: a thousand requests are the common answer
and string joins are several times faster. Characters XML 1.0 cannot carry are dropped.
"""

from __future__ import annotations

import json
from collections.abc import Iterable

XML_TYPE = "text/xml; charset=utf-8"
JSON_TYPE = "application/json; charset=utf-8"
FORMATS = ("xml", "json")

ITEM_NAMES = {
    "services": "service", "service_requests": "request", "attributes": "attribute",
    "values": "value", "notes": "note", "photos": "photo", "errors": "error",
    "service_request_updates": "request_update", "endpoints": "endpoint", "formats": "format",
    "keys": "key",
}
# One pass escapes markup and drops what XML 1.0 cannot carry (C0 controls but tab and
# newlines, U+FFFE, U+FFFF).
_ESCAPES = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;",
                          **{chr(c): None for c in [*range(0x09), 0x0B, 0x0C,
                                                    *range(0x0E, 0x20), 0xFFFE, 0xFFFF]}})


def _text(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return value.translate(_ESCAPES)
    return str(value)


def _element(name: str, value: object, out: list[str]) -> None:
    if value is None:
        out.append(f"<{name}/>")
    elif isinstance(value, dict):
        out.append(f"<{name}>")
        for key, inner in value.items():
            _element(key, inner, out)
        out.append(f"</{name}>")
    elif isinstance(value, list):
        item = ITEM_NAMES.get(name, "item")
        out.append(f"<{name}>")
        for inner in value:
            _element(item, inner, out)
        out.append(f"</{name}>")
    else:
        out.append(f"<{name}>{_text(value)}</{name}>")


def xml_document(root: str, items: Iterable[dict] | dict) -> bytes:
    """`root` holding one element per item (or, for a dict, the dict's own fields)."""
    out = ['<?xml version="1.0" encoding="utf-8"?>']
    if isinstance(items, dict):
        _element(root, items, out)
    else:
        _element(root, list(items), out)
    return "".join(out).encode()


def json_document(items: list[dict] | dict) -> bytes:
    return json.dumps(items, ensure_ascii=False, separators=(",", ":")).encode()


def render(fmt: str, root: str, items: list[dict] | dict) -> tuple[bytes, str]:
    """The document's bytes and content type in `fmt` ("xml" or "json")."""
    if fmt == "json":
        return json_document(items), JSON_TYPE
    return xml_document(root, items), XML_TYPE


def errors_document(fmt: str, errors: list[tuple[int, str]]) -> tuple[bytes, str]:
    """The spec's error form: `errors/error` with `code` and `description`, one per problem."""
    return render(fmt, "errors", [{"code": code, "description": text} for code, text in errors])
