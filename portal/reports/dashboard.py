"""Dashboard figures and open-data exports, per portal and optionally per body.

Everything starts from `scoping.public_issues(tenant)`: what a portal's dashboard counts is
exactly what its map shows. Times to acknowledge and to close come from the public history
(`Update` rows of kind "status"): the first move to `acknowledged` (or `closed`) minus the
report time. Internal or hidden updates are not public data and are not used.

Exports carry public data only: never an email, and a reporter's name only when they chose
to show it.
"""

from __future__ import annotations

import statistics
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session, selectinload

from portal.core.localized import localized
from portal.models import STATUSES, Body, Issue, RequestType, Tenant, Update, utcnow
from portal.reports.activity import aware
from portal.tenancy.scoping import public_issues

WEEKS = 12
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


def scoped(tenant: Tenant, body: Body | None = None) -> Select:
    """Public issues of the portal, of one body when given."""
    stmt = public_issues(tenant)
    return stmt.where(Issue.body_id == body.id) if body is not None else stmt


def bodies_in(session: Session, tenant: Tenant) -> list[Body]:
    """Bodies with at least one public issue in the portal (for the body picker)."""
    ids = public_issues(tenant).with_only_columns(Issue.body_id).distinct().subquery()
    return list(session.scalars(select(Body).where(Body.id.in_(select(ids.c.body_id)))
                                .order_by(Body.slug)))


def first_status_times(session: Session, issue_ids: Select) -> dict[str, dict[int, datetime]]:
    """{"acknowledged": {issue id: first time}, "closed": {...}} from the public history."""
    rows = session.execute(
        select(Update.issue_id, Update.new_status, func.min(Update.created_at))
        .where(Update.issue_id.in_(issue_ids), Update.kind == "status",
               Update.new_status.in_(("acknowledged", "closed")),
               Update.internal.is_(False), Update.hidden.is_(False))
        .group_by(Update.issue_id, Update.new_status)
    ).all()
    found: dict[str, dict[int, datetime]] = {"acknowledged": {}, "closed": {}}
    for issue_id, status, at in rows:
        found[status][issue_id] = aware(at)
    return found


def _median(values: list[float]) -> timedelta | None:
    return timedelta(seconds=statistics.median(values)) if values else None


def week_start(day: date) -> date:
    return day - timedelta(days=day.weekday())


def stats(session: Session, tenant: Tenant, locale: str, body: Body | None = None,
          now: datetime | None = None, weeks: int = WEEKS) -> Stats:
    base = scoped(tenant, body)
    ids = base.with_only_columns(Issue.id).scalar_subquery()
    by_status = {s: 0 for s in STATUSES}
    for status, count in session.execute(
            base.with_only_columns(Issue.status, func.count()).group_by(Issue.status)):
        by_status[status] = count
    type_rows = session.execute(
        base.with_only_columns(Issue.request_type_id, func.count())
        .group_by(Issue.request_type_id)).all()
    types = {rt.id: rt for rt in session.scalars(
        select(RequestType).where(RequestType.id.in_([r[0] for r in type_rows]))
        .options(selectinload(RequestType.body)))}
    labels = {i: localized(rt.name, locale, tenant.default_language) for i, rt in types.items()}
    repeated = {name for name, n in Counter(labels.values()).items() if n > 1}
    by_type_counter: Counter[str] = Counter()
    for type_id, count in type_rows:
        label = labels[type_id]
        if label in repeated:
            body_name = localized(types[type_id].body.name, locale, tenant.default_language)
            label = f"{label} ({body_name})"
        by_type_counter[label] += count
    by_type = sorted(by_type_counter.items(), key=lambda item: (-item[1], item[0]))

    created = {i: aware(c) for i, c in session.execute(
        base.with_only_columns(Issue.id, Issue.created_at))}
    firsts = first_status_times(session, ids)
    ack = [(t - created[i]).total_seconds() for i, t in firsts["acknowledged"].items()
           if i in created]
    done = [(t - created[i]).total_seconds() for i, t in firsts["closed"].items()
            if i in created]

    now = aware(now or utcnow())
    first_week = week_start(now.date()) - timedelta(weeks=weeks - 1)
    bars = [WeekBar(first_week + timedelta(weeks=n)) for n in range(weeks)]
    index = {bar.start: bar for bar in bars}
    for at in created.values():
        if (bar := index.get(week_start(at.date()))) is not None:
            bar.reported += 1
    for at in firsts["closed"].values():
        if (bar := index.get(week_start(at.date()))) is not None:
            bar.closed += 1
    return Stats(total=sum(by_status.values()), by_status=by_status, by_type=by_type,
                 median_acknowledge=_median(ack), median_close=_median(done),
                 acknowledged_count=len(ack), closed_count=len(done), weeks=bars)


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

    `issue_url(id)` makes each record's link. Rows are read in batches (keyset paging), so a
    large export does not sit in memory.
    """
    base = scoped(tenant, body)
    last_id = 0
    while True:
        issues = session.scalars(
            base.where(Issue.id > last_id)
            .options(selectinload(Issue.request_type), selectinload(Issue.body))
            .order_by(Issue.id).limit(batch)).all()
        if not issues:
            return
        firsts = first_status_times(session, select(Issue.id).where(
            Issue.id.in_([i.id for i in issues])))
        for issue in issues:
            acknowledged = firsts["acknowledged"].get(issue.id)
            closed = firsts["closed"].get(issue.id)
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
        last_id = issues[-1].id
        session.expunge_all()


def _iso(value: datetime | None) -> str:
    return aware(value).astimezone(UTC).isoformat(timespec="seconds") if value else ""
