"""A per-portal admin token: the stop-gap key to the staff pages until staff sign in.

`portal tenants admin-token SLUG` prints a fresh token once and stores only its SHA-256, so a
database dump does not reveal it and issuing a new one revokes the old. Staff pages that
accept it remember, in the signed session, a marker derived from the stored hash: rotating the
token signs everyone out.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

from portal.models import Tenant


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def issue(tenant: Tenant) -> str:
    """Give `tenant` a new admin token (the caller commits) and return it, once."""
    token = secrets.token_urlsafe(24)
    tenant.admin_token_hash = _digest(token)
    return token


def verify(tenant: Tenant, token: str) -> bool:
    """Whether `token` is the portal's admin token; always False when none was set."""
    if not tenant.admin_token_hash or not token:
        return False
    return hmac.compare_digest(_digest(token.strip()), tenant.admin_token_hash)


def session_marker(tenant: Tenant) -> str:
    """What a session keeps after a correct token: changes when the token does."""
    source = f"staff|{tenant.slug}|{tenant.admin_token_hash}"
    return hashlib.sha256(source.encode()).hexdigest()[:24]
