"""Moderation pages and actions, and the public "flag as inappropriate" button.

Moderators (and admins) of a portal work its flag queue and hide or show issues, comments
and photos seen on it; the responsible body's staff and the portal's moderators may redact
personal details. Every action is audited by `portal.staff.moderation`.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from portal.core.errors import N_, Message, NotFound, ValidationError
from portal.core.text_fields import record_number
from portal.models import ModerationAction, Update
from portal.routes.guards import (
    back,
    current_user,
    denied,
    expired_form,
    read_form,
    staff_render,
    user_id,
)
from portal.routes.issue import page_with_errors
from portal.routes.staff import issue_page_response
from portal.staff import moderation, permissions
from portal.tenancy.scoping import get_portal_issue, get_public_issue
from portal.web import forms
from portal.web.request_context import client_ip, csrf_token, csrf_valid, tenant, visitor_key
from portal.web.templating import url


def moderation_page(request: Request) -> Response:
    user = current_user(request)
    portal = tenant(request)
    if not permissions.is_moderator(user, portal):
        return denied(request)
    with request.app.state.db.session() as session:
        flags = moderation.open_flags(session, portal)
        actions = moderation.recent_actions(session, portal)
        for entry in flags:
            _ = entry["issue"].request_type.name
    return staff_render(request, "staff/moderation.html", {
        "flags": flags, "actions": actions, "reasons": moderation.FLAG_REASONS,
        "csrf_token": csrf_token(request), "notice": request.query_params.get("done", ""),
    })


async def _moderated(request: Request):  # noqa: ANN202
    """(form, None) if the form is valid and the user moderates this portal, else a refusal."""
    form = await read_form(request)
    if form is None:
        return None, expired_form(request)
    user = current_user(request)
    portal = tenant(request)
    if not permissions.is_moderator(user, portal):
        return None, denied(request, hide=user is not None)
    with request.app.state.db.session() as session:
        try:
            get_portal_issue(session, portal, request.path_params["issue_id"])
        except NotFound:
            return None, denied(request, hide=True)
    return form, None


def _redo(request: Request, issue_id: int, exc: ValidationError, prefix: str) -> Response:
    errors = {prefix + k: v for k, v in exc.errors.items()}
    return issue_page_response(request, issue_id, errors, status_code=400)


async def set_issue_hidden(request: Request) -> Response:
    form, refusal = await _moderated(request)
    if refusal:
        return refusal
    issue_id = request.path_params["issue_id"]
    hide = request.url.path.endswith("/hide")
    portal = tenant(request)
    try:
        with request.app.state.db.session() as session:
            issue = get_portal_issue(session, portal, issue_id)
            act = moderation.hide_issue if hide else moderation.unhide_issue
            act(session, issue, portal, user_id(request), str(form.get("reason", "")))
    except ValidationError as exc:
        return _redo(request, issue_id, exc, "hide_")
    return back(request, "staff_issue", done="hidden" if hide else "shown",
                issue_id=issue_id)


async def set_update_hidden(request: Request) -> Response:
    form, refusal = await _moderated(request)
    if refusal:
        return refusal
    issue_id = request.path_params["issue_id"]
    hide = request.url.path.endswith("/hide")
    portal = tenant(request)
    try:
        with request.app.state.db.session() as session:
            row = session.get(Update, request.path_params["update_id"])
            if row is None or row.issue_id != issue_id:
                return denied(request, hide=True)
            moderation.set_update_hidden(session, row, hide, portal, user_id(request),
                                         str(form.get("reason", "")))
    except ValidationError as exc:
        return _redo(request, issue_id, exc, "update_")
    return back(request, "staff_issue", done="update-hidden" if hide else "update-shown",
                anchor="history", issue_id=issue_id)


async def hide_photo(request: Request) -> Response:
    form, refusal = await _moderated(request)
    if refusal:
        return refusal
    issue_id = request.path_params["issue_id"]
    portal = tenant(request)
    try:
        with request.app.state.db.session() as session:
            issue = get_portal_issue(session, portal, issue_id)
            moderation.hide_photo(session, issue, str(form.get("photo", "")), portal,
                                  user_id(request), str(form.get("reason", "")))
    except ValidationError as exc:
        return _redo(request, issue_id, exc, "photo_")
    return back(request, "staff_issue", done="photo-hidden", issue_id=issue_id)


async def restore_photo(request: Request) -> Response:
    form, refusal = await _moderated(request)
    if refusal:
        return refusal
    issue_id = request.path_params["issue_id"]
    portal = tenant(request)
    try:
        with request.app.state.db.session() as session:
            action = session.get(ModerationAction, request.path_params["action_id"])
            if action is None or action.issue_id != issue_id:
                return denied(request, hide=True)
            moderation.restore_photo(session, action, portal, user_id(request),
                                     str(form.get("reason", "")))
    except ValidationError as exc:
        return _redo(request, issue_id, exc, "photo_")
    return back(request, "staff_issue", done="photo-shown", issue_id=issue_id)


async def redact(request: Request) -> Response:
    form = await read_form(request)
    if form is None:
        return expired_form(request)
    user = current_user(request)
    if user is None:
        return denied(request)
    portal = tenant(request)
    issue_id = request.path_params["issue_id"]
    target = str(form.get("target", ""))  # "issue:description" or "update:12:text"
    passage = str(form.get("passage", ""))
    try:
        with request.app.state.db.session() as session:
            try:
                issue = get_portal_issue(session, portal, issue_id)
            except NotFound:
                return denied(request, hide=True)
            if not permissions.can_redact(user, portal, issue):
                return denied(request, hide=True)
            parts = target.split(":")
            row = None
            if len(parts) == 3 and parts[0] == "update" and record_number(parts[1]):
                row = session.get(Update, record_number(parts[1]))
                if row is None or row.issue_id != issue.id:
                    return denied(request, hide=True)
            elif len(parts) != 2 or parts[0] != "issue":
                raise ValidationError({"field": Message(N_("Choose the text to redact."))})
            moderation.redact(session, issue, parts[-1], passage, portal, user.id, row)
    except ValidationError as exc:
        errors = {"redact_" + k: v for k, v in exc.errors.items()}
        return issue_page_response(request, issue_id, errors, {"passage": passage}, 400)
    return back(request, "staff_issue", done="redacted", issue_id=issue_id)


async def dismiss_flags(request: Request) -> Response:
    form, refusal = await _moderated(request)
    if refusal:
        return refusal
    with request.app.state.db.session() as session:
        moderation.resolve_flags(session, request.path_params["issue_id"], "dismissed",
                                 tenant(request))
    _ = form
    return back(request, "staff_moderation", done="dismissed")


async def flag_issue(request: Request) -> Response:
    """The public button: anyone may flag an issue they can see, once."""
    issue_id = request.path_params["issue_id"]
    form = await forms.read_form(request)
    issue_url = url(request, "issue", issue_id=issue_id)
    if not csrf_valid(request, form):
        return RedirectResponse(issue_url + "?done=flag-expired#flag", status_code=303)
    portal = tenant(request)
    if form.get("website"):  # the honeypot: robots fill it in, people never see it
        return RedirectResponse(issue_url + "?done=flagged#flag", status_code=303)
    if not request.app.state.limiter.allow(portal.slug, "flag", client_ip(request)):
        return RedirectResponse(issue_url + "?done=flag-limited#flag", status_code=303)
    text = str(form.get("text", ""))
    try:
        with request.app.state.db.session() as session:
            issue = get_public_issue(session, portal, issue_id)
            moderation.flag(session, portal, issue, str(form.get("reason", "")), text,
                            visitor_key(request))
    except ValidationError as exc:
        errors = {("flag_reason" if k == "reason" else k): v for k, v in exc.errors.items()}
        return page_with_errors(request, issue_id, errors, {"flag_text": text})
    return RedirectResponse(issue_url + "?done=flagged#flag", status_code=303)


routes = [
    Route("/staff/moderation", moderation_page, methods=["GET"], name="staff_moderation"),
    Route("/staff/issues/{issue_id:int}/hide", set_issue_hidden, methods=["POST"],
          name="staff_issue_hide"),
    Route("/staff/issues/{issue_id:int}/unhide", set_issue_hidden, methods=["POST"],
          name="staff_issue_unhide"),
    Route("/staff/issues/{issue_id:int}/updates/{update_id:int}/hide", set_update_hidden,
          methods=["POST"], name="staff_update_hide"),
    Route("/staff/issues/{issue_id:int}/updates/{update_id:int}/unhide", set_update_hidden,
          methods=["POST"], name="staff_update_unhide"),
    Route("/staff/issues/{issue_id:int}/photo/hide", hide_photo, methods=["POST"],
          name="staff_photo_hide"),
    Route("/staff/issues/{issue_id:int}/photo/{action_id:int}/restore", restore_photo,
          methods=["POST"], name="staff_photo_restore"),
    Route("/staff/issues/{issue_id:int}/redact", redact, methods=["POST"], name="staff_redact"),
    Route("/staff/moderation/issues/{issue_id:int}/dismiss", dismiss_flags, methods=["POST"],
          name="staff_flags_dismiss"),
    Route("/issues/{issue_id:int}/flag", flag_issue, methods=["POST"], name="issue_flag"),
]
