"""Signing in without passwords (with a per-address cap on sign-in mail), and giving roles.

Sign-in: anyone asks for a link with an email address. Every address takes exactly the same
path — a `LoginToken` row and an outbox message — so the answer never reveals whether the
address belongs to staff, a resident, or nobody yet. The per-address cap counts those rows, so
it holds across portals and app servers (the in-memory limits in `web/ratelimit.py` do not).
The link carries a token signed for the "signin" purpose (its own salt), valid for 15
minutes, and naming a random nonce; using it marks that nonce used in one conditional UPDATE,
so it works once. A `User` row is created on the first confirmed sign-in.

What a confirmed sign-in opens is a server-side session: `portal.staff.sessions`.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from datetime import timedelta

from sqlalchemy import delete, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, selectinload

from portal.core import signing, text_fields
from portal.core.errors import N_, DomainError, Message, ValidationError
from portal.core.i18n import gettext as _
from portal.core.i18n import use_locale
from portal.core.localized import localized
from portal.mail import outbox
from portal.models import Body, LoginToken, Role, Tenant, User, utcnow
from portal.staff import permissions

SIGNIN = "signin"
LINK_MAX_AGE = 15 * 60
# However many portals or places ask, one address gets this many links an hour at most.
MAILS_PER_ADDRESS = 5
MAIL_WINDOW = timedelta(hours=1)


class SignInError(DomainError):
    pass


def normalise_email(text: str) -> str:
    return text.strip().lower()


def check_email(text: str) -> str:
    email = normalise_email(text)
    if not email:
        raise ValidationError({"email": Message(N_("Enter your email address."))})
    if (problem := text_fields.email_problem(email)) is not None:
        raise ValidationError({"email": problem})
    return email


def request_sign_in(session: Session, *, email: str, tenant: Tenant, locale: str,
                    secret_key: str, link_for: Callable[[str], str]) -> None:
    """Write a sign-in link to the outbox for `email` (the same for every address).

    Past `MAILS_PER_ADDRESS` links in `MAIL_WINDOW` nothing is written, silently: the caller
    answers as always, so the limit says nothing about the address.
    """
    email = check_email(email)
    made = new_link(session, email, tenant, secret_key, link_for)
    if made is None:
        return
    nonce, link = made
    with use_locale(locale):
        portal_name = localized(tenant.name, locale, tenant.default_language)
        subject = _("Your sign-in link for %(portal)s", portal=portal_name)
        body = "\n".join([
            _("Someone (we hope you) asked to sign in to %(portal)s with this address.",
              portal=portal_name),
            "",
            _("Open this link to sign in. It works once, for 15 minutes:"),
            link,
            "",
            _("If you did not ask for it, ignore this email: nothing happens without the link."),
        ])
    outbox.enqueue(session, key=f"signin:{nonce}", kind="signin", recipient=email,
                          locale=locale, subject=subject, body_text=body,
                          tenant_id=tenant.id)
    session.flush()


def new_link(session: Session, email: str, tenant: Tenant, secret_key: str,
             link_for: Callable[[str], str]) -> tuple[str, str] | None:
    """A new single-use sign-in link for a checked address: (its nonce, the link), or None
    past the per-address cap. Sign-in and staff invitations both mail one."""
    session.execute(delete(LoginToken).where(
        LoginToken.created_at < utcnow() - timedelta(days=1)))
    recent = session.scalar(select(func.count()).select_from(LoginToken).where(
        LoginToken.email == email, LoginToken.created_at >= utcnow() - MAIL_WINDOW))
    if recent >= MAILS_PER_ADDRESS:
        return None
    nonce = secrets.token_urlsafe(24)
    session.add(LoginToken(nonce=nonce, email=email, tenant_id=tenant.id))
    token = signing.sign(secret_key, SIGNIN, {"n": nonce, "e": email, "t": tenant.slug})
    return nonce, link_for(token)


def read_link(secret_key: str, token: str, tenant: Tenant) -> dict:
    """Check a link's signature, age, purpose and portal without using it up."""
    try:
        payload = signing.unsign(secret_key, SIGNIN, token, LINK_MAX_AGE)
    except signing.BadLink:
        raise SignInError(N_("This sign-in link has expired or is not valid. "
                             "Ask for a new one.")) from None
    if not isinstance(payload, dict) or payload.get("t") != tenant.slug or not all(
            isinstance(payload.get(k), str) for k in ("n", "e")):
        raise SignInError(N_("This sign-in link has expired or is not valid. Ask for a new one."))
    return payload


def confirm_sign_in(session: Session, secret_key: str, token: str, tenant: Tenant) -> User:
    """Use a link (once) and return its user, created on first sign-in."""
    payload = read_link(secret_key, token, tenant)
    now = utcnow()
    used = session.execute(
        update(LoginToken)
        .where(LoginToken.nonce == payload["n"], LoginToken.email == payload["e"],
               LoginToken.used_at.is_(None),
               LoginToken.created_at >= now - timedelta(seconds=LINK_MAX_AGE))
        .values(used_at=now)
        .execution_options(synchronize_session=False)
    )
    if used.rowcount != 1:
        raise SignInError(N_("This sign-in link was already used or has expired. "
                             "Ask for a new one."))
    user = user_by_email(session, payload["e"], create=True)
    user.last_sign_in_at = now
    session.flush()
    return user


def user_by_email(session: Session, email: str, create: bool = False) -> User | None:
    email = normalise_email(email)
    user = session.scalars(select(User).where(User.email == email)).first()
    if user is None and create:
        try:
            with session.begin_nested():
                user = User(email=email)
                session.add(user)
        except IntegrityError:  # created by a concurrent sign-in
            user = session.scalars(select(User).where(User.email == email)).one()
    return user


def load_user(session: Session, user_id: int) -> User | None:
    """A user with roles loaded (for permission checks after the session closes)."""
    return session.scalars(
        select(User).where(User.id == user_id).options(selectinload(User.roles))
    ).first()


def add_role(session: Session, email: str, role: str, *, tenant: Tenant | None = None,
             body: Body | None = None) -> Role:
    """Give `email` a role (creating the user); `staff` needs a body, the others a portal."""
    if role not in permissions.ROLES:
        raise ValueError(f"unknown role {role!r}; choose one of {', '.join(permissions.ROLES)}")
    if role in permissions.BODY_ROLES and (body is None or tenant is not None):
        raise ValueError(f"the {role} role belongs to a body: use --body")
    if role in permissions.TENANT_ROLES and (tenant is None or body is not None):
        raise ValueError(f"the {role} role belongs to a portal: use --tenant")
    if role == permissions.OFFICE and tenant.kind != permissions.POLITICIAN:
        raise ValueError(f"the {role} role belongs to a politician's portal, "
                         f"and {tenant.slug} is a {tenant.kind} portal")
    user = user_by_email(session, check_email(email), create=True)
    tenant_id = tenant.id if tenant else None
    body_id = body.id if body else None
    existing = session.scalars(select(Role).where(
        Role.user_id == user.id, Role.role == role,
        Role.tenant_id.is_(None) if tenant_id is None else Role.tenant_id == tenant_id,
        Role.body_id.is_(None) if body_id is None else Role.body_id == body_id,
    )).first()
    if existing is not None:
        return existing
    row = Role(user_id=user.id, tenant_id=tenant_id, body_id=body_id, role=role)
    session.add(row)
    session.flush()
    return row


def grant_operator(session: Session, email: str) -> Role:
    """Make `email` a platform operator (the role held with neither portal nor body)."""
    user = user_by_email(session, check_email(email), create=True)
    existing = next((r for r in user.roles if r.role == permissions.OPERATOR), None)
    if existing is not None:
        return existing
    row = Role(user_id=user.id, tenant_id=None, body_id=None, role=permissions.OPERATOR)
    session.add(row)
    session.flush()
    return row


def revoke_operator(session: Session, email: str) -> int:
    user = user_by_email(session, email)
    if user is None:
        return 0
    return session.execute(delete(Role).where(
        Role.user_id == user.id, Role.role == permissions.OPERATOR)).rowcount or 0


def operators(session: Session) -> list[User]:
    return list(session.scalars(select(User).join(Role, Role.user_id == User.id).where(
        Role.role == permissions.OPERATOR).order_by(User.email)))


def remove_role(session: Session, email: str, role: str, *, tenant: Tenant | None = None,
                body: Body | None = None) -> int:
    user = user_by_email(session, email)
    if user is None:
        return 0
    stmt = delete(Role).where(Role.user_id == user.id, Role.role == role)
    if tenant is not None:
        stmt = stmt.where(Role.tenant_id == tenant.id)
    if body is not None:
        stmt = stmt.where(Role.body_id == body.id)
    return session.execute(stmt).rowcount or 0
