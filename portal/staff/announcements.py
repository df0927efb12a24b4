"""Announcements from portals and bodies: writing them and reading the current ones."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from portal.core.errors import N_, Message, ValidationError
from portal.engagement import watch_notices
from portal.models import Announcement, AnnouncementPortal, Body, Tenant, utcnow
from portal.tenancy import membership


def publish(session: Session, *, title: dict[str, str], body_md: dict[str, str],
            tenant: Tenant | None = None, body: Body | None = None,
            area_geojson: str | None = None, publish_at: datetime | None = None,
            expire_at: datetime | None = None) -> Announcement:
    """Write an announcement and record which portals it touches."""
    errors: dict[str, Message] = {}
    if not any(v.strip() for v in title.values()):
        errors["title"] = Message(N_("Give the announcement a title."))
    if not any(v.strip() for v in body_md.values()):
        errors["body"] = Message(N_("Write the announcement text."))
    if expire_at and publish_at and expire_at <= publish_at:
        errors["expire_at"] = Message(N_("The expiry must come after the publication time."))
    if errors:
        raise ValidationError(errors)
    row = Announcement(tenant_id=tenant.id if tenant else None, body_id=body.id if body else None,
                       title=title, body_md=body_md, area_geojson=area_geojson,
                       publish_at=publish_at or utcnow(), expire_at=expire_at)
    session.add(row)
    session.flush()
    membership.record_announcement(session, row.id, area_geojson,
                                   tenant.id if tenant else None, body)
    session.flush()
    watch_notices.notify_announcement(session, row)
    return row


def current_for_portal(session: Session, tenant: Tenant, limit: int = 10) -> list[Announcement]:
    now = utcnow()
    return list(session.scalars(
        select(Announcement)
        .join(AnnouncementPortal, AnnouncementPortal.announcement_id == Announcement.id)
        .where(AnnouncementPortal.tenant_id == tenant.id, Announcement.publish_at <= now,
               or_(Announcement.expire_at.is_(None), Announcement.expire_at > now))
        .order_by(Announcement.publish_at.desc())
        .limit(limit)
    ))


def archive_for_portal(session: Session, tenant: Tenant, limit: int = 100) -> list[Announcement]:
    """Announcements this portal showed and no longer does (expired or withdrawn), newest
    first: the archive on `/announcements`."""
    now = utcnow()
    return list(session.scalars(
        select(Announcement)
        .join(AnnouncementPortal, AnnouncementPortal.announcement_id == Announcement.id)
        .where(AnnouncementPortal.tenant_id == tenant.id, Announcement.publish_at <= now,
               Announcement.expire_at.is_not(None), Announcement.expire_at <= now)
        .order_by(Announcement.publish_at.desc(), Announcement.id.desc())
        .limit(limit)
    ))
