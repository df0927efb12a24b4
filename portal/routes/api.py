"""JSON for the map and the report form, scoped to the portal like the pages are.

`/api/issues.geojson` is paged and carries an ETag built from the portal, the query and the
newest change, so an unchanged map costs a 304.
"""

from __future__ import annotations

import hashlib
import json
from collections import OrderedDict

from sqlalchemy import func, select
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from portal.core.i18n import translate
from portal.core.localized import localized
from portal.models import Issue
from portal.reports import listing
from portal.reports.reporting import check_place, parse_point
from portal.reports.routing import request_types_at
from portal.web.request_context import tenant
from portal.web.templating import url

GEOJSON = "application/geo+json"


class BodyCache:
    """The last few GeoJSON bodies by ETag (which names the portal): many visitors load the
    same map view, and serialising 500 features costs far more than the ETag query."""

    def __init__(self, size: int = 128) -> None:
        self.size, self.items = size, OrderedDict()

    def get(self, key: str) -> bytes | None:
        if key in self.items:
            self.items.move_to_end(key)
        return self.items.get(key)

    def put(self, key: str, body: bytes) -> None:
        self.items[key] = body
        self.items.move_to_end(key)
        while len(self.items) > self.size:
            self.items.popitem(last=False)



def _json(data: object, status: int = 200, media_type: str = "application/json",
          headers: dict | None = None) -> Response:
    body = json.dumps(data, separators=(",", ":"), ensure_ascii=False).encode()
    return Response(body, status, media_type=media_type, headers=headers)


def _errors(errors: dict) -> Response:
    return _json({"errors": {k: translate(v) for k, v in errors.items()}}, 400)


async def issues_geojson(request: Request) -> Response:
    portal = tenant(request)
    filters = listing.parse_filters(request.query_params, default_per_page=500)
    if filters.errors:
        return _errors(filters.errors)
    db = request.app.state.db
    with db.session() as session:
        stmt = listing.issues_query(session, portal, filters)
        sub = stmt.subquery()
        total, newest, votes = session.execute(
            select(func.count(), func.max(sub.c.updated_at), func.sum(sub.c.vote_count))).one()
        # Everything the body depends on: portal, URL prefix, query, language, and the state
        # of the matching rows (how many, the latest change, the votes).
        tag_src = (f"{portal.id}|{request.scope.get('root_path', '')}|{request.url.query}|"
                   f"{request.state.locale}|{total}|{newest}|{votes}")
        etag = '"' + hashlib.sha256(tag_src.encode()).hexdigest()[:24] + '"'
        cache = {"etag": etag, "cache-control": "public, max-age=30"}
        if request.headers.get("if-none-match") == etag:
            return Response(status_code=304, headers=cache)
        bodies: BodyCache = request.app.state.geojson_bodies
        if (body := bodies.get(etag)) is not None:
            return Response(body, media_type=GEOJSON, headers=cache)
        issues, total = listing.fetch_page(session, portal, filters)
        features = [_feature(request, i) for i in issues]
    pages = max(1, -(-total // filters.per_page))
    data = {"type": "FeatureCollection", "features": features,
            "total": total, "page": filters.page, "pages": pages}
    if filters.page < pages:
        # Every value of a repeated filter (`status=open&status=closed`) carries over.
        params = [(k, v) for k, v in request.query_params.multi_items() if k != "page"]
        params.append(("page", str(filters.page + 1)))
        data["next"] = url(request, "api_issues", _query=params)
    response = _json(data, media_type=GEOJSON, headers=cache)
    request.app.state.geojson_bodies.put(etag, response.body)
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


async def area_geojson(request: Request) -> Response:
    portal = tenant(request)
    body = '{"type":"Feature","properties":{},"geometry":' + portal.area_geojson + "}"
    return Response(body, media_type=GEOJSON, headers={"cache-control": "public, max-age=300"})


async def request_types(request: Request) -> Response:
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
