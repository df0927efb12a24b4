"""The place a photo was taken, from its GPS EXIF, read before the metadata is stripped.

The report form offers it ("Use the place where this photo was taken?"), never sets it
silently: in the browser (static/js/photo_place.js reads the EXIF before upload) and here for
the form without JavaScript. What is stored never holds the EXIF (`photos.prepare`).

A photo sent back with such a step is kept, already stripped, under its digest (`keep`), and
the form carries a signed token for it, so the resident need not choose it again.
"""

from __future__ import annotations

import io
import warnings
from pathlib import Path

from PIL import Image, UnidentifiedImageError

from portal.core import geo
from portal.core.signing import BadLink, sign, unsign
from portal.models import Tenant
from portal.reports import photos

GPS_IFD = 0x8825
SAME_PLACE_M = 15  # a photo taken this close to the chosen place needs no question
KEEP_PURPOSE = "kept-photo"
KEEP_MAX_AGE = 24 * 3600


def _degrees(value: object, ref: object) -> float | None:
    try:
        d, m, s = (float(part) for part in value)  # type: ignore[union-attr]
    except (TypeError, ValueError, ZeroDivisionError):
        return None
    sign_ = -1 if str(ref).strip().upper() in ("S", "W") else 1
    return sign_ * (d + m / 60 + s / 3600)


def gps_of(data: bytes) -> tuple[float, float] | None:
    """(lat, lon) from the photo's EXIF GPS, or None (no EXIF, no GPS, not an image).

    Only the header is read, never the pixels, so this is cheap and bomb-safe."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            with Image.open(io.BytesIO(data)) as img:
                gps = img.getexif().get_ifd(GPS_IFD)
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombError):
        return None
    if not gps or 2 not in gps or 4 not in gps:
        return None
    lat, lon = _degrees(gps.get(2), gps.get(1, "N")), _degrees(gps.get(4), gps.get(3, "E"))
    if lat is None or lon is None or not geo.valid_coordinates(lat, lon) or (lat, lon) == (0, 0):
        return None
    return round(lat, 6), round(lon, 6)


def offer(tenant: Tenant, data: bytes | None, lat: float | None,
          lon: float | None) -> tuple[float, float] | None:
    """The photo's place, if worth offering: inside the portal's area and not (nearly) the
    place already chosen (`lat`/`lon`, None when none was)."""
    where = gps_of(data) if data else None
    if where is None or not geo.contains(tenant.area_geojson, *where):
        return None
    if lat is not None and lon is not None and geo.distance_m(lat, lon, *where) <= SAME_PLACE_M:
        return None
    return where


def keep(data: bytes, media_dir: Path, max_bytes: int, secret_key: str) -> str | None:
    """Store the photo (stripped, as any) and return a signed token naming it; None if the
    photo is not one we accept (the form's own check says why when it is sent)."""
    try:
        prepared = photos.prepare(data, max_bytes)
    except photos.PhotoError:
        return None
    return sign(secret_key, KEEP_PURPOSE, photos.save(prepared, media_dir))


def kept(token: str, media_dir: Path, secret_key: str) -> str | None:
    """The digest of a kept photo from its token, or None (not ours, too old, file gone)."""
    if not token:
        return None
    try:
        digest = unsign(secret_key, KEEP_PURPOSE, token, KEEP_MAX_AGE)
    except BadLink:
        return None
    if not isinstance(digest, str) or not photos.is_digest(digest):
        return None
    return digest if photos.path_for(media_dir, digest).exists() else None
