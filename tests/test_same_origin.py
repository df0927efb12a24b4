"""A token fetched elsewhere cannot be replayed from another site.

A page on another site can fetch an anonymous CSRF token (it is bound to the portal, not a
person) and make its visitors' browsers post it. Browsers say where a post comes from
(`Origin`, `Sec-Fetch-Site`); any state change they mark as coming from elsewhere is refused
with 403 and changes nothing. Posts from our own pages, our widget iframes and non-browser
clients (no such headers) still work.
"""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from portal.middleware.same_origin import same_origin
from portal.models import Issue
from tests.conftest import client_for
from tests.factories import file_report
from tests.http_support import csrf, form_tokens
from tests.staff_support import grant, sign_in
from tests.test_staff_permissions import snapshot

CROSS_SITE = [
    {"sec-fetch-site": "cross-site"},
    {"sec-fetch-site": "cross-site", "origin": "http://northside.reportal.test"},
    {"origin": "https://attacker.example"},
    {"origin": "http://riverside.reportal.test"},  # another portal: same site, other origin
    {"origin": "http://northside.reportal.test:8080"},
    {"origin": "null"},
    {"origin": "http://127.0.0.2:8766"},  # the embedding page itself, not our iframe
]


@pytest.fixture
def issue_id(db, world) -> int:  # noqa: ANN001
    with db.session() as s:
        return file_report(s, "northside", 1.9, 1.0).id


def _votes(db, issue: int) -> int:  # noqa: ANN001
    with db.session() as s:
        return s.get(Issue, issue).vote_count


@pytest.mark.parametrize("headers", CROSS_SITE)
def test_a_cross_site_vote_with_a_valid_token_is_refused(client, db, issue_id, headers):
    token = csrf(client.get(f"/issues/{issue_id}").text)
    before = snapshot(db)
    r = client.post(f"/issues/{issue_id}/vote", data={"csrf_token": token}, headers=headers)
    assert r.status_code == 403 and "Cross-site request refused" in r.text
    assert _votes(db, issue_id) == 0 and snapshot(db) == before


@pytest.mark.parametrize("headers", [
    {},  # a non-browser client: no Origin, no Sec-Fetch-Site
    {"origin": "http://northside.reportal.test", "sec-fetch-site": "same-origin"},
    {"origin": "http://NorthSide.reportal.test:80"},
    {"sec-fetch-site": "same-site"},  # no Origin to contradict it
    {"sec-fetch-site": "none"},
])
def test_same_origin_and_headerless_votes_still_count(client, db, issue_id, headers):
    token = csrf(client.get(f"/issues/{issue_id}").text)
    r = client.post(f"/issues/{issue_id}/vote", data={"csrf_token": token}, headers=headers)
    assert r.status_code == 303
    assert _votes(db, issue_id) == 1


def test_a_path_prefixed_portal_accepts_its_own_origin(app, db, issue_id):
    base = client_for(app, "reportal.test")
    token = csrf(base.get(f"/t/northside/issues/{issue_id}").text)
    ok = base.post(f"/t/northside/issues/{issue_id}/vote", data={"csrf_token": token},
                   headers={"origin": "http://reportal.test", "sec-fetch-site": "same-origin"})
    assert ok.status_code == 303 and _votes(db, issue_id) == 1


def test_cross_site_reports_comments_and_staff_actions_are_refused(app, db, issue_id):
    foreign = {"origin": "https://attacker.example", "sec-fetch-site": "cross-site"}
    client = client_for(app, "northside.reportal.test")
    fields = {"lat": "1.5", "lon": "1.0", "request_type": "city-works/pothole",
              "description": "Forged", **form_tokens(client, "/report")}
    assert client.post("/report", data=fields, headers=foreign).status_code == 403
    token = csrf(client.get(f"/issues/{issue_id}").text)
    assert client.post(f"/issues/{issue_id}/comments", data={"csrf_token": token, "text": "x"},
                       headers=foreign).status_code == 403
    grant(db, "crew@city.test", "staff", body="city-works")
    sign_in(client, db, "crew@city.test")
    staff_token = csrf(client.get(f"/staff/issues/{issue_id}").text)
    before = snapshot(db)
    for path, form in ((f"/staff/issues/{issue_id}/status", {"status": "closed"}),
                       (f"/staff/issues/{issue_id}/note", {"text": "forged"}),
                       ("/signout", {})):
        r = client.post(path, data={"csrf_token": staff_token, **form}, headers=foreign)
        assert r.status_code == 403, path
    assert client.delete(f"/issues/{issue_id}", headers=foreign).status_code == 403
    assert snapshot(db) == before
    assert client.get(f"/staff/issues/{issue_id}").status_code == 200  # still signed in


def test_the_widget_iframe_posts_as_the_portal_and_the_embedding_page_cannot(app, db, world):
    dev = client_for(app, "127.0.0.1:8000")
    tokens = form_tokens(dev, "/w/northside/report?lang=en")
    fields = {**tokens, "lat": "2.0", "lon": "1.0", "request_type": "city-works/pothole",
              "description": "Hole by the bakery"}
    host_page = {"origin": "http://127.0.0.2:8766", "sec-fetch-site": "cross-site"}
    assert dev.post("/w/northside/report?lang=en", data=fields,
                    headers=host_page).status_code == 403
    # What the iframe's own form sends: its document is the portal's page.
    iframe = {"origin": "http://127.0.0.1:8000", "sec-fetch-site": "same-origin"}
    sent = dev.post("/w/northside/report?lang=en", data=fields, headers=iframe)
    assert sent.status_code == 303
    with db.session() as s:
        assert s.scalar(select(func.count()).select_from(Issue)) == 1


@pytest.mark.parametrize(("origin", "host", "expected"), [
    ("https://a.test", "a.test", True),
    ("https://a.test", "a.test:443", True),
    ("http://a.test", "a.test:80", True),
    ("http://a.test:8080", "a.test:8080", True),
    ("http://A.Test", "a.test", True),
    ("http://[::1]:8000", "[::1]:8000", True),
    ("http://a.test:8080", "a.test", False),
    ("http://a.test", "a.test:8080", False),
    ("http://a.test.evil", "a.test", False),
    ("http://b.test", "a.test", False),
    ("null", "a.test", False),
    ("", "a.test", False),
    ("ftp://a.test", "a.test", False),
    ("http://a.test:99999", "a.test", False),
    ("http://a.test", "", False),
])
def test_origin_matching(origin, host, expected):
    assert same_origin(origin, host) is expected
