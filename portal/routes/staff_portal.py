"""`/staff/portal`: a portal's admins run their own portal — branding, logo, languages,
embedding origins, the request types offered — and its audit, where any change is undone.

Admins of this portal only (`permissions.is_tenant_admin`); everyone else gets the staff
area's 403. Handlers stay thin: check CSRF and the role, call `portal.staff.portal_settings`
or `portal_audit`, redirect with a notice. The staff and Open311 keys sections are
`staff_portal_team` and `staff_open311`.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import select
from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from portal.core.errors import DomainError, NotFound, ValidationError
from portal.core.i18n import SUPPORTED
from portal.models import User
from portal.routes.guards import back, current_user, denied, permitted_form, staff_render
from portal.staff import permissions, portal_audit, portal_settings, portal_team
from portal.tenancy import logos
from portal.web.request_context import csrf_token, tenant
from portal.web.templating import url


def refused(request: Request) -> Response | None:
    """The staff area's refusal unless the signed-in person is this portal's admin."""
    if not permissions.is_tenant_admin(current_user(request), tenant(request)):
        return denied(request)
    return None


def settled(request: Request, name: str, done: str, anchor: str = "") -> Response:
    """After a change, go back: every process reads the portal afresh from its next request on,
    because the change moved the settings stamp (`portal.tenancy.settings_stamp`)."""
    return back(request, name, done=done, anchor=anchor)


def _page(request: Request, errors: dict | None = None, values: dict | None = None,
          shade: str | None = None, status_code: int = 200) -> Response:
    portal = tenant(request)
    themes_dir = request.app.state.settings.themes_dir
    with request.app.state.db.session() as session:
        current = portal_settings.row(session, portal)
        choices = portal_settings.type_choices(session, portal)
        page = {
            "portal": current, "themes": portal_settings.theme_names(themes_dir),
            "colour": portal_settings.brand_colour(current, themes_dir),
            "own_colour": current.tokens.get(portal_settings.BRAND_TOKEN, ""),
            "choices": choices, "all_offered": current.request_type_keys is None,
            "languages": SUPPORTED,
        }
        session.expunge_all()
    return staff_render(request, "staff/portal.html", {
        **page, "errors": errors or {}, "values": values or {}, "shade": shade,
        "dropped": request.query_params.get("dropped", ""),
        "csrf_token": csrf_token(request), "notice": request.query_params.get("done", ""),
    }, status_code)


def portal_page(request: Request) -> Response:
    return refused(request) or _page(request)


async def _settings_form(request: Request, anchor: str,
                         change: Callable[..., object], values: Callable) -> Response:
    """The shape every settings form shares: CSRF and role, then `change(session, portal,
    user, form)`; a bad value shows the page again with what was typed, nothing written."""
    form, refusal = await permitted_form(request, permissions.is_tenant_admin)
    if refusal:
        return refusal
    user: User = current_user(request)
    try:
        with request.app.state.db.session() as session:
            done = change(session, tenant(request), user, form)
    except ValidationError as exc:
        return _page(request, exc.errors, values(form), getattr(exc, "shade", None), 400)
    return settled(request, "staff_portal", str(done or "unchanged"), anchor)


def notice_for(change: object, done: str) -> str:
    """The notice after a form: `done`, or that nothing changed (no audit entry)."""
    return done if change is not None else "unchanged"


async def branding_submit(request: Request) -> Response:
    themes_dir = request.app.state.settings.themes_dir
    return await _settings_form(
        request, "branding",
        lambda s, p, u, f: notice_for(portal_settings.set_branding(
            s, p, u.id, themes_dir, str(f.get("theme", "")), str(f.get("colour", ""))),
            "branding"),
        lambda f: {"theme": str(f.get("theme", "")), "colour": str(f.get("colour", ""))})


async def logo_submit(request: Request) -> Response:
    form, refusal = await permitted_form(request, permissions.is_tenant_admin)
    if refusal:
        return refusal
    upload = form.get("logo")
    remove = str(form.get("remove", "")) == "1"
    data, name = None, ""
    if isinstance(upload, UploadFile) and upload.filename and not remove:
        name = upload.filename
        data = await upload.read(logos.MAX_BYTES * 10 + 1)
    elif not remove:
        data = b""  # no file chosen and not a removal: say so
    try:
        with request.app.state.db.session() as session:
            change, dropped = portal_settings.set_logo(session, tenant(request),
                                                       current_user(request).id, name, data)
    except ValidationError as exc:
        return _page(request, exc.errors, status_code=400)
    query = {"done": notice_for(change, "logo-removed" if remove else "logo")}
    if dropped:  # what the SVG held that a logo may not: said, not kept
        query["dropped"] = ", ".join(dropped)[:200]
    return RedirectResponse(url(request, "staff_portal", _query=query) + "#logo", 303)


async def languages_submit(request: Request) -> Response:
    return await _settings_form(
        request, "languages",
        lambda s, p, u, f: notice_for(portal_settings.set_languages(
            s, p, u.id, [str(v) for v in f.getlist("languages")],
            str(f.get("default_language", ""))), "languages"),
        lambda f: {"languages": [str(v) for v in f.getlist("languages")],
                   "default_language": str(f.get("default_language", ""))})


async def origins_submit(request: Request) -> Response:
    return await _settings_form(
        request, "origins",
        lambda s, p, u, f: notice_for(portal_settings.set_embed_origins(
            s, p, u.id, str(f.get("origins", ""))), "origins"),
        lambda f: {"origins": str(f.get("origins", ""))})


async def request_types_submit(request: Request) -> Response:
    return await _settings_form(
        request, "request-types",
        lambda s, p, u, f: notice_for(portal_settings.set_request_types(
            s, p, u.id, [str(v) for v in f.getlist("request_types")]), "request-types"),
        lambda f: {"request_types": [str(v) for v in f.getlist("request_types")]})


# -- the audit ----------------------------------------------------------------------------

def _audit_page(request: Request, error: object = None, status_code: int = 200) -> Response:
    portal = tenant(request)
    with request.app.state.db.session() as session:
        rows = portal_audit.changes(session, portal)
        users = dict(session.execute(select(User.id, User.email).where(
            User.id.in_({r.user_id for r in rows if r.user_id} or {-1}))).all())
        undone = {r.undoes_id: r.id for r in rows if r.undoes_id}
        session.expunge_all()
    return staff_render(request, "staff/portal_audit.html", {
        "changes": rows, "users": users, "undone": undone, "error": error,
        "role_label": portal_team.role_label, "csrf_token": csrf_token(request),
        "notice": request.query_params.get("done", ""),
    }, status_code)


def audit_page(request: Request) -> Response:
    return refused(request) or _audit_page(request)


async def undo_submit(request: Request) -> Response:
    _, refusal = await permitted_form(request, permissions.is_tenant_admin)
    if refusal:
        return refusal
    try:
        with request.app.state.db.session() as session:
            portal_audit.undo(session, tenant(request), request.path_params["change_id"],
                              current_user(request))
    except NotFound:
        return denied(request, hide=True)
    except DomainError as exc:
        return _audit_page(request, exc.message, 409)
    return settled(request, "staff_portal_audit", "undone")


routes = [
    Route("/staff/portal", portal_page, methods=["GET"], name="staff_portal"),
    Route("/staff/portal/branding", branding_submit, methods=["POST"],
          name="staff_portal_branding"),
    Route("/staff/portal/logo", logo_submit, methods=["POST"], name="staff_portal_logo"),
    Route("/staff/portal/languages", languages_submit, methods=["POST"],
          name="staff_portal_languages"),
    Route("/staff/portal/origins", origins_submit, methods=["POST"],
          name="staff_portal_origins"),
    Route("/staff/portal/request-types", request_types_submit, methods=["POST"],
          name="staff_portal_request_types"),
    Route("/staff/portal/audit", audit_page, methods=["GET"], name="staff_portal_audit"),
    Route("/staff/portal/audit/{change_id:int}/undo", undo_submit, methods=["POST"],
          name="staff_portal_undo"),
]
