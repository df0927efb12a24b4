"""Atom feeds parse as valid Atom, escape what people typed, and hide nothing that is hidden
leaks into them."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from datetime import UTC, datetime, timedelta

from portal.reports import status
from portal.staff import announcements
from tests.factories import file_report, tenant

ATOM = "{http://www.w3.org/2005/Atom}"


def parse(response) -> ET.Element:  # noqa: ANN001
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/atom+xml; charset=utf-8"
    root = ET.fromstring(response.content)
    assert root.tag == f"{ATOM}feed"
    for name in ("id", "title", "updated"):
        assert root.findtext(f"{ATOM}{name}"), name
    assert root.find(f"{ATOM}author/{ATOM}name").text
    assert root.find(f"{ATOM}link[@rel='self']").get("href").startswith("http")
    for entry in root.iter(f"{ATOM}entry"):
        for name in ("id", "title", "updated"):
            assert entry.findtext(f"{ATOM}{name}"), name
        assert entry.findtext(f"{ATOM}id").startswith("tag:")
        datetime.fromisoformat(entry.findtext(f"{ATOM}updated"))
        assert entry.find(f"{ATOM}link").get("href").startswith("http://")
    return root


def test_portal_feed_has_new_issues_and_public_status_changes_only(client, db, world):
    with db.session() as s:
        nasty = file_report(s, "northside", 1.2, 1.0, title="<script>alert(1)</script> & co",
                            description="Bell and escape")
        # Forms refuse control characters now; rows written before that may still hold them.
        nasty.description = "Bell\x07 and \x1b escape"
        status.change_status(s, nasty, "acknowledged", author="Desk", text="On it")
        status.change_status(s, nasty, "closed", author="Desk", text="secret", internal=True)
        hidden = file_report(s, "northside", 1.3, 1.0, title="Hidden one")
        hidden.hidden = True
        file_report(s, "riverside", 0.5, 1.0, title="Other portal")
    root = parse(client.get("/feed.atom"))
    entries = list(root.iter(f"{ATOM}entry"))
    titles = [e.findtext(f"{ATOM}title") for e in entries]
    assert titles == ["<script>alert(1)</script> & co is now: Acknowledged",
                      "New: <script>alert(1)</script> & co"]
    summaries = " ".join(e.findtext(f"{ATOM}summary") or "" for e in entries)
    assert "Bell and  escape" in summaries and "secret" not in summaries
    assert entries[1].find(f"{ATOM}link").get("href").endswith(f"/issues/{nasty.id}")
    assert "&lt;script&gt;" in client.get("/feed.atom").text


def test_feed_is_linked_from_every_page(client, world):
    assert 'type="application/atom+xml" href="/feed.atom"' in client.get("/").text


def test_announcements_feed_shows_current_sanitised_announcements(client, db, world):
    now = datetime.now(UTC)
    with db.session() as s:
        portal = tenant(s, "northside")
        announcements.publish(s, title={"en": "Leaf pickup"},
                              body_md={"en": "Bags out by **7am**. <script>x()</script>"
                                             "[bad](javascript:alert(1))"},
                              tenant=portal)
        announcements.publish(s, title={"en": "Future"}, body_md={"en": "Later"},
                              tenant=portal, publish_at=now + timedelta(days=3))
        announcements.publish(s, title={"en": "Old"}, body_md={"en": "Gone"}, tenant=portal,
                              publish_at=now - timedelta(days=9),
                              expire_at=now - timedelta(days=1))
        area = {"type": "Polygon", "coordinates": [[[4, 4], [5, 4], [5, 5], [4, 5], [4, 4]]]}
        announcements.publish(s, title={"en": "Elsewhere"}, body_md={"en": "Far"},
                              body=world.bodies["state-roads"], area_geojson=json.dumps(area))
    root = parse(client.get("/announcements.atom"))
    entries = list(root.iter(f"{ATOM}entry"))
    assert [e.findtext(f"{ATOM}title") for e in entries] == ["Leaf pickup"]
    content = entries[0].find(f"{ATOM}content")
    assert content.get("type") == "html"
    assert "<strong>7am</strong>" in content.text
    assert "<script" not in content.text and "javascript:" not in content.text


def test_empty_feeds_are_valid(app, world):
    from tests.conftest import client_for

    far = client_for(app, "faraway.reportal.test")
    assert list(parse(far.get("/feed.atom")).iter(f"{ATOM}entry")) == []
    assert list(parse(far.get("/announcements.atom")).iter(f"{ATOM}entry")) == []


def test_feed_links_use_the_portal_host_only_when_the_portal_owns_it(app, world, db):
    from tests.conftest import client_for

    with db.session() as s:
        file_report(s, "northside", 1.2, 1.0)
    own = parse(client_for(app, "northside.reportal.test").get("/feed.atom"))
    assert own.find(f"{ATOM}link[@rel='self']").get("href") == \
        "http://northside.reportal.test/feed.atom"
    dev = parse(client_for(app, "localhost:8000").get("/t/northside/feed.atom"))
    assert dev.find(f"{ATOM}link[@rel='self']").get("href") == \
        "http://reportal.test/t/northside/feed.atom"
