"""Open311 keys as a portal's admins create and revoke them, each change audited.

The audited state of a key is whether it works (`{"live": bool}`), so undoing a creation
revokes the key and undoing a revocation brings it back (`portal.staff.portal_audit`).
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.models import Body, Open311Key, Tenant, User, utcnow
from portal.open311 import api_keys
from portal.staff import portal_audit
from portal.tenancy.scoping import for_tenant

KEY = "open311_key"


def _key(session: Session, tenant: Tenant, subject: dict) -> Open311Key | None:
    return session.scalars(for_tenant(select(Open311Key), Open311Key, tenant)
                           .where(Open311Key.id == subject.get("key"))).first()


def _key_state(session: Session, tenant: Tenant, subject: dict) -> dict:
    key = _key(session, tenant, subject)
    return {"live": key is not None and key.revoked_at is None}


def _set_key_state(session: Session, tenant: Tenant, subject: dict, state: dict) -> None:
    key = _key(session, tenant, subject)
    if key is not None:
        key.revoked_at = None if state["live"] else utcnow()


portal_audit.register(KEY, portal_audit.Kind(read=_key_state, apply=_set_key_state))


def create_key(session: Session, tenant: Tenant, actor: User, application: str,
               body: Body | None) -> tuple[Open311Key, str]:
    """A new key (shown once), audited."""
    row, key = api_keys.create(session, tenant, application, body)
    portal_audit.record(session, tenant, actor.id, KEY, {"live": False}, {"live": True},
                        {"key": row.id, "application": row.application, "prefix": row.prefix})
    return row, key


def revoke_key(session: Session, tenant: Tenant, actor: User, key_id: int) -> Open311Key | None:
    """Revoke one of the portal's keys, audited; None if it has no such key."""
    row = _key(session, tenant, {"key": key_id})
    if row is None:
        return None
    before = _key_state(session, tenant, {"key": key_id})
    api_keys.revoke(session, tenant, key_id)
    session.flush()
    portal_audit.record(session, tenant, actor.id, KEY, before, {"live": False},
                        {"key": row.id, "application": row.application, "prefix": row.prefix})
    return row
