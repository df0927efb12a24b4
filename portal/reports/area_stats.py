"""Figures for a newsroom: one area's stats card, and the portal's named areas side by side.

An area is the portal itself or one of its named areas (`places.geojson` polygons, kept as
`Place` rows of kind "area"); a named area is known by a key made from its name in the
portal's default language ("east-rock"), which stays the same when the files are loaded again.
A period is the last 30, 90 or 365 days, a calendar year, or two dates (`parse_period`).

Everything is counted over the issues *reported* in the period that show on the portal, from
their membership rows (`IssuePortal`: the place, status, report time and first public closure
the database keeps copied there), read as one index range of the portal's rows by report time,
so a card costs the period's rows, never the portal's history. Areas are matched by their box
in SQL and their outline here. "Days to fix" is the first public closure minus the report
time; medians are exact (`statistics.median`), of at least `MIN_COUNT` values. "Fixed within
the target" counts the reports whose body promised a fix time (`Issue.close_due_at`, see
`portal.tenancy.service_targets`) and that are fixed or past it: the share fixed by then.
Pages that show these are cached per data version (see `widgets.card_routes`).
"""

from __future__ import annotations

import re
import statistics
import unicodedata
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import func, null, select
from sqlalchemy.orm import Session

from portal.core import geo
from portal.core.localized import localized
from portal.models import STATUSES, Body, Issue, IssuePortal, Place, RequestType, Tenant, utcnow
from portal.reports.activity import aware
from portal.reports.dashboard import MAX_YEARS, MIN_COUNT, week_start

ROLLING = (30, 90, 365)  # "30d", "90d", "365d"
DEFAULT_PERIOD = "90d"
SLOWEST = 3  # request types on a card
MONTHLY_AFTER = 78  # weeks: a longer period's sparkline goes by month
_RANGE = re.compile(r"^(\d{4}-\d{2}-\d{2})\.\.(\d{4}-\d{2}-\d{2})$")


@dataclass(frozen=True)
class Period:
    """Whole days `start`..`end` (UTC), as asked for (`text`, normalised)."""

    text: str
    start: date
    end: date
    days: int | None = None  # a rolling period's length
    year: int | None = None


def parse_period(text: str, today: date) -> Period | None:
    """"30d", "90d", "365d" (ending today), "2024" (a year), or "2024-01-01..2024-06-30";
    None when it is none of them (or longer than `MAX_YEARS` years, or reversed)."""
    text = (text or "").strip() or DEFAULT_PERIOD
    if text.endswith("d") and text[:-1].isdigit() and int(text[:-1]) in ROLLING:
        days = int(text[:-1])
        return Period(text, today - timedelta(days=days - 1), today, days=days)
    if re.fullmatch(r"\d{4}", text) and 1900 <= int(text) <= today.year:
        year = int(text)
        return Period(text, date(year, 1, 1), date(year, 12, 31), year=year)
    if match := _RANGE.match(text):
        try:
            start, end = (date.fromisoformat(match.group(n)) for n in (1, 2))
        except ValueError:
            return None
        if start <= end and (end - start).days <= 366 * MAX_YEARS:
            return Period(text, start, end)
    return None


@dataclass(frozen=True)
class Area:
    """A named area of the portal: its key, its name in the asked language, its outline."""

    key: str
    label: str
    outline: str
    box: tuple[float, float, float, float]  # min lon, min lat, max lon, max lat
    population: int | None


def _slug(text: str) -> str:
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")


def named_areas(session: Session, tenant: Tenant, locale: str) -> list[Area]:
    """The portal's named areas (polygons), by name in `locale`."""
    rows = session.scalars(select(Place).where(
        Place.tenant_id == tenant.id, Place.kind == "area", Place.area_geojson != "")
        .order_by(Place.id)).all()
    areas, taken = [], Counter()
    for place in rows:
        base = _slug(localized(place.names, tenant.default_language, tenant.default_language))
        base = base or f"area-{place.id}"
        taken[base] += 1
        key = base if taken[base] == 1 else f"{base}-{taken[base]}"
        areas.append(Area(key, localized(place.names, locale, tenant.default_language),
                          place.area_geojson,
                          (place.min_lon, place.min_lat, place.max_lon, place.max_lat),
                          place.population))
    return sorted(areas, key=lambda a: a.label.casefold())


def areas_version(session: Session, tenant: Tenant) -> tuple[int, int]:
    """Changes whenever the portal's named areas are loaded again (they get new rows), which
    moves no data version: for cache keys of what they outline."""
    count, last = session.execute(select(func.count(), func.max(Place.id)).where(
        Place.tenant_id == tenant.id, Place.kind == "area")).one()
    return int(count or 0), int(last or 0)


def find_area(session: Session, tenant: Tenant, locale: str, key: str) -> Area | None:
    return next((a for a in named_areas(session, tenant, locale) if a.key == key), None)


@dataclass(frozen=True)
class _Row:
    status: str
    type_id: int
    reported: datetime
    closed: datetime | None
    close_due: datetime | None
    lat: float
    lon: float

    @property
    def fix_days(self) -> float | None:
        if self.closed is None:
            return None
        return max(0.0, (self.closed - self.reported).total_seconds() / 86400)


def _rows(session: Session, tenant: Tenant, period: Period,
          box: tuple[float, float, float, float] | None = None,
          due: bool = False) -> list[_Row]:
    """The period's membership rows (with the issues' fix due times only when `due`)."""
    ip = IssuePortal
    due_column = Issue.close_due_at if due else null()
    stmt = (select(ip.status, ip.request_type_id, ip.created_at, ip.closed_at,
                   due_column, ip.lat, ip.lon)
            .where(ip.tenant_id == tenant.id, ip.hidden.is_(False),
                   ip.created_at >= datetime.combine(period.start, time(0), tzinfo=UTC),
                   ip.created_at < datetime.combine(period.end + timedelta(days=1), time(0),
                                                    tzinfo=UTC)))
    if box is not None:
        stmt = stmt.where(ip.lon.between(box[0], box[2]), ip.lat.between(box[1], box[3]))
    if due:
        stmt = stmt.join(Issue, Issue.id == ip.issue_id)
    return [_Row(status or "open", int(type_id or 0), aware(created),
                 aware(closed) if closed else None, aware(due) if due else None, lat, lon)
            for status, type_id, created, closed, due, lat, lon in session.execute(stmt)]


def _inside(area: Area, rows: list[_Row]) -> list[_Row]:
    return [r for r in rows if area.box[0] <= r.lon <= area.box[2]
            and area.box[1] <= r.lat <= area.box[3] and geo.contains(area.outline, r.lat, r.lon)]


def _median(values: list[float]) -> float | None:
    return statistics.median(values) if len(values) >= MIN_COUNT else None


@dataclass
class TypeDelay:
    label: str
    median_days: float
    fixed: int


@dataclass
class Card:
    """What a stats card shows."""

    total: int
    by_status: dict[str, int]
    median_fix_days: float | None
    fixed: int
    slowest: list[TypeDelay]
    series: list[tuple[date, int]]  # reports per week (Mondays), or per month
    monthly: bool = False


def _type_labels(session: Session, tenant: Tenant, locale: str, ids: set[int]) -> dict[int, str]:
    names = {i: (n, b) for i, n, b in session.execute(
        select(RequestType.id, RequestType.name, Body.name)
        .join(Body, Body.id == RequestType.body_id).where(RequestType.id.in_(ids)))}
    labels = {i: localized(n, locale, tenant.default_language) for i, (n, _b) in names.items()}
    repeated = {label for label, n in Counter(labels.values()).items() if n > 1}
    return {i: f"{label} ({localized(names[i][1], locale, tenant.default_language)})"
            if label in repeated else label for i, label in labels.items()}


def _series(rows: list[_Row], period: Period) -> tuple[list[tuple[date, int]], bool]:
    first, last = week_start(period.start), week_start(period.end)
    monthly = (last - first).days // 7 + 1 > MONTHLY_AFTER
    if monthly:
        starts, day = [], period.start.replace(day=1)
        while day <= period.end:
            starts.append(day)
            day = (day + timedelta(days=32)).replace(day=1)
    else:
        starts = [first + timedelta(weeks=n) for n in range((last - first).days // 7 + 1)]
    counts: Counter[date] = Counter()
    for row in rows:
        day = row.reported.date()
        counts[day.replace(day=1) if monthly else week_start(day)] += 1
    return [(start, counts[start]) for start in starts], monthly


def card(session: Session, tenant: Tenant, locale: str, period: Period,
         area: Area | None = None) -> Card:
    """The figures of one area (the whole portal when None) over one period."""
    rows = _rows(session, tenant, period, area.box if area else None)
    if area is not None:
        rows = _inside(area, rows)
    by_status = {s: 0 for s in STATUSES}
    for row in rows:
        by_status[row.status] = by_status.get(row.status, 0) + 1
    fixes = [d for r in rows if (d := r.fix_days) is not None]
    per_type: dict[int, list[float]] = defaultdict(list)
    for row in rows:
        if (days := row.fix_days) is not None:
            per_type[row.type_id].append(days)
    timed = {t: m for t, days in per_type.items() if (m := _median(days)) is not None}
    labels = _type_labels(session, tenant, locale, set(timed)) if timed else {}
    slowest = sorted((TypeDelay(labels.get(t, "?"), m, len(per_type[t]))
                      for t, m in timed.items()), key=lambda d: (-d.median_days, d.label))
    series, monthly = _series(rows, period)
    return Card(len(rows), by_status, _median(fixes), len(fixes), slowest[:SLOWEST], series,
                monthly)


@dataclass
class Comparison:
    """One named area's row on the compare page."""

    key: str
    label: str
    population: int | None
    reports: int
    median_fix_days: float | None
    with_target: int  # reports with a fix target that are fixed, or past it
    fixed_on_time: int
    extra: dict = field(default_factory=dict)

    @property
    def per_thousand(self) -> float | None:
        return self.reports * 1000 / self.population if self.population else None

    @property
    def on_time_share(self) -> float | None:
        return self.fixed_on_time / self.with_target if self.with_target >= MIN_COUNT else None


def compare(session: Session, tenant: Tenant, locale: str, period: Period,
            now: datetime | None = None) -> list[Comparison]:
    """Every named area of the portal over one period (areas may overlap: a report inside
    two counts in both). One read of the period's rows, matched to each outline here."""
    now = aware(now or utcnow())
    areas = named_areas(session, tenant, locale)
    rows = _rows(session, tenant, period, due=True) if areas else []
    result = []
    for area in areas:
        mine = _inside(area, rows)
        targeted = [r for r in mine if r.close_due is not None
                    and (r.closed is not None or r.close_due < now)]
        result.append(Comparison(
            area.key, area.label, area.population, len(mine),
            _median([d for r in mine if (d := r.fix_days) is not None]), len(targeted),
            sum(1 for r in targeted if r.closed is not None and r.closed <= r.close_due)))
    return result


SORTS = {
    "name": lambda c: c.label.casefold(),
    "reports": lambda c: c.reports,
    "per_thousand": lambda c: c.per_thousand,
    "median": lambda c: c.median_fix_days,
    "on_time": lambda c: c.on_time_share,
}


def sorted_rows(rows: list[Comparison], sort: str, descending: bool) -> list[Comparison]:
    """Rows by one column; rows without a figure there always last."""
    key = SORTS.get(sort, SORTS["name"])
    known = [r for r in rows if key(r) is not None]
    unknown = [r for r in rows if key(r) is None]
    return sorted(known, key=key, reverse=descending) + sorted(unknown, key=SORTS["name"])
