"""Daily digests and the event list behind a watch's feed.

A digest is one email per daily watcher with the day's new issues, status changes, office
follow-ups and announcements in their area. The day is the portal's own, midnight to midnight
in its time zone (a New Haven watcher's "Tuesday" is New Haven's), so it is written once that
day has ended there (`digest_days`). Writing it twice for the same day is impossible: its
outbox key names the watch and the day.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.core import time_zones
from portal.core.i18n import gettext as _
from portal.core.i18n import use_locale
from portal.core.localized import localized
from portal.engagement.watch_notices import (
    announcement_area,
    issue_name,
    status_label,
    watch_touches,
)
from portal.engagement.watching import active_watches, bbox_of, covers, describe, issue_link
from portal.mail.compose import PORTAL_URL
from portal.mail.outbox import enqueue
from portal.models import Announcement, AnnouncementPortal, Tenant, Watch
from portal.reports import activity as events

NOTE_CHARS = 300  # a follow-up in a digest: enough to know what it says; the link has it all


def shortened(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= NOTE_CHARS else text[:NOTE_CHARS - 1].rstrip() + "…"


def watch_events(session: Session, watch: Watch, *, since: datetime | None = None,
                 until: datetime | None = None, limit: int = 50) -> list[events.Event]:
    """The public events a watch covers, newest first."""
    if watch.kind == "issue":
        return events.recent(session, watch.tenant, issue_id=watch.issue_id, since=since,
                             until=until, limit=limit)
    return events.recent(session, watch.tenant, bbox=bbox_of(watch), since=since, until=until,
                         covers=lambda lat, lon: covers(watch, lat, lon), limit=limit)


def _day_bounds(day: date, zone_name: str) -> tuple[datetime, datetime]:
    """The day in that zone, as UTC instants (a day of a clock change has 23 or 25 hours)."""
    zone = time_zones.zone(zone_name)
    start = datetime.combine(day, time.min, zone).astimezone(UTC)
    return start, datetime.combine(day + timedelta(days=1), time.min, zone).astimezone(UTC)


def digest_days(session: Session, now: datetime) -> dict[str, date]:
    """The last day that has ended, in each time zone a portal has: what is due."""
    zones = session.scalars(select(Tenant.time_zone).distinct()).all()
    return {name: (now.astimezone(time_zones.zone(name)) - timedelta(days=1)).date()
            for name in zones}


def _announcements_on(session: Session, watch: Watch, start: datetime,
                      end: datetime) -> list[Announcement]:
    if watch.kind == "issue":
        return []
    rows = session.scalars(
        select(Announcement)
        .join(AnnouncementPortal, AnnouncementPortal.announcement_id == Announcement.id)
        .where(AnnouncementPortal.tenant_id == watch.tenant_id,
               Announcement.publish_at >= start, Announcement.publish_at < end)
        .order_by(Announcement.publish_at)
    ).all()
    return [a for a in rows if watch_touches(watch, announcement_area(session, a))
            and not (a.expire_at and events.aware(a.expire_at) <= events.aware(a.publish_at))]


def compose_digest(session: Session, watch: Watch, day: date) -> bool:
    """Write one watcher's digest for `day` (the portal's) if anything happened; True if
    written."""
    start, end = _day_bounds(day, watch.tenant.time_zone)
    found = list(reversed(watch_events(session, watch, since=start, until=end, limit=200)))
    news = _announcements_on(session, watch, start, end)
    if not found and not news:
        return False
    tenant = watch.tenant
    with use_locale(watch.locale):
        portal = localized(tenant.name, watch.locale, tenant.default_language)
        subject = _("Your daily summary from %(portal)s", portal=portal)
        lines = [_("What happened on %(day)s in your watch area (%(area)s):",
                   day=day.isoformat(), area=describe(watch, tenant)), ""]
        for event in found:
            name = issue_name(event.issue, watch.locale)
            if event.kind == "new":
                lines.append(_("- New: %(name)s", name=name))
            elif event.kind == "note":
                lines.append(_("- %(office)s followed up on %(name)s:",
                               office=event.update.author_name, name=name))
                lines.append("  " + shortened(event.update.text))
            else:
                lines.append(_("- %(name)s is now: %(status)s", name=name,
                               status=status_label(event.update.new_status)))
            lines.append("  " + issue_link(event.issue.id))
        for announcement in news:
            lines.append(_("- Announcement: %(title)s", title=localized(
                announcement.title, watch.locale, tenant.default_language)))
        feed = PORTAL_URL + "/watch/" + watch.feed_token + "/feed.atom"
        lines += ["", _("The feed for this watch: %(url)s", url=feed)]
    written = enqueue(session, key=f"watch-digest:{watch.id}:{day.isoformat()}",
                      kind="watch_digest", recipient=watch.email, locale=watch.locale,
                      subject=subject, body_text="\n".join(lines), tenant_id=watch.tenant_id)
    return written is not None


def compose_digests(session: Session, day: date, zone: str | None = None) -> int:
    """Write the daily digests for `day`, each portal's own (only portals in `zone`, if
    given); safe to run again. Returns how many."""
    query = select(Watch).where(active_watches(), Watch.frequency == "daily")
    if zone is not None:
        query = query.join(Tenant, Tenant.id == Watch.tenant_id).where(Tenant.time_zone == zone)
    watches = session.scalars(query.order_by(Watch.id)).all()
    count = 0
    for watch in watches:
        if compose_digest(session, watch, day):
            count += 1
    session.flush()
    return count
