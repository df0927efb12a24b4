"""Finding the place in a real browser: type into the search box, choose with the keyboard,
and the report form's pin, fields and request types follow."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import LiveServer, axe_violations, screenshot
from tests.places_support import build_boston


@pytest.fixture
def boston_server(app, session, settings, tmp_path):  # noqa: ANN001
    build_boston(session, tmp_path / "tenants", settings.themes_dir)
    session.commit()
    with LiveServer(app) as server:
        yield server


def test_a_resident_finds_the_place_by_typing_and_the_keyboard(boston_server, page):
    page.goto(f"{boston_server.url}/t/boston/report")
    page.wait_for_selector("#report-map.leaflet-container")
    box = page.locator("#place-q")
    expect(box).to_have_attribute("role", "combobox")
    box.focus()
    page.keyboard.type("137 notinghill", delay=30)  # misspelt, as residents do
    options = page.locator("#place-q-list [role=option]")
    expect(options.first).to_contain_text("137 Nottinghill Rd")
    expect(box).to_have_attribute("aria-expanded", "true")
    assert axe_violations(page) == []
    page.keyboard.press("ArrowDown")
    expect(options.first).to_have_attribute("aria-selected", "true")
    expect(box).to_have_attribute("aria-activedescendant", "place-q-list-0")
    page.keyboard.press("Enter")
    expect(page.locator("#place-q-list")).to_be_hidden()
    expect(page.locator("#lat")).to_have_value("42.343960")
    expect(page.locator("#lon")).to_have_value("-71.149231")
    expect(page.locator("#address")).to_have_value("137 Nottinghill Rd")
    expect(page.locator("#place-q-status")).to_have_text("Place chosen: 137 Nottinghill Rd")
    expect(page.locator("#type-options label", has_text="Sidewalk")).to_be_visible()
    expect(page.locator(".pin-you")).to_have_count(1)
    zoom = page.evaluate("window.ReportalMap.maps[0].getZoom()")
    centre = page.evaluate("(() => { const c = window.ReportalMap.maps[0].getCenter();"
                           " return [c.lat, c.lng]; })()")
    assert zoom >= 17
    assert abs(centre[0] - 42.34396) < 1e-4 and abs(centre[1] + 71.149231) < 1e-4
    assert axe_violations(page) == []
    screenshot(page, "place-search.png")
    page.locator("#type-options label", has_text="Sidewalk").click()
    page.fill("#description", "Broken slab")
    page.click("#send-report")
    expect(page.locator("dd", has_text="near 137 Nottinghill Rd, Brighton")).to_be_visible()
    assert not page.errors


def test_escape_closes_the_list_and_enter_without_a_choice_sends_the_search(
        boston_server, page):
    page.goto(f"{boston_server.url}/t/boston/")
    box = page.locator("#place-q")
    box.focus()
    page.keyboard.type("Allston", delay=20)
    expect(page.locator("#place-q-list [role=option]").first).to_contain_text("Allston")
    page.keyboard.press("Escape")
    expect(page.locator("#place-q-list")).to_be_hidden()
    expect(box).to_have_attribute("aria-expanded", "false")
    page.keyboard.press("Enter")  # no suggestion highlighted: the plain search runs
    expect(page.locator("h2", has_text="Places matching")).to_be_visible()
    expect(page.locator(".place-results a").first).to_have_text("Allston")
    assert axe_violations(page) == []
    assert not page.errors


def test_on_the_home_page_a_choice_moves_the_map_to_the_street(boston_server, page):
    page.goto(f"{boston_server.url}/t/boston/")
    page.wait_for_selector("#map.leaflet-container")
    page.locator("#place-q").focus()
    page.keyboard.type("9-15 orleans", delay=20)
    expect(page.locator("#place-q-list [role=option]").first).to_contain_text("9-15 Orleans St")
    page.keyboard.press("ArrowDown")
    page.keyboard.press("Enter")
    page.wait_for_function("window.ReportalMap.maps[0].getZoom() >= 17")
    centre = page.evaluate("(() => { const c = window.ReportalMap.maps[0].getCenter();"
                           " return [c.lat, c.lng]; })()")
    assert abs(centre[0] - 42.366866) < 1e-4 and abs(centre[1] + 71.038767) < 1e-4
    assert not page.errors


def test_a_report_filed_by_keyboard_alone_with_the_pin_moved_by_arrow_keys(boston_server, page):
    page.goto(f"{boston_server.url}/t/boston/report")
    page.wait_for_selector("#report-map.leaflet-container")
    page.locator("#place-q").focus()
    page.keyboard.type("137 nottinghill rd", delay=20)
    expect(page.locator("#place-q-list [role=option]").first).to_be_visible()
    page.keyboard.press("ArrowDown")
    page.keyboard.press("Enter")
    expect(page.locator("#lon")).to_have_value("-71.149231")
    # The chosen place's name is announced first; the arrow keys' news comes after it.
    expect(page.locator("#place-status")).to_contain_text("Place set near")
    expect(page.locator("#map-keys")).to_be_visible()
    the_map = page.locator("#report-map")
    expect(the_map).to_have_attribute("tabindex", "0")
    the_map.focus()
    for _ in range(5):
        page.keyboard.press("ArrowRight")
    page.keyboard.press("ArrowUp")
    expect(page.locator("#place-status")).to_have_text(
        "Pin moved. Press Enter to set the place here.")
    expect(page.locator("#lon")).to_have_value("-71.149231")  # not set until Enter
    assert axe_violations(page) == []
    page.keyboard.press("Enter")
    expect(page.locator("#lon")).not_to_have_value("-71.149231")
    lon, lat = float(page.input_value("#lon")), float(page.input_value("#lat"))
    # Fifty pixels east and ten north at street level: some twenty metres, not kilometres.
    assert 0.00005 < lon + 71.149231 < 0.0006 and 0 < lat - 42.343960 < 0.0002
    # Named after the address point nearest the new spot (a neighbour of 137).
    expect(page.locator("#place-status")).to_have_text(re.compile(
        r"^Place set near \d+ Nottinghill Rd, Brighton\. Now choose the kind of problem\.$"))
    named = page.text_content("#place-status").removeprefix("Place set near ").split(".")[0]
    page.locator("#type-options input[type=radio]").first.focus()
    page.keyboard.press("Space")
    page.locator("#description").focus()
    page.keyboard.type("Lifted slab by the kerb")
    page.locator("#send-report").focus()
    page.keyboard.press("Enter")
    expect(page.locator(".alert-success")).to_contain_text("Your report was sent")
    expect(page.locator("dd", has_text=f"near {named}")).to_be_visible()
    assert not page.errors
