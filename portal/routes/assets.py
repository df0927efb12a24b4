"""Per-portal assets: the theme's tokens as CSS, the logo, and stored photos."""

from __future__ import annotations

import hashlib
import re

from starlette.requests import Request
from starlette.responses import FileResponse, PlainTextResponse, Response
from starlette.routing import Route

from portal.reports import photos
from portal.staff import moderation
from portal.tenancy import themes
from portal.web.request_context import tenant

DIGEST = re.compile(r"^[0-9a-f]{40}$")


def _cached(request: Request, body: str, media_type: str, max_age: int = 300,
            version: str | None = None) -> Response:
    """Kept `max_age` seconds, then checked by its ETag. Pages link a portal's stylesheet and
    logo as `?v=<version>`: that URL's answer never changes, so it is kept a year."""
    etag = '"' + hashlib.sha256(body.encode()).hexdigest()[:20] + '"'
    kept = ("max-age=31536000, immutable" if version and request.query_params.get("v") == version
            else f"max-age={max_age}")
    headers = {"etag": etag, "cache-control": f"public, {kept}",
               "cross-origin-resource-policy": "cross-origin"}
    if request.headers.get("if-none-match") == etag:
        return Response(status_code=304, headers=headers)
    return Response(body, media_type=media_type, headers=headers)


def theme_css(request: Request) -> Response:
    sheet = themes.stylesheet(request.app.state.settings.themes_dir, tenant(request))
    return _cached(request, sheet.css, "text/css", version=sheet.version)


def logo(request: Request) -> Response:
    portal = tenant(request)
    if not portal.logo_svg:
        return PlainTextResponse("Not Found", 404)
    sheet = themes.stylesheet(request.app.state.settings.themes_dir, portal)
    response = _cached(request, portal.logo_svg, "image/svg+xml",
                       version=sheet.logo_version)
    # An SVG opened directly must not run script.
    response.headers["content-security-policy"] = "default-src 'none'; style-src 'unsafe-inline'"
    return response


def media(request: Request) -> Response:
    name = request.path_params["file"]
    digest, _, variant = name.partition("-")
    if not DIGEST.match(digest) or variant not in ("", "thumb"):
        return PlainTextResponse("Not Found", 404)
    path = photos.path_for(request.app.state.settings.media_dir, digest, variant or "display")
    if not path.is_file():
        return PlainTextResponse("Not Found", 404)
    with request.app.state.db.session() as session:
        if not moderation.photo_visible(session, tenant(request), digest):
            return PlainTextResponse("Not Found", 404)
    # Content never changes, but moderators may take a photo down: caches recheck daily.
    return FileResponse(path, media_type="image/jpeg", headers={
        "cache-control": "public, max-age=86400",
        "cross-origin-resource-policy": "cross-origin"})


routes = [
    Route("/theme.css", theme_css, name="theme_css"),
    Route("/logo.svg", logo, name="logo"),
    Route("/media/{file}.jpg", media, name="media"),
]
