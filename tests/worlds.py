"""Test-only geography, built through the same loader as real tenants.

    lat
     3 +-----------------+              faraway: lon 4..5, lat 4..5 (far off)
       |    northside    |
   1.5 +=================+   <- northside and riverside overlap in lat 1..1.5
     1 |    riverside    |
       |  campus 0.5..1  |      city-works: lon 0..2, lat 0..2 (pothole, streetlight)
    -1 +-----------------+      state-roads: lon -1..5, lat -1..5 (pothole, highway-sign)
       0                 2 lon  campus-fac: lon 0.5..1, lat 0.5..1 (streetlight)
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.orm import Session

from portal.models import Body, Tenant
from portal.tenancy import tenant_files


def box(min_lon: float, min_lat: float, max_lon: float, max_lat: float) -> dict:
    ring = [[min_lon, min_lat], [max_lon, min_lat], [max_lon, max_lat], [min_lon, max_lat],
            [min_lon, min_lat]]
    return {"type": "Feature", "properties": {}, "geometry": {"type": "Polygon",
                                                              "coordinates": [ring]}}


BODIES = {
    "city-works": (box(0, 0, 2, 2), [("pothole", "Pothole", "Bache"),
                                     ("streetlight", "Streetlight out", "Farola apagada")]),
    "state-roads": (box(-1, -1, 5, 5), [("pothole", "Pothole (state road)", "Bache"),
                                        ("highway-sign", "Highway sign", "Señal de autopista")]),
    "campus-fac": (box(0.5, 0.5, 1, 1), [("streetlight", "Campus light out", "Luz apagada")]),
}
PORTALS = {
    "northside": (box(0, 1, 2, 3), "city", ["en", "es"]),
    "riverside": (box(0, -1, 2, 1.5), "newspaper", ["en", "ar", "fr"]),
    "faraway": (box(4, 4, 5, 5), "university", ["en"]),
}


@dataclass
class World:
    bodies: dict[str, Body]
    portals: dict[str, Tenant]


def write_files(folder: Path) -> None:
    for slug, (area, types) in BODIES.items():
        d = folder / "bodies" / slug
        d.mkdir(parents=True, exist_ok=True)
        (d / "area.geojson").write_text(json.dumps(area))
        (d / "body.json").write_text(json.dumps({
            "slug": slug, "name": {"en": f"{slug} dept", "es": f"depto {slug}"},
            "contact_email": f"{slug}@bodies.test", "language": "en",
            "request_types": [{"code": c, "name": {"en": en, "es": es},
                               "help": {"en": f"Help for {c}"}} for c, en, es in types],
        }))
    for slug, (area, kind, languages) in PORTALS.items():
        d = folder / "portals" / slug
        d.mkdir(parents=True, exist_ok=True)
        (d / "area.geojson").write_text(json.dumps(area))
        (d / "portal.json").write_text(json.dumps({
            "slug": slug, "kind": kind,
            "name": {"en": f"{slug.title()} Portal", "es": f"Portal {slug.title()}"},
            "area_name": {"en": f"the {slug.title()} area"},
            "hosts": [f"{slug}.example.test"], "languages": languages,
            "default_language": "en", "time_zone": "UTC", "theme": "civic", "tile_url": "",
            "embed_origins": ["http://127.0.0.2:8766/"],
        }))


def build_world(session: Session, folder: Path, themes_dir: Path) -> World:
    write_files(folder)
    bodies, portals = tenant_files.load_all(session, folder, themes_dir)
    session.flush()
    return World({b.slug: b for b in bodies}, {p.slug: p for p in portals})
