"""`create_app(settings)`: the ASGI application, assembled from small parts.

Middleware, outermost first: shared pages (`portal.middleware.page_cache`: a hit skips the rest) ->
client address from trusted proxies -> security headers -> same-origin check on state changes
-> compression of data responses -> tenant from host -> read preference (primary or replica)
-> locale -> request body limit -> signed session.
Static files are WhiteNoise (WSGI) mounted through a2wsgi at /static.
"""

from __future__ import annotations

from a2wsgi import WSGIMiddleware
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.middleware.sessions import SessionMiddleware
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Mount, Route
from whitenoise import WhiteNoise

from portal import reactions, worker
from portal.core.db import Database, DatabaseUnavailable
from portal.core.errors import DomainError, NotFound
from portal.core.i18n import translate
from portal.core.proxies import TrustedProxies
from portal.core.settings import Settings
from portal.middleware.auth import AuthMiddleware
from portal.middleware.body_limit import BodyLimitMiddleware
from portal.middleware.compression import CompressionMiddleware
from portal.middleware.forwarded import ForwardedMiddleware
from portal.middleware.locale import LocaleMiddleware
from portal.middleware.page_cache import PageCache, PageCacheMiddleware
from portal.middleware.read_preference import ReadPreferenceMiddleware
from portal.middleware.same_origin import SameOriginMiddleware
from portal.middleware.security import SecurityHeadersMiddleware
from portal.middleware.tenant import TenantCache, TenantMiddleware
from portal.operator import routes as operator_routes
from portal.routes import announcements as announcement_routes
from portal.routes import (
    api,
    assets,
    dashboard,
    feeds,
    home,
    issue,
    leaderboard,
    open311,
    places,
    report,
    report_status,
    search,
    unsubscribe,
    watch,
)
from portal.routes import compare as compare_routes
from portal.routes import install as install_routes
from portal.routes import moderation as moderation_routes
from portal.routes import signin as signin_routes
from portal.routes import sms as sms_routes
from portal.routes import staff as staff_routes
from portal.routes import staff_announcements as staff_announcement_routes
from portal.routes import staff_constituents as staff_constituent_routes
from portal.routes import staff_open311 as staff_open311_routes
from portal.routes import staff_portal as staff_portal_routes
from portal.routes import staff_portal_team as staff_portal_team_routes
from portal.routes import staff_templates as staff_template_routes
from portal.web import session_tokens, static_build
from portal.web.csrf import CsrfSigner
from portal.web.forms import FormRefused
from portal.web.ratelimit import rate_limiter
from portal.web.templating import Templates, render
from portal.web.unavailable import unavailable_page
from widgets import card_routes
from widgets import routes as widget_routes


def _static_app(settings: Settings) -> WSGIMiddleware:
    def not_found(environ, start_response):  # noqa: ANN001,ANN202 - WSGI signature
        start_response("404 Not Found", [("Content-Type", "text/plain")])
        return [b"Not Found"]

    def immutable(path: str, url: str) -> bool:
        # Every built file but Leaflet's CSS-relative images carries a content hash.
        return "/vendor/leaflet/images/" not in url and url.count(".") >= 2

    whitenoise = WhiteNoise(not_found, root=str(settings.static_build_dir), prefix="",
                            max_age=3600, immutable_file_test=immutable,
                            add_headers_function=_cross_origin)
    return WSGIMiddleware(whitenoise)


def _cross_origin(headers, path: str, url: str) -> None:  # noqa: ANN001 - wsgiref Headers
    # Widgets load these from other sites' pages, some with COEP.
    headers["Cross-Origin-Resource-Policy"] = "cross-origin"


def _error_page(request: Request, exc: Exception) -> Response:
    status = exc.status_code if isinstance(exc, HTTPException) else 404
    if isinstance(exc, NotFound):
        status = 404
    tenant = getattr(request.state, "tenant", None)
    if tenant is None or not hasattr(request.state, "locale"):
        return PlainTextResponse("Not Found" if status == 404 else "Error", status_code=status)
    message = translate(exc.message) if isinstance(exc, DomainError | FormRefused) else None
    return render(request, "error.html", {"status": status, "message": message}, status,
                  request.scope.get("frame_ancestors", "'self'"))


def healthz(request: Request) -> Response:
    return PlainTextResponse("ok")


def create_app(settings: Settings | None = None) -> Starlette:
    settings = settings or Settings.from_env()
    settings.require_secret()  # before anything signs a cookie or a link with it
    reactions.install()
    db = Database(settings.database_url, settings.database_replica_url)
    manifest = static_build.build(settings.static_build_dir)
    tenant_cache = TenantCache(db)
    page_cache = PageCache()
    routes = [
        Route("/healthz", healthz),
        Mount("/static", app=_static_app(settings)),
        *watch.routes, *feeds.routes, *dashboard.routes, *leaderboard.routes,
        *unsubscribe.routes,
        *home.routes, *announcement_routes.routes,
        *report.routes, *report_status.routes, *issue.routes, *search.routes, *api.routes,
        *places.routes,
        *assets.routes, *widget_routes.routes, *card_routes.routes, *compare_routes.routes,
        *signin_routes.routes, *staff_routes.routes, *moderation_routes.routes,
        *staff_announcement_routes.routes, *staff_template_routes.routes, *open311.routes,
        *staff_open311_routes.routes, *staff_constituent_routes.routes,
        *staff_portal_routes.routes, *staff_portal_team_routes.routes,
        *sms_routes.routes, *install_routes.routes, *operator_routes.routes,
    ]
    middleware = [
        Middleware(PageCacheMiddleware, db=db, cache=page_cache),
        Middleware(ForwardedMiddleware, proxies=TrustedProxies(settings.trusted_proxies)),
        Middleware(SecurityHeadersMiddleware),
        Middleware(SameOriginMiddleware),
        Middleware(CompressionMiddleware),
        Middleware(TenantMiddleware, cache=tenant_cache, base_domain=settings.base_domain,
                   secret_key=settings.secret_key),
        Middleware(ReadPreferenceMiddleware, db=db, secret_key=settings.secret_key,
                   https_only=bool(settings.https_only_cookies)),
        Middleware(LocaleMiddleware),
        Middleware(BodyLimitMiddleware, routes=routes, photo_bytes=settings.max_photo_bytes,
                   frame_ancestors=widget_routes.frame_ancestors),
        Middleware(SessionMiddleware, secret_key=settings.secret_key,
                   session_cookie=session_tokens.COOKIE, same_site="lax",
                   https_only=bool(settings.https_only_cookies), max_age=180 * 24 * 3600),
        Middleware(AuthMiddleware, db=db),
    ]
    app = Starlette(
        routes=routes,
        middleware=middleware,
        exception_handlers={404: _error_page, 405: _error_page, NotFound: _error_page,
                            FormRefused: _error_page, DatabaseUnavailable: unavailable_page},
        lifespan=worker.lifespan(db, settings),
    )
    app.state.settings = settings
    app.state.db = db
    app.state.templates = Templates(settings.themes_dir, manifest,
                                    auto_reload=settings.development)
    app.state.csrf = CsrfSigner(settings.secret_key)
    app.state.tenants = tenant_cache
    app.state.page_cache = page_cache
    app.state.geojson_bodies = api.BodyCache()
    app.state.open311_bodies = api.BodyCache()
    app.state.limiter = rate_limiter(settings, db.engine)
    return app
