"""What every staff handler does first: know the signed-in user, check CSRF, refuse politely.

Refusals follow one rule: anonymous visitors get 403 with a sign-in link; signed-in people
without the right role get 403 for a section (queue, moderation, announcements) and 404 for
a particular thing (an issue, an announcement) so nothing about it is revealed. The decision
itself always comes from `portal.staff.permissions`.
"""

from __future__ import annotations

from collections.abc import Callable

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from portal.core.errors import N_, Message
from portal.models import Tenant, User
from portal.staff import permissions
from portal.web import forms
from portal.web.request_context import csrf_valid, tenant
from portal.web.templating import render, url


def current_user(request: Request) -> User | None:
    return getattr(request.state, "user", None)


def user_id(request: Request) -> int:
    user = current_user(request)
    assert user is not None
    return user.id


def denied(request: Request, hide: bool = False) -> Response:
    """403 for anonymous or unauthorised; 404 when `hide` and someone is signed in."""
    user = current_user(request)
    if hide and user is not None:
        return render(request, "error.html", {"status": 404, "message": None}, 404)
    return render(request, "staff/denied.html", {"signed_in": user is not None}, 403)


def expired_form(request: Request) -> Response:
    return render(request, "staff/denied.html", {
        "signed_in": current_user(request) is not None,
        "message": Message(N_("This form has expired. Please go back, reload and try again.")),
    }, 403)


async def read_form(request: Request):  # noqa: ANN201 - FormData | None
    """The posted form, or None when its CSRF token is missing or not valid for this user."""
    form = await forms.read_form(request)
    return form if csrf_valid(request, form) else None


async def permitted_form(request: Request, may: Callable[[User | None, Tenant], bool]):  # noqa: ANN201
    """(form, None) when the form's CSRF token is valid and `may(user, portal)` allows the
    signed-in user; else (None, the refusal to send): an expired form, or 403."""
    form = await read_form(request)
    if form is None:
        return None, expired_form(request)
    if not may(current_user(request), tenant(request)):
        return None, denied(request)
    return form, None


def back(request: Request, name: str, done: str = "", anchor: str = "",
         **params: object) -> Response:
    query = {"done": done} if done else None
    target = url(request, name, _query=query, **params) + (f"#{anchor}" if anchor else "")
    return RedirectResponse(target, status_code=303)


def staff_render(request: Request, template: str, context: dict,
                 status_code: int = 200) -> Response:
    """Render a staff page with the staff navigation this person may use."""
    user, portal = current_user(request), tenant(request)
    nav = {"can_queue": permissions.can_use_queue(user),
           "can_moderate": permissions.is_moderator(user, portal),
           "can_announce": permissions.can_write_announcements(user, portal),
           "can_open311": permissions.is_tenant_admin(user, portal),
           "can_office": permissions.is_office(user, portal),
           "can_run_portal": permissions.is_tenant_admin(user, portal),
           "can_widgets": permissions.is_tenant_admin(user, portal)}
    return render(request, template, {**context, "nav": nav}, status_code)
