"""Search: words, status, request type, dates and a place; results as list and map."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from portal.core import geo
from portal.middleware.page_cache import shared_page
from portal.reports import listing
from portal.web.request_context import tenant
from portal.web.templating import render


@shared_page
def search_page(request: Request) -> Response:
    portal = tenant(request)
    filters = listing.parse_filters(request.query_params, 50)
    page = None
    with request.app.state.db.session() as session:
        types = listing.offered_types(session, portal)
        if filters.has_criteria() and not filters.errors:
            page = listing.fetch_page(session, portal, filters)
    total = page.total if page else 0
    return render(request, "search.html", {
        "issues": page.issues if page else [], "total": total, "page": page,
        "filters": filters, "types": types,
        "searched": filters.has_criteria(), "centre": geo.centre(portal.area_geojson),
        "bbox": (portal.min_lon, portal.min_lat, portal.max_lon, portal.max_lat),
        "pages": max(1, -(-total // filters.per_page)),
    }, 400 if filters.errors else 200)


routes = [Route("/search", search_page, name="search")]
