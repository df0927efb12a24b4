"""JSON for the map and the report form, scoped to the portal like the pages are.

`/api/issues.geojson` is paged and cached: its bodies are kept per process by (portal, the
portal's data version, URL prefix, language, normalised query), and its ETag is made from the
same key. The data version moves in the transaction of every change the portal shows
(`portal.tenancy.data_version`), so a hit or a 304 costs one primary-key read, and no process
serves what a moderator has hidden or redacted.
"""

from __future__ import annotations

import hashlib
import json
from collections import OrderedDict
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from portal.core.i18n import translate
from portal.core.localized import localized
from portal.models import Issue
from portal.reports import listing
from portal.reports.reporting import check_place, parse_point
from portal.reports.routing import request_types_at
from portal.tenancy import data_version
from portal.web.request_context import tenant
from portal.web.templating import url

GEOJSON = "application/geo+json"
BODY_FORMAT = "geojson-1"  # change it when the body's shape changes: old ETags must not match


class BodyCache:
    """The most recently used GeoJSON bodies, bounded in number and in bytes.

    Keys begin with the portal's id and data version (see `body_key`): many visitors load the
    same map view, and serialising 500 features costs far more than reading the version.
    Entries of older versions are never asked for again and fall out first.
    """

    def __init__(self, size: int = 256, max_bytes: int = 64 * 1024 * 1024) -> None:
        self.size, self.max_bytes, self.bytes = size, max_bytes, 0
        self.items: OrderedDict[tuple, bytes] = OrderedDict()

    def get(self, key: tuple) -> bytes | None:
        if key in self.items:
            self.items.move_to_end(key)
        return self.items.get(key)

    def put(self, key: tuple, body: bytes) -> None:
        if len(body) > self.max_bytes:
            return
        if key in self.items:
            self.bytes -= len(self.items.pop(key))
        self.items[key] = body
        self.bytes += len(body)
        while len(self.items) > self.size or self.bytes > self.max_bytes:
            self.bytes -= len(self.items.popitem(last=False)[1])


def body_key(request: Request, version: int, filters: listing.IssueFilters) -> tuple:
    """Everything a GeoJSON body depends on: the portal and its data, the URL prefix its links
    carry, the language of its type names, and the query (normalised)."""
    return (tenant(request).id, version, BODY_FORMAT, request.scope.get("root_path", ""),
            request.state.locale, urlencode(listing.query_items(filters)))


def etag_for(key: tuple) -> str:
    return '"' + hashlib.sha256(repr(key).encode()).hexdigest()[:24] + '"'


def _matches(request: Request, etag: str) -> bool:
    sent = request.headers.get("if-none-match", "")
    return any(tag.strip() in (etag, "*") for tag in sent.split(",")) if sent else False


def _json(data: object, status: int = 200, media_type: str = "application/json",
          headers: dict | None = None) -> Response:
    body = json.dumps(data, separators=(",", ":"), ensure_ascii=False).encode()
    return Response(body, status, media_type=media_type, headers=headers)


def _errors(errors: dict) -> Response:
    return _json({"errors": {k: translate(v) for k, v in errors.items()}}, 400)


def issues_geojson(request: Request) -> Response:
    portal = tenant(request)
    filters = listing.parse_filters(request.query_params, default_per_page=500)
    if filters.errors:
        return _errors(filters.errors)
    bodies: BodyCache = request.app.state.geojson_bodies
    with request.app.state.db.session() as session:
        # The version first, then the rows: a body is never older than the version it is
        # cached under.
        key = body_key(request, data_version.current(session, portal.id), filters)
        cache = {"etag": etag_for(key), "cache-control": "public, max-age=30"}
        if _matches(request, cache["etag"]):
            return Response(status_code=304, headers=cache)
        if (body := bodies.get(key)) is not None:
            return Response(body, media_type=GEOJSON, headers=cache)
        issues, total = listing.fetch_page(session, portal, filters)
        features = [_feature(request, i) for i in issues]
    pages = max(1, -(-total // filters.per_page))
    data = {"type": "FeatureCollection", "features": features,
            "total": total, "page": filters.page, "pages": pages}
    if filters.page < pages:
        params = [(k, v) for k, v in listing.query_items(filters) if k != "page"]
        params += [("page", str(filters.page + 1)), ("lang", request.state.locale)]
        data["next"] = url(request, "api_issues", _query=params)
    response = _json(data, media_type=GEOJSON, headers=cache)
    bodies.put(key, response.body)
    return response


def _feature(request: Request, issue: Issue) -> dict:
    locale = request.state.locale
    portal = tenant(request)
    type_name = localized(issue.request_type.name, locale, portal.default_language)
    return {
        "type": "Feature",
        "geometry": {"type": "Point", "coordinates": [issue.lon, issue.lat]},
        "properties": {
            "id": issue.id, "title": issue.title or type_name, "status": issue.status,
            "type": issue.request_type.code, "type_name": type_name,
            "votes": issue.vote_count, "created_at": issue.created_at.isoformat(),
            "url": url(request, "issue", issue_id=issue.id),
        },
    }


def area_geojson(request: Request) -> Response:
    portal = tenant(request)
    body = '{"type":"Feature","properties":{},"geometry":' + portal.area_geojson + "}"
    return Response(body, media_type=GEOJSON, headers={"cache-control": "public, max-age=300"})


def request_types(request: Request) -> Response:
    """The request types offered at ?lat=&lon=, for the form once a place is set."""
    portal = tenant(request)
    locale = request.state.locale
    lat, lon, errors = parse_point(request.query_params.get("lat", ""),
                                   request.query_params.get("lon", ""))
    if not errors:
        errors = check_place(portal, lat, lon, locale)
    if errors:
        return _errors(errors)
    with request.app.state.db.session() as session:
        types = [{
            "key": rt.key, "code": rt.code,
            "name": localized(rt.name, locale, portal.default_language),
            "help": localized(rt.help, locale, portal.default_language),
            "body": localized(rt.body.name, locale, portal.default_language),
        } for rt in request_types_at(session, portal, lat, lon)]
    return _json({"request_types": types})


routes = [
    Route("/api/issues.geojson", issues_geojson, name="api_issues"),
    Route("/api/area.geojson", area_geojson, name="api_area"),
    Route("/api/request-types", request_types, name="api_request_types"),
]
