"""Place search over HTTP: the JSON suggestions the search box reads, the same search as a
plain form without JavaScript, and the place names pages, mail and feeds show."""

from __future__ import annotations

import html
import re

import pytest
from sqlalchemy import select

from portal.models import OutboxMessage
from tests.conftest import client_for
from tests.factories import file_report
from tests.places_support import boston_cases, build_boston


@pytest.fixture
def boston(session, settings, tmp_path):
    tenant = build_boston(session, tmp_path / "tenants", settings.themes_dir)
    session.commit()
    return tenant


@pytest.fixture
def browser(app, boston):  # noqa: ANN001
    return client_for(app, "boston.reportal.test")


def _links(page: str) -> list[tuple[str, str]]:
    """The results the no-JS search page lists: (link, place name)."""
    results = page.partition('<ul class="place-results">')[2].partition("</ul>")[0]
    return [(html.unescape(href), html.unescape(text)) for href, text in re.findall(
        r'<li><a href="([^"]+)">([^<]+)</a>', results)]


def test_suggestions_as_json_in_the_readers_language(browser):
    r = browser.get("/api/places", params={"q": "137 Nottinghill R"})
    assert r.status_code == 200 and r.headers["content-type"].startswith("application/json")
    first = r.json()["suggestions"][0]
    assert (first["label"], first["kind"], first["kind_label"]) == (
        "137 Nottinghill Rd", "address", "Address")
    assert first["zoom"] >= 17 and abs(first["lat"] - 42.3439596) < 1e-6
    spanish = browser.get("/api/places", params={"q": "Allston", "lang": "es"}).json()
    assert spanish["suggestions"][0]["label"] == "Allston"
    assert spanish["suggestions"][0]["kind_label"] == "Barrio o zona"
    assert browser.get("/api/places", params={"q": ""}).json()["suggestions"] == []


def test_a_query_too_long_is_refused_with_a_reason(browser):
    r = browser.get("/api/places", params={"q": "x" * 201})
    assert r.status_code == 400 and r.json()["error"] == "Type at most 200 characters."
    page = browser.get("/places", params={"q": "x" * 201})
    assert page.status_code == 400 and "Type at most 200 characters." in page.text


def test_without_javascript_the_search_lists_places_that_set_the_report_place(browser):
    page = browser.get("/places", params={"q": "137 nottinghill road", "for": "report"})
    assert page.status_code == 200
    links = _links(page.text)
    assert links[0][1] == "137 Nottinghill Rd"
    href = links[0][0]
    assert href.startswith("/report?lat=42.343960&lon=-71.149231&place=137+Nottinghill+Rd")
    form = browser.get(href)
    assert form.status_code == 200
    assert 'name="lat" dir="ltr" inputmode="decimal" autocomplete="off" value="42.343960"' \
        in form.text
    assert 'name="address" dir="auto" maxlength="300" value="137 Nottinghill Rd"' in form.text
    assert "Sidewalk" in form.text  # the request types offered there are listed already


def test_the_home_and_watch_searches_lead_to_their_own_pages(browser):
    home = _links(browser.get("/places", params={"q": "Allston", "for": "home"}).text)
    assert home[0][1] == "Allston" and home[0][0].startswith("/?bbox=")
    listed = browser.get(home[0][0])
    assert listed.status_code == 200
    watch = _links(browser.get("/places", params={"q": "9-15 Orleans", "for": "watch"}).text)
    assert watch[0][0] == "/watch?lat=42.366866&lon=-71.038767"
    assert 'value="42.366866"' in browser.get(watch[0][0]).text


def test_no_match_says_what_to_try(browser):
    page = browser.get("/places", params={"q": "Qwxzv Plaza"})
    assert page.status_code == 200
    assert "No place in Boston matches “Qwxzv Plaza”" in html.unescape(page.text)


def test_search_box_is_on_the_report_home_and_watch_pages(browser):
    for path, target in (("/report", "report"), ("/", "home"), ("/watch", "watch")):
        page = browser.get(path).text
        assert f'data-target="{target}"' in page and 'id="place-q"' in page, path
        assert "js/places." in page


def test_pages_mail_and_feeds_name_the_place(browser, session, boston):
    case = next(c for c in boston_cases() if c.number == "137" and "Nottinghill" in c.street)
    issue = file_report(session, "boston", case.lat, case.lon, request_type="sidewalk")
    session.commit()
    near = "near 137 Nottinghill Rd, Brighton"
    # On the pages the place is isolated (<bdi>), so it reads right in a right-to-left page.
    shown = "near <bdi>137 Nottinghill Rd, Brighton</bdi>"
    assert shown in browser.get("/issues").text
    page = browser.get(f"/issues/{issue.id}").text
    assert shown in page and "42.344" in page  # the coordinates stay
    mail = session.scalars(select(OutboxMessage)).one()
    assert "Near: 137 Nottinghill Rd, Brighton" in mail.body_text
    assert near in browser.get("/feed.atom").text
    points = browser.get("/api/issues.geojson", params={"zoom": "18"}).json()
    assert points["features"][0]["properties"]["place"] == "137 Nottinghill Rd, Brighton"


def test_a_point_is_named_for_the_keyboard_pin(browser):
    case = next(c for c in boston_cases() if c.number == "137" and "Nottinghill" in c.street)
    r = browser.get("/api/place-name", params={"lat": case.lat, "lon": case.lon})
    assert r.status_code == 200 and r.json() == {"name": "137 Nottinghill Rd, Brighton"}
    outside = browser.get("/api/place-name", params={"lat": "41.3", "lon": "-72.9"})
    assert outside.status_code == 400
    assert outside.json()["errors"]["lat"].startswith("This place is outside Boston.")
    bad = browser.get("/api/place-name", params={"lat": "north", "lon": "-71"})
    assert bad.status_code == 400 and bad.json()["errors"]["lat"] == "Enter a number, like 41.3083."
