"""Widgets on someone else's website, in Chromium: the host pages are served from 127.0.0.2
(another site), the portal from 127.0.0.1, and the snippets are written by the generator."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from playwright.sync_api import Frame, Page, expect

from portal.staff import announcements
from tests.browser.conftest import (
    CHROMIUM,
    CHROMIUM_ARGS,
    LiveServer,
    _only_loopback,
    axe_violations,
    screenshot,
)
from tests.browser.host_site import HostSite
from tests.factories import file_report, tenant
from widgets import loader, snippets

# Runs in every frame before its own scripts: collects what the tests assert on.
WATCH = """
window.__messages = []; window.__csp = []; window.__shift = 0;
addEventListener("message", e => window.__messages.push({origin: e.origin, data: e.data,
  at: performance.now()}));
document.addEventListener("securitypolicyviolation", e => window.__csp.push(
  e.violatedDirective + " " + e.blockedURI), true);
new PerformanceObserver(list => list.getEntries().forEach(e => {
  if (!e.hadRecentInput) window.__shift += e.value;
})).observe({type: "layout-shift", buffered: true});
window.__globals = Object.getOwnPropertyNames(window);
"""


@pytest.fixture
def host_site() -> Iterator[HostSite]:
    """The newsroom's site: an origin both test portals allow."""
    with HostSite() as site:
        yield site


@pytest.fixture
def stranger_site() -> Iterator[HostSite]:
    """Another site (same host, other port, so another origin) that no portal allows."""
    with HostSite() as site:
        yield site


@pytest.fixture
def portal(app, world, session, host_site) -> Iterator[LiveServer]:  # noqa: ANN001
    """The live portal; northside and riverside list the host site as an embedding origin."""
    for slug in ("northside", "riverside"):
        tenant(session, slug).embed_origins = [host_site.origin]
    session.commit()
    app.state.tenants.clear()
    with LiveServer(app) as server:
        yield server


def widget(server: LiveServer, kind: str, slug: str = "northside", **values: object
           ) -> snippets.Snippet:
    names = {"northside": "Northside Portal", "riverside": "Riverside Portal"}
    options, errors = snippets.parse_options(slug, {"kind": kind, **values}, ["en", "es", "ar"])
    assert not errors
    return snippets.build_snippet(options, server.url, f"{server.url}/t/{slug}", names[slug],
                                  loader.current())


def watched(page: Page) -> Page:
    page.add_init_script(WATCH)
    page.console = []  # type: ignore[attr-defined]
    page.on("console", lambda m: page.console.append(m.text))  # type: ignore[attr-defined]
    return page


def wait_ready(page: Page, count: int) -> None:
    page.wait_for_function(
        "n => window.__messages.filter(m => m.data && m.data.type === 'ready').length >= n",
        arg=count, timeout=10_000)


def frame(page: Page, path: str) -> Frame:
    return next(f for f in page.frames if path in f.url)


def reserved(page: Page, kind: str) -> int:
    return page.eval_on_selector(f"[data-reportal={kind}]",
                                 "e => parseInt(e.style.height, 10)")


def content_height(f: Frame) -> int:
    return f.evaluate("Math.ceil(document.body.getBoundingClientRect().height)")


def settled(page: Page, kind: str, f: Frame, floor: int) -> int:
    """The element's height once the frame has sized it: its content's, but on the first
    page never less than the height reserved (nothing under it jumps up while it loads)."""
    for _ in range(100):
        height = reserved(page, kind)
        if height == max(floor, content_height(f)):
            return height
        page.wait_for_timeout(100)
    raise AssertionError((kind, height, content_height(f)))


def test_three_widgets_on_one_page_load_lazily_and_fit_their_content(portal, host_site, page,
                                                                     session):
    for n in range(2):
        file_report(session, "northside", lat=2.0 + n * 0.2, lon=1.0, description=f"Hole {n}")
    announcements.publish(session, title={"en": "Road works on Main Street"},
                          body_md={"en": "Until *Friday*."}, tenant=tenant(session, "northside"))
    session.commit()
    m, r, a = widget(portal, "map"), widget(portal, "report"), widget(portal, "announcements")
    # The loader twice (two editors pasted it): still one loader, one frame per widget.
    body = (m.full + '<div class="filler"></div>' + r.full + '<div class="filler"></div>'
            + a.element)
    watched(page).goto(host_site.article("/three.html", body, before="short"))
    wait_ready(page, 1)
    # The frames are in the snippet, sized by their attributes before any script; the browser
    # loads each as it nears the screen (loading="lazy").
    assert page.locator("iframe[loading=lazy]").count() == 3
    assert reserved(page, "report") >= 640 and reserved(page, "announcements") >= 360
    new_globals = page.evaluate("Object.getOwnPropertyNames(window).filter(k => isNaN(k)"
                                " && k !== '__globals' && !window.__globals.includes(k))")
    assert new_globals == ["Reportal"]  # frames show up as window[0], window[1]: not globals
    map_frame = frame(page, "/w/northside/map")
    map_frame.wait_for_selector("#map[data-loaded='2']")
    assert map_frame.locator(".leaflet-marker-icon.pin-open").count() == 2

    page.locator("[data-reportal=report]").scroll_into_view_if_needed()
    wait_ready(page, 2)
    report = frame(page, "/w/northside/report")
    height = settled(page, "report", report, 640)
    assert 120 <= height <= 3000
    assert page.locator("[data-reportal=report] iframe").get_attribute("allow") == "geolocation"

    page.locator("[data-reportal=announcements]").scroll_into_view_if_needed()
    wait_ready(page, 3)
    news = frame(page, "/w/northside/announcements")
    expect(news.locator("h2")).to_have_text("Road works on Main Street")
    settled(page, "announcements", news, 360)
    assert page.locator("iframe").count() == 3
    titles = page.eval_on_selector_all("iframe", "fs => fs.map(f => f.title)")
    assert titles == ["Issue map of Northside Portal", "Report a problem to Northside Portal",
                      "Announcements from Northside Portal"]
    assert not page.errors


def test_report_filed_in_the_widget_appears_on_the_portals_map_and_list(portal, host_site,
                                                                        page):
    url = host_site.article("/report.html", widget(portal, "report").full, before="short")
    watched(page).goto(url)
    wait_ready(page, 1)
    report = frame(page, "/w/northside/report")
    # Place first: the map is loaded only when asked for.
    assert report.evaluate("typeof window.L") == "undefined"
    report.click("#show-map")
    report.wait_for_selector("#report-map.leaflet-container")
    box = report.locator("#report-map").bounding_box()
    page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    report.locator("#type-options label", has_text="Pothole").first.click()
    report.fill("#description", "Sinkhole outside the library")
    report.click("#send-report")
    expect(report.locator(".alert-success h1")).to_contain_text("Your report was sent")
    link = report.locator("#issue-link")
    assert link.get_attribute("target") == "_blank"
    # The frame shrank to the confirmation, within the clamp.
    page.wait_for_function("h => parseInt(document.querySelector('[data-reportal=report]')"
                           ".style.height, 10) < h", arg=600)
    assert reserved(page, "report") == content_height(report) >= 120
    with page.context.expect_page() as opened:
        link.click()
    issue_page = opened.value
    issue_page.wait_for_load_state()
    assert re.search(r"/t/northside/issues/\d+$", issue_page.url)
    expect(issue_page.locator(".issue-description")).to_have_text("Sinkhole outside the library")

    issue_page.goto(f"{portal.url}/t/northside/")
    issue_page.wait_for_selector("#map[data-loaded='1']")
    expect(issue_page.locator("#issue-list .issue-item")).to_have_count(1)
    expect(issue_page.locator("#issue-list")).to_contain_text("Pothole")

    # And the map widget shows it; its pin opens the issue on the portal in a new tab.
    page.goto(host_site.article("/map.html", widget(portal, "map").full, before="short"))
    wait_ready(page, 1)
    map_frame = frame(page, "/w/northside/map")
    map_frame.wait_for_selector("#map[data-loaded='1']")
    map_frame.click(".leaflet-marker-icon")
    with page.context.expect_page() as opened:
        map_frame.locator(".leaflet-popup-content a").click()
    assert opened.value.url.startswith(f"{portal.url}/t/northside/issues/")
    assert not page.errors


def test_strict_csp_and_trusted_types_host_page_logs_no_violation(portal, host_site, page,
                                                                  session):
    file_report(session, "northside", lat=2.0, lon=1.0)
    session.commit()
    csp = (f"default-src 'none'; script-src {portal.url}; frame-src {portal.url}; "
           "style-src 'self'; require-trusted-types-for 'script'")
    # The pinned loader: Subresource Integrity (and so CORS) under the same strict policy.
    body = (widget(portal, "map").pinned + widget(portal, "report").element
            + widget(portal, "announcements").element)
    url = host_site.article("/strict.html", body, headers={"Content-Security-Policy": csp},
                            before="short")
    watched(page).goto(url)
    for kind in ("report", "announcements"):
        page.locator(f"[data-reportal={kind}]").scroll_into_view_if_needed()
    wait_ready(page, 3)
    frame(page, "/w/northside/map").wait_for_selector("#map[data-loaded='1']")
    report = frame(page, "/w/northside/report")
    report.fill("#lat", "2.0")
    report.fill("#lon", "1.0")
    report.press("#lon", "Tab")
    expect(report.locator("#type-options input[type=radio]").first).to_be_attached()
    page.wait_for_timeout(300)
    for f in page.frames:
        assert f.evaluate("window.__csp") == [], f.url
    assert not [line for line in page.console  # type: ignore[attr-defined]
                if "Content Security Policy" in line or "Trusted Type" in line]
    assert not page.errors


def test_third_party_cookies_blocked_anonymous_report_still_succeeds(app, world, session,
                                                                     host_site, browser):
    """The browser holds the portal's cookies, yet the widget gets none and needs none.

    The portal is framed cross-site (127.0.0.2 -> 127.0.0.1) over plain HTTP, so Chromium
    sends it no cookie: ours are SameSite=Lax and a SameSite=None cookie would need Secure,
    that is HTTPS. This Chromium (156) has no switch, preference or CDP call that changes that
    over HTTP (we tried `--test-third-party-cookie-phaseout`, the block_third_party_cookies
    preference and Network.setCookieControls: no difference), so the browser runs with the
    phase-out flag for good measure and the proof is on the server: a recording wrapper
    asserts that no request from the widget carried a Cookie header and no response set one.
    """
    for slug in ("northside",):
        tenant(session, slug).embed_origins = [host_site.origin]
    session.commit()
    app.state.tenants.clear()
    seen: list[tuple[str, bool, bool]] = []

    async def recording(scope, receive, send):  # noqa: ANN001, ANN202
        if scope["type"] != "http":
            return await app(scope, receive, send)
        has_cookie = any(k == b"cookie" for k, _ in scope["headers"])

        async def send_and_record(message):  # noqa: ANN001, ANN202
            if message["type"] == "http.response.start":
                sets = any(k.lower() == b"set-cookie" for k, _ in message.get("headers", []))
                seen.append((scope["path"], has_cookie, sets))
            await send(message)

        await app(scope, receive, send_and_record)

    with LiveServer(recording) as server:
        blocking = browser.browser_type.launch(
            executable_path=CHROMIUM, headless=True,
            args=[*CHROMIUM_ARGS, "--test-third-party-cookie-phaseout"])
        context = blocking.new_context(geolocation={"latitude": 2.0, "longitude": 1.0},
                                      permissions=["geolocation"])
        context.route("**/*", _only_loopback)
        page = watched(context.new_page())
        page.goto(f"{server.url}/t/northside/?lang=es")  # first party: the lang cookie
        assert any(c["name"] == "lang" for c in context.cookies())
        page.wait_for_selector("#map[data-loaded]")
        page.wait_for_load_state("networkidle")  # the list the map redraws, first party too
        seen.clear()
        page.goto(host_site.article("/cookies.html", widget(server, "report").full,
                                    before="short"))
        wait_ready(page, 1)
        report = frame(page, "/w/northside/report")
        report.click("#use-location")  # geolocation, delegated by allow="geolocation"
        expect(report.locator("#lat")).to_have_value("2.000000")
        report.locator("#type-options label", has_text="Pothole").first.click()
        report.fill("#description", "Broken kerb, reported with cookies blocked")
        report.click("#send-report")
        expect(report.locator(".alert-success h1")).to_contain_text("Your report was sent")
        blocking.close()
    widget_requests = [s for s in seen if s[0] != "/embed.js"]
    assert any(path.startswith("/w/northside/report/sent/") for path, _, _ in widget_requests)
    assert [s for s in widget_requests if s[1] or s[2]] == []


def test_an_origin_that_is_not_allowed_sees_the_fallback_link(portal, stranger_site, page):
    body = widget(portal, "map").full + widget(portal, "report").element
    watched(page).goto(stranger_site.article("/stolen.html", body, before="short"))
    for kind, text, href in (
        ("map", "Issue map of Northside Portal", f"{portal.url}/t/northside/"),
        ("report", "Report a problem to Northside Portal", f"{portal.url}/t/northside/report"),
    ):
        link = page.locator(f"[data-reportal={kind}] a")
        expect(link).to_be_visible(timeout=5_000)  # within 5 s of the page loading
        expect(link).to_have_text(text)
        assert link.get_attribute("href") == href
        expect(page.locator(f"[data-reportal={kind}] iframe")).to_be_hidden()
    assert not page.errors


def test_widgets_do_not_shift_the_host_page(portal, host_site, page):
    """A reader scrolls through an article with the three widgets in it: nothing moves.

    The loader reserves each height when it runs, then inserts a frame 400 px before it is
    seen, so a report form that grows to its content has done so before the reader gets
    there. (A widget in the page's first screen is reserved when the async loader runs,
    which may be after the first paint: the README tells editors how to avoid that.)
    """
    body = (widget(portal, "map").full + '<p>Read on.</p><div class="filler"></div>'
            + widget(portal, "report").element + '<div class="filler"></div>'
            + widget(portal, "announcements").element)
    watched(page).goto(host_site.article("/steady.html", body))
    height = page.evaluate("document.documentElement.scrollHeight")
    for _ in range(0, height, 200):
        page.mouse.wheel(0, 200)
        page.wait_for_timeout(100)
    wait_ready(page, 3)
    page.wait_for_timeout(500)
    assert page.evaluate("window.__shift") == 0


@pytest.mark.parametrize("slug, lang, direction", [("northside", "en", "ltr"),
                                                   ("riverside", "ar", "rtl")])
def test_axe_finds_no_serious_problem_inside_the_widgets(portal, host_site, page, slug, lang,
                                                         direction):
    body = "".join(widget(portal, kind, slug, lang=lang).full
                   for kind in ("map", "report", "announcements"))
    watched(page).goto(host_site.article(f"/axe-{lang}.html", body, before="short"))
    for kind in ("report", "announcements"):
        page.locator(f"[data-reportal={kind}]").scroll_into_view_if_needed()
    wait_ready(page, 3)
    for kind in ("map", "report", "announcements"):
        f = frame(page, f"/w/{slug}/{kind}")
        assert f.evaluate("[document.documentElement.lang, document.documentElement.dir]") == [
            lang, direction]
        violations = axe_violations(f)  # type: ignore[arg-type]
        assert violations == [], (kind, violations)
    page.locator("[data-reportal=report]").scroll_into_view_if_needed()
    screenshot(page, f"widgets-{lang}.png")


EVIL = """<!doctype html><title>ad</title><script>
var n = 0, t = setInterval(function () {
  parent.postMessage({reportal: 1, type: "height", height: 2999}, "*");
  parent.postMessage({reportal: 1, type: "ready", title: "Pwned"}, "*");
  for (var i = 0; i < parent.frames.length; i++)
    parent.frames[i].postMessage({reportal: 1, type: "view", center: [2.9, 1.9], zoom: 16}, "*");
  if (++n > 15) clearInterval(t);
}, 100);
</script>"""


def test_messages_from_a_wrong_origin_are_ignored_and_early_ones_queued(portal, host_site,
                                                                        stranger_site, page):
    ad = stranger_site.page("/ad.html", EVIL)
    body = (widget(portal, "map").full + widget(portal, "report").element
            + f'<iframe src="{ad}" title="Advertisement" height="50"></iframe>')
    watched(page).goto(host_site.article("/messages.html", body, before="short"))
    # Sent before the map frame is ready (or even inserted): queued, then delivered.
    page.evaluate("Reportal.send(document.querySelector('[data-reportal=map]'),"
                  " {type: 'view', center: [2.5, 1.5], zoom: 12})")
    page.evaluate("postMessage({reportal: 1, type: 'height', height: 2999}, '*')")
    wait_ready(page, 2)
    page.wait_for_timeout(2_000)  # let the stranger's frame post all its messages
    map_frame = frame(page, "/w/northside/map")
    view = map_frame.evaluate("(() => { var m = ReportalMap.maps[0], c = m.getCenter();"
                              " return [+c.lat.toFixed(3), +c.lng.toFixed(3), m.getZoom()]; })()")
    assert view == [2.5, 1.5, 12]
    report = frame(page, "/w/northside/report")
    assert reserved(page, "report") == content_height(report) != 2999
    assert reserved(page, "map") == 480
    assert page.locator("[data-reportal=map] iframe").get_attribute("title") == \
        "Issue map of Northside Portal"


def test_staff_preview_runs_the_real_loader_on_the_portal(portal, page, session, settings):
    from portal.tenancy import admin_tokens

    token = admin_tokens.issue(tenant(session, "northside"))
    session.commit()
    watched(page).goto(f"{portal.url}/t/northside/staff/widgets")
    page.fill("#token", token)
    page.click("button[type=submit]")
    page.select_option("#kind", "report")
    page.select_option("#lang", "es")
    page.click(".snippet-options button[type=submit]")
    expect(page.locator("#snippet-code")).to_contain_text('data-reportal="report"')
    # 127.0.0.1 is not the portal's own host: what is pasted elsewhere names PUBLIC_URL.
    expect(page.locator("#csp-code")).to_have_text(
        f"script-src {settings.public_url}\nframe-src {settings.public_url}")
    page.locator(".snippet-preview").scroll_into_view_if_needed()
    wait_ready(page, 1)
    preview = frame(page, "/w/northside/report")
    assert preview.evaluate("document.documentElement.lang") == "es"
    for f in page.frames:
        assert f.evaluate("window.__csp") == [], f.url
    assert not page.errors
