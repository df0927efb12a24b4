"""The report form over HTTP, including every kind of bad input: clear errors, nothing written."""

from __future__ import annotations

import io

import pytest
from PIL import Image
from sqlalchemy import func, select

from portal.models import Issue, OutboxMessage
from tests.factories import jpeg_bytes
from tests.http_support import field_error, form_tokens


def issues(db) -> int:  # noqa: ANN001
    with db.session() as s:
        return s.scalar(select(func.count()).select_from(Issue))


def post(client, data: dict, files: dict | None = None):  # noqa: ANN001
    base = {"lat": "1.5", "lon": "1.0", "request_type": "city-works/pothole",
            "description": "Deep pothole", **form_tokens(client, "/report")}
    base.update(data)
    return client.post("/report", data=base, files=files or {})


def test_form_without_javascript_asks_for_the_place_first(client):
    html = client.get("/report").text
    assert "Set the place first" in html
    html = client.get("/report?lat=1.5&lon=1.0").text
    assert 'value="city-works/pothole"' in html and "Sent to city-works dept" in html


def test_a_good_report_redirects_to_its_issue_page(client, db):
    r = post(client, {"title": "Hole by the school", "email": "me@example.org"})
    assert r.status_code == 303
    page = client.get(r.headers["location"])
    assert "Your report was sent" in page.text and "Hole by the school" in page.text
    assert "city-works dept" in page.text
    assert "me@example.org" not in page.text  # contact details are private


def test_double_submit_creates_one_issue(client, db):
    tokens = form_tokens(client, "/report")
    data = {"lat": "1.5", "lon": "1.0", "request_type": "city-works/pothole",
            "description": "Deep pothole", **tokens}
    first = client.post("/report", data=data)
    second = client.post("/report", data=data)
    assert first.headers["location"] == second.headers["location"]
    assert issues(db) == 1
    with db.session() as s:
        assert s.scalar(select(func.count()).select_from(OutboxMessage)) == 1


@pytest.mark.parametrize("data,field,message", [
    ({"lat": "abc"}, "lat", "Enter a number"),
    ({"lat": "95"}, "lat", "between -90 and 90"),
    ({"lon": "-200"}, "lon", "between -180 and 180"),
    ({"lat": "", "lon": ""}, "lat", "Set the place"),
    ({"lat": "0.5"}, "lat", "outside the Northside area"),
    ({"request_type": "nope/unknown"}, "request_type", "Choose one of the request types"),
    ({"request_type": ""}, "request_type", "Choose the kind of problem."),
    ({"description": ""}, "description", "Describe the problem"),
    ({"description": "x" * 5001}, "description", "under 5000 characters"),
    ({"title": "t" * 121}, "title", "under 120 characters"),
    ({"email": "not-an-email"}, "email", "like name@example.org"),
])
def test_bad_input_gets_a_clear_error_and_keeps_what_was_typed(client, db, data, field, message):
    r = post(client, {"name": "Kept Name", **data})
    assert r.status_code == 400
    assert message in field_error(r.text, field)
    assert 'value="Kept Name"' in r.text
    assert issues(db) == 0


def test_a_request_type_the_portal_does_not_offer_is_refused(app, client, db):
    with db.session() as s:
        from tests.factories import tenant

        tenant(s, "northside").request_type_keys = ["pothole"]
    app.state.tenants.clear()
    r = post(client, {"request_type": "state-roads/highway-sign"})
    assert r.status_code == 400
    assert "Choose one of the request types" in field_error(r.text, "request_type")
    assert issues(db) == 0


def test_missing_csrf_token_is_refused(client, db):
    r = client.post("/report", data={"lat": "1.5", "lon": "1.0", "description": "x",
                                     "request_type": "city-works/pothole"})
    assert r.status_code == 400 and "This form has expired" in r.text
    assert issues(db) == 0


def test_a_token_from_another_portal_is_refused(app, world, db):
    from tests.conftest import client_for

    other = form_tokens(client_for(app, "riverside.reportal.test"), "/report")
    north = client_for(app, "northside.reportal.test")
    r = north.post("/report", data={"lat": "1.5", "lon": "1.0", "description": "x",
                                    "request_type": "city-works/pothole", **other})
    assert r.status_code == 400 and issues(db) == 0


def test_honeypot_filled_means_nothing_is_written(client, db):
    assert post(client, {"website": "http://spam.example"}).status_code == 400
    assert issues(db) == 0


def photo_post(client, content: bytes, name: str = "photo.jpg", kind: str = "image/jpeg"):  # noqa: ANN001
    return post(client, {}, files={"photo": (name, content, kind)})


def test_photo_is_stored_and_shown(client, db, settings):
    r = photo_post(client, jpeg_bytes((800, 600), exif_gps=True))
    assert r.status_code == 303
    page = client.get(r.headers["location"]).text
    with db.session() as s:
        digest = s.scalars(select(Issue.photo)).one()
    assert f"/media/{digest}.jpg" in page
    img = client.get(f"/media/{digest}.jpg")
    assert img.status_code == 200 and img.headers["content-type"] == "image/jpeg"
    assert not Image.open(io.BytesIO(img.content)).getexif()


@pytest.mark.parametrize("content,name,message", [
    (b"\xff\xd8\xff\xe0 truncated", "broken.jpg", "not a photo we can read"),
    (b"#!/bin/sh\necho hi\n", "script.jpg", "not a photo we can read"),
])
def test_bad_photos_are_refused_and_nothing_is_stored(client, db, settings, content, name,
                                                      message):
    r = photo_post(client, content, name)
    assert r.status_code == 400 and message in field_error(r.text, "photo")
    assert issues(db) == 0
    assert not settings.media_dir.exists() or not any(settings.media_dir.rglob("*.jpg"))


def test_image_bomb_is_refused(client, db, settings):
    out = io.BytesIO()
    Image.new("1", (20000, 20000)).save(out, "PNG", optimize=True)
    r = photo_post(client, out.getvalue(), "bomb.png", "image/png")
    assert r.status_code == 400 and "too many pixels" in field_error(r.text, "photo")
    assert issues(db) == 0


def test_oversize_photo_is_refused(client, db, app):
    app.state.settings = app.state.settings.__class__(
        **{**app.state.settings.__dict__, "max_photo_bytes": 1000})
    r = photo_post(client, jpeg_bytes((400, 400)))
    assert r.status_code == 400 and "too large" in field_error(r.text, "photo")
    assert issues(db) == 0


def test_without_javascript_the_place_is_set_by_post_keeping_every_field(client, db):
    page = client.get("/report").text
    # The hint shown without the map does not speak of it; the map's hint waits, hidden.
    plain = page.split('id="place-hint">', 1)[1].split("</p>", 1)[0]
    assert "map" not in plain.lower() and "Search for the place" in plain
    assert 'id="map-hint" hidden' in page
    assert 'formmethod="get"' not in page and 'name="step" value="place"' in page
    data = {"lat": "1.5", "lon": "1.0", "step": "place", "description": "Deep hole",
            "title": "By the school", "name": "Ana", "email": "ana@example.org",
            "show_name": "1", "address": "12 Elm St", **form_tokens(client, "/report")}
    r = client.post("/report", data=data,
                    files={"photo": ("hole.jpg", jpeg_bytes(), "image/jpeg")})
    assert r.status_code == 200 and r.url.query == b""  # nothing went into the address
    html = r.text
    assert 'value="city-works/pothole"' in html  # the place's request types are offered
    for kept in ('>Deep hole</textarea>', 'value="By the school"', 'value="Ana"',
                 'value="ana@example.org"', 'value="12 Elm St"', 'value="1.5"',
                 f'value="{data["submission_key"]}"'):
        assert kept in html, kept
    assert "Choose the photo again" in html  # said plainly, not silently dropped
    assert issues(db) == 0  # setting the place files nothing


def test_a_place_step_outside_the_area_says_so_and_files_nothing(client, db):
    data = {"lat": "40", "lon": "40", "step": "place", "description": "Deep hole",
            **form_tokens(client, "/report")}
    r = client.post("/report", data=data)
    assert r.status_code == 400 and "The place could not be set" in r.text
    assert field_error(r.text, "lat") or field_error(r.text, "lon")
    assert issues(db) == 0
