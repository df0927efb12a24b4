"""What route handlers need from a request: its portal, a DB session, its visitor.

Kept tiny so handlers stay thin: they read input, call a domain function, render.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import UTC, datetime

from starlette.requests import Request

from portal.models import Tenant
from portal.reports import voting
from portal.web.csrf import FIELD


def tenant(request: Request) -> Tenant:
    return request.state.tenant


def client_ip(request: Request) -> str:
    """The client's address; behind a trusted proxy, `ForwardedMiddleware` already set it."""
    return request.client.host if request.client else "unknown"


def visitor_key(request: Request) -> str:
    """A stable, private key for 'one vote per person'.

    Signed-in people vote by account; others by a random id kept in their signed session
    cookie; where no cookie comes back (blocked), by a keyed hash of address and browser, so
    clearing nothing still cannot vote twice. Anonymous votes are also bound to the voter's
    network (`voter_network`), which a wiped cookie or another browser does not change.
    """
    if (user := _signed_in_id(request)) is not None:
        return voting.account_voter(user)
    session = request.scope.get("session")
    if session is not None:
        if vid := session.get("vid"):
            return f"v:{vid}"
    # Keyed, so the stored value cannot be reversed into an address by trying them all.
    raw = f"{client_ip(request)}|{request.headers.get('user-agent', '')}"
    secret = request.app.state.settings.secret_key.encode()
    return "h:" + hmac.new(secret, raw.encode(), hashlib.sha256).hexdigest()[:32]


def voter_network(request: Request) -> str | None:
    """The anonymous voter's network fingerprint for today (None when signed in): what makes
    one vote per network per issue, whatever the cookies or the browser say."""
    if _signed_in_id(request) is not None:
        return None
    return voting.network_key(client_ip(request), request.app.state.settings.secret_key,
                              datetime.now(UTC).date())


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
