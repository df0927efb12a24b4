"""The one way to scope a query to a portal.

`public_issues(tenant)` is the geography helper: every public read of issues (pages, API,
search, feeds, exports) starts from it, so a portal only ever shows what lies in its area and
never what moderators hid. `for_tenant(stmt, Model, tenant)` scopes tenant-private rows
(settings, staff, announcements) by their `tenant_id` column.
"""

from __future__ import annotations

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from .errors import N_, NotFound
from .models import Issue, IssuePortal, Tenant


def public_issues(tenant: Tenant) -> Select:
    """SELECT of the issues visible on `tenant`'s portal."""
    return (
        select(Issue)
        .join(IssuePortal, IssuePortal.issue_id == Issue.id)
        .where(IssuePortal.tenant_id == tenant.id, Issue.hidden.is_(False))
    )


def in_bbox(stmt: Select, bbox: tuple[float, float, float, float]) -> Select:
    """Narrow a `public_issues` query to a (min_lon, min_lat, max_lon, max_lat) box."""
    min_lon, min_lat, max_lon, max_lat = bbox
    return stmt.where(Issue.lat.between(min_lat, max_lat), Issue.lon.between(min_lon, max_lon))


def get_public_issue(session: Session, tenant: Tenant, issue_id: int) -> Issue:
    """One issue by id, only if it shows on this portal; otherwise NotFound (never 'elsewhere')."""
    issue = session.scalars(public_issues(tenant).where(Issue.id == issue_id)).first()
    if issue is None:
        raise NotFound(N_("There is no such issue on this portal."))
    return issue


def for_tenant(stmt: Select, model: type, tenant: Tenant) -> Select:
    """Scope tenant-private rows (anything with a `tenant_id`) to one tenant."""
    return stmt.where(model.tenant_id == tenant.id)
