"""An operator in a real browser: bodies from a layer, then a portal from a boundary file
through the form (upload, preview, the failing brand colour fixed by the offered shade,
create); the portal answers at once under /t/ and on its own host, and the report snippet
from its result page, pasted on another origin's page, files a report that routes to a body
made from the layer."""

from __future__ import annotations

import dataclasses
import json
import re
import time
import urllib.request
from collections.abc import Iterator

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from portal.models import Issue
from portal.staff import accounts
from tests.browser.conftest import LiveServer, axe_violations
from tests.browser.host_site import HostSite
from tests.staff_support import last_link
from tests.worlds import box

OPERATOR = "ops@platform.test"


@pytest.fixture
def settings(settings, tmp_path):  # noqa: ANN001,ANN201 - a tenants folder of its own
    return dataclasses.replace(settings, tenants_dir=tmp_path / "tenants")


@pytest.fixture
def host_site() -> Iterator[HostSite]:
    with HostSite() as site:
        yield site


@pytest.fixture
def server(app, world, db) -> Iterator[LiveServer]:  # noqa: ANN001
    with db.session() as s:
        accounts.grant_operator(s, OPERATOR)
    live = LiveServer(app)
    # Snippets name the public URL: here, the live server itself.
    app.state.settings = dataclasses.replace(app.state.settings, public_url=live.url)
    with live:
        yield live


def feature(name: str, area: dict) -> dict:
    return {**area, "properties": {"ward": name}}


def sign_in(page, base: str, db) -> None:  # noqa: ANN001
    page.goto(f"{base}/signin")
    page.fill("#signin-email", OPERATOR)
    page.get_by_role("button", name="Email me a sign-in link").click()
    _, token = last_link(db, OPERATOR)
    page.goto(f"{base}/signin/confirm?token={token}")
    page.click("#finish-signin")
    expect(page).to_have_url(re.compile(r"/operator$"))


def test_an_operator_makes_a_live_portal_whose_snippet_files_a_report(server, host_site, page,
                                                                      db, tmp_path):
    wards = tmp_path / "wards.geojson"
    wards.write_text(json.dumps({"type": "FeatureCollection", "features": [
        feature("one", box(10, 10, 11, 11)), feature("two", box(11, 10, 12, 11))]}))
    outline = tmp_path / "eastside.geojson"
    outline.write_text(json.dumps(box(10, 10, 11, 11)))
    base = f"{server.url}/t/northside"

    sign_in(page, base, db)

    page.goto(f"{base}/operator/bodies")
    page.set_input_files("#b-file", str(wards))
    page.fill("#b-property", "ward")
    page.fill("#b-name", "Ward {value} works")
    page.fill("#b-slug", "east-ward-{ward}")
    page.fill("#b-types", "pothole: Pothole\nlight: Streetlight out")
    page.get_by_role("button", name="Make the bodies").click()
    expect(page.locator(".alert-success")).to_contain_text("Made 2 bodies")

    page.goto(f"{base}/operator")
    page.get_by_role("link", name="New portal").click()
    page.fill("#p-slug", "eastside")
    page.fill("#p-name-en", "Eastside Reports")
    page.fill("#p-hosts", "eastside.localhost")
    page.fill("#p-zone", "UTC")
    page.set_input_files("#p-area", str(outline))
    page.fill("#p-colour", "#ffcc00")  # white text on it reads at 1.6:1
    page.fill("#p-origins", host_site.origin)
    page.get_by_role("button", name="Preview").click()
    expect(page.locator(".portal-preview .brand-name")).to_have_text("Eastside Reports")
    expect(page.locator(".contrast-table")).to_contain_text("Fails")
    offer = page.locator("button[name=use_colour]")
    shade = offer.get_attribute("value")
    offer.click()
    expect(page.locator(".contrast-table")).not_to_contain_text("Fails")
    expect(page.locator("#p-colour")).to_have_value(shade)
    # The preview box wears the shade (its stylesheet is the portal's tokens).
    expect(page.locator(".portal-preview .button-primary")).to_have_css(
        "background-color", "rgb({}, {}, {})".format(*(int(shade[i:i + 2], 16) for i in (1, 3, 5))))
    assert axe_violations(page) == []
    page.get_by_role("button", name="Create portal").click()
    expect(page).to_have_url(re.compile(r"/t/northside/operator/portals/eastside$"))
    expect(page.locator(".checklist")).to_contain_text("No staff yet")
    snippet = page.locator("code[data-snippet=report]").inner_text()
    assert f"{server.url}/embed.js" in snippet

    # Live at once: both addresses answer, timed from the result page (no rendering counted).
    started = time.monotonic()
    own_host = {"Host": f"eastside.localhost:{server.port}"}
    for url, headers in ((f"{server.url}/t/eastside/", {}), (f"{server.url}/", own_host)):
        with urllib.request.urlopen(urllib.request.Request(url, headers=headers)) as answer:
            assert answer.status == 200, url
    assert time.monotonic() - started < 5
    addresses = (f"{server.url}/t/eastside/", f"http://eastside.localhost:{server.port}/")
    home = page.context.new_page()
    for address in addresses:
        home.goto(address)
        expect(home.locator(".brand-name")).to_have_text("Eastside Reports")

    host = host_site.article("/eastside.html", snippet, before="short")
    page.goto(host)
    frame = page.wait_for_selector("iframe[src*='/w/eastside/report']").content_frame()
    # Its script is what opens the map: click once the widget page itself has loaded (the
    # frame starts as about:blank, and a button clicked before its script runs does nothing).
    frame.wait_for_url(re.compile(r"/w/eastside/report"))
    frame.wait_for_load_state("load")
    frame.click("#show-map")
    # Leaflet is fetched only now; on a machine shared by many test runs that can be slow.
    frame.locator("#report-map.leaflet-container").wait_for(timeout=90_000)
    area = frame.locator("#report-map").bounding_box()
    page.mouse.click(area["x"] + area["width"] / 2, area["y"] + area["height"] / 2)
    frame.locator("#type-options label", has_text="Pothole").first.click()
    frame.fill("#description", "Hole on the east side")
    frame.click("#send-report")
    expect(frame.locator(".alert-success h1")).to_contain_text("Your report was sent")
    with db.session() as s:
        issue = s.scalars(select(Issue).where(Issue.description == "Hole on the east side")
                          ).one()
        assert issue.body.slug == "east-ward-one"
    assert not page.errors


def test_an_area_drawn_on_the_map_becomes_the_portals_area(server, page, db):
    base = f"{server.url}/t/northside"
    sign_in(page, base, db)
    page.goto(f"{base}/operator/new")
    page.fill("#p-slug", "drawn")
    page.fill("#p-name-en", "Drawn Portal")
    page.locator("#area-map.leaflet-container").scroll_into_view_if_needed()
    area = page.locator("#area-map").bounding_box()
    for dx, dy in ((0.3, 0.3), (0.7, 0.3), (0.5, 0.7)):
        page.mouse.click(area["x"] + area["width"] * dx, area["y"] + area["height"] * dy)
    drawn = json.loads(page.input_value("#drawn-geojson"))
    assert drawn["type"] == "Polygon" and len(drawn["coordinates"][0]) == 4
    page.get_by_role("button", name="Preview").click()
    # The drawing comes back with the preview, and stays what will be created.
    assert json.loads(page.input_value("#drawn-geojson")) == drawn
    page.get_by_role("button", name="Create portal").click()
    expect(page).to_have_url(re.compile(r"/operator/portals/drawn$"))
    assert not page.errors


def test_the_preview_follows_the_typing_without_a_post(server, page, db):
    """With JS the preview needs no button: names in each language, a failing colour and its
    offered shade follow the form as it is filled in, and the page itself never reloads."""
    base = f"{server.url}/t/northside"
    sign_in(page, base, db)
    page.goto(f"{base}/operator/new")
    expect(page.locator("#preview")).to_have_count(0)
    page.evaluate("window.__samePage = true")
    page.check("input[name=languages][value=es]")
    page.fill("#p-name-en", "Westside Reports")
    page.fill("#p-name-es", "Reportes del Oeste")
    expect(page.locator(".portal-preview[lang=es] .brand-name")).to_have_text("Reportes del Oeste")
    expect(page.locator(".portal-preview[lang=en] .brand-name")).to_have_text("Westside Reports")
    expect(page.locator(".contrast-table")).not_to_contain_text("Fails")

    page.fill("#p-colour", "#ffcc00")
    expect(page.locator(".contrast-table")).to_contain_text("Fails")
    offer = page.locator("button[name=use_colour]")
    shade = offer.get_attribute("value")
    offer.click()
    expect(page.locator("#p-colour")).to_have_value(shade)
    expect(page.locator(".contrast-table")).not_to_contain_text("Fails")
    expect(page.locator(".portal-preview .button-primary").first).to_have_css(
        "background-color", "rgb({}, {}, {})".format(*(int(shade[i:i + 2], 16) for i in (1, 3, 5))))

    page.fill("#p-colour", "orange")  # no colour at all: said in the preview
    expect(page.locator("#preview .alert-error")).to_contain_text("orange")
    assert page.evaluate("window.__samePage") is True  # no reload: what was typed stays
    assert axe_violations(page) == []
    assert not page.errors
