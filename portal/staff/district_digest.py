"""The weekly district digest to a politician's office: the week's new, fixed and overdue
issues and the slowest request types, each with a link.

Weeks run Monday to Monday (UTC). One email per office member (the portal's `office` and
`admin` roles) per week: the outbox key names the portal, the person and the week, so running
it again writes nothing new. The worker writes last week's digests once a week
(`portal.worker`), `portal office-digest` any week's.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from statistics import median

from sqlalchemy import or_, select
from sqlalchemy.orm import Session, selectinload

from portal.core.i18n import gettext as _
from portal.core.i18n import ngettext, use_locale
from portal.core.localized import localized
from portal.engagement.watch_notices import issue_name
from portal.engagement.watching import issue_link
from portal.mail.compose import PORTAL_URL
from portal.mail.outbox import enqueue
from portal.models import Issue, IssuePortal, RequestType, Role, Tenant, User
from portal.reports import deadlines
from portal.reports.activity import aware
from portal.staff import permissions
from portal.tenancy.scoping import for_tenant, public_issues

LISTED = 20  # issues listed per part; the count says how many there were
SLOWEST = 3  # request types named as the slowest to fix
SLOW_WINDOW = timedelta(days=90)  # the fixes the medians are taken over
DESK_URL = PORTAL_URL + "/staff/constituents"


def week_of(day: date) -> date:
    """The Monday that starts `day`'s week."""
    return day - timedelta(days=day.weekday())


@dataclass
class WeekSummary:
    new: list[Issue] = field(default_factory=list)
    new_count: int = 0
    fixed: list[Issue] = field(default_factory=list)
    fixed_count: int = 0
    overdue: list[Issue] = field(default_factory=list)
    overdue_count: int = 0
    slowest: list[tuple[RequestType, float]] = field(default_factory=list)  # (type, days)

    @property
    def empty(self) -> bool:
        return not (self.new_count or self.fixed_count or self.overdue_count)


def _listed(session: Session, stmt) -> tuple[list[Issue], int]:  # noqa: ANN001
    rows = list(session.scalars(stmt.options(selectinload(Issue.request_type))))
    return rows[:LISTED], len(rows)


def summarise(session: Session, tenant: Tenant, week: date) -> WeekSummary:
    """What the district's public issues did in the week that starts on Monday `week`."""
    start = datetime.combine(week, time.min, UTC)
    end = start + timedelta(days=7)
    summary = WeekSummary()
    summary.new, summary.new_count = _listed(session, public_issues(tenant).where(
        Issue.created_at >= start, Issue.created_at < end).order_by(Issue.created_at, Issue.id))
    summary.fixed, summary.fixed_count = _listed(session, public_issues(tenant).where(
        IssuePortal.closed_at >= start, IssuePortal.closed_at < end)
        .order_by(IssuePortal.closed_at, Issue.id))
    late = [i for i in session.scalars(public_issues(tenant).where(
        Issue.status.in_(deadlines.OPEN), Issue.created_at < end,
        or_(Issue.close_due_at < end, Issue.acknowledge_due_at < end))
        .options(selectinload(Issue.request_type)).order_by(Issue.created_at, Issue.id))
        if deadlines.lateness(i.status, i.acknowledge_due_at, i.close_due_at, end)]
    summary.overdue, summary.overdue_count = late[:LISTED], len(late)
    summary.slowest = slowest_types(session, tenant, end)
    return summary


def slowest_types(session: Session, tenant: Tenant,
                  end: datetime) -> list[tuple[RequestType, float]]:
    """The request types with the longest median days from report to first fix, over the
    fixes of the `SLOW_WINDOW` before `end`."""
    rows = session.execute(
        select(IssuePortal.request_type_id, IssuePortal.created_at, IssuePortal.closed_at)
        .where(IssuePortal.tenant_id == tenant.id, IssuePortal.hidden.is_(False),
               IssuePortal.closed_at >= end - SLOW_WINDOW, IssuePortal.closed_at < end))
    days: dict[int, list[float]] = {}
    for type_id, created, closed in rows:
        seconds = (aware(closed) - aware(created)).total_seconds()
        days.setdefault(type_id, []).append(max(seconds, 0) / 86400)
    ranked = sorted(((median(v), k) for k, v in days.items()), reverse=True)[:SLOWEST]
    types = {rt.id: rt for rt in session.scalars(select(RequestType).where(
        RequestType.id.in_([k for _, k in ranked] or [-1])))}
    return [(types[k], m) for m, k in ranked if k in types]


def office_people(session: Session, tenant: Tenant) -> list[User]:
    """Who gets the portal's digest: its `office` and `admin` roles."""
    user_ids = for_tenant(select(Role.user_id), Role, tenant).where(
        Role.role.in_((permissions.OFFICE, permissions.ADMIN)), Role.body_id.is_(None))
    return list(session.scalars(select(User).where(User.id.in_(user_ids)).order_by(User.id)))


def _section(title: str, count: int, issues: list[Issue], locale: str) -> list[str]:
    lines = [f"{title} ({count})"]
    for issue in issues:
        lines += [f"- #{issue.id} {issue_name(issue, locale)}", "  " + issue_link(issue.id)]
    if count > len(issues):
        lines.append("  " + ngettext("… and %(num)s more issue", "… and %(num)s more issues",
                                     count - len(issues), num=count - len(issues)))
    return lines + [""]


def compose_digest(session: Session, tenant: Tenant, user: User, week: date,
                   summary: WeekSummary) -> bool:
    """Write one office member's digest for the week (once); True if written now."""
    locale = user.locale if user.locale in tenant.languages else tenant.default_language
    with use_locale(locale):
        portal = localized(tenant.name, locale, tenant.default_language)
        area = localized(tenant.area_name, locale, tenant.default_language) or portal
        end = week + timedelta(days=6)
        subject = _("Your district this week: %(portal)s, %(start)s to %(end)s",
                    portal=portal, start=week.isoformat(), end=end.isoformat())
        lines = [_("What happened in %(area)s from %(start)s to %(end)s:", area=area,
                   start=week.isoformat(), end=end.isoformat()), ""]
        if summary.empty:
            lines += [_("No issue was reported, fixed or overdue this week."), ""]
        lines += _section(_("New issues"), summary.new_count, summary.new, locale)
        lines += _section(_("Fixed issues"), summary.fixed_count, summary.fixed, locale)
        lines += _section(_("Overdue issues (past the body's promise)"),
                          summary.overdue_count, summary.overdue, locale)
        lines.append(_("Slowest request types (median days to fix, last 90 days)"))
        for rt, days in summary.slowest:
            lines.append(_("- %(type)s: %(days)s days",
                           type=localized(rt.name, locale, tenant.default_language),
                           days=format(days, ".1f")))
            lines.append(f"  {DESK_URL}?filtered=1&type={rt.code}")
        if not summary.slowest:
            lines.append(_("- Nothing was fixed in the last 90 days."))
        lines += ["", _("The constituent desk: %(url)s",
                        url=DESK_URL)]
    written = enqueue(session, key=f"office-digest:{tenant.id}:{user.id}:{week.isoformat()}",
                      kind="office_digest", recipient=user.email, locale=locale,
                      subject=subject, body_text="\n".join(lines), tenant_id=tenant.id)
    return written is not None


def compose_digests(session: Session, week: date) -> int:
    """Write every politician portal's digest for the week starting on Monday `week`; safe to
    run again. Returns how many were written now."""
    count = 0
    for tenant in session.scalars(select(Tenant).where(
            Tenant.kind == permissions.POLITICIAN).order_by(Tenant.id)):
        people = office_people(session, tenant)
        if not people:
            continue
        summary = summarise(session, tenant, week)
        for user in people:
            if compose_digest(session, tenant, user, week, summary):
                count += 1
    session.flush()
    return count
