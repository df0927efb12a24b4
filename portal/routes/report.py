"""The report form, place first: GET shows it, POST files it through `submit_report`.

Before filing, the POST asks "Is it one of these?" when issues of the chosen type lie near
the place (`reports.nearby`) and the form has not shown them yet; a resident who picks one
("I want this fixed too", the button `same`) votes for it and, with an email, follows it,
instead of filing a duplicate. With JavaScript the list comes earlier, from `report_nearby`.
"""

from __future__ import annotations

from sqlalchemy.exc import IntegrityError
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from portal.core import geo, text_fields
from portal.core.db import DatabaseUnavailable, Reads, reading
from portal.core.errors import N_, Message, NotFound, ValidationError
from portal.engagement import watching
from portal.places import point_names
from portal.reports import nearby, photo_place, voting
from portal.reports.reporting import (
    ReportForm,
    area_label,
    check_place,
    existing_submission,
    parse_point,
    submit_report,
)
from portal.reports.routing import request_types_at
from portal.tenancy.scoping import get_public_issue
from portal.web import unavailable
from portal.web.forms import read_form, read_photo
from portal.web.request_context import (
    client_ip,
    csrf_token,
    csrf_valid,
    new_submission_key,
    tenant,
    visitor_key,
    voter_network,
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
        nearby_seen=("none" if form.get("nearby") == "none"
                     else str(form.get("nearby_seen", ""))[:200]),
        photo_place=str(form.get("photo_place") or form.get("photo_answer") or ""),
        office_contact=form.get("office_contact") == "1",
    )
    settings = request.app.state.settings
    if data is None and (digest := photo_place.kept(str(form.get("kept_photo", "")),
                                                    settings.media_dir, settings.secret_key)):
        report.kept_photo, report.kept_photo_token = digest, str(form.get("kept_photo"))
    if report.photo_place == "use":  # the no-JS answer "use the photo's place"
        report.lat = str(form.get("photo_lat", report.lat))
        report.lon = str(form.get("photo_lon", report.lon))
    return report, form


def form_context(request: Request, report: ReportForm, errors: dict[str, Message],
                 near: list[nearby.Nearby] | None = None, radius_m: int = 0,
                 photo_offer: dict | None = None) -> dict:
    """Everything the form template needs, including the request types at the chosen place
    and, at the "already reported?" step, the issues near it."""
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
        "nearby": near or [], "nearby_m": radius_m, "photo_offer": photo_offer,
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
    saves_data = request.headers.get("save-data", "").strip().lower() == "on"
    if template == "report.html" and saves_data:
        template = LITE  # the browser asks for less data: the form without the map library
    response = render(request, template, form_context(request, report, errors),
                      status_code=400 if errors else 200,
                      frame_ancestors=request.scope.get("frame_ancestors", "'self'"))
    response.headers["vary"] = ", ".join(
        v for v in (response.headers.get("vary", ""), "Save-Data") if v)
    return response


LITE = "report_lite.html"


async def report_lite_form(request: Request) -> Response:
    request.scope["report_template"] = LITE
    return await report_form(request)


async def report_lite_submit(request: Request) -> Response:
    request.scope["report_template"] = LITE
    return await report_submit(request)


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
    if form.get("same"):
        return await run_in_threadpool(_join, request, report, str(form.get("same")))
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


class _AskFirst(Exception):  # noqa: N818 - not an error: the "already reported?" step
    """Leaves the filing transaction without writing, carrying the page that asks."""

    def __init__(self, response: Response, context: dict) -> None:
        super().__init__("ask about nearby issues first")
        self.response, self.context = response, context


def _keep_photo(request: Request, report: ReportForm) -> None:
    """Store the form's photo (stripped) for a step that sends the form back, so the next
    send carries its token instead of the file."""
    settings = request.app.state.settings
    token = photo_place.keep(report.photo, settings.media_dir, settings.max_photo_bytes,
                             settings.secret_key) if report.photo else None
    if token:
        report.kept_photo_token = token


def _file(request: Request, report: ReportForm, on_success) -> Response:  # noqa: ANN001
    portal = tenant(request)
    settings = request.app.state.settings
    template = request.scope.get("report_template", "report.html")
    frame_ancestors = request.scope.get("frame_ancestors", "'self'")
    db = request.app.state.db
    with db.session() as session:
        first_time = existing_submission(session, report.submission_key) is None
        if first_time and not (
            request.app.state.limiter.allow(portal.slug, "report", client_ip(request))
        ):
            errors = {"form": Message(N_("Too many reports from here just now. "
                                         "Please wait a few minutes and try again."))}
            return render(request, template, form_context(request, report, errors), 429,
                          frame_ancestors)
    if first_time and report.photo and report.photo_place not in ("use", "keep"):
        lat, lon, point_errors = parse_point(report.lat, report.lon)
        where = photo_place.offer(portal, report.photo, *((None, None) if point_errors
                                                          else (lat, lon)))
        if where is not None:
            with db.session() as session:
                name = str(point_names.name_of(session, portal, *where, report.locale))
            _keep_photo(request, report)
            offer = {"lat": f"{where[0]:.6f}", "lon": f"{where[1]:.6f}", "name": name}
            return render(request, template, form_context(request, report, {}, photo_offer=offer),
                          200, frame_ancestors)
    try:
        with db.session() as session:
            request_type, near = (nearby.for_report(session, portal, report.lat, report.lon,
                                                    report.request_type)
                                  if first_time else (None, []))
            issue = submit_report(session, portal, report, settings.media_dir,
                                  settings.max_photo_bytes)
            issue_id = issue.id
            # "None of these: send my report" (`nearby=none`) files whatever lies near.
            seen = set(report.nearby_seen.split(","))
            if report.nearby_seen != "none" and any(str(n.issue.id) not in seen for n in near):
                # A report that would be filed, but the resident has not seen these yet:
                # asked first, and nothing is written (the transaction is rolled back).
                context = form_context(request, report, {}, near,
                                       nearby.radius_of(request_type))
                raise _AskFirst(render(request, template, context, 200, frame_ancestors),
                                context)
    except _AskFirst as ask:
        if report.photo:  # rolled back with the rest: kept now, so it need not be chosen again
            _keep_photo(request, report)
            ask.response = render(request, template, ask.context, 200, frame_ancestors)
        return ask.response
    except ValidationError as exc:
        return render(request, template, form_context(request, report, exc.errors), 400,
                      frame_ancestors)
    except IntegrityError:
        # The same submission arrived twice at once; the other request wrote it.
        with db.session() as session:
            issue_id = existing_submission(session, report.submission_key).id
    return on_success(issue_id)


def _join(request: Request, report: ReportForm, same: str) -> Response:
    """"I want this fixed too" from the report form: a vote for the issue the resident chose
    instead of a new report, and a watch of it (confirmed by email) when they gave an email."""
    portal = tenant(request)
    template = request.scope.get("report_template", "report.html")
    frame_ancestors = request.scope.get("frame_ancestors", "'self'")
    limiter = request.app.state.limiter
    issue_id = text_fields.record_number(same)
    here = f"{issue_id}|{voting.network_of(client_ip(request))}"
    if not (limiter.allow(portal.slug, "vote", client_ip(request))
            and limiter.allow(portal.slug, "vote_issue", here)):
        errors = {"form": Message(N_("Too many requests from here just now. "
                                     "Please wait a few minutes and try again."))}
        return render(request, template, form_context(request, report, errors), 429,
                      frame_ancestors)
    try:
        with request.app.state.db.session() as session:
            if issue_id is None:
                raise NotFound(N_("There is no such issue on this portal."))
            issue = get_public_issue(session, portal, issue_id)
            key = visitor_key(request)
            counted = voting.vote(session, issue, key, voter_network(request))
            network_voted = not counted and not voting.has_voted(session, issue, key)
            following = bool(report.email.strip())
            if following:
                watching.create_watch(session, portal, watching.WatchForm(
                    email=report.email, kind="issue", issue_id=str(issue.id),
                    frequency="instant", locale=report.locale),
                    request.app.state.settings.secret_key)
    except NotFound:
        errors = {"form": Message(N_("There is no such issue on this portal."))}
        return render(request, template, form_context(request, report, errors), 404,
                      frame_ancestors)
    except ValidationError as exc:  # a closed issue, or an email we cannot use
        return render(request, template, form_context(request, report, exc.errors), 400,
                      frame_ancestors)
    done = ("vote-network" if network_voted
            else "joined-following" if following else "joined")
    return RedirectResponse(url(request, "issue", issue_id=issue_id, _query={"done": done}),
                            status_code=303)


def nearby_list(request: Request) -> Response:
    """The "Is it one of these?" part of the form for ?lat=&lon=&type=, as HTML for report.js
    to put in place (the same template the no-JS step renders, so both say the same)."""
    with request.app.state.db.session() as session:
        request_type, near = nearby.for_report(
            session, tenant(request), request.query_params.get("lat", ""),
            request.query_params.get("lon", ""), request.query_params.get("type", ""))
        for n in near:
            _ = n.issue.request_type.name
    return render(request, "_nearby.html", {
        "nearby": near, "nearby_m": nearby.radius_of(request_type) if request_type else 0,
        "form": ReportForm(), "fragment": True})


async def report_submit(request: Request) -> Response:
    return await submit(request, lambda issue_id: RedirectResponse(
        url(request, "issue", issue_id=issue_id, _query={"new": "1"}), status_code=303))


routes = [
    Route("/report", report_form, methods=["GET"], name="report"),
    Route("/report", report_submit, methods=["POST"], name="report_submit"),
    Route("/report/lite", report_lite_form, methods=["GET"], name="report_lite"),
    Route("/report/lite", report_lite_submit, methods=["POST"], name="report_lite_submit"),
    Route("/report/nearby", nearby_list, methods=["GET"], name="report_nearby"),
]
