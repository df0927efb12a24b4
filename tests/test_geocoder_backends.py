"""Nominatim and Photon behind the geocoder interface, against their documented JSON shapes
served from a loopback HTTP server (no network): Nominatim's `format=jsonv2` search and
reverse (https://nominatim.org/release-docs/latest/api/Output/), Photon's GeoJSON
FeatureCollection (https://github.com/komoot/photon, README "Search")."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import pytest

from portal.places import backends
from portal.places.backends import AnswerCache, Nominatim, Photon, RateGate
from portal.tenancy.tenant_settings import geocoder_setting
from tests.factories import file_report, tenant

# Inside the `northside` test portal (lon 0..2, lat 1..3), and one point far outside it.
NOMINATIM_SEARCH = [
    {"place_id": 100149, "licence": "Data © OpenStreetMap contributors, ODbL 1.0. "
     "https://osm.org/copyright", "osm_type": "way", "osm_id": "107775",
     "boundingbox": ["1.49", "1.51", "0.99", "1.01"], "lat": "1.5", "lon": "1.0",
     "display_name": "120, Chapel Street, Downtown, Northside, United States",
     "category": "place", "type": "house", "place_rank": 30, "importance": 0.2,
     "addresstype": "place", "name": "",
     "address": {"house_number": "120", "road": "Chapel Street", "neighbourhood": "Downtown",
                 "city": "Northside", "country": "United States", "country_code": "us"}},
    {"place_id": 2, "licence": "…", "osm_type": "node", "osm_id": "2", "lat": "2.5",
     "lon": "0.5", "display_name": "Old Mill, Northside", "category": "amenity",
     "type": "museum", "name": "Old Mill", "address": {"city": "Northside"}},
    {"place_id": 3, "licence": "…", "osm_type": "node", "osm_id": "3", "lat": "40.0",
     "lon": "-70.0", "display_name": "Far away", "category": "place", "type": "city",
     "name": "Far away", "address": {}},
]
NOMINATIM_REVERSE = {
    "place_id": 100149, "licence": "…", "osm_type": "way", "osm_id": "1", "lat": "1.5",
    "lon": "1.0", "display_name": "120, Chapel Street, Downtown, Northside",
    "address": {"house_number": "120", "road": "Chapel Street", "suburb": "Downtown",
                "city": "Northside", "country_code": "us"}}
PHOTON_SEARCH = {"type": "FeatureCollection", "features": [
    {"type": "Feature", "geometry": {"type": "Point", "coordinates": [1.2, 2.2]},
     "properties": {"osm_id": 38862723, "osm_type": "W", "osm_key": "leisure",
                    "osm_value": "stadium", "name": "Northside Stadium",
                    "street": "Olympic Square", "housenumber": "3", "postcode": "14053",
                    "district": "Riverbank", "city": "Northside", "country": "Testland",
                    "countrycode": "TL", "extent": [1.19, 2.21, 1.21, 2.19]}},
    {"type": "Feature", "geometry": {"type": "Point", "coordinates": [1.5, 1.8]},
     "properties": {"osm_id": 240109189, "osm_type": "N", "osm_key": "place",
                    "osm_value": "suburb", "type": "district", "name": "Riverbank",
                    "city": "Northside", "country": "Testland", "countrycode": "TL"}},
]}
PHOTON_REVERSE = {"type": "FeatureCollection", "features": [
    {"type": "Feature", "geometry": {"type": "Point", "coordinates": [1.0, 1.5]},
     "properties": {"osm_key": "building", "osm_value": "yes", "housenumber": "7",
                    "street": "Mill Lane", "district": "Riverbank", "city": "Northside"}}]}


class Recorder(BaseHTTPRequestHandler):
    answers: dict[str, object] = {}
    seen: list[tuple[str, dict, dict]] = []

    def do_GET(self) -> None:  # noqa: N802 - the stdlib's name
        parts = urlsplit(self.path)
        self.seen.append((parts.path, parse_qs(parts.query), dict(self.headers)))
        body = json.dumps(self.answers.get(parts.path, {"error": "Unable to geocode"}))
        self.send_response(200)
        self.send_header("content-type", "application/json")
        self.end_headers()
        self.wfile.write(body.encode())

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def server() -> Iterator[tuple[str, type[Recorder]]]:
    handler = type("Handler", (Recorder,), {"answers": {}, "seen": []})
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    backends._remotes.clear()
    yield f"http://127.0.0.1:{httpd.server_port}", handler
    httpd.shutdown()
    backends._remotes.clear()


def _use(session, slug: str, setting: dict):
    portal = tenant(session, slug)
    portal.geocoder = geocoder_setting(setting, "test")
    session.commit()
    return portal


def test_nominatim_is_asked_for_a_sent_search_never_while_typing(session, world, server):
    url, handler = server
    handler.answers = {"/search": NOMINATIM_SEARCH}
    portal = _use(session, "northside", {"backend": "nominatim", "url": url,
                                         "email": "ops@portal.test"})
    assert backends.find_places(session, portal, "120 Chapel", "en", typing=True) == []
    assert handler.seen == []  # the usage policy forbids autocomplete
    found = backends.find_places(session, portal, "120 Chapel", "es", typing=False)
    assert [(s.label, s.kind, s.source) for s in found] == [
        ("120 Chapel Street, Downtown", "address", "nominatim"),
        ("Old Mill", "landmark", "nominatim")]  # "Far away" lies outside the portal
    path, query, headers = handler.seen[0]
    assert path == "/search"
    assert query["format"] == ["jsonv2"] and query["bounded"] == ["1"]
    assert query["viewbox"] == ["0.0,3.0,2.0,1.0"]  # left,top,right,bottom
    assert query["email"] == ["ops@portal.test"] and query["accept-language"] == ["es"]
    assert headers["User-Agent"].startswith("Reportal/")
    # The same search again is answered from the cache.
    backends.find_places(session, portal, "120 Chapel", "es", typing=False)
    assert len(handler.seen) == 1


def test_photon_answers_while_typing_in_the_portal_box(session, world, server):
    url, handler = server
    handler.answers = {"/api": PHOTON_SEARCH}
    portal = _use(session, "northside", {"backend": "photon", "url": url})
    found = backends.find_places(session, portal, "northside stad", "fr", typing=True)
    assert [(s.label, s.kind) for s in found] == [
        ("Northside Stadium, 3 Olympic Square, Riverbank", "address"),
        ("Riverbank", "area")]
    path, query, _headers = handler.seen[0]
    assert path == "/api" and query["lang"] == ["fr"]
    assert query["bbox"] == ["0.000000,1.000000,2.000000,3.000000"]
    # Photon has no Arabic index: the language is left out rather than refused.
    backends.find_places(session, portal, "other", "ar", typing=True)
    assert "lang" not in handler.seen[1][1]


def test_a_report_is_named_by_the_remote_geocoder_when_the_gazetteer_knows_nothing(
        session, world, server):
    url, handler = server
    handler.answers = {"/reverse": NOMINATIM_REVERSE}
    _use(session, "northside", {"backend": "nominatim", "url": url})
    issue = file_report(session, "northside", 1.5, 1.0)
    assert issue.place_name == "120 Chapel Street, Downtown"
    assert handler.seen[0][1]["zoom"] == ["18"]


def test_photon_reverse_and_an_unreachable_geocoder(session, world, server):
    url, handler = server
    handler.answers = {"/reverse": PHOTON_REVERSE}
    assert str(Photon(url).reverse(1.5, 1.0, "en")) == "7 Mill Lane, Riverbank"
    _use(session, "northside", {"backend": "photon", "url": "http://127.0.0.1:9"})
    # Nothing listens there: the search still answers (from the gazetteer), the report files.
    portal = tenant(session, "northside")
    assert backends.find_places(session, portal, "mill", "en", typing=False) == []
    assert file_report(session, "northside", 1.5, 1.0).place_name == ""


def test_nominatim_error_answer_names_nothing(server):
    url, _handler = server
    assert Nominatim(url).reverse(1.5, 1.0, "en") is None


def test_rate_gate_spaces_requests_a_second_apart():
    now = [100.0]
    slept: list[float] = []

    def sleep(seconds: float) -> None:
        slept.append(round(seconds, 3))
        now[0] += seconds

    gate = RateGate(1.0, clock=lambda: now[0], sleep=sleep)
    gate.wait()
    gate.wait()
    now[0] += 0.25
    gate.wait()
    now[0] += 5
    gate.wait()
    assert slept == [1.0, 0.75]


def test_answer_cache_forgets_after_its_time_and_beyond_its_size():
    now = [0.0]
    cache = AnswerCache(size=2, ttl=10, clock=lambda: now[0])
    cache.put("a", 1)
    cache.put("b", 2)
    cache.put("c", 3)
    assert cache.get("a") is None and cache.get("c") == 3
    now[0] = 11
    assert cache.get("b") is None


def test_portal_json_geocoder_setting_is_checked():
    from portal.core.errors import ConfigError

    assert geocoder_setting(None, "x") == {} == geocoder_setting({"backend": "gazetteer"}, "x")
    assert geocoder_setting({"backend": "photon", "url": "https://p.example.org/"}, "x") == {
        "backend": "photon", "url": "https://p.example.org"}
    for bad in ({"backend": "google"}, {"backend": "nominatim"},
                {"backend": "nominatim", "url": "ftp://x"}, "nominatim"):
        with pytest.raises(ConfigError):
            geocoder_setting(bad, "x")
