"""The one way to scope a query to a portal.

`public_issues(tenant)` is the geography helper: every public read of issues (pages, API,
search, feeds, exports) starts from it, so a portal only ever shows what lies in its area and
never what moderators hid. `for_tenant(stmt, Model, tenant)` scopes tenant-private rows
(settings, staff, announcements) by their `tenant_id` column, and `for_bodies(stmt, Model,
body_ids)` body-private rows (response templates) by their `body_id`.
"""

from __future__ import annotations

from sqlalchemy import (
    ColumnElement,
    Select,
    and_,
    column,
    func,
    literal_column,
    select,
    table,
    true,
)
from sqlalchemy.orm import Session
from sqlalchemy.sql import operators
from sqlalchemy.sql.expression import UnaryExpression

from portal.core import spatial_index
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


_SPOTS = table(spatial_index.RTREE_TABLE, column("id"), column("min_lon"), column("max_lon"),
               column("min_lat"), column("max_lat"))
_GEOM = literal_column(f"issue_portals.{spatial_index.GEOM_COLUMN}")


def _within(lat: ColumnElement, lon: ColumnElement,
            bbox: tuple[float, float, float, float]) -> ColumnElement[bool]:
    min_lon, min_lat, max_lon, max_lat = bbox
    return and_(lat.between(min_lat, max_lat), lon.between(min_lon, max_lon))


def _unindexed(column_: ColumnElement) -> ColumnElement:
    """SQLite's unary plus: the same value, which no index may serve."""
    return UnaryExpression(column_, operator=operators.custom_op("+"), type_=column_.type)


def in_bbox(session: Session, stmt: Select, bbox: tuple[float, float, float, float]) -> Select:
    """Narrow a `public_issues` (or `public_issue_rows`) query to a (min_lon, min_lat,
    max_lon, max_lat) box, edges included, on the membership row's copy of the place.

    Through the best index the database has (`portal.core.spatial_index`): PostGIS's GiST or
    SQLite's R*Tree find the candidates and the exact test on lat/lon decides, so every path
    returns the same rows (both indexes keep boxes rounded outwards to 32-bit floats).
    """
    min_lon, min_lat, max_lon, max_lat = bbox
    kind = spatial_index.index_kind(session)
    if kind == spatial_index.POSTGIS:
        envelope = func.ST_MakeEnvelope(min_lon, min_lat, max_lon, max_lat, 4326)
        # Inside coalesce(…, true) the planner does not count the box twice: multiplying the
        # GiST's estimate by the lat/lon one, it would take a box of 20,000 issues for one of
        # 500, and read and sort all of them rather than stop at the newest 300. (A null place
        # has a null geom, which && already refuses.)
        return stmt.where(_GEOM.op("&&")(envelope),
                          func.coalesce(_within(IssuePortal.lat, IssuePortal.lon, bbox), true()))
    if kind == spatial_index.RTREE:
        spots = select(_SPOTS.c.id).where(_SPOTS.c.max_lon >= min_lon,
                                          _SPOTS.c.min_lon <= max_lon,
                                          _SPOTS.c.max_lat >= min_lat,
                                          _SPOTS.c.min_lat <= max_lat)
        # SQLite's planner guesses an R*Tree returns a sixteenth of its rows, and with the
        # btree on (lat, lon) at hand would read the box's whole strip of latitude instead:
        # with the exact test behind a unary plus, the R*Tree's ids drive the query.
        return stmt.where(IssuePortal.issue_id.in_(spots),
                          _within(_unindexed(IssuePortal.lat), _unindexed(IssuePortal.lon), bbox))
    return stmt.where(_within(IssuePortal.lat, IssuePortal.lon, bbox))


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


def for_bodies(stmt: Select, model: type, body_ids: set[int]) -> Select:
    """Scope body-private rows (anything with a `body_id`: response templates) to the bodies
    whose staff someone is; no bodies, no rows."""
    return stmt.where(model.body_id.in_(sorted(body_ids) or [-1]))


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
