"""Making a portal, and bodies from a layer: the one way the CLI and the operator's form do it.

`create_portal` takes what an operator chose (`PortalSpec`) and an area already read the
careful way (`portal.tenancy.boundaries`), writes the portal in the `tenants/` layout, loads
what it wrote with the same loader as `portal tenants load`, and moves the folder into place
only once it loaded: a refused portal leaves no folder and no row behind. `bodies_from_layer`
does the same for one body per feature of a districts file. Loading writes the `tenants` row,
which bumps the portal's data version (`portal.tenancy.data_version`), so every process serves
the new portal at once, without a restart.

Nothing here prints or knows of HTTP: the callers show `Created.problems` (the checklist of
`portal.tenancy.tenant_checks`) and the size of the simplified outline as they see fit.
"""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from shapely.geometry.base import BaseGeometry
from sqlalchemy.orm import Session

from portal.core.errors import N_, ConfigError
from portal.models import Tenant
from portal.tenancy import boundaries, tenant_checks, tenant_files, themes
from portal.tenancy.brand_colours import failing_pairs, nearest_passing_shade

PLACEHOLDER = re.compile(r"\{(\w+)\}")


@dataclass
class PortalSpec:
    """A portal as an operator describes it (one flag or one form field each)."""

    slug: str
    names: dict[str, str]
    languages: list[str] = field(default_factory=lambda: ["en"])
    kind: str = "other"
    area_names: dict[str, str] = field(default_factory=dict)
    hosts: list[str] = field(default_factory=list)
    theme: str = "civic"
    colour: str = ""
    logo_svg: str = ""
    allow_anonymous: bool = True
    embed_origins: list[str] = field(default_factory=list)
    simplify: str = "20m"
    time_zone: str = ""

    def portal_json(self, tokens: dict[str, str]) -> dict:
        data = {
            "slug": self.slug, "kind": self.kind, "name": self.names,
            "area_name": self.area_names, "hosts": self.hosts, "languages": self.languages,
            "default_language": self.languages[0], "theme": self.theme, "tokens": tokens,
            "allow_anonymous": self.allow_anonymous, "embed_origins": self.embed_origins,
            "request_types": None, "simplify": self.simplify,
        }
        if self.time_zone:
            data["time_zone"] = self.time_zone
        return data


@dataclass
class Created:
    tenant: Tenant
    folder: Path
    problems: list[tenant_checks.Problem]
    outline: boundaries.Simplified


def check_spec(spec: PortalSpec) -> None:
    """What the loader cannot say well about a spec, said before anything is written."""
    if not tenant_files.SLUG.match(spec.slug):
        raise ConfigError(N_("a slug is lower-case letters, digits and dashes, such as "
                             "north-side"), where="slug")
    if spec.kind not in tenant_files.KINDS:
        raise ConfigError(N_("kind %(kind)r is not one of %(kinds)s"), where="kind",
                          kind=spec.kind, kinds=", ".join(tenant_files.KINDS))
    if not spec.languages:
        raise ConfigError(N_("choose at least one language"), where="languages")
    check_theme_name(spec.theme)
    if not any(spec.names.values()):
        raise ConfigError(N_("the portal needs a name"), where="name")


def check_theme_name(theme: str) -> None:
    """A theme is a folder of `themes/`: its name is never a path (no `..`, no `/`)."""
    if not tenant_files.SLUG.match(theme):
        raise ConfigError(N_("unknown theme %(theme)r (no %(path)s)"), where="theme",
                          theme=theme, path=f"themes/{theme}/theme.json")


def brand_tokens(colour: str, theme: str, themes_dir: Path) -> dict[str, str]:
    """`{"color-primary": colour}` when it reads on the theme; else refused with the failing
    pair and the nearest shade that passes (`brand_colours.nearest_passing_shade`)."""
    if not colour:
        return {}
    if not themes.HEX.match(colour):
        raise ConfigError(N_("a brand colour is #rrggbb, not %(value)r"), where="color",
                          value=colour)
    tokens = {**themes.load_theme(themes_dir, theme), "color-primary": colour}
    failing = failing_pairs(tokens, "color-primary")
    if failing:
        fg, bg, ratio = failing[0]
        raise ConfigError(N_("%(fg)s %(fg_value)s on %(bg)s %(bg_value)s has contrast "
                             "%(ratio)s:1, below the 4.5:1 WCAG AA needs; the nearest "
                             "passing shade is %(shade)s"), where="color",
                          fg=fg, fg_value=tokens[fg], bg=bg, bg_value=tokens[bg],
                          ratio=f"{ratio:.2f}",
                          shade=nearest_passing_shade(tokens, "color-primary") or "-")
    return {"color-primary": colour}


@contextmanager
def _staged(parent: Path, name: str, shown: Path) -> Iterator[Path]:
    staging = parent / f".{name}.new"
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    try:
        yield staging
    except ConfigError as exc:
        # The loader names the folder it read; the operator knows the one it becomes.
        exc.where = exc.where.replace(str(staging), str(shown))
        exc.args = (exc._english(),)  # noqa: SLF001 - keep the English text in step
        raise
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _write_json(path: Path, data: dict) -> None:
    path.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def create_portal(session: Session, spec: PortalSpec, area: BaseGeometry, tenants_dir: Path,
                  themes_dir: Path, *, replace: bool = False,
                  area_file: str | None = None) -> Created:
    """Write, load and check a new portal; the caller's transaction makes it live.

    A new folder has no named places (`places.geojson`); replacing a portal that had some
    leaves them to the caller (`named_areas.load_portal_places`, a layer above this one).
    `area_file` is what `area.geojson` holds when it is more than `area` (a layer's corridors
    kept as lines, `corridor_layers.area_file_text`)."""
    check_spec(spec)
    tokens = brand_tokens(spec.colour, spec.theme, themes_dir)
    tolerance = boundaries.parse_tolerance(spec.simplify)
    target = tenants_dir / "portals" / spec.slug
    if target.exists() and not replace:
        raise ConfigError(N_("a portal called %(slug)s exists already"), where="slug",
                          slug=spec.slug)
    with _staged(tenants_dir / "portals", spec.slug, target) as staging:
        _write_json(staging / "portal.json", spec.portal_json(tokens))
        if spec.logo_svg:
            (staging / "logo.svg").write_text(spec.logo_svg, encoding="utf-8")
        (staging / "area.geojson").write_text(
            (area_file or boundaries.geojson_text(area)) + "\n", encoding="utf-8")
        tenant = tenant_files.load_portal(session, staging, themes_dir)
        problems = tenant_checks.check_database(session, {spec.slug: target / "portal.json"})
        # Written only once it loaded: a refused portal leaves no folder behind.
        shutil.rmtree(target, ignore_errors=True)
        staging.rename(target)
    return Created(tenant, target, problems, boundaries.simplified(area, tolerance))


# --- bodies from a layer ---------------------------------------------------------------


@dataclass
class BodyTemplate:
    """How each feature of a layer becomes a body: `{property}` placeholders in braces."""

    name_property: str
    slug_template: str
    request_types: list[dict]
    name_template: str = "{value}"
    contact_email_template: str = ""
    language: str = "en"


def parse_request_types(text: str, where: str = "request types") -> list[dict]:
    """A JSON list as in body.json (or `{"request_types": [...]}`), or one type a line:
    `code: Name` (the form's simple field)."""
    stripped = text.strip()
    if stripped.startswith(("[", "{")):
        try:
            types = json.loads(stripped)
        except json.JSONDecodeError as exc:
            raise ConfigError(N_("not valid JSON (%(problem)s at line %(line)s)"),
                              where=where, problem=exc.msg, line=exc.lineno) from None
        if isinstance(types, dict):
            types = types.get("request_types")
    else:
        types = []
        for line in stripped.splitlines():
            code, sep, name = line.partition(":")
            if not line.strip():
                continue
            if not sep or not name.strip():
                raise ConfigError(N_("write one request type a line as code: Name, not "
                                     "%(line)r"), where=where, line=line.strip())
            types.append({"code": code.strip(), "name": {"en": name.strip()}})
    if not isinstance(types, list) or not types:
        raise ConfigError(N_("expected a list of request types, as in body.json"), where=where)
    return types


def _filled(template: str, properties: dict, where: str) -> str:
    def value(match: re.Match) -> str:
        key = match.group(1)
        if key not in properties:
            raise ConfigError(N_("%(template)r names %(property)r, which the feature lacks "
                                 "(it has: %(properties)s)"), where=where, template=template,
                              property=key, properties=", ".join(sorted(properties)))
        return str(properties[key]).strip()

    return PLACEHOLDER.sub(value, template)


def slug_of(text: str) -> str:
    """'SF District 1' -> 'sf-district-1' (what a slug may hold, at most 63 characters)."""
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:63].strip("-")


def bodies_from_layer(session: Session, layer: boundaries.Layer, template: BodyTemplate,
                      tenants_dir: Path, *, source: str = "layer",
                      replace: bool = False) -> tuple[list[tuple[str, str]],
                                                      list[tenant_checks.Problem]]:
    """One body per feature, written and loaded; (slug, name) of each and the errors left."""
    made: dict[str, tuple[dict, str]] = {}
    for index, feature in enumerate(layer.features):
        where = f"{source} feature {feature.label(index)}"
        props = {**feature.properties}
        if template.name_property not in props:
            raise ConfigError(N_("the name property %(property)r is not a property of the "
                                 "features (they have: %(properties)s)"), where=where,
                              property=template.name_property,
                              properties=", ".join(sorted(props)))
        props["value"] = props[template.name_property]
        slug = slug_of(_filled(template.slug_template, props, where))
        if not tenant_files.SLUG.match(slug):
            raise ConfigError(N_("slug %(slug)r must be lower-case letters, digits, dashes"),
                              where=where, slug=slug)
        if slug in made:
            raise ConfigError(N_("two features make the slug %(slug)s; put a property that "
                                 "differs in the slug template"), where=where, slug=slug)
        body = {"slug": slug, "name": {"en": _filled(template.name_template, props, where)},
                "contact_email": _filled(template.contact_email_template, props, where),
                "language": template.language, "request_types": template.request_types}
        made[slug] = (body, boundaries.geojson_text(feature.geometry))
    for slug in made:
        if (tenants_dir / "bodies" / slug).exists() and not replace:
            raise ConfigError(N_("a body called %(slug)s exists already"), where=source,
                              slug=slug)
    with _staged(tenants_dir / "bodies", "import", tenants_dir / "bodies") as staging:
        for slug, (body, area) in made.items():
            (staging / slug).mkdir(parents=True)
            _write_json(staging / slug / "body.json", body)
            (staging / slug / "area.geojson").write_text(area + "\n", encoding="utf-8")
            tenant_files.load_body(session, staging / slug)
        problems = [p for p in tenant_checks.check_database(session)
                    if p.severity == tenant_checks.ERROR]
        # The folders move in only once every body loaded: a refused import leaves none.
        for slug in made:
            shutil.rmtree(tenants_dir / "bodies" / slug, ignore_errors=True)
            (staging / slug).rename(tenants_dir / "bodies" / slug)
    return [(slug, body["name"]["en"]) for slug, (body, _) in made.items()], problems
