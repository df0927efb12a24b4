"""The one way to scope a query to a portal.

`public_issues(tenant)` is the geography helper: every public read of issues (pages, API,
search, feeds, exports) starts from it, so a portal only ever shows what lies in its area and
never what moderators hid. `for_tenant(stmt, Model, tenant)` scopes tenant-private rows
(settings, staff, announcements) by their `tenant_id` column.
"""

from __future__ import annotations

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from portal.core.errors import N_, NotFound
from portal.core.text_fields import MAX_RECORD_NUMBER
from portal.models import Issue, IssuePortal, Tenant


def public_issues(tenant: Tenant) -> Select:
    """SELECT of the issues visible on `tenant`'s portal."""
    return (
        select(Issue)
        .join(IssuePortal, IssuePortal.issue_id == Issue.id)
        .where(IssuePortal.tenant_id == tenant.id, IssuePortal.hidden.is_(False))
    )


def public_issue_rows(tenant: Tenant) -> Select:
    """SELECT of the membership rows of the issues visible on `tenant`'s portal: the same set
    as `public_issues`, for lists that page over `IssuePortal`'s own indexes first and read
    the issues of one page after."""
    return select(IssuePortal).where(IssuePortal.tenant_id == tenant.id,
                                     IssuePortal.hidden.is_(False))


def in_bbox(stmt: Select, bbox: tuple[float, float, float, float]) -> Select:
    """Narrow a `public_issues` (or `public_issue_rows`) query to a (min_lon, min_lat,
    max_lon, max_lat) box, on the membership row's copy of the place (indexed with the
    portal)."""
    min_lon, min_lat, max_lon, max_lat = bbox
    return stmt.where(IssuePortal.lat.between(min_lat, max_lat),
                      IssuePortal.lon.between(min_lon, max_lon))


def get_public_issue(session: Session, tenant: Tenant, issue_id: int) -> Issue:
    """One issue by id, only if it shows on this portal; otherwise NotFound (never 'elsewhere')."""
    if not 0 < issue_id <= MAX_RECORD_NUMBER:  # a URL's number no id column holds
        raise NotFound(N_("There is no such issue on this portal."))
    issue = session.scalars(public_issues(tenant).where(Issue.id == issue_id)).first()
    if issue is None:
        raise NotFound(N_("There is no such issue on this portal."))
    return issue


def for_tenant(stmt: Select, model: type, tenant: Tenant) -> Select:
    """Scope tenant-private rows (anything with a `tenant_id`) to one tenant."""
    return stmt.where(model.tenant_id == tenant.id)


def portal_issues_any(tenant: Tenant) -> Select:
    """Issues in the portal's area *including hidden ones*: staff and moderators only.

    Every staff read starts here, then narrows with `portal.staff.permissions` decisions.
    """
    return (
        select(Issue)
        .join(IssuePortal, IssuePortal.issue_id == Issue.id)
        .where(IssuePortal.tenant_id == tenant.id)
    )


def staff_issues(tenant: Tenant, body_ids: set[int], include_hidden: bool = False) -> Select:
    """The staff queue's base: issues of `body_ids` that lie in this portal's area."""
    stmt = portal_issues_any(tenant) if include_hidden else public_issues(tenant)
    return stmt.where(Issue.body_id.in_(sorted(body_ids) or [-1]))


def get_portal_issue(session: Session, tenant: Tenant, issue_id: int) -> Issue:
    """One issue in this portal (hidden or not), else NotFound: the staff view's lookup."""
    if not 0 < issue_id <= MAX_RECORD_NUMBER:
        raise NotFound(N_("There is no such issue on this portal."))
    issue = session.scalars(portal_issues_any(tenant).where(Issue.id == issue_id)).first()
    if issue is None:
        raise NotFound(N_("There is no such issue on this portal."))
    return issue
