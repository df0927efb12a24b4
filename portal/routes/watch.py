"""Watch areas: ask for one (no account), confirm it from the email, read its Atom feed."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from portal.core import geo
from portal.core.errors import N_, Message, NotFound, ValidationError
from portal.core.text_fields import record_number
from portal.engagement import digests, route_watches, watching
from portal.mail import unsubscribe
from portal.reports.reporting import area_label
from portal.routes.feeds import events_feed
from portal.tenancy.scoping import get_public_issue
from portal.web.absolute_urls import absolute
from portal.web.forms import read_form
from portal.web.request_context import client_ip, csrf_token, csrf_valid, tenant
from portal.web.templating import render, url


def _form_page(request: Request, form: watching.WatchForm, errors: dict[str, Message],
               status_code: int = 200) -> Response:
    portal = tenant(request)
    issue = None
    issue_id = record_number(form.issue_id) if form.kind == "issue" else None
    if issue_id is not None:
        with request.app.state.db.session() as session:
            try:
                issue = get_public_issue(session, portal, issue_id)
                _ = issue.request_type.name
            except NotFound:
                issue = None
    return render(request, "watch.html", {
        "form": form, "errors": errors, "issue": issue, "radii": watching.RADII,
        "corridors": route_watches.named(portal, request.state.locale),
        "route_distances": route_watches.DISTANCES,
        "area": area_label(portal, request.state.locale), "csrf_token": csrf_token(request),
        "centre": geo.centre(portal.area_geojson),
        "bbox": (portal.min_lon, portal.min_lat, portal.max_lon, portal.max_lat),
        "sent": request.query_params.get("sent") == "1",
    }, status_code)


def watch_form(request: Request) -> Response:
    q = request.query_params
    issue_id = q.get("issue", "")
    form = watching.WatchForm(kind="issue" if issue_id else "circle", issue_id=issue_id,
                              lat=q.get("lat", ""), lon=q.get("lon", ""),
                              locale=request.state.locale)
    return _form_page(request, form, {})


async def watch_submit(request: Request) -> Response:
    portal = tenant(request)
    data = await read_form(request)
    form = watching.WatchForm(
        email=str(data.get("email", "")), kind=str(data.get("kind", "circle")),
        lat=str(data.get("lat", "")), lon=str(data.get("lon", "")),
        radius=str(data.get("radius", "500")), frequency=str(data.get("frequency", "instant")),
        issue_id=str(data.get("issue_id", "")), locale=request.state.locale,
        corridor=str(data.get("corridor", "")), route_line=str(data.get("route_line", "")),
        route_distance=str(data.get("route_distance", "100")))
    if not csrf_valid(request, data):
        return _form_page(request, form, {"form": Message(
            N_("This form has expired. Please check it and send it again."))}, 400)
    if not request.app.state.limiter.allow(portal.slug, "watch", client_ip(request)):
        return _form_page(request, form, {"form": Message(
            N_("Too many requests from here just now. Please wait a few minutes and try "
               "again."))}, 429)
    try:
        with request.app.state.db.session() as session:
            watching.create_watch(session, portal, form, request.app.state.settings.secret_key)
    except ValidationError as exc:
        return _form_page(request, form, exc.errors, 400)
    return RedirectResponse(url(request, "watch", _query={"sent": "1"}), status_code=303)


def _confirm_page(request: Request, confirmed: bool) -> Response:
    portal = tenant(request)
    token = request.path_params["token"]
    secret = request.app.state.settings.secret_key
    try:
        with request.app.state.db.session() as session:
            if confirmed:
                watch = watching.confirm_watch(session, portal, token, secret)
            else:
                watch = watching.read_confirm_token(session, portal, token, secret)
            described = watching.describe(watch, portal)
            feed_url = absolute(request, url(request, "watch_feed", token=watch.feed_token))
            stop_token = unsubscribe.make_token(secret, watch.email, f"watch:{watch.id}")
            info = {"email": watch.email, "frequency": watch.frequency,
                    "already": watch.confirmed_at is not None and not confirmed}
    except watching.WatchLinkError as exc:
        return render(request, "watch_confirm.html", {"error": exc.message}, 400)
    return render(request, "watch_confirm.html", {
        "confirmed": confirmed or info["already"], "described": described, "info": info,
        "feed_url": feed_url, "token": token,
        "stop_url": url(request, "unsubscribe", token=stop_token),
    })


def watch_confirm(request: Request) -> Response:
    return _confirm_page(request, confirmed=False)


def watch_confirm_post(request: Request) -> Response:
    # The signed token in the URL is the credential; no session or CSRF token is involved.
    return _confirm_page(request, confirmed=True)


def watch_feed(request: Request) -> Response:
    portal = tenant(request)
    with request.app.state.db.session() as session:
        watch = watching.active_by_feed_token(session, portal, request.path_params["token"])
        if watch is None:
            raise NotFound(N_("There is no such feed."))
        found = digests.watch_events(session, watch)
        described = watching.describe(watch, portal)
        return events_feed(request, found, title_suffix=described,
                           self_path=url(request, "watch_feed", token=watch.feed_token),
                           feed_key=f"watches/{watch.id}",
                           headers={"cache-control": "no-store",
                                    "x-robots-tag": "noindex"})


routes = [
    Route("/watch", watch_form, methods=["GET"], name="watch"),
    Route("/watch", watch_submit, methods=["POST"], name="watch_submit"),
    Route("/watch/confirm/{token}", watch_confirm, methods=["GET"], name="watch_confirm"),
    Route("/watch/confirm/{token}", watch_confirm_post, methods=["POST"],
          name="watch_confirm_post"),
    Route("/watch/{token}/feed.atom", watch_feed, methods=["GET"], name="watch_feed"),
]
