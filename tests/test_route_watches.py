"""Watch my commute: a resident picks one of the portal's corridors (or draws a line) with a
distance, and gets the issues along it exactly like an area watch: instant notices, the daily
digest and the private feed. A report just off the route reaches nobody."""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import func, select

from portal.core import geo
from portal.engagement import digests
from portal.mail import compose
from portal.models import OutboxMessage, Watch
from portal.staff import announcements
from tests.conftest import client_for
from tests.corridor_support import LINE_LAT, build_commuters, north_of_line
from tests.factories import file_report, tenant
from tests.http_support import csrf, field_error

ATOM = "{http://www.w3.org/2005/Atom}"


@pytest.fixture
def commuters(world, session, settings, tmp_path):
    return build_commuters(session, tmp_path / "tenants", settings.themes_dir)


@pytest.fixture
def browser(app, commuters):  # noqa: ANN001,ANN201
    return client_for(app, "commuters.example.test")


def kinds(db, kind: str) -> list[OutboxMessage]:
    with db.session() as s:
        return list(s.scalars(select(OutboxMessage).where(OutboxMessage.kind == kind)
                              .order_by(OutboxMessage.id)))


def ask(client, **fields):  # noqa: ANN001,ANN201
    page = client.get("/watch")
    data = {"csrf_token": csrf(page.text), "email": "commuter@example.org", "kind": "route",
            "corridor": "blue-line", "route_distance": "100", "frequency": "instant",
            **fields}
    return client.post("/watch", data=data)


def confirmed(client, db, **fields) -> Watch:  # noqa: ANN001
    assert ask(client, **fields).status_code == 303
    body = kinds(db, "watch_confirm")[-1].body_text
    path = re.search(re.escape(compose.PORTAL_URL) + r"(/watch/confirm/\S+)", body).group(1)
    assert client.post(path).status_code == 200
    with db.session() as s:
        return s.scalars(select(Watch).order_by(Watch.id.desc())).first()


def test_the_watch_page_offers_the_portals_corridors_by_name(browser):
    page = browser.get("/watch").text
    assert 'name="kind" value="route"' in page
    assert '<option value="blue-line">Blue shuttle</option>' in page
    assert 'name="route_line"' in page and 'name="route_distance"' in page


def test_a_report_along_the_corridor_reaches_the_commuter_and_one_off_it_does_not(browser, db):
    watch = confirmed(browser, db)
    assert watch.kind == "route" and watch.corridor == "blue-line" and watch.radius_m == 100
    with db.session() as s:
        # Both inside the portal's box, where the line starts: 80 m north, 90 m south.
        file_report(s, "commuters", *north_of_line(80, lon=4.015), title="Sign gone at the stop")
        file_report(s, "commuters", *north_of_line(-90, lon=4.015), title="Kerb broken")
        # Inside the portal (its box) but 500 m from the line: not on the route.
        file_report(s, "commuters", 4.005, 4.005, title="Far from the route")
    notices = kinds(db, "watch_new")
    assert [m.recipient for m in notices] == ["commuter@example.org"] * 2
    assert "Sign gone at the stop" in notices[0].subject
    assert "Kerb broken" in notices[1].subject
    assert "Within 100 m of the route Blue shuttle" in notices[0].body_text
    assert not any("Far from the route" in m.subject for m in notices)


def test_a_route_watch_follows_the_distance_chosen_not_the_corridors_width(browser, db):
    confirmed(browser, db, route_distance="50")
    with db.session() as s:
        file_report(s, "commuters", *north_of_line(40), title="Close")
        file_report(s, "commuters", *north_of_line(58), title="Just off")  # in the 60 m corridor
    assert [m.subject for m in kinds(db, "watch_new")] == ["New report near you: Close"]


def test_a_line_drawn_on_the_map_is_watched_like_a_corridor(browser, db):
    drawn = json.dumps({"type": "LineString",
                        "coordinates": [[4.001, 4.001], [4.001, 4.019]]})  # north-south
    watch = confirmed(browser, db, corridor="", route_line=drawn, route_distance="250")
    assert watch.corridor is None
    with db.session() as s:
        file_report(s, "commuters", 4.010, 4.003, title="By my path")  # ~220 m east
        file_report(s, "commuters", 4.010, 4.0035, title="Past my path")  # ~280 m east
    assert [m.subject for m in kinds(db, "watch_new")] == ["New report near you: By my path"]
    assert "Within 250 m of the route you drew" in kinds(db, "watch_new")[0].body_text


def test_the_daily_digest_and_the_feed_list_the_issues_along_the_route(browser, db):
    watch = confirmed(browser, db, frequency="daily")
    at = datetime(2025, 3, 10, 9, 0, tzinfo=UTC)
    with db.session() as s:
        for title, point in (("On the route", north_of_line(20)),
                             ("Off the route", (4.005, 4.005))):
            file_report(s, "commuters", *point, title=title).created_at = at
    assert kinds(db, "watch_new") == []
    with db.session() as s:
        assert digests.compose_digests(s, date(2025, 3, 10)) == 1
    text = kinds(db, "watch_digest")[0].body_text
    assert "On the route" in text and "Off the route" not in text
    assert "Within 100 m of the route Blue shuttle" in text
    feed = ET.fromstring(browser.get(f"/watch/{watch.feed_token}/feed.atom").content)
    titles = [e.findtext(f"{ATOM}title") for e in feed.iter(f"{ATOM}entry")]
    assert titles == ["New: On the route"]


def test_an_announcement_touching_the_route_reaches_it_and_one_elsewhere_does_not(
        browser, db):
    confirmed(browser, db)
    with db.session() as s:
        portal = tenant(s, "commuters")
        for title, (lat, lon) in (("Stop moved", north_of_line(0)),
                                  ("Lot closed", (4.005, 4.005))):
            announcements.publish(s, title={"en": title}, body_md={"en": "Details."},
                                  tenant=portal, area_geojson=geo.circle(lat, lon, 100))
    assert [m.subject for m in kinds(db, "watch_announcement")] == ["Announcement: Stop moved"]


@pytest.mark.parametrize(("fields", "field", "message"), [
    ({"corridor": "red-line"}, "route", "Choose one of the routes listed."),
    ({"corridor": "", "route_line": ""}, "route", "Choose a route, or draw one on the map."),
    ({"corridor": "", "route_line": '{"type": "Point", "coordinates": [4, 4]}'}, "route",
     "Draw a route of at least two points on the map, or choose one of the routes listed."),
    ({"corridor": "", "route_line": "not json"}, "route",
     "Draw a route of at least two points on the map, or choose one of the routes listed."),
    ({"corridor": "", "route_line": json.dumps(
        {"type": "LineString", "coordinates": [[4.5, 4.5], [4.6, 4.5]]})}, "route",
     "The route must pass through this portal&#39;s area."),
    ({"corridor": "", "route_line": json.dumps(
        {"type": "LineString", "coordinates": [[4.01, LINE_LAT], [4.01, 4.7]]})}, "route",
     "A route can be at most 50 km long."),
    ({"route_distance": "5000"}, "route_distance",
     "Choose a distance between 25 and 1000 metres."),
    ({"route_distance": "nan"}, "route_distance",
     "Choose a distance between 25 and 1000 metres."),
])
def test_a_bad_route_is_refused_with_a_clear_error_and_writes_nothing(browser, db, fields,
                                                                      field, message):
    response = ask(browser, **fields)
    assert response.status_code == 400
    assert field_error(response.text, field) == message
    with db.session() as s:
        assert s.scalar(select(func.count()).select_from(Watch)) == 0
        assert s.scalar(select(func.count()).select_from(OutboxMessage)) == 0
