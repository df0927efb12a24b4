"""Security headers on every response, a strict CSP on HTML pages, no-store on private ones.

Pages may only load our own scripts, styles and images (plus the portal's map tiles);
framing is `'self'` unless a widget route already set its own `frame-ancestors`.

Private pages — the staff area, the account, signing in and out, a watch's management page
and its feed (both opened by a private token), unsubscribing — are `Cache-Control: no-store`,
whatever the route said, so no browser or shared cache keeps them. The rule is by section,
here, so a new staff page is covered without remembering to. With a read replica the same
pages read on the primary (`portal.middleware.read_preference`). Over https (the ASGI scheme, as
the server and any proxy it trusts set it) every response carries HSTS.
"""

from __future__ import annotations

import re

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from portal.web.csp import page_csp
from portal.web.route_path import route_path

PRIVATE_SECTIONS = ("/staff", "/account", "/signin", "/signout", "/unsubscribe",
                    "/watch/confirm")
PRIVATE_FEED = re.compile(r"^/watch/[^/]+/feed\.atom$")
HSTS = "max-age=31536000; includeSubDomains"


def is_private(path: str) -> bool:
    return PRIVATE_FEED.match(path) is not None or any(
        path == section or path.startswith(section + "/") for section in PRIVATE_SECTIONS)


class SecurityHeadersMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                headers.setdefault("x-content-type-options", "nosniff")
                headers.setdefault("referrer-policy", "strict-origin-when-cross-origin")
                headers.setdefault("permissions-policy", "camera=(), microphone=()")
                if "content-security-policy" not in headers:
                    headers["content-security-policy"] = page_csp()
                    headers.setdefault("x-frame-options", "SAMEORIGIN")
                # Read at response time: the tenant middleware has set the root path by then.
                if is_private(route_path(scope)):
                    headers["cache-control"] = "no-store"
                if scope.get("scheme") == "https":
                    headers.setdefault("strict-transport-security", HSTS)
            await send(message)

        await self.app(scope, receive, send_with_headers)
