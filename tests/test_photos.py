"""Photo intake: formats, limits, bombs, EXIF stripped, stored by content hash."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from portal.reports import photos
from tests.factories import jpeg_bytes, png_bytes


def test_jpeg_is_resized_stored_and_stripped_of_exif(tmp_path):
    prepared = photos.prepare(jpeg_bytes((3000, 2000), exif_gps=True), 10**7)
    digest = photos.save(prepared, tmp_path)
    stored = Image.open(photos.path_for(tmp_path, digest))
    assert max(stored.size) == photos.DISPLAY_SIZE
    assert not stored.getexif()
    thumb = Image.open(photos.path_for(tmp_path, digest, "thumb"))
    assert max(thumb.size) == photos.THUMB_SIZE


def test_same_photo_twice_is_stored_once(tmp_path):
    a = photos.save(photos.prepare(png_bytes(), 10**7), tmp_path)
    b = photos.save(photos.prepare(png_bytes(), 10**7), tmp_path)
    assert a == b
    assert len(list(tmp_path.rglob("*.jpg"))) == 2  # display + thumb


def test_webp_is_accepted():
    out = io.BytesIO()
    Image.new("RGB", (20, 20), "blue").save(out, "WEBP")
    assert photos.prepare(out.getvalue(), 10**7).digest


@pytest.mark.parametrize("data,expected", [
    (b"%PDF-1.4 not an image", "not a photo we can read"),
    (jpeg_bytes()[:200], "not a photo we can read"),
    (b"", "empty"),
])
def test_bad_files_are_refused_clearly(data, expected):
    with pytest.raises(photos.PhotoError) as exc:
        photos.prepare(data, 10**7)
    assert expected in str(exc.value)


def test_gif_is_refused_as_a_format():
    out = io.BytesIO()
    Image.new("P", (10, 10)).save(out, "GIF")
    with pytest.raises(photos.PhotoError, match="JPEG, PNG or WebP"):
        photos.prepare(out.getvalue(), 10**7)


def test_oversize_file_is_refused():
    with pytest.raises(photos.PhotoError, match="too large"):
        photos.prepare(b"x" * 2000, 1000)


def test_decompression_bomb_is_refused():
    # A tiny PNG that claims 20000 x 20000 pixels (400 MP).
    out = io.BytesIO()
    Image.new("1", (20000, 20000)).save(out, "PNG", optimize=True)
    assert len(out.getvalue()) < 200_000
    with pytest.raises(photos.PhotoError, match="too many pixels"):
        photos.prepare(out.getvalue(), 10**7)
