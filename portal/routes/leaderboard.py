"""The civic points leaderboard of a portal (see `portal.engagement.points` for what it shows)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from portal.engagement import points
from portal.middleware.page_cache import shared_page
from portal.web.request_context import tenant
from portal.web.templating import render


@shared_page
def leaderboard_page(request: Request) -> Response:
    with request.app.state.db.session() as session:
        standings = points.leaderboard(session, tenant(request))
    return render(request, "leaderboard.html", {
        "standings": standings, "badges": points.BADGES, "points": points.POINTS})


routes = [Route("/leaderboard", leaderboard_page, methods=["GET"], name="leaderboard")]
