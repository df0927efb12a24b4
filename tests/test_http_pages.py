"""Every public page renders for a resident, and the issue page's actions work."""

from __future__ import annotations

import re

from sqlalchemy import select

from portal.models import Issue
from portal.reports import status
from tests.factories import file_report
from tests.http_support import csrf, field_error


def make_issue(db, **kw) -> int:  # noqa: ANN001
    with db.session() as s:
        return file_report(s, "northside", 1.5, 1.0, **kw).id


def test_home_shows_map_list_filters_and_legend(client, db):
    make_issue(db, title="Hole on Main")
    html = client.get("/").text
    assert 'id="map"' in html and "Hole on Main" in html
    for label in ("Open", "Acknowledged", "Closed (fixed)", "Archived"):
        assert label in html
    assert 'name="status"' in html and 'name="type"' in html
    assert "1 issue" in html


def test_list_filters_by_status_and_type(client, db):
    make_issue(db, title="Open hole")
    assert "Open hole" in client.get("/issues?status=open&type=pothole").text
    assert "Open hole" not in client.get("/issues?status=closed").text
    assert "Open hole" not in client.get("/issues?type=highway-sign").text


def test_list_pages(client, db):
    with db.session() as s:
        for n in range(55):
            file_report(s, "northside", 1.5, 1.0, title=f"Item {n:02d}")
    first = client.get("/issues").text
    assert "Page 1 of 2" in first and 'rel="next"' in first
    second = client.get("/issues?page=2").text
    assert "Item 00" in second and "Item 54" not in second


def test_issue_page_shows_status_history_and_where_it_went(client, db):
    issue_id = make_issue(db, title="Hole", name="Ana", show_name=True)
    html = client.get(f"/issues/{issue_id}").text
    assert "Hole" in html and "Sent to" in html and "city-works dept" in html
    assert "status-open" in html and "Reported" in html and "Ana" in html


def test_vote_counts_once_per_person(client, db):
    issue_id = make_issue(db)
    page = client.get(f"/issues/{issue_id}").text
    token = csrf(page)
    for _ in range(2):
        r = client.post(f"/issues/{issue_id}/vote", data={"csrf_token": token})
        assert r.status_code == 303
    html = client.get(f"/issues/{issue_id}").text
    assert "1 person wants this fixed" in html and "You want this fixed too" in html
    with db.session() as s:
        assert s.get(Issue, issue_id).vote_count == 1


def test_comment_and_fixed_report_appear_in_history(client, db):
    issue_id = make_issue(db)
    token = csrf(client.get(f"/issues/{issue_id}").text)
    client.post(f"/issues/{issue_id}/comments", data={"csrf_token": token, "text": "Me too!"})
    client.post(f"/issues/{issue_id}/fixed", data={"csrf_token": token, "text": "Patched"})
    html = client.get(f"/issues/{issue_id}").text
    assert "Me too!" in html and "Patched" in html
    assert "not yet confirmed by staff" in html
    assert "status-open" in html  # a resident's word does not close it


def test_a_reported_fix_is_not_asked_for_again(client, db):
    issue_id = make_issue(db)
    token = csrf(client.get(f"/issues/{issue_id}").text)
    assert f'action="/issues/{issue_id}/fixed"' in client.get(f"/issues/{issue_id}").text
    client.post(f"/issues/{issue_id}/fixed", data={"csrf_token": token, "text": "Patched"})
    html = client.get(f"/issues/{issue_id}").text
    assert "A resident has reported this fixed. Staff will confirm it" in html
    assert f'action="/issues/{issue_id}/fixed"' not in html


def test_a_closed_issue_takes_no_votes_and_points_to_a_new_report(client, db):
    issue_id = make_issue(db)
    token = csrf(client.get(f"/issues/{issue_id}").text)
    with db.session() as s:
        status.change_status(s, s.get(Issue, issue_id), "closed", author="Crew")
    html = client.get(f"/issues/{issue_id}").text
    assert "I want this fixed too" not in html
    assert f'action="/issues/{issue_id}/fixed"' not in html
    assert "This issue is closed." in html and "Report a new problem here" in html
    assert f'action="/issues/{issue_id}/still-broken"' in html  # or ask to reopen it
    assert "/report?lat=" in html
    r = client.post(f"/issues/{issue_id}/vote", data={"csrf_token": token})
    assert r.status_code == 400 and "This issue is closed, so it takes no more votes" in r.text
    with db.session() as s:
        assert s.get(Issue, issue_id).vote_count == 0


def test_empty_comment_gets_an_error_beside_the_field(client, db):
    issue_id = make_issue(db)
    token = csrf(client.get(f"/issues/{issue_id}").text)
    r = client.post(f"/issues/{issue_id}/comments", data={"csrf_token": token, "text": " "})
    assert r.status_code == 400 and "Write a comment first" in field_error(r.text, "text")


def test_vote_without_csrf_changes_nothing(client, db):
    issue_id = make_issue(db)
    r = client.post(f"/issues/{issue_id}/vote", data={})
    assert r.status_code == 400
    with db.session() as s:
        assert s.get(Issue, issue_id).vote_count == 0


def test_closed_issues_stay_visible_on_page_list_and_map(client, db):
    from portal.reports import status

    issue_id = make_issue(db, title="Fixed hole")
    with db.session() as s:
        status.change_status(s, s.get(Issue, issue_id), "closed", author="Crew")
    assert client.get(f"/issues/{issue_id}").status_code == 200
    assert "Fixed hole" in client.get("/issues").text
    features = client.get("/api/issues.geojson").json()["features"]
    assert [f["properties"]["status"] for f in features] == ["closed"]


def test_search_page_finds_words_and_shows_list_and_map(client, db):
    make_issue(db, description="Graffiti on the bridge")
    html = client.get("/search?q=bridge").text
    assert "1 result" in html and 'id="map"' in html and "Graffiti" not in html.split("<h2>")[0]
    assert "/issues/" in html


def test_search_with_a_bad_date_explains_the_format(client):
    r = client.get("/search?since=yesterday")
    assert r.status_code == 400
    assert "Enter a date like 2025-06-30" in r.text


def test_unknown_issue_and_page_are_404_in_the_portal_style(client):
    r = client.get("/issues/99999")
    assert r.status_code == 404 and "There is no such issue on this portal" in r.text
    assert client.get("/no-such-page").status_code == 404


def test_issue_ids_in_html_are_links(client, db):
    issue_id = make_issue(db)
    assert re.search(rf'href="/issues/{issue_id}"', client.get("/").text)
    with db.session() as s:
        assert s.scalars(select(Issue.id)).all() == [issue_id]
