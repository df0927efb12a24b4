"""The home map is one tab stop, however many pins it draws: the keyboard pans it with the
arrows and zooms it with + and -, and the list beside it (which the map names as its
description) lists exactly the issues whose pins are in view."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import axe_violations
from tests.browser.test_map_clusters_browser import is_map_answer
from tests.factories import file_report

# Around northside's centre (lat 1..3, lon 0..2), far enough apart that no two pins overlap
# at the first view (no on-screen groups); two more in riverside only (lat -1..1.5).
GRID = [(lat, lon) for lat in (1.8, 2.2) for lon in (0.6, 0.8, 1.0, 1.2, 1.4)] + [(2.0, 1.0)]
RIVERSIDE = [(0.4, 0.8), (0.4, 1.2)]


@pytest.fixture
def grid(world, session) -> list[int]:  # noqa: ANN001
    ids = [file_report(session, "northside", lat, lon, title=f"Grid pothole {n}").id
           for n, (lat, lon) in enumerate(GRID)]
    for lat, lon in RIVERSIDE:
        file_report(session, "riverside", lat, lon, title="Riverside pothole")
    session.commit()
    return ids


def tab_stops(page: Page, most: int = 150) -> list[dict]:
    """Every element Tab reaches from the top of the page, once round, in order."""
    page.evaluate("document.activeElement && document.activeElement.blur()")
    stops: list[dict] = []
    for _ in range(most):
        page.keyboard.press("Tab")
        here = page.evaluate("""() => { const e = document.activeElement;
            const name = e.getAttribute('aria-label') || e.textContent || '';
            return {tag: e.tagName, id: e.id, cls: String(e.className),
                    inMap: !!e.closest('#map'),
                    marker: e.classList.contains('leaflet-marker-icon'),
                    text: name.trim().slice(0, 40)}; }""")
        if stops and here == stops[0] or here["tag"] == "BODY":
            break
        stops.append(here)
    return stops


def pins_in_view(page: Page) -> set[int]:
    keys = page.eval_on_selector_all(".leaflet-marker-icon", "els => els.map(e => e.dataset.key)")
    assert all(k.startswith("issue:") for k in keys), keys  # pins, no group or cluster
    return {int(k.split(":")[1]) for k in keys}


def listed(page: Page) -> set[int]:
    hrefs = page.eval_on_selector_all("#issue-list .issue-item a", "els => els.map(e => e.href)")
    return {int(re.search(r"/issues/(\d+)", h).group(1)) for h in hrefs}


def settled(page: Page, answer: dict) -> None:
    page.wait_for_selector(f"#map[data-drawn-zoom='{answer['zoom']}']")
    expect(page.locator("#issue-count")).to_have_text(
        f"Issues in this map view: {answer['total']}")
    page.wait_for_function("n => document.querySelectorAll('#issue-list .issue-item').length"
                           " === n", arg=answer["total"])


def test_the_home_map_is_one_tab_stop_and_its_list_is_what_it_shows(live_server, page, grid):
    with page.expect_response(is_map_answer) as first:
        page.goto(f"{live_server.url}/t/northside/")
    answer = first.value.json()
    settled(page, answer)
    assert answer["clustered"] is False and answer["total"] == len(GRID)
    assert pins_in_view(page) == listed(page) == set(grid)

    stops = tab_stops(page)
    in_map = [s for s in stops if s["inMap"]]
    # The map itself and Leaflet's two zoom buttons; never a pin.
    assert [s["id"] for s in in_map if s["id"]] == ["map"] and len(in_map) <= 3, in_map
    assert not any(s["marker"] for s in stops)
    assert len(stops) < 60, [s["text"] for s in stops]  # a few dozen, not one per pin
    described = page.get_attribute("#map", "aria-describedby").split()
    assert described == ["map-help", "issue-count"]
    assert "Arrow keys move the map" in page.text_content("#map-help")

    # Keyboard alone: focus the map, zoom in with +, pan with the arrows. The list and the
    # live count follow, and still list exactly the pins in view.
    page.focus("#map")
    for _ in range(4):  # zoom in until some pins are out of view
        with page.expect_response(is_map_answer) as zoomed:
            page.keyboard.press("+")
        answer = zoomed.value.json()
        settled(page, answer)
        assert pins_in_view(page) == listed(page)
        if answer["total"] < len(GRID):
            break
    assert answer["zoom"] > first.value.json()["zoom"] and 0 < answer["total"] < len(GRID)
    before = pins_in_view(page)
    for _ in range(12):  # pan east until the view holds other pins
        with page.expect_response(is_map_answer) as panned:
            page.keyboard.press("ArrowRight")
        settled(page, panned.value.json())
        if pins_in_view(page) != before:
            break
    assert pins_in_view(page) != before and pins_in_view(page) == listed(page)
    assert page.evaluate("document.activeElement.id") == "map"  # focus stayed on the map
    assert not page.errors


@pytest.mark.parametrize("slug, lang", [("northside", "en"), ("riverside", "ar")])
def test_the_home_map_page_is_axe_clean(live_server, page, grid, slug, lang):
    with page.expect_response(is_map_answer):
        page.goto(f"{live_server.url}/t/{slug}/?lang={lang}")
    page.wait_for_selector(".leaflet-marker-icon")
    page.focus("#map")
    violations = axe_violations(page)
    assert violations == [], violations
    assert not page.errors
