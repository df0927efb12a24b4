"""A resident's path through a portal in a real browser: map, report, issue page."""

from __future__ import annotations

from playwright.sync_api import expect

from tests.browser.conftest import axe_violations, screenshot


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
