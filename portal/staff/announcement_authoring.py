"""Writing announcements from the staff area: who may speak for whom, where, and when.

A portal's admins speak for the portal; a body's staff speak for the body. The text is
Markdown per language (rendered then sanitised by `markdown_render`). The target is the
author's whole area (the portal's, or the body's — which shows on every portal it touches),
a circle around a place, or a named area (the area of a body that covers this portal).
Writing goes through `announcements.publish`, which records the portals it touches.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from portal.core import geo, text_fields, time_zones
from portal.core.errors import N_, Message, ValidationError
from portal.core.text_fields import record_number
from portal.engagement import watch_notices
from portal.models import Announcement, Body, Tenant, User, utcnow
from portal.staff import announcements, permissions

MAX_TITLE = 200
MAX_TEXT = 10_000
MAX_RADIUS_M = 50_000


@dataclass
class Draft:
    """The form as typed, kept to show again with errors."""

    author: str = "portal"  # "portal" or "body:<id>"
    titles: dict[str, str] | None = None
    texts: dict[str, str] | None = None
    publish_at: str = ""
    expire_at: str = ""
    target: str = "all"  # "all", "circle" or "area:<body id>"
    lat: str = ""
    lon: str = ""
    radius: str = "500"


def authors_for(session: Session, user: User | None, tenant: Tenant) -> list[tuple[str, dict]]:
    """The voices this person may use here: ("portal", names) and ("body:<id>", names)."""
    voices: list[tuple[str, dict]] = []
    if permissions.is_tenant_admin(user, tenant):
        voices.append(("portal", tenant.name))
    ids = sorted(permissions.staff_body_ids(user))
    for body in session.scalars(select(Body).where(Body.id.in_(ids or [-1])).order_by(Body.slug)):
        voices.append((f"body:{body.id}", body.name))
    return voices


def named_areas(session: Session, tenant: Tenant) -> list[Body]:
    """Areas one can target on this portal: those of the bodies that cover part of it."""
    bodies = session.scalars(select(Body).order_by(Body.area_size.desc(), Body.slug))
    portal_area = geo.area(tenant.area_geojson)
    # Overlap, not a shared border: a neighbour's area is no place to announce to here.
    return [b for b in bodies if geo.area(b.area_geojson).intersection(portal_area).area > 0]


def _when(text: str, field: str, errors: dict[str, Message],
          time_zone: str = time_zones.DEFAULT) -> datetime | None:
    """A typed date and time, read in the portal's zone (staff type the clock on the wall),
    in UTC; one with an explicit offset is taken as it says."""
    text = text.strip()
    if not text:
        return None
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        errors[field] = Message(N_("Enter a date and time like 2025-06-30 14:00."))
        return None
    return time_zones.from_local(value, time_zone)


def _number(text: str) -> float:
    """A number typed as text; NaN (which every range check refuses) if it is none."""
    try:
        return float(text)
    except ValueError:
        return float("nan")


def publish_draft(session: Session, user: User | None, tenant: Tenant,
                  draft: Draft) -> Announcement:
    """Check the draft against the author's rights and publish it."""
    errors: dict[str, Message] = {}
    voices = dict(authors_for(session, user, tenant))
    if draft.author not in voices:
        raise ValidationError({"author": Message(N_("Choose who the announcement is from."))})
    body = None
    if draft.author.startswith("body:"):
        body = session.get(Body, int(draft.author.split(":", 1)[1]))
    titles, texts = {}, {}
    for code, title in (draft.titles or {}).items():
        if (problem := text_fields.line_problem(title)) is not None:
            errors["title"] = problem
        elif text_fields.line(title):
            titles[code] = text_fields.line(title)
    for code, body_md in (draft.texts or {}).items():
        if (problem := text_fields.text_problem(body_md)) is not None:
            errors["body"] = problem
        elif text_fields.text(body_md):
            texts[code] = text_fields.text(body_md)
    if "title" not in errors and any(len(v) > MAX_TITLE for v in titles.values()):
        errors["title"] = Message(N_("Keep this under %(max)s characters."), {"max": MAX_TITLE})
    if "body" not in errors and any(len(v) > MAX_TEXT for v in texts.values()):
        errors["body"] = Message(N_("Keep this under %(max)s characters."), {"max": MAX_TEXT})
    publish_at = _when(draft.publish_at, "publish_at", errors, tenant.time_zone)
    expire_at = _when(draft.expire_at, "expire_at", errors, tenant.time_zone)
    if expire_at is not None and expire_at <= (publish_at or utcnow()):
        errors["expire_at"] = Message(N_("The expiry must come after the publication time."))
    area = None
    if draft.target == "circle":
        lat, lon, radius = (_number(draft.lat), _number(draft.lon), _number(draft.radius))
        if not geo.valid_coordinates(lat, lon):
            errors["place"] = Message(N_("Enter the centre as latitude and longitude."))
        if not 10 <= radius <= MAX_RADIUS_M:
            errors["radius"] = Message(N_("Enter a radius between 10 and %(max)s metres."),
                                       {"max": MAX_RADIUS_M})
        if "place" not in errors and "radius" not in errors:
            area = geo.circle(lat, lon, radius)
            if not geo.intersects(area, tenant.area_geojson):
                errors["place"] = Message(N_("That circle does not touch this portal's area."))
    elif draft.target.startswith("area:"):
        raw = draft.target.split(":", 1)[1]
        named = {b.id: b for b in named_areas(session, tenant)}
        chosen = named.get(record_number(raw))
        if chosen is None:
            errors["target"] = Message(N_("Choose where the announcement is for."))
        else:
            area = chosen.area_geojson
    elif draft.target != "all":
        errors["target"] = Message(N_("Choose where the announcement is for."))
    if errors:
        raise ValidationError(errors)
    return announcements.publish(
        session, title=titles, body_md=texts, tenant=None if body else tenant, body=body,
        area_geojson=area, publish_at=publish_at, expire_at=expire_at)


def for_staff(session: Session, user: User | None, tenant: Tenant) -> list[Announcement]:
    """The portal's own announcements (for its admins) and those of the person's bodies."""
    stmt = select(Announcement)
    clauses = []
    if permissions.is_tenant_admin(user, tenant):
        clauses.append((Announcement.tenant_id == tenant.id) & Announcement.body_id.is_(None))
    if body_ids := permissions.staff_body_ids(user):
        clauses.append(Announcement.body_id.in_(sorted(body_ids)))
    if not clauses:
        return []
    return list(session.scalars(stmt.where(or_(*clauses))
                                .order_by(Announcement.publish_at.desc()).limit(100)))


def withdraw(session: Session, user: User | None, tenant: Tenant,
             announcement_id: int) -> Announcement | None:
    """End an announcement now; None if there is none this person may manage."""
    row = session.get(Announcement, announcement_id)
    if row is None or not permissions.can_manage_announcement(user, tenant, row.tenant_id,
                                                              row.body_id):
        return None
    now = utcnow()
    if row.expire_at is None or _aware(row.expire_at) > now:
        row.expire_at = now
    watch_notices.cancel_announcement_mail(session, row)
    session.flush()
    return row


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)
