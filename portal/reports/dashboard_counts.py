"""The dashboard's maintained figures, for bulk loads: count a batch in a few statements.

Database triggers (migrations 0009_dashboard_counts and 0016_targets) keep `DashboardCount`,
`DashboardWeek`, `DashboardDuration` and `DashboardWeekDuration` exact on every write, row by
row. A bulk load of new issues would pay for
that on each of its rows, so it names its issues in `counting_deferred`: the triggers leave
those issues alone, and on the way out their membership rows get their copies (body, request
type, first public acknowledgement and closure) and are counted, one statement per table and
chunk. The SQL here computes weeks, whole seconds and buckets exactly as the triggers do.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager, suppress

from sqlalchemy import (
    BigInteger,
    ColumnElement,
    Date,
    Integer,
    Select,
    cast,
    delete,
    extract,
    func,
    literal,
    select,
    update,
)
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from portal.core import bulk
from portal.core.db import is_sqlite
from portal.models import (
    DashboardCount,
    DashboardDeferral,
    DashboardDuration,
    DashboardDurationBucket,
    DashboardWeek,
    DashboardWeekDuration,
    Issue,
    IssuePortal,
    Update,
)

EVENTS = ("acknowledged", "closed")
CHUNK = bulk.IDS_PER_STATEMENT


@contextmanager
def counting_deferred(session: Session, issue_ids: list[int]) -> Iterator[None]:
    """For bulk loads of new issues (no membership rows yet): whatever is written inside for
    these issues (membership, history) is left alone by the dashboard triggers and counted on
    the way out, set-based. Other issues' writes are counted as always meanwhile."""
    ids = sorted(set(issue_ids))
    # One statement for all (`portal.core.bulk`), not one per issue.
    bulk.insert_rows(session, DashboardDeferral.__table__, [{"issue_id": i} for i in ids])
    try:
        yield
        session.flush()
        count_new_issues(session, ids)
    finally:
        # Never leave a deferral behind, even if the caller goes on after an error: the issue
        # would go uncounted for good.
        with suppress(Exception):
            for start in range(0, len(ids), CHUNK):
                session.execute(delete(DashboardDeferral).where(bulk.one_of(
                    session, DashboardDeferral.issue_id, ids[start:start + CHUNK])))


def count_new_issues(session: Session, issue_ids: list[int]) -> None:
    """Fill these issues' membership copies (rows written without `body_id`; a writer that
    sets it sets the first times too, as the importer does) and add their visible rows to the
    dashboard tables. Their rows must be uncounted so far (deferred, or never counted)."""
    for start in range(0, len(issue_ids), CHUNK):
        chunk = issue_ids[start:start + CHUNK]
        _fill(session, chunk)
        _count(session, chunk)


def _first(event: str) -> ColumnElement:
    return (select(func.min(Update.created_at))
            .where(Update.issue_id == IssuePortal.issue_id, Update.kind == "status",
                   Update.new_status == event, Update.internal.is_(False),
                   Update.hidden.is_(False))
            .scalar_subquery())


def _fill(session: Session, chunk: list[int]) -> None:
    def of_issue(column) -> ColumnElement:  # noqa: ANN001 - an Issue column
        return select(column).where(Issue.id == IssuePortal.issue_id).scalar_subquery()

    session.execute(
        update(IssuePortal)
        .where(bulk.one_of(session, IssuePortal.issue_id, chunk), IssuePortal.body_id.is_(None))
        .values(body_id=of_issue(Issue.body_id), request_type_id=of_issue(Issue.request_type_id),
                acknowledged_at=_first("acknowledged"), closed_at=_first("closed"))
        .execution_options(synchronize_session=False))


def week_of(session: Session, value) -> ColumnElement:  # noqa: ANN001 - a datetime column
    """The Monday (UTC) starting the week of `value`, as the triggers compute it."""
    if is_sqlite(session):  # the text's seconds only: SQLite rounds fractions to milliseconds
        return func.date(func.substr(value, 1, 19), "-6 days", "weekday 1")
    return cast(func.date_trunc("week", func.timezone("UTC", value)), Date)


def _epoch(session: Session, value) -> ColumnElement:  # noqa: ANN001 - a datetime column
    if is_sqlite(session):
        return cast(func.strftime("%s", func.substr(value, 1, 19)), Integer)
    return cast(func.floor(extract("epoch", value)), BigInteger)


def seconds_between(session: Session, since, until) -> ColumnElement:  # noqa: ANN001
    """Whole seconds from `since` to `until` (each truncated to its second), at least 0."""
    difference = _epoch(session, until) - _epoch(session, since)
    return (func.max if is_sqlite(session) else func.greatest)(0, difference)


def _bucket(seconds: ColumnElement) -> ColumnElement:
    return (select(func.max(DashboardDurationBucket.lower_seconds))
            .where(DashboardDurationBucket.lower_seconds <= seconds).scalar_subquery())


def _visible(session: Session, chunk: list[int]) -> list[ColumnElement]:
    return [bulk.one_of(session, IssuePortal.issue_id, chunk), IssuePortal.hidden.is_(False),
            IssuePortal.body_id.is_not(None), IssuePortal.created_at.is_not(None)]


def _add(session: Session, model: type, rows: Select, keys: list[str], sums: list[str]) -> None:
    upsert = sqlite_insert if is_sqlite(session) else postgresql_insert
    stmt = upsert(model).from_select([*keys, *sums], rows)
    table = model.__table__
    session.execute(stmt.on_conflict_do_update(
        index_elements=keys,
        set_={s: table.c[s] + stmt.excluded[s] for s in sums}))


def _count(session: Session, chunk: list[int]) -> None:
    ip = IssuePortal
    _add(session, DashboardCount,
         select(ip.tenant_id, ip.body_id, ip.request_type_id, ip.status, func.count())
         .where(*_visible(session, chunk))
         .group_by(ip.tenant_id, ip.body_id, ip.request_type_id, ip.status),
         ["tenant_id", "body_id", "request_type_id", "status"], ["n"])
    # Computed values are grouped on from a subquery: PostgreSQL would not see two copies of
    # an expression with parameters in it as the same expression.
    for event, at in (("reported", ip.created_at), ("closed", ip.closed_at)):
        rows = (select(ip.tenant_id, ip.body_id, week_of(session, at).label("week"))
                .where(*_visible(session, chunk), at.is_not(None)).subquery())
        _add(session, DashboardWeek,
             select(rows.c.tenant_id, rows.c.body_id, literal(event), rows.c.week, func.count())
             .group_by(rows.c.tenant_id, rows.c.body_id, rows.c.week),
             ["tenant_id", "body_id", "event", "week"], ["n"])
    for event in EVENTS:
        at = getattr(ip, f"{event}_at")
        seconds = seconds_between(session, ip.created_at, at)
        rows = (select(ip.tenant_id, ip.body_id, seconds.label("seconds"),
                       _bucket(seconds).label("lower_seconds"))
                .where(*_visible(session, chunk), at.is_not(None)).subquery())
        _add(session, DashboardDuration,
             select(rows.c.tenant_id, rows.c.body_id, literal(event), rows.c.lower_seconds,
                    func.count(), func.sum(rows.c.seconds))
             .group_by(rows.c.tenant_id, rows.c.body_id, rows.c.lower_seconds),
             ["tenant_id", "body_id", "event", "lower_seconds"], ["n", "seconds"])
        # The same, per week of the report (migration 0016): medians over a period.
        rows = (select(ip.tenant_id, ip.body_id, week_of(session, ip.created_at).label("week"),
                       seconds.label("seconds"), _bucket(seconds).label("lower_seconds"))
                .where(*_visible(session, chunk), at.is_not(None)).subquery())
        _add(session, DashboardWeekDuration,
             select(rows.c.tenant_id, rows.c.body_id, literal(event), rows.c.week,
                    rows.c.lower_seconds, func.count(), func.sum(rows.c.seconds))
             .group_by(rows.c.tenant_id, rows.c.body_id, rows.c.week, rows.c.lower_seconds),
             ["tenant_id", "body_id", "event", "week", "lower_seconds"], ["n", "seconds"])
