"""One-click unsubscribe (RFC 8058): GET shows a confirmation page, POST unsubscribes.

Mail programs POST `List-Unsubscribe=One-Click` to the same URL. The signed token in the URL
is the credential, so no session or CSRF token is needed; a token that does not verify
changes nothing.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from portal.mail import unsubscribe as unsubscribing
from portal.web.templating import render


def _page(request: Request, done: bool) -> Response:
    token = request.path_params["token"]
    found = unsubscribing.read_token(request.app.state.settings.secret_key, token)
    if found is None:
        return render(request, "unsubscribe.html", {"invalid": True}, 400)
    email, scope = found
    if done:
        with request.app.state.db.session() as session:
            unsubscribing.unsubscribe(session, email, scope)
    return render(request, "unsubscribe.html", {
        "invalid": False, "done": done, "email": email,
        "what": unsubscribing.describe(scope), "token": token,
    })


def unsubscribe_get(request: Request) -> Response:
    return _page(request, done=False)


def unsubscribe_post(request: Request) -> Response:
    return _page(request, done=True)


routes = [
    Route("/unsubscribe/{token}", unsubscribe_get, methods=["GET"], name="unsubscribe"),
    Route("/unsubscribe/{token}", unsubscribe_post, methods=["POST"], name="unsubscribe_post"),
]
