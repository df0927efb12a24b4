"""The portal's announcements: `/announcements` (current ones and the archive) and hiding
one from the home page, which works without JavaScript.

Hiding is a preference of this browser, not an account's: a cookie lists the hidden ids
(at most `MAX_HIDDEN`, newest kept). The home page is a shared page, and the page cache keys
on cookies, so a visitor who hid one gets their own copy and everyone else the shared one.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from portal.middleware.page_cache import shared_page
from portal.staff import announcements
from portal.web.forms import read_form
from portal.web.markdown_render import render_markdown
from portal.web.request_context import csrf_valid, tenant
from portal.web.templating import render, url

COOKIE = "hidden_news"
MAX_HIDDEN = 30


def hidden_ids(request: Request) -> list[int]:
    """The announcement ids this browser hid (garbage in the cookie is ignored)."""
    raw = request.cookies.get(COOKIE, "")
    return [int(part) for part in raw.split(".") if part.isdigit() and len(part) <= 12][
        -MAX_HIDDEN:]


@shared_page
def announcements_page(request: Request) -> Response:
    portal = tenant(request)
    with request.app.state.db.session() as session:
        current = announcements.current_for_portal(session, portal, limit=50)
        archive = announcements.archive_for_portal(session, portal)
    return render(request, "announcements.html", {
        "current": current, "archive": archive, "markdown": render_markdown})


async def hide_announcement(request: Request) -> Response:
    form = await read_form(request)
    home = url(request, "home")
    raw = str(form.get("announcement", ""))
    if not csrf_valid(request, form) or not raw.isdigit() or len(raw) > 12:
        return RedirectResponse(home, status_code=303)
    ids = [i for i in hidden_ids(request) if i != int(raw)] + [int(raw)]
    response = RedirectResponse(home, status_code=303)
    response.set_cookie(COOKIE, ".".join(map(str, ids[-MAX_HIDDEN:])), max_age=180 * 86400,
                        path=request.scope.get("root_path") or "/", samesite="lax",
                        httponly=True)
    return response


routes = [
    Route("/announcements", announcements_page, name="announcements"),
    Route("/announcements/hide", hide_announcement, methods=["POST"],
          name="announcement_hide"),
]
