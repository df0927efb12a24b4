"""Tenants and bodies as files: `portal tenants load` upserts them (`tenant_dump` writes them
back).

Layout (see tenants/README.md):

    tenants/bodies/<slug>/body.json      name, contact, language, request types
    tenants/bodies/<slug>/area.geojson
    tenants/portals/<slug>/portal.json   kind, names, hosts, languages, theme, tokens, ...
    tenants/portals/<slug>/area.geojson
    tenants/portals/<slug>/logo.svg      optional

Everything is validated before anything is written; loading is idempotent. The database is
the source of truth at run time; these files are how tenants are versioned and shipped.
"""

from __future__ import annotations

import json
import logging
import re
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.core import corridors, geo, time_zones
from portal.core.errors import N_, ConfigError
from portal.core.i18n import SUPPORTED
from portal.models import Body, RequestType, Tenant, TenantHost
from portal.tenancy import (
    boundaries,
    logos,
    membership,
    service_targets,
    template_files,
    tenant_settings,
    themes,
)
from portal.tenancy import hosts as host_names

LOG = logging.getLogger("portal.tenants")

KINDS = ("politician", "university", "newspaper", "city", "county", "other")
SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}$")


def _read_json(path: Path) -> dict:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(N_("missing file"), where=str(path)) from None
    except json.JSONDecodeError as exc:
        raise ConfigError(N_("not valid JSON (%(problem)s at line %(line)s)"), where=str(path),
                          problem=exc.msg, line=exc.lineno) from None


def _texts(value: object, where: str, required: bool = True) -> dict[str, str]:
    if isinstance(value, str):
        value = {"en": value}
    if not isinstance(value, dict) or (required and not value):
        raise ConfigError(N_("expected texts per language, like {\"en\": \"…\"}"), where=where)
    return {str(k): str(v) for k, v in value.items()}


MAX_NEARBY_M = 1000  # past this, "is it one of these?" lists strangers' problems


def _nearby_m(value: object, folder: Path, code: str) -> int | None:
    """A request type's "already reported?" distance in whole metres, or None (the default)."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_NEARBY_M:
        raise ConfigError(N_("request type %(code)s: nearby_m must be a whole number of metres "
                             "from 1 to %(max)s"), where=str(folder), code=code, max=MAX_NEARBY_M)
    return value


def _area(folder: Path) -> tuple[str, list[corridors.Corridor]]:
    """The area as stored (polygons and buffered corridors in one) and the corridors."""
    try:
        data = _read_json(folder / "area.geojson")
        area, lines = corridors.split_area(data, str(folder / "area.geojson"))
        boundaries.check_area_coordinates(str(folder / "area.geojson"),
                                          geo.geometry_from_geojson(area))
        return geo.normalise_area(area), lines
    except ConfigError as exc:
        raise exc.at(folder / "area.geojson") from None


def display_area(area_text: str, tolerance_m: float) -> str | None:
    """The outline maps draw, simplified to `tolerance_m`; None when that saves little."""
    light = boundaries.simplified(geo.area(area_text), tolerance_m)
    return light.text if light.bytes_after < 0.9 * len(area_text) else None


def _set_area(row: Body | Tenant, area_text: str) -> None:
    row.area_geojson = area_text
    row.min_lon, row.min_lat, row.max_lon, row.max_lat = geo.bbox(area_text)


def load_body(session: Session, folder: Path) -> Body:
    data = _read_json(folder / "body.json")
    slug = data.get("slug", folder.name)
    if not SLUG.match(slug):
        raise ConfigError(N_("slug %(slug)r must be lower-case letters, digits, dashes"),
                          where=str(folder), slug=slug)
    area_text, _lines = _area(folder)
    types = data.get("request_types") or []
    if not types:
        raise ConfigError(N_("a body needs at least one request type"), where=str(folder))
    body = session.scalars(select(Body).where(Body.slug == slug)).first() or Body(slug=slug)
    body.name = _texts(data.get("name"), f"{folder} name")
    body.contact_email = str(data.get("contact_email", ""))
    body.language = data.get("language", "en")
    body.open311 = tenant_settings.open311_config(data.get("open311"), f"{folder} open311")
    _set_area(body, area_text)
    body.area_size = geo.size(area_text)
    session.add(body)
    session.flush()
    existing = {rt.code: rt for rt in body.request_types}
    seen = set()
    for item in types:
        code = item.get("code", "")
        if not SLUG.match(code):
            raise ConfigError(N_("request type code %(code)r is not a valid code"),
                              where=str(folder), code=code)
        rt = existing.get(code) or RequestType(body_id=body.id, code=code)
        rt.name = _texts(item.get("name"), f"{folder} request type {code} name")
        rt.help = _texts(item.get("help", {}), f"{folder} {code} help", required=False)
        rt.questions = list(item.get("questions", []))
        rt.nearby_m = _nearby_m(item.get("nearby_m"), folder, code)
        rt.active = True
        if rt not in body.request_types:
            body.request_types.append(rt)
        seen.add(code)
    for code, rt in existing.items():
        if code not in seen:
            rt.active = False  # issues keep their type; it is just no longer offered
    targets = service_targets.check(data, str(folder / "body.json"), seen)
    if targets != body.service_targets:
        body.service_targets = targets
        session.flush()
        service_targets.refresh_body(session, body)  # promises changed: so did due times
    template_files.load(session, body, template_files.check(
        data.get("response_templates"), str(folder / "body.json"), seen))
    return body


def _logo(path: Path) -> str:
    """The logo file as stored; one with anything beyond drawing (a script, an event
    attribute, an outside reference) is refused, naming what (`portal.tenancy.logos`)."""
    text, dropped = logos.clean_svg(path.read_bytes(), str(path))
    if dropped:
        raise ConfigError(N_("the logo holds what a logo may not: %(parts)s"), where=str(path),
                          parts=", ".join(dropped))
    return text


def load_portal(session: Session, folder: Path, themes_dir: Path) -> Tenant:
    data = _read_json(folder / "portal.json")
    slug = data.get("slug", folder.name)
    if not SLUG.match(slug):
        raise ConfigError(N_("slug %(slug)r must be lower-case letters, digits, dashes"),
                          where=str(folder), slug=slug)
    kind = data.get("kind", "other")
    if kind not in KINDS:
        raise ConfigError(N_("kind %(kind)r is not one of %(kinds)s"), where=str(folder),
                          kind=kind, kinds=", ".join(KINDS))
    languages = list(data.get("languages") or ["en"])
    unknown = [lang for lang in languages if lang not in SUPPORTED]
    if unknown:
        raise ConfigError(N_("languages not shipped: %(languages)s"), where=str(folder),
                          languages=", ".join(unknown))
    default = data.get("default_language", languages[0])
    if default not in languages:
        raise ConfigError(N_("default_language %(language)r is not in languages"),
                          where=str(folder), language=default)
    theme = data.get("theme", "civic")
    tokens = {str(k): str(v) for k, v in (data.get("tokens") or {}).items()}
    try:
        themes.resolved_tokens(themes_dir, theme, tokens)
    except ConfigError as exc:
        raise exc.at(folder) from None
    where = str(folder / "portal.json")
    hosts = []
    for host in data.get("hosts", []):
        # The same strict reading as a request's Host header: a DNS name or IP, maybe a port.
        try:
            hosts.append(host_names.parse_host([str(host).encode("ascii", "replace")]).authority)
        except host_names.BadHost:
            raise ConfigError(N_("host %(host)r is not a valid DNS host name"),
                              where=f"{where} hosts", host=host) from None
    if len(set(hosts)) != len(hosts):
        twice = sorted({h for h in hosts if hosts.count(h) > 1})
        raise ConfigError(N_("host %(host)s is listed twice"), where=f"{where} hosts",
                          host=", ".join(twice))
    origins = []
    for origin in data.get("embed_origins", []):
        try:
            origins.append(tenant_settings.normalise_origin(str(origin)))
        except ConfigError as exc:
            raise exc.at(f"{where} embed_origins") from None
    tolerance = boundaries.parse_tolerance(str(data.get("simplify", "20m")))
    time_zone = data.get("time_zone")
    if time_zone is None:
        LOG.warning("%s: portal.json gives no time_zone; its pages show times in UTC", folder)
        time_zone = time_zones.DEFAULT
    elif not time_zones.is_known(time_zone):
        raise ConfigError(N_("time_zone %(zone)r is not a time zone name such as "
                             "America/New_York"), where=f"{where} time_zone", zone=time_zone)
    area_text, lines = _area(folder)
    geocoder = tenant_settings.geocoder_setting(data.get("geocoder"), f"{folder} geocoder")
    numbers = tenant_settings.sms_numbers(data.get("sms"), f"{folder} sms")
    logo_path = (folder / data.get("logo", "logo.svg")).resolve()
    if not logo_path.is_relative_to(folder.resolve()):
        raise ConfigError(N_("the logo must be a file in the portal's folder"), where=str(folder))

    tenant = session.scalars(select(Tenant).where(Tenant.slug == slug)).first()
    area_changed = tenant is None or tenant.area_geojson != area_text
    tenant = tenant or Tenant(slug=slug)
    tenant.kind = kind
    tenant.name = _texts(data.get("name"), f"{folder} name")
    tenant.area_name = _texts(data.get("area_name", {}), f"{folder} area_name", required=False)
    tenant.languages = languages
    tenant.default_language = default
    tenant.theme = theme
    tenant.tokens = tokens
    tenant.logo_svg = _logo(logo_path) if logo_path.is_file() else ""
    tenant.tile_url = data.get("tile_url", "https://tile.openstreetmap.org/{z}/{x}/{y}.png")
    tenant.tile_attribution = data.get("tile_attribution", "© OpenStreetMap contributors")
    tenant.allow_anonymous = bool(data.get("allow_anonymous", True))
    tenant.embed_origins = sorted(set(origins))
    tenant.request_type_keys = data.get("request_types")
    tenant.geocoder = geocoder
    tenant.sms_numbers = numbers
    tenant.time_zone = time_zone
    tenant.corridors = [line.as_data() for line in lines]
    _set_area(tenant, area_text)
    tenant.display_area_geojson = display_area(area_text, tolerance)
    session.add(tenant)
    session.flush()
    try:
        _set_hosts(session, tenant, hosts)
    except ConfigError as exc:
        raise exc.at(f"{where} hosts") from None
    if area_changed:
        membership.refresh_portal(session, tenant)
    return tenant


def _set_hosts(session: Session, tenant: Tenant, hosts: list[str]) -> None:
    for host in hosts:
        owner = session.get(TenantHost, host)
        if owner is not None and owner.tenant_id != tenant.id:
            raise ConfigError(N_("host %(host)s already belongs to another portal"), host=host)
    for row in list(tenant.hosts):
        if row.host not in hosts:
            session.delete(row)
    session.flush()
    known = {row.host for row in tenant.hosts}
    for index, host in enumerate(hosts):
        if host not in known:
            session.add(TenantHost(host=host, tenant_id=tenant.id, is_primary=index == 0))
    session.flush()
    session.refresh(tenant, ["hosts"])


def load_all(
    session: Session, tenants_dir: Path, themes_dir: Path
) -> tuple[list[Body], list[Tenant]]:
    """Load every body, then every portal (portals offer bodies' request types)."""
    bodies = [
        load_body(session, d) for d in sorted((tenants_dir / "bodies").glob("*")) if d.is_dir()
    ]
    portals = [
        load_portal(session, d, themes_dir)
        for d in sorted((tenants_dir / "portals").glob("*"))
        if d.is_dir()
    ]
    for portal in portals:
        for gap in content_gaps(bodies, portal):
            LOG.warning("%s", gap)
    return bodies, portals


def content_gaps(bodies: list[Body], portal: Tenant) -> list[str]:
    """Texts a portal shows that lack one of its languages: its name, and the names and help
    of the request types of bodies covering part of its area. A resident reading one of
    those languages would get the default language's words there instead; `portal tenants
    load` warns about each, so a generated or edited portal is completed before it is used."""
    languages = list(portal.languages or [])
    gaps = []

    def check(texts: dict, what: str, required: bool = True) -> None:
        if not texts and not required:
            return
        missing = [lang for lang in languages if not (texts or {}).get(lang)]
        if missing:
            gaps.append(f"portal {portal.slug}: {what} has no text in {', '.join(missing)}")

    check(portal.name, "the portal's name")
    check(portal.area_name, "the area's name", required=False)
    for body in bodies:
        if not geo.intersects(body.area_geojson, portal.area_geojson):
            continue
        check(body.name, f"body {body.slug}'s name")
        for rt in body.request_types:
            if rt.active:
                check(rt.name, f"request type {body.slug}/{rt.code}'s name")
                check(rt.help, f"request type {body.slug}/{rt.code}'s help", required=False)
    return gaps
