"""Filtering and paging public issue lists: one parser and one query for every reader.

Portal pages, the list view, search, the GeoJSON API and the map widget all turn their query
string into `IssueFilters` and ask `issues_query` for the rows, so they obey the same rules.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session, selectinload

from portal.core import geo, text_fields
from portal.core.errors import N_, Message
from portal.models import STATUSES, Body, Issue, RequestType, Tenant
from portal.reports import search
from portal.tenancy.scoping import in_bbox, public_issues

PAGE_SIZE = 50
MAX_PAGE_SIZE = 500


@dataclass
class IssueFilters:
    statuses: list[str] = field(default_factory=list)
    types: list[str] = field(default_factory=list)  # request type keys or codes
    bbox: tuple[float, float, float, float] | None = None
    words: str = ""
    since: date | None = None
    until: date | None = None
    near: tuple[float, float] | None = None
    radius_m: float = 500.0
    page: int = 1
    per_page: int = PAGE_SIZE
    errors: dict[str, Message] = field(default_factory=dict)

    def has_criteria(self) -> bool:
        return bool(self.statuses or self.types or self.words or self.since or self.until
                    or self.near)


def _floats(text: str, count: int) -> list[float] | None:
    try:
        values = [float(v) for v in text.split(",")]
    except ValueError:
        return None
    return values if len(values) == count else None


def _date(text: str) -> date | None:
    try:
        return date.fromisoformat(text)
    except ValueError:
        return None


def parse_filters(params, default_per_page: int = PAGE_SIZE) -> IssueFilters:  # noqa: ANN001
    """From a query-string multi-dict; bad values become errors, never exceptions."""
    f = IssueFilters(per_page=default_per_page)
    f.statuses = [s for s in params.getlist("status") if s in STATUSES]
    f.types = [t for t in params.getlist("type") if t][:20]
    f.words = (params.get("q") or "").strip()[:200]
    # Text that is not one clean line is refused, never sent to the database.
    for value in f.types:
        if (problem := text_fields.line_problem(value)) is not None:
            f.errors["type"], f.types = problem, []
            break
    if (problem := text_fields.line_problem(f.words)) is not None:
        f.errors["q"], f.words = problem, ""
    if raw := params.get("bbox"):
        box = _floats(raw, 4)
        if box is None or not (geo.valid_coordinates(box[1], box[0])
                               and geo.valid_coordinates(box[3], box[2])):
            f.errors["bbox"] = Message(N_("bbox must be min_lon,min_lat,max_lon,max_lat."))
        else:
            f.bbox = (min(box[0], box[2]), min(box[1], box[3]),
                      max(box[0], box[2]), max(box[1], box[3]))
    for name in ("since", "until"):
        if raw := params.get(name):
            value = _date(raw)
            if value is None:
                f.errors[name] = Message(N_("Enter a date like 2025-06-30."))
            setattr(f, name, value)
    if raw := params.get("near"):
        point = _floats(raw, 2)
        if point is None or not geo.valid_coordinates(point[0], point[1]):
            f.errors["near"] = Message(N_("near must be latitude,longitude."))
        else:
            f.near = (point[0], point[1])
    if raw := params.get("radius"):
        try:
            f.radius_m = min(max(float(raw), 10.0), 20_000.0)
        except ValueError:
            f.errors["radius"] = Message(N_("Enter a distance in metres."))
    try:
        f.page = max(1, min(int(params.get("page") or 1), 10_000))
        f.per_page = max(1, min(int(params.get("per_page") or default_per_page), MAX_PAGE_SIZE))
    except ValueError:
        f.errors["page"] = Message(N_("page and per_page must be whole numbers."))
    return f


def query_items(f: IssueFilters) -> list[tuple[str, str]]:
    """The filters as query-string items, one spelling for each set of filters (parameter order,
    unknown parameters and a radius without `near` make no difference), so a cache can key on
    it and a link can carry it: `parse_filters` reads back the same filters."""
    items = [("status", s) for s in f.statuses] + [("type", t) for t in f.types]
    if f.bbox:
        items.append(("bbox", ",".join(repr(v) for v in f.bbox)))
    if f.words:
        items.append(("q", f.words))
    items += [(name, value.isoformat()) for name, value in (("since", f.since),
                                                            ("until", f.until)) if value]
    if f.near:
        items += [("near", f"{f.near[0]!r},{f.near[1]!r}"), ("radius", repr(f.radius_m))]
    return items + [("page", str(f.page)), ("per_page", str(f.per_page))]


def issues_query(session: Session, tenant: Tenant, f: IssueFilters) -> Select:
    stmt = public_issues(tenant)
    if f.statuses:
        stmt = stmt.where(Issue.status.in_(f.statuses))
    if f.types:
        codes = [t.rsplit("/", 1)[-1] for t in f.types]
        stmt = stmt.join(RequestType, RequestType.id == Issue.request_type_id).where(
            RequestType.code.in_(codes))
    if f.bbox:
        stmt = in_bbox(stmt, f.bbox)
    if f.near:
        # A square around the place: indexed, and close enough to a circle at street scale.
        lat, lon = f.near
        dlat = f.radius_m / 111_320
        dlon = dlat / max(0.01, abs(math.cos(math.radians(lat))))
        stmt = in_bbox(stmt, (lon - dlon, lat - dlat, lon + dlon, lat + dlat))
    if f.since:
        stmt = stmt.where(Issue.created_at >= datetime.combine(f.since, time.min, UTC))
    if f.until:
        stmt = stmt.where(Issue.created_at <= datetime.combine(f.until, time.max, UTC))
    if f.words:
        stmt = search.matching(session, stmt, f.words)
    return stmt


def fetch_page(session: Session, tenant: Tenant, f: IssueFilters) -> tuple[list[Issue], int]:
    """One page of issues (newest first) and the total count."""
    stmt = issues_query(session, tenant, f)
    total = session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    rows = session.scalars(
        stmt.options(selectinload(Issue.request_type).selectinload(RequestType.body),
                     selectinload(Issue.body))
        .order_by(Issue.created_at.desc(), Issue.id.desc())
        .limit(f.per_page)
        .offset((f.page - 1) * f.per_page)
    ).all()
    return list(rows), total


def offered_types(session: Session, tenant: Tenant) -> list[RequestType]:
    """Request types of bodies covering the portal's area (for filters), one per code."""
    seen: dict[str, RequestType] = {}
    bodies = session.scalars(select(Body).options(selectinload(Body.request_types))
                             .order_by(Body.area_size)).all()
    for body in bodies:
        if not geo.intersects(body.area_geojson, tenant.area_geojson):
            continue
        for rt in body.request_types:
            keys = tenant.request_type_keys
            if rt.active and rt.code not in seen and (keys is None or rt.key in keys
                                                       or rt.code in keys):
                seen[rt.code] = rt
    return sorted(seen.values(), key=lambda rt: rt.code)
