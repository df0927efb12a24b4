"""Portals and bodies written back out as files, in the layout `tenant_files` loads
(`portal tenants dump`): what an operator made through the forms, versioned and shipped again.
"""

from __future__ import annotations

import json
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.models import Body, Tenant


def dump_portal(tenant: Tenant, folder: Path) -> None:
    """Write a portal back out in the same layout `load_portal` reads."""
    folder.mkdir(parents=True, exist_ok=True)
    data = {
        "slug": tenant.slug,
        "kind": tenant.kind,
        "name": tenant.name,
        "area_name": tenant.area_name,
        "hosts": [h.host for h in sorted(tenant.hosts, key=lambda h: not h.is_primary)],
        "languages": tenant.languages,
        "default_language": tenant.default_language,
        "theme": tenant.theme,
        "tokens": tenant.tokens,
        "tile_url": tenant.tile_url,
        "tile_attribution": tenant.tile_attribution,
        "allow_anonymous": tenant.allow_anonymous,
        "embed_origins": tenant.embed_origins,
        "request_types": tenant.request_type_keys,
        "time_zone": tenant.time_zone,
    }
    if tenant.geocoder:
        data["geocoder"] = tenant.geocoder
    if tenant.display_area_geojson is None:
        data["simplify"] = "0m"  # loaded as it is, as it was
    if tenant.sms_numbers:
        data["sms"] = tenant.sms_numbers
    (folder / "portal.json").write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n",
                                        encoding="utf-8")
    area = {"type": "Feature", "properties": {}, "geometry": json.loads(tenant.area_geojson)}
    if tenant.corridors:  # the lines again, so the watch page keeps its named routes
        area = {"type": "FeatureCollection", "features": [area] + [
            {"type": "Feature", "geometry": c["line"],
             "properties": {"id": c["key"], "name": c["name"], "buffer_m": c["buffer_m"]}}
            for c in tenant.corridors]}
    (folder / "area.geojson").write_text(json.dumps(area) + "\n", encoding="utf-8")
    if tenant.logo_svg:
        (folder / "logo.svg").write_text(tenant.logo_svg, encoding="utf-8")


def dump_body(body: Body, folder: Path) -> None:
    """Write a body back out in the layout `load_body` reads (active request types only)."""
    folder.mkdir(parents=True, exist_ok=True)
    data: dict = {
        "slug": body.slug,
        "name": body.name,
        "contact_email": body.contact_email,
        "language": body.language,
        "request_types": [
            {"code": rt.code, "name": rt.name, **({"help": rt.help} if rt.help else {}),
             **({"questions": rt.questions} if rt.questions else {})}
            for rt in body.request_types if rt.active
        ],
    }
    if body.open311:
        data["open311"] = body.open311
    (folder / "body.json").write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n",
                                      encoding="utf-8")
    area = {"type": "Feature", "properties": {}, "geometry": json.loads(body.area_geojson)}
    (folder / "area.geojson").write_text(json.dumps(area) + "\n", encoding="utf-8")


def dump_all(session: Session, tenants_dir: Path) -> tuple[int, int]:
    """Every body and portal into `tenants_dir` (bodies/<slug>/, portals/<slug>/)."""
    bodies = list(session.scalars(select(Body).order_by(Body.slug)))
    portals = list(session.scalars(select(Tenant).order_by(Tenant.slug)))
    for body in bodies:
        dump_body(body, tenants_dir / "bodies" / body.slug)
    for tenant in portals:
        dump_portal(tenant, tenants_dir / "portals" / tenant.slug)
    return len(bodies), len(portals)
