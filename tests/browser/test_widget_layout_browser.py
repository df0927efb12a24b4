"""Widgets on a host page on a slow connection: the page does not move while they load, with no
CSS of the host's own, and a refused widget gives its space back (issue 13, defects 2 and 14)."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.browser.layout_checks import layout_shift, throttle, watch_layout_shift
from tests.browser.test_widgets_browser import host_site, portal, stranger_site, widget  # noqa: F401
from tests.factories import file_report
from widgets.snippets import KINDS

STRICT_CSP = ("default-src 'none'; style-src 'self'; img-src 'self'; script-src {origin}; "
              "frame-src {origin}; require-trusted-types-for 'script'")


@pytest.mark.parametrize("kind", KINDS)
def test_a_widget_in_the_first_screen_of_a_strict_csp_page_over_3g_does_not_shift_it(
        portal, host_site, page, session, kind):  # noqa: F811
    """The widget first on the page, text under it, the host's CSP forbidding our stylesheet
    and inline styles, and no rule of the host's own reserving the space: summed shift at most
    0.05 while the frame loads, says "ready" and sizes itself. The snippet's <iframe> keeps
    the space by its height attribute before any script runs."""
    # An issue card needs its issue; the other kinds need no option.
    options = {"issue": file_report(session, "northside", lat=2.0, lon=1.0).id} \
        if kind == "issue" else {}
    session.commit()
    watch_layout_shift(page.context)
    throttle(page)
    body = ('<p>Our reporters mapped the city.</p>' + widget(portal, kind, **options).full
            + '<p>Read on.</p>' * 3 + widget(portal, "announcements").element)
    csp = STRICT_CSP.format(origin=portal.url)
    url = host_site.article(f"/{kind}.html", body, headers={"Content-Security-Policy": csp},
                            before="short")
    page.goto(url)
    box = page.locator(f"[data-reportal={kind}]").first
    # (A locator, not wait_for_function: the host's CSP forbids eval.)
    expect(box.locator("iframe")).to_be_visible(timeout=30_000)
    expect(box.locator("a")).to_be_hidden()
    page.wait_for_load_state("networkidle")
    page.wait_for_timeout(1500)  # the frame's "ready" and its height messages have arrived
    shift, shifts = layout_shift(page)
    assert shift <= 0.05, shifts


def test_a_refused_widget_shrinks_to_its_link_and_names_no_partner(portal, stranger_site, page):  # noqa: F811
    frame_csp: list[str] = []
    page.on("response", lambda r: frame_csp.append(r.headers.get("content-security-policy", ""))
            if "/w/northside/" in r.url else None)
    body = widget(portal, "map").full + widget(portal, "report").element
    page.goto(stranger_site.article("/stolen.html", body, before="short"))
    for kind in ("map", "report"):
        box = page.locator(f"[data-reportal={kind}]")
        expect(box.locator("a")).to_be_visible(timeout=6_000)
        expect(box.locator("iframe")).to_be_hidden()
        # No 480 or 640 px left blank under the link: the box is the link's height.
        link_height = box.locator("a").bounding_box()["height"]
        assert box.bounding_box()["height"] <= link_height + 8
    # The refused site is told only 'self': the portal's allowed partners stay unnamed.
    only_self = re.compile(r"frame-ancestors 'self'(;|$)")
    assert frame_csp and all(only_self.search(c) for c in frame_csp), frame_csp
