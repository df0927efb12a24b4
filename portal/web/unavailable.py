"""The answer when the database a request needs cannot be reached: 503 with `Retry-After`.

With a read replica, public pages go on being served from it while the primary is down (or
failing over); whatever needs the primary — a report, a vote, signing in, the staff area —
gets this instead: a page in the visitor's language (JSON under `/api/`) saying to try again
shortly. Nothing is half-done: a transaction that lost its server is rolled back (or, if the
server went away while committing it, was committed whole), and what is sent again is not
filed twice: reports and comments carry a submission key, votes count once per visitor.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response

from portal.core.db import DOWN_FOR, DatabaseUnavailable
from portal.core.errors import N_, Message
from portal.core.i18n import gettext, translate
from portal.web.route_path import route_path
from portal.web.templating import render

# Past `DOWN_FOR`, so a retry is not refused again only because the primary failed recently.
RETRY_AFTER = int(DOWN_FOR * 2)
UNAVAILABLE = N_("The portal cannot reach its database just now. Please try again in a minute.")


def headers() -> dict[str, str]:
    return {"retry-after": str(RETRY_AFTER), "cache-control": "no-store"}


def unavailable_page(request: Request, exc: DatabaseUnavailable) -> Response:
    """The app's handler for `DatabaseUnavailable` raised by a route."""
    if route_path(request.scope).startswith("/api/"):
        return JSONResponse({"errors": {"service": translate(Message(UNAVAILABLE))}}, 503,
                            headers())
    if getattr(request.state, "tenant", None) is None or not hasattr(request.state, "locale"):
        return unavailable_text()
    response = render(request, "error.html", {"status": 503, "message": gettext(UNAVAILABLE)},
                      503, request.scope.get("frame_ancestors", "'self'"))
    response.headers.update(headers())
    return response


def unavailable_text() -> Response:
    """For middleware, before any page can be rendered: one line in the current language."""
    return PlainTextResponse(gettext(UNAVAILABLE), 503, headers())
