"""Staff pages for response templates: list, write, edit and delete a body's templates, and
"Use a template" on the staff view of an issue (a POST that shows the issue's reply form again
with the template's text in it; the page's script does the same in place).

Who may: the staff of a body, for that body's templates only (`response_templates` scopes
every read and write to `permissions.staff_body_ids`).
"""

from __future__ import annotations

from sqlalchemy import select
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from portal.core import text_fields
from portal.core.errors import N_, Message, NotFound, ValidationError
from portal.core.i18n import SUPPORTED
from portal.models import STATUSES, Body, Issue
from portal.reports import status
from portal.routes.guards import back, current_user, denied, permitted_form, staff_render
from portal.routes.staff import issue_page_response
from portal.staff import permissions
from portal.staff import response_templates as templates
from portal.tenancy.scoping import get_portal_issue
from portal.web.request_context import csrf_token, tenant


def _may(user, portal) -> bool:  # noqa: ANN001 - the signature permitted_form asks
    return permissions.can_use_queue(user)


def _bodies(session, body_ids: set[int]) -> list[Body]:  # noqa: ANN001
    return list(session.scalars(select(Body).where(Body.id.in_(sorted(body_ids) or [-1]))
                                .order_by(Body.slug)))


def _page(request: Request, draft: templates.Draft | None = None, editing: int | None = None,
          errors: dict | None = None, status_code: int = 200) -> Response:
    body_ids = permissions.staff_body_ids(current_user(request))
    portal = tenant(request)
    with request.app.state.db.session() as session:
        bodies = _bodies(session, body_ids)
        rows = templates.for_staff(session, body_ids)
        draft = draft or templates.Draft(body_id=bodies[0].id if bodies else None)
        body = next((b for b in bodies if b.id == draft.body_id), bodies[0] if bodies else None)
        languages = templates.body_languages(session, body, portal.default_language) \
            if body else [portal.default_language]
        languages = list(dict.fromkeys([*languages, *draft.titles, *draft.texts]))
        types = {b.id: [rt for rt in b.request_types if rt.active] for b in bodies}
        type_names = {(rt.body_id, rt.code): rt.name for b in bodies for rt in b.request_types}
    return staff_render(request, "staff/templates.html", {
        "bodies": bodies, "templates": rows, "draft": draft, "editing": editing,
        "languages": languages, "types": types, "type_names": type_names,
        "statuses": STATUSES, "errors": errors or {}, "csrf_token": csrf_token(request),
        "notice": request.query_params.get("done", ""),
    }, status_code)


def templates_page(request: Request) -> Response:
    if not _may(current_user(request), tenant(request)):
        return denied(request)
    return _page(request)


def edit_page(request: Request) -> Response:
    user = current_user(request)
    if not _may(user, tenant(request)):
        return denied(request)
    with request.app.state.db.session() as session:
        row = templates.get(session, permissions.staff_body_ids(user),
                            request.path_params["template_id"])
        draft = templates.Draft.of(row) if row else None
    if draft is None:
        return denied(request, hide=True)  # another body's template: nothing about it
    return _page(request, draft, editing=request.path_params["template_id"])


def _draft(form) -> templates.Draft:  # noqa: ANN001
    # Only languages the server knows: a made-up field name (title_xx) is no language.
    codes = [code for code in SUPPORTED if f"title_{code}" in form or f"text_{code}" in form]
    return templates.Draft(
        body_id=text_fields.record_number(str(form.get("body", ""))),
        titles={c: str(form.get(f"title_{c}", "")) for c in codes if f"title_{c}" in form},
        texts={c: str(form.get(f"text_{c}", "")) for c in codes if f"text_{c}" in form},
        request_type_code=str(form.get("request_type", "")).strip(),
        status=str(form.get("status", "")).strip())


async def _save(request: Request, template_id: int | None) -> Response:
    form, refusal = await permitted_form(request, _may)
    if refusal:
        return refusal
    body_ids = permissions.staff_body_ids(current_user(request))
    portal = tenant(request)
    draft = _draft(form)
    if draft.body_id is None and len(body_ids) == 1:
        draft.body_id = next(iter(body_ids))  # one body: the form need not ask
    try:
        with request.app.state.db.session() as session:
            body = session.get(Body, draft.body_id) if draft.body_id in body_ids else None
            languages = templates.body_languages(session, body, portal.default_language) \
                if body else []
            templates.save(session, body_ids, draft, languages, template_id)
    except LookupError:
        return denied(request, hide=True)
    except ValidationError as exc:
        return _page(request, draft, template_id, exc.errors, 400)
    return back(request, "staff_templates", done="saved")


async def create(request: Request) -> Response:
    return await _save(request, None)


async def change(request: Request) -> Response:
    return await _save(request, request.path_params["template_id"])


async def remove(request: Request) -> Response:
    _, refusal = await permitted_form(request, _may)
    if refusal:
        return refusal
    body_ids = permissions.staff_body_ids(current_user(request))
    with request.app.state.db.session() as session:
        deleted = templates.delete(session, body_ids, request.path_params["template_id"])
    if not deleted:
        return denied(request, hide=True)
    return back(request, "staff_templates", done="deleted")


async def use_template(request: Request) -> Response:
    """The issue page's "Insert": its reply form again, the template's text in the reply box
    and its status chosen (when the issue can move to it), nothing saved yet."""
    form, refusal = await permitted_form(request, lambda user, portal: user is not None)
    if refusal:
        return refusal
    user = current_user(request)
    issue_id = request.path_params["issue_id"]
    portal = tenant(request)
    with request.app.state.db.session() as session:
        try:
            issue: Issue = get_portal_issue(session, portal, issue_id)
        except NotFound:
            return denied(request, hide=True)
        if not permissions.can_manage_issue(user, issue):
            return denied(request, hide=True)
        body_ids = permissions.staff_body_ids(user)
        row = templates.get(session, body_ids,
                            text_fields.record_number(str(form.get("template", ""))))
        if row is None or row not in templates.for_issue(session, body_ids, issue):
            return issue_page_response(request, issue_id, {"template": Message(N_(
                "Choose one of the templates offered for this issue."))},
                {"status_text": str(form.get("text", ""))}, 400)
        text = templates.text_for(row, issue, portal.default_language)
        chosen = row.status if row.status in status.ALLOWED[issue.status] else ""
    return issue_page_response(request, issue_id, values={
        "status_text": text, "status": chosen, "template": row.id})


routes = [
    Route("/staff/templates", templates_page, methods=["GET"], name="staff_templates"),
    Route("/staff/templates", create, methods=["POST"], name="staff_template_create"),
    Route("/staff/templates/{template_id:int}", edit_page, methods=["GET"],
          name="staff_template"),
    Route("/staff/templates/{template_id:int}", change, methods=["POST"],
          name="staff_template_change"),
    Route("/staff/templates/{template_id:int}/delete", remove, methods=["POST"],
          name="staff_template_delete"),
    Route("/staff/issues/{issue_id:int}/template", use_template, methods=["POST"],
          name="staff_use_template"),
]
