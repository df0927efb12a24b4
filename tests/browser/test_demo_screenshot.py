"""The README's screenshot: the real demo portals and demo issues, in a real browser."""

from __future__ import annotations

from playwright.sync_api import expect

from portal.data.demo import seed_demo_issues
from portal.tenancy import tenant_files
from tests.browser.conftest import LiveServer, axe_violations, screenshot


def test_demo_city_portal_home(app, db, settings, page):
    with db.session() as s:
        tenant_files.load_all(s, settings.tenants_dir, settings.themes_dir)
        seed_demo_issues(s, settings)
    app.state.tenants.clear()
    with LiveServer(app) as server:
        page.goto(f"{server.url}/t/new-haven/")
        page.wait_for_selector("#map[data-loaded]")
        for status in ("closed", "acknowledged"):  # an overdue pin holds its shape inside
            pins = f".leaflet-marker-icon.pin-{status}, .leaflet-marker-icon .pin-{status}"
            expect(page.locator(pins).first).to_be_attached()
        assert axe_violations(page) == []
        # Copied to tests/screenshots/ for the README when the look changes.
        screenshot(page, "readme-portal-home.png")
        assert not page.errors
