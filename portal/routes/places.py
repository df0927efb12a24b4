"""Place search: suggestions as JSON while typing, and the same search as a plain page.

The JSON answers live under /api/ like the map's, so they set no cookie (a widget's page may
ask them; see `portal.middleware.locale`).

`/api/places?q=` answers the search box's list (`static/js/places.js`); `/places?q=&for=`
is what the box's form sends without JavaScript: a page listing the matches, each a link that
sets the place where the search came from (the report form, the home map, a watch area).
"""

from __future__ import annotations

import json

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from portal.core.errors import N_, Message
from portal.core.i18n import translate
from portal.places import backends, point_names
from portal.places.gazetteer import MAX_QUERY, Suggestion
from portal.reports.reporting import area_label
from portal.routes import api
from portal.web.request_context import tenant
from portal.web.templating import render, url

TARGETS = ("report", "home", "watch")
TOO_LONG = N_("Type at most %(max)s characters.")
KIND_LABELS = {
    "area": N_("Neighbourhood or area"), "landmark": N_("Landmark"),
    "intersection": N_("Intersection"), "address": N_("Address"),
    "reported": N_("Address of an earlier report"),
}


def _find(request: Request, query: str, typing: bool) -> list[Suggestion]:
    with request.app.state.db.session() as session:
        return backends.find_places(session, tenant(request), query, request.state.locale,
                                    typing=typing)


def _box(s: Suggestion) -> str:
    """A box around a choice, about a street wide (the home page's list filter)."""
    d = 0.002 if s.zoom >= 17 else 0.01
    return ",".join(f"{v:.5f}" for v in (s.lon - d, s.lat - d, s.lon + d, s.lat + d))


def _target_url(request: Request, target: str, s: Suggestion) -> str:
    point = {"lat": f"{s.lat:.6f}", "lon": f"{s.lon:.6f}"}
    if target == "home":
        return url(request, "home", _query={"bbox": _box(s)})
    if target == "watch":
        return url(request, "watch", _query=point)
    return url(request, "report", _query={**point, "place": s.label})


def suggest(request: Request) -> Response:
    query = request.query_params.get("q", "")
    if len(query) > MAX_QUERY:
        body = {"error": translate(Message(TOO_LONG, {"max": MAX_QUERY}))}
        return Response(json.dumps(body, ensure_ascii=False), 400,
                        media_type="application/json")
    found = _find(request, query, typing=True)
    body = {"query": query, "suggestions": [{
        "label": s.label, "kind": s.kind, "kind_label": translate(Message(KIND_LABELS[s.kind])),
        "lat": s.lat, "lon": s.lon, "zoom": s.zoom} for s in found]}
    return Response(json.dumps(body, separators=(",", ":"), ensure_ascii=False),
                    media_type="application/json",
                    headers={"cache-control": "public, max-age=60", "vary": "Accept-Language"})


def place_name(request: Request) -> Response:
    """What a point is called (`?lat=&lon=`), for the report map's keyboard pin to announce.

    From the portal's own gazetteer only: a resident may set the pin many times, and a
    remote geocoder must not be asked that often (Nominatim's policy).
    """
    portal = tenant(request)
    locale = request.state.locale
    lat, lon, errors = api.checked_point(request)
    if errors:
        return api.errors_response(errors)
    with request.app.state.db.session() as session:
        name = str(point_names.name_of(session, portal, lat, lon, locale))
    return Response(json.dumps({"name": name}, ensure_ascii=False),
                    media_type="application/json",
                    headers={"cache-control": "public, max-age=60", "vary": "Accept-Language"})


def places_page(request: Request) -> Response:
    query = request.query_params.get("q", "")
    target = request.query_params.get("for", "report")
    target = target if target in TARGETS else "report"
    errors: dict[str, Message] = {}
    results = []
    if len(query) > MAX_QUERY:
        errors["q"] = Message(TOO_LONG, {"max": MAX_QUERY})
    elif query.strip():
        results = [{"label": s.label, "kind": translate(Message(KIND_LABELS[s.kind])),
                    "href": _target_url(request, target, s)}
                   for s in _find(request, query, typing=False)]
    return render(request, "places.html", {
        "query": query, "target": target, "results": results, "errors": errors,
        "area": area_label(tenant(request), request.state.locale),
    }, 400 if errors else 200)


routes = [
    Route("/places", places_page, name="places"),
    Route("/api/places", suggest, name="places_suggest"),
    Route("/api/place-name", place_name, name="places_name"),
]
