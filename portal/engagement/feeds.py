"""Atom feeds (RFC 4287), built with ElementTree so every value is escaped.

Characters XML 1.0 forbids (control characters someone pasted into a report) are dropped,
so a feed always parses. Entry ids are `tag:` URIs that do not change when a portal moves to
another host name.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from datetime import datetime

from portal.reports.activity import aware

ATOM_NS = "http://www.w3.org/2005/Atom"
MEDIA_TYPE = "application/atom+xml; charset=utf-8"
_INVALID_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")

ET.register_namespace("", ATOM_NS)


def clean(text: str) -> str:
    return _INVALID_XML.sub("", text or "")


def tag_uri(authority: str, specific: str) -> str:
    """`tag:reportal.example.org,2025:issues/12` style ids (RFC 4151)."""
    host = re.sub(r"[^a-z0-9.-]", "", authority.lower().split(":")[0]) or "reportal.invalid"
    return f"tag:{host},2025:{specific}"


def stamp(value: datetime) -> str:
    return aware(value).isoformat(timespec="seconds")


@dataclass
class Entry:
    id: str
    title: str
    updated: datetime
    link: str
    summary: str = ""
    content_html: str = ""
    category: str = ""
    published: datetime | None = None


def _el(parent: ET.Element, name: str, text: str | None = None, **attrs: str) -> ET.Element:
    node = ET.SubElement(parent, f"{{{ATOM_NS}}}{name}", {k: clean(v) for k, v in attrs.items()})
    if text is not None:
        node.text = clean(text)
    return node


def atom(*, feed_id: str, title: str, self_url: str, alternate_url: str, author: str,
         entries: list[Entry], updated: datetime, subtitle: str = "",
         language: str = "en") -> bytes:
    """The feed document as UTF-8 bytes."""
    feed = ET.Element(f"{{{ATOM_NS}}}feed",
                      {"{http://www.w3.org/XML/1998/namespace}lang": language.replace("_", "-")})
    _el(feed, "id", feed_id)
    _el(feed, "title", title)
    if subtitle:
        _el(feed, "subtitle", subtitle)
    _el(feed, "updated", stamp(updated))
    _el(feed, "link", rel="self", type="application/atom+xml", href=self_url)
    _el(feed, "link", rel="alternate", type="text/html", href=alternate_url)
    _el(_el(feed, "author"), "name", author)
    _el(feed, "generator", "Reportal")
    for entry in entries:
        node = _el(feed, "entry")
        _el(node, "id", entry.id)
        _el(node, "title", entry.title)
        _el(node, "updated", stamp(entry.updated))
        if entry.published is not None:
            _el(node, "published", stamp(entry.published))
        _el(node, "link", rel="alternate", type="text/html", href=entry.link)
        if entry.category:
            _el(node, "category", term=entry.category)
        if entry.summary:
            _el(node, "summary", entry.summary, type="text")
        if entry.content_html:
            _el(node, "content", entry.content_html, type="html")
    return ET.tostring(feed, encoding="utf-8", xml_declaration=True)
