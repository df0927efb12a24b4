"""Widgets on a host page on a slow connection: the page does not move while they load, and a
refused widget gives its space back (issue 13, defects 2 and 14)."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from tests.browser.layout_checks import layout_shift, throttle, watch_layout_shift
from tests.browser.test_widgets_browser import host_site, portal, stranger_site, widget  # noqa: F401

STRICT_CSP = ("default-src 'none'; style-src 'self'; img-src 'self'; script-src {origin}; "
              "frame-src {origin}; require-trusted-types-for 'script'")


def test_widgets_on_a_strict_csp_page_over_3g_do_not_shift_it(portal, host_site, page):  # noqa: F811
    """The map widget in the first screen, the report form below: summed shift at most 0.05.

    The page reserves the first-screen widget's height in its own stylesheet, as the README
    says (its CSP allows its own styles; an async loader may run after the first paint); the
    loader reserves the others before their frames come near the screen."""
    host_site.page("/widgets.css", "[data-reportal=map] { height: 480px; }",
                   content_type="text/css")
    watch_layout_shift(page.context)
    throttle(page)
    body = ('<p>Our reporters mapped the city.</p>' + widget(portal, "map").full
            + '<p>Read on.</p>' + widget(portal, "report").element
            + '<div class="short"></div>' + widget(portal, "announcements").element)
    csp = STRICT_CSP.format(origin=portal.url)
    url = host_site.article("/slow.html", body, headers={"Content-Security-Policy": csp},
                            before="short", head='<link rel="stylesheet" href="/widgets.css">')
    page.goto(url)
    # The two frames near the first screen are inserted (the third waits to be scrolled to).
    # (A locator, not wait_for_function: the host's CSP forbids eval.)
    expect(page.locator("[data-reportal] iframe")).to_have_count(2, timeout=30_000)
    expect(page.locator("[data-reportal=map] iframe")).to_be_visible(timeout=30_000)
    page.wait_for_load_state("networkidle")
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
