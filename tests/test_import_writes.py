"""What a written import batch leaves behind, whichever way the database takes the rows in (an
executemany on SQLite, a COPY with reserved ids on PostgreSQL, see portal/core/bulk.py): the
cached public pages of the portals showing the new issues move on, and the addresses become
places a resident finds, each word indexed once however often it is written.
"""

from __future__ import annotations

from sqlalchemy import func, select

from portal.core import bulk
from portal.data.importer import import_issues
from portal.models import Issue, IssuePortal, PlaceGram, Tenant
from portal.places import gazetteer
from portal.places.gazetteer import NewPlace
from portal.tenancy import data_version
from tests.factories import tenant
from tests.test_importer import BOSTON_HEADER, BOSTON_ROWS, boston_row, write_csv


def versions(session) -> dict[str, int]:
    return {t.slug: data_version.current(session, t.id)
            for t in session.scalars(select(Tenant))}


def test_an_import_moves_the_versions_of_the_portals_showing_its_issues_and_no_others(
        world, session, tmp_path):
    path = write_csv(tmp_path / "boston.csv", BOSTON_HEADER, [
        *BOSTON_ROWS, boston_row("900005", "2025-02-04 12:00:00", "Street Light Outages",
                                 "Street Light Outages", "0.8", "0.7")])
    before = versions(session)
    summary = import_issues(session, path, tenant(session, "riverside"), fmt="boston311",
                            batch_size=2)
    session.commit()

    after = versions(session)
    showing = set(session.scalars(select(Tenant.slug).join(
        IssuePortal, IssuePortal.tenant_id == Tenant.id)))
    assert summary.imported == session.scalar(select(func.count(Issue.id))) == 2
    assert showing == {"northside", "riverside"}
    assert {slug for slug in after if after[slug] != before[slug]} == showing
    # The imported addresses are places of the portal, found by what a resident types.
    found = gazetteer.suggest(session, tenant(session, "riverside"), "1 Example", "en")
    assert [s.label for s in found][:1] == ["1 Example St Testville"]


def test_places_added_twice_index_their_words_once_and_are_both_found(world, session):
    riverside = tenant(session, "riverside")

    def add(lat: float) -> int:
        return gazetteer.add_places(session, riverside.id, [NewPlace(
            "reported", {"en": "12 Quarry Lane"}, lat, 0.5, street="12 Quarry Lane")],
            "issue")

    assert add(0.2) == 1
    grams = session.scalar(select(func.count()).select_from(PlaceGram))
    assert add(0.3) == 1  # the same words again: no second gram row, and no error
    assert session.scalar(select(func.count()).select_from(PlaceGram)) == grams > 0
    found = gazetteer.suggest(session, riverside, "quarry", "en")
    assert sorted(round(s.lat, 1) for s in found) == [0.2, 0.3]


def test_places_written_in_one_statement_each_keep_their_own_words(world, session):
    """The new places' ids are taken as they go in (read off the last one on SQLite, reserved
    first on PostgreSQL): each word must lead to its own place, after places written before."""
    riverside = tenant(session, "riverside")
    gazetteer.add_places(session, riverside.id, [NewPlace(
        "reported", {"en": "1 Marble Road"}, 0.15, 0.5, street="1 Marble Road")], "issue")
    streets = ["Granite", "Basalt", "Slate", "Flint", "Schist", "Gneiss", "Shale"]
    assert gazetteer.add_places(session, riverside.id, [
        NewPlace("reported", {"en": f"{n + 2} {name} Road"}, 0.2 + n / 100, 0.5,
                 street=f"{n + 2} {name} Road") for n, name in enumerate(streets)],
        "issue") == len(streets)
    for n, name in enumerate(["Marble", *streets]):
        found = gazetteer.suggest(session, riverside, name.lower(), "en")
        assert [(s.label.split(" Testville")[0], round(s.lat, 2)) for s in found] == [
            (f"{n + 1} {name} Road", round(0.15 if n == 0 else 0.2 + (n - 1) / 100, 2))]


def test_a_batch_names_its_rows_alike_whether_their_ids_fill_a_range_or_not(
        world, session, tmp_path):
    """`bulk.one_of`: a run of ids is read as a range, ids with gaps through the list (and,
    on PostgreSQL, its bounds), text through the list; each finds exactly its rows."""
    rows = [boston_row(f"91000{n}", "2025-02-04 12:00:00", "Street Light Outages",
                       "Street Light Outages", "0.8", f"0.7{n}") for n in range(6)]
    import_issues(session, write_csv(tmp_path / "boston.csv", BOSTON_HEADER, rows),
                  tenant(session, "riverside"), fmt="boston311")
    session.commit()
    ids = sorted(session.scalars(select(Issue.id)))
    assert len(ids) >= 4

    def found(column, values: list) -> list:  # noqa: ANN001 - a column
        return sorted(session.scalars(select(column).where(bulk.one_of(session, column,
                                                                        values))))

    run = ids[1:3]
    assert found(Issue.id, run) == run
    spaced = ids[::2]
    assert found(Issue.id, spaced) == spaced
    assert found(Issue.id, [ids[0], ids[-1], ids[-1] + 1000]) == [ids[0], ids[-1]]
    assert found(Issue.id, []) == []
    some = sorted(session.scalars(select(Issue.external_id).where(
        Issue.external_id.is_not(None)).limit(2)))
    assert found(Issue.external_id, [*some, "no-such-record"]) == some
