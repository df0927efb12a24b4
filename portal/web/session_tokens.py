"""Which sign-in session this browser holds on each portal: the cookie's `auth` map.

Portals can share a host (`/t/{slug}/`, widgets), and so one cookie; the map keeps a token per
portal id, so signing in or out of one portal leaves the others alone. A token proves nothing
by itself: `portal.staff.sessions` checks it against its row and the portal on every request.
"""

from __future__ import annotations

from collections.abc import MutableMapping
from typing import Any

COOKIE = "reportal_session"  # the signed session cookie that holds this map
KEY = "auth"


def token_for(cookie: MutableMapping[str, Any] | None, tenant_id: int) -> str | None:
    tokens = cookie.get(KEY) if cookie is not None else None
    token = tokens.get(str(tenant_id)) if isinstance(tokens, dict) else None
    return token if isinstance(token, str) else None


def remember(cookie: MutableMapping[str, Any], tenant_id: int, token: str) -> None:
    tokens = cookie.get(KEY)
    cookie[KEY] = {**(tokens if isinstance(tokens, dict) else {}), str(tenant_id): token}


def forget(cookie: MutableMapping[str, Any], tenant_id: int) -> None:
    """Drop this portal's token (one that no longer works, or after signing out)."""
    tokens = cookie.get(KEY)
    if not isinstance(tokens, dict) or str(tenant_id) not in tokens:
        return
    rest = {k: v for k, v in tokens.items() if k != str(tenant_id)}
    if rest:
        cookie[KEY] = rest
    else:
        del cookie[KEY]


def leave(cookie: MutableMapping[str, Any], tenant_id: int) -> str | None:
    """Signing out of this portal: clear the cookie but for the other portals' sign-ins.

    Returns this portal's token, for the caller to end on the server.
    """
    token = token_for(cookie, tenant_id)
    forget(cookie, tenant_id)
    others = cookie.get(KEY)
    cookie.clear()
    if others:
        cookie[KEY] = others
    return token
