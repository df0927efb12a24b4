"""The snippet generator page in the portal's staff area: `/staff/widgets`.

The portal's admins (signed in, role `admin`) see it directly. The portal's admin token
(`portal tenants admin-token SLUG`) still opens it too, for an operator who has set up no
accounts yet: a correct token marks the signed session for this portal. The page shows
the snippet, the pinned (SRI) variant, the iframe fallback, the plain link, the exact CSP
lines, and a live preview that runs the real loader on this page.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from portal.core.errors import N_, Message
from portal.core.i18n import use_locale
from portal.core.localized import localized
from portal.models import STATUSES
from portal.reports import area_stats
from portal.routes.guards import staff_render
from portal.staff import permissions
from portal.tenancy import admin_tokens
from portal.web import figures_text
from portal.web.absolute_urls import portal_address, portal_origin
from portal.web.forms import read_form
from portal.web.request_context import client_ip, csrf_token, csrf_valid, tenant
from portal.web.templating import render, url

from . import loader
from .snippets import KINDS, build_snippet, parse_options


def _session_key(request: Request) -> str:
    return f"staff_widgets:{tenant(request).slug}"


def _unlocked(request: Request) -> bool:
    portal = tenant(request)
    if permissions.is_tenant_admin(getattr(request.state, "user", None), portal):
        return True
    return bool(portal.admin_token_hash) and (
        request.session.get(_session_key(request)) == admin_tokens.session_marker(portal))


def _unlock_page(request: Request, errors: dict[str, Message], status_code: int) -> Response:
    return render(request, "staff_widgets_unlock.html", {
        "errors": errors, "csrf_token": csrf_token(request),
        "token_set": bool(tenant(request).admin_token_hash)}, status_code)


def generator_page(request: Request) -> Response:
    if not _unlocked(request):
        return _unlock_page(request, {}, 200)
    portal = tenant(request)
    q = request.query_params
    values = {name: q.getlist(name) for name in ("status", "type")}
    values.update({name: q.get(name, "") for name in (
        "kind", "lang", "height", "center", "zoom", "area", "period", "issue")})
    options, errors = parse_options(portal.slug, values, list(portal.languages))
    # What is pasted elsewhere names the portal's own host, or PUBLIC_URL (as the CLI does).
    origin, portal_url = portal_origin(request), portal_address(request)
    name = localized(portal.name, options.lang or request.state.locale, portal.default_language)
    with use_locale(options.lang or portal.default_language):
        snippet = build_snippet(options, origin, portal_url, name, loader.current())
        # The preview's frame, like its loader, comes from this page's own address (a path
        # from the root: what is pasted elsewhere names `origin`, this page need not).
        preview = build_snippet(options, "", portal_url, name, loader.current()).element
    with request.app.state.db.session() as session:
        areas = area_stats.named_areas(session, portal, request.state.locale)
    # A signed-in admin gets the staff menu (this page is one of its entries); a token
    # holder has no staff area to go back to.
    show = staff_render if permissions.is_tenant_admin(
        getattr(request.state, "user", None), portal) else render
    response = show(request, "staff_widgets.html", {
        "options": options, "errors": errors, "snippet": snippet, "preview": preview,
        "kinds": KINDS, "statuses": STATUSES, "areas": areas,
        "periods": figures_text.period_choices(),
    }, 400 if errors else 200)
    # The live preview frames our own widget pages.
    response.headers["content-security-policy"] += "; frame-src 'self'"
    return response


async def unlock(request: Request) -> Response:
    form = await read_form(request)
    if not csrf_valid(request, form):
        return _unlock_page(request, {"form": Message(
            N_("This form has expired. Please try again."))}, 400)
    portal = tenant(request)
    if not request.app.state.limiter.allow(portal.slug, "signin", client_ip(request)):
        return _unlock_page(request, {"form": Message(
            N_("Too many attempts from here just now. Please wait a few minutes."))}, 429)
    if not admin_tokens.verify(portal, str(form.get("token", ""))):
        errors = {"token": Message(N_("That is not this portal's admin token."))}
        return _unlock_page(request, errors, 400)
    request.session[_session_key(request)] = admin_tokens.session_marker(portal)
    return RedirectResponse(url(request, "staff_widgets"), status_code=303)


routes = [
    Route("/staff/widgets", generator_page, methods=["GET"], name="staff_widgets"),
    Route("/staff/widgets", unlock, methods=["POST"], name="staff_widgets_unlock"),
]
