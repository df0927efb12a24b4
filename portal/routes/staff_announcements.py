"""Staff pages for announcements: list, write (per language, timed, targeted), withdraw."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from portal.core.errors import ValidationError
from portal.routes.guards import back, current_user, denied, permitted_form, staff_render
from portal.staff import announcement_authoring as authoring
from portal.staff import permissions
from portal.web.markdown_render import render_markdown
from portal.web.request_context import csrf_token, tenant


def _page(request: Request, draft: authoring.Draft | None = None, errors: dict | None = None,
          status_code: int = 200) -> Response:
    user = current_user(request)
    portal = tenant(request)
    with request.app.state.db.session() as session:
        voices = authoring.authors_for(session, user, portal)
        areas = authoring.named_areas(session, portal)
        rows = authoring.for_staff(session, user, portal)
    return staff_render(request, "staff/announcements.html", {
        "voices": voices, "areas": areas, "announcements": rows, "markdown": render_markdown,
        "draft": draft or authoring.Draft(author=voices[0][0] if voices else "portal"),
        "errors": errors or {}, "csrf_token": csrf_token(request),
        "notice": request.query_params.get("done", ""),
    }, status_code)


def announcements_page(request: Request) -> Response:
    if not permissions.can_write_announcements(current_user(request), tenant(request)):
        return denied(request)
    return _page(request)


async def announcements_submit(request: Request) -> Response:
    form, refusal = await permitted_form(request, permissions.can_write_announcements)
    if refusal:
        return refusal
    user = current_user(request)
    portal = tenant(request)
    languages = list(portal.languages) or [portal.default_language]
    draft = authoring.Draft(
        author=str(form.get("author", "")),
        titles={code: str(form.get(f"title_{code}", "")) for code in languages},
        texts={code: str(form.get(f"body_{code}", "")) for code in languages},
        publish_at=str(form.get("publish_at", "")), expire_at=str(form.get("expire_at", "")),
        target=str(form.get("target", "all")), lat=str(form.get("lat", "")),
        lon=str(form.get("lon", "")), radius=str(form.get("radius", "")),
    )
    with request.app.state.db.session() as session:
        voices = dict(authoring.authors_for(session, user, portal))
    if draft.author not in voices:  # speaking for a portal or body one does not work for
        return denied(request, hide=True)
    try:
        with request.app.state.db.session() as session:
            authoring.publish_draft(session, user, portal, draft)
    except ValidationError as exc:
        return _page(request, draft, exc.errors, 400)
    return back(request, "staff_announcements", done="published")


async def withdraw(request: Request) -> Response:
    _, refusal = await permitted_form(request, permissions.can_write_announcements)
    if refusal:
        return refusal
    user = current_user(request)
    portal = tenant(request)
    with request.app.state.db.session() as session:
        row = authoring.withdraw(session, user, portal, request.path_params["announcement_id"])
    if row is None:
        return denied(request, hide=True)
    return back(request, "staff_announcements", done="withdrawn")


routes = [
    Route("/staff/announcements", announcements_page, methods=["GET"],
          name="staff_announcements"),
    Route("/staff/announcements", announcements_submit, methods=["POST"],
          name="staff_announcements_submit"),
    Route("/staff/announcements/{announcement_id:int}/withdraw", withdraw, methods=["POST"],
          name="staff_announcement_withdraw"),
]
