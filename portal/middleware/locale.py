"""Choose the request's language within its portal's languages and make it current.

Order: `?lang=` (the switcher and widgets' `data-lang`), then the `lang` cookie, then
Accept-Language, then the portal's default. A value the portal does not offer, or garbage,
simply falls through. An explicit valid choice is remembered in the cookie.
"""

from __future__ import annotations

from http.cookies import SimpleCookie
from urllib.parse import parse_qs

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from portal.core import i18n, time_zones
from portal.web.route_path import route_path

COOKIE = "lang"
# /report/nearby: the form's script asks it for a fragment, also from inside the report widget.
NO_COOKIE_PATHS = ("/w/", "/api/", "/report/nearby")


def _header(scope: Scope, name: bytes) -> str:
    for key, value in scope.get("headers", []):
        if key == name:
            return value.decode("latin-1")
    return ""


class LocaleMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        tenant = scope.get("state", {}).get("tenant")
        offered = list(tenant.languages) if tenant else list(i18n.SUPPORTED)
        default = tenant.default_language if tenant else "en"
        query = parse_qs(scope.get("query_string", b"").decode("latin-1"))
        explicit = (query.get("lang") or [None])[0]
        cookies = SimpleCookie()
        try:
            cookies.load(_header(scope, b"cookie"))
        except Exception:  # noqa: BLE001 - a malformed cookie header must not break the page
            pass
        cookie = cookies[COOKIE].value if COOKIE in cookies else None
        locale = i18n.negotiate(offered, default, explicit, cookie,
                                _header(scope, b"accept-language"))
        scope.setdefault("state", {})["locale"] = locale
        # Widgets (and the API calls their pages make) set no cookie: a host page's consent
        # banner need not mention us, and their ?lang= is the page's, not the visitor's choice.
        remember = (i18n.normalise(explicit) == locale and locale != cookie
                    and not route_path(scope).startswith(NO_COOKIE_PATHS))

        async def send_with_cookie(message: Message) -> None:
            if message["type"] == "http.response.start" and tenant is not None:
                # Static files and the embed loader are the same in every language.
                headers = MutableHeaders(scope=message)
                headers.add_vary_header("Accept-Language")
                headers.add_vary_header("Cookie")
                if remember:
                    headers.append(
                        "set-cookie",
                        f"{COOKIE}={locale}; Path=/; Max-Age=31536000; SameSite=Lax",
                    )
            await send(message)

        # The portal's time zone goes with its language: both say how a time reads here.
        with i18n.use_locale(locale), time_zones.use_time_zone(
                getattr(tenant, "time_zone", None)):
            await self.app(scope, receive, send_with_cookie)
