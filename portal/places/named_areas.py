"""Named areas from the tenant files: `tenants/portals/<slug>/places.geojson`.

A FeatureCollection of the portal's neighbourhoods, districts, campus buildings and
landmarks: a polygon is an area (a point inside it is "in" it, and reverse look-ups name
it), a point a landmark. An area may give `properties.population` (its residents, from a
published count): the compare page then shows reports per 1,000 residents.
`properties.name` holds per-language names, like every tenant text.
`portal tenants load` replaces a portal's named places with the file's, so loading twice
changes nothing. A place wholly outside the portal's area is refused: a portal offers only
what lies in its area.
"""

from __future__ import annotations

import json
from pathlib import Path

from shapely.geometry import mapping, shape

from portal.core import geo
from portal.core.errors import N_, ConfigError
from portal.models import Tenant
from portal.places import gazetteer
from portal.places.gazetteer import NewPlace

FILE = "places.geojson"
SOURCE = "tenant-files"


def read_places(path: Path, tenant: Tenant) -> list[NewPlace]:
    """The named places of one file, validated; raises ConfigError naming the feature."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise ConfigError(N_("not valid JSON (%(problem)s at line %(line)s)"), where=str(path),
                          problem=exc.msg, line=exc.lineno) from None
    if data.get("type") != "FeatureCollection":
        raise ConfigError(N_("expected a FeatureCollection of named places"), where=str(path))
    places = []
    for number, feature in enumerate(data.get("features") or [], start=1):
        where = f"{path} feature {number}"
        names = (feature.get("properties") or {}).get("name")
        if isinstance(names, str):
            names = {"en": names}
        if not isinstance(names, dict) or not any(str(v).strip() for v in names.values()):
            raise ConfigError(N_("expected texts per language, like {\"en\": \"…\"}"),
                              where=where)
        names = {str(k): str(v).strip() for k, v in names.items() if str(v).strip()}
        try:
            geometry = shape(feature.get("geometry") or {})
        except (AttributeError, KeyError, TypeError, ValueError, IndexError):
            raise ConfigError(N_("a named place needs a Point or (Multi)Polygon geometry"),
                              where=where) from None
        if geometry.geom_type == "Point":
            if not geo.contains(tenant.area_geojson, geometry.y, geometry.x):
                raise ConfigError(N_("%(name)s lies outside the portal's area"), where=where,
                                  name=next(iter(names.values())))
            places.append(NewPlace("landmark", names, geometry.y, geometry.x))
            continue
        if geometry.geom_type not in ("Polygon", "MultiPolygon"):
            raise ConfigError(N_("a named place needs a Point or (Multi)Polygon geometry"),
                              where=where)
        outline = geo.normalise_area(mapping(geometry))
        if not geo.intersects(outline, tenant.area_geojson):
            raise ConfigError(N_("%(name)s lies outside the portal's area"), where=where,
                              name=next(iter(names.values())))
        inside = geo.area(outline).intersection(geo.area(tenant.area_geojson))
        centre = inside.representative_point()
        places.append(NewPlace("area", names, centre.y, centre.x, area_geojson=outline,
                               population=_population(feature, where)))
    return places


def _population(feature: dict, where: str) -> int | None:
    """`properties.population`: a whole number of residents, or absent (never guessed)."""
    value = (feature.get("properties") or {}).get("population")
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise ConfigError(N_("population must be a whole number of residents, like 12500"),
                          where=where)
    return value


def load_portal_places(session, tenant: Tenant, folder: Path) -> int:  # noqa: ANN001
    """Replace the portal's named places with those of its folder's file (none: none)."""
    path = folder / FILE
    places = read_places(path, tenant) if path.is_file() else []
    gazetteer.remove_source(session, tenant.id, SOURCE)
    return gazetteer.add_places(session, tenant.id, places, SOURCE)
