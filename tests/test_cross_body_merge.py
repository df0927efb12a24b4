"""Merging duplicates across bodies: staff may merge only issues their body works.

A merge moves the duplicate's votes and watchers onto the original and closes the duplicate,
so staff of one body must not be able to pull another body's issue into theirs (or push
theirs into another body's), directly or through a chain of earlier merges.
"""

from __future__ import annotations

import pytest
from sqlalchemy import select

from portal.engagement import watching
from portal.models import Issue, IssueDuplicate, Vote, Watch
from portal.reports import voting
from portal.staff import triage
from tests.conftest import client_for
from tests.factories import file_report, tenant
from tests.http_support import csrf, field_error
from tests.staff_support import grant, sign_in
from tests.test_staff_permissions import snapshot

REFUSAL = "You can only merge into an issue your body works on."


def _staff_client(app, db, email: str, *bodies: str):  # noqa: ANN001, ANN202
    for body in bodies:
        grant(db, email, "staff", body=body)
    client = client_for(app, "northside.reportal.test")
    sign_in(client, db, email)
    return client


def _issue_with_followers(db, request_type: str, lat: float, tag: str) -> int:  # noqa: ANN001
    """An issue on northside with two votes and one follower."""
    with db.session() as s:
        issue = file_report(s, "northside", lat, 1.0, request_type=request_type,
                            description=f"Issue {tag}")
        for n in range(2):
            voting.vote(s, issue, f"v:{tag}:{n}")
        watching.create_watch(s, tenant(s, "northside"), watching.WatchForm(
            email=f"{tag}@follow.test", kind="issue", issue_id=str(issue.id)), "test-secret")
        return issue.id


@pytest.fixture
def issues(db, world) -> dict[str, int]:  # noqa: ANN001
    return {"city": _issue_with_followers(db, "pothole", 1.9, "city"),
            "state": _issue_with_followers(db, "highway-sign", 1.8, "state")}


def _merge(client, dup: int, original: int):  # noqa: ANN001, ANN202
    token = csrf(client.get("/signin").text)  # valid for this person on this portal
    return client.post(f"/staff/issues/{dup}/duplicate",
                       data={"csrf_token": token, "original": str(original)})


def _state(db, *ids: int) -> dict:  # noqa: ANN001
    with db.session() as s:
        return {i: (s.get(Issue, i).status, s.get(Issue, i).vote_count,
                    sorted(s.scalars(select(Vote.voter_key).where(Vote.issue_id == i))),
                    sorted(s.scalars(select(Watch.email).where(Watch.issue_id == i))))
                for i in ids}


@pytest.mark.parametrize("direction", ["into_other_body", "other_body_into_mine"])
def test_staff_cannot_merge_across_bodies(app, db, issues, direction):
    client = _staff_client(app, db, "crew@city.test", "city-works")
    dup, original = ((issues["city"], issues["state"]) if direction == "into_other_body"
                     else (issues["state"], issues["city"]))
    before, rows = _state(db, *issues.values()), snapshot(db)
    response = _merge(client, dup, original)
    if direction == "into_other_body":
        assert response.status_code == 400
        assert REFUSAL in field_error(response.text, "duplicate_original")
    else:  # the state issue is not theirs at all: the page itself is hidden
        assert response.status_code == 404
    assert _state(db, *issues.values()) == before
    assert snapshot(db) == rows


def test_a_chain_cannot_carry_a_merge_into_another_bodys_issue(app, db, issues):
    """City issue B was merged (by someone working both bodies) into the state issue; city
    staff merging A into B would land A's votes and watchers on the state issue."""
    with db.session() as s:
        b = file_report(s, "northside", 1.7, 1.0, description="Issue B")
        triage.mark_duplicate(s, b, s.get(Issue, issues["state"]), triage.Actor(None))
        b_id = b.id
    client = _staff_client(app, db, "crew@city.test", "city-works")
    before, rows = _state(db, issues["city"], issues["state"], b_id), snapshot(db)
    response = _merge(client, issues["city"], b_id)
    assert response.status_code == 400
    assert REFUSAL in field_error(response.text, "duplicate_original")
    assert _state(db, issues["city"], issues["state"], b_id) == before
    assert snapshot(db) == rows


def test_staff_of_both_bodies_may_merge_across_them(app, db, issues):
    client = _staff_client(app, db, "both@city.test", "city-works", "state-roads")
    assert _merge(client, issues["city"], issues["state"]).status_code == 303
    with db.session() as s:
        assert s.get(IssueDuplicate, issues["city"]).original_id == issues["state"]
        assert s.get(Issue, issues["city"]).status == "closed"
        assert s.get(Issue, issues["state"]).vote_count == 4
        assert sorted(s.scalars(select(Watch.email).where(
            Watch.issue_id == issues["state"]))) == ["city@follow.test", "state@follow.test"]
