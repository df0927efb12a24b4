"""Importing historical records through the shipped mappings: what lands, what is skipped
and why, the history at its real times, and that a re-import updates instead of duplicating.

The small files here are invented rows on the test-only world (see tests/worlds.py); tests
marked `shared_data` import the real New Haven and Boston exports. Other inputs (JSON, JSON
Lines, GeoJSON, Open311) are in test_import_inputs.py; the dashboard's truth over an imported
history in test_import_dashboard.py.
"""

from __future__ import annotations

import csv
import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import func, select

from portal.core import geo
from portal.core.errors import ConfigError
from portal.data import import_mapping
from portal.data.importer import import_issues
from portal.models import Issue, IssuePortal, OutboxMessage, Tenant, Update
from portal.reports import search
from portal.tenancy import membership, tenant_files
from portal.tenancy.scoping import public_issues
from tests.cli_run import run_portal
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
    assert summary.imported == 2
    assert summary.skipped == {
        "outside the portal's area": 1,
        "missing or bad coordinates": 3,
        "duplicate": 1,
        "empty description": 1,
        "missing or bad date": 1,
        # The mapping says graffiti; no body offers it there, nor the default "other". The
        # record is not filed under whatever type happens to be first.
        "request type not offered there": 1,
    }
    assert progress[-1] == (len(SCF_ROWS), len(SCF_ROWS))
    assert any("Imported 2" in line for line in summary.lines())

    issues = by_external(session)
    pothole, light = (issues[f"seeclickfix:{n}"] for n in (1, 2))
    assert (pothole.request_type.code, pothole.body.slug) == ("pothole", "city-works")
    assert (light.request_type.code, light.body.slug) == ("streetlight", "city-works")
    assert light.description == "Street light out"  # summary stands in for an empty text
    assert [i.status for i in (pothole, light)] == ["open", "acknowledged"]
    assert naive_utc(pothole.created_at) == datetime(2014, 5, 1, 14, 0)


def test_the_skipped_file_lists_each_record_with_its_row_reason_and_distance(
        world, session, tmp_path):
    path = write_csv(tmp_path / "scf.csv", SCF_HEADER, SCF_ROWS)
    skipped = tmp_path / "skipped.csv"
    import_issues(session, path, tenant(session, "northside"), skipped_path=skipped)
    rows = list(csv.DictReader(skipped.open(encoding="utf-8")))
    assert len(rows) == 8
    by_id = {r["row_id"]: r for r in rows if r["reason"] != "duplicate"}
    far = by_id["4"]  # (4.5, 4.5) against northside's box (0..2, 1..3)
    assert (far["source_row"], far["reason"]) == ("5", "outside the portal's area")
    # to the box's nearest corner, (3, 2): 2.5° of longitude and 1.5° of latitude away
    assert int(far["distance_m"]) == round(geo.distance_m(4.5, 4.5, 3, 2))
    assert far["summary"] == "Pothole" and far["lat"] == "4.5"  # the source row, as it was
    assert by_id["9"]["reason"] == "missing or bad date"
    assert "yesterday" in by_id["9"]["detail"]
    assert by_id["3"]["detail"].startswith("graffiti is not offered")


def test_a_tolerance_takes_points_just_outside_moved_inside_and_flagged(
        world, session, tmp_path):
    # northside is lon 0..2, lat 1..3: 0.004° south of it is about 445 m outside.
    path = write_csv(tmp_path / "scf.csv", SCF_HEADER, [
        ["1", "2014-05-01T10:00:00-04:00", "Open", "Pothole", "Just south", "0",
         "0.996", "1.0"],
        ["2", "2014-05-01T10:00:00-04:00", "Open", "Pothole", "Far south", "0",
         "0.99", "1.0"]])
    north = tenant(session, "northside")
    skipped = tmp_path / "skipped.csv"
    summary = import_issues(session, path, north, tolerance_m=600, skipped_path=skipped)
    assert (summary.imported, summary.snapped) == (1, 1)
    assert summary.skipped == {"outside the portal's area": 1}
    issue = session.scalars(select(Issue)).one()
    assert 440 <= issue.moved_m <= 450
    assert 1.0 <= issue.lat < 1.0001 and issue.lon == 1.0
    assert north.id in session.scalars(select(IssuePortal.tenant_id)).all()
    rows = {r["row_id"]: r for r in csv.DictReader(skipped.open(encoding="utf-8"))}
    assert rows["1"]["reason"] == "moved inside the area" and rows["1"]["distance_m"] == "445"
    assert rows["2"]["reason"] == "outside the portal's area"
    assert 1100 < int(rows["2"]["distance_m"]) < 1120


def test_imported_issues_get_history_membership_and_search_but_no_mail(
        world, session, tmp_path):
    path = write_csv(tmp_path / "scf.csv", SCF_HEADER, SCF_ROWS)
    import_issues(session, path, tenant(session, "northside"))
    issues = by_external(session)

    for issue in issues.values():
        kinds = session.scalars(select(Update.kind).where(Update.issue_id == issue.id)).all()
        # The export dates only the report: no status row is invented at the report's time.
        assert kinds == ["created"]
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
    # Row 1 is in the file twice: each reads as already there (memory stays flat, so the
    # run does not remember every id it has passed; it knows only what it wrote itself).
    assert (again.imported, again.updated, again.unchanged) == (0, 0, 3)
    assert session.scalar(select(func.count(Issue.id))) == 2


def test_a_changed_record_is_updated_on_re_import_with_its_new_history(
        world, session, tmp_path, settings):
    from tests.dashboard_support import expected, stored

    header = [*BOSTON_HEADER]
    first = boston_row("900001", "2025-01-24 03:24:56", "Street Light Outages",
                       "Street Light Outages", "1.2", "0.5")
    north = tenant(session, "northside")
    import_issues(session, write_csv(tmp_path / "a.csv", header, [first]), north)
    closed = list(first)
    closed[header.index("closed_dt")] = "2025-01-26 09:00:00"
    closed[header.index("case_status")] = "Closed"
    closed[header.index("case_title")] = "Street Light Outages (fixed)"
    summary = import_issues(session, write_csv(tmp_path / "b.csv", header, [closed]), north)
    assert (summary.imported, summary.updated) == (0, 1)
    issue = session.scalars(select(Issue)).one()
    assert (issue.status, issue.title) == ("closed", "Street Light Outages (fixed)")
    moves = session.execute(select(Update.new_status, Update.created_at)
                            .where(Update.kind == "status")).all()
    assert [(s, naive_utc(w)) for s, w in moves] == [("closed", datetime(2025, 1, 26, 14, 0))]
    session.flush()
    assert stored(session) == expected(session)  # the dashboard's rows follow the update
    assert import_issues(session, tmp_path / "b.csv", north).unchanged == 1


def test_boston_311_rows_are_detected_and_mapped_by_type(world, session, tmp_path):
    path = write_csv(tmp_path / "boston.csv", BOSTON_HEADER, BOSTON_ROWS)
    summary = import_issues(session, path, tenant(session, "northside"))
    assert summary.fmt == "boston311"
    assert summary.imported == 1
    assert summary.skipped == {"outside the portal's area": 1, "missing or bad coordinates": 1,
                               "request type not offered there": 1}
    light = by_external(session)["boston311:900001"]
    assert light.request_type.code == "streetlight"
    assert light.title == light.description == "Street Light Outages"
    assert light.address.startswith("1 Example St")
    assert naive_utc(light.created_at) == datetime(2025, 1, 24, 8, 24, 56)  # Boston is UTC-5


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


def test_an_unknown_csv_shape_is_refused_naming_the_columns_each_mapping_expects():
    with pytest.raises(ConfigError) as caught:
        import_mapping.for_columns(["id", "when", "what"])
    message = str(caught.value)
    assert "seeclickfix-csv: row_id, created_at, status, summary" in message
    assert "boston-311: case_enquiry_id, open_dt" in message
    assert "--mapping" in message


def test_a_mapping_naming_a_missing_column_is_refused_before_anything_is_written(
        world, session, tmp_path):
    path = write_csv(tmp_path / "scf.csv", SCF_HEADER, SCF_ROWS)
    mapping = tmp_path / "m.toml"
    mapping.write_text(MAPPING.replace('closed = ""', 'closed = "closed_at"'))
    with pytest.raises(ConfigError) as caught:
        import_issues(session, path, tenant(session, "northside"),
                      mapping=import_mapping.load(mapping))
    assert "closed_at" in str(caught.value) and "closed" in str(caught.value)
    assert "row_id, created_at, status" in str(caught.value)  # the columns there are
    assert session.scalar(select(func.count(Issue.id))) == 0


@pytest.mark.parametrize(("change", "problem"), [
    ('name = "mine"', "must give a name"),
    ('created = "created_at"', "must say which column holds created"),
    ('"open" = "open"', "maps to fixed"),
    ('format = "iso"', "unknown date format"),
    ('timezone = "UTC"', "unknown time zone"),
    ('id = "row_id"', "unknown field colour"),
])
def test_a_mapping_with_a_mistake_says_which(tmp_path, change, problem):
    broken = {
        'name = "mine"': 'name = ""',
        'created = "created_at"': 'created = ""',
        '"open" = "open"': '"open" = "fixed"',
        'format = "iso"': 'format = "yyyy-mm-dd"',
        'timezone = "UTC"': 'timezone = "Mars/Olympus"',
        'id = "row_id"': 'id = "row_id"\ncolour = "red"',
    }[change]
    path = tmp_path / "m.toml"
    path.write_text(MAPPING.replace(change, broken, 1))
    with pytest.raises(ConfigError, match=problem):
        import_mapping.load(path)


def test_an_unknown_status_or_a_malformed_date_skips_that_row_only(world, session, tmp_path):
    rows = [
        ["1", "2014-05-01T10:00:00-04:00", "Open", "Pothole", "Fine", "0", "1.2", "0.5"],
        ["2", "2014-05-02T10:00:00-04:00", "Pending review", "Pothole", "Odd status", "0",
         "1.2", "0.6"],
        ["3", "2014-13-45T10:00:00-04:00", "Open", "Pothole", "Bad date", "0", "1.2", "0.7"],
        ["4", "1399000000000", "Open", "Pothole", "Epoch ms", "0", "1.2", "0.8"],
        ["5", "2014-05-03T10:00:00-04:00", "Closed", "Pothole", "Also fine", "0", "1.2", "0.9"],
    ]
    skipped = tmp_path / "skipped.csv"
    summary = import_issues(session, write_csv(tmp_path / "scf.csv", SCF_HEADER, rows),
                            tenant(session, "northside"), skipped_path=skipped)
    assert summary.imported == 2
    assert summary.skipped == {"unknown status": 1, "missing or bad date": 2}
    details = {r["row_id"]: r["detail"] for r in csv.DictReader(skipped.open())}
    assert details["2"] == "'Pending review' is not in [statuses]"
    assert "does not read as iso" in details["3"]
    # A number in an ISO date column is refused, never read as some date in 1498 or 1970.
    assert details["4"] == "created_at: '1399000000000' is a number, not a date (iso)"
    assert sorted(by_external(session)) == ["seeclickfix:1", "seeclickfix:5"]


def test_every_shipped_status_value_maps(world, session, tmp_path):
    values = ["Open", "Acknowledged", "Closed", "Archived", "new", "IN PROGRESS"]
    rows = [[str(n), "2014-05-01T10:00:00-04:00", value, "Pothole", "x", "0", "1.2",
             f"0.{n + 1}"] for n, value in enumerate(values)]
    summary = import_issues(session, write_csv(tmp_path / "scf.csv", SCF_HEADER, rows),
                            tenant(session, "northside"))
    assert summary.imported == len(values) and not summary.skipped
    got = {i.external_id: i.status for i in session.scalars(select(Issue))}
    assert [got[f"seeclickfix:{n}"] for n in range(len(values))] == [
        "open", "acknowledged", "closed", "archived", "open", "acknowledged"]


def test_control_characters_and_line_breaks_in_old_records_are_cleaned_not_stored(
        world, session, tmp_path):
    path = write_csv(tmp_path / "scf.csv", SCF_HEADER, [
        ["31\x00", "2014-05-01T10:00:00-04:00", "Open", "Pot\x00hole\r\nat the corner",
         "Deep\x00 hole\r\nby the \x1b[1mschool\u2028", "0", "1.2", "0.5"]])
    summary = import_issues(session, path, tenant(session, "northside"), default_type="pothole")
    session.flush()
    assert summary.imported == 1
    issue = session.scalars(select(Issue)).one()
    assert issue.external_id == "seeclickfix:31"
    assert issue.title == "Pot hole at the corner"
    assert issue.description == "Deep  hole\nby the  [1mschool"


def test_suggest_mapping_writes_a_file_that_names_the_columns_and_values(tmp_path, capsys):
    from portal.cli import main

    path = write_csv(tmp_path / "scf.csv", SCF_HEADER, SCF_ROWS)
    out = tmp_path / "suggested.toml"
    assert main(["import-issues", str(path), "--suggest-mapping", str(out)]) == 0
    mapping = import_mapping.load(out)  # it loads as it is
    assert mapping.columns["id"] == "row_id" and mapping.columns["lon"] == "lng"
    assert mapping.statuses == {"acknowledged": "acknowledged", "closed": "closed",
                                "open": "open"}
    text = out.read_text()
    assert '"Street light out" = ""' in text and '"Graffiti" = ""' in text


MAPPING = """
[source]
name = "mine"
format = "csv"

[columns]
id = "row_id"
created = "created_at"
closed = ""
status = "status"
title = "summary"
description = "description"
lat = "lat"
lon = "lng"
request_type = "summary"

[dates]
format = "iso"
timezone = "UTC"

[statuses]
"open" = "open"

[request_types]
default = "pothole"
"""


# -- the real exports -----------------------------------------------------------------------


def _shared(name: str) -> Path:
    path = SHARED / name
    if not path.is_file():
        pytest.skip(f"shared data not present at {SHARED} (CI and dev machines have it)")
    return path


@pytest.mark.shared_data
def test_the_real_new_haven_export_imports_into_the_demo_city(session, settings):
    path = _shared("new_haven_seeclickfix_issues_2008_2015.csv")
    tenant_files.load_all(session, settings.tenants_dir, settings.themes_dir)
    city = session.scalars(select(Tenant).where(Tenant.slug == "new-haven")).one()
    summary = import_issues(session, path, city)
    # SOURCES.md: 97.7% of the 10,040 records fall inside the 20 neighbourhoods.
    assert 9_500 <= summary.imported <= 10_040
    assert set(summary.skipped) <= {"outside the portal's area", "missing or bad coordinates"}
    statuses = set(session.scalars(select(Issue.status).distinct()))
    assert statuses == {"open", "acknowledged", "closed"}
    # Types come from the mapping's table: "Tree Trimming" is a tree, not a guess.
    with path.open(encoding="utf-8") as handle:
        trimming = {f"seeclickfix:{r['row_id']}" for r in csv.DictReader(handle)
                    if r["summary"] == "Tree Trimming"}
    codes = {i.request_type.code for i in session.scalars(
        select(Issue).where(Issue.external_id.in_(list(trimming))))}
    assert codes == {"fallen-tree"}
    # The export dates only the reports: true times, and no invented moves.
    assert session.scalar(select(func.count(Update.id)).where(Update.kind == "status")) == 0
    with path.open(encoding="utf-8") as handle:
        first = next(csv.DictReader(handle))
    issue = session.scalars(select(Issue).where(
        Issue.external_id == f"seeclickfix:{first['row_id']}")).first()
    if issue is not None:
        assert naive_utc(issue.created_at) == naive_utc(
            datetime.fromisoformat(first["created_at"]))
    again = import_issues(session, path, city)
    assert (again.imported, again.updated, again.unchanged) == (0, 0, summary.imported)


@pytest.mark.shared_data
def test_the_real_boston_export_imports_with_its_times_and_addresses(
        session, settings, tmp_path):
    from tests.import_support import city

    path = _shared("boston_311_open_cases_2025.csv")
    boston = city(session, tmp_path / "tenants", settings.themes_dir, "boston",
                  (-71.1912, 42.2279, -70.9228, 42.3970),
                  {"sidewalk": "Sidewalk", "streetlight": "Street light", "other": "Other"})
    summary = import_issues(session, path, boston)
    assert summary.fmt == "boston311"
    assert summary.imported == 2422  # SOURCES.md: 2,424 cases, 2,422 with coordinates
    assert summary.skipped == {"missing or bad coordinates": 2}
    with path.open(encoding="utf-8") as handle:
        rows = {f"boston311:{r['case_enquiry_id']}": r for r in csv.DictReader(handle)}
    kinds = {"Sidewalk Repair (Make Safe)": "sidewalk", "Sidewalk Repair": "sidewalk",
             "Street Light Outages": "streetlight", "Street Light Knock Downs": "streetlight"}
    for issue in session.scalars(select(Issue)):
        row = rows[issue.external_id]
        assert issue.request_type.code == kinds.get(row["type"], "other")
        assert issue.address == " ".join(row["location"].split())
        local = datetime.fromisoformat(row["open_dt"]).replace(
            tzinfo=import_mapping.import_values.zone("America/New_York"))
        assert naive_utc(issue.created_at) == naive_utc(local)


def test_the_command_imports_writes_the_skipped_file_and_refuses_bad_options(
        world, settings, tmp_path):
    from tests.test_cli import portal

    path = write_csv(tmp_path / "scf.csv", SCF_HEADER, SCF_ROWS)
    skipped = tmp_path / "skipped.csv"
    done = portal(settings, "import-issues", str(path), "--tenant", "northside",
                  "--skipped", str(skipped), "--tolerance", "600m")
    assert done.returncode == 0, done.stderr
    assert "Imported 2 issues." in done.stdout and "duplicate: 1" in done.stdout
    assert "10/10" in done.stderr and "/s" in done.stderr  # the progress bar and its rate
    assert len(list(csv.DictReader(skipped.open()))) == 8
    bad = portal(settings, "import-issues", str(path), "--tenant", "northside",
                 "--tolerance", "far")
    assert bad.returncode == 1
    assert bad.stderr.strip() == ("portal: bad tolerance far: give a distance such as 600m "
                                  "or 1.5km")
    mapping = tmp_path / "m.toml"
    mapping.write_text(MAPPING.replace('closed = ""', 'closed = "closed_at"'))
    french = run_portal(
        ["import-issues", str(path), "--tenant", "northside", "--mapping", str(mapping)],
        {"DATABASE_URL": settings.database_url, "PATH": "/usr/bin:/bin", "LANG": "fr_FR.UTF-8"})
    assert french.returncode == 1
    assert "la correspondance nomme la colonne closed_at pour closed" in french.stderr
    assert len(french.stderr.strip().splitlines()) == 1


def test_a_moved_or_retyped_record_is_moved_and_retyped_on_re_import(
        world, session, tmp_path):
    from tests.dashboard_support import expected, stored

    north = tenant(session, "northside")
    rows = [["1", "2014-05-01T10:00:00-04:00", "Open", "Pothole", "Hole", "0", "1.2", "0.5"]]
    import_issues(session, write_csv(tmp_path / "a.csv", SCF_HEADER, rows), north)
    # Now north of riverside (lat 1.5 is its edge) and a streetlight.
    rows[0][3], rows[0][6] = "Street light out", "1.8"
    summary = import_issues(session, write_csv(tmp_path / "b.csv", SCF_HEADER, rows), north)
    assert summary.updated == 1
    issue = session.scalars(select(Issue)).one()
    assert (issue.lat, issue.request_type.code) == (1.8, "streetlight")
    portals = set(session.scalars(select(IssuePortal.tenant_id)
                                  .where(IssuePortal.issue_id == issue.id)))
    assert portals == {north.id}
    session.flush()
    assert stored(session) == expected(session)


def test_the_issue_page_links_the_original_record_and_says_a_point_was_moved(
        client, db, tmp_path):
    header = [*SCF_HEADER, "html_url"]
    rows = [["1", "2014-05-01T10:00:00-04:00", "Open", "Pothole", "Just south", "0",
             "0.996", "1.0", "https://seeclickfix.com/issues/1"],
            ["2", "2014-05-01T10:00:00-04:00", "Open", "Pothole", "Sly link", "0",
             "1.5", "1.0", "javascript:alert(1)"]]
    mapping = import_mapping.parse({
        "source": {"name": "scf"},
        "columns": {"id": "row_id", "created": "created_at", "status": "status",
                    "title": "summary", "description": "description", "lat": "lat",
                    "lon": "lng", "request_type": "summary", "external_url": "html_url"},
        "statuses": {"open": "open"}, "request_types": {"map": {"Pothole": "pothole"}}})
    with db.session() as s:
        import_issues(s, write_csv(tmp_path / "scf.csv", header, rows),
                      tenant(s, "northside"), mapping=mapping, tolerance_m=600)
        ids = {i.external_id: i.id for i in s.scalars(select(Issue))}
    moved = client.get(f"/issues/{ids['scf:1']}").text
    assert ('<a href="https://seeclickfix.com/issues/1" rel="nofollow noopener noreferrer">'
            'scf:1</a>') in moved
    assert "moved 445 m, from just outside the portal" in moved
    sly = client.get(f"/issues/{ids['scf:2']}").text
    assert "javascript:" not in sly and "Original record" not in sly
