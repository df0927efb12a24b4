"""Filtering and paging public issue lists: one parser and one query for every reader.

Portal pages, the list view, search, the GeoJSON API and the map widget all turn their query
string into `IssueFilters` and ask `issues_query` for the rows, so they obey the same rules.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from weakref import WeakKeyDictionary

from sqlalchemy import Select, func, literal, select, tuple_
from sqlalchemy.orm import Session, defer, joinedload, selectinload

from portal.core import geo, text_fields
from portal.core.errors import N_, Message
from portal.models import STATUSES, Body, Issue, IssuePortal, RequestType, Tenant
from portal.reports import clusters, search
from portal.tenancy.scoping import in_bbox, public_issue_rows

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
    after: tuple[datetime, int] | None = None  # keyset cursors: older than / newer than
    before: tuple[datetime, int] | None = None
    zoom: int | None = None  # a map's zoom: the API answers with what to draw
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
    for name in ("after", "before"):
        if raw := params.get(name):
            cursor = _parse_cursor(raw)
            if cursor is None:
                f.errors[name] = Message(N_("This page link is broken: go back to the list."))
            setattr(f, name, cursor)
    if (raw := params.get("zoom")) is not None:
        try:
            f.zoom = int(raw)
        except ValueError:
            f.zoom = -1
        if not 0 <= f.zoom <= 22:
            f.errors["zoom"] = Message(N_("zoom must be a whole number from 0 to 22."))
            f.zoom = None
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
    for name in ("after", "before"):
        if cursor := getattr(f, name):
            items.append((name, f"{cursor[0].isoformat()}~{cursor[1]}"))
    if f.zoom is not None:
        items.append(("zoom", str(f.zoom)))
    return items + [("page", str(f.page)), ("per_page", str(f.per_page))]


# Counts past this many under filters the counters do not know say "more". Counting reads
# one index entry per issue (for a word on PostgreSQL, its GIN postings and their rows): at a
# million issues a word in 5 % of them took 130-560 ms to count to 10,000, 2-33 ms to 1,000.
COUNT_CAP = 1_000


@dataclass
class Page:
    """One page of a list, newest first. `total` is exact unless `total_exact` is False, when
    there are more than `total` (`COUNT_CAP`) matching issues."""

    issues: list[Issue]
    total: int
    total_exact: bool
    more: bool  # an older page exists
    after: str = ""  # cursor of the next (older) page
    before: str = ""  # cursor of the previous (newer) page


def counted_by_cells(f: IssueFilters, tenant: Tenant) -> bool:
    """Whether the maintained counts answer these filters: status, and a box only on a map."""
    return not (f.types or f.words or f.since or f.until or f.near)


def covers_portal(bbox: tuple[float, float, float, float] | None, tenant: Tenant) -> bool:
    return bbox is None or (bbox[0] <= tenant.min_lon and bbox[1] <= tenant.min_lat
                            and bbox[2] >= tenant.max_lon and bbox[3] >= tenant.max_lat)


def matching_rows(session: Session, tenant: Tenant, f: IssueFilters,
                  kinds: list[set[int]] | None = None) -> Select:
    """SELECT of the portal's `IssuePortal` rows the filters let through (public ones only).

    Everything but request types and words is read from the membership row itself, so lists
    and boxes are index ranges over `issue_portals` (see `IssuePortal`).
    """
    stmt = public_issue_rows(tenant)
    if f.words and kinds is None:
        kinds = search.kinds_matching(session, f.words)
    by_kind = bool(kinds and any(kinds))
    if f.statuses:
        stmt = stmt.where(IssuePortal.status.in_(f.statuses))
    if f.types or by_kind or (f.words and not search.by_id_alone(session)):
        stmt = stmt.join(Issue, Issue.id == IssuePortal.issue_id)
    if f.types:
        codes = [t.rsplit("/", 1)[-1] for t in f.types]
        stmt = stmt.join(RequestType, RequestType.id == Issue.request_type_id).where(
            RequestType.code.in_(codes))
    if f.bbox and not covers_portal(f.bbox, tenant):
        stmt = in_bbox(session, stmt, f.bbox)
    if f.near:
        # A square around the place: indexed, and close enough to a circle at street scale.
        lat, lon = f.near
        dlat = f.radius_m / 111_320
        dlon = dlat / max(0.01, abs(math.cos(math.radians(lat))))
        stmt = in_bbox(session, stmt, (lon - dlon, lat - dlat, lon + dlon, lat + dlat))
    if f.since:
        stmt = stmt.where(IssuePortal.created_at >= datetime.combine(f.since, time.min, UTC))
    if f.until:
        stmt = stmt.where(IssuePortal.created_at <= datetime.combine(f.until, time.max, UTC))
    if f.words:
        stmt = search.matching(session, stmt, f.words, IssuePortal.issue_id,
                               languages=tenant.languages, kinds=kinds,
                               request_type_id=Issue.request_type_id)
    return stmt


def count_matching(session: Session, tenant: Tenant, f: IssueFilters) -> tuple[int, bool]:
    """(count, exact): from the maintained counters when they answer the filters, else
    counted, but never past `COUNT_CAP`."""
    if counted_by_cells(f, tenant) and covers_portal(f.bbox, tenant):
        return clusters.count(session, tenant.id, f.statuses), True
    capped = matching_rows(session, tenant, f).with_only_columns(IssuePortal.issue_id)
    found = session.scalar(select(func.count()).select_from(
        capped.limit(COUNT_CAP + 1).subquery())) or 0
    return min(found, COUNT_CAP), found <= COUNT_CAP


def _parse_cursor(text: str) -> tuple[datetime, int] | None:
    when, _, number = text.partition("~")
    try:
        moment = datetime.fromisoformat(when)
        issue_id = int(number)
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return (moment, issue_id) if 0 < issue_id <= text_fields.MAX_RECORD_NUMBER else None


# What a list shows of an issue, its type and its body. Not their JSON answers, help texts or
# the bodies' boundaries (megabytes of GeoJSON, which a join would repeat on every row).
PAGE_COLUMNS = (
    defer(Issue.answers), defer(Issue.description),
    joinedload(Issue.request_type).load_only(RequestType.id, RequestType.code,
                                             RequestType.name, RequestType.body_id)
    .joinedload(RequestType.body).load_only(Body.id, Body.slug, Body.name),
    joinedload(Issue.body).load_only(Body.id, Body.slug, Body.name),
)


def _cursor_values(cursor: tuple[datetime, int] | None):  # noqa: ANN202 - a SQL tuple
    if cursor is None:
        return None
    return tuple_(literal(cursor[0], IssuePortal.created_at.type),
                  literal(cursor[1], IssuePortal.issue_id.type))


def _cursor_id(cursor: tuple[datetime, int] | None) -> int | None:
    return cursor[1] if cursor else None


def fetch_page(session: Session, tenant: Tenant, f: IssueFilters) -> Page:
    """One page of issues, newest first: by cursor (`after`/`before`, an index range however
    deep the page) or, for a page number typed in, by offset over the index alone."""
    kinds = search.kinds_matching(session, f.words) if f.words else None
    rows = matching_rows(session, tenant, f, kinds).with_only_columns(
        IssuePortal.issue_id, IssuePortal.created_at)
    if search.terms(f.words):  # (words of only punctuation search for nothing)
        # Newest issue number first: the order a search index keeps, so a page of a word in
        # most issues reads a page's worth of them, not all of them sorted by date.
        number = search.newest_first(session, IssuePortal.issue_id, kinds)
        newest_first, oldest_first = (number.desc(),), (number,)
        key, after, before = number, _cursor_id(f.after), _cursor_id(f.before)
    else:
        newest_first = (IssuePortal.created_at.desc(), IssuePortal.issue_id.desc())
        oldest_first = (IssuePortal.created_at, IssuePortal.issue_id)
        key = tuple_(IssuePortal.created_at, IssuePortal.issue_id)
        after, before = _cursor_values(f.after), _cursor_values(f.before)
    if f.after:
        rows = rows.where(key < after).order_by(*newest_first)
    elif f.before:  # read upwards from the cursor, then turn the page the right way round
        rows = rows.where(key > before).order_by(*oldest_first)
    else:
        rows = rows.order_by(*newest_first).offset((f.page - 1) * f.per_page)
    found = session.execute(rows.limit(f.per_page + 1)).all()
    extra = len(found) > f.per_page
    found = found[:f.per_page]
    if f.before:
        found.reverse()
    more = extra if not f.before else True
    ids = [row.issue_id for row in found]
    by_id = {issue.id: issue for issue in session.scalars(
        select(Issue).where(Issue.id.in_(ids))  # one query: a page is a few dozen rows
        .options(*PAGE_COLUMNS))} if ids else {}
    total, exact = count_matching(session, tenant, f)
    page = Page([by_id[i] for i in ids if i in by_id], total, exact, more)
    if found:
        page.after = f"{found[-1].created_at.isoformat()}~{found[-1].issue_id}"
        page.before = f"{found[0].created_at.isoformat()}~{found[0].issue_id}"
    return page


@dataclass(frozen=True)
class OfferedType:
    """A request type as the filters offer it: its code and its names by language."""

    code: str
    name: dict


# Per portal *settings object*: the tenant cache replaces that object on every process when
# a portal, body or request type changes (`portal.tenancy.settings_stamp`), so bodies and
# types edited anywhere show from the next request on, like any other setting, and a list
# page does not load every body's boundary.
_OFFERED: WeakKeyDictionary[Tenant, list[OfferedType]] = WeakKeyDictionary()


def offered_types(session: Session, tenant: Tenant) -> list[OfferedType]:
    """Request types of bodies covering the portal's area (for filters), one per code."""
    found = _OFFERED.get(tenant)
    if found is None:
        found = _OFFERED[tenant] = _offered_types(session, tenant)
    return found


def _offered_types(session: Session, tenant: Tenant) -> list[OfferedType]:
    # One entry per code, named as the body that serves most of the portal's area names it:
    # on a county portal "streetlight" is the city's "Streetlight out", not the name a small
    # campus body inside it uses for its own lamps; on the campus portal, which both cover
    # whole, the more local body's name wins.
    portal_area = geo.area(tenant.area_geojson)
    best: dict[str, tuple[tuple[float, float], RequestType]] = {}
    bodies = session.scalars(select(Body).options(selectinload(Body.request_types))).all()
    for body in bodies:
        if not geo.intersects(body.area_geojson, tenant.area_geojson):
            continue
        share = round(geo.area(body.area_geojson).intersection(portal_area).area
                      / (portal_area.area or 1), 3)
        rank = (-share, body.area_size)
        for rt in body.request_types:
            if not (rt.active and tenant.offers(rt)):
                continue
            if rt.code not in best or rank < best[rt.code][0]:
                best[rt.code] = (rank, rt)
    return [OfferedType(rt.code, dict(rt.name or {}))
            for _, rt in sorted(best.values(), key=lambda pair: pair[1].code)]
