"""The dashboard's maintained rows as stored, and the same recomputed from scratch in Python
from the issues, their history and their membership (never from the copies being checked)."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.models import (
    DashboardCount,
    DashboardDuration,
    DashboardWeek,
    DashboardWeekDuration,
    Issue,
    IssuePortal,
    Update,
)
from portal.reports import duration_buckets
from portal.reports.activity import aware


def _second(value: datetime) -> datetime:
    return aware(value).astimezone(UTC).replace(microsecond=0)


def _week(value: datetime) -> date:
    day = _second(value).date()
    return day - timedelta(days=day.weekday())


def first_times(session: Session) -> dict[tuple[int, str], datetime]:
    """(issue id, "acknowledged" | "closed") -> the first public move there."""
    found: dict[tuple[int, str], datetime] = {}
    for row in session.scalars(select(Update).where(
            Update.kind == "status", Update.new_status.in_(("acknowledged", "closed")),
            Update.internal.is_(False), Update.hidden.is_(False))):
        key = (row.issue_id, row.new_status)
        if key not in found or aware(row.created_at) < aware(found[key]):
            found[key] = row.created_at
    return found


def stored(session: Session) -> dict[str, dict]:
    return {
        "counts": Counter({(r.tenant_id, r.body_id, r.request_type_id, r.status): r.n
                           for r in session.scalars(select(DashboardCount)) if r.n}),
        "weeks": Counter({(r.tenant_id, r.body_id, r.event, r.week): r.n
                          for r in session.scalars(select(DashboardWeek)) if r.n}),
        "durations": {(r.tenant_id, r.body_id, r.event, r.lower_seconds): (r.n, r.seconds)
                      for r in session.scalars(select(DashboardDuration))
                      if r.n or r.seconds},
        "week_durations": {(r.tenant_id, r.body_id, r.event, r.week, r.lower_seconds):
                           (r.n, r.seconds)
                           for r in session.scalars(select(DashboardWeekDuration))
                           if r.n or r.seconds},
        "copies": {(r.tenant_id, r.issue_id): (r.body_id, r.request_type_id,
                                                _maybe(r.acknowledged_at), _maybe(r.closed_at))
                   for r in session.scalars(select(IssuePortal))},
    }


def _maybe(value: datetime | None) -> datetime | None:
    return aware(value) if value is not None else None


def expected(session: Session) -> dict[str, dict]:
    """What `stored` should hold: every visible issue of every portal, counted by hand."""
    firsts = first_times(session)
    counts: Counter = Counter()
    weeks: Counter = Counter()
    durations: dict[tuple, tuple[int, int]] = {}
    week_durations: dict[tuple, tuple[int, int]] = {}
    copies = {}
    rows = session.execute(select(IssuePortal.tenant_id, Issue)
                           .join(Issue, Issue.id == IssuePortal.issue_id))
    for tenant_id, issue in rows:
        ack, closed = firsts.get((issue.id, "acknowledged")), firsts.get((issue.id, "closed"))
        copies[(tenant_id, issue.id)] = (issue.body_id, issue.request_type_id, _maybe(ack),
                                         _maybe(closed))
        if issue.hidden:
            continue
        owner = (tenant_id, issue.body_id)
        counts[(*owner, issue.request_type_id, issue.status)] += 1
        weeks[(*owner, "reported", _week(issue.created_at))] += 1
        if closed is not None:
            weeks[(*owner, "closed", _week(closed))] += 1
        for event, at in (("acknowledged", ack), ("closed", closed)):
            if at is None:
                continue
            seconds = max(0, int((_second(at) - _second(issue.created_at)).total_seconds()))
            key = (*owner, event, duration_buckets.lower_bound(seconds))
            n, total = durations.get(key, (0, 0))
            durations[key] = (n + 1, total + seconds)
            key = (*owner, event, _week(issue.created_at), duration_buckets.lower_bound(seconds))
            n, total = week_durations.get(key, (0, 0))
            week_durations[key] = (n + 1, total + seconds)
    return {"counts": counts, "weeks": weeks, "durations": durations,
            "week_durations": week_durations, "copies": copies}
