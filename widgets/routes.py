"""Widget routes: the loader (`/embed.js`, `/embed/v1.<hash>.js`) and the iframe pages.

`/w/{tenant}/map|report|announcements` take their portal from the path (the tenant middleware
resolves `/w/{slug}/` like `/t/{slug}/`, so links they generate point at the portal). They send
`frame-ancestors 'self'` plus the portal's allowed embedding origins, and
`Cross-Origin-Resource-Policy: cross-origin`. They set no cookie and need none: the report
form's CSRF token is signed and travels in the form. The report widget reuses the portal's
report handlers (`portal.routes.report`) with its own template, so validation and filing are
the portal's own.
"""

from __future__ import annotations

import re
from urllib.parse import urlencode, urlsplit

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from portal.core.errors import NotFound
from portal.models import Tenant
from portal.routes import report as portal_report
from portal.staff import announcements
from portal.tenancy.scoping import get_public_issue
from portal.web.markdown_render import render_markdown
from portal.web.request_context import tenant
from portal.web.templating import render

from . import loader, staff
from .snippets import parse_options

ORIGIN = re.compile(r"^https?://[a-z0-9.-]+(:\d{1,5})?$")
LOADER_MAX_AGE = 300  # fixes to /embed.js roll out within five minutes


def frame_ancestors(portal: Tenant, referer: str = "", own_origin: str = "") -> str:
    """`'self'` plus the portal's embedding origins (already normalised when saved).

    When the frame's request says which site asked for it (`Referer`, which browsers send as
    at least the origin to a cross-origin frame), only that origin is named if it is allowed,
    and none if not: a refused site's console does not list the portal's partners. A request
    with no referrer, or from inside the widget itself (the report form posting, its own
    origin), gets the whole list: the trade-off, or a page that sends no referrer could not
    embed, and a form sent inside the frame would be refused by the page around it.
    """
    allowed = [o for o in portal.embed_origins if ORIGIN.match(o)]
    asking = urlsplit(referer)
    if asking.scheme in ("http", "https") and asking.netloc:
        origin = f"{asking.scheme}://{asking.netloc}".lower()
        if origin != own_origin.lower():
            allowed = [o for o in allowed if o == origin]
    return " ".join(["'self'", *allowed])


def _ancestors(request: Request) -> str:
    own = f"{request.url.scheme}://{request.url.netloc}"
    return frame_ancestors(tenant(request), request.headers.get("referer", ""), own)


def _widget_response(response: Response) -> Response:
    response.headers["cross-origin-resource-policy"] = "cross-origin"
    response.headers.append("vary", "Referer")  # frame-ancestors names the asking site
    return response


def _render(request: Request, template: str, context: dict, status_code: int = 200) -> Response:
    return _widget_response(render(request, template, context, status_code,
                                   frame_ancestors=_ancestors(request)))


def _loader_response(request: Request, build: loader.LoaderBuild, cache_control: str) -> Response:
    headers = {
        "cache-control": cache_control,
        "etag": build.etag,
        "cross-origin-resource-policy": "cross-origin",
        "access-control-allow-origin": "*",  # SRI on a cross-origin script needs CORS
        "vary": "Accept-Encoding",
    }
    if build.etag in request.headers.get("if-none-match", ""):
        return Response(status_code=304, headers=headers)
    accepted = request.headers.get("accept-encoding", "")
    body = build.body
    if "br" in accepted:
        body, headers["content-encoding"] = build.brotli, "br"
    elif "gzip" in accepted:
        body, headers["content-encoding"] = build.gzip, "gzip"
    return Response(body, media_type="text/javascript; charset=utf-8", headers=headers)


def embed_js(request: Request) -> Response:
    return _loader_response(request, loader.current(),
                            f"public, max-age={LOADER_MAX_AGE}, stale-while-revalidate=60")


def embed_versioned(request: Request) -> Response:
    build = loader.versioned(request.path_params["name"])
    if build is None:
        return Response("Not Found", status_code=404, media_type="text/plain")
    return _loader_response(request, build, "public, max-age=31536000, immutable")


def _map_options(request: Request) -> dict:
    q = request.query_params
    options, _errors = parse_options(tenant(request).slug, {
        "center": q.get("center", ""), "zoom": q.get("zoom", ""),
        "status": q.getlist("status"), "type": q.getlist("type")}, [])
    # Bad values are dropped, never an error page: a host page cannot see one.
    query = [("status", s) for s in options.statuses] + [("type", t) for t in options.types]
    return {
        "query": urlencode(query),
        "center": f"{options.center[0]},{options.center[1]}" if options.center else "",
        "zoom": options.zoom or "",
    }


def map_widget(request: Request) -> Response:
    portal = tenant(request)
    bbox = (portal.min_lon, portal.min_lat, portal.max_lon, portal.max_lat)
    return _render(request, "widget_map.html", {"bbox": bbox, **_map_options(request)})


def announcements_widget(request: Request) -> Response:
    with request.app.state.db.session() as session:
        news = announcements.current_for_portal(session, tenant(request))
    return _render(request, "widget_announcements.html",
                   {"announcements": news, "markdown": render_markdown})


def _use_widget_template(request: Request) -> None:
    request.scope["report_template"] = "widget_report.html"
    request.scope["frame_ancestors"] = _ancestors(request)


async def report_widget(request: Request) -> Response:
    _use_widget_template(request)
    return _widget_response(await portal_report.report_form(request))


async def report_widget_submit(request: Request) -> Response:
    _use_widget_template(request)

    def sent(issue_id: int) -> Response:
        path = request.app.url_path_for("widget_report_sent", tenant=tenant(request).slug,
                                        issue_id=str(issue_id))
        return RedirectResponse(f"{path}?{urlencode({'lang': request.state.locale})}", 303)

    return _widget_response(await portal_report.submit(request, sent))


def report_sent(request: Request) -> Response:
    issue = None
    with request.app.state.db.session() as session:
        try:
            issue = get_public_issue(session, tenant(request), request.path_params["issue_id"])
            _ = issue.body.name, issue.request_type.name  # loaded while the session is open
        except NotFound:
            pass  # hidden by a moderator meanwhile: still thank the reporter
    again = request.app.url_path_for("widget_report", tenant=tenant(request).slug)
    return _render(request, "widget_report_sent.html", {
        "issue": issue, "again_url": f"{again}?{urlencode({'lang': request.state.locale})}"})


routes = [
    Route("/embed.js", embed_js, name="embed_js"),
    Route("/embed/{name}", embed_versioned, name="embed_versioned"),
    Route("/w/{tenant}/map", map_widget, name="widget_map"),
    Route("/w/{tenant}/announcements", announcements_widget, name="widget_announcements"),
    Route("/w/{tenant}/report", report_widget, methods=["GET"], name="widget_report"),
    Route("/w/{tenant}/report", report_widget_submit, methods=["POST"],
          name="widget_report_submit"),
    Route("/w/{tenant}/report/sent/{issue_id:int}", report_sent, name="widget_report_sent"),
    *staff.routes,
]
