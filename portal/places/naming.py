"""The place name an issue keeps ("120 Chapel St, Downtown"), written with the issue.

`name_issue` is called by `submit_report` and the importer in the writing transaction; the
name comes from the issue's portal (its gazetteer, then its remote geocoder for a single
report; never the remote one for a bulk import, which would break Nominatim's one request a
second). A resident's own address text becomes a place of the portals showing the issue, so
the next resident finds it. `backfill` names issues written before names were kept.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.models import Issue, IssuePortal, Tenant
from portal.places import backends, gazetteer, point_names
from portal.places.gazetteer import NewPlace
from portal.places.point_names import PlaceName

MAX_NAME = 300


class Namer:
    """Names points of one portal from its gazetteer; skips look-ups a portal cannot answer
    (no address points, no named areas), which is most of a bulk import's cost otherwise."""

    def __init__(self, session: Session, tenant: Tenant, remote: bool = False) -> None:
        self.session, self.tenant, self.remote = session, tenant, remote
        self.has_addresses = gazetteer.place_count(session, tenant.id, "address") > 0
        self.has_areas = gazetteer.place_count(session, tenant.id, "area") > 0

    def name(self, lat: float, lon: float) -> str:
        if self.remote and backends.remote_for(self.tenant) is not None:
            return str(backends.name_point(self.session, self.tenant, lat, lon))[:MAX_NAME]
        address = (point_names.address_near(self.session, self.tenant, lat, lon)
                   if self.has_addresses else "")
        area = (point_names.area_at(self.session, self.tenant, lat, lon,
                                  self.tenant.default_language) if self.has_areas else "")
        return str(PlaceName(address, area))[:MAX_NAME]


def place_name(session: Session, tenant: Tenant, lat: float, lon: float) -> str:
    """The name a new report's point gets (its portal's gazetteer, then remote geocoder)."""
    return Namer(session, tenant, remote=True).name(lat, lon)


def offer_address(session: Session, issue: Issue) -> None:
    """A written issue's typed address becomes a place of every portal showing the issue."""
    if not issue.address:
        return
    portal_ids = session.scalars(select(IssuePortal.tenant_id).where(
        IssuePortal.issue_id == issue.id)).all()
    for portal_id in portal_ids:
        portal = session.get(Tenant, portal_id)
        language = issue.locale if portal and issue.locale in portal.languages else (
            portal.default_language if portal else issue.locale)
        gazetteer.add_places(session, portal_id, [NewPlace(
            "reported", {language: issue.address}, issue.lat, issue.lon,
            street=issue.address, issue_id=issue.id)], "issue")


def backfill(session: Session, on_batch: Callable[[int], None] | None = None,
             batch: int = 1000) -> int:
    """Name every issue that has no place name yet, from its origin portal's gazetteer."""
    named = 0
    namers: dict[int, Namer] = {}
    last = 0
    while True:
        issues = session.scalars(select(Issue).where(
            Issue.id > last, Issue.place_name == "", Issue.origin_tenant_id.is_not(None))
            .order_by(Issue.id).limit(batch)).all()
        if not issues:
            return named
        for issue in issues:
            last = issue.id
            if issue.origin_tenant_id not in namers:
                namers[issue.origin_tenant_id] = Namer(
                    session, session.get(Tenant, issue.origin_tenant_id))
            issue.place_name = namers[issue.origin_tenant_id].name(issue.lat, issue.lon)
            named += bool(issue.place_name)
        session.flush()
        if on_batch:
            on_batch(named)

