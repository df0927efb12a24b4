"""How one imported value is read: dates, places, and how far a place lies outside an area.

Every reader returns the value or raises `BadValue` with a short reason; nothing is guessed.
A number in a date column is read only when the mapping says it is epoch seconds or
milliseconds, and a date outside `EARLIEST`..next year is refused, so seconds read as
milliseconds (1970) or milliseconds as seconds (year 50,000) never land as a wrong date.
"""

from __future__ import annotations

import math
import re
from datetime import UTC, datetime, timedelta, timezone, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import shapely
from shapely.geometry import Point
from shapely.ops import nearest_points

from portal.core import geo

EARLIEST = datetime(1971, 1, 1, tzinfo=UTC)
DATE_FORMATS = ("iso", "epoch_s", "epoch_ms")  # or a strftime pattern, such as "%m/%d/%Y %H:%M"
_NUMBER = re.compile(r"^-?\d+(\.\d+)?$")
_LAT_LON = re.compile(r"^\(?\s*(-?[\d.]+)\s*[, ]\s*(-?[\d.]+)\s*\)?$")
_WKT_POINT = re.compile(r"^POINT\s*\(\s*(-?[\d.eE+-]+)\s+(-?[\d.eE+-]+)\s*\)$", re.IGNORECASE)


class BadValue(ValueError):
    """A value the mapping says how to read, which does not read that way."""


def zone(name: str) -> tzinfo:
    """The named IANA zone; UTC for "UTC"; a clear error for a name the system lacks."""
    if name.upper() in ("UTC", "Z", ""):
        return UTC
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        if name == "America/New_York":  # no tz database installed: Eastern standard time
            return timezone(timedelta(hours=-5))
        raise


def parse_date(value: object, fmt: str, naive_tz: tzinfo,
               latest: datetime | None = None) -> datetime | None:
    """The value as an aware UTC datetime; None when empty; `BadValue` when unreadable."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    text = str(value).strip()
    if fmt in ("epoch_s", "epoch_ms"):
        if isinstance(value, bool) or not _NUMBER.match(text):
            raise BadValue(f"{text[:40]!r} is not a number of {fmt[6:] or 's'}")
        number = float(text) / (1000 if fmt == "epoch_ms" else 1)
        try:
            when = datetime.fromtimestamp(number, UTC)
        except (OverflowError, OSError, ValueError):
            raise BadValue(f"{text[:40]!r} is out of range as {fmt}") from None
    else:
        if isinstance(value, (int, float)) or _NUMBER.match(text):
            # A bare number is not a date in any text format: refuse rather than guess.
            raise BadValue(f"{text[:40]!r} is a number, not a date ({fmt})")
        try:
            if fmt == "iso":
                when = datetime.fromisoformat(text.replace("Z", "+00:00"))
            else:
                when = datetime.strptime(text, fmt)
        except ValueError:
            raise BadValue(f"{text[:40]!r} does not read as {fmt}") from None
        if when.tzinfo is None:
            when = when.replace(tzinfo=naive_tz)
    when = when.astimezone(UTC)
    latest = latest or datetime.now(UTC) + timedelta(days=366)
    if not EARLIEST <= when <= latest:
        raise BadValue(f"{text[:40]!r} reads as {when.date()}, outside "
                       f"{EARLIEST.year}..{latest.year}")
    return when


def _number(value: object) -> float:
    if isinstance(value, bool):
        raise BadValue("not a number")
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise BadValue(f"{str(value)[:40]!r} is not a number") from None
    if not math.isfinite(number):
        raise BadValue("not a finite number")
    return number


def parse_point(lat: object = None, lon: object = None,
                location: object = None) -> tuple[float, float] | None:
    """(lat, lon) from two columns, or one location value: WKT `POINT (lon lat)`,
    `(lat, lon)` text, or a GeoJSON Point. None when empty; `BadValue` when unreadable."""
    if location is not None and location != "":
        if isinstance(location, dict):
            coords = location.get("coordinates")
            if location.get("type") != "Point" or not isinstance(coords, list) \
                    or len(coords) < 2:
                raise BadValue("not a GeoJSON Point")
            lon, lat = coords[0], coords[1]
        elif match := _WKT_POINT.match(str(location).strip()):
            lon, lat = match.group(1), match.group(2)
        elif match := _LAT_LON.match(str(location).strip()):
            lat, lon = match.group(1), match.group(2)
        else:
            raise BadValue(f"{str(location)[:40]!r} is not a point")
    if lat in (None, "") and lon in (None, ""):
        return None
    point = (_number(lat), _number(lon))
    if point == (0.0, 0.0):  # the usual stand-in for "no place" in exports
        return None
    if not geo.valid_coordinates(*point):
        raise BadValue(f"{point[0]}, {point[1]} are not a latitude and longitude")
    return point


def distance_outside(area_text: str, lat: float, lon: float) -> tuple[float, tuple[float, float]]:
    """Metres from the point to the area, and the nearest point just inside it (lat, lon)."""
    area = geo.area(area_text)
    near = nearest_points(area, Point(lon, lat))[0]
    metres = geo.distance_m(lat, lon, near.y, near.x)
    # The nearest point lies on the boundary; step a hair further, into the area.
    for step in (1e-7, 1e-6, 1e-5):
        dx, dy = near.x - lon, near.y - lat
        length = math.hypot(dx, dy) or 1.0
        inside = (near.y + dy / length * step, near.x + dx / length * step)
        if shapely.covers(area, Point(inside[1], inside[0])):
            return metres, inside
    return metres, (near.y, near.x)


def parse_distance(text: str) -> float:
    """'600m', '1.5km', '600' (metres) to metres; `BadValue` otherwise."""
    match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*(m|km)?\s*", text or "")
    if not match:
        raise BadValue(text)
    return float(match.group(1)) * (1000 if match.group(2) == "km" else 1)
