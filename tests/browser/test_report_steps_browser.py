"""The report flow's later steps in a real browser: found by search alone with the map hidden,
"Is it one of these?" with a vote cast from it, and the photo's place offered, declined and
accepted; axe-core clean on each step, in English and in Arabic."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from portal.models import Issue, Tenant, Watch
from tests.browser.conftest import LiveServer, axe_violations
from tests.factories import file_report
from tests.places_support import build_boston
from tests.test_photo_place import gps_jpeg

SPOT = (42.343960, -71.149231)  # 137 Nottinghill Rd, Brighton, in the Boston address points


@pytest.fixture
def boston_server(app, session, settings, tmp_path):  # noqa: ANN001
    build_boston(session, tmp_path / "tenants", settings.themes_dir)
    portal = session.scalars(select(Tenant).where(Tenant.slug == "boston")).one()
    portal.languages = ["en", "es", "ar"]
    session.flush()
    file_report(session, "boston", SPOT[0] + 0.0001, SPOT[1], request_type="sidewalk",
                title="Lifted slab", description="A slab sticks up by the kerb")
    session.commit()
    with LiveServer(app) as server:
        yield server


def test_found_by_search_with_the_map_hidden_and_a_vote_instead_of_a_duplicate(
        boston_server, page, db):
    page.goto(f"{boston_server.url}/t/boston/")
    skip = page.locator("a.skip-map")
    expect(skip).to_have_text("Skip the map: go to the list of issues")
    skip.click()
    assert page.url.endswith("#list-heading")

    page.goto(f"{boston_server.url}/t/boston/report")
    page.wait_for_selector("#report-map.leaflet-container")
    toggle = page.locator("#toggle-map")
    toggle.click()
    expect(page.locator("#report-map")).to_be_hidden()
    expect(toggle).to_have_attribute("aria-pressed", "true")
    page.locator("#place-q").focus()
    page.keyboard.type("137 notinghill", delay=20)
    expect(page.locator("#place-q-list [role=option]").first).to_contain_text("137 Nottinghill")
    page.keyboard.press("ArrowDown")
    page.keyboard.press("Enter")
    expect(page.locator("#lat")).to_have_value("42.343960")
    # The only type here is chosen for the resident; what was reported nearby follows.
    found = page.locator("#nearby .nearby")
    expect(found.locator("h2")).to_have_text("Already reported? Is it one of these?")
    expect(found.locator(".nearby-item")).to_have_count(1)
    expect(found.locator(".nearby-item")).to_contain_text("Lifted slab")
    expect(found.locator(".nearby-item")).to_contain_text("11 m away")
    assert axe_violations(page) == []
    page.fill("#email", "me@example.org")
    found.get_by_role("button", name="I want this fixed too").click()
    expect(page.locator(".alert-success")).to_contain_text(
        "No new report was sent: your vote was added to this one.")
    expect(page.locator("h1")).to_contain_text("Lifted slab")
    with db.session() as s:
        issues = list(s.scalars(select(Issue)))
        assert [(i.title, i.vote_count) for i in issues] == [("Lifted slab", 1)]
        assert s.scalars(select(Watch.email).where(Watch.issue_id == issues[0].id)).one() == (
            "me@example.org")
    assert not page.errors


def test_the_photos_place_declined_then_accepted_in_arabic_then_filed_anyway(
        boston_server, page, db):
    page.goto(f"{boston_server.url}/t/boston/report?lang=ar")
    page.wait_for_selector("#report-map.leaflet-container")
    expect(page.locator("html")).to_have_attribute("dir", "rtl")
    photo = {"name": "slab.jpg", "mimeType": "image/jpeg", "buffer": gps_jpeg(*SPOT)}
    offer = page.locator("#photo-place")
    expect(offer).to_be_hidden()
    page.set_input_files("#photo", files=[photo])
    expect(offer).to_be_visible()
    expect(page.locator("#photo-place-where")).to_contain_text("137 Nottinghill Rd")
    assert axe_violations(page) == []
    page.click("#photo-place-keep")  # declined: nothing changes
    expect(offer).to_be_hidden()
    expect(page.locator("#lat")).to_have_value("")
    page.set_input_files("#photo", files=[])
    page.set_input_files("#photo", files=[photo])  # chosen again, and this time used
    expect(offer).to_be_visible()
    page.click("#photo-place-use")
    expect(page.locator("#lat")).to_have_value("42.343960")
    expect(page.locator("#lon")).to_have_value("-71.149231")
    expect(page.locator(".pin-you")).to_have_count(1)
    expect(page.locator("#nearby .nearby-item")).to_have_count(1)
    assert axe_violations(page) == []
    page.fill("#description", "Another slab, the next one along")
    page.click("#send-report")  # none of these: the list was seen, so the report is filed
    expect(page.locator(".alert-success h2")).to_be_visible()
    with db.session() as s:
        new = s.scalars(select(Issue).order_by(Issue.id.desc())).first()
        assert new.description == "Another slab, the next one along" and new.photo
        assert (new.lat, new.lon) == SPOT
    assert axe_violations(page) == []
    assert not page.errors
