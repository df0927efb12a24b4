"""Right-to-left in a real browser: the Arabic report form is mirrored, files a report, and
confirms in Arabic; axe-core finds no serious problems in Arabic or Chinese."""

from __future__ import annotations

from playwright.sync_api import expect

from portal.core import i18n
from tests.browser.conftest import axe_violations, screenshot
from tests.factories import tenant


def arabic(msgid: str) -> str:
    with i18n.use_locale("ar"):
        text = i18n.gettext(msgid)
    assert text != msgid, f"not translated into Arabic: {msgid!r}"
    return text


def test_arabic_report_form_is_right_to_left_and_confirms_in_arabic(live_server, page):
    page.goto(f"{live_server.url}/t/riverside/report?lang=ar")
    page.wait_for_selector("#report-map.leaflet-container")
    assert page.evaluate("getComputedStyle(document.querySelector('form')).direction") == "rtl"
    # Mirrored: the zoom control sits on the right, field labels start at the right edge.
    assert page.locator(".leaflet-right .leaflet-control-zoom").count() == 1
    # Leaflet's own English titles are replaced by the page's language.
    assert page.get_attribute(".leaflet-control-zoom-in", "title") == "تكبير"
    assert page.get_attribute(".leaflet-control-zoom-out", "title") == "تصغير"
    label = page.locator("label[for=description]").bounding_box()
    field = page.locator("#description").bounding_box()
    assert abs((label["x"] + label["width"]) - (field["x"] + field["width"])) < 2
    page.fill("#lat", "0.2")
    page.fill("#lon", "1.0")
    page.locator("#lon").dispatch_event("change")
    page.wait_for_selector("#type-options[data-place='0.200000,1.000000']")
    page.locator("#type-options input[type=radio]").first.check()
    page.fill("#description", "حفرة عميقة قرب المدرسة")
    screenshot(page, "report-form-ar.png")
    assert axe_violations(page) == []
    page.click("#send-report")
    thanks = arabic("Thank you. Your report was sent.")
    expect(page.locator(".alert-success")).to_contain_text(thanks)
    assert page.evaluate("document.documentElement.dir") == "rtl"
    assert not page.errors


def test_chinese_pages_have_no_serious_accessibility_problems(live_server, page, db, app):
    with db.session() as s:
        tenant(s, "riverside").languages = ["en", "ar", "fr", "zh_Hans"]
    app.state.tenants.clear()
    for path in ("/", "/report", "/search?q=x"):
        page.goto(f"{live_server.url}/t/riverside{path}{'&' if '?' in path else '?'}lang=zh_Hans")
        assert page.evaluate("document.documentElement.lang") == "zh-Hans"
        assert axe_violations(page) == [], path
