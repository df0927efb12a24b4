"""The demo campus as a commuter meets it: its buildings, parking lots and shuttle stops are
found by the place search in each of its languages, the shuttle corridor from the Union
Station park-and-ride lot is part of its area, and along it the campus body offers its
transit-stop and parking request types."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from portal.core import geo
from portal.core.settings import REPO_ROOT
from portal.models import Tenant
from portal.places import gazetteer
from portal.reports.routing import request_types_at
from tests.conftest import client_for
from tests.factories import file_report
from tests.places_support import build_new_haven

PLACES = REPO_ROOT / "tenants" / "portals" / "campus" / "places.geojson"
LOT = (41.29710, -72.92660)  # Union Station Park and Ride (demo), outside Downtown
STOP = (41.30010, -72.92340)  # Church Street shuttle stop (demo), on the corridor
OFF_ROUTE = (41.29800, -72.92300)  # beside the corridor, about 200 m east of it


@pytest.fixture
def campus(session, settings) -> Tenant:
    build_new_haven(session, settings.themes_dir)
    session.commit()
    return session.scalars(select(Tenant).where(Tenant.slug == "campus")).one()


def labels(session, tenant, query, locale="en") -> list[str]:
    return [s.label for s in gazetteer.suggest(session, tenant, query, locale)]


def test_every_campus_place_is_named_in_every_language_the_portal_declares(campus):
    data = json.loads(PLACES.read_text(encoding="utf-8"))
    for feature in data["features"]:
        names = feature["properties"]["name"]
        for language in campus.languages:
            assert names.get(language), (names, language)


@pytest.mark.parametrize(("query", "locale", "first"), [
    ("Park and Ride", "en", "Union Station Park and Ride (demo)"),
    ("church street shuttle", "en", "Church Street shuttle stop (demo)"),
    ("Science Hall", "en", "Science Hall (demo)"),
    ("Elm Street Parking", "en", "Elm Street Parking Lot (demo)"),
    ("联合车站停车", "zh_Hans", "联合车站停车换乘场（演示）"),  # a prefix: no word breaks
    ("中央图书馆", "zh_Hans", "中央图书馆（演示）"),
    ("과학관", "ko", "과학관 (데모)"),
    ("셔틀 정류장", "ko", "유니언역 셔틀 정류장 (데모)"),
])
def test_campus_buildings_lots_and_stops_are_found_by_name(session, campus, query, locale,
                                                           first):
    assert labels(session, campus, query, locale)[0] == first


def test_the_city_portal_does_not_offer_the_campus_places(session, campus):
    city = session.scalars(select(Tenant).where(Tenant.slug == "new-haven")).one()
    assert "Science Hall (demo)" not in labels(session, city, "Science Hall")


def test_the_place_search_answers_campus_names_over_http(app, campus):
    browser = client_for(app, "campus.reportal.test")
    found = browser.get("/api/places", params={"q": "shuttle stop"}).json()
    names = {item["label"] for item in found["suggestions"]}
    assert {"Union Station shuttle stop (demo)", "Church Street shuttle stop (demo)",
            "Campus Gate shuttle stop (demo)"} <= names


def test_the_shuttle_corridor_brings_the_lot_into_the_campus_and_routes_its_types(
        session, campus):
    assert [c["key"] for c in campus.corridors] == ["union-station-shuttle"]
    assert geo.contains(campus.area_geojson, *LOT)
    assert not geo.contains(campus.area_geojson, *OFF_ROUTE)
    for point in (LOT, STOP):
        keys = {rt.key for rt in request_types_at(session, campus, *point)}
        assert {"campus-facilities/bus-stop-shelter", "campus-facilities/bus-stop-sign",
                "campus-facilities/parking-lighting",
                "campus-facilities/pay-station"} <= keys
    issue = file_report(session, "campus", *LOT, request_type="pay-station",
                        description="The pay station takes no cards")
    assert issue.body.slug == "campus-facilities"
    assert issue.place_name == "Union Station Park and Ride (demo)"
