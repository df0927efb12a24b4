"""The staff area: a home listing one's roles, the body staff's queue with bulk actions, and
the staff view of an issue with its actions (status, internal note, reassign, duplicate).

Handlers stay thin: check CSRF, ask `portal.staff.permissions`, call `portal.staff.triage`,
redirect.
"""

from __future__ import annotations

from sqlalchemy import select
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from portal.core import text_fields
from portal.core.errors import N_, Message, NotFound, ValidationError
from portal.core.localized import localized
from portal.models import STATUSES, Body, HiddenPhoto, Issue, Update, UpdateAuthor
from portal.reports import nearby, status
from portal.routes.guards import (
    back,
    current_user,
    denied,
    expired_form,
    read_form,
    staff_render,
    user_id,
)
from portal.routes.signin import role_places
from portal.sms import phones
from portal.staff import moderation, permissions, triage
from portal.staff import queue as staff_queue
from portal.staff import response_templates as reply_templates
from portal.tenancy.scoping import get_portal_issue, get_public_issue, staff_issues
from portal.web.forms import read_photo
from portal.web.request_context import csrf_token, tenant


def _actor(request: Request) -> triage.Actor:
    return triage.Actor(user_id(request), request.app.state.settings.public_url)


def staff_home(request: Request) -> Response:
    user = current_user(request)
    portal = tenant(request)
    if not permissions.has_staff_area(user, portal):
        return denied(request)
    with request.app.state.db.session() as session:
        places = role_places(session, user)
    return staff_render(request, "staff/home.html", {
        "places": places,
        "can_queue": permissions.can_use_queue(user),
        "can_moderate": permissions.is_moderator(user, portal),
        "can_announce": permissions.can_write_announcements(user, portal),
        "can_office": permissions.is_office(user, portal),
    })


def queue_page(request: Request) -> Response:
    user = current_user(request)
    if not permissions.can_use_queue(user):
        return denied(request)
    portal = tenant(request)
    body_ids = permissions.staff_body_ids(user)
    filters = staff_queue.parse_filters(request.query_params)
    with request.app.state.db.session() as session:
        issues, total, said_fixed = staff_queue.fetch(session, portal, body_ids, filters)
        to_reopen = staff_queue.reopen_requests(session, portal, body_ids)
        areas = sorted(staff_queue.named_areas(session, portal),
                       key=lambda a: localized(a.names, request.state.locale,
                                               portal.default_language).casefold())
        types = staff_queue.types_for(session, body_ids)
        # "Likely a duplicate of #n" with a one-click merge, where this user may merge them.
        by_id = {issue.id: issue for issue in issues}
        duplicates = {issue_id: original for issue_id, original in
                      nearby.likely_duplicates(session, portal, issues).items()
                      if permissions.can_merge(user, by_id[issue_id], original)}
        bodies = list(session.scalars(select(Body).where(Body.id.in_(sorted(body_ids)))
                                      .order_by(Body.slug)))
    q = request.query_params
    return staff_render(request, "staff/queue.html", {
        "issues": issues, "total": total, "said_fixed": said_fixed, "filters": filters,
        "duplicates": duplicates, "to_reopen": to_reopen, "areas": areas,
        "types": types, "bodies": bodies, "statuses": STATUSES,
        "sorts": list(staff_queue.SORTS), "csrf_token": csrf_token(request),
        "pages": max(1, -(-total // filters.per_page)),
        "result": {"done": q.get("done", ""), "count": q.get("count", ""),
                   "skipped": q.get("skipped", "")},
    }, 400 if filters.errors else 200)


async def bulk(request: Request) -> Response:
    form = await read_form(request)
    if form is None:
        return expired_form(request)
    user = current_user(request)
    if not permissions.can_use_queue(user):
        return denied(request)
    portal = tenant(request)
    ids = sorted({n for v in form.getlist("issue")
                  if (n := text_fields.record_number(str(v))) is not None})[:200]
    action = str(form.get("action", ""))
    with request.app.state.db.session() as session:
        issues = list(session.scalars(
            staff_issues(portal, permissions.staff_body_ids(user), include_hidden=True)
            .where(Issue.id.in_(ids or [-1])).order_by(Issue.id)))
        if len(issues) != len(ids) or not all(
                permissions.can_manage_issue(user, i) for i in issues):
            return denied(request, hide=True)  # someone else's issue: change nothing
        try:
            result = triage.bulk(session, issues, action, _actor(request),
                                 str(form.get("text", "")))
        except ValidationError:
            result = None
    if result is None:
        return back(request, "staff_queue", done="bulk-invalid")
    response = back(request, "staff_queue", done="bulk")
    response.headers["location"] += (f"&count={len(result.done)}"
                                     f"&skipped={len(result.skipped)}#bulk-result")
    return response


def staff_issue_context(session, request: Request, issue: Issue) -> dict:  # noqa: ANN001
    """Everything the staff issue page shows; contact details only for the body's staff."""
    user = current_user(request)
    portal = tenant(request)
    can_manage = permissions.can_manage_issue(user, issue)
    can_moderate = permissions.is_moderator(user, portal)
    updates = list(session.scalars(select(Update).where(Update.issue_id == issue.id)
                                   .order_by(Update.id)))
    authors = dict(session.execute(select(UpdateAuthor.update_id, UpdateAuthor.user_id).where(
        UpdateAuthor.update_id.in_([u.id for u in updates] or [-1]))).all())
    targets = []
    if can_manage:
        for body in triage.reassign_targets(session, issue):
            targets.append({"body": body, "types": [rt for rt in body.request_types
                                                    if rt.active]})
    original_id = triage.original_of(session, issue.id)
    photos = []
    if issue.photo:
        photos.append(issue.photo)
    photos += [u.photo for u in updates if u.photo and u.photo not in photos]
    audit = moderation.issue_actions(session, issue.id)
    hidden_now = set(session.scalars(select(HiddenPhoto.digest).where(
        HiddenPhoto.digest.in_([a.photo for a in audit if a.photo] or ["-"]))))
    hidden_photos = {}
    for action in audit:  # newest first: the latest take-down of each photo can be undone
        if action.action == "hide_photo" and action.photo in hidden_now:
            hidden_photos.setdefault(action.photo, action)
    _ = issue.body.name, issue.request_type.name
    show_contact = permissions.can_see_contact(user, issue)
    offered = reply_templates.for_issue(session, permissions.staff_body_ids(user), issue) \
        if can_manage else []
    return {
        # "Use a template": each with its text for this issue, which the page's script puts
        # in the reply box (without the script, "Insert" asks the server to).
        "reply_templates": [{"id": t.id, "title": localized(t.title, request.state.locale,
                                                             portal.default_language),
                             "text": reply_templates.text_for(t, issue, portal.default_language),
                             "status": t.status} for t in offered],
        "issue": issue, "updates": updates, "authors": authors,
        "can_manage": can_manage, "can_moderate": can_moderate,
        "can_redact": permissions.can_redact(user, portal, issue),
        "show_contact": show_contact,
        # A report by text: the number it came from, opened only for those who see contacts.
        "reporter_phone": phones.number_for_staff(
            session, phones.PhoneVault(request.app.state.settings), issue.id)
        if show_contact else None,
        "transitions": sorted(status.ALLOWED[issue.status], key=STATUSES.index),
        "targets": targets, "original_id": original_id, "photos": photos,
        "hidden_photos": list(hidden_photos.values()) if can_moderate else [],
        "audit": audit if can_moderate else [],
        "said_fixed": any(u.kind == "fixed" and not u.hidden for u in updates)
        and issue.status in ("open", "acknowledged"),
        "reopen_request": status.reopen_pending(updates),
        "csrf_token": csrf_token(request),
        "reasons": moderation.FLAG_REASONS,
    }


def issue_page_response(request: Request, issue_id: int, errors: dict | None = None,
                        values: dict | None = None, status_code: int = 200) -> Response:
    user = current_user(request)
    portal = tenant(request)
    with request.app.state.db.session() as session:
        try:
            issue = get_portal_issue(session, portal, issue_id)
        except NotFound:
            return denied(request, hide=True)
        if not permissions.can_open_staff_issue(user, portal, issue):
            return denied(request, hide=True)
        context = staff_issue_context(session, request, issue)
    context.update({"errors": errors or {}, "values": values or {},
                    "notice": request.query_params.get("done", "")})
    return staff_render(request, "staff/issue.html", context, status_code)


def issue_page(request: Request) -> Response:
    return issue_page_response(request, request.path_params["issue_id"])


async def _managed(request: Request):  # noqa: ANN202
    """(form, None) when the form is valid and the user works this issue's body; else
    (None, refusal response)."""
    form = await read_form(request)
    if form is None:
        return None, expired_form(request)
    user = current_user(request)
    if user is None:
        return None, denied(request)
    with request.app.state.db.session() as session:
        try:
            issue = get_portal_issue(session, tenant(request), request.path_params["issue_id"])
        except NotFound:
            return None, denied(request, hide=True)
        if not permissions.can_manage_issue(user, issue):
            return None, denied(request, hide=True)
    return form, None


KEEP_STATUS = ""  # the status form's first choice: a public reply, the status as it is


async def change_status(request: Request) -> Response:
    form, refusal = await _managed(request)
    if refusal:
        return refusal
    issue_id = request.path_params["issue_id"]
    new_status = str(form.get("status", ""))
    text = str(form.get("text", ""))
    data = await read_photo(request, form)
    settings = request.app.state.settings
    try:
        with request.app.state.db.session() as session:
            issue = get_portal_issue(session, tenant(request), issue_id)
            if new_status == KEEP_STATUS:
                if data is not None:  # a reply carries no photo: say so, keep what was typed
                    raise ValidationError({"photo": Message(N_(
                        "A photo goes with a new status. Choose one, or remove the photo."))})
                triage.reply(session, issue, text, _actor(request))
            else:
                triage.set_status(session, issue, new_status, _actor(request), text=text,
                                  photo=data, media_dir=settings.media_dir,
                                  max_photo_bytes=settings.max_photo_bytes)
    except ValidationError as exc:
        return issue_page_response(request, issue_id, exc.errors,
                                   {"status_text": text, "status": new_status}, 400)
    done = "reply" if new_status == KEEP_STATUS else f"status-{new_status}"
    return back(request, "staff_issue", done=done, anchor="history", issue_id=issue_id)


async def review_reopen(request: Request) -> Response:
    form, refusal = await _managed(request)
    if refusal:
        return refusal
    issue_id = request.path_params["issue_id"]
    decision = str(form.get("decision", ""))
    text = str(form.get("text", ""))
    try:
        if decision not in ("accept", "decline"):
            raise ValidationError({"reopen": Message(N_("Choose to reopen the issue or to "
                                                        "keep it closed."))})
        with request.app.state.db.session() as session:
            issue = get_portal_issue(session, tenant(request), issue_id)
            triage.review_reopen(session, issue, decision == "accept", _actor(request), text)
    except ValidationError as exc:
        return issue_page_response(request, issue_id, exc.errors, {"reopen_text": text}, 400)
    return back(request, "staff_issue", done=f"reopen-{decision}", anchor="history",
                issue_id=issue_id)


async def add_note(request: Request) -> Response:
    form, refusal = await _managed(request)
    if refusal:
        return refusal
    issue_id = request.path_params["issue_id"]
    text = str(form.get("text", ""))
    try:
        with request.app.state.db.session() as session:
            issue = get_portal_issue(session, tenant(request), issue_id)
            triage.add_note(session, issue, text, _actor(request))
    except ValidationError as exc:
        errors = {"note_" + k: v for k, v in exc.errors.items()}
        return issue_page_response(request, issue_id, errors, {"note_text": text}, 400)
    return back(request, "staff_issue", done="note", anchor="history", issue_id=issue_id)


async def reassign(request: Request) -> Response:
    form, refusal = await _managed(request)
    if refusal:
        return refusal
    issue_id = request.path_params["issue_id"]
    text = str(form.get("text", ""))
    raw_body, raw_type = str(form.get("body", "")), str(form.get("request_type", ""))
    try:
        with request.app.state.db.session() as session:
            issue = get_portal_issue(session, tenant(request), issue_id)
            targets = {b.id: b for b in triage.reassign_targets(session, issue)}
            target = targets.get(text_fields.record_number(raw_body))
            type_id = None  # none chosen: the target's type with the same code
            if raw_type.strip():  # a chosen type that is not a number names none: refused
                type_id = text_fields.record_number(raw_type) or -1
            triage.reassign(session, issue, target, _actor(request),
                            request_type_id=type_id, text=text)
    except ValidationError as exc:
        errors = {"reassign_" + k: v for k, v in exc.errors.items()}
        return issue_page_response(request, issue_id, errors, {"reassign_text": text}, 400)
    return back(request, "staff_queue", done="reassigned")


async def duplicate(request: Request) -> Response:
    form, refusal = await _managed(request)
    if refusal:
        return refusal
    issue_id = request.path_params["issue_id"]
    text = str(form.get("text", ""))
    raw = str(form.get("original", "")).strip().lstrip("#")
    try:
        with request.app.state.db.session() as session:
            portal = tenant(request)
            issue = get_portal_issue(session, portal, issue_id)
            try:
                number = text_fields.record_number(raw)
                original = get_public_issue(session, portal, number) if number else None
            except NotFound:
                original = None
            if original is None:
                raise ValidationError({"original": Message(
                    N_("There is no such issue on this portal."))})
            user = current_user(request)
            root = triage.merge_root(session, original)
            if not (permissions.can_merge(user, issue, original)
                    and permissions.can_merge(user, issue, root)):
                raise ValidationError({"original": Message(N_(
                    "You can only merge into an issue your body works on."))})
            triage.mark_duplicate(session, issue, original, _actor(request), text=text)
    except ValidationError as exc:
        errors = {"duplicate_" + k: v for k, v in exc.errors.items()}
        return issue_page_response(request, issue_id, errors,
                                   {"duplicate_text": text, "original": raw}, 400)
    return back(request, "staff_issue", done="duplicate", anchor="history", issue_id=issue_id)


routes = [
    Route("/staff", staff_home, methods=["GET"], name="staff_home"),
    Route("/staff/queue", queue_page, methods=["GET"], name="staff_queue"),
    Route("/staff/queue/bulk", bulk, methods=["POST"], name="staff_bulk"),
    Route("/staff/issues/{issue_id:int}", issue_page, methods=["GET"], name="staff_issue"),
    Route("/staff/issues/{issue_id:int}/status", change_status, methods=["POST"],
          name="staff_status"),
    Route("/staff/issues/{issue_id:int}/note", add_note, methods=["POST"], name="staff_note"),
    Route("/staff/issues/{issue_id:int}/reopen", review_reopen, methods=["POST"],
          name="staff_reopen"),
    Route("/staff/issues/{issue_id:int}/reassign", reassign, methods=["POST"],
          name="staff_reassign"),
    Route("/staff/issues/{issue_id:int}/duplicate", duplicate, methods=["POST"],
          name="staff_duplicate"),
]
