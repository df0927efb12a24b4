"""The issue page and what anyone may do there: vote, comment, say it is fixed."""

from __future__ import annotations

from sqlalchemy.orm import selectinload
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from portal.core.errors import N_, Message, ValidationError
from portal.core.text_fields import MAX_RECORD_NUMBER
from portal.engagement.points import record_contribution
from portal.models import Issue, RequestType
from portal.reports import routing, status, voting
from portal.staff import triage
from portal.tenancy import service_targets
from portal.tenancy.scoping import get_public_issue, public_issues
from portal.web.forms import read_form, read_photo
from portal.web.request_context import (
    client_ip,
    csrf_token,
    csrf_valid,
    ensure_visitor,
    new_submission_key,
    tenant,
    visitor_key,
    voter_network,
)
from portal.web.templating import render, url


def _load(session, request: Request, issue_id: int) -> Issue:  # noqa: ANN001
    if issue_id > MAX_RECORD_NUMBER:  # no such row: let the scoped lookup say NotFound
        return get_public_issue(session, tenant(request), issue_id)
    stmt = public_issues(tenant(request)).where(Issue.id == issue_id).options(
        selectinload(Issue.updates), selectinload(Issue.request_type).selectinload(
            RequestType.body))
    issue = session.scalars(stmt).first()
    return issue if issue is not None else get_public_issue(session, tenant(request), issue_id)


def _page(request: Request, issue_id: int, errors: dict[str, Message] | None = None,
          values: dict | None = None, status_code: int = 200) -> Response:
    with request.app.state.db.session() as session:
        issue = _load(session, request, issue_id)
        voted = voting.has_voted(session, issue, visitor_key(request))
        history = status.public_history(issue)
        fix_reported = status.fix_reported(history)
        duplicate_of = triage.original_of(session, issue.id)
        explanation = routing.explain(session, issue)
        promise = service_targets.promise(issue.body.service_targets, issue.request_type.code)
    ensure_visitor(request)
    return render(request, "issue.html", {
        "issue": issue, "history": history, "voted": voted, "errors": errors or {},
        "values": values or {}, "csrf_token": csrf_token(request),
        "submission_key": new_submission_key(),
        "just_reported": request.query_params.get("new") == "1",
        "notice": request.query_params.get("done", ""), "duplicate_of": duplicate_of,
        "fix_reported": fix_reported, "explanation": explanation, "promise": promise,
        "reopen_asked": status.reopen_pending(issue.updates),
    }, status_code)


def page_with_errors(request: Request, issue_id: int, errors: dict[str, Message],
                     values: dict) -> Response:
    """The issue page again (400) with the errors of a form posted from it elsewhere."""
    return _page(request, issue_id, errors, values, 400)


def issue_page(request: Request) -> Response:
    return _page(request, request.path_params["issue_id"])


def _back(request: Request, issue_id: int, done: str) -> Response:
    return RedirectResponse(url(request, "issue", issue_id=issue_id, _query={"done": done})
                            + "#history", status_code=303)


TOO_MANY = Message(N_("Too many requests from here just now. "
                      "Please wait a few minutes and try again."))


async def _checked_form(request: Request, action: str):  # noqa: ANN202
    form = await read_form(request)
    if not csrf_valid(request, form):
        return form, {"form": Message(N_("This form has expired. Please try again."))}
    if not request.app.state.limiter.allow(tenant(request).slug, action, client_ip(request)):
        return form, {"form": TOO_MANY}
    return form, {}


async def vote(request: Request) -> Response:
    issue_id = request.path_params["issue_id"]
    form, errors = await _checked_form(request, "vote")  # per address, over all issues
    here = f"{issue_id}|{voting.network_of(client_ip(request))}"
    if not errors and not request.app.state.limiter.allow(tenant(request).slug, "vote_issue",
                                                         here):
        errors = {"form": TOO_MANY}
    if errors:
        return _page(request, issue_id, errors, status_code=400)
    with request.app.state.db.session() as session:
        issue = get_public_issue(session, tenant(request), issue_id)
        key = visitor_key(request)
        try:
            counted = voting.vote(session, issue, key, voter_network(request))
        except ValidationError as exc:  # a closed issue
            return _page(request, issue_id, exc.errors, status_code=400)
        # Refused although this visitor never voted: someone on their network did today.
        network_voted = not counted and not voting.has_voted(session, issue, key)
    return _back(request, issue_id, "vote-network" if network_voted else "voted")


async def comment(request: Request) -> Response:
    issue_id = request.path_params["issue_id"]
    form, errors = await _checked_form(request, "comment")
    values = {"text": str(form.get("text", "")), "author": str(form.get("author", ""))}
    if errors:
        return _page(request, issue_id, errors, values, 400)
    try:
        with request.app.state.db.session() as session:
            issue = get_public_issue(session, tenant(request), issue_id)
            update = status.add_comment(session, issue, values["text"], values["author"],
                                        str(form.get("submission_key", "")))
            record_contribution(session, update, visitor_key(request))
    except ValidationError as exc:
        return _page(request, issue_id, exc.errors, values, 400)
    return _back(request, issue_id, "commented")


async def fixed(request: Request) -> Response:
    issue_id = request.path_params["issue_id"]
    form, errors = await _checked_form(request, "comment")
    values = {"fixed_text": str(form.get("text", "")), "fixed_author": str(form.get("author", ""))}
    if errors:
        return _page(request, issue_id, errors, values, 400)
    data = await read_photo(request, form)
    settings = request.app.state.settings
    try:
        with request.app.state.db.session() as session:
            issue = get_public_issue(session, tenant(request), issue_id)
            update = status.report_fixed(session, issue, values["fixed_text"],
                                         values["fixed_author"], data, settings.media_dir,
                                         settings.max_photo_bytes,
                                         str(form.get("submission_key", "")))
            record_contribution(session, update, visitor_key(request))
    except ValidationError as exc:
        errors = {("fixed_" + k if k != "form" else k): v for k, v in exc.errors.items()}
        return _page(request, issue_id, errors, values, 400)
    return _back(request, issue_id, "fixed")


async def still_broken(request: Request) -> Response:
    issue_id = request.path_params["issue_id"]
    form, errors = await _checked_form(request, "comment")
    values = {"reopen_text": str(form.get("text", "")),
              "reopen_author": str(form.get("author", ""))}
    if errors:
        return _page(request, issue_id, errors, values, 400)
    try:
        with request.app.state.db.session() as session:
            issue = get_public_issue(session, tenant(request), issue_id)
            status.request_reopen(session, issue, values["reopen_text"],
                                  values["reopen_author"], str(form.get("submission_key", "")))
    except ValidationError as exc:
        errors = {(k if k.startswith("reopen") or k == "form" else "reopen_" + k): v
                  for k, v in exc.errors.items()}
        return _page(request, issue_id, errors, values, 400)
    return _back(request, issue_id, "reopen-asked")


routes = [
    Route("/issues/{issue_id:int}", issue_page, methods=["GET"], name="issue"),
    Route("/issues/{issue_id:int}/vote", vote, methods=["POST"], name="issue_vote"),
    Route("/issues/{issue_id:int}/comments", comment, methods=["POST"], name="issue_comment"),
    Route("/issues/{issue_id:int}/fixed", fixed, methods=["POST"], name="issue_fixed"),
    Route("/issues/{issue_id:int}/still-broken", still_broken, methods=["POST"],
          name="issue_still_broken"),
]
