"""`/staff/portal/staff`: a portal's admins invite people by email, change and remove roles.

The rules (which places, which roles, never no admin) are `portal.staff.portal_team`'s; each
change is audited there and can be undone from `/staff/portal/audit`.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from portal.core.errors import DomainError, ValidationError
from portal.routes.guards import current_user, permitted_form, staff_render
from portal.routes.signin import sign_in_link_for
from portal.routes.staff_portal import notice_for, refused, settled
from portal.staff import permissions, portal_team
from portal.web.request_context import csrf_token, tenant


def _page(request: Request, errors: dict | None = None, values: dict | None = None,
          status_code: int = 200) -> Response:
    portal, user = tenant(request), current_user(request)
    with request.app.state.db.session() as session:
        places = portal_team.places(session, portal, user)
        members = portal_team.members(session, portal, user)
        _ = [p.body.name for p in places if p.body]
        session.expunge_all()
    return staff_render(request, "staff/portal_staff.html", {
        "places": places, "members": members, "role_label": portal_team.role_label,
        "errors": errors or {}, "values": values or {}, "csrf_token": csrf_token(request),
        "notice": request.query_params.get("done", ""),
    }, status_code)


def staff_page(request: Request) -> Response:
    return refused(request) or _page(request)


async def invite_submit(request: Request) -> Response:
    form, refusal = await permitted_form(request, permissions.is_tenant_admin)
    if refusal:
        return refusal
    values = {k: str(form.get(k, "")) for k in ("email", "role", "place")}
    settings = request.app.state.settings
    try:
        with request.app.state.db.session() as session:
            portal, user = tenant(request), current_user(request)
            place = portal_team.place_for(session, portal, user, values["place"])
            _, mailed = portal_team.invite(
                session, portal, user, email=values["email"], role=values["role"],
                place=place, locale=request.state.locale, secret_key=settings.secret_key,
                link_for=sign_in_link_for(request))
    except ValidationError as exc:
        return _page(request, exc.errors, values, 400)
    except DomainError as exc:
        return _page(request, {"form": exc.message}, values, 409)
    return settled(request, "staff_portal_staff", "invited" if mailed else "invited-no-mail")


async def _member_change(request: Request, change) -> Response:  # noqa: ANN001
    """A change to one listed role (`change(session, portal, user, place, form)`)."""
    form, refusal = await permitted_form(request, permissions.is_tenant_admin)
    if refusal:
        return refusal
    try:
        with request.app.state.db.session() as session:
            portal, user = tenant(request), current_user(request)
            place = portal_team.place_for(session, portal, user, str(form.get("place", "")))
            done = change(session, portal, user, place, form)
    except ValidationError as exc:
        return _page(request, {"members": next(iter(exc.errors.values()))}, status_code=400)
    except DomainError as exc:  # the last admin
        return _page(request, {"members": exc.message}, status_code=409)
    return settled(request, "staff_portal_staff", done)


def _change_role(session, portal, user, place, form) -> str:  # noqa: ANN001
    change = portal_team.change_role(session, portal, user, email=str(form.get("email", "")),
                                     place=place, old=str(form.get("old", "")),
                                     new=str(form.get("role", "")))
    return notice_for(change, "role-changed")


def _remove(session, portal, user, place, form) -> str:  # noqa: ANN001
    change = portal_team.remove(session, portal, user, email=str(form.get("email", "")),
                                place=place, role=str(form.get("role", "")))
    return notice_for(change, "removed")


async def role_submit(request: Request) -> Response:
    return await _member_change(request, _change_role)


async def remove_submit(request: Request) -> Response:
    return await _member_change(request, _remove)


routes = [
    Route("/staff/portal/staff", staff_page, methods=["GET"], name="staff_portal_staff"),
    Route("/staff/portal/staff", invite_submit, methods=["POST"],
          name="staff_portal_invite"),
    Route("/staff/portal/staff/role", role_submit, methods=["POST"],
          name="staff_portal_role"),
    Route("/staff/portal/staff/remove", remove_submit, methods=["POST"],
          name="staff_portal_remove"),
]
