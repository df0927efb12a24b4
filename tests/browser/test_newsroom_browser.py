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
    # The frames grew to their content: nothing cut off, no scroll bar inside.
    for kind, f in (("stats", stats_frame), ("issue", card_frame)):
        height = page.eval_on_selector(f"[data-reportal={kind}]",
                                       "e => parseInt(e.style.height, 10)")
        assert abs(height - f.evaluate(
            "Math.ceil(document.body.getBoundingClientRect().height)")) <= 1, kind

    page.wait_for_timeout(200)
    for f in page.frames:
        assert f.evaluate("window.__csp") == [], f.url
    assert not [line for line in page.console  # type: ignore[attr-defined]
                if "Content Security Policy" in line or "Trusted Type" in line]
    assert not page.errors
    for f in (page, stats_frame, card_frame):
        violations = axe_violations(f)  # type: ignore[arg-type]
        assert violations == [], violations
