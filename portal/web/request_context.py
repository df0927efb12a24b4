"""What route handlers need from a request: its portal, a DB session, its visitor.

Kept tiny so handlers stay thin: they read input, call a domain function, render.
"""

from __future__ import annotations

import hashlib
import secrets

from starlette.requests import Request

from portal.models import Tenant
from portal.web.csrf import FIELD


def tenant(request: Request) -> Tenant:
    return request.state.tenant


def client_ip(request: Request) -> str:
    """The client's address; behind a trusted proxy, `ForwardedMiddleware` already set it."""
    return request.client.host if request.client else "unknown"


def visitor_key(request: Request) -> str:
    """A stable, private key for 'one vote per person'.

    Signed-in people (later) vote by account; others by a random id kept in their signed
    session cookie; where no cookie comes back (blocked), by a hash of address and browser,
    so clearing nothing still cannot vote twice.
    """
    if (user := _signed_in_id(request)) is not None:
        return f"u:{user}"
    session = request.scope.get("session")
    if session is not None:
        if vid := session.get("vid"):
            return f"v:{vid}"
    raw = f"{client_ip(request)}|{request.headers.get('user-agent', '')}"
    return "h:" + hashlib.sha256(raw.encode()).hexdigest()[:32]


def ensure_visitor(request: Request) -> None:
    """Give this browser a random visitor id (sets the session cookie on this response)."""
    session = request.scope.get("session")
    if session is not None and "vid" not in session and _signed_in_id(request) is None:
        session["vid"] = secrets.token_hex(12)


def _signed_in_id(request: Request) -> int | None:
    """The user the auth middleware found signed in on this portal (never the raw cookie)."""
    user = getattr(request.state, "user", None)
    return user.id if user is not None else None


def user_key(request: Request) -> str:
    user = _signed_in_id(request)
    return str(user) if user is not None else ""


def csrf_token(request: Request) -> str:
    return request.app.state.csrf.token(tenant(request).slug, user_key(request))


def csrf_valid(request: Request, form) -> bool:  # noqa: ANN001 - starlette FormData
    return request.app.state.csrf.valid(form.get(FIELD), tenant(request).slug, user_key(request))


def new_submission_key() -> str:
    return secrets.token_urlsafe(16)
