""""Already reported?": the open and recently closed issues of one request type near a place.

The report form asks this once the place and the type are chosen, so a resident can add their
voice to an existing issue ("I want this fixed too") instead of filing it twice; staff's
queue uses the same question to point at likely duplicates. "Near" is a distance per request
type (`RequestType.nearby_m`, from `body.json`; default `DEFAULT_M`). "Of that type" is the
same request type code, whichever body holds it: two bodies' potholes are the same hole.
Issues already merged into another are left out (the original is the one to join).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from portal.core import geo
from portal.core.errors import ValidationError
from portal.models import Issue, IssueDuplicate, RequestType, Tenant, utcnow
from portal.reports import reporting
from portal.reports.routing import route
from portal.tenancy.scoping import in_bbox, public_issues

DEFAULT_M = 50
RECENTLY_CLOSED = timedelta(days=30)  # a fix this recent may be the same problem come back
LIMIT = 5


@dataclass(frozen=True)
class Nearby:
    issue: Issue
    distance_m: int


def radius_of(request_type: RequestType) -> int:
    return request_type.nearby_m or DEFAULT_M


def _box(lat: float, lon: float, radius_m: float) -> tuple[float, float, float, float]:
    return geo.bbox(geo.circle(lat, lon, radius_m))


def nearby_issues(session: Session, tenant: Tenant, request_type: RequestType, lat: float,
                  lon: float, *, exclude_id: int | None = None,
                  limit: int = LIMIT) -> list[Nearby]:
    """Issues of `request_type`'s code visible on `tenant` within its distance of (lat, lon),
    open or acknowledged, or closed in the last `RECENTLY_CLOSED`; nearest first."""
    radius = radius_of(request_type)
    since = utcnow() - RECENTLY_CLOSED
    stmt = (public_issues(tenant)
            .join(RequestType, RequestType.id == Issue.request_type_id)
            .where(RequestType.code == request_type.code,
                   Issue.status.in_(("open", "acknowledged"))
                   | ((Issue.status == "closed") & (Issue.updated_at >= since)),
                   Issue.id.not_in(select(IssueDuplicate.issue_id)))
            .options(selectinload(Issue.request_type)))
    if exclude_id is not None:
        stmt = stmt.where(Issue.id != exclude_id)
    stmt = in_bbox(session, stmt, _box(lat, lon, radius))
    found = []
    for issue in session.scalars(stmt.limit(200)):
        distance = geo.distance_m(lat, lon, issue.lat, issue.lon)
        if distance <= radius:
            found.append(Nearby(issue, round(distance)))
    found.sort(key=lambda n: (n.distance_m, n.issue.id))
    return found[:limit]


def likely_duplicates(session: Session, tenant: Tenant,
                      issues: list[Issue]) -> dict[int, Issue]:
    """For staff's queue: of each open issue, the earlier issue it most likely repeats (the
    nearest older one of the same type within the distance), by issue id."""
    found: dict[int, Issue] = {}
    for issue in issues:
        if issue.status not in ("open", "acknowledged"):
            continue
        for near in nearby_issues(session, tenant, issue.request_type, issue.lat, issue.lon,
                                  exclude_id=issue.id, limit=LIMIT):
            if near.issue.id < issue.id:
                found[issue.id] = near.issue
                break
    return found


def for_report(session: Session, tenant: Tenant, lat_text: str, lon_text: str,
               type_key: str) -> tuple[RequestType | None, list[Nearby]]:
    """What the report form asks about once place and type are chosen: the request type the
    report would go to and the issues near it. Nothing (and no error) while either is not
    valid yet: the form's own checks say what is wrong."""
    lat, lon, errors = reporting.parse_point(lat_text, lon_text)
    if errors or reporting.check_place(tenant, lat, lon, "en") or not type_key.strip():
        return None, []
    try:
        request_type = route(session, tenant, lat, lon, type_key.strip())
    except ValidationError:
        return None, []
    return request_type, nearby_issues(session, tenant, request_type, lat, lon)
