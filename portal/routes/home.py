"""The portal home (map, list, filters, announcements) and the plain list view."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from portal.core import geo
from portal.middleware.page_cache import shared_page
from portal.reports import listing
from portal.routes.announcements import hidden_ids
from portal.staff import announcements
from portal.web.markdown_render import render_markdown
from portal.web.request_context import csrf_token, tenant
from portal.web.templating import render


def _list_context(request: Request, per_page: int) -> dict:
    portal = tenant(request)
    filters = listing.parse_filters(request.query_params, per_page)
    with request.app.state.db.session() as session:
        page = listing.fetch_page(session, portal, filters)
        types = listing.offered_types(session, portal)
        news = announcements.current_for_portal(session, portal)
    hidden = set(hidden_ids(request))
    lat, lon = geo.centre(portal.area_geojson)
    return {
        "issues": page.issues, "page": page, "total": page.total, "filters": filters,
        "types": types,
        # Current news, less what this browser hid (the full list is on /announcements).
        "announcements": [a for a in news if a.id not in hidden],
        "hidden_news": len([a for a in news if a.id in hidden]),
        "markdown": render_markdown, "csrf_token": csrf_token(request),
        "centre": (lat, lon), "bbox": (portal.min_lon, portal.min_lat, portal.max_lon,
                                       portal.max_lat),
        "pages": max(1, -(-page.total // filters.per_page)),
    }


@shared_page
def home_page(request: Request) -> Response:
    return render(request, "home.html", _list_context(request, per_page=20))


@shared_page
def list_page(request: Request) -> Response:
    return render(request, "issues.html", _list_context(request, per_page=50))


routes = [
    Route("/", home_page, name="home"),
    Route("/issues", list_page, name="issues"),
]
