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
import time
from collections import OrderedDict
from datetime import datetime
from urllib.parse import urlencode

from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from portal.core.errors import N_, Message
from portal.core.i18n import translate
from portal.core.localized import localized
from portal.middleware.page_cache import shared_page
from portal.models import STATUSES, Issue, RequestType, utcnow
from portal.reports import clusters, deadlines, listing
from portal.reports.activity import aware
from portal.reports.reporting import check_place, parse_point
from portal.reports.routing import request_types_at
from portal.tenancy import data_version
from portal.web.map_labels import cluster_label
from portal.web.request_context import tenant
from portal.web.templating import url

GEOJSON = "application/geo+json"
BODY_FORMAT = "geojson-3"  # change it when the body's shape changes: old ETags must not match
OVERDUE = {"fix": N_("Overdue: not fixed within the target"),
           "acknowledge": N_("Overdue: not acknowledged within the target")}


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
    carry, the language of its type names, the query (normalised), and the minute: an issue
    turns overdue as time passes, with no write to move the data version."""
    return (tenant(request).id, version, BODY_FORMAT, request.scope.get("root_path", ""),
            request.state.locale, urlencode(listing.query_items(filters)),
            int(time.time() // 60))


def etag_for(key: tuple) -> str:
    return '"' + hashlib.sha256(repr(key).encode()).hexdigest()[:24] + '"'


def _matches(request: Request, etag: str) -> bool:
    sent = request.headers.get("if-none-match", "")
    return any(tag.strip() in (etag, "*") for tag in sent.split(",")) if sent else False


def _json(data: object, status: int = 200, media_type: str = "application/json",
          headers: dict | None = None) -> Response:
    body = json.dumps(data, separators=(",", ":"), ensure_ascii=False).encode()
    return Response(body, status, media_type=media_type, headers=headers)


def errors_response(errors: dict) -> Response:
    return _json({"errors": {k: translate(v) for k, v in errors.items()}}, 400)


@shared_page  # hits skip every middleware; a 304 is answered there too, from the kept ETag
def issues_geojson(request: Request) -> Response:
    portal = tenant(request)
    filters = listing.parse_filters(request.query_params, default_per_page=500)
    if filters.errors:
        return errors_response(filters.errors)
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
        if filters.zoom is None:
            data = _paged(request, session, filters)
        else:
            data = _map_view(request, session, filters)
    response = _json(data, media_type=GEOJSON, headers=cache)
    bodies.put(key, response.body)
    return response


def _paged(request: Request, session: Session, filters: listing.IssueFilters) -> dict:
    """The list of points, newest first, `per_page` at a time: for integrators and lists."""
    page = listing.fetch_page(session, tenant(request), filters)
    link = _issue_link(request)
    now = utcnow()
    features = [_feature(request, link, i.id, i.title, i.status, i.lat, i.lon, i.vote_count,
                         i.created_at, i.place_name, i.request_type.code, i.request_type.name,
                         deadlines.issue_lateness(i, now))
                for i in page.issues]
    pages = max(1, -(-page.total // filters.per_page))
    data = {"type": "FeatureCollection", "features": features, "total": page.total,
            "total_exact": page.total_exact, "page": filters.page, "pages": pages}
    if page.more:
        params = [(k, v) for k, v in listing.query_items(filters)
                  if k not in ("page", "after", "before")]
        params += [("after", page.after), ("page", str(filters.page + 1)),
                   ("lang", request.state.locale)]
        data["next"] = url(request, "api_issues", _query=params)
    return data


def _map_view(request: Request, session: Session, filters: listing.IssueFilters) -> dict:
    """What a map at `zoom` draws over `bbox`: every matching issue, or clusters of them."""
    portal = tenant(request)
    bbox = filters.bbox or (portal.min_lon, portal.min_lat, portal.max_lon, portal.max_lat)
    view = clusters.viewport(session, portal,
                             lambda: listing.matching_rows(session, portal, filters),
                             bbox, filters.zoom, filters.statuses,
                             cells_apply=listing.counted_by_cells(filters, portal))
    if view.clustered:
        features = [_cluster_feature(c) for c in view.clusters]
    else:
        link = _issue_link(request)
        rows = {row.id: row for row in session.execute(
            select(Issue.id, Issue.title, Issue.status, Issue.lat, Issue.lon, Issue.vote_count,
                   Issue.created_at, Issue.place_name, Issue.acknowledge_due_at,
                   Issue.close_due_at, Issue.request_type_id)
            .where(Issue.id.in_(view.issue_ids)))} if view.issue_ids else {}
        # A viewport's few hundred issues have a dozen types: their names (JSON) once each.
        type_ids = {row.request_type_id for row in rows.values()}
        types = {t.id: (t.code, t.name) for t in session.execute(
            select(RequestType.id, RequestType.code, RequestType.name)
            .where(RequestType.id.in_(type_ids)))} if type_ids else {}
        now = aware(utcnow())
        features = [_feature(request, link, *row[:-3], *types[row.request_type_id],
                             deadlines.lateness(row.status, row.acknowledge_due_at,
                                                row.close_due_at, now))
                    for row in (rows[i] for i in view.issue_ids if i in rows)]
    return {"type": "FeatureCollection", "zoom": filters.zoom, "clustered": view.clustered,
            "total": view.total, "features": features}


def _issue_link(request: Request) -> str:
    """The issue page's URL with `{id}` for the number: built once per response, because
    Starlette's `url_path_for` walks the whole route list on every call."""
    sample = url(request, "issue", issue_id=1)
    return sample[:-1] + "{id}"


def _feature(request: Request, link: str, issue_id: int, title: str, status: str, lat: float,
             lon: float, votes: int, created_at: datetime, place_name: str, type_code: str,
             type_names: dict, late: str | None = None) -> dict:
    portal = tenant(request)
    type_name = localized(type_names, request.state.locale, portal.default_language)
    feature = {
        "type": "Feature",
        "geometry": {"type": "Point", "coordinates": [lon, lat]},
        "properties": {
            "id": issue_id, "title": title or type_name, "status": status,
            "type": type_code, "type_name": type_name, "votes": votes,
            "created_at": created_at.isoformat(), "url": link.replace("{id}", str(issue_id)),
            "place": place_name,
        },
    }
    if late:  # which promise it missed, and the words the map shows for it
        feature["properties"]["overdue"] = late
        feature["properties"]["overdue_label"] = translate(Message(OVERDUE[late]))
    return feature


def _cluster_feature(cluster: clusters.Cluster) -> dict:
    counts = {s: cluster.counts[s] for s in STATUSES if cluster.counts.get(s)}
    return {
        "type": "Feature",
        "geometry": {"type": "Point", "coordinates": [round(cluster.lon, 6),
                                                      round(cluster.lat, 6)]},
        "properties": {"cluster": True, "count": cluster.count, "counts": counts,
                       "bounds": [round(v, 6) for v in cluster.bounds],
                       "label": cluster_label(cluster.count, counts)},
    }


def area_geojson(request: Request) -> Response:
    portal = tenant(request)
    # The outline simplified for maps when there is one; routing keeps the original.
    outline = portal.display_area_geojson or portal.area_geojson
    body = '{"type":"Feature","properties":{},"geometry":' + outline + "}"
    return Response(body, media_type=GEOJSON, headers={"cache-control": "public, max-age=300"})


def checked_point(request: Request) -> tuple[float, float, dict]:
    """`?lat=&lon=`, read and checked against the portal's area (errors for `errors_response`)."""
    lat, lon, errors = parse_point(request.query_params.get("lat", ""),
                                   request.query_params.get("lon", ""))
    if not errors:
        errors = check_place(tenant(request), lat, lon, request.state.locale)
    return lat, lon, errors


def request_types(request: Request) -> Response:
    """The request types offered at ?lat=&lon=, for the form once a place is set."""
    portal = tenant(request)
    locale = request.state.locale
    lat, lon, errors = checked_point(request)
    if errors:
        return errors_response(errors)
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
