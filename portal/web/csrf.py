"""CSRF tokens signed with itsdangerous; no cookie needed.

A token binds the portal (and, once someone signs in, their session's user) and expires. It
travels in a hidden form field, so anonymous reporting works inside a third-party iframe with
cookies blocked. Forms that change state check it before anything else.
"""

from __future__ import annotations

import secrets

from itsdangerous import BadSignature, URLSafeTimedSerializer

MAX_AGE = 24 * 3600
FIELD = "csrf_token"


class CsrfSigner:
    def __init__(self, secret_key: str) -> None:
        self.serializer = URLSafeTimedSerializer(secret_key, salt="reportal.csrf")

    def token(self, tenant_slug: str, user_key: str = "") -> str:
        return self.serializer.dumps([tenant_slug, user_key, secrets.token_hex(4)])

    def valid(self, token: str | None, tenant_slug: str, user_key: str = "") -> bool:
        if not token:
            return False
        try:
            slug, bound_user, _nonce = self.serializer.loads(token, max_age=MAX_AGE)
        except (BadSignature, ValueError, TypeError):
            return False
        return slug == tenant_slug and bound_user == user_key
