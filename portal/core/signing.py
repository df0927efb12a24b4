"""Signed, timed tokens for links we email, one salt per purpose.

A token made for one purpose (say, signing in) never verifies for another (say,
unsubscribing), even with the same secret and payload, because the salt differs.
"""

from __future__ import annotations

from itsdangerous import BadData, URLSafeTimedSerializer


class BadLink(Exception):
    """The token is tampered with, expired, or made for another purpose."""


def _serializer(secret_key: str, purpose: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(secret_key, salt=f"reportal.link.{purpose}")


def sign(secret_key: str, purpose: str, payload: object) -> str:
    return _serializer(secret_key, purpose).dumps(payload)


def unsign(secret_key: str, purpose: str, token: str, max_age: int) -> object:
    """The payload, or BadLink if the token is not ours, too old, or for another purpose."""
    try:
        return _serializer(secret_key, purpose).loads(token, max_age=max_age)
    except (BadData, ValueError, TypeError):
        raise BadLink() from None
