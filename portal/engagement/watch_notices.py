"""Instant notices to watchers: new issues, status changes and announcements in their area.

Each notice goes to the outbox with a key naming the event and the address, so one address
with several matching watches hears of an event once. Daily watchers get `digests` instead.
"""

from __future__ import annotations

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from portal.core import geo, time_text
from portal.core.i18n import gettext as _
from portal.core.i18n import use_locale
from portal.core.localized import localized
from portal.engagement.watching import (
    AREA_KINDS,
    active_watches,
    describe,
    issue_link,
    one_per_address,
    watches_for_issue,
)
from portal.mail.compose import PORTAL_URL
from portal.mail.outbox import enqueue
from portal.models import (
    Announcement,
    AnnouncementPortal,
    Body,
    Issue,
    OutboxMessage,
    Update,
    Watch,
    utcnow,
)
from portal.reports import activity as events


def issue_name(issue: Issue, locale: str) -> str:
    """What an email calls an issue: its title or type, and where it is when that is known."""
    name = issue.title or localized(issue.request_type.name, locale)
    return f"{name} ({_('near %(place)s', place=issue.place_name)})" if issue.place_name else name


def _issue_lines(issue: Issue, locale: str) -> list[str]:
    lines = [
        _("Request type: %(type)s", type=localized(issue.request_type.name, locale)),
        _("Sent to: %(body)s", body=localized(issue.body.name, locale)),
    ]
    if issue.address:
        lines.append(_("Address: %(address)s", address=issue.address))
    description = issue.description if len(issue.description) <= 500 \
        else issue.description[:497] + "..."
    lines += ["", description, "", _("See it on the map: %(url)s", url=issue_link(issue.id))]
    return lines


def status_label(status: str | None) -> str:
    return _(events.STATUS_LABELS.get(status or "", status or ""))


def notify_new_issue(session: Session, issue: Issue) -> int:
    """Mail instant watchers about a new issue in their area; returns how many."""
    if issue.hidden:
        return 0
    count = 0
    for watch in one_per_address(watches_for_issue(session, issue, include_issue_watches=False),
                                  issue.reporter_email):
        with use_locale(watch.locale):
            name = issue_name(issue, watch.locale)
            subject = _("New report near you: %(name)s", name=name)
            body = "\n".join([_("A new problem was reported in your watch area (%(area)s).",
                                area=describe(watch, watch.tenant)), "",
                              name, _("Reported: %(when)s", when=time_text.written(
                                  issue.created_at, watch.tenant.time_zone)),
                              *_issue_lines(issue, watch.locale)])
        if enqueue(session, key=f"watch-new:{watch.id}:{issue.id}", kind="watch_new",
                   recipient=watch.email, locale=watch.locale, subject=subject,
                   body_text=body, tenant_id=watch.tenant_id):
            count += 1
    return count


def notify_status_change(session: Session, issue: Issue, update_: Update) -> int:
    """Mail instant watchers (of the area or of the issue) about a public status change."""
    if issue.hidden or update_.internal or update_.hidden or update_.kind != "status":
        return 0
    count = 0
    for watch in one_per_address(watches_for_issue(session, issue), issue.reporter_email):
        with use_locale(watch.locale):
            name = issue_name(issue, watch.locale)
            status = status_label(update_.new_status)
            subject = _("%(name)s is now: %(status)s", name=name, status=status)
            lines = [_("An issue you watch changed (%(area)s).",
                       area=describe(watch, watch.tenant)), "",
                     name, _("New status: %(status)s", status=status),
                     _("Changed: %(when)s", when=time_text.written(
                         update_.created_at, watch.tenant.time_zone))]
            if update_.text:
                lines += ["", _("Comment from %(author)s:",
                                author=update_.author_name or _("Staff")), update_.text]
            lines += ["", _("See it on the map: %(url)s", url=issue_link(issue.id))]
        if enqueue(session, key=f"watch-status:{watch.id}:{update_.id}", kind="watch_status",
                   recipient=watch.email, locale=watch.locale, subject=subject,
                   body_text="\n".join(lines), tenant_id=watch.tenant_id):
            count += 1
    return count


def announcement_area(session: Session, announcement: Announcement) -> str | None:
    if announcement.area_geojson:
        return announcement.area_geojson
    if announcement.body_id is not None and announcement.tenant_id is None:
        body = session.get(Body, announcement.body_id)
        return body.area_geojson if body else None
    return None


def watch_touches(watch: Watch, area: str | None) -> bool:
    if area is None or watch.kind == "portal":
        return True
    if watch.kind == "route":
        return bool(watch.area_geojson) and geo.intersects(watch.area_geojson, area)
    return geo.intersects(geo.circle(watch.lat, watch.lon, watch.radius_m or 0), area)


def watches_for_announcement(session: Session, announcement: Announcement,
                             frequency: str | None = "instant") -> list[Watch]:
    portals = select(AnnouncementPortal.tenant_id).where(
        AnnouncementPortal.announcement_id == announcement.id)
    stmt = select(Watch).where(active_watches(), Watch.kind.in_(AREA_KINDS),
                               Watch.tenant_id.in_(portals)).order_by(Watch.id)
    if frequency is not None:
        stmt = stmt.where(Watch.frequency == frequency)
    area = announcement_area(session, announcement)
    return [w for w in session.scalars(stmt) if watch_touches(w, area)]


def notify_announcement(session: Session, announcement: Announcement) -> int:
    """Mail instant watchers whose area the announcement touches, from its publication time.

    Daily watchers find it in their digest for the day it is published.
    """
    session.flush()
    if announcement.expire_at and events.aware(announcement.expire_at) <= utcnow():
        return 0
    publish_at = events.aware(announcement.publish_at)
    count = 0
    for watch in one_per_address(watches_for_announcement(session, announcement)):
        tenant = watch.tenant
        with use_locale(watch.locale):
            title = localized(announcement.title, watch.locale, tenant.default_language)
            subject = _("Announcement: %(title)s", title=title)
            until = [_("Until %(when)s", when=time_text.written(
                announcement.expire_at, tenant.time_zone))] if announcement.expire_at else []
            body = "\n".join([
                _("An announcement for your watch area (%(area)s):",
                  area=describe(watch, tenant)), "", title, *until, "",
                localized(announcement.body_md, watch.locale, tenant.default_language), "",
                _("Read it on %(url)s", url=PORTAL_URL + "/"),
            ])
        if enqueue(session, key=f"watch-announce:{watch.id}:{announcement.id}",
                   kind="watch_announcement", recipient=watch.email, locale=watch.locale,
                   subject=subject, body_text=body, tenant_id=watch.tenant_id,
                   not_before=publish_at if publish_at > utcnow() else None):
            count += 1
    return count


def cancel_announcement_mail(session: Session, announcement: Announcement) -> int:
    """Drop watchers' copies of an announcement not sent yet (it was withdrawn)."""
    result = session.execute(delete(OutboxMessage).where(
        OutboxMessage.kind == "watch_announcement", OutboxMessage.sent_at.is_(None),
        OutboxMessage.key.like(f"watch-announce:%:{announcement.id}")))
    return result.rowcount or 0
