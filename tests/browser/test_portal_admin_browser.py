"""A portal's admin in a real browser: the portal settings, staff and audit pages pass
axe-core (WCAG 2.2 AA) in English and in Arabic, and the offered shade fixes a failing
brand colour in one click."""

from __future__ import annotations

from playwright.sync_api import expect

from tests.browser.conftest import axe_violations, screenshot
from tests.staff_support import grant, last_link


def _sign_in(page, base: str, db, email: str) -> None:  # noqa: ANN001
    page.goto(f"{base}/signin")
    page.fill("#signin-email", email)
    page.get_by_role("button", name="Email me a sign-in link").click()
    _, token = last_link(db, email)
    page.goto(f"{base}/signin/confirm?token={token}")
    page.click("#finish-signin")
    page.wait_for_url(f"{base}/staff")


def test_portal_settings_in_english_and_arabic(live_server, page, db):
    grant(db, "boss@river.test", "admin", portal="riverside")
    base = f"{live_server.url}/t/riverside"
    _sign_in(page, base, db, "boss@river.test")
    page.get_by_role("link", name="Portal settings").first.click()
    expect(page.locator("h1")).to_have_text("Portal settings")
    assert axe_violations(page) == []

    page.fill("#p-colour", "#7fb3ff")  # too light for white text
    page.get_by_role("button", name="Save branding").click()
    expect(page.locator("#colour-error")).to_contain_text("WCAG AA")
    assert axe_violations(page) == []
    page.get_by_role("button", name="instead").click()
    expect(page.locator(".notice-region")).to_contain_text("brand colour were saved")
    screenshot(page, "portal-settings.png")

    page.goto(f"{base}/staff/portal/audit")
    expect(page.locator("table.audit tbody tr")).to_have_count(1)
    assert axe_violations(page) == []
    page.goto(f"{base}/staff/portal/staff")
    assert axe_violations(page) == []

    for path in ("/staff/portal", "/staff/portal/staff", "/staff/portal/audit"):
        page.goto(f"{base}{path}?lang=ar")
        assert page.evaluate("document.documentElement.dir") == "rtl"
        violations = axe_violations(page)
        assert violations == [], (path, violations)
    screenshot(page, "portal-audit-ar.png")
    assert not page.errors
