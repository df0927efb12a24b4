"""Watch my commute: a watch along a route, one of the portal's corridors or a line drawn.

The resident picks a named corridor of the portal (`Tenant.corridors`, from its area file)
or draws a line on the map (the page writes it as GeoJSON into a hidden field), and a
distance either side. The watch stores the line buffered by that distance
(`Watch.area_geojson`) and its bounding box, so it is matched exactly like a circle: the
issue's stored portal membership, the indexed box, then one point-in-polygon test on the
stored area (`watching.covers`).
"""

from __future__ import annotations

import json
import math

import shapely
from shapely.geometry import LineString, mapping

from portal.core import corridors, geo
from portal.core.errors import N_, Message
from portal.core.i18n import gettext as _
from portal.core.localized import localized
from portal.models import Tenant, Watch

DISTANCES = (50, 100, 250, 500)
MIN_DISTANCE, MAX_DISTANCE = 25.0, 1000.0
MAX_POINTS = 200
MAX_LENGTH_M = 50_000.0  # a long commute across a county; past that it is not a route


def corridors_of(tenant: Tenant) -> list[corridors.Corridor]:
    return [corridors.corridor_from_data(c) for c in tenant.corridors or []]


def named(tenant: Tenant, locale: str) -> list[tuple[str, str]]:
    """(key, name in `locale`) of each corridor, for the watch page's pick list."""
    return [(c.key, localized(c.name, locale, tenant.default_language))
            for c in corridors_of(tenant)]


def _drawn_line(text: str) -> LineString | None:
    """The drawn line, or None when the field holds no usable GeoJSON LineString."""
    try:
        data = json.loads(text)
        if data.get("type") == "Feature":
            data = data.get("geometry") or {}
        if data.get("type") != "LineString":
            return None
        points = [(float(x), float(y)) for x, y, *_rest in data["coordinates"]]
    except (AttributeError, KeyError, TypeError, ValueError):
        return None
    if not 2 <= len(points) <= MAX_POINTS \
            or not all(geo.valid_coordinates(lat, lon) for lon, lat in points):
        return None
    line = LineString(points)
    return line if line.length > 0 else None


def _length_m(line: LineString) -> float:
    coords = list(line.coords)
    return sum(geo.distance_m(a[1], a[0], b[1], b[0])
               for a, b in zip(coords, coords[1:], strict=False))


def parse(tenant: Tenant, corridor: str, line_text: str,
          distance: str) -> tuple[dict, dict[str, Message]]:
    """The columns of a route watch, or errors by field (`route`, `route_distance`)."""
    errors: dict[str, Message] = {}
    try:
        metres = float(distance)
    except ValueError:
        metres = -1.0
    if not math.isfinite(metres) or not MIN_DISTANCE <= metres <= MAX_DISTANCE:
        errors["route_distance"] = Message(
            N_("Choose a distance between %(min)s and %(max)s metres."),
            {"min": int(MIN_DISTANCE), "max": int(MAX_DISTANCE)})
    line = None
    key = None
    if corridor:
        found = [c for c in corridors_of(tenant) if c.key == corridor]
        if not found:
            errors["route"] = Message(N_("Choose one of the routes listed."))
        else:
            line, key = found[0].line, found[0].key
    elif line_text.strip():
        line = _drawn_line(line_text)
        if line is None:
            errors["route"] = Message(N_("Draw a route of at least two points on the map, "
                                         "or choose one of the routes listed."))
        elif _length_m(line) > MAX_LENGTH_M:
            errors["route"] = Message(N_("A route can be at most %(km)s km long."),
                                      {"km": int(MAX_LENGTH_M / 1000)})
        elif not geo.area(tenant.area_geojson).intersects(line):
            errors["route"] = Message(N_("The route must pass through this portal's area."))
    else:
        errors["route"] = Message(N_("Choose a route, or draw one on the map."))
    if errors:
        return {}, errors
    area = corridors.buffered(line, metres)
    text = json.dumps(mapping(shapely.set_precision(area, 1e-6)), separators=(",", ":"))
    min_lon, min_lat, max_lon, max_lat = geo.bbox(text)
    return {"area_geojson": text, "corridor": key, "radius_m": metres,
            "min_lon": min_lon, "min_lat": min_lat, "max_lon": max_lon,
            "max_lat": max_lat}, {}


def describe(watch: Watch, tenant: Tenant) -> str:
    """A route watch in words, in the current language."""
    metres = int(watch.radius_m or 0)
    names = {c.key: c.name for c in corridors_of(tenant)}
    if watch.corridor in names:
        route = localized(names[watch.corridor], watch.locale, tenant.default_language)
        return _("Within %(distance)s m of the route %(route)s", distance=metres, route=route)
    return _("Within %(distance)s m of the route you drew", distance=metres)
