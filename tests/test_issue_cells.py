"""The cluster cells and the membership rows' copies stay exact whatever writes the issues:
reports, status changes, hiding, deletion, a portal's new area, bulk statements, the importer."""

from __future__ import annotations

import importlib.util

from sqlalchemy import delete, select, update

from portal.core import grid
from portal.core.migrate import MIGRATIONS
from portal.models import Issue, IssuePortal
from portal.reports import clusters
from portal.reports.status import change_status
from portal.staff.moderation import hide_issue, unhide_issue
from portal.tenancy import membership
from tests.cells_support import expected_cells, many_issues, stored_cells
from tests.factories import file_report, tenant


def test_the_migration_writes_triggers_for_the_bands_the_code_reads():
    path = MIGRATIONS / "versions" / "0008_issue_clusters.py"
    spec = importlib.util.spec_from_file_location("migration_0008", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert module.BANDS == grid.BANDS
    assert all(float(module._scale(b)) == grid.scale(b) for b in grid.BANDS)


def test_a_report_is_counted_in_every_band_of_every_portal_it_shows_on(world, session):
    file_report(session, "northside", 1.2, 1.0)  # northside and riverside overlap here
    session.flush()
    cells = stored_cells(session)
    assert cells == expected_cells(session)
    portals = {key[0] for key in cells}
    assert portals == {world.portals["northside"].id, world.portals["riverside"].id}
    assert len(cells) == 2 * len(grid.BANDS)
    assert clusters.status_counts(session, world.portals["northside"].id) == {"open": 1}


def test_copies_on_the_membership_row_follow_the_issue(world, session):
    issue = file_report(session, "northside", 2.5, 1.5)
    session.flush()
    change_status(session, issue, "acknowledged", author="Works")
    session.flush()
    row = session.scalars(select(IssuePortal).where(IssuePortal.issue_id == issue.id)).one()
    assert (row.lat, row.lon, row.status, row.hidden) == (2.5, 1.5, "acknowledged", False)
    assert row.created_at == issue.created_at.replace(tzinfo=row.created_at.tzinfo)


def test_status_hiding_and_deletion_move_the_counts(world, session):
    north = world.portals["northside"]
    issues = [file_report(session, "northside", 2.0 + i / 10, 0.5 + i / 10) for i in range(4)]
    session.flush()
    change_status(session, issues[0], "closed", author="Works")
    hide_issue(session, issues[1], north, None, "spam")
    session.flush()
    assert clusters.status_counts(session, north.id) == {"open": 2, "closed": 1}
    unhide_issue(session, issues[1], north, None, "not spam after all")
    session.delete(issues[2])
    session.flush()
    assert clusters.status_counts(session, north.id) == {"open": 2, "closed": 1}
    assert stored_cells(session) == expected_cells(session)


def test_bulk_statements_and_a_new_portal_area_keep_the_cells_exact(world, session):
    north = world.portals["northside"]
    many_issues(session, 60, (0.1, 1.1, 1.9, 2.9))
    # A bulk UPDATE no ORM flush sees, and a bulk DELETE.
    session.execute(update(Issue).where(Issue.lat > 2.5).values(status="closed"))
    session.execute(update(Issue).where(Issue.lon < 0.5).values(lat=Issue.lat - 0.05))
    session.execute(delete(Issue).where(Issue.lat < 1.3))
    session.flush()
    assert stored_cells(session) == expected_cells(session)
    # The portal shrinks to its northern half: membership is recomputed, the cells follow.
    north.min_lat = 2.0
    north.area_geojson = '{"type":"Polygon","coordinates":[[[0,2],[2,2],[2,3],[0,3],[0,2]]]}'
    membership.refresh_portal(session, north)
    session.flush()
    assert stored_cells(session) == expected_cells(session)
    in_north = session.scalar(select(IssuePortal.issue_id).where(
        IssuePortal.tenant_id == north.id, IssuePortal.lat < 2.0).limit(1))
    assert in_north is None


def test_the_importer_path_is_counted_too(world, session, tmp_path):
    from portal.data.importer import import_issues

    csv = tmp_path / "records.csv"
    csv.write_text("row_id,created_at,summary,description,lat,lng,status\n"
                   + "".join(f"R{n},2025-03-0{1 + n % 9}T10:00:00,Pothole,hole {n},"
                             f"{1.2 + n / 100},{0.4 + n / 100},open\n" for n in range(30)))
    summary = import_issues(session, csv, tenant(session, "northside"), fmt=None)
    session.flush()
    assert summary.imported == 30
    assert clusters.count(session, world.portals["northside"].id) == 30
    assert stored_cells(session) == expected_cells(session)
