"""What happened, in public: new issues, status changes and an office's follow-up notes, for
feeds, digests and mail.

Every read starts from `scoping.public_issues(tenant)`, so hidden issues, internal notes and
hidden updates never appear. An optional bounding box narrows the SQL; an optional `covers`
test (a watch's circle) then keeps the exact matches.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from portal.core.errors import N_
from portal.models import Issue, RequestType, Tenant, Update
from portal.tenancy.scoping import in_bbox, public_issues

OFFICE_NOTE = "office_note"  # an Update's kind: a politician's office following up, in public
STATUS_LABELS = {
    "open": N_("Open"),
    "acknowledged": N_("Acknowledged"),
    "closed": N_("Closed (fixed)"),
    "archived": N_("Archived"),
}


def aware(value: datetime) -> datetime:
    """SQLite hands back naive UTC datetimes, PostgreSQL aware ones: make them comparable."""
    return value if value.tzinfo else value.replace(tzinfo=UTC)


@dataclass
class Event:
    """`kind` is "new" (the issue was reported), "status" (`update` changed its status) or
    "note" (`update` is a politician's office following up on it, in public)."""

    kind: str
    at: datetime
    issue: Issue
    update: Update | None = None

    @property
    def key(self) -> str:
        return f"issue-{self.issue.id}" if self.kind == "new" else f"update-{self.update.id}"


def recent(session: Session, tenant: Tenant, *, since: datetime | None = None,
           until: datetime | None = None, bbox: tuple[float, float, float, float] | None = None,
           covers: Callable[[float, float], bool] | None = None, issue_id: int | None = None,
           limit: int = 50) -> list[Event]:
    """Newest first: issues reported and public status changes in the portal (or a part)."""
    base = public_issues(tenant)
    if bbox is not None:
        base = in_bbox(session, base, bbox)
    if issue_id is not None:
        base = base.where(Issue.id == issue_id)
    loading = (selectinload(Issue.request_type).selectinload(RequestType.body),)

    new_q = base.options(*loading)
    if since is not None:
        new_q = new_q.where(Issue.created_at >= since)
    if until is not None:
        new_q = new_q.where(Issue.created_at < until)
    issues = session.scalars(new_q.order_by(Issue.created_at.desc()).limit(limit)).all()

    visible = base.with_only_columns(Issue.id).scalar_subquery()
    upd_q = (select(Update).where(Update.issue_id.in_(visible),
                                  Update.kind.in_(("status", OFFICE_NOTE)),
                                  Update.internal.is_(False), Update.hidden.is_(False))
             .options(selectinload(Update.issue).selectinload(Issue.request_type)
                      .selectinload(RequestType.body)))
    if since is not None:
        upd_q = upd_q.where(Update.created_at >= since)
    if until is not None:
        upd_q = upd_q.where(Update.created_at < until)
    updates = session.scalars(upd_q.order_by(Update.created_at.desc()).limit(limit)).all()

    events = [Event("new", aware(i.created_at), i) for i in issues]
    events += [Event("status" if u.kind == "status" else "note", aware(u.created_at), u.issue, u)
               for u in updates]
    if covers is not None:
        events = [e for e in events if covers(e.issue.lat, e.issue.lon)]
    events.sort(key=lambda e: (e.at, e.kind != "new"), reverse=True)
    return events[:limit]
