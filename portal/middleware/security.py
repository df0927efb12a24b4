"""Security headers on every response, and a strict CSP on HTML pages.

Pages may only load our own scripts, styles and images (plus the portal's map tiles);
framing is `'self'` unless a widget route already set its own `frame-ancestors`.
"""

from __future__ import annotations

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from portal.web.csp import page_csp


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
            await send(message)

        await self.app(scope, receive, send_with_headers)
