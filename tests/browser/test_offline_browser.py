"""The portal without signal: installable (manifest, icons, service worker), and a report made
offline — with a photo, across a reload — is kept on the phone and filed once when back."""

from __future__ import annotations

import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from playwright.sync_api import expect
from sqlalchemy import select, update

from portal.models import Issue, Tenant
from tests.factories import jpeg_bytes, png_bytes

TILE = png_bytes((256, 256))


class _Tiles(BaseHTTPRequestHandler):
    def do_GET(self) -> None:  # noqa: N802 - the http.server name
        self.send_response(200)
        self.send_header("Content-Type", "image/png")
        self.send_header("Content-Length", str(len(TILE)))
        self.end_headers()
        self.wfile.write(TILE)

    def log_message(self, *args) -> None:  # noqa: ANN002
        pass


@pytest.fixture
def tile_server(app, db, world):  # noqa: ARG001 - the portals first
    """A tile server of the test's own, named as the northside portal's tiles."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Tiles)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    with db.session() as s:
        s.execute(update(Tenant).where(Tenant.slug == "northside").values(
            tile_url=f"http://127.0.0.1:{server.server_port}/{{z}}/{{x}}/{{y}}.png"))
        s.commit()
    app.state.tenants.clear()
    yield server
    server.shutdown()


def test_installable_and_a_report_made_offline_is_sent_once_back_online(
        tile_server, live_server, browser, db):
    # bypass_csp: Playwright evaluates its waiting predicates as strings.
    context = browser.new_context(viewport={"width": 1000, "height": 900}, bypass_csp=True)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    report = f"{live_server.url}/t/northside/report"
    page.goto(report)
    deadline = time.monotonic() + 20
    while not page.evaluate("""async () => {
            if (!navigator.serviceWorker.controller) return false;
            const keys = (await (await caches.open('reportal-offline-v1')).keys()).map(r => r.url);
            return keys.some(u => u.includes('request-types'))
                && keys.some(u => u.endsWith('/report'));
        }"""):
        assert time.monotonic() < deadline, "the service worker did not keep the report page"
        page.wait_for_timeout(100)
    cdp = context.new_cdp_session(page)
    # Every check passes but one a test cannot meet: Playwright's contexts are incognito.
    found = cdp.send("Page.getInstallabilityErrors")["installabilityErrors"]
    assert [e["errorId"] for e in found if e["errorId"] != "in-incognito"] == []
    manifest = cdp.send("Page.getAppManifest")
    assert manifest["errors"] == [] and '"name": "Northside Portal"' in manifest["data"]

    # Once the worker is in charge, the map's tiles are kept as they are drawn...
    page.reload()
    while not page.evaluate("""async () =>
            (await (await caches.open('reportal-tiles-v1')).keys()).length > 0"""):
        assert time.monotonic() < deadline, "the service worker kept no map tile"
        page.wait_for_timeout(100)

    context.set_offline(True)
    page.reload()  # ...so without signal the map around the resident still draws
    expect(page.locator("#report-map img.leaflet-tile-loaded").first).to_be_attached()
    page.fill("#lat", "2.0")
    page.fill("#lon", "1.0")
    page.locator("#lon").dispatch_event("change")
    page.locator("#type-options label", has_text="Pothole").first.click()
    page.fill("#description", "Pothole reported with no signal")
    page.set_input_files("#photo", files=[{"name": "hole.jpg", "mimeType": "image/jpeg",
                                           "buffer": jpeg_bytes((200, 150))}])
    page.click("#send-report")
    expect(page.locator("#offline-status")).to_contain_text("Waiting to send")
    page.reload()  # still offline: the page comes from the phone, the report is still kept
    expect(page.locator("#offline-status")).to_contain_text("Waiting to send")
    with db.session() as s:
        assert s.scalars(select(Issue)).all() == []

    context.set_offline(False)
    expect(page.locator("#offline-status")).to_contain_text("Sent: issue #", timeout=15000)
    with db.session() as s:
        [issue] = s.scalars(select(Issue)).all()
        assert issue.description == "Pothole reported with no signal"
        assert issue.photo is not None and issue.request_type.code == "pothole"
    assert f"issue #{issue.id}" in page.locator("#offline-status").inner_text()
    page.reload()  # nothing is left to send: no second issue
    page.wait_for_load_state("networkidle")
    with db.session() as s:
        assert len(s.scalars(select(Issue)).all()) == 1
    assert not errors
    context.close()


def test_a_slow_connection_is_sent_to_the_light_report_page(live_server, browser):
    # What Chromium's Network Information API says on a 2G link, set before any script runs.
    context = browser.new_context(viewport={"width": 390, "height": 844})
    context.add_init_script("""Object.defineProperty(navigator, 'connection', {
        value: {effectiveType: '2g', saveData: false}, configurable: true});""")
    page = context.new_page()
    page.goto(f"{live_server.url}/t/northside/report")
    page.wait_for_url("**/report/lite")
    expect(page.locator("textarea[name=description]")).to_be_visible()
    assert page.locator("script[src*='leaflet']").count() == 0  # no map library on it
    context.close()
