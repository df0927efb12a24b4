"""A commuter in a real browser: on the watch page they pick the portal's shuttle corridor
(or draw their own route on the map), confirm from the mail, and a report along the corridor
reaches their mailbox through the outbox and a real SMTP server; one off it does not. The
watch page passes axe-core (WCAG 2.2 AA tags) with the route part showing."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterator
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import expect

from portal.mail import outbox
from tests.browser.conftest import LiveServer, axe_violations, screenshot
from tests.conftest import client_for
from tests.corridor_support import build_commuters, north_of_line
from tests.http_support import form_tokens
from tests.mail_support import Mailbox, link_to, smtp_server

COMMUTER = "commuter@example.org"


@pytest.fixture
def commute_server(app, world, session, settings, tmp_path) -> Iterator[LiveServer]:  # noqa: ANN001
    build_commuters(session, tmp_path / "tenants", settings.themes_dir)
    with LiveServer(app) as server:
        yield server


def report(resident, lat: float, lon: float, title: str) -> None:  # noqa: ANN001
    tokens = form_tokens(resident, "/report")
    sent = resident.post("/report", data={
        **tokens, "lat": str(lat), "lon": str(lon), "request_type": "state-roads/pothole",
        "description": "A deep pothole on the way to the shuttle", "title": title})
    assert sent.status_code == 303, sent.text


def test_a_commuter_watches_the_shuttle_corridor_and_a_report_on_it_reaches_them(
        commute_server, page, app, db, settings):
    box = Mailbox()
    with smtp_server(box) as port:
        mail_settings = dataclasses.replace(settings, smtp_port=port)

        def deliver() -> None:
            assert outbox.drain(db, mail_settings).failed == 0

        base = f"{commute_server.url}/t/commuters"
        page.goto(f"{base}/watch")
        page.get_by_label("Along a route (my commute)").check()
        expect(page.locator("#route-map")).to_be_visible()  # drawing needs the script
        violations = axe_violations(page)
        assert violations == [], violations
        page.get_by_label("Route", exact=True).select_option(label="Blue shuttle")
        page.get_by_label("Distance either side").select_option("100")
        page.get_by_label("Your email").fill(COMMUTER)
        page.get_by_role("button", name="Send me the confirmation link").click()
        expect(page.get_by_role("heading", name="Check your email")).to_be_visible()
        screenshot(page, "commute-watch-sent.png")

        deliver()
        confirm = link_to(box.to(COMMUTER)[-1], "/watch/confirm/")
        page.goto(commute_server.url + urlsplit(confirm).path)
        assert "Within 100 m of the route Blue shuttle" in page.content()
        page.get_by_role("button", name="Yes, confirm my watch").click()
        expect(page.get_by_text("Your watch is on")).to_be_visible()
        assert axe_violations(page) == []

        resident = client_for(app, "commuters.example.test")
        report(resident, *north_of_line(60, lon=4.015), title="Pothole by the shuttle stop")
        report(resident, 4.005, 4.005, title="Pothole across the campus")
        deliver()
        notices = [m for m in box.to(COMMUTER) if "New report near you" in m["Subject"]]
        assert [m["Subject"] for m in notices] == [
            "New report near you: Pothole by the shuttle stop"]
        assert "Within 100 m of the route Blue shuttle" in notices[0].get_content()


def test_a_commuter_draws_their_own_route_on_the_map(commute_server, page):
    page.goto(f"{commute_server.url}/t/commuters/watch")
    route_map = page.locator("#route-map")
    route_map.scroll_into_view_if_needed()
    area = route_map.bounding_box()
    for fx, fy in ((0.3, 0.5), (0.5, 0.45), (0.7, 0.5)):
        page.mouse.click(area["x"] + area["width"] * fx, area["y"] + area["height"] * fy)
    line = json.loads(page.locator("#route_line").input_value())
    assert line["type"] == "LineString" and len(line["coordinates"]) == 3
    expect(page.get_by_label("Along a route (my commute)")).to_be_checked()
    expect(page.locator("#route-map path.watch-area")).to_have_count(1)
    page.get_by_role("button", name="Start the line again").click()
    assert page.locator("#route_line").input_value() == ""
    assert page.errors == []  # type: ignore[attr-defined]
