"""Sign-in sessions kept on the server: start one, find its user, end one or all.

A session is a `UserSession` row for one browser on one portal. The browser's cookie holds a
random token; the row holds its SHA-256. A session counts only on the portal it was started
on, ends when its owner signs out (the row is deleted, so a copied cookie opens nothing), and
lapses after `IDLE` without use or `LIFETIME` after sign-in, whichever comes first. Use is
recorded at most every `TOUCH_EVERY`, so reading pages does not write on every request.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from sqlalchemy import delete, or_, select, update
from sqlalchemy.orm import Session

from portal.models import User, UserSession, utcnow
from portal.staff.accounts import load_user

IDLE = timedelta(days=14)
LIFETIME = timedelta(days=30)
TOUCH_EVERY = timedelta(hours=1)


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def start(session: Session, user_id: int, tenant_id: int) -> str:
    """Open a session for `user_id` on portal `tenant_id`; returns the token for the cookie."""
    now = utcnow()
    session.execute(delete(UserSession).where(or_(
        UserSession.last_seen_at < now - IDLE, UserSession.created_at < now - LIFETIME)))
    token = secrets.token_urlsafe(32)
    session.add(UserSession(token_hash=_digest(token), user_id=user_id, tenant_id=tenant_id,
                            created_at=now, last_seen_at=now))
    session.flush()
    return token


def user_for(session: Session, token: str, tenant_id: int, touch: bool = True) -> User | None:
    """The signed-in user (roles loaded) if `token` is a live session of this portal.

    `touch=False` records no use: for a read replica, where nothing can be written.
    """
    now = utcnow()
    row = session.scalars(select(UserSession).where(
        UserSession.token_hash == _digest(token), UserSession.tenant_id == tenant_id,
        UserSession.last_seen_at >= now - IDLE, UserSession.created_at >= now - LIFETIME,
    )).first()
    if row is None:
        return None
    if touch:
        session.execute(
            update(UserSession)
            .where(UserSession.id == row.id, UserSession.last_seen_at < now - TOUCH_EVERY)
            .values(last_seen_at=now)
            .execution_options(synchronize_session=False))
    return load_user(session, row.user_id)


def end(session: Session, token: str) -> None:
    """Sign this one session out, wherever its cookie has been copied to."""
    session.execute(delete(UserSession).where(UserSession.token_hash == _digest(token)))


def end_all(session: Session, user_id: int) -> None:
    """Sign this person out on every device and portal."""
    session.execute(delete(UserSession).where(UserSession.user_id == user_id))
