"""Which portals contain an issue (and an announcement): computed on write, stored, indexed.

Reads never run point-in-polygon; they filter on `IssuePortal` plus the indexed lat/lon.
"""

from __future__ import annotations

from sqlalchemy import and_, delete, select
from sqlalchemy.orm import Session

from portal.core import geo
from portal.models import AnnouncementPortal, Body, Issue, IssuePortal, Tenant


def bbox_contains(model, lat: float, lon: float):  # noqa: ANN001,ANN201 - SQL expression
    """SQL prefilter: rows of an AreaMixin model whose bounding box holds the point."""
    return and_(model.min_lat <= lat, model.max_lat >= lat,
                model.min_lon <= lon, model.max_lon >= lon)


def portals_containing(session: Session, lat: float, lon: float) -> list[Tenant]:
    candidates = session.scalars(select(Tenant).where(bbox_contains(Tenant, lat, lon)))
    return [t for t in candidates if geo.contains(t.area_geojson, lat, lon)]


def bodies_containing(session: Session, lat: float, lon: float) -> list[Body]:
    candidates = session.scalars(select(Body).where(bbox_contains(Body, lat, lon)))
    return [b for b in candidates if geo.contains(b.area_geojson, lat, lon)]


def record_issue(session: Session, issue: Issue) -> None:
    """(Re)compute the portals an issue shows on."""
    session.flush()
    session.execute(delete(IssuePortal).where(IssuePortal.issue_id == issue.id))
    for tenant in portals_containing(session, issue.lat, issue.lon):
        session.add(IssuePortal(issue_id=issue.id, tenant_id=tenant.id))


def refresh_portal(session: Session, tenant: Tenant) -> int:
    """Recompute membership for every issue after a portal's area changed; returns the count."""
    session.flush()
    session.execute(delete(IssuePortal).where(IssuePortal.tenant_id == tenant.id))
    rows = session.execute(
        select(Issue.id, Issue.lat, Issue.lon).where(
            Issue.lat.between(tenant.min_lat, tenant.max_lat),
            Issue.lon.between(tenant.min_lon, tenant.max_lon),
        )
    )
    inside = [
        {"issue_id": i, "tenant_id": tenant.id}
        for i, lat, lon in rows
        if geo.contains(tenant.area_geojson, lat, lon)
    ]
    if inside:
        session.execute(IssuePortal.__table__.insert(), inside)
    return len(inside)


def record_announcement(session: Session, announcement_id: int, area_geojson: str | None,
                        tenant_id: int | None, body: Body | None) -> None:
    """A portal's own announcement shows on it; a body's shows wherever its area touches."""
    session.execute(
        delete(AnnouncementPortal).where(AnnouncementPortal.announcement_id == announcement_id)
    )
    target = area_geojson or (body.area_geojson if body else None)
    tenant_ids: set[int] = set()
    if tenant_id is not None and area_geojson is None:
        tenant_ids.add(tenant_id)
    if target:
        for tenant in session.scalars(select(Tenant)):
            if (tenant_id is None or tenant.id == tenant_id) and geo.intersects(
                tenant.area_geojson, target
            ):
                tenant_ids.add(tenant.id)
    for tid in tenant_ids:
        session.add(AnnouncementPortal(announcement_id=announcement_id, tenant_id=tid))
