"""Sign in with an emailed link, see your account, sign out (here or everywhere).

Signing in starts a server-side session for this portal and keeps its token in the cookie;
signing out ends it on the server, so the cookie (or any copy of it) opens nothing after.

The link's page does not sign in by itself: it shows a button that posts the token. Mail
scanners that open links therefore cannot use up a single-use link.
"""

from __future__ import annotations

import hashlib

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from portal.core.errors import N_, Message, ValidationError
from portal.engagement import own_items, watching
from portal.mail import unsubscribe
from portal.models import Body, Tenant
from portal.routes.guards import back, current_user, expired_form, read_form
from portal.staff import accounts, permissions, sessions
from portal.web import session_tokens
from portal.web.absolute_urls import portal_address
from portal.web.request_context import client_ip, csrf_token, tenant
from portal.web.templating import render, url


def _form_page(request: Request, email: str = "", errors: dict | None = None,
               status_code: int = 200) -> Response:
    return render(request, "signin.html", {
        "email": email, "errors": errors or {}, "csrf_token": csrf_token(request),
    }, status_code)


def signin_page(request: Request) -> Response:
    return _form_page(request)


def sign_in_link_for(request: Request):  # noqa: ANN201 - a callable
    """token -> this portal's public address of the sign-in link page for it."""
    base = portal_address(request)
    path = request.app.url_path_for("signin_confirm")
    return lambda token: f"{base}{path}?token={token}"


async def signin_submit(request: Request) -> Response:
    form = await read_form(request)
    if form is None:
        return _form_page(request, errors={"form": Message(
            N_("This form has expired. Please try again."))}, status_code=400)
    email = str(form.get("email", ""))[:300]
    portal = tenant(request)
    limiter = request.app.state.limiter
    email_key = "email:" + hashlib.sha256(accounts.normalise_email(email).encode()).hexdigest()
    if not (limiter.allow(portal.slug, "signin", client_ip(request))
            and limiter.allow(portal.slug, "signin", email_key)):
        return _form_page(request, email, {"form": Message(N_(
            "Too many sign-in requests just now. Please wait a few minutes and try again."))},
            429)
    settings = request.app.state.settings
    try:
        with request.app.state.db.session() as session:
            accounts.request_sign_in(session, email=email, tenant=portal,
                                     locale=request.state.locale,
                                     secret_key=settings.secret_key,
                                     link_for=sign_in_link_for(request))
    except ValidationError as exc:
        return _form_page(request, email, exc.errors, 400)
    # The same answer whether or not the address is known.
    return render(request, "signin_sent.html", {"email": accounts.normalise_email(email)})


def confirm_page(request: Request) -> Response:
    token = request.query_params.get("token", "")
    settings = request.app.state.settings
    try:
        accounts.read_link(settings.secret_key, token, tenant(request))
    except accounts.SignInError as exc:
        return render(request, "signin_confirm.html", {"error": exc.message}, 400)
    return render(request, "signin_confirm.html", {
        "token": token, "csrf_token": csrf_token(request), "error": None})


async def confirm_submit(request: Request) -> Response:
    form = await read_form(request)
    if form is None:
        return render(request, "signin_confirm.html", {"error": Message(
            N_("This form has expired. Open the link from your email again."))}, 400)
    settings, portal = request.app.state.settings, tenant(request)
    try:
        with request.app.state.db.session() as session:
            user = accounts.confirm_sign_in(session, settings.secret_key,
                                            str(form.get("token", "")), portal)
            user = accounts.load_user(session, user.id)
            has_role = permissions.has_any_role(user)
            operator = permissions.is_operator(user)
            if (previous := session_tokens.token_for(request.session, portal.id)) is not None:
                sessions.end(session, previous)
            token = sessions.start(session, user.id, portal.id)
    except accounts.SignInError as exc:
        return render(request, "signin_confirm.html", {"error": exc.message}, 400)
    session_tokens.remember(request.session, portal.id, token)
    if has_role:
        target = url(request, "staff_home")
    elif operator:  # a platform operator with no role in any portal: their page
        target = url(request, "operator_home")
    else:
        target = url(request, "account", _query={"done": "signed-in"})
    return RedirectResponse(target, status_code=303)


def account_page(request: Request) -> Response:
    user = current_user(request)
    if user is None:
        return RedirectResponse(url(request, "signin"), status_code=303)
    portal = tenant(request)
    with request.app.state.db.session() as session:
        places = role_places(session, user)
        mine = own_items.own_items(session, portal, user.id, user.email)
        watches = [_watch_row(request, portal, w) for w in mine.watches]
    return render(request, "account.html", {
        "user": user, "places": places, "csrf_token": csrf_token(request),
        "notice": request.query_params.get("done", ""), "reports": mine.reports,
        "votes": mine.votes, "watches": watches,
    })


def _watch_row(request: Request, portal: Tenant, watch) -> dict:  # noqa: ANN001 - a Watch
    """A watch in words, with a link to change it (the watch form for the same place, which
    updates the watch asked for again) and one to stop it (its signed unsubscribe link)."""
    if watch.kind == "issue":
        change = url(request, "watch", _query={"issue": watch.issue_id})
    elif watch.kind == "circle":
        change = url(request, "watch", _query={"lat": watch.lat, "lon": watch.lon})
    else:
        change = url(request, "watch")
    token = unsubscribe.make_token(request.app.state.settings.secret_key, watch.email,
                                   f"watch:{watch.id}")
    return {"what": watching.describe(watch, portal), "frequency": watch.frequency,
            "issue_id": watch.issue_id, "change_url": change,
            "stop_url": url(request, "unsubscribe", token=token)}


def role_places(session, user) -> list[dict]:  # noqa: ANN001
    """Each role with the name of the place it is held in, for the account and staff pages."""
    rows = []
    for role in user.roles:
        if role.role == permissions.OPERATOR:  # held nowhere; /operator is its page
            continue
        place = (session.get(Body, role.body_id) if role.body_id is not None
                 else session.get(Tenant, role.tenant_id))
        rows.append({"role": role.role, "kind": "body" if role.body_id else "portal",
                     "name": place.name if place is not None else {}, "id": role.id,
                     "body_id": role.body_id, "tenant_id": role.tenant_id})
    return rows


async def signout(request: Request) -> Response:
    if await read_form(request) is None:
        return expired_form(request)
    token = session_tokens.leave(request.session, tenant(request).id)
    if token is not None:
        with request.app.state.db.session() as session:
            sessions.end(session, token)
    return back(request, "home")


async def signout_everywhere(request: Request) -> Response:
    if await read_form(request) is None:
        return expired_form(request)
    user = current_user(request)
    if user is not None:
        with request.app.state.db.session() as session:
            sessions.end_all(session, user.id)
    session_tokens.leave(request.session, tenant(request).id)
    return back(request, "signin", done="signed-out-everywhere")


routes = [
    Route("/signin", signin_page, methods=["GET"], name="signin"),
    Route("/signin", signin_submit, methods=["POST"], name="signin_submit"),
    Route("/signin/confirm", confirm_page, methods=["GET"], name="signin_confirm"),
    Route("/signin/confirm", confirm_submit, methods=["POST"], name="signin_confirm_submit"),
    Route("/account", account_page, methods=["GET"], name="account"),
    Route("/signout", signout, methods=["POST"], name="signout"),
    Route("/signout/everywhere", signout_everywhere, methods=["POST"],
          name="signout_everywhere"),
]
