"""A portal's staff and Open311 keys as its admins manage them, each change audited.

Staff: an admin invites someone by email to a role in a place (the invitee gets a sign-in
link through the outbox), changes a role, removes one. The places are the portal itself
(its roles, `permissions.TENANT_ROLES`) and the bodies covering it whose staff the admin is
(`permissions.BODY_ROLES`): body staff see that body's reporters' contact details on every
portal, so being admin of one portal the body serves is not enough to hand that out — the
same rule as binding an API key to a body. A portal is never left without an admin.

The audited state of a person in a place is the sorted list of the roles they hold there,
so undoing an invitation removes the role, undoing a removal gives it back.

Open311 keys are audited the same way, in `portal.open311.key_audit`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from portal.core.errors import N_, DomainError, Message, ValidationError
from portal.core.i18n import gettext as _
from portal.core.i18n import use_locale
from portal.core.localized import localized
from portal.mail import outbox
from portal.models import Body, PortalChange, Role, Tenant, User
from portal.staff import accounts, permissions, portal_audit, portal_settings
from portal.tenancy.scoping import for_tenant

STAFF = "staff"


class LastAdmin(DomainError):
    pass


@dataclass(frozen=True)
class Place:
    """Where a role is held: the portal (`body` None) or one body."""

    body: Body | None

    @property
    def roles(self) -> tuple[str, ...]:
        return permissions.BODY_ROLES if self.body else permissions.TENANT_ROLES

    @property
    def slug(self) -> str:
        return self.body.slug if self.body else ""


@dataclass(frozen=True)
class Member:
    email: str
    role: str
    place: Place


def places(session: Session, tenant: Tenant, actor: User | None) -> list[Place]:
    """The places this admin may give roles in: the portal, and covering bodies they staff."""
    bodies = {c.body.id: c.body for c in portal_settings.type_choices(session, tenant)}
    return [Place(None)] + [Place(b) for b in sorted(bodies.values(), key=lambda b: b.slug)
                            if permissions.is_body_staff(actor, b.id)]


def place_for(session: Session, tenant: Tenant, actor: User | None, slug: str) -> Place:
    found = {p.slug: p for p in places(session, tenant, actor)}.get(slug.strip())
    if found is None:
        raise ValidationError({"place": Message(N_(
            "Choose this portal or a body of it whose staff you are."))})
    return found


def _place_roles(tenant: Tenant, body_id: int | None):  # noqa: ANN202 - a Select
    stmt = select(Role)
    if body_id is None:
        return for_tenant(stmt, Role, tenant).where(Role.body_id.is_(None))
    return stmt.where(Role.body_id == body_id, Role.tenant_id.is_(None))


def members(session: Session, tenant: Tenant, actor: User | None) -> list[Member]:
    """Everyone holding a role in a place this admin manages, by place then address."""
    found = []
    for place in places(session, tenant, actor):
        rows = session.execute(_place_roles(tenant, place.body.id if place.body else None)
                               .with_only_columns(User.email, Role.role)
                               .join(User, User.id == Role.user_id)
                               .where(Role.role.in_(place.roles))
                               .order_by(User.email, Role.role)).all()
        found += [Member(email, role, place) for email, role in rows]
    return found


def _body_id(session: Session, subject: dict) -> int | None:
    if not subject.get("body"):
        return None
    body = session.scalars(select(Body).where(Body.slug == subject["body"])).first()
    return body.id if body else -1


def _roles_of(session: Session, tenant: Tenant, subject: dict) -> list[str]:
    user = accounts.user_by_email(session, subject["email"])
    if user is None:
        return []
    body_id = _body_id(session, subject)
    return sorted(session.scalars(_place_roles(tenant, body_id).with_only_columns(Role.role)
                                  .where(Role.user_id == user.id)))


def _admins(session: Session, tenant: Tenant) -> int:
    return session.scalar(for_tenant(select(func.count()).select_from(Role), Role, tenant)
                          .where(Role.body_id.is_(None), Role.role == permissions.ADMIN))


def _set_roles(session: Session, tenant: Tenant, subject: dict, roles: list[str]) -> None:
    """Make the person's roles in the place exactly `roles`; refuse to leave no admin."""
    body_id = _body_id(session, subject)
    if body_id == -1:  # the body is gone (and its roles with it)
        raise portal_audit.UndoRefused(N_("This change cannot be undone here."))
    user = accounts.user_by_email(session, subject["email"], create=bool(roles))
    if user is None:
        return
    session.execute(delete(Role).where(Role.id.in_(
        _place_roles(tenant, body_id).with_only_columns(Role.id)
        .where(Role.user_id == user.id, Role.role.not_in(roles)))))
    have = set(_roles_of(session, tenant, subject))
    for role in sorted(set(roles) - have):
        session.add(Role(user_id=user.id, role=role, body_id=body_id,
                         tenant_id=None if body_id else tenant.id))
    session.flush()
    if _admins(session, tenant) == 0:
        raise LastAdmin(N_("This portal would have no administrator left. Make someone else "
                           "an administrator first."))


def _may_undo(session: Session, actor: User | None, subject: dict) -> bool:
    """A role in a body is given back or taken only by that body's staff (see above)."""
    body_id = _body_id(session, subject)
    return body_id is None or permissions.is_body_staff(actor, body_id)


portal_audit.register(STAFF, portal_audit.Kind(read=_roles_of, apply=_set_roles,
                                               may_undo=_may_undo))


def _subject(email: str, place: Place) -> dict:
    return {"email": email, "body": place.slug or None}


def _change_roles(session: Session, tenant: Tenant, actor: User, subject: dict,
                  roles: list[str]) -> PortalChange | None:
    before = _roles_of(session, tenant, subject)
    _set_roles(session, tenant, subject, roles)
    return portal_audit.record(session, tenant, actor.id, STAFF, before,
                               _roles_of(session, tenant, subject), subject)


def _check_role(place: Place, role: str) -> None:
    if role not in place.roles:
        raise ValidationError({"role": Message(N_("Choose a role this place has."))})


def invite(session: Session, tenant: Tenant, actor: User, *, email: str, role: str,
           place: Place, locale: str, secret_key: str,
           link_for: Callable[[str], str]) -> tuple[PortalChange | None, bool]:
    """Give `email` the role (creating the user) and mail them a sign-in link; the change
    and whether the mail went (the per-address cap may hold it back)."""
    email = accounts.check_email(email)
    _check_role(place, role)
    subject = _subject(email, place)
    change = _change_roles(session, tenant, actor, subject,
                           sorted(set(_roles_of(session, tenant, subject)) | {role}))
    made = accounts.new_link(session, email, tenant, secret_key, link_for)
    if made is None:
        return change, False
    nonce, link = made
    with use_locale(locale):
        portal_name = localized(tenant.name, locale, tenant.default_language)
        where = localized(place.body.name, locale, tenant.default_language) if place.body \
            else portal_name
        body = "\n".join([
            _("%(inviter)s gave you a role on %(portal)s: %(role)s of %(place)s.",
              inviter=actor.email, portal=portal_name, role=role_label(role), place=where),
            "",
            _("Open this link to sign in. It works once, for 15 minutes:"),
            link,
            "",
            _("Later, ask for a new link on the portal's sign-in page with this address."),
        ])
        subject_line = _("You are invited to %(portal)s", portal=portal_name)
    outbox.enqueue(session, key=f"signin:{nonce}", kind="signin", recipient=email,
                   locale=locale, subject=subject_line, body_text=body, tenant_id=tenant.id)
    session.flush()
    return change, True


def change_role(session: Session, tenant: Tenant, actor: User, *, email: str, place: Place,
                old: str, new: str) -> PortalChange | None:
    _check_role(place, new)
    subject = _subject(accounts.normalise_email(email), place)
    roles = set(_roles_of(session, tenant, subject))
    if old not in roles:
        raise ValidationError({"role": Message(N_("This person no longer holds that role."))})
    return _change_roles(session, tenant, actor, subject, sorted(roles - {old} | {new}))


def remove(session: Session, tenant: Tenant, actor: User, *, email: str, place: Place,
           role: str) -> PortalChange | None:
    subject = _subject(accounts.normalise_email(email), place)
    roles = set(_roles_of(session, tenant, subject))
    if role not in roles:
        raise ValidationError({"role": Message(N_("This person no longer holds that role."))})
    return _change_roles(session, tenant, actor, subject, sorted(roles - {role}))


def role_label(role: str) -> str:
    """A role's name in the current language (a role added elsewhere shows its code)."""
    labels = {permissions.STAFF: _("Staff"), permissions.ADMIN: _("Administrator"),
              permissions.MODERATOR: _("Moderator")}
    return labels.get(role, role)
