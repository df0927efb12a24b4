"""The place a photo was taken: read from its GPS EXIF, offered (never applied silently) by the
form without JavaScript, and stripped from what is stored either way."""

from __future__ import annotations

import io
import re

from PIL import Image
from sqlalchemy import select

from portal.models import Issue
from portal.reports import photo_place, photos
from tests.factories import jpeg_bytes, tenant
from tests.http_support import csrf, form_tokens


def gps_jpeg(lat: float, lon: float) -> bytes:
    """A phone-like JPEG whose EXIF says where it was taken (degrees, minutes, seconds)."""
    def dms(value: float) -> tuple[float, float, float]:
        value = abs(value)
        d, rest = int(value), (abs(value) - int(value)) * 60
        return float(d), float(int(rest)), round((rest - int(rest)) * 60, 4)
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"
    exif[0x8825] = {1: "N" if lat >= 0 else "S", 2: dms(lat),
                    3: "E" if lon >= 0 else "W", 4: dms(lon)}
    out = io.BytesIO()
    Image.new("RGB", (64, 48), (90, 120, 40)).save(out, "JPEG", exif=exif)
    return out.getvalue()


def test_gps_is_read_from_exif_and_offered_only_when_it_helps(session, world):
    assert photo_place.gps_of(jpeg_bytes(exif_gps=True)) == (41.3, -72.916667)
    assert photo_place.gps_of(jpeg_bytes()) is None
    assert photo_place.gps_of(b"not a photo") is None
    portal = tenant(session, "northside")
    photo = gps_jpeg(1.5, 1.25)
    assert photo_place.offer(portal, photo, None, None) == (1.5, 1.25)
    assert photo_place.offer(portal, photo, 1.2, 1.0) == (1.5, 1.25)
    assert photo_place.offer(portal, photo, 1.50005, 1.25) is None  # already there
    assert photo_place.offer(portal, jpeg_bytes(exif_gps=True), None, None) is None  # outside


def _post(client, files: dict | None = None, **data):  # noqa: ANN001, ANN003
    base = {"request_type": "city-works/pothole", "description": "Deep pothole",
            **form_tokens(client, "/report")}
    return client.post("/report", data={**base, **data}, files=files or {})


def _again(page: str, **data) -> dict:  # noqa: ANN003
    """The fields a resident sends back from a step: the tokens and the kept photo."""
    kept = re.search(r'name="kept_photo" value="([^"]+)"', page)
    key = re.search(r'name="submission_key" value="([^"]+)"', page).group(1)
    return {"request_type": "city-works/pothole", "description": "Deep pothole",
            "csrf_token": csrf(page), "submission_key": key,
            **({"kept_photo": kept.group(1)} if kept else {}), **data}


def test_without_javascript_the_photos_place_is_offered_then_used(client, db, settings):
    photo = {"photo": ("hole.jpg", gps_jpeg(1.5, 1.25), "image/jpeg")}
    asked = _post(client, photo, lat="", lon="")
    assert asked.status_code == 200
    assert "Use the place where this photo was taken?" in asked.text
    assert "Not sent yet: your photo carries the place where it was taken." in asked.text
    assert 'name="photo_lat" value="1.500000"' in asked.text
    assert "Your photo is kept: you need not choose it again." in asked.text
    with db.session() as s:
        assert s.scalars(select(Issue)).first() is None
    used = client.post("/report", data=_again(asked.text, photo_place="use",
                                              photo_lat="1.500000", photo_lon="1.250000"))
    assert used.status_code == 303, used.text
    with db.session() as s:
        issue = s.scalars(select(Issue)).one()
        assert (issue.lat, issue.lon) == (1.5, 1.25) and issue.photo
        stored = photos.path_for(settings.media_dir, issue.photo).read_bytes()
    with Image.open(io.BytesIO(stored)) as img:
        assert not img.getexif() and "exif" not in img.info  # the GPS is not kept


def test_without_javascript_the_photos_place_can_be_declined(client, db):
    photo = {"photo": ("hole.jpg", gps_jpeg(1.5, 1.25), "image/jpeg")}
    asked = _post(client, photo, lat="1.2", lon="1.0")
    assert "Use the place where this photo was taken?" in asked.text
    lat_field = 'id="lat" name="lat" dir="ltr" inputmode="decimal" autocomplete="off" value="1.2"'
    assert lat_field in asked.text
    declined = client.post("/report", data=_again(asked.text, photo_place="keep",
                                                  lat="1.2", lon="1.0"))
    assert declined.status_code == 303
    with db.session() as s:
        issue = s.scalars(select(Issue)).one()
        assert (issue.lat, issue.lon) == (1.2, 1.0) and issue.photo


def test_a_photo_taken_where_the_pin_is_asks_nothing_and_a_forged_token_keeps_nothing(
        client, db):
    photo = {"photo": ("hole.jpg", gps_jpeg(1.5, 1.25), "image/jpeg")}
    assert _post(client, photo, lat="1.5", lon="1.25").status_code == 303
    forged = _post(client, lat="1.3", lon="1.0", kept_photo="0" * 40)
    assert forged.status_code == 303
    with db.session() as s:
        assert [i.photo is not None for i in s.scalars(select(Issue).order_by(Issue.id))] == [
            True, False]
