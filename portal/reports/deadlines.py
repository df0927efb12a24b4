"""Whether an issue is past its body's promise, and how the dashboard counts promises kept.

Due times are stored on the issue (`portal.tenancy.service_targets`). An open issue is
overdue to be acknowledged once its `acknowledge_due_at` has passed; an open or acknowledged
one is overdue to be fixed once its `close_due_at` has (that one is said first, being the
later and larger promise). Closed and archived issues are never overdue.

The on-time share counts, among the issues acknowledged (or closed) that had a target for
that step, those whose first public acknowledgement (or closure) came at or before it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import ColumnElement, and_, case, func, select
from sqlalchemy.orm import Session

from portal.core.localized import localized
from portal.models import Body, Issue, IssuePortal, RequestType, Tenant, utcnow
from portal.reports.activity import aware

OPEN = ("open", "acknowledged")


def lateness(status: str, acknowledge_due: datetime | None, close_due: datetime | None,
             now: datetime) -> str | None:
    """"fix", "acknowledge" or None: which promise an issue in `status` has missed."""
    if status not in OPEN:
        return None
    if close_due is not None and aware(close_due) < now:
        return "fix"
    if status == "open" and acknowledge_due is not None and aware(acknowledge_due) < now:
        return "acknowledge"
    return None


def issue_lateness(issue: Issue, now: datetime | None = None) -> str | None:
    """`lateness` of an issue row, now (for templates: lists, the issue page, the queue)."""
    return lateness(issue.status, issue.acknowledge_due_at, issue.close_due_at,
                    aware(now or utcnow()))


def next_due(status: str, acknowledge_due: datetime | None,
             close_due: datetime | None) -> datetime | None:
    """The next promise an issue in `status` is working towards."""
    if status == "open" and acknowledge_due is not None:
        return acknowledge_due
    return close_due if status in OPEN else None


def time_left_order() -> list[ColumnElement]:
    """ORDER BY for "least time left first": the next due time, issues without one last."""
    due = case((and_(Issue.status == "open", Issue.acknowledge_due_at.is_not(None)),
                Issue.acknowledge_due_at), else_=Issue.close_due_at)
    return [case((due.is_(None), 1), else_=0), due.asc(), Issue.created_at.asc(), Issue.id.asc()]


@dataclass
class OnTime:
    """One row of the dashboard's promises table: a request type or a body."""

    label: str
    acknowledged: int  # issues acknowledged that had an acknowledgement target
    acknowledged_on_time: int
    closed: int
    closed_on_time: int

    def share(self, step: str, min_count: int) -> float | None:
        """The share kept, 0..1; None under `min_count` ("not enough data")."""
        total, kept = ((self.acknowledged, self.acknowledged_on_time) if step == "acknowledge"
                       else (self.closed, self.closed_on_time))
        return kept / total if total >= min_count and total else None


def on_time(session: Session, tenant: Tenant, body: Body | None, start: date | None,
            end: date | None) -> list[tuple[int, int, int, int, int, int]]:
    """(body id, request type id, acknowledged, on time, closed, on time) for the portal's
    public issues reported in `start`..`end` (both optional, whole days in UTC) that had a
    target. Reads the membership rows' first times and the issues' due times."""
    ip = IssuePortal
    ack_kept = case((ip.acknowledged_at <= Issue.acknowledge_due_at, 1), else_=0)
    close_kept = case((ip.closed_at <= Issue.close_due_at, 1), else_=0)
    ack_counted = case((and_(ip.acknowledged_at.is_not(None),
                             Issue.acknowledge_due_at.is_not(None)), 1), else_=0)
    close_counted = case((and_(ip.closed_at.is_not(None), Issue.close_due_at.is_not(None)),
                          1), else_=0)
    stmt = (select(ip.body_id, ip.request_type_id, func.sum(ack_counted),
                   func.sum(case((ack_counted == 1, ack_kept), else_=0)),
                   func.sum(close_counted),
                   func.sum(case((close_counted == 1, close_kept), else_=0)))
            .join(Issue, Issue.id == ip.issue_id)
            .where(ip.tenant_id == tenant.id, ip.hidden.is_(False),
                   (Issue.acknowledge_due_at.is_not(None)) | (Issue.close_due_at.is_not(None)))
            .group_by(ip.body_id, ip.request_type_id))
    if body is not None:
        stmt = stmt.where(ip.body_id == body.id)
    if start is not None:
        stmt = stmt.where(ip.created_at >= datetime.combine(start, time(0), tzinfo=UTC))
    if end is not None:
        stmt = stmt.where(ip.created_at < datetime.combine(end + timedelta(days=1), time(0),
                                                             tzinfo=UTC))
    return [tuple(int(v or 0) for v in row) for row in session.execute(stmt)]


def on_time_tables(session: Session, tenant: Tenant, locale: str, body: Body | None,
                   start: date | None, end: date | None) -> tuple[list[OnTime], list[OnTime]]:
    """The promises kept, per request type and per body, labelled in `locale`."""
    rows = on_time(session, tenant, body, start, end)
    if not rows:
        return [], []
    names = {i: (n, b) for i, n, b in session.execute(
        select(RequestType.id, RequestType.name, Body.name)
        .join(Body, Body.id == RequestType.body_id)
        .where(RequestType.id.in_({r[1] for r in rows})))}
    by_type: dict[str, OnTime] = {}
    by_body: dict[str, OnTime] = {}
    for _body_id, type_id, ack, ack_kept, closed, closed_kept in rows:
        type_name, body_name = names[type_id]
        body_label = localized(body_name, locale, tenant.default_language)
        type_label = f"{localized(type_name, locale, tenant.default_language)} ({body_label})"
        for table, label in ((by_type, type_label), (by_body, body_label)):
            row = table.setdefault(label, OnTime(label, 0, 0, 0, 0))
            row.acknowledged += ack
            row.acknowledged_on_time += ack_kept
            row.closed += closed
            row.closed_on_time += closed_kept
    return sorted(by_type.values(), key=lambda r: r.label), \
        sorted(by_body.values(), key=lambda r: r.label)
