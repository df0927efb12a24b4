"""Routing across overlapping bodies: the most local body offering a request type wins."""

from __future__ import annotations

import pytest

from portal.core.errors import ValidationError
from portal.reports.routing import request_types_at, route
from tests.factories import file_report, tenant


def test_city_pothole_goes_to_the_city_not_the_state(world, session):
    issue = file_report(session, "northside", lat=1.5, lon=1.0, request_type="pothole")
    assert issue.body.slug == "city-works"


def test_pothole_outside_the_city_goes_to_the_state(world, session):
    issue = file_report(session, "northside", lat=2.5, lon=1.0, request_type="pothole")
    assert issue.body.slug == "state-roads"


def test_streetlight_on_campus_goes_to_campus_facilities(world, session):
    issue = file_report(session, "riverside", lat=0.75, lon=0.75, request_type="streetlight")
    assert issue.body.slug == "campus-fac"


def test_offered_types_are_one_per_code_most_local_first(world, session):
    types = request_types_at(session, tenant(session, "riverside"), 0.75, 0.75)
    assert {(t.code, t.body.slug) for t in types} == {
        ("streetlight", "campus-fac"), ("pothole", "city-works"), ("highway-sign", "state-roads")}


def test_a_type_no_body_offers_here_is_refused(world, session):
    # Streetlights are only offered inside the city; at lat 2.5 only the state is there.
    with pytest.raises(ValidationError) as exc:
        route(session, tenant(session, "northside"), 2.5, 1.0, "city-works/streetlight")
    assert "request_type" in exc.value.errors


def test_a_stale_key_from_a_moved_pin_routes_to_the_body_here(world, session):
    rt = route(session, tenant(session, "northside"), 2.5, 1.0, "city-works/pothole")
    assert rt.body.slug == "state-roads"


def test_a_portal_can_limit_its_request_types(world, session):
    portal = tenant(session, "northside")
    portal.request_type_keys = ["highway-sign"]
    session.flush()
    assert [t.code for t in request_types_at(session, portal, 1.5, 1.0)] == ["highway-sign"]


def test_a_portal_can_offer_every_type_of_named_bodies(world, session):
    portal = tenant(session, "riverside")
    portal.request_type_keys = ["city-works/*", "state-roads/*"]
    session.flush()
    types = request_types_at(session, portal, 0.75, 0.75)  # inside the campus body too
    assert {(t.code, t.body.slug) for t in types} == {
        ("streetlight", "city-works"), ("pothole", "city-works"), ("highway-sign", "state-roads")}
