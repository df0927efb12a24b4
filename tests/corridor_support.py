"""A test-only commuter portal: a small box and a shuttle corridor leaving it eastwards,
and a body whose whole area is a narrower corridor along the same line (tests/worlds.py has
the rest of the world: state-roads covers it all with potholes)."""

from __future__ import annotations

import json
from pathlib import Path

from portal.core import corridors
from portal.tenancy import tenant_files
from tests.worlds import box

M = corridors.METRES_PER_DEGREE
LINE_LAT = 4.01  # the corridor runs east along this latitude, from lon 4.01 to 4.10
BOX = box(4, 4, 4.02, 4.02)  # the portal's own polygon; the corridor leaves it eastwards


def north_of_line(metres: float, lon: float = 4.06) -> tuple[float, float]:
    return (LINE_LAT + metres / M, lon)


def line_feature(coords, **properties) -> dict:
    return {"type": "Feature", "properties": properties,
            "geometry": {"type": "LineString", "coordinates": coords}}


def write_portal(folder: Path, features: list[dict], slug: str = "commuters") -> Path:
    d = folder / "portals" / slug
    d.mkdir(parents=True, exist_ok=True)
    (d / "area.geojson").write_text(json.dumps({"type": "FeatureCollection",
                                                "features": features}))
    (d / "portal.json").write_text(json.dumps({
        "slug": slug, "kind": "university", "name": {"en": "Commuters"},
        "hosts": [f"{slug}.example.test"], "languages": ["en"], "time_zone": "UTC",
        "tile_url": ""}))
    return d


def write_body(folder: Path, features: list[dict], slug: str = "shuttle-ops") -> Path:
    d = folder / "bodies" / slug
    d.mkdir(parents=True, exist_ok=True)
    (d / "area.geojson").write_text(json.dumps({"type": "FeatureCollection",
                                                "features": features}))
    (d / "body.json").write_text(json.dumps({
        "slug": slug, "name": {"en": "Shuttle operations"},
        "contact_email": "shuttle@bodies.test",
        "request_types": [{"code": "bus-stop-sign", "name": {"en": "Bus stop: sign missing"}}]}))
    return d


SHUTTLE = line_feature([[4.01, LINE_LAT], [4.10, LINE_LAT]], id="blue-line",
                       name={"en": "Blue shuttle"}, buffer_m=60)


def build_commuters(session, folder: Path, themes_dir: Path):  # noqa: ANN001,ANN201
    """The `commuters` portal and the `shuttle-ops` body, loaded from files in `folder`
    (beside the test world's, which must be loaded first)."""
    body = tenant_files.load_body(session, write_body(folder, [line_feature(
        [[4.01, LINE_LAT], [4.10, LINE_LAT]], buffer_m=40)]))
    tenant = tenant_files.load_portal(session, write_portal(folder, [BOX, SHUTTLE]), themes_dir)
    session.commit()
    return tenant, body
