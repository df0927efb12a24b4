"""The constituent desk of a politician portal's office: the district's issues, one issue with
its reporter's contact (where they agreed), and the follow-up and escalation forms.

Thin handlers: check CSRF, ask `permissions.is_office`, call `portal.staff.constituent_desk`.
Everything else on the portal is refused as for any staff section (403 for the pages, 404
for an issue the office cannot act on).
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy.orm import Session
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from portal.core.errors import NotFound, ValidationError
from portal.core.localized import localized
from portal.models import STATUSES, Issue
from portal.reports import status
from portal.routes.guards import (
    back,
    current_user,
    denied,
    expired_form,
    read_form,
    staff_render,
)
from portal.staff import constituent_desk, permissions
from portal.staff import queue as staff_queue
from portal.tenancy.scoping import get_public_issue
from portal.web.request_context import csrf_token, tenant


def desk_page(request: Request) -> Response:
    portal = tenant(request)
    if not permissions.is_office(current_user(request), portal):
        return denied(request)
    filters = staff_queue.parse_filters(request.query_params)
    if not request.query_params.get("filtered"):
        filters.statuses = []  # the desk starts with every issue of the district
    filters.sort = request.query_params.get("sort") or "newest"
    if filters.sort not in staff_queue.SORTS:
        filters.sort = "newest"
    with request.app.state.db.session() as session:
        issues, total, contacts = constituent_desk.fetch(session, portal, filters)
        areas = sorted(staff_queue.named_areas(session, portal),
                       key=lambda a: localized(a.names, request.state.locale,
                                               portal.default_language).casefold())
        types = constituent_desk.request_types(session, portal)
    return staff_render(request, "staff/constituents.html", {
        "issues": issues, "total": total, "contacts": contacts, "filters": filters,
        "areas": areas, "types": types, "statuses": STATUSES,
        "sorts": list(staff_queue.SORTS), "pages": max(1, -(-total // filters.per_page)),
    }, 400 if filters.errors else 200)


def _issue_response(request: Request, issue_id: int, errors: dict | None = None,
                    values: dict | None = None, status_code: int = 200) -> Response:
    portal = tenant(request)
    with request.app.state.db.session() as session:
        try:
            issue = get_public_issue(session, portal, issue_id)
        except NotFound:
            return denied(request, hide=True)
        history = status.public_history(issue)
        contact = constituent_desk.contacts_for(session, portal, [issue]).get(issue.id)
        _ = issue.body.name, issue.request_type.name
    return staff_render(request, "staff/constituent.html", {
        "issue": issue, "history": history, "contact": contact,
        "csrf_token": csrf_token(request), "errors": errors or {}, "values": values or {},
        "notice": request.query_params.get("done", ""),
    }, status_code)


def desk_issue(request: Request) -> Response:
    if not permissions.is_office(current_user(request), tenant(request)):
        return denied(request, hide=True)
    return _issue_response(request, request.path_params["issue_id"])


async def _office_form(request: Request):  # noqa: ANN202
    """(form, None) when the CSRF token is valid and the user is this portal's office; else
    (None, the refusal: 403 for anonymous visitors, 404 otherwise). Whether the issue shows
    here is checked by the handler, in the session that acts on it."""
    form = await read_form(request)
    if form is None:
        return None, expired_form(request)
    user = current_user(request)
    if user is None:
        return None, denied(request)
    if not permissions.is_office(user, tenant(request)):
        return None, denied(request, hide=True)
    return form, None


async def _office_action(request: Request, field: str, done: str,
                         act: Callable[[Session, Issue, str], object]) -> Response:
    """A form the office posts about one issue of its district: `act` writes it; its errors
    come back on the issue's page under `field`. An issue the portal does not show is the
    hiding 404, whatever the office asked."""
    form, refusal = await _office_form(request)
    if refusal is not None:
        return refusal
    issue_id = request.path_params["issue_id"]
    text = str(form.get("text", ""))
    try:
        with request.app.state.db.session() as session:
            act(session, get_public_issue(session, tenant(request), issue_id), text)
    except NotFound:
        return denied(request, hide=True)
    except ValidationError as exc:
        return _issue_response(request, issue_id, exc.errors, {field: text}, 400)
    return back(request, "office_issue", done=done, anchor="history", issue_id=issue_id)


async def follow_up(request: Request) -> Response:
    return await _office_action(request, "follow_up", "follow-up", lambda s, issue, text: (
        constituent_desk.follow_up(s, tenant(request), issue, text, current_user(request).id)))


async def escalate(request: Request) -> Response:
    return await _office_action(request, "escalate", "escalated", lambda s, issue, text: (
        constituent_desk.escalate(s, tenant(request), issue, text, current_user(request))))


routes = [
    Route("/staff/constituents", desk_page, methods=["GET"], name="office_desk"),
    Route("/staff/constituents/{issue_id:int}", desk_issue, methods=["GET"],
          name="office_issue"),
    Route("/staff/constituents/{issue_id:int}/follow-up", follow_up, methods=["POST"],
          name="office_follow_up"),
    Route("/staff/constituents/{issue_id:int}/escalate", escalate, methods=["POST"],
          name="office_escalate"),
]
