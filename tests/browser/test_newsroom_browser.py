"""A newsroom's article on another origin, under a strict Content-Security-Policy, with a
stats card and an issue card pasted from the snippet generator: both render through the
loader, nothing breaks the host's policy, and axe finds nothing (WCAG 2.2 AA tags)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import LiveServer, axe_violations
from tests.browser.host_site import HostSite
from tests.browser.test_widgets_browser import frame, wait_ready, watched, widget
from tests.factories import file_report, jpeg_bytes, tenant
from widgets import snippets


@pytest.fixture
def newsroom_site() -> Iterator[HostSite]:
    with HostSite() as site:
        yield site


@pytest.fixture
def newsroom(app, world, session, newsroom_site, settings) -> Iterator[tuple[LiveServer, int]]:
    """Riverside (a newspaper portal) allows the newsroom; one issue with a photo."""
    portal = tenant(session, "riverside")
    portal.embed_origins = [newsroom_site.origin]
    issue = file_report(session, "riverside", lat=0.25, lon=0.5, title="Broken kerb on Quay St",
                        photo=jpeg_bytes((320, 240)), media_dir=settings.media_dir)
    file_report(session, "riverside", lat=0.3, lon=0.6)
    session.commit()
    app.state.tenants.clear()
    with LiveServer(app) as server:
        yield server, issue.id


@pytest.mark.parametrize("lang, direction", [("en", "ltr"), ("ar", "rtl")])
def test_stats_and_issue_cards_in_a_strict_newsroom_page(newsroom, newsroom_site, page, lang,
                                                         direction):
    server, issue_id = newsroom
    csp = (f"default-src 'none'; script-src {server.url}; frame-src {server.url}; "
           "style-src 'self'; require-trusted-types-for 'script'")
    stats = widget(server, "stats", "riverside", lang=lang, period="30d")
    card = widget(server, "issue", "riverside", lang=lang, issue=str(issue_id))
    body = stats.full + "<p>The council's figures, then one reader's report.</p>" + card.element
    url = newsroom_site.article(f"/story-{lang}.html", body,
                                headers={"Content-Security-Policy": csp}, before="short")
    watched(page).goto(url)
    page.locator("[data-reportal=issue]").scroll_into_view_if_needed()
    wait_ready(page, 2)

    stats_frame = frame(page, "/w/riverside/stats")
    svg = stats_frame.locator("svg[role=img]")
    expect(svg).to_be_visible()
    assert stats_frame.locator("svg title").text_content()
    assert stats_frame.evaluate("document.documentElement.dir") == direction
    stats_frame.locator(".stats-table summary").click()
    expect(stats_frame.locator(".stats-table td[data-figure=total]")).to_have_text(
        "2")  # Western digits in every language the portal offers

    card_frame = frame(page, "/w/riverside/issue")
    expect(card_frame.locator("h1")).to_have_text("Broken kerb on Quay St")
    expect(card_frame.locator(".status-open .status-shape")).to_be_attached()
    photo = card_frame.locator(".issue-card-photo")
    expect(photo).to_be_visible()
    assert photo.evaluate("img => img.complete && img.naturalWidth > 0")
    # The frames grew to their content (nothing cut off, no scroll bar inside) but, on their
    # first page, never below the height the snippet reserved: nothing under them moves up.
    for kind, f in (("stats", stats_frame), ("issue", card_frame)):
        height = page.eval_on_selector(f"[data-reportal={kind}]",
                                       "e => parseInt(e.style.height, 10)")
        content = f.evaluate("Math.ceil(document.body.getBoundingClientRect().height)")
        assert abs(height - max(content, snippets.DEFAULT_HEIGHTS[kind])) <= 1, kind

    page.wait_for_timeout(200)
    for f in page.frames:
        assert f.evaluate("window.__csp") == [], f.url
    assert not [line for line in page.console  # type: ignore[attr-defined]
                if "Content Security Policy" in line or "Trusted Type" in line]
    assert not page.errors
    for f in (page, stats_frame, card_frame):
        violations = axe_violations(f)  # type: ignore[arg-type]
        assert violations == [], violations


def test_compare_page_sorts_by_a_link_and_is_axe_clean(app, world, session, tmp_path, page):
    """The compare page, with JavaScript off: a column's link sorts the table."""
    import json

    from portal.places import named_areas
    from tests.worlds import box

    features = [{"type": "Feature", "properties": {"name": {"en": name}, "population": people},
                 "geometry": box(*ring)["geometry"]}
                for name, people, ring in (("West Bank", 2000, (0, -1, 1, 1.5)),
                                           ("East Bank", 500, (1, -1, 2, 1.5)))]
    (tmp_path / "places.geojson").write_text(json.dumps({"type": "FeatureCollection",
                                                         "features": features}))
    named_areas.load_portal_places(session, tenant(session, "riverside"), tmp_path)
    for lon in (0.2, 0.4, 1.5):
        file_report(session, "riverside", lat=0.25, lon=lon)
    session.commit()
    with LiveServer(app) as server:
        context = page.context.browser.new_context(java_script_enabled=False)
        plain = context.new_page()
        plain.goto(f"{server.url}/t/riverside/compare?period=30d")
        rows = plain.locator("#compare-table tbody th")
        expect(rows).to_have_text(["East Bank", "West Bank"])
        plain.get_by_role("link", name="Reports per 1,000 residents").click()
        expect(rows).to_have_text(["East Bank", "West Bank"])  # 2 per 1,000, then 1
        expect(plain.locator("th[aria-sort=descending]")).to_have_count(1)
        plain.get_by_role("link", name="Reports", exact=True).click()
        expect(rows).to_have_text(["West Bank", "East Bank"])
        context.close()
        page.goto(f"{server.url}/t/riverside/compare?period=30d")
        assert axe_violations(page) == []
