"""Compress the data responses the app builds: JSON, GeoJSON, XML, CSS and SVG, with brotli or
gzip.

Static files are already pre-compressed by the static build (WhiteNoise serves those as they
are). HTML is never compressed here: pages carry CSRF tokens next to text a visitor typed,
which is what BREACH needs; a proxy in front may decide otherwise for public pages.

A compressed response's ETag becomes weak (`W/"…"`: same content, other bytes), and an
incoming `If-None-Match: W/"…"` is compared weakly, as RFC 9110 says, so handlers that compare
ETags as plain strings still answer 304.
"""

from __future__ import annotations

import gzip

import brotli
from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

COMPRESSIBLE = ("application/json", "application/geo+json", "text/css", "image/svg+xml",
                "text/xml")  # Open311's XML: a thousand requests are most of a megabyte


def compress(body: bytes, encoding: str) -> bytes:
    """`body` in `encoding` ("br" or "gzip"), as this middleware would send it: for handlers
    that keep a compressed answer to send again (they set Content-Encoding; this passes it)."""
    return brotli.compress(body, quality=5) if encoding == "br" else gzip.compress(body, 6,
                                                                                   mtime=0)


def accepted_encoding(scope: Scope) -> str:
    """"br", "gzip" or "" for the request in `scope`, as this middleware chooses."""
    return _encoding(scope)


def _encoding(scope: Scope) -> str:
    for name, value in scope.get("headers", []):
        if name == b"accept-encoding":
            accepted = value.decode("latin-1").lower()
            return "br" if "br" in accepted else "gzip" if "gzip" in accepted else ""
    return ""


class CompressionMiddleware:
    def __init__(self, app: ASGIApp, minimum_size: int = 1024) -> None:
        self.app, self.minimum_size = app, minimum_size

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        encoding = _encoding(scope) if scope["type"] == "http" else ""
        if not encoding:
            await self.app(scope, receive, send)
            return
        scope["headers"] = [
            (k, v[2:] if k == b"if-none-match" and v.startswith(b"W/") else v)
            for k, v in scope["headers"]
        ]
        held: Message | None = None

        async def compressing(message: Message) -> None:
            nonlocal held
            if message["type"] == "http.response.start":
                held = message
                return
            if held is None or message["type"] != "http.response.body":
                await send(message)
                return
            start, held = held, None
            headers = MutableHeaders(scope=start)
            body = message.get("body", b"")
            kind = headers.get("content-type", "").split(";")[0].strip()
            if (message.get("more_body") or kind not in COMPRESSIBLE
                    or "content-encoding" in headers or len(body) < self.minimum_size):
                await send(start)
                await send(message)
                return
            body = compress(body, encoding)
            headers["content-encoding"] = encoding
            headers["content-length"] = str(len(body))
            headers.add_vary_header("Accept-Encoding")
            etag = headers.get("etag")
            if etag and not etag.startswith("W/"):
                headers["etag"] = "W/" + etag
            await send(start)
            await send({"type": "http.response.body", "body": body})

        await self.app(scope, receive, compressing)
