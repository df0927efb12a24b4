"""Geometry helpers over our stored areas (Shapely; no external service).

Areas are kept as GeoJSON text. Parsed, prepared geometries are cached by the text's hash so
repeated point-in-polygon checks on write do not re-parse.
"""

from __future__ import annotations

import json
import math
from functools import lru_cache

import shapely
from shapely.geometry import mapping, shape
from shapely.geometry.base import BaseGeometry

from portal.core.errors import N_, ConfigError


def geometry_from_geojson(data: dict | str) -> BaseGeometry:
    """Accept a Geometry, Feature or FeatureCollection and return one (multi)polygon."""
    obj = json.loads(data) if isinstance(data, str) else data
    kind = obj.get("type")
    if kind == "FeatureCollection":
        geoms = [shape(f["geometry"]) for f in obj.get("features", []) if f.get("geometry")]
        if not geoms:
            raise ConfigError(N_("the area has no features"))
        geom = shapely.union_all(geoms)
    elif kind == "Feature":
        geom = shape(obj["geometry"])
    else:
        geom = shape(obj)
    if geom.geom_type not in ("Polygon", "MultiPolygon"):
        raise ConfigError(N_("an area must be a Polygon or MultiPolygon, not %(kind)s"),
                          kind=geom.geom_type)
    if not geom.is_valid:
        # Repair can leave lines or points beside the polygons (a zero-width spike): keep
        # only the polygons.
        repaired = shapely.make_valid(geom)
        parts = [g for g in shapely.get_parts(repaired)
                 if g.geom_type in ("Polygon", "MultiPolygon")]
        if not parts:
            raise ConfigError(N_("the area has no polygon left after repair"))
        geom = shapely.union_all(parts)
    return geom


def normalise_area(data: dict | str) -> str:
    """Return the canonical GeoJSON geometry text we store for an area."""
    return json.dumps(mapping(geometry_from_geojson(data)), separators=(",", ":"))


@lru_cache(maxsize=256)
def area(text: str) -> BaseGeometry:
    """The prepared geometry for stored GeoJSON text (cached by content).

    Keyed by the text itself, not a digest of it: a string keeps its hash once computed, so a
    lookup with the same row's text costs nothing, where hashing a city's boundary (hundreds
    of kilobytes) on every point-in-polygon test was most of an import's time.
    """
    geom = geometry_from_geojson(text)
    shapely.prepare(geom)
    return geom


def bbox(text: str) -> tuple[float, float, float, float]:
    """(min_lon, min_lat, max_lon, max_lat) of stored GeoJSON text."""
    return tuple(area(text).bounds)  # type: ignore[return-value]


def contains(text: str, lat: float, lon: float) -> bool:
    """Whether the area holds the point, its boundary included. (A point intersects a
    polygon exactly when the polygon covers it; the `_xy` form builds no Point object, which
    was most of the test's cost in bulk imports.)"""
    return bool(shapely.intersects_xy(area(text), lon, lat))


def intersects(a: str, b: str) -> bool:
    return area(a).intersects(area(b))


def size(text: str) -> float:
    return float(area(text).area)


def centre(text: str) -> tuple[float, float]:
    """(lat, lon) of a point guaranteed inside the area, for default map views."""
    p = area(text).representative_point()
    return (p.y, p.x)


def valid_coordinates(lat: float, lon: float) -> bool:
    return math.isfinite(lat) and math.isfinite(lon) and -90 <= lat <= 90 and -180 <= lon <= 180


def circle(lat: float, lon: float, radius_m: float) -> str:
    """A circle of `radius_m` metres as a GeoJSON polygon (equirectangular, fine at city scale)."""
    dlat = radius_m / 111_320
    dlon = radius_m / (111_320 * max(math.cos(math.radians(lat)), 1e-6))
    ring = [
        (lon + dlon * math.cos(t), lat + dlat * math.sin(t))
        for t in (2 * math.pi * i / 48 for i in range(48))
    ]
    ring.append(ring[0])
    return json.dumps({"type": "Polygon", "coordinates": [ring]})


def distance_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance in metres."""
    r = 6_371_000
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    h = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * r * math.asin(math.sqrt(h))
