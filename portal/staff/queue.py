"""The body staff's queue: their bodies' issues on this portal, filtered, sorted and paged.

Scope (a decision, see docs in the staff pages): on portal X a staff member sees the issues
of the bodies they work for *that lie in X's area* — the same geography every public reader
of X uses (`scoping.staff_issues` builds on `public_issues`). Their issues elsewhere are in
the queue of the portals covering them. Hidden issues are left out unless asked for
("show hidden"), since hiding concerns public view, not the body's work.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from portal.core import geo, text_fields
from portal.core.errors import N_, Message
from portal.models import STATUSES, Issue, Place, RequestType, Tenant, Update, utcnow
from portal.reports import deadlines
from portal.tenancy.scoping import in_bbox, staff_issues

PAGE_SIZE = 50
DEFAULT_STATUSES = ["open", "acknowledged"]
SORTS = {
    "oldest": (Issue.created_at.asc(), Issue.id.asc()),
    "newest": (Issue.created_at.desc(), Issue.id.desc()),
    "votes": (Issue.vote_count.desc(), Issue.created_at.asc(), Issue.id.asc()),
    "updated": (Issue.updated_at.desc(), Issue.id.desc()),
    # The next promise first (to acknowledge while open, then to fix); no target last.
    "time_left": tuple(deadlines.time_left_order()),
}


@dataclass
class QueueFilters:
    statuses: list[str] = field(default_factory=lambda: list(DEFAULT_STATUSES))
    types: list[str] = field(default_factory=list)  # request type codes
    bodies: list[int] = field(default_factory=list)
    bbox: tuple[float, float, float, float] | None = None
    area: int | None = None  # a named area of the portal (places.geojson), by its id
    min_age_days: int | None = None
    max_age_days: int | None = None
    min_votes: int | None = None
    include_hidden: bool = False
    sort: str = "oldest"
    page: int = 1
    per_page: int = PAGE_SIZE
    errors: dict[str, Message] = field(default_factory=dict)


def _int(params, name: str, errors: dict, low: int = 0, high: int = 100_000) -> int | None:  # noqa: ANN001
    raw = (params.get(name) or "").strip()
    if not raw:
        return None
    try:
        value = int(raw)
    except ValueError:
        errors[name] = Message(N_("Enter a whole number."))
        return None
    return max(low, min(value, high))


def parse_filters(params) -> QueueFilters:  # noqa: ANN001 - a QueryParams
    """From the queue's query string. With no `filtered` marker, show what needs doing."""
    f = QueueFilters()
    if params.get("filtered"):
        f.statuses = [s for s in params.getlist("status") if s in STATUSES]
    f.types = [t for t in params.getlist("type") if t][:20]
    for value in f.types:  # text that is not one clean line never reaches the database
        if (problem := text_fields.line_problem(value)) is not None:
            f.errors["type"], f.types = problem, []
            break
    for raw in params.getlist("body")[:20]:
        if (body_id := text_fields.record_number(raw)) is not None:
            f.bodies.append(body_id)
    if raw := (params.get("area") or "").strip():
        f.area = text_fields.record_number(raw)
        if f.area is None:
            f.errors["area"] = Message(N_("Choose one of the portal's areas."))
    if raw := (params.get("bbox") or "").strip():
        try:
            box = [float(v) for v in raw.split(",")]
        except ValueError:
            box = []
        if len(box) != 4 or not (geo.valid_coordinates(box[1], box[0])
                                 and geo.valid_coordinates(box[3], box[2])):
            f.errors["bbox"] = Message(N_("bbox must be min_lon,min_lat,max_lon,max_lat."))
        else:
            f.bbox = (min(box[0], box[2]), min(box[1], box[3]),
                      max(box[0], box[2]), max(box[1], box[3]))
    f.min_age_days = _int(params, "min_age", f.errors)
    f.max_age_days = _int(params, "max_age", f.errors)
    f.min_votes = _int(params, "min_votes", f.errors)
    f.include_hidden = params.get("hidden") == "1"
    sort = params.get("sort") or "oldest"
    f.sort = sort if sort in SORTS else "oldest"
    f.page = _int(params, "page", f.errors, 1, 10_000) or 1
    return f


def queue_query(session: Session, tenant: Tenant, body_ids: set[int],
                f: QueueFilters):  # noqa: ANN201 - Select
    bodies = body_ids & set(f.bodies) if f.bodies else body_ids
    stmt = staff_issues(tenant, bodies, include_hidden=f.include_hidden)
    return narrow(session, tenant, stmt, f)


def narrow(session: Session, tenant: Tenant, stmt, f: QueueFilters):  # noqa: ANN001, ANN201
    """Apply the status, type, place, age and vote filters to a query of the portal's issues
    (the queue's, or the constituent desk's)."""
    if f.statuses:
        stmt = stmt.where(Issue.status.in_(f.statuses))
    if f.types:
        stmt = stmt.join(RequestType, RequestType.id == Issue.request_type_id).where(
            RequestType.code.in_([t.rsplit("/", 1)[-1] for t in f.types]))
    if f.bbox:
        stmt = in_bbox(session, stmt, f.bbox)
    if f.area is not None:
        stmt = _in_named_area(session, tenant, stmt, f)
    now = utcnow()
    if f.min_age_days is not None:
        stmt = stmt.where(Issue.created_at <= now - timedelta(days=f.min_age_days))
    if f.max_age_days is not None:
        stmt = stmt.where(Issue.created_at >= now - timedelta(days=f.max_age_days))
    if f.min_votes is not None:
        stmt = stmt.where(Issue.vote_count >= f.min_votes)
    return stmt


EXACT_AREA_LIMIT = 20_000  # issues in an area's box checked one by one against its outline


def named_areas(session: Session, tenant: Tenant) -> list[Place]:
    """The portal's named areas (neighbourhoods, districts, campus parts), for the queue's
    area filter: staff pick "Fair Haven" instead of typing a box of coordinates."""
    return list(session.scalars(select(Place).where(
        Place.tenant_id == tenant.id, Place.kind == "area", Place.area_geojson != "")))


def _in_named_area(session: Session, tenant: Tenant, stmt, f: QueueFilters):  # noqa: ANN001, ANN202
    place = session.get(Place, f.area)
    if place is None or place.tenant_id != tenant.id or place.kind != "area" \
            or not place.area_geojson:
        f.errors["area"] = Message(N_("Choose one of the portal's areas."))
        return stmt.where(Issue.id == -1)
    # The outline's box first (indexed), then each issue in it against the outline itself;
    # a box holding more than EXACT_AREA_LIMIT issues is used as it is.
    stmt = in_bbox(session, stmt, (place.min_lon, place.min_lat, place.max_lon, place.max_lat))
    rows = session.execute(stmt.with_only_columns(Issue.id, Issue.lat, Issue.lon)
                           .limit(EXACT_AREA_LIMIT + 1)).all()
    if len(rows) > EXACT_AREA_LIMIT:
        return stmt
    inside = [row.id for row in rows if geo.contains(place.area_geojson, row.lat, row.lon)]
    return stmt.where(Issue.id.in_(inside or [-1]))


def fetch(session: Session, tenant: Tenant, body_ids: set[int],
          f: QueueFilters) -> tuple[list[Issue], int, set[int]]:
    """One page of the queue, the total, and which of its issues residents say are fixed."""
    stmt = queue_query(session, tenant, body_ids, f)
    total = session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    issues = list(session.scalars(
        stmt.options(selectinload(Issue.request_type), selectinload(Issue.body))
        .order_by(*SORTS[f.sort]).limit(f.per_page).offset((f.page - 1) * f.per_page)))
    ids = [i.id for i in issues]
    said_fixed = set(session.scalars(select(Update.issue_id).where(
        Update.issue_id.in_(ids or [-1]), Update.kind == "fixed", Update.hidden.is_(False)
    ).distinct())) if ids else set()
    said_fixed = {i.id for i in issues if i.id in said_fixed and i.status in DEFAULT_STATUSES}
    return issues, total, said_fixed


def types_for(session: Session, body_ids: set[int]) -> list[RequestType]:
    """Request types of the staff member's bodies, for the filter (one per code)."""
    seen: dict[str, RequestType] = {}
    for rt in session.scalars(select(RequestType).where(
            RequestType.body_id.in_(sorted(body_ids) or [-1])).order_by(RequestType.code)):
        seen.setdefault(rt.code, rt)
    return list(seen.values())


def reopen_requests(session: Session, tenant: Tenant, body_ids: set[int],
                    limit: int = 50) -> list[Issue]:
    """Closed issues of these bodies on this portal that a resident asked to reopen and no
    one has answered yet (no status change or refusal since), oldest request first."""
    answered = (select(func.max(Update.id)).where(
        Update.issue_id == Issue.id, Update.kind.in_(("status", "reopen_declined")))
        .correlate(Issue).scalar_subquery())
    asked = (select(func.min(Update.id)).where(
        Update.issue_id == Issue.id, Update.kind == "reopen_request",
        Update.hidden.is_(False), Update.id > func.coalesce(answered, 0))
        .correlate(Issue).scalar_subquery())
    stmt = (staff_issues(tenant, body_ids, include_hidden=True)
            .where(Issue.status.in_(("closed", "archived")), asked.is_not(None))
            .options(selectinload(Issue.request_type), selectinload(Issue.body))
            .order_by(asked).limit(limit))
    return list(session.scalars(stmt))
