""""Already reported?": issues of the chosen type near the chosen place, offered before a
report is filed (the no-JS step in the POST, the fragment report.js asks for), a vote and a
follow instead of a duplicate, and staff's likely duplicates with a one-click merge."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select, update

from portal.models import Issue, IssueDuplicate, OutboxMessage, RequestType, Watch, utcnow
from portal.reports import nearby
from portal.staff import triage
from tests.conftest import client_for
from tests.factories import file_report, tenant
from tests.http_support import csrf, form_tokens
from tests.staff_support import grant, sign_in

# 0.0002 degrees of latitude is some 22 m; 0.0008 some 89 m.
HERE = (1.5, 1.0)


def _count(db) -> int:  # noqa: ANN001
    with db.session() as s:
        return s.scalar(select(func.count()).select_from(Issue))


def _rt(session, body: str, code: str) -> RequestType:  # noqa: ANN001
    return session.scalars(select(RequestType).join(RequestType.body)
                           .where(RequestType.code == code)
                           .where(RequestType.body.has(slug=body))).one()


def test_nearby_is_the_same_type_within_its_distance_open_or_lately_closed(session, world):
    near = file_report(session, "northside", 1.5002, 1.0, description="Hole by the bus stop")
    far = file_report(session, "northside", 1.5008, 1.0)
    file_report(session, "northside", 1.5001, 1.0, request_type="streetlight")
    old = file_report(session, "northside", 1.5001, 1.0001)
    merged = file_report(session, "northside", 1.5, 1.0001)
    session.flush()
    old.status = "closed"
    old.updated_at = utcnow() - timedelta(days=40)
    triage.mark_duplicate(session, merged, near, triage.Actor(user_id=None))
    portal = tenant(session, "northside")
    pothole = _rt(session, "city-works", "pothole")
    found = nearby.nearby_issues(session, portal, pothole, *HERE)
    assert [(n.issue.id, n.distance_m) for n in found] == [(near.id, 22)]
    pothole.nearby_m = 100  # a body that wants a wider question
    assert [n.issue.id for n in nearby.nearby_issues(session, portal, pothole, *HERE)] == [
        near.id, far.id]
    old.updated_at = utcnow() - timedelta(days=3)  # fixed last week: perhaps back again
    assert old.id in [n.issue.id for n in nearby.nearby_issues(session, portal, pothole, *HERE)]
    # Staff's view of the same: the later report likely repeats the earlier one.
    later = file_report(session, "northside", 1.5003, 1.0)
    assert nearby.likely_duplicates(session, portal, [later, near]) == {later.id: near}


def _post(client, **data):  # noqa: ANN001, ANN003
    base = {"lat": "1.5", "lon": "1.0", "request_type": "city-works/pothole",
            "description": "Deep pothole", **form_tokens(client, "/report")}
    return client.post("/report", data={**base, **data})


def test_without_javascript_the_form_asks_first_then_files_or_votes_and_follows(
        client, db, session):
    first = file_report(session, "northside", 1.5002, 1.0, title="Hole by the bus stop")
    session.commit()
    asked = _post(client, email="me@example.org")
    assert asked.status_code == 200 and _count(db) == 1
    assert "Not sent yet: reports like yours were made nearby." in asked.text
    assert "Already reported? Is it one of these?" in asked.text
    assert f"Hole by the bus stop (#{first.id})" in asked.text and "22 m away" in asked.text
    assert f'name="same" value="{first.id}"' in asked.text
    assert f'name="nearby_seen" value="{first.id}"' in asked.text
    assert 'value="me@example.org"' in asked.text  # nothing typed is lost

    # "I want this fixed too": a vote and a watch of that issue, and no new report.
    tokens = {"csrf_token": csrf(asked.text),
              "submission_key": re.search(r'name="submission_key" value="([^"]+)"',
                                          asked.text).group(1)}
    joined = client.post("/report", data={
        "lat": "1.5", "lon": "1.0", "request_type": "city-works/pothole",
        "description": "Deep pothole", "email": "me@example.org", "same": str(first.id),
        **tokens})
    assert joined.status_code == 303 and _count(db) == 1
    page = client.get(joined.headers["location"])
    assert "No new report was sent: your vote was added to this one." in page.text
    assert "We emailed you a link" in page.text
    with db.session() as s:
        assert s.get(Issue, first.id).vote_count == 1
        watch = s.scalars(select(Watch).where(Watch.issue_id == first.id)).one()
        assert watch.email == "me@example.org" and watch.confirmed_at is None
        assert s.scalars(select(OutboxMessage).where(
            OutboxMessage.kind == "watch_confirm",
            OutboxMessage.recipient == "me@example.org")).first() is not None

    # Or none of them is it: the form, having shown them, files the report.
    filed = _post(client, nearby_seen=str(first.id))
    assert filed.status_code == 303 and _count(db) == 2
    assert "None of these: send my report" in _post(client).text
    assert _post(client, nearby="none").status_code == 303 and _count(db) == 3


def test_the_list_for_javascript_and_its_refusals(client, db, session):
    first = file_report(session, "northside", 1.5002, 1.0)
    session.commit()
    html = client.get("/report/nearby?lat=1.5&lon=1.0&type=city-works/pothole").text
    assert "Already reported? Is it one of these?" in html and f"(#{first.id})" in html
    assert "<html" not in html  # a part of the form, not a page
    assert "Is it one" not in client.get(
        "/report/nearby?lat=1.5&lon=1.0&type=city-works/streetlight").text
    assert "Is it one" not in client.get("/report/nearby?lat=abc&lon=1.0&type=x").text
    # A closed issue takes no vote: the form says so and files nothing.
    with db.session() as s:
        s.execute(update(Issue).where(Issue.id == first.id).values(status="closed"))
    html = client.get("/report/nearby?lat=1.5&lon=1.0&type=city-works/pothole").text
    assert "Fixed recently. If the problem is back, send your report." in html
    assert 'name="same"' not in html
    refused = _post(client, same=str(first.id))
    assert refused.status_code == 400 and "takes no more votes" in refused.text
    assert _post(client, same="999999").status_code == 404
    assert _count(db) == 1


@pytest.fixture
def works(app, db, world):  # noqa: ANN001
    grant(db, "crew@city.test", "staff", body="city-works")
    client = client_for(app, "northside.reportal.test")
    sign_in(client, db, "crew@city.test")
    return client


def test_staff_see_likely_duplicates_and_merge_one_with_one_click(works, db, session):
    original = file_report(session, "northside", 1.5, 1.0, title="Crater")
    again = file_report(session, "northside", 1.5001, 1.0, title="Crater again")
    session.commit()
    queue = works.get("/staff/queue").text
    assert "Likely a duplicate of" in queue
    assert f"Merge #{again.id} into #{original.id}" in queue
    assert f'form="merge-{original.id}"' not in queue  # the first report repeats nothing
    merged = works.post(f"/staff/issues/{again.id}/duplicate",
                        data={"csrf_token": csrf(queue), "original": str(original.id)})
    assert merged.status_code == 303
    with db.session() as s:
        assert s.get(Issue, again.id).status == "closed"
        assert s.scalars(select(IssueDuplicate.original_id).where(
            IssueDuplicate.issue_id == again.id)).one() == original.id
    assert "Likely a duplicate of" not in works.get("/staff/queue").text
