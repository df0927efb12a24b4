"""Open311 API keys: created and revoked by a portal's admins, shown once, kept as a hash.

A key belongs to one portal and one client application (a 311 app, FixMyStreet, a city's
back office); it is needed to file reports and post updates, never to read. A key bound to
a body may also post that body's status updates. Keys look like `o311_<prefix>_<secret>`:
the prefix is kept in clear so a list can tell keys apart.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.core import text_fields
from portal.core.errors import N_, Message, ValidationError
from portal.models import Body, Open311Key, Tenant, utcnow
from portal.tenancy.scoping import for_tenant

MAX_APPLICATION = 100


def _digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def create(session: Session, tenant: Tenant, application: str,
           body: Body | None = None) -> tuple[Open311Key, str]:
    """A new key for `application` on `tenant` (the caller commits), and the key, once."""
    values, errors = text_fields.clean(lines={"application": application}, texts={})
    name = values.get("application", "")
    if "application" not in errors and not name:
        errors["application"] = Message(N_("Name the application that will use the key."))
    elif "application" not in errors and len(name) > MAX_APPLICATION:
        errors["application"] = Message(N_("Keep this under %(max)s characters."),
                                        {"max": MAX_APPLICATION})
    if errors:
        raise ValidationError(errors)
    prefix = secrets.token_hex(4)
    key = f"o311_{prefix}_{secrets.token_urlsafe(24)}"
    row = Open311Key(tenant_id=tenant.id, body_id=body.id if body else None,
                     application=name, prefix=prefix, key_hash=_digest(key))
    session.add(row)
    session.flush()
    return row, key


def verify(session: Session, tenant: Tenant, key: str) -> Open311Key | None:
    """The portal's live key that `key` is, else None (a revoked key, another portal's)."""
    key = (key or "").strip()
    if not key.startswith("o311_") or len(key) > 200:
        return None
    digest = _digest(key)
    row = session.scalars(for_tenant(select(Open311Key), Open311Key, tenant)
                          .where(Open311Key.key_hash == digest)).first()
    if row is None or row.revoked_at is not None:
        return None
    return row if hmac.compare_digest(row.key_hash, digest) else None


def list_keys(session: Session, tenant: Tenant) -> list[Open311Key]:
    return list(session.scalars(for_tenant(select(Open311Key), Open311Key, tenant)
                                .order_by(Open311Key.id)))


def revoke(session: Session, tenant: Tenant, key_id: int) -> Open311Key | None:
    """Revoke one of the portal's keys; None if it has no such key."""
    row = session.scalars(for_tenant(select(Open311Key), Open311Key, tenant)
                          .where(Open311Key.id == key_id)).first()
    if row is not None and row.revoked_at is None:
        row.revoked_at = utcnow()
    return row
