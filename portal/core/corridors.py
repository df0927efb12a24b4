"""Corridors: a line with a width (a shuttle route, a bike lane, the walk from a park-and-ride
lot), made an area by buffering it by a distance in metres.

An `area.geojson` of a portal or a body may hold LineString/MultiLineString features beside
its polygons; each says how far either side it reaches in `properties.buffer_m` (default
`DEFAULT_BUFFER_M`, at most `MAX_BUFFER_M`). `split_area` reads such a file into the one
(multi)polygon that membership and routing use (the polygons and every buffered corridor)
and the corridors themselves, named, for the watch page. A resident's "watch my commute" is
stored the same way: its line buffered by the distance they chose.

Buffers are metric: the line is projected to a local equirectangular plane centred on it
(metres east and north of its centre, on the same sphere as `geo.distance_m`), buffered
there and projected back. Over a city (tens of kilometres) the scale error is well under a
metre, far below the width of a street.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass

import numpy as np
import shapely
from shapely.geometry import mapping, shape
from shapely.geometry.base import BaseGeometry

from portal.core.errors import N_, ConfigError

DEFAULT_BUFFER_M = 50.0  # a street's width either side of its centre line, and a pavement
MAX_BUFFER_M = 1000.0  # wider than this is an area: draw it as a polygon
METRES_PER_DEGREE = 2 * math.pi * 6_371_000 / 360  # the sphere of geo.distance_m
LINES = ("LineString", "MultiLineString")
AREAS = ("Polygon", "MultiPolygon")
KEY = re.compile(r"[^a-z0-9]+")


@dataclass(frozen=True)
class Corridor:
    """One corridor of an area file: a key, its names per language, its line and width."""

    key: str
    name: dict[str, str]
    line: BaseGeometry
    buffer_m: float

    def as_data(self) -> dict:
        """The form kept on the portal row (JSON)."""
        line = json.loads(json.dumps(mapping(self.line)))  # lists, as JSON reads back
        return {"key": self.key, "name": self.name, "buffer_m": self.buffer_m, "line": line}


def buffered(line: BaseGeometry, metres: float) -> BaseGeometry:
    """The area within `metres` of `line` (any geometry in WGS 84 lon/lat), as a polygon."""
    centre = line.centroid
    lon0, lat0 = centre.x, centre.y
    scale = np.array([METRES_PER_DEGREE * max(math.cos(math.radians(lat0)), 1e-6),
                      METRES_PER_DEGREE])
    origin = np.array([lon0, lat0])
    local = shapely.transform(line, lambda xy: (xy - origin) * scale)
    area = shapely.buffer(local, metres, quad_segs=8)
    return shapely.transform(area, lambda xy: xy / scale + origin)


def buffer_distance(value: object, where: str) -> float:
    """A corridor's `buffer_m`, checked: a number of metres above 0, at most MAX_BUFFER_M."""
    if value is None:
        return DEFAULT_BUFFER_M
    if isinstance(value, bool) or not isinstance(value, int | float) \
            or not math.isfinite(value) or not 0 < value <= MAX_BUFFER_M:
        raise ConfigError(N_("buffer_m must be a number of metres above 0 and at most "
                             "%(max)s, not %(value)s"), where=where, max=int(MAX_BUFFER_M),
                          value=repr(value)[:40])
    return float(value)


def _names(value: object, fallback: str) -> dict[str, str]:
    if isinstance(value, str) and value.strip():
        return {"en": value.strip()}
    if isinstance(value, dict):
        names = {str(k): str(v).strip() for k, v in value.items() if str(v).strip()}
        if names:
            return names
    return {"en": fallback}


def _key(properties: dict, names: dict[str, str], number: int, taken: set[str]) -> str:
    raw = str(properties.get("id") or names.get("en") or next(iter(names.values()), ""))
    key = KEY.sub("-", raw.lower()).strip("-")[:60] or f"corridor-{number}"
    if key in taken:
        key = f"{key}-{number}"
    taken.add(key)
    return key


def _features(data: dict) -> list[tuple[dict, dict | None]]:
    kind = data.get("type")
    if kind == "FeatureCollection":
        return [(f.get("properties") or {}, f.get("geometry"))
                for f in data.get("features") or [] if isinstance(f, dict)]
    if kind == "Feature":
        return [(data.get("properties") or {}, data.get("geometry"))]
    return [({}, data)]


def split_area(data: dict, where: str = "") -> tuple[dict, list[Corridor]]:
    """An area file's polygons and buffered corridors as one GeoJSON geometry (dict), and the
    corridors. Raises ConfigError naming the feature for a bad geometry or buffer."""
    polygons: list[BaseGeometry] = []
    corridors: list[Corridor] = []
    taken: set[str] = set()
    for number, (properties, geometry) in enumerate(_features(data), start=1):
        if geometry is None:
            continue
        at = f"{where} feature {number}".strip()
        try:
            geom = shape(geometry)
        except (AttributeError, KeyError, TypeError, ValueError, IndexError,
                shapely.errors.GEOSException):
            raise ConfigError(N_("not valid GeoJSON (%(problem)s)"), where=at,
                              problem="geometry") from None
        if geom.geom_type in AREAS:
            polygons.append(geom)
        elif geom.geom_type in LINES:
            if geom.is_empty or shapely.length(geom) == 0:
                raise ConfigError(N_("a corridor needs a line of two or more distinct "
                                     "points"), where=at)
            width = buffer_distance(properties.get("buffer_m"), at)
            names = _names(properties.get("name"), f"corridor {number}")
            corridors.append(Corridor(_key(properties, names, number, taken), names, geom,
                                      width))
        else:
            raise ConfigError(N_("an area feature must be a Polygon, MultiPolygon, LineString "
                                 "or MultiLineString, not %(kind)s"), where=at,
                              kind=geom.geom_type)
    if not polygons and not corridors:
        raise ConfigError(N_("the area has no features"), where=where)
    if not corridors:
        return data, []  # an area of polygons only is read as it always was
    parts = [p if p.is_valid else shapely.make_valid(p) for p in polygons]
    parts += [buffered(c.line, c.buffer_m) for c in corridors]
    return mapping(shapely.union_all(parts)), corridors


def corridor_from_data(data: dict) -> Corridor:
    """A corridor as kept on the portal row (see `Corridor.as_data`)."""
    return Corridor(str(data["key"]), dict(data.get("name") or {}), shape(data["line"]),
                    float(data.get("buffer_m") or DEFAULT_BUFFER_M))
