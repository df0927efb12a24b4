"""A resident's path through a portal in a real browser: map, report, issue page."""

from __future__ import annotations

import asyncio
import threading
import time

from playwright.sync_api import expect

from tests.browser.conftest import LiveServer, axe_violations, screenshot


def test_resident_reports_a_pothole_by_clicking_the_map(live_server, page):
    page.goto(f"{live_server.url}/t/northside/report")
    page.wait_for_selector("#report-map.leaflet-container")
    # With the map running, the hint speaks of it (and the no-map hint is gone).
    expect(page.locator("#map-hint")).to_be_visible()
    expect(page.locator("#place-hint")).to_be_hidden()
    # Click the map in the middle of the portal's area: the pin lands, types appear.
    box = page.locator("#report-map").bounding_box()
    page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    expect(page.locator("#type-options input[type=radio]").first).to_be_visible()
    page.locator("#type-options label", has_text="Pothole").first.click()
    page.fill("#description", "Deep hole by the bus stop")
    page.click("#send-report")
    expect(page.locator(".alert-success")).to_contain_text("Your report was sent")
    expect(page.locator("h1")).to_contain_text("Pothole")
    assert not page.errors


def test_home_map_shows_pins_and_a_list_that_follows_it(live_server, page, session):
    from tests.factories import file_report

    for n in range(3):
        file_report(session, "northside", lat=2.0 + n * 0.1, lon=1.0, description=f"Thing {n}")
    session.commit()
    page.goto(f"{live_server.url}/t/northside/")
    page.wait_for_selector("#map[data-loaded='3']")
    assert page.locator(".leaflet-marker-icon.pin-open").count() == 3
    assert page.locator("#issue-list .issue-item").count() == 3
    violations = axe_violations(page)
    assert violations == [], violations
    screenshot(page, "portal-home.png")
    assert not page.errors


class SlowReports:
    """The app, with each report's POST held for `delay` seconds: a slow upload."""

    def __init__(self, app, delay: float) -> None:  # noqa: ANN001
        self.app, self.delay, self.posts = app, delay, 0

    async def __call__(self, scope, receive, send) -> None:  # noqa: ANN001
        if scope["type"] == "http" and scope["method"] == "POST" \
                and scope["path"].endswith("/report"):
            self.posts += 1
            await asyncio.sleep(self.delay)
        await self.app(scope, receive, send)


def test_send_says_sending_and_refuses_a_second_press_while_the_report_uploads(app, world,
                                                                               page):
    slow = SlowReports(app, 2.5)
    with LiveServer(slow) as server:
        page.goto(f"{server.url}/t/northside/report")
        page.wait_for_selector("#report-map.leaflet-container")
        box = page.locator("#report-map").bounding_box()
        page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
        page.locator("#type-options label", has_text="Pothole").first.click()
        page.fill("#description", "Deep hole by the bus stop")
        send = page.locator("#send-report")
        expect(send).to_have_text("Send report")
        # While the POST is out Playwright waits on the navigation, so the page notes for
        # itself what the button said then, and presses it again 0.3 s into the upload;
        # sessionStorage keeps the notes across the navigation.
        page.evaluate("""() => {
          const b = document.querySelector('#send-report');
          const note = () => sessionStorage.setItem('seen',
            JSON.stringify([b.textContent, b.getAttribute('aria-disabled')]));
          new MutationObserver(note).observe(b, {attributes: true, childList: true,
                                                 characterData: true, subtree: true});
          b.form.addEventListener('submit', () => setTimeout(() => {
            b.click(); note(); sessionStorage.setItem('pressed again', 'yes');
          }, 300));
        }""")
        send.click(no_wait_after=True)
        expect(page.locator(".alert-success")).to_contain_text("Your report was sent")
        assert slow.posts == 1  # the second press sent nothing
        assert page.evaluate("sessionStorage.getItem('pressed again')") == "yes"
        assert page.evaluate("JSON.parse(sessionStorage.getItem('seen'))") == [
            "Sending…", "true"]
    assert not page.errors


class HeldTypeLists:
    """The app, with the request-type lists asked for while `held` is set kept waiting until
    it is cleared: the list for a new place on a slow connection."""

    def __init__(self, app) -> None:  # noqa: ANN001
        self.app, self.held, self.waiting = app, threading.Event(), []

    async def __call__(self, scope, receive, send) -> None:  # noqa: ANN001
        if scope["type"] == "http" and scope["path"].endswith("/api/request-types") \
                and self.held.is_set():
            self.waiting.append(scope["query_string"].decode())
            while self.held.is_set():
                await asyncio.sleep(0.02)
        await self.app(scope, receive, send)


def test_a_type_chosen_while_the_new_places_list_is_on_its_way_stays_chosen(app, world, page):
    """A resident moves the pin off the state road, and before the list for the new place
    arrives picks "Pothole (state road)" from the list still shown: when the new list comes,
    the pothole of the body that has that place (the city's) is chosen, and the report goes."""
    slow = HeldTypeLists(app)
    with LiveServer(slow) as server:
        page.goto(f"{server.url}/t/northside/report")
        page.wait_for_selector("#report-map.leaflet-container")
        box = page.locator("#report-map").bounding_box()
        middle = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
        page.mouse.click(*middle)  # on the state road
        state_pothole = page.locator("#type-options label", has_text="Pothole (state road)")
        expect(state_pothole).to_have_count(1)
        first = page.locator("#type-options").get_attribute("data-place")
        slow.held.set()
        page.mouse.click(middle[0] + 20, middle[1] + 20)  # off the road: the city's street
        expect(page.locator("#lat")).not_to_have_value(first.split(",")[0])
        asked = "lat=" + page.locator("#lat").input_value()
        deadline = time.monotonic() + 10  # (the offline script may ask for the centre's too)
        while not any(asked in q for q in slow.waiting) and time.monotonic() < deadline:
            page.wait_for_timeout(20)
        assert any(asked in q for q in slow.waiting), "the new place's list is on its way"
        state_pothole.click()
        slow.held.clear()  # the new place's list arrives
        moved = page.locator("#lat").input_value() + "," + page.locator("#lon").input_value()
        expect(page.locator("#type-options")).to_have_attribute("data-place", moved)
        expect(page.locator("#type-options label", has_text="Pothole (state road)")
               ).to_have_count(0)
        expect(page.locator("input[name=request_type]:checked")).to_have_value(
            "city-works/pothole")
        page.fill("#description", "Deep hole by the bus stop")
        page.click("#send-report")
        expect(page.locator(".alert-success")).to_contain_text("Your report was sent")
        expect(page.locator("main")).to_contain_text("city-works")
    assert not page.errors
