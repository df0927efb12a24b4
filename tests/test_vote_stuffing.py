"""Anonymous votes cannot be stuffed: one per network per issue, whatever cookies or browser.

A resident who wipes cookies, or a script that varies its User-Agent, is still the same voter
on the same network (/24 for IPv4, /56 for IPv6). Signed-in people vote as themselves. Only a
keyed hash of the network is stored, never an address, and it changes every day.
"""

from __future__ import annotations

import hashlib
from datetime import date

import pytest
from sqlalchemy import select, text
from starlette.testclient import TestClient

from portal.models import Issue, Vote
from portal.reports import voting
from portal.staff import triage
from tests.factories import file_report
from tests.http_support import csrf
from tests.staff_support import sign_in

HOST = "http://northside.reportal.test"
NETWORK_NOTICE = "Someone on your network already voted for this issue today."


def browser(app, ip: str) -> TestClient:  # noqa: ANN001
    return TestClient(app, base_url=HOST, follow_redirects=False, client=(ip, 40000))


@pytest.fixture
def issue_id(db, world) -> int:  # noqa: ANN001
    with db.session() as s:
        return file_report(s, "northside", 1.9, 1.0).id


def _token(app) -> str:  # noqa: ANN001
    """An anonymous token for the portal (anyone can fetch one; it is not a person)."""
    return csrf(browser(app, "192.0.2.1").get("/signin").text)


def _vote(app, issue: int, ip: str, user_agent: str, token: str):  # noqa: ANN001, ANN202
    """A cookie-less browser votes once."""
    return browser(app, ip).post(f"/issues/{issue}/vote", data={"csrf_token": token},
                                 headers={"user-agent": user_agent})


def _count(db, issue: int) -> int:  # noqa: ANN001
    with db.session() as s:
        return s.get(Issue, issue).vote_count


def test_ten_cookieless_votes_with_varied_browsers_from_one_network_count_once(
        app, db, issue_id):
    token = _token(app)
    for n in range(10):
        r = _vote(app, issue_id, f"203.0.113.{n % 3 + 7}", f"Browser/{n}.0 (stuffing)", token)
        assert r.status_code == 303
    assert _count(db, issue_id) == 1
    follow = browser(app, "203.0.113.7").get(r.headers["location"])
    assert NETWORK_NOTICE in follow.text


def test_another_network_is_another_voter(app, db, issue_id):
    token = _token(app)
    _vote(app, issue_id, "203.0.113.7", "A", token)
    _vote(app, issue_id, "203.0.114.7", "A", token)  # the next /24
    _vote(app, issue_id, "2001:db8:0:1::1", "A", token)
    _vote(app, issue_id, "2001:db8:0:ff:1234::9", "B", token)  # same /56 as the one above
    _vote(app, issue_id, "2001:db8:0:100::1", "A", token)  # the next /56
    assert _count(db, issue_id) == 4


def test_a_kept_cookie_still_counts_once(app, db, issue_id):
    client = browser(app, "198.51.100.20")
    token = csrf(client.get(f"/issues/{issue_id}").text)  # sets the visitor cookie
    for _ in range(3):
        client.post(f"/issues/{issue_id}/vote", data={"csrf_token": token})
    assert _count(db, issue_id) == 1
    assert "You want this fixed too" in client.get(f"/issues/{issue_id}").text


def test_signed_in_people_vote_as_themselves_on_a_shared_network(app, db, issue_id):
    _vote(app, issue_id, "198.51.100.20", "Anon", _token(app))
    for email in ("ana@home.test", "ben@home.test"):
        client = browser(app, "198.51.100.21")
        sign_in(client, db, email)
        token = csrf(client.get(f"/issues/{issue_id}").text)
        assert client.post(f"/issues/{issue_id}/vote",
                           data={"csrf_token": token}).status_code == 303
        client.post(f"/issues/{issue_id}/vote", data={"csrf_token": token})  # twice: once
    assert _count(db, issue_id) == 3
    with db.session() as s:
        rows = list(s.scalars(select(Vote).where(Vote.issue_id == issue_id)))
    assert sorted(r.network_key is None for r in rows) == [False, True, True]


def test_no_address_is_stored(app, db, issue_id):
    ip, agent = "203.0.113.55", "Mozilla/5.0 Test"
    _vote(app, issue_id, ip, agent, _token(app))
    with db.engine.connect() as conn:
        stored = repr(conn.execute(text("SELECT * FROM votes")).all())
    assert "203.0.113" not in stored
    # Plain hashes of the address can be reversed by trying every address: none is stored.
    for raw in (ip, f"{ip}|{agent}", "203.0.113.0/24", f"203.0.113.0/24|{agent}"):
        assert hashlib.sha256(raw.encode()).hexdigest()[:32] not in stored


def test_the_network_key_is_keyed_and_changes_every_day():
    today, tomorrow = date(2025, 5, 1), date(2025, 5, 2)
    key = voting.network_key("203.0.113.7", "secret", today)
    assert key == voting.network_key("203.0.113.200", "secret", today)  # same /24
    assert key == voting.network_key("::ffff:203.0.113.9", "secret", today)  # mapped IPv4
    assert key != voting.network_key("203.0.113.7", "secret", tomorrow)
    assert key != voting.network_key("203.0.113.7", "other secret", today)
    assert key != voting.network_key("203.0.112.7", "secret", today)
    assert voting.network_of("2001:db8:0:ab:1::1") == "2001:db8::/56"
    assert voting.network_of("not an address") == "not an address"


def test_a_network_that_already_voted_on_both_issues_counts_once_after_a_merge(db, world):
    with db.session() as s:
        original = file_report(s, "northside", 1.9, 1.0)
        dup = file_report(s, "northside", 1.8, 1.0)
        assert voting.vote(s, original, "h:one", "n:shared")
        assert voting.vote(s, dup, "h:two", "n:shared")
        assert voting.vote(s, dup, "h:three", "n:other")
        triage.mark_duplicate(s, dup, original, triage.Actor(None))
        assert (original.vote_count, dup.vote_count) == (2, 0)


def test_votes_are_rate_limited_per_network_and_issue(app, db, issue_id):
    app.state.limiter.enabled = True
    with db.session() as s:
        other = file_report(s, "northside", 1.8, 1.0).id
    token = _token(app)
    limit, _window = app.state.limiter.limits["vote_issue"]
    for n in range(limit):
        assert _vote(app, issue_id, f"203.0.113.{n + 1}", "A", token).status_code == 303
    refused = _vote(app, issue_id, "203.0.113.250", "A", token)
    assert refused.status_code == 400 and "Too many requests" in refused.text
    assert _vote(app, other, "203.0.113.250", "A", token).status_code == 303
    assert _vote(app, issue_id, "198.51.100.1", "A", token).status_code == 303
    assert (_count(db, issue_id), _count(db, other)) == (2, 1)
