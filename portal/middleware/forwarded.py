"""Who the client is, and over which scheme it came, when a proxy of ours passes it on.

Only a peer in `TRUSTED_PROXIES` may say so (see `portal.core.proxies`): then the ASGI
`client` becomes the right-most `X-Forwarded-For` address that is not our proxy, and `scheme`
follows its `X-Forwarded-Proto` (`http` or `https` only). From anyone else both headers are
ignored. `X-Forwarded-Host` is never read: the Host header names the site
(`portal.middleware.tenant`).
"""

from __future__ import annotations

from starlette.types import ASGIApp, Receive, Scope, Send

from portal.core.proxies import TrustedProxies


class ForwardedMiddleware:
    def __init__(self, app: ASGIApp, proxies: TrustedProxies) -> None:
        self.app, self.proxies = app, proxies

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        peer = (scope.get("client") or ("", 0))[0]
        if scope["type"] == "http" and self.proxies.trusts(peer):
            headers = scope.get("headers", [])
            forwarded = [v.decode("latin-1") for k, v in headers if k == b"x-forwarded-for"]
            scope["client"] = (self.proxies.client(peer, forwarded), 0)
            protos = [v.decode("latin-1") for k, v in headers if k == b"x-forwarded-proto"]
            proto = protos[-1].split(",")[-1].strip().lower() if protos else ""
            if proto in ("http", "https"):
                scope["scheme"] = proto
        await self.app(scope, receive, send)
