"""Dashboard figures and open-data exports, per portal and optionally per body.

What a portal's dashboard counts is exactly what its map shows: the issues of
`scoping.public_issues(tenant)`. The figures are read from rows the database maintains as
issues, their history and their membership change (`DashboardCount`, `DashboardWeek`,
`DashboardDuration`; migration 0009_dashboard_counts), so a dashboard over a million issues
reads a few hundred small rows. Times to acknowledge and to close come from the public history
(`Update` rows of kind "status"): the first move to `acknowledged` (or `closed`) minus the
report time, in whole seconds. Internal or hidden updates are not public data and are not used.
Their medians are read from histograms (`duration_buckets`): exact when the middle values sit
alone in their buckets, else an estimate within about 9 %, and the page says "about". With a
chosen period they are those of the issues reported in the weeks the chart shows, from the
same histograms kept per report week (`DashboardWeekDuration`, migration 0016_targets).

The weekly chart covers `WEEKS` weeks ending this week, unless the portal's latest report or
closure is older than that: then it ends at the data's last week, so an imported history is
drawn where it lies. A chosen period (`start`, `end`) is drawn by week up to `MAX_WEEKS`
weeks, by month beyond. A median over fewer than `MIN_COUNT` values says "not enough data".

Exports carry public data only: never an email, and a reporter's name only when they chose
to show it.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session, load_only, selectinload

from portal.core.localized import localized
from portal.models import (
    STATUSES,
    Body,
    DashboardCount,
    DashboardDuration,
    DashboardWeek,
    DashboardWeekDuration,
    Issue,
    IssuePortal,
    RequestType,
    Tenant,
    utcnow,
)
from portal.reports import duration_buckets
from portal.reports.activity import aware
from portal.tenancy.scoping import public_issues

WEEKS = 12
MAX_WEEKS = 26  # a longer chosen period is drawn month by month
MAX_YEARS = 20  # and a chosen period is at most this long (ending where it was asked to)
MIN_COUNT = 2  # fewer timed issues than this: no median ("not enough data")
EXPORT_FIELDS = (
    "id", "url", "status", "request_type", "request_type_name", "body", "body_name",
    "created_at", "updated_at", "acknowledged_at", "closed_at", "lat", "lon", "address",
    "title", "description", "votes", "reported_by",
)


@dataclass
class WeekBar:
    start: date
    reported: int = 0
    closed: int = 0


@dataclass
class Stats:
    total: int
    by_status: dict[str, int]
    by_type: list[tuple[str, int]]
    median_acknowledge: timedelta | None
    median_close: timedelta | None
    acknowledged_count: int
    closed_count: int
    weeks: list[WeekBar] = field(default_factory=list)
    # True when the median above is estimated from a histogram bucket of several values.
    acknowledge_approximate: bool = False
    close_approximate: bool = False
    by_month: bool = False  # the bars are months (each week counted in its Monday's month)
    first_data_week: date | None = None  # the span the portal's reports and closures cover
    last_data_week: date | None = None
    # True when the medians are of the issues reported in the chosen period's weeks (the
    # chart's), not of all time.
    medians_over_period: bool = False
    # The chart's first and last week (Mondays): what the on-time share is counted over.
    shown_weeks: tuple[date, date] | None = None


def scoped(tenant: Tenant, body: Body | None = None) -> Select:
    """Public issues of the portal, of one body when given."""
    stmt = public_issues(tenant)
    return stmt.where(Issue.body_id == body.id) if body is not None else stmt


def _owned(model: type, tenant: Tenant, body: Body | None) -> list:
    where = [model.tenant_id == tenant.id]
    return where + [model.body_id == body.id] if body is not None else where


def bodies_in(session: Session, tenant: Tenant) -> list[Body]:
    """Bodies with at least one public issue in the portal (for the body picker)."""
    ids = select(DashboardCount.body_id).where(DashboardCount.tenant_id == tenant.id,
                                               DashboardCount.n > 0)
    return list(session.scalars(select(Body).where(Body.id.in_(ids))
                                .options(load_only(Body.id, Body.slug, Body.name))
                                .order_by(Body.slug)))


def week_start(day: date) -> date:
    return day - timedelta(days=day.weekday())


def _by_type(session: Session, tenant: Tenant, locale: str,
             counts: Counter[int]) -> list[tuple[str, int]]:
    """(label, count) per request type, most first; a name two bodies share says whose."""
    names = {type_id: (type_name, body_name) for type_id, type_name, body_name in session.execute(
        select(RequestType.id, RequestType.name, Body.name)
        .join(Body, Body.id == RequestType.body_id).where(RequestType.id.in_(list(counts))))}
    labels = {i: localized(name, locale, tenant.default_language)
              for i, (name, _body) in names.items()}
    repeated = {name for name, n in Counter(labels.values()).items() if n > 1}
    by_label: Counter[str] = Counter()
    for type_id, count in counts.items():
        label = labels[type_id]
        if label in repeated:
            label = f"{label} ({localized(names[type_id][1], locale, tenant.default_language)})"
        by_label[label] += count
    return sorted(by_label.items(), key=lambda item: (-item[1], item[0]))


def data_weeks(session: Session, tenant: Tenant, body: Body | None) -> tuple[date | None,
                                                                              date | None]:
    """The first and last week with a report or a closure, in one statement over the
    portal's weekly rows (a few per body and week, whatever the number of issues)."""
    return tuple(session.execute(
        select(func.min(DashboardWeek.week), func.max(DashboardWeek.week))
        .where(*_owned(DashboardWeek, tenant, body),
               DashboardWeek.event.in_(("reported", "closed")))).one())  # type: ignore[return-value]


def period(now: datetime, weeks: int, last_data: date | None, start: date | None = None,
           end: date | None = None) -> tuple[date, date]:
    """The first and last week the chart shows: the chosen period, or `weeks` weeks ending
    this week, or ending at the data's last week when that lies before them."""
    if start is not None or end is not None:
        last = week_start(end or now.date())
        first = week_start(start) if start else last - timedelta(weeks=weeks - 1)
        first, last = (first, last) if first <= last else (last, first)
        # At most MAX_YEARS of months: a page's size stays bounded whatever is asked for.
        return max(first, week_start(last - timedelta(days=365 * MAX_YEARS))), last
    last = week_start(now.date())
    if last_data is not None and last_data < last - timedelta(weeks=weeks - 1):
        last = last_data
    return last - timedelta(weeks=weeks - 1), last


def _month(day: date) -> date:
    return day.replace(day=1)


def _weeks(session: Session, tenant: Tenant, body: Body | None, first_week: date,
           last_week: date, by_month: bool) -> list[WeekBar]:
    if by_month:
        starts, day = [], _month(first_week)
        while day <= last_week:
            starts.append(day)
            day = (day + timedelta(days=32)).replace(day=1)
    else:
        count = (last_week - first_week).days // 7 + 1
        starts = [first_week + timedelta(weeks=n) for n in range(count)]
    bars = [WeekBar(start) for start in starts]
    index = {bar.start: bar for bar in bars}
    rows = session.execute(
        select(DashboardWeek.event, DashboardWeek.week, func.sum(DashboardWeek.n))
        .where(*_owned(DashboardWeek, tenant, body),
               DashboardWeek.event.in_(("reported", "closed")),
               DashboardWeek.week.between(first_week, last_week))
        .group_by(DashboardWeek.event, DashboardWeek.week))
    for event, week, n in rows:
        if (bar := index.get(_month(week) if by_month else week)) is not None:
            setattr(bar, event, getattr(bar, event) + int(n or 0))
    return bars


def stats(session: Session, tenant: Tenant, locale: str, body: Body | None = None,
          now: datetime | None = None, weeks: int = WEEKS, start: date | None = None,
          end: date | None = None, min_count: int = MIN_COUNT) -> Stats:
    """The portal's figures (one body's, when given), from the maintained rows alone: a few
    small queries on their primary keys, plus the request types' names. The chart covers
    `start`..`end` when given (see the module docstring)."""
    by_status = {s: 0 for s in STATUSES}
    type_counts: Counter[int] = Counter()
    for type_id, status, n in session.execute(
            select(DashboardCount.request_type_id, DashboardCount.status,
                   func.sum(DashboardCount.n))
            .where(*_owned(DashboardCount, tenant, body))
            .group_by(DashboardCount.request_type_id, DashboardCount.status)):
        if n:
            by_status[status] = by_status.get(status, 0) + int(n)
            type_counts[type_id] += int(n)
    by_type = _by_type(session, tenant, locale, +type_counts)

    first_data, last_data = data_weeks(session, tenant, body)
    first_week, last_week = period(aware(now or utcnow()), weeks, last_data, start, end)
    by_month = (last_week - first_week).days // 7 + 1 > max(weeks, MAX_WEEKS)
    if by_month:  # from the first of the month the period starts in: weeks by their Monday
        first_week = _month(start or first_week + timedelta(days=6))
    chosen = start is not None or end is not None
    buckets = _durations(session, tenant, body, (first_week, last_week) if chosen else None)
    ack = _enough(buckets["acknowledged"], min_count)
    done = _enough(buckets["closed"], min_count)

    return Stats(total=sum(by_status.values()), by_status=by_status, by_type=by_type,
                 median_acknowledge=_duration(ack), median_close=_duration(done),
                 acknowledged_count=sum(n for _l, n, _s in buckets["acknowledged"]),
                 closed_count=sum(n for _l, n, _s in buckets["closed"]),
                 weeks=_weeks(session, tenant, body, first_week, last_week, by_month),
                 acknowledge_approximate=bool(ack and not ack.exact),
                 close_approximate=bool(done and not done.exact), by_month=by_month,
                 first_data_week=first_data, last_data_week=last_data,
                 medians_over_period=chosen, shown_weeks=(first_week, last_week))


def _durations(session: Session, tenant: Tenant, body: Body | None,
               weeks: tuple[date, date] | None) -> dict[str, list[tuple[int, int, int]]]:
    """The histograms' (lower bound, count, seconds) per event: of all time, or of the
    issues reported in the weeks `weeks` (the chart's: by week, or by month of Mondays)."""
    model = DashboardDuration if weeks is None else DashboardWeekDuration
    stmt = (select(model.event, model.lower_seconds, func.sum(model.n), func.sum(model.seconds))
            .where(*_owned(model, tenant, body))
            .group_by(model.event, model.lower_seconds))
    if weeks is not None:
        stmt = stmt.where(DashboardWeekDuration.week.between(*weeks))
    buckets: dict[str, list[tuple[int, int, int]]] = {"acknowledged": [], "closed": []}
    for event, lower, n, seconds in session.execute(stmt):
        if event in buckets:
            buckets[event].append((int(lower), int(n or 0), int(seconds or 0)))
    return buckets


def _enough(buckets: list[tuple[int, int, int]], min_count: int) -> duration_buckets.Median | None:
    if sum(n for _lower, n, _seconds in buckets) < min_count:
        return None
    return duration_buckets.median(buckets)


def _duration(value: duration_buckets.Median | None) -> timedelta | None:
    return timedelta(seconds=value.seconds) if value is not None else None


# -- the chart ------------------------------------------------------------------------------


@dataclass
class Bar:
    x: float
    y: float
    width: float
    height: float
    value: int
    series: str


@dataclass
class Chart:
    width: int
    height: int
    bars: list[Bar]
    ticks: list[tuple[float, int]]  # (y, value) for horizontal grid lines
    labels: list[tuple[float, date]]  # (x centre, week start)
    baseline: float
    left: float


def chart(weeks: list[WeekBar], width: int = 640, height: int = 240) -> Chart:
    """Geometry for a grouped bar chart (reported vs closed per week), for an SVG template."""
    left, right, top, bottom = 36.0, 8.0, 12.0, 40.0
    plot_w, plot_h = width - left - right, height - top - bottom
    peak = max([1, *(w.reported for w in weeks), *(w.closed for w in weeks)])
    step = max(1, -(-peak // 4))
    top_value = step * 4
    slot = plot_w / max(len(weeks), 1)
    bar_w = slot * 0.36
    bars, labels = [], []
    for n, week in enumerate(weeks):
        x0 = left + n * slot + slot * 0.14
        for offset, value, series in ((0.0, week.reported, "reported"),
                                      (bar_w, week.closed, "closed")):
            h = plot_h * value / top_value
            bars.append(Bar(round(x0 + offset, 1), round(top + plot_h - h, 1), round(bar_w, 1),
                            round(h, 1), value, series))
        labels.append((round(left + n * slot + slot / 2, 1), week.start))
    ticks = [(round(top + plot_h - plot_h * v / top_value, 1), v)
             for v in range(0, top_value + 1, step)]
    return Chart(width, height, bars, ticks, labels, round(top + plot_h, 1), left)


# -- exports --------------------------------------------------------------------------------


def export_rows(session: Session, tenant: Tenant, locale: str, issue_url,  # noqa: ANN001
                body: Body | None = None, batch: int = 500) -> Iterator[dict]:
    """Public issue records, oldest first, as flat dicts with `EXPORT_FIELDS` keys.

    `issue_url(id)` makes each record's link. Rows are read in batches (keyset paging over the
    portal's membership index), so a large export never sits in memory; the first public
    acknowledgement and closure are the membership row's maintained copies.
    """
    base = scoped(tenant, body).add_columns(IssuePortal.acknowledged_at, IssuePortal.closed_at)
    last_id = 0
    while True:
        rows = session.execute(
            base.where(IssuePortal.issue_id > last_id)
            .options(selectinload(Issue.request_type), selectinload(Issue.body))
            .order_by(IssuePortal.issue_id).limit(batch)).all()
        if not rows:
            return
        for issue, acknowledged, closed in rows:
            yield {
                "id": issue.id,
                "url": issue_url(issue.id),
                "status": issue.status,
                "request_type": issue.request_type.code,
                "request_type_name": localized(issue.request_type.name, locale,
                                               tenant.default_language),
                "body": issue.body.slug,
                "body_name": localized(issue.body.name, locale, tenant.default_language),
                "created_at": _iso(issue.created_at),
                "updated_at": _iso(issue.updated_at),
                "acknowledged_at": _iso(acknowledged),
                "closed_at": _iso(closed),
                "lat": issue.lat,
                "lon": issue.lon,
                "address": issue.address,
                "title": issue.title,
                "description": issue.description,
                "votes": issue.vote_count,
                "reported_by": issue.public_name,
            }
        last_id = rows[-1][0].id
        session.expunge_all()


def _iso(value: datetime | None) -> str:
    return aware(value).astimezone(UTC).isoformat(timespec="seconds") if value else ""
