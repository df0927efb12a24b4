"""`portal tenants …` and `portal bodies …`: portals and bodies from files and boundaries.

    portal tenants load|list|dump|check|admin-token|new
    portal bodies import FILE --name-property P --slug-template T --request-types types.json

`tenants new` and `bodies import` read a boundary file the careful way
(`portal.tenancy.boundaries`: reprojected, repaired, swapped axes caught), write the portal
or bodies in the `tenants/` layout, and load what they wrote with the same loader as
`tenants load`, so a file and a command can never disagree about what is valid. They print
what they did to the geometry and what is still missing (`portal.tenancy.tenant_checks`).
"""

from __future__ import annotations

import argparse
from pathlib import Path

from sqlalchemy import select

from portal.cli_support import open_db, portal_named
from portal.core.db import Database
from portal.core.errors import N_, ConfigError
from portal.core.i18n import SUPPORTED, translate
from portal.core.i18n import gettext as _
from portal.core.settings import Settings
from portal.tenancy import (
    boundaries,
    corridor_layers,
    logos,
    portal_creation,
    tenant_checks,
    tenant_dump,
    tenant_files,
)


def add_parsers(sub: argparse._SubParsersAction) -> None:  # noqa: SLF001 - argparse's own type
    tenants = sub.add_parser("tenants", help="make, load, check, dump or list portals and bodies")
    tenants.add_argument("action", choices=["load", "dump", "list", "check", "new",
                                            "admin-token"])
    tenants.add_argument("slug", nargs="?")
    tenants.add_argument("--path", help="tenants folder to load from, check, write to or "
                                        "dump to (default TENANTS_DIR)")
    new = tenants.add_argument_group("tenants new")
    new.add_argument("--kind", choices=tenant_files.KINDS, default="other")
    new.add_argument("--area", metavar="FILE", help="boundary: GeoJSON, Shapefile .zip or KML")
    new.add_argument("--pick", action="append", default=[], metavar="VALUE",
                     help="only the features whose --pick-property is VALUE (repeat)")
    new.add_argument("--pick-property", default="name")
    new.add_argument("--name", action="append", default=[], metavar="[LANG=]TEXT",
                     help="the portal's name, per language (repeat): --name 'es=Mi barrio'")
    new.add_argument("--area-name", action="append", default=[], metavar="[LANG=]TEXT")
    new.add_argument("--language", action="append", default=[],
                     help="a language offered (repeat); the first is the default")
    new.add_argument("--host", action="append", default=[], help="a custom host name (repeat)")
    new.add_argument("--embed-origin", action="append", default=[],
                     help="an origin that may embed the widgets (repeat)")
    new.add_argument("--theme", default="civic")
    new.add_argument("--color", help="brand colour #rrggbb (the primary colour)")
    new.add_argument("--logo", metavar="FILE", help="an SVG (kept to what draws) or PNG logo")
    new.add_argument("--no-anonymous", action="store_true",
                     help="require a name and email on every report")
    new.add_argument("--buffer", metavar="METRES",
                     help="keep the file's lines as corridors this wide either side (a "
                          "line's own buffer_m property wins), e.g. 60m")
    new.add_argument("--time-zone", default="",
                     help="the portal's time zone, e.g. America/New_York (default UTC)")
    new.add_argument("--simplify", default="20m",
                     help="tolerance of the outline maps draw (routing keeps the original)")
    new.add_argument("--force", action="store_true", help="replace an existing folder")
    _geometry_options(tenants)
    tenants.set_defaults(func=cmd_tenants)

    bodies = sub.add_parser("bodies", help="bodies from a layer: one per feature")
    bodies.add_argument("action", choices=["import"])
    bodies.add_argument("file", help="GeoJSON, Shapefile .zip or KML")
    bodies.add_argument("--name-property", required=True,
                        help="the feature property that names each body")
    bodies.add_argument("--name-template", default="{value}",
                        help="the body's name, e.g. 'District {supervisor} (demo)'; "
                             "{value} is the name property")
    bodies.add_argument("--slug-template", required=True,
                        help="e.g. sf-district-{supervisor}: properties in braces")
    bodies.add_argument("--request-types", required=True, metavar="JSON",
                        help="a file with the request types every body gets, as in body.json")
    bodies.add_argument("--contact-email-template", default="",
                        help="e.g. district{supervisor}@example.org")
    bodies.add_argument("--language", default="en", help="the language of the bodies' mail")
    bodies.add_argument("--path", help="tenants folder to write to (default TENANTS_DIR)")
    bodies.add_argument("--force", action="store_true", help="replace existing folders")
    _geometry_options(bodies)
    bodies.set_defaults(func=cmd_bodies)


def _geometry_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--crs", default="", help="the file's coordinate system when it does "
                                                   "not say (e.g. EPSG:2263)")
    parser.add_argument("--swap-axes", action="store_true",
                        help="the file is latitude first: swap every coordinate pair")


def cmd_tenants(args: argparse.Namespace, settings: Settings) -> int:
    db = open_db(settings)
    folder = Path(args.path) if args.path else settings.tenants_dir
    if args.action == "load":
        from portal.places import named_areas

        with db.session() as session:
            bodies, portals = tenant_files.load_all(session, folder, settings.themes_dir)
            for portal in portals:
                named_areas.load_portal_places(session, portal, folder / "portals" / portal.slug)
            print(_("loaded %(bodies)s bodies and %(portals)s portals from %(folder)s",
                    bodies=len(bodies), portals=len(portals), folder=folder))
    elif args.action == "list":
        _list(db)
    elif args.action == "check":
        return _check(db, folder if args.path else settings.tenants_dir, settings)
    elif args.action == "new":
        return _new(args, db, folder, settings)
    elif args.action == "admin-token":
        from portal.tenancy import admin_tokens

        if not args.slug:
            raise ConfigError(N_("tenants admin-token needs a portal slug"))
        with db.session() as session:
            token = admin_tokens.issue(portal_named(session, args.slug))
        print(_("Admin token for %(slug)s (shown once; any earlier token no longer works):",
                slug=args.slug))
        print(token)
    elif args.action == "dump":
        with db.session() as session:
            if args.slug:
                tenant = portal_named(session, args.slug)
                out = Path(args.path) if args.path else folder / "portals" / tenant.slug
                tenant_dump.dump_portal(tenant, out)
                print(_("wrote %(path)s", path=out))
            else:
                bodies, portals = tenant_dump.dump_all(session, folder)
                print(_("wrote %(bodies)s bodies and %(portals)s portals to %(folder)s",
                        bodies=bodies, portals=portals, folder=folder))
    return 0


def _list(db: Database) -> None:
    from portal.models import Body, Tenant

    with db.session() as session:
        portals = list(session.scalars(select(Tenant).order_by(Tenant.slug)))
        print(_("Portals:"))
        for t in portals:
            hosts = ", ".join(h.host for h in t.hosts) or "-"
            print(f"  {t.slug:<14} {t.kind:<11} {','.join(t.languages):<30} {hosts}")
        print(_("Bodies (and how much of each portal's area they cover):"))
        for body in session.scalars(select(Body).order_by(Body.slug)):
            covers = []
            for t in portals:
                share = tenant_checks.coverage(t, [body])
                if share > 0:
                    covers.append(f"{t.slug} {max(1, round(100 * share))} %")
            types = _("%(count)s request types",
                      count=sum(1 for rt in body.request_types if rt.active))
            print(f"  {body.slug:<22} {types}   " + (", ".join(covers) or _("covers no portal")))


def _check(db: Database, folder: Path, settings: Settings) -> int:
    with db.session() as session:
        problems = tenant_checks.check_files(session, folder, settings.themes_dir)
        session.rollback()  # a check writes nothing
    for problem in problems:
        print(problem.line(translate))
    errors = sum(1 for p in problems if p.severity == tenant_checks.ERROR)
    print(_("%(errors)s errors, %(warnings)s warnings", errors=errors,
            warnings=len(problems) - errors))
    return 1 if errors else 0


def _texts(values: list[str], languages: list[str]) -> dict[str, str]:
    """['Rivera', 'es=Rivera (es)'] -> {'en': 'Rivera', 'es': 'Rivera (es)'}."""
    out: dict[str, str] = {}
    for value in values:
        lang, sep, text = value.partition("=")
        if sep and lang in SUPPORTED:
            out[lang] = text.strip()
        else:
            out[languages[0]] = value.strip()
    return out


def read_boundary(args: argparse.Namespace, path: str) -> boundaries.Layer:
    file = Path(path)
    if not file.is_file():
        raise ConfigError(N_("no such file: %(path)s"), path=path)
    buffer = getattr(args, "buffer", None)
    layer = boundaries.read_layer(file.name, file.read_bytes(), crs=args.crs,
                                  swap_axes=args.swap_axes,
                                  buffer_m=corridor_layers.parse_buffer(buffer) if buffer else None)
    for note in layer.notes:
        print(f"{file.name}: {translate(note)}")
    return layer


def _new(args: argparse.Namespace, db: Database, folder: Path, settings: Settings) -> int:
    if not args.slug or not tenant_files.SLUG.match(args.slug):
        raise ConfigError(N_("tenants new needs a slug: lower-case letters, digits, dashes"))
    if not args.area:
        raise ConfigError(N_("tenants new needs --area FILE (GeoJSON, Shapefile .zip or KML)"))
    if not args.name:
        raise ConfigError(N_("tenants new needs --name (repeat it per language: "
                             "--name 'es=…')"))
    languages = list(dict.fromkeys(args.language)) or ["en"]
    target = folder / "portals" / args.slug
    if target.exists() and not args.force:
        raise ConfigError(N_("%(path)s exists; --force replaces it"), path=target)
    spec = portal_creation.PortalSpec(
        slug=args.slug, kind=args.kind, names=_texts(args.name, languages),
        area_names=_texts(args.area_name, languages), hosts=args.host, languages=languages,
        theme=args.theme, colour=args.color or "",
        logo_svg=_read_logo(args.logo) if args.logo else "",
        allow_anonymous=not args.no_anonymous, embed_origins=args.embed_origin,
        simplify=args.simplify, time_zone=args.time_zone)
    layer = read_boundary(args, args.area)
    if args.pick:
        layer = boundaries.pick(layer, args.pick, args.pick_property)
    from portal.places import named_areas

    with db.session() as session:
        created = portal_creation.create_portal(session, spec, boundaries.merged(layer), folder,
                                                settings.themes_dir, replace=args.force,
                                                area_file=corridor_layers.area_file_text(layer))
        # --force over a portal with named places: the new folder has none, so neither has it.
        named_areas.load_portal_places(session, created.tenant, created.folder)
    light = created.outline
    print(_("area: %(before)s KB as read; maps draw %(after)s KB (simplified to %(metres)s m; "
            "routing keeps the original)", before=round(light.bytes_before / 1024, 1),
            after=round(light.bytes_after / 1024, 1), metres=round(light.tolerance_m)))
    url = f"https://{args.slug}.{settings.base_domain}/"
    print(_("made portal %(slug)s in %(path)s, live at %(url)s and /t/%(slug)s/",
            slug=args.slug, path=target, url=url))
    _checklist(created.problems, args.slug)
    return 0


def _read_logo(path: str) -> str:
    file = Path(path)
    if not file.is_file():
        raise ConfigError(N_("no such file: %(path)s"), path=path)
    text, dropped = logos.logo_from_upload(file.name, file.read_bytes())
    if dropped:
        print(_("%(file)s: removed from the logo: %(parts)s", file=file.name,
                parts=", ".join(dropped)))
    return text


def _checklist(problems: list[tenant_checks.Problem], slug: str) -> None:
    print(_("Still to do:"))
    for problem in problems:
        print(f"  - {problem.line(translate)}")
    print("  - " + _("no staff yet: portal users add EMAIL --tenant %(slug)s --role admin",
                     slug=slug))


def cmd_bodies(args: argparse.Namespace, settings: Settings) -> int:
    folder = Path(args.path) if args.path else settings.tenants_dir
    types_file = Path(args.request_types)
    try:
        text = types_file.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(N_("no such file: %(path)s"), path=args.request_types) from None
    template = portal_creation.BodyTemplate(
        name_property=args.name_property, slug_template=args.slug_template,
        request_types=portal_creation.parse_request_types(text, str(types_file)),
        name_template=args.name_template, contact_email_template=args.contact_email_template,
        language=args.language)
    layer = read_boundary(args, args.file)
    with open_db(settings).session() as session:
        made, problems = portal_creation.bodies_from_layer(
            session, layer, template, folder, source=args.file, replace=args.force)
    for slug, name in made:
        print(f"  {slug:<24} {name}")
    print(_("made %(count)s bodies in %(folder)s", count=len(made), folder=folder / "bodies"))
    for problem in problems:
        print(problem.line(translate))
    return 0
