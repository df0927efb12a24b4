"""The dashboard's maintained figures stay exact whatever writes the issues, their history or
their membership; the page reads only them; the median estimate keeps its error bound."""

from __future__ import annotations

import importlib.util
import random
import re
import statistics
from datetime import UTC, datetime, timedelta

from sqlalchemy import delete, event, insert, select, update

from portal.core.migrate import MIGRATIONS
from portal.data import import_mapping
from portal.models import Body, DashboardDeferral, Issue, IssuePortal, RequestType, Update
from portal.reports import dashboard, duration_buckets
from portal.reports.status import add_comment, change_status
from portal.staff import triage
from portal.staff.moderation import hide_issue, set_update_hidden, unhide_issue
from portal.tenancy import membership
from tests.cells_support import expected_cells, stored_cells
from tests.dashboard_support import expected, stored
from tests.factories import file_report, tenant
from tests.import_support import assert_median, whole_seconds

T0 = datetime(2025, 3, 3, 9, 0, tzinfo=UTC)  # a Monday


def assert_exact(session) -> None:  # noqa: ANN001
    session.flush()
    have, want = stored(session), expected(session)
    for table in want:
        assert have[table] == want[table], table


def _type(session, body: str, code: str) -> RequestType:  # noqa: ANN001
    return session.scalars(select(RequestType).join(Body).where(
        Body.slug == body, RequestType.code == code)).one()


def test_the_migration_buckets_durations_as_the_code_reads_them():
    path = MIGRATIONS / "versions" / "0009_dashboard_counts.py"
    spec = importlib.util.spec_from_file_location("migration_0009", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert module.BOUNDS == duration_buckets.BOUNDS


def test_every_kind_of_write_keeps_the_figures_exact(world, session):
    north, river = world.portals["northside"], world.portals["riverside"]
    rng = random.Random(7)
    places = [(1.2, 1.0), (1.3, 0.4), (2.5, 1.5), (0.7, 0.7), (0.2, 1.8), (1.45, 1.9)]
    kinds = ["city-works/pothole", "city-works/streetlight", "state-roads/highway-sign"]
    issues = []
    for n in range(24):
        lat, lon = places[n % len(places)]
        portal = "northside" if lat >= 1.0 else "riverside"
        issue = file_report(session, portal, lat + n / 1000, lon, request_type=kinds[n % 3])
        issue.created_at = T0 + timedelta(days=n, minutes=rng.randrange(600),
                                          microseconds=999_999 if n % 5 == 0 else 0)
        issues.append(issue)
    assert_exact(session)

    # Status history: public and internal moves, at known times (edited after the fact too).
    for n, issue in enumerate(issues[:18]):
        ack = change_status(session, issue, "acknowledged", author="Works",
                            internal=n % 6 == 0)
        ack.created_at = issue.created_at + timedelta(hours=1 + n * 3, seconds=n)
        if n % 2:
            done = change_status(session, issue, "closed", author="Works")
            done.created_at = issue.created_at + timedelta(days=n % 4, hours=n)
    add_comment(session, issues[20], "Seen it too", author="Neighbour")
    assert_exact(session)
    assert sum(stored(session)["weeks"].values()) > 0

    # Reopened and closed again: the first closure stays the one counted.
    change_status(session, issues[1], "open", author="Works")
    later = change_status(session, issues[1], "closed", author="Works")
    later.created_at = issues[1].created_at + timedelta(days=40)
    # Moderation hides and shows issues and history rows.
    hide_issue(session, issues[2], north, None, "spam")
    hide_issue(session, issues[3], river, None, "spam")
    unhide_issue(session, issues[3], river, None, "fine after all")
    first_ack = session.scalars(select(Update).where(
        Update.issue_id == issues[5].id, Update.new_status == "acknowledged")).one()
    set_update_hidden(session, first_ack, True, north, None, "wrong issue")
    first_close = session.scalars(select(Update).where(
        Update.issue_id == issues[7].id, Update.new_status == "closed")).one()
    set_update_hidden(session, first_close, True, north, None, "mistake")
    set_update_hidden(session, first_close, False, north, None, "it was right")
    assert_exact(session)

    # Another body and request type, through triage and through the ORM.
    triage.reassign(session, issues[0], world.bodies["state-roads"], triage.Actor(None))
    issues[4].request_type_id = _type(session, "city-works", "streetlight").id
    # A report time moved, and a status update moved to another issue.
    issues[9].created_at = issues[9].created_at - timedelta(days=3)
    moved = session.scalars(select(Update).where(
        Update.issue_id == issues[11].id, Update.kind == "status")).first()
    moved.issue_id = issues[12].id
    assert_exact(session)

    # Bulk statements no ORM flush sees.
    session.execute(update(Issue).where(Issue.id.in_([i.id for i in issues[13:16]]))
                    .values(status="archived"))
    session.execute(update(Update).where(Update.issue_id == issues[15].id)
                    .values(internal=True))
    session.execute(update(Issue).where(Issue.id == issues[16].id)
                    .values(hidden=True, status="open"))
    session.execute(delete(Update).where(Update.issue_id == issues[17].id,
                                         Update.kind == "status"))
    session.execute(update(Update).where(Update.issue_id == issues[13].id,
                                         Update.kind == "status")
                    .values(created_at=T0 - timedelta(days=2)))  # before its report: 0 s
    assert_exact(session)

    # Deleted issues, by the ORM and in bulk.
    session.delete(issues[6])
    session.flush()
    session.execute(delete(Issue).where(Issue.id == issues[8].id))
    assert_exact(session)

    # The portal's area shrinks, then grows back: membership is recomputed, figures follow.
    area = north.area_geojson
    north.min_lat = 1.4
    north.area_geojson = '{"type":"Polygon","coordinates":[[[0,1.4],[2,1.4],[2,3],[0,3],[0,1.4]]]}'
    membership.refresh_portal(session, north)
    assert_exact(session)
    north.min_lat, north.area_geojson = 1.0, area
    membership.refresh_portal(session, north)
    assert_exact(session)
    assert dashboard.stats(session, north, "en").total == sum(
        n for (t, *_rest), n in expected(session)["counts"].items() if t == north.id)


def test_many_rows_in_one_statement_are_counted_as_one_at_a_time(world, session):
    """One INSERT of many history rows (for several issues, one of them twice) and one of
    many membership rows, with nothing deferred: counted whole, once each (PostgreSQL counts
    a statement's new rows together, migration 0021)."""
    issues = [file_report(session, "northside", 1.2 + n / 100, 1.0) for n in range(4)]
    for n, issue in enumerate(issues):
        issue.created_at = T0 + timedelta(days=n)
    session.flush()
    session.execute(insert(Update), [
        {"issue_id": issue.id, "kind": "status", "old_status": "open",
         "new_status": new, "author_name": "Works", "author_role": "staff", "text": "",
         "internal": False, "hidden": False,
         "created_at": issue.created_at + timedelta(hours=hours)}
        for issue, new, hours in ((issues[0], "acknowledged", 5), (issues[0], "closed", 30),
                                  (issues[1], "closed", 2), (issues[2], "acknowledged", 1))])
    assert_exact(session)
    # The membership rows go, then come back in one statement of their two keys.
    links = [{"issue_id": i.id, "tenant_id": t} for i in issues
             for t in session.scalars(select(IssuePortal.tenant_id)
                                      .where(IssuePortal.issue_id == i.id))]
    session.execute(delete(IssuePortal).where(IssuePortal.issue_id.in_([i.id for i in issues])))
    assert_exact(session)
    session.execute(insert(IssuePortal), links)
    assert_exact(session)
    assert stored_cells(session) == expected_cells(session)


def test_the_importer_counts_its_batches_and_leaves_no_deferral(world, session, tmp_path):
    from portal.data.importer import import_issues  # data sits above reports

    north = tenant(session, "northside")
    before = file_report(session, "northside", 2.2, 1.1)
    change_status(session, before, "acknowledged", author="Works")
    statuses = ["open", "closed", "acknowledged", "in progress", "closed"]
    csv = tmp_path / "records.csv"

    def row(n: int) -> str:
        status = statuses[n % 5]
        moved = f"2025-04-01T{n % 24:02d}:00:00"  # each record's own, dated move
        ack = moved if status in ("acknowledged", "in progress") else ""
        closed = moved if status == "closed" else ""
        return (f"R{n},2025-03-{1 + n % 28:02d}T10:00:00,{ack},{closed},"
                f"{'Streetlight' if n % 3 else 'Pothole'},thing {n},{1.2 + n / 100},"
                f"{0.4 + n / 100},{status}\n")

    csv.write_text("row_id,created_at,acknowledged_at,closed_at,summary,description,lat,lng,"
                   "status\n" + "".join(row(n) for n in range(70)))
    mapping = import_mapping.parse({
        "source": {"name": "records"},
        "columns": {"id": "row_id", "created": "created_at", "acknowledged": "acknowledged_at",
                    "closed": "closed_at", "title": "summary", "description": "description",
                    "lat": "lat", "lon": "lng", "status": "status", "request_type": "summary"},
        "statuses": {"open": "open", "closed": "closed", "acknowledged": "acknowledged",
                     "in progress": "acknowledged"},
        "request_types": {"map": {"Streetlight": "streetlight", "Pothole": "pothole"}}})
    summary = import_issues(session, csv, north, mapping=mapping, batch_size=25)
    assert summary.imported == 70
    assert session.scalar(select(DashboardDeferral.issue_id).limit(1)) is None
    assert_exact(session)
    figures = dashboard.stats(session, north, "en")
    assert figures.total == 71
    assert figures.closed_count == 28 and figures.acknowledged_count == 29
    closings = sorted(whole_seconds(datetime(2025, 3, 1 + n % 28, 10, tzinfo=UTC),
                                    datetime(2025, 4, 1, n % 24, tzinfo=UTC))
                      for n in range(70) if statuses[n % 5] == "closed")
    assert_median(figures.median_close, figures.close_approximate, closings)
    # After the load the imported issues are counted like any other.
    imported = session.scalars(select(Issue).where(Issue.external_id.is_not(None))
                               .order_by(Issue.id)).all()  # R0 first: an open one
    change_status(session, imported[0], "closed", author="Works")
    hide_issue(session, imported[1], north, None, "spam")
    assert_exact(session)


def test_stats_read_only_the_maintained_rows(world, db, session):
    for n in range(5):
        issue = file_report(session, "northside", 1.2 + n / 10, 1.0)
        change_status(session, issue, "closed", author="Works")
    session.commit()
    statements: list[str] = []

    def record(_conn, _cursor, statement, *_args) -> None:  # noqa: ANN001
        statements.append(statement.lower())

    event.listen(db.engine, "before_cursor_execute", record)
    try:
        figures = dashboard.stats(session, world.portals["northside"], "en")
        dashboard.bodies_in(session, world.portals["northside"])
    finally:
        event.remove(db.engine, "before_cursor_execute", record)
    assert figures.total == 5 and figures.closed_count == 5
    assert len(statements) <= 6
    for statement in statements:
        assert not re.search(r"\b(issues|updates|issue_portals)\b", statement), statement


def test_the_median_estimate_stays_within_a_bucket_of_the_truth():
    rng = random.Random(3)
    bound = duration_buckets.RELATIVE_WIDTH
    for trial in range(300):
        size = rng.choice([1, 2, 3, 10, 101, 1000])
        spread = rng.choice([60, 3600, 86400, 30 * 86400])
        values = [int(rng.lognormvariate(0, 1.5) * spread) for _ in range(size)]
        if trial % 7 == 0:
            values += [values[0]] * 50  # many equal values
        buckets: dict[int, list[int]] = {}
        for v in values:
            buckets.setdefault(duration_buckets.lower_bound(v), [0, 0])
            buckets[duration_buckets.lower_bound(v)][0] += 1
            buckets[duration_buckets.lower_bound(v)][1] += v
        estimate = duration_buckets.median((lo, n, s) for lo, (n, s) in buckets.items())
        truth = statistics.median(values)
        assert abs(estimate.seconds - truth) <= bound * truth + 1, (values, estimate)
        if estimate.exact:
            assert estimate.seconds == truth


def test_a_large_dashboard_says_its_medians_are_about(client, db, world):
    with db.session() as s:
        rng = random.Random(5)
        for n in range(40):
            issue = file_report(s, "northside", 1.2 + n / 100, 1.0)
            issue.created_at = T0
            ack = change_status(s, issue, "acknowledged", author="Works")
            ack.created_at = T0 + timedelta(hours=5, minutes=rng.randrange(50))
    page = client.get("/dashboard")
    assert page.status_code == 200
    figure = page.text.split('data-figure="median-acknowledge">')[1].split("<")[0]
    assert figure == "about 5 hours"
    assert 'data-figure="median-close">not enough data<' in page.text


def test_an_export_holds_one_batch_at_a_time(world, session):
    issues = [file_report(session, "northside", 1.2 + n / 100, 1.0) for n in range(7)]
    change_status(session, issues[3], "closed", author="Works")
    session.commit()
    ids = [i.id for i in issues]
    session.expunge_all()  # what the reports above left in the session
    held, rows = [], []
    for row in dashboard.export_rows(session, world.portals["northside"], "en", str, batch=2):
        rows.append(row)
        held.append(sum(isinstance(o, Issue) for o in session.identity_map.values()))
    assert [r["id"] for r in rows] == sorted(ids)
    assert max(held) == 2
    assert [r["closed_at"] != "" for r in rows] == [n == 3 for n in range(7)]
