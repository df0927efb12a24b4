"""Stored photos hold pixels and the colour profile, nothing else.

Each upload below carries one kind of metadata that names a person and an address (a JPEG
comment, EXIF, XMP, IPTC, PNG text chunks, WebP EXIF/XMP); the display and thumbnail files we
store, and serve, must contain none of it.
"""

from __future__ import annotations

import io
import struct

import pytest
from PIL import Image, ImageCms, PngImagePlugin
from sqlalchemy import select

from portal.models import Issue
from portal.reports import photos
from tests.http_support import form_tokens

MARKER = "Taken by Jane Private, 12 Elm St"
XMP = (f'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/'
       f'22-rdf-syntax-ns#"><rdf:Description xmlns:dc="http://purl.org/dc/elements/1.1/" '
       f'dc:creator="{MARKER}"/></rdf:RDF></x:xmpmeta>').encode()
FORBIDDEN_INFO = {"comment", "exif", "xmp", "XML:com.adobe.xmp", "photoshop", "Comment"}


def _picture() -> Image.Image:
    img = Image.new("RGB", (400, 300), (200, 80, 40))
    img.paste((20, 90, 200), (0, 0, 200, 150))
    return img


def _save(fmt: str, **options: object) -> bytes:
    out = io.BytesIO()
    _picture().save(out, fmt, **options)
    return out.getvalue()


def _exif() -> Image.Exif:
    exif = Image.Exif()
    exif[0x013B] = MARKER  # Artist
    exif[0x010E] = MARKER  # ImageDescription
    return exif


def _with_iptc(jpeg: bytes) -> bytes:
    """A JPEG with an APP13 Photoshop/IPTC segment (byline) right after SOI."""
    dataset = b"\x1c\x02\x50" + struct.pack(">H", len(MARKER)) + MARKER.encode()
    resource = b"8BIM" + b"\x04\x04" + b"\x00\x00" + struct.pack(">I", len(dataset)) + dataset
    payload = b"Photoshop 3.0\x00" + resource
    segment = b"\xff\xed" + struct.pack(">H", len(payload) + 2) + payload
    return jpeg[:2] + segment + jpeg[2:]


def _png_text(kind: str) -> bytes:
    info = PngImagePlugin.PngInfo()
    if kind == "tEXt":
        info.add_text("Author", MARKER)
    elif kind == "zTXt":
        info.add_text("Author", MARKER, zip=True)
    elif kind == "iTXt":
        info.add_itxt("Description", MARKER, lang="en", tkey="Description")
    else:  # XMP travels in an iTXt chunk of its own
        info.add_itxt("XML:com.adobe.xmp", XMP.decode())
    return _save("PNG", pnginfo=info)


UPLOADS = {
    "jpeg-comment": lambda: _save("JPEG", comment=MARKER),
    "jpeg-exif": lambda: _save("JPEG", exif=_exif()),
    "jpeg-xmp": lambda: _save("JPEG", xmp=XMP),
    "jpeg-iptc": lambda: _with_iptc(_save("JPEG")),
    "png-tEXt": lambda: _png_text("tEXt"),
    "png-zTXt": lambda: _png_text("zTXt"),
    "png-iTXt": lambda: _png_text("iTXt"),
    "png-xmp": lambda: _png_text("xmp"),
    "png-exif": lambda: _save("PNG", exif=_exif()),
    "webp-exif": lambda: _save("WEBP", exif=_exif()),
    "webp-xmp": lambda: _save("WEBP", xmp=XMP),
}


def _carries_marker(data: bytes) -> bool:
    """Sanity: the crafted upload really holds the marker (in its bytes or as Pillow reads it)."""
    with Image.open(io.BytesIO(data)) as img:
        img.load()
        seen = repr(img.info) + repr(dict(img.getexif())) + repr(getattr(img, "text", {}))
    return MARKER.encode() in data or MARKER in seen


def assert_clean(data: bytes) -> None:
    assert MARKER.encode() not in data and b"Jane Private" not in data
    assert b"Photoshop 3.0" not in data and b"xmpmeta" not in data
    with Image.open(io.BytesIO(data)) as img:
        img.load()
        assert img.format == "JPEG"
        assert not FORBIDDEN_INFO & set(img.info), sorted(img.info)
        assert not img.getexif()
        assert not img.applist or all(marker in ("APP0", "APP2") for marker, _ in img.applist), \
            [marker for marker, _ in img.applist]


@pytest.mark.parametrize("kind", list(UPLOADS))
def test_stored_photos_carry_no_metadata(tmp_path, kind):
    upload = UPLOADS[kind]()
    assert _carries_marker(upload), kind
    digest = photos.save(photos.prepare(upload, 10**7), tmp_path)
    for variant in ("display", "thumb"):
        assert_clean(photos.path_for(tmp_path, digest, variant).read_bytes())


def test_the_rgb_colour_profile_is_kept_and_nothing_else(tmp_path):
    srgb = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    upload = _save("JPEG", icc_profile=srgb, comment=MARKER, exif=_exif())
    digest = photos.save(photos.prepare(upload, 10**7), tmp_path)
    for variant in ("display", "thumb"):
        data = photos.path_for(tmp_path, digest, variant).read_bytes()
        assert_clean(data)
        assert Image.open(io.BytesIO(data)).info.get("icc_profile") == srgb


def test_a_profile_for_other_colours_than_rgb_is_not_attached(tmp_path):
    lab = ImageCms.ImageCmsProfile(ImageCms.createProfile("LAB")).tobytes()
    assert lab[16:20] == b"Lab "
    digest = photos.save(photos.prepare(_save("JPEG", icc_profile=lab), 10**7), tmp_path)
    stored = Image.open(photos.path_for(tmp_path, digest))
    assert "icc_profile" not in stored.info


def test_served_display_and_thumbnail_drop_a_jpeg_comment(client, db):
    data = {"lat": "1.5", "lon": "1.0", "request_type": "city-works/pothole",
            "description": "Deep pothole", **form_tokens(client, "/report")}
    upload = _save("JPEG", comment=MARKER)
    r = client.post("/report", data=data,
                    files={"photo": ("photo.jpg", upload, "image/jpeg")})
    assert r.status_code == 303, r.text
    with db.session() as s:
        digest = s.scalars(select(Issue.photo)).one()
    for name in (f"{digest}.jpg", f"{digest}-thumb.jpg"):
        served = client.get(f"/media/{name}")
        assert served.status_code == 200
        assert_clean(served.content)
