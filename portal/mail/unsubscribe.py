"""One-click unsubscribe: signed links, what they stop, and the check before every send.

Every email carries a link whose token is signed with its own salt (a sign-in or CSRF token
never verifies here, nor the reverse) and names the address and a *scope*:

- `watch:<id>` for a watch's mail (new issues, status changes, digests, announcements):
  unsubscribing ends that watch;
- `kind:<kind>` for other notices (`kind:status_changed` stops status mail about your
  reports, `kind:new_report` stops a body's report mail: the reports stay in the staff queue);
- `all` for mail the person asked for just now (a watch confirmation, a sign-in link): it
  stops every notice to the address.

The token has no expiry: a link in an old email must still work. Messages the recipient
asked for (`TRANSACTIONAL_KINDS`) are never suppressed: asking again is their choice.
"""

from __future__ import annotations

from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from portal.models import MailSuppression, Watch, utcnow

SALT = "reportal.unsubscribe"
TRANSACTIONAL_KINDS = frozenset({"signin", "watch_confirm"})
WATCH_KINDS = frozenset({"watch_new", "watch_status", "watch_digest", "watch_announcement",
                         "watch_office"})


def scope_for(kind: str, key: str) -> str:
    """What unsubscribing from a message of `kind` with idempotency `key` stops.

    Watch messages have keys `watch-<what>:<watch id>:...`.
    """
    if kind in WATCH_KINDS:
        parts = key.split(":")
        if len(parts) > 1 and parts[1].isdigit():
            return f"watch:{parts[1]}"
    if kind in TRANSACTIONAL_KINDS:
        return "all"
    return f"kind:{kind}"


def make_token(secret_key: str, email: str, scope: str) -> str:
    return URLSafeSerializer(secret_key, salt=SALT).dumps([email, scope])


def read_token(secret_key: str, token: str) -> tuple[str, str] | None:
    """(email, scope) from a token, or None if it is not one we signed for unsubscribing."""
    try:
        email, scope = URLSafeSerializer(secret_key, salt=SALT).loads(token)
    except (BadSignature, ValueError, TypeError):
        return None
    if not isinstance(email, str) or not isinstance(scope, str):
        return None
    return email, scope


def unsubscribe(session: Session, email: str, scope: str) -> None:
    """Record the unsubscribe (idempotent) and end the watch it names, if any."""
    exists = session.scalars(select(MailSuppression.id).where(
        MailSuppression.email == email, MailSuppression.scope == scope)).first()
    if exists is None:
        try:
            with session.begin_nested():
                session.add(MailSuppression(email=email, scope=scope))
        except IntegrityError:
            pass  # the same link clicked twice at once
    if scope.startswith("watch:") and scope[6:].isdigit():
        session.execute(update(Watch).where(Watch.id == int(scope[6:]), Watch.email == email,
                                            Watch.ended_at.is_(None))
                        .values(ended_at=utcnow()))
    session.flush()


def is_suppressed(session: Session, email: str, kind: str, key: str) -> bool:
    """Should the message of `kind`/`key` to `email` be dropped because of an unsubscribe?"""
    if kind in TRANSACTIONAL_KINDS:
        return False
    scopes = {"all", scope_for(kind, key)}
    return session.scalars(select(MailSuppression.id).where(
        MailSuppression.email == email, MailSuppression.scope.in_(scopes))).first() is not None


def describe(scope: str) -> str:
    """A msgid saying what the scope stops (translated by the page that shows it)."""
    if scope.startswith("watch:"):
        return "watch"
    if scope == "all":
        return "all"
    return scope.removeprefix("kind:")
