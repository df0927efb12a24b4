"""Importing historical records: what lands, what is skipped and why, and that it stays put.

The small files here are invented rows on the test-only world (see tests/worlds.py); one test
marked `shared_data` imports the real New Haven SeeClickFix export into the demo city.
"""

from __future__ import annotations

import csv
import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import func, select

from portal.data.importer import detect_format, import_issues
from portal.models import Issue, IssuePortal, OutboxMessage, Tenant, Update
from portal.reports import search
from portal.tenancy import membership, tenant_files
from portal.tenancy.scoping import public_issues
from tests.factories import tenant
from tests.worlds import box

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"
SCF_HEADER = ["row_id", "created_at", "status", "summary", "description", "rating", "lat", "lng"]
SCF_ROWS = [
    ["1", "2014-05-01T10:00:00-04:00", "Open", "Pothole", "Deep hole by the corner", "2",
     "1.2", "0.5"],
    ["2", "2013-11-20T08:30:00-05:00", "Acknowledged", "Street light out", "", "0",
     "1.8", "1.5"],
    ["3", "2012-02-02T12:00:00-05:00", "Closed", "Graffiti", "Paint on the wall", "1",
     "2.5", "1.0"],
    ["4", "2014-01-01T00:00:00-05:00", "Open", "Pothole", "Far away", "0", "4.5", "4.5"],
    ["5", "2014-01-02T00:00:00-05:00", "Open", "Pothole", "No place", "0", "", ""],
    ["6", "2014-01-03T00:00:00-05:00", "Open", "Pothole", "Bad place", "0", "abc", "0.5"],
    ["7", "2014-01-04T00:00:00-05:00", "Open", "Pothole", "Not a latitude", "0", "95", "0.5"],
    ["1", "2014-05-01T10:00:00-04:00", "Open", "Pothole", "Deep hole by the corner", "2",
     "1.2", "0.5"],
    ["8", "2014-01-05T00:00:00-05:00", "Open", "", "", "0", "1.2", "0.5"],
    ["9", "yesterday", "Open", "Pothole", "Undated", "0", "1.2", "0.5"],
]
BOSTON_HEADER = ["case_enquiry_id", "open_dt", "sla_target_dt", "closed_dt", "on_time",
                 "case_status", "closure_reason", "case_title", "subject", "reason", "type",
                 "queue", "department", "location", "latitude", "longitude", "source"]


def boston_row(case_id: str, opened: str, title: str, kind: str, lat: str, lon: str) -> list[str]:
    return [case_id, opened, "", "", "ONTIME", "Open", " ", title, "Public Works Department",
            "Street Lights", kind, "PWDx", "PWDx", "1 Example St  Testville", lat, lon, "App"]


BOSTON_ROWS = [
    boston_row("900001", "2025-01-24 03:24:56", "Street Light Outages", "Street Light Outages",
               "1.2", "0.5"),
    boston_row("900002", "2025-02-01 12:00:00", "Sidewalk Repair (Make Safe)",
               "Sidewalk Repair (Make Safe)", "2.5", "1.0"),
    boston_row("900003", "2025-02-02 12:00:00", "Street Light Outages", "Street Light Outages",
               "4.5", "4.5"),
    boston_row("900004", "2025-02-03 12:00:00", "Street Light Outages", "Street Light Outages",
               "", ""),
]


def write_csv(path: Path, header: list[str], rows: list[list[str]]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def naive_utc(when: datetime) -> datetime:
    """Compare datetimes the same way on SQLite (naive) and PostgreSQL (aware)."""
    return when.astimezone(UTC).replace(tzinfo=None) if when.tzinfo else when


def by_external(session) -> dict[str, Issue]:
    return {i.external_id: i for i in session.scalars(select(Issue))}


def test_seeclickfix_rows_are_imported_or_skipped_with_a_reason(world, session, tmp_path):
    path = write_csv(tmp_path / "scf.csv", SCF_HEADER, SCF_ROWS)
    progress: list[tuple[int, int]] = []
    summary = import_issues(session, path, tenant(session, "northside"),
                            progress=lambda done, total: progress.append((done, total)))

    assert summary.fmt == "seeclickfix"
    assert summary.imported == 3
    assert summary.skipped == {
        "outside the portal's area": 1,
        "missing or bad coordinates": 3,
        "duplicate": 1,
        "empty description": 1,
        "missing or bad date": 1,
    }
    assert progress[-1] == (len(SCF_ROWS), len(SCF_ROWS))
    assert any("Imported 3" in line for line in summary.lines())

    issues = by_external(session)
    pothole, light, graffiti = (issues[f"seeclickfix:{n}"] for n in (1, 2, 3))
    assert (pothole.request_type.code, pothole.body.slug) == ("pothole", "city-works")
    assert (light.request_type.code, light.body.slug) == ("streetlight", "city-works")
    assert light.description == "Street light out"  # summary stands in for an empty text
    # No graffiti type there: the first type offered at that place (the state's) is used.
    assert graffiti.body.slug == "state-roads"
    assert [i.status for i in (pothole, light, graffiti)] == ["open", "acknowledged", "closed"]
    assert naive_utc(pothole.created_at) == datetime(2014, 5, 1, 14, 0)


def test_imported_issues_get_history_membership_and_search_but_no_mail(
        world, session, tmp_path):
    path = write_csv(tmp_path / "scf.csv", SCF_HEADER, SCF_ROWS)
    import_issues(session, path, tenant(session, "northside"))
    issues = by_external(session)

    for issue in issues.values():
        kinds = session.scalars(select(Update.kind).where(Update.issue_id == issue.id)).all()
        assert kinds[0] == "created"
        assert len(kinds) == (1 if issue.status == "open" else 2)
        stored = set(session.scalars(
            select(IssuePortal.tenant_id).where(IssuePortal.issue_id == issue.id)))
        assert stored == {t.id for t in membership.portals_containing(
            session, issue.lat, issue.lon)}
    overlap = issues["seeclickfix:1"]  # lat 1.2 lies in both northside and riverside
    for slug in ("northside", "riverside"):
        assert overlap.id in session.scalars(public_issues(tenant(session, slug))
                                             .with_only_columns(Issue.id)).all()
    found = session.scalars(search.matching(session, select(Issue), "corner")).all()
    assert [i.external_id for i in found] == ["seeclickfix:1"]
    assert session.scalar(select(func.count(OutboxMessage.id))) == 0


def test_importing_the_same_file_again_adds_nothing(world, session, tmp_path):
    path = write_csv(tmp_path / "scf.csv", SCF_HEADER, SCF_ROWS)
    northside = tenant(session, "northside")
    import_issues(session, path, northside)
    again = import_issues(session, path, northside, batch_size=2)
    assert again.imported == 0
    assert again.skipped["duplicate"] == 4
    assert session.scalar(select(func.count(Issue.id))) == 3


def test_boston_311_rows_are_detected_and_mapped_by_type(world, session, tmp_path):
    path = write_csv(tmp_path / "boston.csv", BOSTON_HEADER, BOSTON_ROWS)
    summary = import_issues(session, path, tenant(session, "northside"))
    assert summary.fmt == "boston311"
    assert summary.imported == 2
    assert summary.skipped == {"outside the portal's area": 1, "missing or bad coordinates": 1}
    issues = by_external(session)
    light = issues["boston311:900001"]
    assert light.request_type.code == "streetlight"
    assert light.title == light.description == "Street Light Outages"
    assert light.address.startswith("1 Example St")
    assert naive_utc(light.created_at) == datetime(2025, 1, 24, 8, 24, 56)  # Boston is UTC-5
    assert issues["boston311:900002"].body.slug == "state-roads"  # no sidewalk type there


def test_a_place_no_body_serves_is_skipped(world, session, settings, tmp_path):
    folder = tmp_path / "island"
    folder.mkdir()
    (folder / "area.geojson").write_text(json.dumps(box(10, 10, 11, 11)))
    (folder / "portal.json").write_text(json.dumps({
        "slug": "island", "kind": "other", "name": {"en": "Island"}, "languages": ["en"]}))
    island = tenant_files.load_portal(session, folder, settings.themes_dir)
    path = write_csv(tmp_path / "scf.csv", SCF_HEADER, [
        ["1", "2014-05-01T10:00:00-04:00", "Open", "Pothole", "Hole", "0", "10.5", "10.5"]])
    summary = import_issues(session, path, island)
    assert summary.imported == 0
    assert summary.skipped == {"no request type offered there": 1}


def test_an_unknown_csv_shape_is_refused():
    with pytest.raises(ValueError, match="unknown CSV shape"):
        detect_format(["id", "when", "what"])


@pytest.mark.shared_data
def test_the_real_new_haven_export_imports_into_the_demo_city(session, settings):
    path = SHARED / "new_haven_seeclickfix_issues_2008_2015.csv"
    if not path.is_file():
        pytest.skip(f"shared data not present at {SHARED} (CI and dev machines have it)")
    tenant_files.load_all(session, settings.tenants_dir, settings.themes_dir)
    city = session.scalars(select(Tenant).where(Tenant.slug == "new-haven")).one()
    summary = import_issues(session, path, city)
    # SOURCES.md: 97.7% of the 10,040 records fall inside the 20 neighbourhoods.
    assert 9_500 <= summary.imported <= 10_040
    assert set(summary.skipped) <= {"outside the portal's area", "missing or bad coordinates"}
    statuses = set(session.scalars(select(Issue.status).distinct()))
    assert statuses == {"open", "acknowledged", "closed"}
    assert import_issues(session, path, city).imported == 0


def test_control_characters_and_line_breaks_in_old_records_are_cleaned_not_stored(
        world, session, tmp_path):
    path = write_csv(tmp_path / "scf.csv", SCF_HEADER, [
        ["31\x00", "2014-05-01T10:00:00-04:00", "Open", "Pot\x00hole\r\nat the corner",
         "Deep\x00 hole\r\nby the \x1b[1mschool\u2028", "0", "1.2", "0.5"]])
    summary = import_issues(session, path, tenant(session, "northside"))
    session.flush()
    assert summary.imported == 1
    issue = session.scalars(select(Issue)).one()
    assert issue.external_id == "seeclickfix:31"
    assert issue.title == "Pot hole at the corner"
    assert issue.description == "Deep  hole\nby the  [1mschool"
