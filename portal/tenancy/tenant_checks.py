"""`portal tenants check`: every problem of portals and bodies, one line each.

The loader (`tenant_files`) stops at the first thing it cannot load; a check wants them all.
So `check_files` loads each folder in a savepoint of its own (the loader's own checks, the
same code as `tenants load`: a file that passes here loads there) and then looks across what
loaded, together with what the database already holds, for what no single file shows:

- a portal offering request-type codes no body covering it has (error);
- a portal no body covers (error), or covers only partly (warning, with how much);
- names missing for a language the portal declares (warning): the portal's name and area
  name, and the names of the request types it offers.

`check_database` runs the second half alone, for portals made by form or command. Nothing is
written: the caller rolls the session back.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import shapely
from sqlalchemy import delete, false, select
from sqlalchemy.orm import Session, selectinload

from portal.core import geo
from portal.core.errors import N_, ConfigError, Message
from portal.models import Body, Tenant
from portal.tenancy import tenant_files

ERROR, WARNING = "error", "warning"
FULL_COVER = 0.999  # below this share of a portal's area, say how much no body covers


@dataclass(frozen=True)
class Problem:
    """One finding: how bad, the file (or portal) and field, and what is wrong."""

    severity: str
    where: str
    message: Message

    def line(self, translate: Callable[[Message], str]) -> str:
        return f"{self.severity}: {self.where}: {translate(self.message)}"


def check_files(session: Session, tenants_dir: Path, themes_dir: Path) -> list[Problem]:
    """Load every folder under `tenants_dir` in its own savepoint, then check across them."""
    problems: list[Problem] = []
    files: dict[str, Path] = {}
    # pysqlite opens its transaction only before a write, so a SAVEPOINT first would be
    # its own transaction and RELEASE would commit it: a write that changes nothing opens
    # the real one, and the caller's rollback then undoes every folder (PostgreSQL needs
    # no help; the statement is as harmless there).
    session.execute(delete(Tenant).where(false()))
    for kind, load in (("bodies", lambda d: tenant_files.load_body(session, d)),
                       ("portals", lambda d: tenant_files.load_portal(session, d, themes_dir))):
        for folder in sorted((tenants_dir / kind).glob("*")):
            if not folder.is_dir():
                continue
            try:
                with session.begin_nested():
                    row = load(folder)
            except ConfigError as exc:
                problems.append(Problem(ERROR, exc.where or str(folder), exc.message))
                continue
            if kind == "portals":
                files[row.slug] = folder / "portal.json"
    return problems + check_database(session, files)


def check_database(session: Session, files: dict[str, Path] | None = None) -> list[Problem]:
    """The checks across portals and bodies, over what the session sees."""
    files = files or {}
    bodies = session.scalars(select(Body).options(selectinload(Body.request_types))).all()
    problems: list[Problem] = []
    for tenant in session.scalars(select(Tenant).order_by(Tenant.slug)):
        where = str(files.get(tenant.slug, f"portal {tenant.slug}"))
        covering = [b for b in bodies if _overlap(b, tenant) > 0]
        problems += _coverage(tenant, covering, where)
        problems += _request_types(tenant, covering, where)
        problems += _names(tenant, covering, where)
    return problems


def coverage(tenant: Tenant, bodies: list[Body]) -> float:
    """The share (0-1) of the portal's area inside at least one of `bodies`."""
    portal = geo.area(tenant.area_geojson)
    if not bodies or portal.area <= 0:
        return 0.0
    union = shapely.union_all([geo.area(b.area_geojson) for b in bodies])
    return min(1.0, portal.intersection(union).area / portal.area)


def _overlap(body: Body, tenant: Tenant) -> float:
    if (body.max_lon < tenant.min_lon or body.min_lon > tenant.max_lon
            or body.max_lat < tenant.min_lat or body.min_lat > tenant.max_lat):
        return 0.0
    return geo.area(body.area_geojson).intersection(geo.area(tenant.area_geojson)).area


def _coverage(tenant: Tenant, covering: list[Body], where: str) -> list[Problem]:
    share = coverage(tenant, covering)
    if share <= 0:
        return [Problem(ERROR, f"{where} area", Message(N_(
            "no body covers this portal's area: nobody can report here; add a body whose "
            "area overlaps it")))]
    if share < FULL_COVER:
        return [Problem(WARNING, f"{where} area", Message(N_(
            "no body covers %(percent)s %% of this portal's area: reports there are refused"),
            {"percent": max(1, round(100 * (1 - share)))}))]
    return []


def _request_types(tenant: Tenant, covering: list[Body], where: str) -> list[Problem]:
    if tenant.request_type_keys is None:
        return []
    keys = {rt.key for b in covering for rt in b.request_types if rt.active}
    codes = {rt.code for b in covering for rt in b.request_types if rt.active}
    whole = {f"{b.slug}/*" for b in covering}  # every type of one body
    unknown = [k for k in tenant.request_type_keys
               if k not in keys and k not in codes and k not in whole]
    if not unknown:
        return []
    return [Problem(ERROR, f"{where} request_types", Message(N_(
        "request types %(codes)s are offered by no body covering this portal (its bodies "
        "offer: %(known)s)"), {"codes": ", ".join(unknown),
                               "known": ", ".join(sorted(codes)) or "-"}))]


def _names(tenant: Tenant, covering: list[Body], where: str) -> list[Problem]:
    languages = list(tenant.languages or [])
    found: list[Problem] = []

    def missing(texts: dict | None, field: str) -> None:
        lacking = [lang for lang in languages if not (texts or {}).get(lang)]
        if lacking:
            found.append(Problem(WARNING, f"{where} {field}", Message(N_(
                "no text for the portal's languages %(languages)s (English or the first "
                "text is shown instead)"), {"languages": ", ".join(lacking)})))

    missing(tenant.name, "name")
    if tenant.area_name:
        missing(tenant.area_name, "area_name")
    seen = set()
    for body in sorted(covering, key=lambda b: (b.area_size, b.id)):
        for rt in body.request_types:
            if rt.active and tenant.offers(rt) and rt.code not in seen:
                seen.add(rt.code)
                missing(rt.name, f"request type {rt.key} name")
    return found
