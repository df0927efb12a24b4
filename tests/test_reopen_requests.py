""""Still broken": a resident asks to reopen a closed issue; the body's staff accept (it
reopens) or decline (it stays closed), and the history says which."""

from __future__ import annotations

from sqlalchemy import select

from portal.models import Issue
from portal.reports import status
from tests.conftest import client_for
from tests.factories import file_report
from tests.http_support import csrf, field_error
from tests.staff_support import grant, sign_in


def _closed_issue(db) -> int:  # noqa: ANN001
    with db.session() as s:
        issue = file_report(s, "northside", 1.5, 1.0, description="Deep hole")
        status.change_status(s, issue, "closed", author="city-works dept", text="Patched")
        return issue.id


def _ask(client, issue_id: int, text: str):  # noqa: ANN001, ANN202
    page = client.get(f"/issues/{issue_id}").text
    return client.post(f"/issues/{issue_id}/still-broken",
                       data={"csrf_token": csrf(page), "text": text, "author": "Ana"})


def _status(db, issue_id: int) -> str:  # noqa: ANN001
    with db.session() as s:
        return s.scalars(select(Issue.status).where(Issue.id == issue_id)).one()


def test_a_resident_asks_and_staff_decline_then_accept(app, db, client):
    issue_id = _closed_issue(db)
    page = client.get(f"/issues/{issue_id}").text
    assert "Still broken?" in page and "I want this fixed too" not in page
    assert field_error(_ask(client, issue_id, "  ").text, "reopen_text")  # say what is wrong
    r = _ask(client, issue_id, "The hole is back after the rain")
    assert r.status_code == 303
    page = client.get(r.headers["location"]).text
    assert "A resident says it is still broken" in page and "The hole is back" in page
    assert "Staff will review the request" in page and 'id="reopen-text"' not in page
    assert _status(db, issue_id) == "closed"  # nothing changes until staff answer

    grant(db, "crew@city.test", "staff", body="city-works")
    crew = client_for(app, "northside.reportal.test")
    sign_in(crew, db, "crew@city.test")
    queue = crew.get("/staff/queue").text
    assert "Requests to reopen, to review" in queue and f"/staff/issues/{issue_id}#reopen" in queue
    staff_page = crew.get(f"/staff/issues/{issue_id}").text
    assert "A request to reopen" in staff_page and "The hole is back" in staff_page
    r = crew.post(f"/staff/issues/{issue_id}/reopen", data={
        "csrf_token": csrf(staff_page), "decision": "decline",
        "text": "That is a new hole on the other side: please report it."})
    assert r.status_code == 303 and _status(db, issue_id) == "closed"
    public = client.get(f"/issues/{issue_id}").text
    assert "Staff kept the issue closed" in public and "a new hole on the other side" in public
    assert "Requests to reopen" not in crew.get("/staff/queue").text
    # Answered: another request is possible, and this time staff reopen the issue.
    assert _ask(client, issue_id, "Still there a week later").status_code == 303
    staff_page = crew.get(f"/staff/issues/{issue_id}").text
    r = crew.post(f"/staff/issues/{issue_id}/reopen", data={
        "csrf_token": csrf(staff_page), "decision": "accept", "text": "Crew sent again"})
    assert r.status_code == 303 and _status(db, issue_id) == "open"
    public = client.get(f"/issues/{issue_id}").text
    assert "Status changed to" in public and "Crew sent again" in public
    assert "I want this fixed too" in public and "Still broken?" not in public
    # Nothing left to review: a late second answer is refused, the issue stays open.
    r = crew.post(f"/staff/issues/{issue_id}/reopen", data={
        "csrf_token": csrf(staff_page), "decision": "decline"})
    assert r.status_code == 400 and _status(db, issue_id) == "open"
    assert "There is no request to reopen this issue" in r.text


def test_an_open_issue_cannot_be_asked_to_reopen_and_others_cannot_answer(app, db, client):
    with db.session() as s:
        open_id = file_report(s, "northside", 1.5, 1.0).id
    r = _ask(client, open_id, "It is broken")
    assert r.status_code == 400 and "nothing to reopen" in r.text
    closed_id = _closed_issue(db)
    assert _ask(client, closed_id, "Back again").status_code == 303
    page = client.get(f"/issues/{closed_id}").text
    r = client.post(f"/staff/issues/{closed_id}/reopen",
                    data={"csrf_token": csrf(page), "decision": "accept"})
    assert r.status_code in (303, 403, 404) and _status(db, closed_id) == "closed"
