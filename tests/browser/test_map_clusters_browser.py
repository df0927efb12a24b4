"""Clusters on the home map and the map widget, in Chromium, against the real map API.

More issues are loaded (through the importer, the bulk write path) than the map API draws as
pins, so the whole-portal view answers with clusters: each shows its count and the statuses
in it as shapes, is named by the server's label, and zooms into its cell when activated by
mouse or keyboard, so it splits into smaller clusters or pins.
"""

from __future__ import annotations

import csv
import random
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import pytest
from playwright.sync_api import Frame, Page, expect

from portal.data.importer import import_issues
from tests.browser.conftest import axe_violations, screenshot
from tests.factories import tenant

HEADER = ["row_id", "created_at", "status", "summary", "description", "rating", "lat", "lng"]
STATUSES = ["Open"] * 10 + ["Acknowledged"] * 4 + ["Closed"] * 5 + ["Archived"]
MANY = 1500  # far more than the ~300 pins the map API ever draws
NEWEST = "Newest pothole at the centre"
START = datetime(2024, 1, 1, tzinfo=UTC)


def load_many(session, folder: Path) -> list[tuple[str, float, float]]:  # noqa: ANN001
    """MANY issues over northside and riverside (lon 0..2, lat -1..3), in a few hot spots as a
    city has them, one a minute; the newest is at northside's centre (lat 2, lon 1). Returns
    (title, lat, lon) of each, oldest first."""
    rng = random.Random(10)
    spots = [(rng.uniform(-0.8, 2.8), rng.uniform(0.2, 1.8)) for _ in range(12)]
    rows = []
    for n in range(MANY):
        if n % 3:
            lat, lon = spots[n % len(spots)]
            lat, lon = lat + rng.gauss(0, 0.08), lon + rng.gauss(0, 0.08)
        else:
            lat, lon = rng.uniform(-0.95, 2.95), rng.uniform(0.05, 1.95)
        rows.append([str(n), (START + timedelta(minutes=n)).isoformat(), rng.choice(STATUSES),
                     f"Pothole {n}", "", "0", f"{min(max(lat, -0.99), 2.99):.5f}",
                     f"{min(max(lon, 0.01), 1.99):.5f}"])
    rows.append([str(MANY), (START + timedelta(minutes=MANY)).isoformat(), "Open", NEWEST, "",
                 "0", "2.0", "1.0"])
    path = folder / "many.csv"
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(HEADER)
        writer.writerows(rows)
    for slug in ("northside", "riverside"):  # each takes the records inside its own area
        import_issues(session, path, tenant(session, slug), default_type="pothole")
    session.commit()
    return [(r[3], float(r[6]), float(r[7])) for r in rows]


def newest_in_view(where: Page | Frame, issues: list[tuple[str, float, float]],
                   area: tuple[float, float, float, float] = (0, 1, 2, 3)) -> list[str]:
    """Titles of the 20 newest issues inside the map's view and the portal's area."""
    w, s, e, n = where.evaluate("(b => [b.getWest(), b.getSouth(), b.getEast(), b.getNorth()])"
                                "(ReportalMap.maps[0].getBounds())")
    inside = [t for t, lat, lon in issues if max(s, area[1]) <= lat <= min(n, area[3])
              and max(w, area[0]) <= lon <= min(e, area[2])]
    return inside[::-1][:20]


def is_map_answer(response) -> bool:  # noqa: ANN001
    return "/api/issues.geojson" in response.url and "zoom" in parse_qs(
        urlparse(response.url).query)


def drawn_markers(where: Page | Frame) -> list[dict]:
    """What each cluster marker on the map shows and is called, in drawing order."""
    return where.eval_on_selector_all(
        ".leaflet-marker-icon.cluster",
        "els => els.map(e => ({label: e.getAttribute('aria-label'), title: e.title,"
        " text: e.querySelector('.cluster-count').textContent, role: e.getAttribute('role'),"
        " tabindex: e.tabIndex, marks: [...e.querySelectorAll('.cluster-mark')]"
        ".map(m => m.className.split('pin-')[1])}))")


def compact(where: Page | Frame, n: int) -> str:
    lang = where.evaluate("document.documentElement.lang")
    return where.evaluate("([n, lang]) => new Intl.NumberFormat(lang, {notation: 'compact',"
                          " maximumFractionDigits: 1}).format(n)", [n, lang])


def assert_drawn_as_answered(where: Page | Frame, answer: dict) -> None:
    """Every cluster of the API's answer is on the map: its count in the page's language, its
    statuses as shapes (largest share first) and the server's label as its accessible name."""
    assert answer["clustered"] is True, answer
    features = answer["features"]
    assert features and all(f["properties"]["cluster"] for f in features)
    drawn = drawn_markers(where)
    assert len(drawn) == len(features)
    for marker, feature in zip(drawn, features, strict=True):
        p = feature["properties"]
        ranked = sorted((s for s in p["counts"] if p["counts"][s]), key=lambda s: -p["counts"][s])
        # A button by name for a screen reader, but no tab stop: the map is the one stop.
        assert marker == {"label": p["label"], "title": p["label"], "role": "button",
                          "text": compact(where, p["count"]), "tabindex": -1,
                          "marks": marker["marks"]}
        assert sorted(marker["marks"]) == sorted(ranked)
        assert [p["counts"][s] for s in marker["marks"]] == sorted(
            (p["counts"][s] for s in ranked), reverse=True)


def map_zoom(where: Page | Frame) -> float:
    return where.evaluate("ReportalMap.maps[0].getZoom()")


def inside_view(where: Page | Frame, answer: dict, margin: int = 30) -> list[bool]:
    """For each feature, whether its marker is drawn well inside the map (a cluster's centre
    may lie outside: its cell only touches the view)."""
    return where.evaluate("""([features, margin]) => { const m = ReportalMap.maps[0];
        const size = m.getSize();
        return features.map(f => { const c = f.geometry.coordinates;
            const p = m.latLngToContainerPoint([c[1], c[0]]);
            return p.x > margin && p.y > margin && p.x < size.x - margin && p.y < size.y - margin;
        }); }""", [answer["features"], margin])


def biggest(where: Page | Frame, answer: dict) -> int:
    """The index of the biggest cluster that a mouse can reach."""
    seen = inside_view(where, answer)
    counts = [f["properties"]["count"] if ok else -1
              for f, ok in zip(answer["features"], seen, strict=True)]
    return counts.index(max(counts))


def activate_and_read(where: Page | Frame, page: Page, index: int, key: str) -> dict:
    """Focus the index-th cluster, press `key`, and return the map API's next answer."""
    cluster = where.locator(".leaflet-marker-icon.cluster").nth(index)
    cluster.focus()
    with page.expect_response(is_map_answer) as next_answer:
        page.keyboard.press(key)
    answer = next_answer.value.json()
    where.wait_for_selector(f"#map[data-drawn-zoom='{answer['zoom']}']")
    return answer


def assert_split(where: Page | Frame, before: dict, index: int, after: dict) -> None:
    """The map zoomed into the activated cluster's cell, which now shows as smaller clusters
    or as pins, and the keyboard focus moved to one of them."""
    cell = before["features"][index]["properties"]
    assert after["zoom"] > before["zoom"]
    w, s, e, n = cell["bounds"]
    lat, lon = where.evaluate("(c => [c.lat, c.lng])(ReportalMap.maps[0].getCenter())")
    assert s <= lat <= n and w <= lon <= e
    if after["clustered"]:
        assert all(f["properties"]["count"] < cell["count"] for f in after["features"])
        assert_drawn_as_answered(where, after)
    else:
        # Every issue is drawn: as its pin, or counted in the small group its pin would
        # overlap at this zoom (24 px targets, WCAG 2.2); no server cluster is left.
        pins = where.locator(".leaflet-marker-icon.pin").count()
        grouped = where.eval_on_selector_all(
            ".leaflet-marker-icon[data-near]", "els => els.reduce((n, e) => n + +e.dataset.near,"
            " 0)")
        assert pins + grouped == len(after["features"]) > 0
        assert where.locator(".leaflet-marker-icon.cluster:not([data-near])").count() == 0
    assert where.evaluate("document.activeElement.classList.contains('leaflet-marker-icon')")


@pytest.fixture
def many(world, session, tmp_path) -> list[tuple[str, float, float]]:  # noqa: ANN001
    return load_many(session, tmp_path)


def test_home_map_shows_clusters_that_split_as_the_keyboard_zooms_in(live_server, page, many):
    requests: list[str] = []
    page.on("request", lambda r: requests.append(r.url) if "/api/issues.geojson" in r.url
            or "bbox=" in r.url else None)
    with page.expect_response(is_map_answer) as first:
        page.goto(f"{live_server.url}/t/northside/")
    answer = first.value.json()
    page.wait_for_selector("#map[data-clustered='true']")
    assert_drawn_as_answered(page, answer)
    assert map_zoom(page) == answer["zoom"]

    # The list beside the map still lists the newest issues in view, from one extra request
    # (the home page's own list for the same view: votes, dates and pager as the server
    # renders them), and the count is the map answer's total.
    first_titles = newest_in_view(page, many)
    expect(page.locator("#issue-list .issue-item a")).to_have_text(first_titles)
    expect(page.locator("#issue-list .issue-item a").first).to_have_text(NEWEST)
    expect(page.locator("#issue-count")).to_have_text(
        f"Issues in this map view: {answer['total']:,}")
    listed = [u for u in requests if "/api/issues.geojson" not in u]
    assert len(listed) == 1 and urlparse(listed[0]).path == "/t/northside/"
    assert parse_qs(urlparse(listed[0]).query)["bbox"] == parse_qs(
        urlparse(requests[0]).query)["bbox"]

    # The cluster is found by its label, as a screen reader user would find it.
    index = biggest(page, answer)
    label = answer["features"][index]["properties"]["label"]
    assert re.match(r"^[\d,]+ issues — Open: [\d,]+", label)
    expect(page.get_by_role("button", name=label, exact=True).first).to_be_visible()
    violations = axe_violations(page)
    assert violations == [], violations
    screenshot(page, "map-clusters.png")

    after = activate_and_read(page, page, index, "Enter")
    assert_split(page, answer, index, after)
    expect(page.locator("#issue-count")).to_have_text(
        f"Issues in this map view: {after['total']:,}")
    titles = newest_in_view(page, many)
    assert titles and titles != first_titles  # so the list did follow the map
    expect(page.locator("#issue-list .issue-item a")).to_have_text(titles)
    assert not page.errors


def test_a_cluster_zooms_in_when_clicked(live_server, page, many):
    with page.expect_response(is_map_answer) as first:
        page.goto(f"{live_server.url}/t/northside/")
    answer = first.value.json()
    page.wait_for_selector("#map[data-clustered='true']")
    index = biggest(page, answer)
    with page.expect_response(is_map_answer) as second:
        page.locator(".leaflet-marker-icon.cluster").nth(index).click()
    after = second.value.json()
    page.wait_for_selector(f"#map[data-drawn-zoom='{after['zoom']}']")
    assert after["zoom"] > answer["zoom"]
    if after["clustered"]:
        assert_drawn_as_answered(page, after)
    assert not page.errors


def test_a_pin_popup_stays_open_when_opening_it_moves_the_map(live_server, page, world, session):
    from tests.factories import file_report

    issue = file_report(session, "northside", lat=2.0, lon=1.0, description="Hole by the edge")
    session.commit()
    page.goto(f"{live_server.url}/t/northside/")
    page.wait_for_selector("#map[data-loaded='1']")
    with page.expect_response(is_map_answer):
        # Zoomed in with the pin 12 px below the top edge: its popup does not fit above it.
        page.evaluate("""() => { const m = ReportalMap.maps[0];
            m.setView([2.0, 1.0], 15, {animate: false});
            m.panBy([0, m.getSize().y / 2 - 12], {animate: false}); }""")
    page.wait_for_selector("#map[data-drawn-zoom='15']")
    with page.expect_response(is_map_answer):  # the popup pans the map into view: a reload
        page.locator(".leaflet-marker-icon.pin").click()
    page.wait_for_timeout(300)
    expect(page.locator(".leaflet-popup-content a")).to_have_text(issue.title or "Pothole")
    assert not page.errors


def test_a_view_left_before_its_answer_came_is_aborted_and_never_drawn(live_server, page, many):
    page.goto(f"{live_server.url}/t/northside/")
    page.wait_for_selector("#map[data-clustered='true']")
    failed: list[tuple[str, str]] = []
    page.on("requestfailed", lambda r: failed.append((r.url, r.failure or "")))
    with page.expect_response(is_map_answer) as last:
        # Two moves in one go: the first view's request is replaced before it can answer.
        page.evaluate("""() => { const m = ReportalMap.maps[0];
            m.setView([1.5, 0.5], 11, {animate: false});
            m.setView([2.5, 1.5], 12, {animate: false}); }""")
    answer = last.value.json()
    page.wait_for_selector("#map[data-drawn-zoom='12']")
    assert answer["zoom"] == 12
    aborted = [parse_qs(urlparse(url).query) for url, why in failed if "ERR_ABORTED" in why]
    assert [q["zoom"] for q in aborted if "zoom" in q] == [["11"]], failed
    page.wait_for_timeout(300)
    assert page.get_attribute("#map", "data-drawn-zoom") == "12"
    assert not page.errors


@pytest.mark.parametrize("slug, lang", [("northside", "en"), ("riverside", "ar")])
def test_the_map_widget_draws_clusters_that_space_splits(live_server, page, many, slug, lang):
    with page.expect_response(is_map_answer) as first:
        page.goto(f"{live_server.url}/w/{slug}/map?lang={lang}")
    answer = first.value.json()
    page.wait_for_selector("#map[data-clustered='true']")
    # The widget asks for the page's language: the labels are the server's, in it.
    assert parse_qs(urlparse(first.value.url).query)["lang"] == [lang]
    assert_drawn_as_answered(page, answer)
    violations = axe_violations(page)
    assert violations == [], violations
    screenshot(page, f"widget-map-clusters-{lang}.png")
    index = biggest(page, answer)
    after = activate_and_read(page, page, index, "Space")
    assert_split(page, answer, index, after)
    assert not page.errors


def test_a_cluster_that_cannot_zoom_further_links_to_its_issues(live_server, page, world,
                                                                 session, tmp_path):
    # Issues stacked on one spot stay one cluster even at the map's closest zoom.
    rows = [[str(n), (START + timedelta(minutes=n)).isoformat(), "Open", f"Pothole {n}", "",
             "0", "2.00001", "1.00001"] for n in range(400)]
    path = tmp_path / "stacked.csv"
    with path.open("w", newline="", encoding="utf-8") as handle:
        csv.writer(handle).writerows([HEADER, *rows])
    import_issues(session, path, tenant(session, "northside"), default_type="pothole")
    session.commit()
    page.goto(f"{live_server.url}/t/northside/")
    page.wait_for_selector("#map[data-clustered]")
    page.evaluate("ReportalMap.maps[0].setView([2.00001, 1.00001], 19, {animate: false})")
    page.wait_for_selector("#map[data-drawn-zoom='19'][data-clustered='true']")
    cluster = page.locator(".leaflet-marker-icon.cluster").first
    cluster.focus()
    page.keyboard.press("Enter")
    link = page.locator(".leaflet-popup-content a")
    expect(link).to_have_text("See these issues as a list")
    expect(link).to_be_focused()
    link.click()
    expect(page.locator(".issue-list .issue-item")).to_have_count(50)
    assert "bbox=" in page.url


def test_the_search_results_map_clusters_the_results_in_its_view(live_server, page, many):
    requests: list[str] = []
    page.on("request", lambda r: requests.append(r.url) if "/api/issues.geojson" in r.url
            else None)
    with page.expect_response(is_map_answer) as first:
        page.goto(f"{live_server.url}/t/northside/search?q=Pothole")
    answer = first.value.json()
    page.wait_for_selector("#map[data-clustered='true']")
    assert_drawn_as_answered(page, answer)
    assert parse_qs(urlparse(first.value.url).query)["q"] == ["Pothole"]
    assert len(requests) == 1  # no list follows this map: no second request
    # The words filter the map too: one match, one pin.
    with page.expect_response(is_map_answer) as one:
        page.goto(f"{live_server.url}/t/northside/search?q=Newest")
    assert one.value.json()["clustered"] is False
    page.wait_for_selector("#map[data-loaded='1']")
    assert page.locator(".leaflet-marker-icon.pin-open").count() == 1
    assert not page.errors
