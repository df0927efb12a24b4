"""The portal admins' page for Open311 API keys: list, create (the key is shown once), revoke;
each creation and revocation audited and undoable (`portal.open311.key_audit`)."""

from __future__ import annotations

from sqlalchemy import select
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from portal.core.errors import N_, Message, ValidationError
from portal.models import Body
from portal.open311 import api_keys, key_audit
from portal.open311.services import portal_services
from portal.routes.guards import back, current_user, denied, permitted_form, staff_render
from portal.staff import permissions
from portal.web.request_context import csrf_token, tenant


def _bodies(session) -> list[Body]:  # noqa: ANN001 - Session
    return list(session.scalars(select(Body).order_by(Body.slug)))


def _bindable(request: Request, session, portal) -> dict[str, Body]:  # noqa: ANN001
    """The bodies of this portal a key made here may act for: those the signed-in admin is
    staff of. A key tied to a body changes its issues' statuses everywhere, in its name, so
    being admin of one portal the body serves is not enough (`portal open311 keys create`,
    an operator's command, may tie any)."""
    user = current_user(request)
    return {s.body.slug: s.body for s in portal_services(session, portal)
            if permissions.is_body_staff(user, s.body.id)}


def _page(request: Request, *, new_key: str = "", errors: dict | None = None,
          application: str = "", status_code: int = 200) -> Response:
    portal = tenant(request)
    with request.app.state.db.session() as session:
        keys = api_keys.list_keys(session, portal)
        bodies = _bindable(request, session, portal)
        names = {b.id: b for b in _bodies(session)}
        rows = [(k, names.get(k.body_id)) for k in keys]
    return staff_render(request, "staff/open311.html", {
        "keys": rows, "bodies": sorted(bodies.values(), key=lambda b: b.slug),
        "new_key": new_key, "errors": errors or {}, "application": application,
        "csrf_token": csrf_token(request), "notice": request.query_params.get("done", ""),
    }, status_code)


def keys_page(request: Request) -> Response:
    if not permissions.is_tenant_admin(current_user(request), tenant(request)):
        return denied(request)
    return _page(request)


async def create_key(request: Request) -> Response:
    form, refusal = await permitted_form(request, permissions.is_tenant_admin)
    if refusal:
        return refusal
    portal = tenant(request)
    application = str(form.get("application", ""))
    body_slug = str(form.get("body", "")).strip()
    try:
        with request.app.state.db.session() as session:
            body = None
            if body_slug:
                body = _bindable(request, session, portal).get(body_slug)
                if body is None:
                    raise ValidationError({"body": Message(N_(
                        "Choose a body of this portal whose staff you are."))})
            _, key = key_audit.create_key(session, portal, current_user(request),
                                            application, body)
    except ValidationError as exc:
        return _page(request, errors=exc.errors, application=application, status_code=400)
    return _page(request, new_key=key)


async def revoke_key(request: Request) -> Response:
    _, refusal = await permitted_form(request, permissions.is_tenant_admin)
    if refusal:
        return refusal
    with request.app.state.db.session() as session:
        row = key_audit.revoke_key(session, tenant(request), current_user(request),
                                     request.path_params["key_id"])
    if row is None:
        return denied(request, hide=True)
    return back(request, "staff_open311", done="revoked")


routes = [
    Route("/staff/open311", keys_page, methods=["GET"], name="staff_open311"),
    Route("/staff/open311", create_key, methods=["POST"], name="staff_open311_create"),
    Route("/staff/open311/{key_id:int}/revoke", revoke_key, methods=["POST"],
          name="staff_open311_revoke"),
]
