"""Refuse state-changing requests that a browser says come from another site.

CSRF tokens alone do not stop a replay: anonymous tokens are bound to the portal, not to a
person, so a page elsewhere can fetch one and make its visitors' browsers post it (stuffing
votes from many real addresses). Browsers say where a request comes from, and we believe them:
a POST, PUT, PATCH or DELETE is refused (403) when `Sec-Fetch-Site` is `cross-site`, or when
`Origin` is present and is not this request's own scheme-less host and port (`null` included).

Requests with neither header (curl, servers, Open311 clients, mail providers' one-click
unsubscribe) pass: only browsers send them, and only browsers can be made to post for someone.
Widget forms need no exception: they post from our own iframe, whose origin is the portal's.
The scheme is not compared, so a TLS-terminating proxy that forwards plain HTTP still works;
nobody but us serves pages on our host.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from starlette.responses import PlainTextResponse
from starlette.types import ASGIApp, Receive, Scope, Send

STATE_CHANGING = frozenset({"POST", "PUT", "PATCH", "DELETE"})
DEFAULT_PORTS = {"http": 80, "https": 443}


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", []):
        if key == name:
            return value.decode("latin-1").strip()
    return None


def _host_port(netloc: str, default: int) -> tuple[str, int] | None:
    try:
        parts = urlsplit(f"//{netloc}")
        return (parts.hostname or "").lower(), parts.port or default
    except ValueError:
        return None


def same_origin(origin: str, host: str) -> bool:
    """Whether an `Origin` header names the host (and port) the request was sent to."""
    try:
        parts = urlsplit(origin)
    except ValueError:
        return False
    default = DEFAULT_PORTS.get(parts.scheme)
    if default is None or not parts.netloc or not host:
        return False
    theirs, ours = _host_port(parts.netloc, default), _host_port(host, default)
    return theirs is not None and theirs[0] != "" and theirs == ours


class SameOriginMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] in STATE_CHANGING:
            origin = _header(scope, b"origin")
            cross_site = (_header(scope, b"sec-fetch-site") or "").lower() == "cross-site"
            if cross_site or (origin is not None
                              and not same_origin(origin, _header(scope, b"host") or "")):
                refusal = PlainTextResponse("Cross-site request refused.", status_code=403)
                await refusal(scope, receive, send)
                return
        await self.app(scope, receive, send)
