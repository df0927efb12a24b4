"""What a point is called, from the portal's own places (no network): the nearest address
point, if close, and the smallest named area holding it.

Reverse look-ups read the address points in a small box around the point
(`ix_places_tenant_kind_lat_lon`) and the named areas whose box holds it, never all of a
portal's places.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import shapely
from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.core import geo
from portal.core.localized import localized
from portal.models import Place, Tenant
from portal.places.gazetteer import place_label

NEAR_M = 100.0  # an address point this close names a point ("near 120 Chapel St")
EDGE = 0.0005  # degrees (~50 m): how far outside an outline a point still counts as in it


@dataclass(frozen=True)
class PlaceName:
    """What a point is called: the nearest address point (if close) and the named area."""

    address: str = ""
    area: str = ""

    def __str__(self) -> str:
        return ", ".join(part for part in (self.address, self.area) if part)


def area_at(session: Session, tenant: Tenant, lat: float, lon: float, locale: str) -> str:
    """The smallest named area of the portal containing the point, in `locale`; or "".

    Outlines are simplified (tenants/SOURCES.md: about 20 m), which leaves slivers between
    neighbours: a point in one is named by the nearest area within `EDGE` degrees.
    """
    rows = session.scalars(select(Place).where(
        Place.tenant_id == tenant.id, Place.kind == "area", Place.min_lat <= lat + EDGE,
        Place.max_lat >= lat - EDGE, Place.min_lon <= lon + EDGE,
        Place.max_lon >= lon - EDGE)).all()
    inside = [p for p in rows if p.area_geojson and geo.contains(p.area_geojson, lat, lon)]
    if inside:
        return place_label(min(inside, key=lambda p: geo.size(p.area_geojson)), tenant, locale)
    here = shapely.Point(lon, lat)
    near = [(geo.area(p.area_geojson).distance(here), p) for p in rows if p.area_geojson]
    near = [(d, p) for d, p in near if d <= EDGE]
    return place_label(min(near, key=lambda item: item[0])[1], tenant, locale) if near else ""


def address_near(session: Session, tenant: Tenant, lat: float, lon: float) -> str:
    """The address point nearest the point within `NEAR_M` metres; or ""."""
    d_lat = NEAR_M / 111_000
    d_lon = d_lat / max(0.1, abs(math.cos(math.radians(lat))))
    rows = session.execute(select(Place.names, Place.lat, Place.lon).where(
        Place.tenant_id == tenant.id, Place.kind == "address",
        Place.lat.between(lat - d_lat, lat + d_lat),
        Place.lon.between(lon - d_lon, lon + d_lon)).limit(2000)).all()
    best, best_d = "", NEAR_M
    for names, p_lat, p_lon in rows:
        distance = geo.distance_m(lat, lon, p_lat, p_lon)
        if distance <= best_d:
            best, best_d = localized(names, tenant.default_language), distance
    return best


def name_of(session: Session, tenant: Tenant, lat: float, lon: float,
            locale: str | None = None) -> PlaceName:
    """What the point is called, from the portal's own places (no network)."""
    return PlaceName(address_near(session, tenant, lat, lon),
                     area_at(session, tenant, lat, lon, locale or tenant.default_language))
