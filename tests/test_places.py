"""The built-in gazetteer on real names: Boston 311 addresses as address points, Boston's and
New Haven's neighbourhoods as named areas (../shared/data, see tests/places_support.py)."""

from __future__ import annotations

import csv
import json
import random

import pytest
from shapely.geometry import Point, shape
from sqlalchemy import func, select

from portal.core import geo
from portal.core.errors import ConfigError
from portal.models import Issue, Place, PlaceTerm
from portal.places import addresses, gazetteer, named_areas, naming, point_names, words
from tests.factories import file_report
from tests.places_support import (
    BOSTON_HOODS,
    NEW_HAVEN_HOODS,
    NEW_HAVEN_ISSUES,
    boston_cases,
    build_boston,
    build_new_haven,
    need_data,
)


@pytest.fixture
def boston(session, settings, tmp_path):
    tenant = build_boston(session, tmp_path / "tenants", settings.themes_dir)
    session.commit()
    return tenant


@pytest.fixture
def new_haven(session, settings):
    need_data(NEW_HAVEN_HOODS)
    tenant = build_new_haven(session, settings.themes_dir)
    session.commit()
    return tenant


def labels(session, tenant, query, locale="en"):
    return [s.label for s in gazetteer.suggest(session, tenant, query, locale)]


def test_folding_writes_out_abbreviations_numbers_and_accents():
    assert words.words("120 Chapel St & College Ave") == [
        "120", "chapel", "street", "and", "college", "avenue"]
    assert words.words("FIRST Avenue") == words.words("1st ave") == ["1st", "avenue"]
    assert words.words("W Twenty-First St")[:2] == ["west", "twenty"]
    assert words.words("Montréal Rd") == ["montreal", "road"]
    assert words.words("22nd") == words.words("22ND") == ["22nd"]


def test_every_boston_address_is_found_by_its_exact_text(session, boston):
    cases = [c for c in boston_cases() if c.crossing is None]
    for case in random.Random(12).sample(cases, 200):
        found = gazetteer.suggest(session, boston, f"{case.number} {case.street}", "en")
        assert found, case
        assert found[0].label == f"{case.number} {case.street}"
        assert geo.distance_m(found[0].lat, found[0].lon, case.lat, case.lon) < 1
        assert found[0].kind == "address" and found[0].zoom >= 17


def test_case_abbreviations_and_numbered_streets_are_tolerated(session, boston):
    assert labels(session, boston, "137 NOTTINGHILL ROAD")[0] == "137 Nottinghill Rd"
    assert labels(session, boston, "137 nottinghill rd.")[0] == "137 Nottinghill Rd"
    assert labels(session, boston, "204 West 1st Street")[0] == "204 W First St"
    assert labels(session, boston, "204 w. first st")[0] == "204 W First St"
    assert labels(session, boston, "589 East Second Street")[0] == "589 E Second St"


def test_misspelt_names_find_the_nearest_spelling(session, boston):
    assert labels(session, boston, "137 Notinghill Rd")[0] == "137 Nottinghill Rd"
    assert labels(session, boston, "Alston")[0] == "Allston"
    assert labels(session, boston, "Dorchestr")[0] == "Dorchester"
    assert labels(session, boston, "9-15 Orleens St")[0] == "9-15 Orleans St"


def test_suggestions_while_typing_start_from_a_prefix(session, boston, new_haven):
    assert labels(session, boston, "south bost")[:1] == ["South Boston"]
    assert all("Hanover St" in label for label in labels(session, boston, "hanov"))
    assert labels(session, boston, "137 Nottinghill R")[0] == "137 Nottinghill Rd"
    assert labels(session, new_haven, "Wooster")[0] == "Wooster Square/Mill River"
    assert labels(session, new_haven, "mill riv")[0] == "Wooster Square/Mill River"
    assert labels(session, new_haven, "New Haven gr")[0] == "New Haven Green"
    # A neighbourhood comes before the streets named after it.
    assert labels(session, boston, "Allston")[:2] == ["Allston", "182 Allston St"]


def test_new_haven_neighbourhoods_by_name_in_every_language(session, new_haven):
    hoods = [f["properties"]["name"] for f in
             json.loads(NEW_HAVEN_HOODS.read_text(encoding="utf-8"))["features"]]
    for name in hoods:
        assert labels(session, new_haven, name)[0] == name
    assert labels(session, new_haven, "Centro", "es")[0] == "Centro"
    assert labels(session, new_haven, "市中心", "zh_Hans")[0] == "市中心"
    assert labels(session, new_haven, "市中", "zh_Hans")[0] == "市中心"
    assert labels(session, new_haven, "Центр", "ru")[0] == "Центр"
    assert labels(session, new_haven, "وسط المدينة", "ar")[0] == "وسط المدينة"
    # Another language's name finds the place, shown in the reader's language.
    assert labels(session, new_haven, "Centre-ville", "en")[0] == "Downtown"
    assert labels(session, new_haven, "centre ville", "fr")[0] == "Centre-ville"
    assert labels(session, new_haven, "DÓWNTÓWN")[0] == "Downtown"


def _crossings_with_points_on_both_streets():
    """Boston 311 crossings whose two streets both have address points within 120 m."""
    by_street: dict[str, list[tuple[float, float]]] = {}
    cases = boston_cases()
    for c in cases:
        if c.crossing is None:
            by_street.setdefault(" ".join(words.match_words(c.street)), []).append(
                (c.lat, c.lon))
    found, seen = [], set()
    for c in cases:
        if c.crossing is None or c.crossing in seen:
            continue
        seen.add(c.crossing)
        a, b = (by_street.get(" ".join(words.match_words(s)), []) for s in c.crossing)
        if a and b and min(geo.distance_m(*p, *q) for p in a for q in b) <= 120:
            found.append(c)
    return found


def test_intersections_are_found_from_the_address_points_of_both_streets(session, boston):
    crossings = _crossings_with_points_on_both_streets()
    assert len(crossings) >= 20
    near = 0
    for case in crossings:
        a, b = case.crossing
        for query in (f"{a} & {b}", f"{a} and {b}"):
            found = [s for s in gazetteer.suggest(session, boston, query, "en")
                     if s.kind == "intersection"]
            assert found, query
            assert " & " in found[0].label
        near += geo.distance_m(found[0].lat, found[0].lon, case.lat, case.lon) <= 150
    # The corner is where the two streets' nearest address points meet: close to the
    # 311 case's recorded point, though a street with few points can put it further off.
    assert near >= 0.9 * len(crossings)


def test_a_portal_offers_only_its_own_places(session, boston, new_haven):
    assert labels(session, new_haven, "Nottinghill") == []
    assert labels(session, boston, "Quinnipiac") == []  # a New Haven neighbourhood
    assert labels(session, boston, "") == labels(session, boston, "  &  ") == []


def test_addresses_outside_the_area_are_skipped_and_a_reimport_replaces(session, boston,
                                                                       tmp_path):
    path = tmp_path / "more.csv"
    path.write_text("LON,LAT,NUMBER,STREET\n-71.06,42.36,1,Testing Way\n"
                    "-72.92,41.30,2,Chapel St\n-71.06,42.36,,\nx,y,3,Bad Point Rd\n")
    first = addresses.import_addresses(session, boston, path)
    assert (first.added, first.outside, first.unusable) == (1, 1, 2)
    again = addresses.import_addresses(session, boston, path)
    assert (again.added, again.replaced) == (1, 1)
    assert labels(session, boston, "1 Testing Way") == ["1 Testing Way"]
    assert labels(session, boston, "2 Chapel") == []
    bad = tmp_path / "bad.csv"
    bad.write_text("lat,lng,address\n42.36,-71.06,1 Main St\n")
    with pytest.raises(ConfigError):
        addresses.import_addresses(session, boston, bad)


def test_lookups_read_the_word_index_not_every_place(session, boston):
    # Every indexed word of every place has its row; street types have none (nearly every
    # address has one), so a query must bring another word, read as an index range.
    places = session.scalar(select(func.count()).select_from(Place).where(
        Place.tenant_id == boston.id))
    terms = session.scalar(select(func.count()).select_from(PlaceTerm).where(
        PlaceTerm.tenant_id == boston.id, PlaceTerm.term == "street"))
    assert places > 1700 and terms == 0
    assert labels(session, boston, "street") == []


def test_reverse_geocoding_names_the_neighbourhood_of_1000_boston_points(session, boston):
    hoods = [(f["properties"]["name"], shape(f["geometry"])) for f in json.loads(
        BOSTON_HOODS.read_text(encoding="utf-8"))["features"]]
    points = [(c.lat, c.lon) for c in boston_cases()][:1000]
    assert len(points) == 1000
    inside = 0
    for lat, lon in points:
        expected = [name for name, shape_ in hoods if shape_.covers(Point(lon, lat))]
        if not expected:
            continue
        inside += 1
        name = point_names.name_of(session, boston, lat, lon)
        assert name.area in expected, (lat, lon)
    assert inside >= 990


def test_reverse_geocoding_of_1000_new_haven_points(session, new_haven):
    need_data(NEW_HAVEN_ISSUES)
    hoods = [(f["properties"]["name"], shape(f["geometry"])) for f in json.loads(
        NEW_HAVEN_HOODS.read_text(encoding="utf-8"))["features"]]
    with NEW_HAVEN_ISSUES.open(newline="", encoding="utf-8") as handle:
        points = [(float(r["lat"]), float(r["lng"])) for r in csv.DictReader(handle)][:1000]
    checked = 0
    for lat, lon in points:
        here = Point(lon, lat)
        expected = [name for name, outline in hoods if outline.covers(here)]
        # The stored outlines are simplified by about 20 m (tenants/SOURCES.md): a point that
        # close to a boundary may fall on either side, but it still gets a neighbourhood.
        clear = all(outline.boundary.distance(here) > 0.0003 for _n, outline in hoods
                    if outline.covers(here))
        if not expected:
            continue
        name = point_names.name_of(session, new_haven, lat, lon)
        assert name.area, (lat, lon)
        if clear:
            assert name.area == expected[0], (lat, lon)
            checked += 1
    assert checked >= 900


def test_a_new_report_keeps_its_place_name_and_offers_its_address(session, boston):
    case = next(c for c in boston_cases() if c.number == "137" and "Nottinghill" in c.street)
    issue = file_report(session, "boston", case.lat, case.lon, request_type="sidewalk",
                        address="Outside the Nottinghill bakery")
    session.commit()
    assert issue.place_name == "137 Nottinghill Rd, Brighton"
    assert labels(session, boston, "nottinghill bakery") == ["Outside the Nottinghill bakery"]
    # A hidden report's address is no longer offered.
    issue.hidden = True
    session.commit()
    assert labels(session, boston, "nottinghill bakery") == []


def test_a_point_away_from_any_address_is_named_by_its_neighbourhood(session, new_haven):
    issue = file_report(session, "new-haven", 41.3083, -72.9253, request_type="graffiti")
    assert issue.place_name == "Downtown"


def test_backfill_names_issues_written_before_names_were_kept(session, boston):
    case = boston_cases()[0]
    issue = file_report(session, "boston", case.lat, case.lon, request_type="sidewalk")
    issue.place_name = ""
    session.commit()
    assert naming.backfill(session) == 1
    session.commit()
    assert session.get(Issue, issue.id).place_name == "9-15 Orleans St, East Boston"


def test_named_places_outside_the_portal_are_refused(session, boston, tmp_path):
    folder = tmp_path / "elsewhere"
    folder.mkdir()
    (folder / "places.geojson").write_text(json.dumps({"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"name": "New Haven Green"},
         "geometry": {"type": "Point", "coordinates": [-72.9256, 41.3082]}}]}))
    with pytest.raises(ConfigError) as error:
        named_areas.load_portal_places(session, boston, folder)
    assert "New Haven Green lies outside the portal's area" in str(error.value)
