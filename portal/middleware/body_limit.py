"""Refuse a request body past its route's limit with 413, before anything holds it.

The limit comes from `portal.web.request_limits` (the route that will handle the request, as
the router would match it). A `Content-Length` past it is refused without reading a byte;
a body without one (chunked) is counted as it streams, and reading stops at the limit: the
handler's `receive` raises, and the refusal is sent instead of its response. The refusal is a
line of text in the visitor's language, which a portal's embedding sites may frame (the
report widget posts from inside their pages).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from starlette.responses import PlainTextResponse
from starlette.routing import BaseRoute, Match, Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from portal.core.errors import N_
from portal.core.i18n import current_locale, gettext, html_lang
from portal.models import Tenant
from portal.web.request_limits import FORMS, KIB, MIB, limits_for


class BodyTooLarge(Exception):
    """Raised from `receive` once a streamed body passes its limit."""


def _content_length(scope: Scope) -> int | None:
    for name, value in scope.get("headers", []):
        if name == b"content-length":
            return int(value) if value.isascii() and value.isdigit() else None
    return None


def _size(n: int) -> str:
    return f"{n // MIB} MB" if n >= MIB else f"{max(1, n // KIB)} KB"


class BodyLimitMiddleware:
    def __init__(self, app: ASGIApp, routes: Sequence[BaseRoute], photo_bytes: int,
                 frame_ancestors: Callable[[Tenant], str] | None = None) -> None:
        self.app, self.photo_bytes, self.frame_ancestors = app, photo_bytes, frame_ancestors
        self.routes = [r for r in routes if isinstance(r, Route) and r.name in FORMS]

    def _route_name(self, scope: Scope) -> str | None:
        for route in self.routes:
            if route.matches(scope)[0] is Match.FULL:
                return route.name
        return None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limits = limits_for(self._route_name(scope))
        limit = limits.body_limit(self.photo_bytes)
        # A visitor chooses the photo, not the fields around it: name the photo's limit.
        shown = self.photo_bytes if limits.files else limit
        length = _content_length(scope)
        if length is not None and length > limit:
            await self._refuse(scope, receive, send, shown)
            return
        received, started = 0, False

        async def counting_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise BodyTooLarge
            return message

        async def watching_send(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counting_receive, watching_send)
        except BodyTooLarge:
            if started:
                raise
            await self._refuse(scope, receive, send, shown)

    async def _refuse(self, scope: Scope, receive: Receive, send: Send, shown: int) -> None:
        text = gettext(N_("This upload is too large: the limit is %(size)s."), size=_size(shown))
        tenant = scope.get("state", {}).get("tenant")
        ancestors = self.frame_ancestors(tenant) if tenant and self.frame_ancestors else "'self'"
        response = PlainTextResponse(text, status_code=413, headers={
            "content-language": html_lang(current_locale()),
            "content-security-policy": f"default-src 'none'; frame-ancestors {ancestors}",
            # The rest of the body is never read: the connection cannot carry another request.
            "connection": "close",
        })
        await response(scope, receive, send)
