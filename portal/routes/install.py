"""The portal as an installable web app: its manifest (name, colours, icons), its icons, and
the service worker that keeps the report page and its assets for use without signal.

The worker is served from the portal's own root (`/sw.js`, or `/t/{slug}/sw.js`) so that its
scope is exactly the portal. The icons are drawn from the theme's colours (`color-primary`,
`color-on-primary`), so every portal gets its own without shipping image files.
"""

from __future__ import annotations

import io
import json
from functools import lru_cache

from PIL import Image, ImageDraw
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from portal.core.localized import localized
from portal.core.settings import REPO_ROOT
from portal.routes.assets import _cached
from portal.tenancy import themes
from portal.web.request_context import tenant
from portal.web.templating import tile_origin, url

SIZES = (192, 512)
WORKER = REPO_ROOT / "static" / "js" / "service-worker.js"


def _tokens(request: Request) -> dict[str, str]:
    portal = tenant(request)
    return themes.stylesheet(request.app.state.settings.themes_dir, portal).tokens


def manifest(request: Request) -> Response:
    portal = tenant(request)
    locale = request.state.locale
    tokens = _tokens(request)
    name = localized(portal.name, locale, portal.default_language)
    home = url(request, "home")
    body = {
        "name": name, "short_name": name[:12], "lang": locale.replace("_", "-"),
        "start_url": home, "scope": home, "id": home, "display": "standalone",
        "background_color": tokens["color-bg"], "theme_color": tokens["color-primary"],
        "icons": [{"src": url(request, "app_icon", size=str(s)), "sizes": f"{s}x{s}",
                   "type": "image/png", "purpose": "any"} for s in SIZES],
    }
    return _cached(request, json.dumps(body, ensure_ascii=False), "application/manifest+json")


@lru_cache(maxsize=64)
def _icon(size: int, background: str, foreground: str) -> bytes:
    """A map pin on the portal's colour: the same picture as the report button's."""
    image = Image.new("RGB", (size, size), background)
    draw = ImageDraw.Draw(image)
    r = size * 0.22
    cx, cy = size / 2, size * 0.42
    draw.ellipse((cx - r, cy - r, cx + r, cy + r), fill=foreground)
    draw.polygon([(cx - r * 0.8, cy + r * 0.55), (cx + r * 0.8, cy + r * 0.55),
                  (cx, size * 0.8)], fill=foreground)
    hole = r * 0.42
    draw.ellipse((cx - hole, cy - hole, cx + hole, cy + hole), fill=background)
    out = io.BytesIO()
    image.save(out, "PNG", optimize=True)
    return out.getvalue()


def app_icon(request: Request) -> Response:
    size = request.path_params["size"]
    if size not in {str(s) for s in SIZES}:
        return PlainTextResponse("Not Found", 404)
    tokens = _tokens(request)
    body = _icon(int(size), tokens["color-primary"], tokens["color-on-primary"])
    return Response(body, media_type="image/png",
                    headers={"cache-control": "public, max-age=86400"})


def service_worker(request: Request) -> Response:
    response = _cached(request, WORKER.read_text(encoding="utf-8"), "text/javascript", 0)
    response.headers["cache-control"] = "no-cache"  # a new worker is picked up at once
    # The worker fetches the map's tiles to keep copies: its own policy lets it reach the
    # portal's tile server, and nothing else beyond the portal.
    origin = tile_origin(tenant(request).tile_url)
    response.headers["content-security-policy"] = (
        "default-src 'none'; connect-src 'self'" + (f" {origin}" if origin else ""))
    return response


routes = [
    Route("/manifest.webmanifest", manifest, name="manifest"),
    Route("/app-icon-{size}.png", app_icon, name="app_icon"),
    Route("/sw.js", service_worker, name="service_worker"),
]
