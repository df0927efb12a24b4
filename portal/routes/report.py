"""The report form, place first: GET shows it, POST files it through `submit_report`."""

from __future__ import annotations

from sqlalchemy.exc import IntegrityError
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from portal.core import geo
from portal.core.db import DatabaseUnavailable, Reads, reading
from portal.core.errors import N_, Message, ValidationError
from portal.reports.reporting import (
    ReportForm,
    area_label,
    check_place,
    existing_submission,
    parse_point,
    submit_report,
)
from portal.reports.routing import request_types_at
from portal.web import unavailable
from portal.web.forms import read_form, read_photo
from portal.web.request_context import (
    client_ip,
    csrf_token,
    csrf_valid,
    new_submission_key,
    tenant,
)
from portal.web.templating import render, url


async def read_report_form(request: Request, locale: str) -> tuple[ReportForm, object]:
    form = await read_form(request)
    data = await read_photo(request, form)
    report = ReportForm(
        lat=str(form.get("lat", "")), lon=str(form.get("lon", "")),
        request_type=str(form.get("request_type", "")),
        description=str(form.get("description", "")), title=str(form.get("title", "")),
        name=str(form.get("name", "")), email=str(form.get("email", "")),
        show_name=form.get("show_name") == "1", address=str(form.get("address", "")),
        locale=locale, submission_key=str(form.get("submission_key", "")), photo=data,
        answers={k[2:]: str(v) for k, v in form.multi_items() if k.startswith("q_")},
    )
    return report, form


def form_context(request: Request, report: ReportForm, errors: dict[str, Message]) -> dict:
    """Everything the form template needs, including the request types at the chosen place."""
    portal = tenant(request)
    types = []
    lat, lon, point_errors = parse_point(report.lat, report.lon)
    if report.lat and report.lon and not point_errors and not check_place(
        portal, lat, lon, report.locale
    ):
        with request.app.state.db.session() as session:
            types = request_types_at(session, portal, lat, lon)
            for rt in types:
                _ = rt.body.name  # loaded while the session is open
    centre = geo.centre(portal.area_geojson)
    return {
        "form": report, "errors": errors, "types": types, "centre": centre,
        "area": area_label(portal, report.locale),
        "csrf_token": csrf_token(request),
        # A key we refused is not given back: the page would be refused again.
        "submission_key": (new_submission_key() if "submission_key" in errors
                           else report.submission_key or new_submission_key()),
        "bbox": (portal.min_lon, portal.min_lat, portal.max_lon, portal.max_lat),
    }


async def report_form(request: Request) -> Response:
    q = request.query_params
    # `place`: the name a place search chose (/places), kept as the report's address.
    report = ReportForm(lat=q.get("lat", ""), lon=q.get("lon", ""),
                        request_type=q.get("type", ""), address=q.get("place", "")[:300],
                        locale=request.state.locale)
    errors: dict[str, Message] = {}
    if report.lat or report.lon:
        lat, lon, errors = parse_point(report.lat, report.lon)
        if not errors:
            errors = check_place(tenant(request), lat, lon, report.locale)
    template = request.scope.get("report_template", "report.html")
    return render(request, template, form_context(request, report, errors),
                  status_code=400 if errors else 200,
                  frame_ancestors=request.scope.get("frame_ancestors", "'self'"))


async def submit(request: Request, on_success) -> Response:  # noqa: ANN001 - callable
    """Shared by the portal form and the report widget: validate, file, or re-show errors."""
    report, form = await read_report_form(request, request.state.locale)
    template = request.scope.get("report_template", "report.html")
    frame_ancestors = request.scope.get("frame_ancestors", "'self'")
    if form.get("step") == "place":
        # Without JavaScript the place is set by sending the form: by POST, so the CSRF
        # token, submission key and text stay out of the address bar and every field comes
        # back as typed. Nothing is filed; a chosen photo cannot be kept, and the page says so.
        return await run_in_threadpool(_place_step, request, report, template, frame_ancestors)
    if not csrf_valid(request, form):
        errors = {"form": Message(N_("This form has expired. Please check it and send it again."))}
        return render(request, template, form_context(request, report, errors), 400,
                      frame_ancestors)
    if form.get("website"):  # the honeypot only robots fill in
        errors = {"form": Message(N_("This report looks automated and was not sent."))}
        return render(request, template, form_context(request, report, errors), 400,
                      frame_ancestors)
    try:
        # Filing waits on the database: in the thread pool, so other requests go on meanwhile.
        return await run_in_threadpool(_file, request, report, on_success)
    except DatabaseUnavailable:
        # Not filed (unless the server went away while committing it). The form comes back as
        # it was sent with its submission key, so sending it again files it once either way;
        # its request types are read on the replica.
        with reading(Reads.REPLICA):
            context = form_context(request, report, {"form": Message(NOT_SENT)})
        response = render(request, template, context, 503, frame_ancestors)
        response.headers.update(unavailable.headers())
        return response


def _place_step(request: Request, report: ReportForm, template: str,
                frame_ancestors: str) -> Response:
    lat, lon, errors = parse_point(report.lat, report.lon)
    if not report.lat and not report.lon:
        errors = {"lat": Message(N_("Give the place's latitude and longitude, or search for "
                                    "the place above."))}
    elif not errors:
        errors = check_place(tenant(request), lat, lon, report.locale)
    context = form_context(request, report, errors)
    context["place_step"] = True
    return render(request, template, context, 400 if errors else 200, frame_ancestors)


NOT_SENT = N_("Your report could not be sent just now: the portal cannot save anything for a "
              "moment. Everything you typed is still here (a photo must be chosen again). "
              "Please send it again in a minute.")


def _file(request: Request, report: ReportForm, on_success) -> Response:  # noqa: ANN001
    portal = tenant(request)
    settings = request.app.state.settings
    template = request.scope.get("report_template", "report.html")
    frame_ancestors = request.scope.get("frame_ancestors", "'self'")
    db = request.app.state.db
    with db.session() as session:
        if existing_submission(session, report.submission_key) is None and not (
            request.app.state.limiter.allow(portal.slug, "report", client_ip(request))
        ):
            errors = {"form": Message(N_("Too many reports from here just now. "
                                         "Please wait a few minutes and try again."))}
            return render(request, template, form_context(request, report, errors), 429,
                          frame_ancestors)
    try:
        with db.session() as session:
            issue = submit_report(session, portal, report, settings.media_dir,
                                  settings.max_photo_bytes)
            issue_id = issue.id
    except ValidationError as exc:
        return render(request, template, form_context(request, report, exc.errors), 400,
                      frame_ancestors)
    except IntegrityError:
        # The same submission arrived twice at once; the other request wrote it.
        with db.session() as session:
            issue_id = existing_submission(session, report.submission_key).id
    return on_success(issue_id)


async def report_submit(request: Request) -> Response:
    return await submit(request, lambda issue_id: RedirectResponse(
        url(request, "issue", issue_id=issue_id, _query={"new": "1"}), status_code=303))


routes = [
    Route("/report", report_form, methods=["GET"], name="report"),
    Route("/report", report_submit, methods=["POST"], name="report_submit"),
]
